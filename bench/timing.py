#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""latchkey-bench-timing: can a stranger tell an unknown name, a wrong password and a locked user
apart by how long latchkeyd takes to refuse them? (issue 24)

For each door — the PAM socket (a logon as root: connect, auth.begin, auth.answer) and the
sign-in page (GET /login, POST the name, POST the password) — it takes SAMPLES refusals of each
kind, interleaved (unknown, wrong, locked, unknown, ...) so that drift in the machine's speed
falls on all three alike, and prints their medians and how far each lies from the three's mean.
Issue 24 asks that they be within 5 % of each other.

The daemon must have: a user WRONG_USER with a password (and a policy that does not lock it:
max_failed_per_hour = 0), a user LOCKED_USER locked, no user UNKNOWN_USER, and, for the page,
the throttle of one address off ([lockout] source_failures_per_user = 0, source_failures = 0),
since every sample comes from 127.0.0.1. bench/run sets this up.

Usage: timing.py --pam-socket PATH --issuer URL --domain DOMAIN [--samples N] [--json]"""

import argparse
import http.client
import json
import re
import socket
import statistics
import struct
import sys
import time
import urllib.parse

KINDS = ("unknown", "wrong", "locked")
USERS = {"unknown": "ghost", "wrong": "timing", "locked": "victim"}
GUESS = "Not-The-Passw0rd-1"  # never anyone's password


def pam_refusal(path, user):
    """One refused logon over the PAM socket; its seconds, from connect to verdict."""
    def call(s, message):
        body = json.dumps(message).encode()
        s.sendall(struct.pack(">I", len(body)) + body)
        header = b""
        while len(header) < 4:
            chunk = s.recv(4 - len(header))
            if not chunk:
                raise OSError("latchkeyd closed the connection")
            header += chunk
        (n,) = struct.unpack(">I", header)
        data = b""
        while len(data) < n:
            chunk = s.recv(n - len(data))
            if not chunk:
                raise OSError("latchkeyd closed the connection")
            data += chunk
        return json.loads(data)

    start = time.perf_counter()
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(60)
        s.connect(path)
        first = call(s, {"type": "auth.begin", "service": "bench-timing", "user": user,
                         "ignore_unknown_user": False, "single_prompt": False})
        if "prompt" not in first:
            raise RuntimeError(f"{user}: refused before the password: {first}")
        last = call(s, {"type": "auth.answer", "answer": GUESS})
    took = time.perf_counter() - start
    verdict = last.get("verdict", {})
    if verdict.get("outcome") != "denied":
        raise RuntimeError(f"{user}: expected a denial, got {last}")
    return took, verdict.get("message", "")


def page_refusal(issuer, logon_name):
    """One refused sign-in on the page; its seconds, from posting the name to the refusal."""
    url = urllib.parse.urlsplit(issuer)
    conn = http.client.HTTPConnection(url.hostname, url.port or 80, timeout=60)
    try:
        conn.request("GET", "/login")
        page = conn.getresponse().read().decode()
        tx = re.search(r'name="tx" value="([^"]+)"', page).group(1)
        csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)

        def post(fields):
            conn.request("POST", "/login", urllib.parse.urlencode(fields),
                         {"Content-Type": "application/x-www-form-urlencoded"})
            r = conn.getresponse()
            return r.status, r.read().decode()

        start = time.perf_counter()
        _, page = post({"tx": tx, "csrf": csrf, "username": logon_name})
        if 'id="answer"' not in page:
            raise RuntimeError(f"{logon_name}: no password page")
        status, page = post({"tx": tx, "csrf": csrf, "answer": GUESS})
        took = time.perf_counter() - start
    finally:
        conn.close()
    alert = re.search(r'role="alert">([^<]*)<', page)
    if status != 401 or not alert:
        raise RuntimeError(f"{logon_name}: expected a refusal, got HTTP {status}")
    return took, alert.group(1)


def measure(door, samples, one):
    times = {k: [] for k in KINDS}
    messages = {k: set() for k in KINDS}
    for _ in range(samples):
        for kind in KINDS:
            took, message = one(kind)
            times[kind].append(took)
            messages[kind].add(message)
    medians = {k: statistics.median(v) for k, v in times.items()}
    mean = statistics.mean(medians.values())
    spread = max(abs(m - mean) / mean for m in medians.values()) * 100
    same_words = len({frozenset(m) for m in messages.values()}) == 1
    return {"door": door, "samples": samples,
            "median_ms": {k: round(v * 1000, 3) for k, v in medians.items()},
            "p90_ms": {k: round(statistics.quantiles(v, n=10)[-1] * 1000, 3)
                       for k, v in times.items()},
            "largest_gap_from_mean_percent": round(spread, 2),
            "same_words": same_words}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pam-socket", required=True)
    ap.add_argument("--issuer", required=True)
    ap.add_argument("--domain", required=True, help="the host account's logon domain")
    ap.add_argument("--samples", type=int, default=1000)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--lock", action="store_true",
                    help="only fail the locked user's logons until the policy locks it (5)")
    o = ap.parse_args()
    if o.lock:
        for _ in range(5):
            pam_refusal(o.pam_socket, USERS["locked"])
        return 0

    # Untimed: the workers' Argon2 buffers and the connections warm up.
    for kind in KINDS:
        pam_refusal(o.pam_socket, USERS[kind])
        page_refusal(o.issuer, f"{USERS[kind]}@{o.domain}")
    rows = [measure("pam socket", o.samples, lambda k: pam_refusal(o.pam_socket, USERS[k])),
            measure("sign-in page", o.samples,
                    lambda k: page_refusal(o.issuer, f"{USERS[k]}@{o.domain}"))]
    ok = all(r["largest_gap_from_mean_percent"] <= 5 and r["same_words"] for r in rows)
    if o.json:
        print(json.dumps({"rows": rows, "within_5_percent": ok}))
    else:
        print(f"latchkey-bench-timing: {o.samples} refusals of each kind per door, interleaved")
        print(f"{'':16} {'unknown ms':>11} {'wrong ms':>11} {'locked ms':>11} "
              f"{'largest gap':>12}  same words")
        for r in rows:
            m = r["median_ms"]
            print(f"{r['door'] + ' p50':16} {m['unknown']:11.2f} {m['wrong']:11.2f} "
                  f"{m['locked']:11.2f} {r['largest_gap_from_mean_percent']:11.2f}%  "
                  f"{'yes' if r['same_words'] else 'NO'}")
            p = r["p90_ms"]
            print(f"{r['door'] + ' p90':16} {p['unknown']:11.2f} {p['wrong']:11.2f} "
                  f"{p['locked']:11.2f}")
        print("medians within 5 % of their mean, in the same words: " + ("yes" if ok else "NO"))
    return 0 if ok else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (OSError, RuntimeError) as e:
        print(f"latchkey-bench-timing: {e}", file=sys.stderr)
        sys.exit(1)
