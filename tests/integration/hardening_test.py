# SPDX-License-Identifier: Apache-2.0
"""The attacks of a local user and of a stranger, run against a real latchkeyd (issue 24).

Each test reproduces a finding of the attack run as the attacker did it: from another uid
(65534, through setpriv), with real sockets, pamtester through pam_wrapper, and the real
latchkeyctl. Every loop here is bounded in count and time, and every process is stopped."""

import html
import http.client
import json
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import urllib.parse

from harness import Daemon, connect, expect, frame, read_frame, run
from pam_env import NssWrapper, PamWrapper, Sshd, free_port, merge_env, pamtester, ssh_run

MODULE = os.environ.get("LATCHKEY_PAM_MODULE", "build/pam_module/pam_latchkey.so")
ALICE_PW = "Hardening-Alice-1"  # throwaway test fixture
ATTACKER = 65534


def closed_within(s, seconds, trickle=None):
    """Waits until the peer closes `s`, sending one byte of `trickle` every 0.2 s meanwhile.
    Returns the seconds it took, or None if it stayed open."""
    start = time.monotonic()
    s.setblocking(False)
    i = 0
    while time.monotonic() - start < seconds:
        try:
            if s.recv(4096) == b"":
                return time.monotonic() - start
        except BlockingIOError:
            pass
        except OSError:
            return time.monotonic() - start
        if trickle is not None and i < len(trickle):
            try:
                s.send(trickle[i:i + 1])
                i += 1
            except OSError:
                return time.monotonic() - start
        time.sleep(0.2)
    return None


def test_a_request_sent_a_byte_at_a_time_is_cut_off_at_the_read_timeout():
    # Finding 1: the read timer restarted on every read, so a frame announcing 65,280 bytes and
    # sent a byte a second held its connection for ever.
    with Daemon(extra_config="[limits]\nread_timeout_s = 2\n") as d:
        for path in (d.pam_socket, d.admin_socket):
            with connect(path) as s:
                s.sendall(struct.pack(">I", 65280))
                took = closed_within(s, 8, trickle=b'{"type":"hello","version":1' * 4)
                expect(took is not None, f"{path}: a trickled request is never cut off")
                expect(took < 4, f"{path}: cut off after {took:.1f}s, read_timeout_s is 2")
        expect("did not send its request within the read timeout" in d.log(), d.log())


# The attacker: as uid 65534, hold as many connections to both sockets as the daemon lets it,
# half of them trickling a never-ending frame a byte at a time and half idle, and reopen each
# one the daemon closes. It runs for argv[3] seconds, then prints how many it held at most.
ATTACK = r"""
import json, socket, struct, sys, time
paths, target, duration = sys.argv[1].split(","), int(sys.argv[2]), float(sys.argv[3])
live = {p: [] for p in paths}
held = {p: 0 for p in paths}
opened = 0
end = time.monotonic() + duration
while time.monotonic() < end:
    for p in paths:
        alive = []
        for s, trickle in live[p]:
            try:
                if trickle:
                    s.send(b"x")
                else:
                    s.recv(1, socket.MSG_DONTWAIT | socket.MSG_PEEK)
                    s.close()  # the daemon answered (a refusal) or closed: reopen
                    continue
                alive.append((s, trickle))
            except BlockingIOError:
                alive.append((s, trickle))
            except OSError:
                s.close()
        live[p] = alive
        while len(live[p]) < target and time.monotonic() < end:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.settimeout(0.5)
            try:
                s.connect(p)
                s.setblocking(False)
                trickle = opened % 2 == 0
                if trickle:
                    s.send(struct.pack(">I", 65280))
                live[p].append((s, trickle))
                opened += 1
            except OSError:
                s.close()
                break
        held[p] = max(held[p], len(live[p]))
    time.sleep(0.3)
print(json.dumps({"opened": opened}), flush=True)
"""


def start_attack(paths, target, duration):
    return subprocess.Popen(
        ["setpriv", f"--reuid={ATTACKER}", f"--regid={ATTACKER}", "--clear-groups",
         sys.executable, "-c", ATTACK, ",".join(paths), str(target), str(duration)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


class Host:
    """latchkeyd with alice in account web, and a PAM service `lk` of pam_latchkey.so."""

    def __init__(self, config=""):
        self.base = tempfile.mkdtemp(prefix="latchkey-hard-")
        os.chmod(self.base, 0o755)
        self.nss = NssWrapper(self.base, users={"root": 0, "alice": 5000, "bob": 5001})
        self.daemon = Daemon(extra_config=config, env=self.nss.env())
        self.daemon.start()
        d = self.daemon
        d.ctl("directory", "init", "--domain", "example.internal")
        d.ctl("account", "create", "web")
        d.ctl("user", "create", "alice")
        d.ctl("user", "set-password", "alice", "--stdin", input=ALICE_PW + "\n")
        self.pam = PamWrapper(self.base)
        sock = f"socket={d.pam_socket}"
        self.pam.service("lk", [f"auth required {MODULE} {sock}",
                                f"account required {MODULE} {sock}"])
        self.pam.service("lk-t2", [f"auth required {MODULE} {sock} timeout=2",
                                   f"account required {MODULE} {sock} timeout=2"])

    def logon(self, user="alice", password=ALICE_PW, service="lk", **kw):
        return pamtester(service, user, ["authenticate", "acct_mgmt"], {"Password": password},
                         env=merge_env(self.nss.env(), self.pam.env()), **kw)

    def close(self):
        self.daemon.stop()
        self.pam.cleanup()
        shutil.rmtree(self.base, ignore_errors=True)
        shutil.rmtree(self.daemon.dir, ignore_errors=True)


def hello_as(uid, path, holding=0):
    """As `uid`: opens `holding` idle connections to `path`, then sends a hello over one more.
    Returns the reply's type, or the failure's message."""
    code = ("import json,socket,struct,sys,time;p=sys.argv[1]\n"
            "def c():\n s=socket.socket(socket.AF_UNIX);s.settimeout(5);s.connect(p);return s\n"
            "held=[c() for _ in range(int(sys.argv[2]))];time.sleep(0.2);s=c()\n"
            "m=json.dumps({'type':'hello','version':1,'client':'it'}).encode()\n"
            "try:\n s.sendall(struct.pack('>I',len(m))+m)\n"
            "except BrokenPipeError:\n pass  # refused at once: the refusal is still there to read\n"
            "n=struct.unpack('>I',s.recv(4))[0]\n"
            "r=json.loads(s.recv(n));print(r.get('message',r['type']))")
    p = subprocess.run(["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups",
                        sys.executable, "-c", code, path, str(holding)],
                       capture_output=True, text=True, timeout=15)
    return p.stdout.strip() or p.stderr.strip()


def test_a_local_user_holding_connections_cannot_lock_out_logons_or_administration():
    # Finding 1: ~256 trickling connections of one uid filled the one limit both sockets
    # shared, and every root logon and latchkeyctl command then failed "too many connections".
    host = Host("[limits]\nread_timeout_s = 3\n")
    d = host.daemon
    attack = start_attack([d.pam_socket, d.admin_socket], target=400, duration=25)
    started = time.monotonic()
    try:
        time.sleep(3)  # let it take what it can
        for i in range(5):
            r = host.logon()
            expect(r[0] == 0, (f"root's logon {i} of alice during the attack", r))
            p = d.ctl("user", "list", check=False)
            expect(p.returncode == 0, (f"latchkeyctl {i} during the attack", p.stderr))
        # Another ordinary uid still gets a connection of its own.
        expect(hello_as(ATTACKER - 1, d.pam_socket) == "hello.reply", "uid 65533 refused")
        # Finding 5: each refusal wrote a line (123,426 lines in minutes). Past 10 lines of a
        # kind in 10 s they are counted, and the next line written says how many were dropped.
        while attack.poll() is None and time.monotonic() - started < 12:
            time.sleep(0.5)
        log = d.log()
        refusals = [l for l in log.splitlines() if "uid 65534 holds its limit" in l]
        expect(refusals, log[-2000:])
        expect(len(refusals) <= 2 * 10 * 2, (len(refusals), "lines for two sockets in 12 s"))
        suppressed = [int(m) for m in re.findall(
            r"uid 65534 holds its limit of connections; refusing it another "
            r"\((\d+) more like this suppressed\)", log)]
        expect(suppressed and sum(suppressed) > 100, ("the dropped lines are counted", suppressed))
    finally:
        attack.kill()
        attack.communicate(timeout=30)
        host.close()


def test_each_socket_has_its_own_limit_and_root_its_own_pool():
    config = "[limits]\nmax_connections = 4\nmax_connections_per_uid = 2\nread_timeout_s = 30\n"
    with Daemon(extra_config=config) as d:
        d.ctl("directory", "init", "--domain", "example.internal")
        held = [connect(d.pam_socket) for _ in range(4)]  # root's pool on the PAM socket
        time.sleep(0.2)
        with connect(d.pam_socket) as s:
            reply = read_frame(s)
            expect(reply["error"] == "daemon_busy" and "too many connections" in reply["message"],
                   reply)
        expect(d.ctl("account", "list").returncode == 0, "the admin socket has its own limit")
        # An ordinary uid gets max_connections_per_uid of the ordinary pool, and no more.
        expect(hello_as(ATTACKER, d.pam_socket, holding=1) == "hello.reply")
        reply = hello_as(ATTACKER, d.pam_socket, holding=2)
        expect("too many connections from your user" in reply, reply)
        for s in held:
            s.close()
        time.sleep(0.2)
        with connect(d.pam_socket) as s:
            s.sendall(frame(json.dumps({"type": "hello", "version": 1, "client": "it"}).encode()))
            expect(read_frame(s)["type"] == "hello.reply", "recovers once they close")


def test_control_bytes_from_a_caller_reach_the_log_escaped():
    # Finding 5: only CR and LF were escaped; a NUL or an escape sequence in a name sent by any
    # local user went raw into the journal.
    with Daemon() as d:
        name = "mallory\u0000\u001b[2J\u0007\nforged: error"
        code = ("import json,socket,struct,sys;s=socket.socket(socket.AF_UNIX);s.settimeout(5);"
                "s.connect(sys.argv[1]);m=json.dumps({'type':'auth.begin','service':'it',"
                "'user':json.loads(sys.argv[2]),'ignore_unknown_user':False,'single_prompt':False}).encode();"
                "s.sendall(struct.pack('>I',len(m))+m);n=struct.unpack('>I',s.recv(4))[0];"
                "print(json.loads(s.recv(n))['type'])")
        p = subprocess.run(["setpriv", f"--reuid={ATTACKER}", f"--regid={ATTACKER}",
                            "--clear-groups", sys.executable, "-c", code, d.pam_socket,
                            json.dumps(name)],
                           capture_output=True, text=True, timeout=15)
        expect(p.returncode == 0, p)
        with open(d.log_path, "rb") as f:
            raw = f.read()
        expect(b"caller_not_permitted" in raw, raw[-2000:])
        lines = raw.split(b"\n")
        bad = [l for l in lines if any(b < 0x20 and b != 0x09 or b == 0x7f for b in l)]
        expect(not bad, ("raw control bytes in the log", bad))
        expect(rb'user="mallory\x00\x1b[2J\x07\x0aforged: error"' in raw, raw[-2000:])
        expect(not any(l.startswith(b"forged") for l in lines), "no forged line")


UNAVAILABLE = "Authentication service cannot retrieve authentication info"


def test_a_hung_stopped_or_vanished_daemon_fails_closed_within_the_timeout():
    # pam_latchkey.so with timeout=2: whatever happened to latchkeyd, pamtester and a real sshd
    # refuse within the timeout and never hang.
    host = Host()
    d = host.daemon
    try:
        def refused_within(limit, what):
            start = time.monotonic()
            r = host.logon(service="lk-t2", timeout=30)
            took = time.monotonic() - start
            expect(r[0] != 0 and UNAVAILABLE in r[2], (what, r))
            expect(took < limit, f"{what}: pamtester took {took:.1f}s with timeout=2")
            return took

        d.proc.send_signal(signal.SIGSTOP)  # hung: the kernel still queues connections
        try:
            took = refused_within(6, "a hung daemon")
            expect(took > 1.5, f"gave up after {took:.1f}s, before its timeout")
            sock = f"socket={d.pam_socket} timeout=2"
            with Sshd(host.base, [f"auth required {MODULE} {sock}",
                                  f"account required {MODULE} {sock}",
                                  f"session required {MODULE} {sock}"], host.nss) as sshd:
                start = time.monotonic()
                rc, out, err, _ = ssh_run(sshd.port, "alice", "echo in", {"Password": ALICE_PW},
                                          timeout=60)
                took = time.monotonic() - start
                expect(rc == 255 and "Permission denied" in err and "in" not in out, (rc, out, err))
                expect(took < 20, f"sshd held the client {took:.1f}s")
        finally:
            d.proc.send_signal(signal.SIGCONT)
        expect(host.logon()[0] == 0, "served again once it runs")

        moved = d.pam_socket + ".moved"
        os.rename(d.pam_socket, moved)  # the socket is gone
        try:
            refused_within(5, "a vanished socket")
        finally:
            os.rename(moved, d.pam_socket)

        d.stop()  # stopped: it removes its sockets
        refused_within(5, "a stopped daemon")
    finally:
        host.close()


def test_another_uid_can_neither_test_a_password_nor_count_failures_against_a_user():
    # The oracle: bob (uid 5001) asks about alice, with her right password and with wrong ones.
    host = Host()
    d = host.daemon
    try:
        d.ctl("policy", "set", "max_failed_per_hour=1")  # one counted failure would lock her
        replies = {}
        for password in (ALICE_PW, "wrong-1", "wrong-2"):
            r = host.logon(password=password, as_uid=5001)
            replies[password] = (r[0], tuple(r.prompts), r[2].splitlines()[-1])
        expect(len(set(replies.values())) == 1, ("bob tells alice's passwords apart", replies))
        expect(replies[ALICE_PW][1] == (), "bob is not even asked for a password")
        for _ in range(10):  # and straight on the socket, past the module
            code = ("import json,socket,struct,sys\n"
                    "def call(s,m):\n"
                    " b=json.dumps(m).encode();s.sendall(struct.pack('>I',len(b))+b)\n"
                    " n=struct.unpack('>I',s.recv(4))[0];return json.loads(s.recv(n))\n"
                    "s=socket.socket(socket.AF_UNIX);s.connect(sys.argv[1])\n"
                    "r=call(s,{'type':'auth.begin','service':'it','user':'alice',"
                    "'ignore_unknown_user':False,'single_prompt':False})\n"
                    "a=call(s,{'type':'auth.answer','answer':'guess'})\n"
                    "print(json.dumps([r,a]))")
            p = subprocess.run(["setpriv", "--reuid=5001", "--regid=5001", "--clear-groups",
                                sys.executable, "-c", code, d.pam_socket],
                               capture_output=True, text=True, timeout=15)
            expect(p.returncode == 0, p)
            begin, answer = json.loads(p.stdout)
            expect(begin["verdict"]["outcome"] == "permission_denied", begin)
            expect(answer["type"] == "failure", answer)
        expect("locked until" not in d.ctl("user", "show", "alice").stdout)
        expect(host.logon()[0] == 0, "no failure was counted against alice")
        audit = d.ctl("audit", "--user", "alice", "--limit", "50", json_out=True)["events"]
        reasons = [dict((f["key"], f["value"]) for f in e["fields"]).get("reason") for e in audit]
        expect(reasons.count("caller_not_permitted") >= 13 and "bad_password" not in reasons,
               reasons)
    finally:
        host.close()


WRONG = "Authentication failed: wrong user name or password."
THROTTLED = "Too many failed logons from your address: try again"  # "after <time>."


def web_sign_in(port, user, password, source="127.0.0.1", forwarded_for=None):
    """The sign-in portal as a browser drives it from `source` (a loopback address): GET /login,
    the name, then the password if the page asks for one. Returns (asked for a password, HTTP
    status, the page's alert text)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10, source_address=(source, 0))
    try:
        conn.request("GET", "/login")
        page = conn.getresponse().read().decode()
        tx = re.search(r'name="tx" value="([^"]+)"', page).group(1)
        csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)

        def post(fields):
            body = "&".join(f"{k}={urllib.parse.quote(v)}"
                            for k, v in fields.items())
            headers = {"Content-Type": "application/x-www-form-urlencoded"}
            if forwarded_for:
                headers["X-Forwarded-For"] = forwarded_for
            conn.request("POST", "/login", body, headers)
            r = conn.getresponse()
            return r.status, r.read().decode()

        status, page = post({"tx": tx, "csrf": csrf, "username": user})
        asked = 'id="answer"' in page
        if asked:
            status, page = post({"tx": tx, "csrf": csrf, "answer": password})
        alert = re.search(r'role="alert">([^<]*)<', page)
        return asked, status, html.unescape(alert.group(1)) if alert else ""
    finally:
        conn.close()


def test_strangers_on_the_web_can_neither_tell_users_apart_nor_lock_them_out():
    # Finding 3: the page said "locked" to anyone after 5 wrong passwords, where an unknown name
    # got a password page, and the same 5 anonymous requests locked the user out of PAM too.
    port = free_port()
    host = Host(f'[oidc]\nlisten = "127.0.0.1:{port}"\n')
    try:
        def attempts(user):
            seen = []
            for _ in range(5):
                asked, status, alert = web_sign_in(port, user, "Not-Her-Passw0rd")
                seen.append((asked, status, alert.split(" after ")[0]))
            return seen

        alice = attempts("alice@web.example.internal")
        ghost = attempts("ghost@web.example.internal")
        expect(alice == ghost, ("a real and an unknown name are told apart", alice, ghost))
        expect([a[2] for a in alice] == [WRONG] * 3 + [THROTTLED] * 2, alice)
        expect(all(a[0] for a in alice), "every attempt is asked for a password")
        # The address was throttled before alice was locked: her own logon still works.
        expect("locked until" not in host.daemon.ctl("user", "show", "alice").stdout)
        r = host.logon()
        expect(r[0] == 0, ("alice is not locked out of PAM by strangers", r))
        # A stranger who locks her from many addresses still learns nothing from the page.
        host.daemon.ctl("policy", "set", "max_failed_per_hour=2")
        for _ in range(2):
            r = host.logon(password="Not-Her-Passw0rd")
        expect("locked until" in host.daemon.ctl("user", "show", "alice").stdout)
        asked, status, alert = web_sign_in(port, "alice@web.example.internal", ALICE_PW,
                                           source="127.0.0.2")
        expect((asked, status, alert) == (True, 401, WRONG), (asked, status, alert))
    finally:
        host.close()


def test_behind_a_trusted_proxy_each_client_is_throttled_on_its_own():
    # Behind a reverse proxy every request comes from the proxy: without trusted_proxies the
    # throttle of one address would hold back every user of the site together.
    port = free_port()
    host = Host(f'[oidc]\nlisten = "127.0.0.1:{port}"\ntrusted_proxies = ["127.0.0.1"]\n')
    try:
        name = "alice@web.example.internal"
        seen = [web_sign_in(port, name, "Not-Her-Passw0rd", forwarded_for="198.51.100.1")[2]
                for _ in range(4)]
        expect([a.split(" after ")[0] for a in seen] == [WRONG] * 3 + [THROTTLED], seen)
        # Another client behind the same proxy is not held back...
        asked, status, alert = web_sign_in(port, name, "Not-Her-Passw0rd",
                                           forwarded_for="198.51.100.2")
        expect(alert == WRONG, alert)
        # ...nor is anyone whose proxy adds its own hop after a client's forged header.
        asked, status, alert = web_sign_in(port, name, "Not-Her-Passw0rd",
                                           forwarded_for="198.51.100.1, 198.51.100.3")
        expect(alert == WRONG, ("the rightmost hop is the client", alert))
        # From an address that is no trusted proxy the header is ignored: 127.0.0.2 is the
        # source, and its three failures throttle it whatever it claims.
        for i in range(3):
            web_sign_in(port, name, "Not-Her-Passw0rd", source="127.0.0.2",
                        forwarded_for=f"203.0.113.{i}")
        alert = web_sign_in(port, name, "Not-Her-Passw0rd", source="127.0.0.2",
                            forwarded_for="203.0.113.99")[2]
        expect(alert.startswith(THROTTLED), alert)
        audit = host.daemon.ctl("audit", "--user", "alice", "--limit", "50", json_out=True)["events"]
        rhosts = {dict((f["key"], f["value"]) for f in e["fields"]).get("rhost") for e in audit}
        expect({"198.51.100.1", "198.51.100.2", "198.51.100.3", "127.0.0.2"} <= rhosts, rhosts)
    finally:
        host.close()


def main():
    expect(os.geteuid() == 0, "these tests switch to other uids and must run as root")
    run([
        test_a_request_sent_a_byte_at_a_time_is_cut_off_at_the_read_timeout,
        test_a_local_user_holding_connections_cannot_lock_out_logons_or_administration,
        test_each_socket_has_its_own_limit_and_root_its_own_pool,
        test_control_bytes_from_a_caller_reach_the_log_escaped,
        test_a_hung_stopped_or_vanished_daemon_fails_closed_within_the_timeout,
        test_another_uid_can_neither_test_a_password_nor_count_failures_against_a_user,
        test_strangers_on_the_web_can_neither_tell_users_apart_nor_lock_them_out,
        test_behind_a_trusted_proxy_each_client_is_throttled_on_its_own,
    ])


if __name__ == "__main__":
    main()
