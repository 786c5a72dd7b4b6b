# SPDX-License-Identifier: Apache-2.0
"""TOTP multi-factor logons end to end: enrolment with `latchkeyctl mfa enroll` (administrator
and self-service), codes made by Debian's oathtool, pamtester through pam_wrapper, a real sshd
with a real ssh client, and a clock the test controls (latchkeyd's [testing] clock_file)."""

import os
import re
import sqlite3
import subprocess
import time
import urllib.parse

import ledger
from harness import LATCHKEYCTL, expect, run
from pam_env import Sshd, ssh_run
from pam_test import AUTH_ERR, MODULE, World

# Throwaway test fixtures, nobody's real passwords.
PASSWORDS = {"carol": "Carol-Passw0rd!", "dave": "Dave-Passw0rd!", "erin": "Erin-Passw0rd!"}
UIDS = {"dave": 5003, "erin": 5004}
T0 = 1_900_000_020  # 20 s into a 30-second step
RECOVERY_LINE = re.compile(r"^\s*([a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4})$", re.M)

W = None
CAROL = {}  # key, recovery codes


def totp(key, t):
    """The code Debian's oathtool makes for base32 `key` at Unix time `t`."""
    return subprocess.run(["oathtool", "--totp", "-b", key, "-N", f"@{t}"], check=True,
                          capture_output=True, text=True).stdout.strip()


def key_of(uri):
    query = urllib.parse.parse_qs(urllib.parse.urlparse(uri).query)
    ledger.note(query["secret"][0], "TOTP secret")
    return query["secret"][0]


def later(seconds):
    """Moves latchkeyd's clock forward; every test uses steps after the ones before it."""
    W.set_clock(W.now + seconds)
    return W.now


def logon(user, answers, service="lk", ops=("authenticate",)):
    return W.pt(service, user, list(ops), answers)


def enrol_script(user, codes_for, as_uid=None, password=None):
    """`latchkeyctl mfa enroll` without a terminal: the URI comes first on stdout, then the two
    codes (computed from it by `codes_for(key)`) go to stdin. With `as_uid`, the user enrols
    itself over the PAM socket and its password is the first line of stdin."""
    if as_uid is None:
        cmd = [LATCHKEYCTL, "--socket", W.daemon.admin_socket, "mfa", "enroll", user]
    else:
        cmd = ["setpriv", f"--reuid={as_uid}", f"--regid={as_uid}", "--clear-groups",
               LATCHKEYCTL, "--socket", W.daemon.pam_socket, "mfa", "enroll"]
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        if password is not None:
            proc.stdin.write(password + "\n")
            proc.stdin.flush()
        uri = proc.stdout.readline().strip()
        if not uri.startswith("otpauth://"):
            out, err = proc.communicate(timeout=20)
            return proc.returncode, uri + out, err, None
        first, second = codes_for(key_of(uri))
        out, err = proc.communicate(f"{first}\n{second}\n", timeout=20)
        return proc.returncode, uri + "\n" + out, err, uri
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_an_administrator_enrols_carol_with_two_consecutive_oathtool_codes():
    t = W.now
    rc, out, err, uri = enrol_script("carol", lambda k: (totp(k, t), totp(k, t)))
    expect(rc == 1 and "the second code must be the next one" in err, (rc, out, err))
    expect(W.daemon.ctl("mfa", "list", "carol", json_out=True)["devices"] == [],
           "a refused enrolment leaves no device")

    rc, out, err, uri = enrol_script("carol", lambda k: (totp(k, t), totp(k, t + 30)))
    expect(rc == 0, (rc, out, err))
    expect(uri.startswith("otpauth://totp/example.internal:carol%40web.example.internal?"), uri)
    q = urllib.parse.parse_qs(urllib.parse.urlparse(uri).query)
    expect(q["issuer"] == ["example.internal"] and q["digits"] == ["6"] and
           q["period"] == ["30"] and q["algorithm"] == ["SHA1"], q)
    key = key_of(uri)
    expect(len(key) == 32, ("160 bits", key))
    codes = RECOVERY_LINE.findall(out)
    for c in codes:
        ledger.note(c, "recovery code")
    expect(len(codes) == 10 and len(set(codes)) == 10, out)
    CAROL.update(key=key, codes=codes)

    devices = W.daemon.ctl("mfa", "list", "carol", json_out=True)["devices"]
    expect(len(devices) == 1 and devices[0]["recovery_codes_left"] == 10, devices)
    again = W.daemon.ctl("mfa", "enroll", "carol", check=False, input="")
    expect(again.returncode == 1 and "already has an MFA device" in again.stderr, again)


def test_the_secret_and_codes_are_sealed_at_rest_and_never_logged():
    db = os.path.join(W.daemon.dir, "lib", "latchkey.db")
    key_file = os.path.join(W.daemon.dir, "lib", "secret.key")
    expect(os.stat(key_file).st_mode & 0o777 == 0o600, oct(os.stat(key_file).st_mode))
    import base64
    raw_secret = base64.b32decode(CAROL["key"])
    with sqlite3.connect(db) as c:
        rows = c.execute("SELECT sealed_secret FROM mfa_devices").fetchall()
        hashes = [r[0] for r in c.execute("SELECT hash FROM recovery_codes")]
    sealed = base64.b64decode(rows[0][0])
    expect(raw_secret not in sealed and CAROL["key"] not in rows[0][0], "sealed, not plain")
    expect(not any(code in h for h in hashes for code in CAROL["codes"]), "codes stored hashed")
    audit = W.daemon.ctl("audit", "--limit", "1000").stdout
    for text in (W.daemon.log(), audit):
        expect(CAROL["key"] not in text, "the key never reaches a log")
        expect(not any(code in text for code in CAROL["codes"]), "nor does a recovery code")


def test_pamtester_asks_for_the_password_then_the_code():
    t = later(60)
    r = logon("carol", {"Password": PASSWORDS["carol"], "Verification code": totp(CAROL["key"], t)},
              ops=("authenticate", "acct_mgmt"))
    expect(r[0] == 0, r)
    expect(r.prompts == ["Password: ", "Verification code: "], r.prompts)


def test_codes_one_step_off_pass_and_two_steps_off_fail():
    t = later(300)
    key = CAROL["key"]
    answers = lambda at: {"Password": PASSWORDS["carol"], "Verification code": totp(key, at)}
    for off in (-60, 60):
        r = logon("carol", answers(t + off))
        expect(r[0] != 0 and "wrong verification code" in r[2], (off, r))
    for off in (-30, 0, 30):  # increasing steps: each is fresh
        r = logon("carol", answers(t + off))
        expect(r[0] == 0, (off, r))


def test_a_used_code_is_refused_again_also_after_a_restart():
    t = later(300)
    code = totp(CAROL["key"], t)
    answers = {"Password": PASSWORDS["carol"], "Verification code": code}
    expect(logon("carol", answers)[0] == 0, "first use")
    r = logon("carol", answers)
    expect(r[0] != 0 and "used already" in r[2], r)
    W.daemon.stop()
    W.daemon.start()
    r = logon("carol", answers)
    expect(r[0] != 0 and "used already" in r[2], ("after a restart", r))


def test_a_recovery_code_works_once():
    later(300)
    code = CAROL["codes"][0]
    answers = {"Password": PASSWORDS["carol"], "Verification code": code.upper()}
    r = logon("carol", answers)
    expect(r[0] == 0 and "recovery code" in r[1] and "9 left" in r[1], r)
    r = logon("carol", answers)
    expect(r[0] != 0 and "wrong verification code" in r[2], r)
    devices = W.daemon.ctl("mfa", "list", "carol", json_out=True)["devices"]
    expect(devices[0]["recovery_codes_left"] == 9, devices)
    W.daemon.ctl("user", "unlock", "carol")


def test_wrong_codes_count_toward_the_lockout():
    t = later(300)
    for _ in range(5):
        logon("carol", {"Password": PASSWORDS["carol"], "Verification code": "000000"})
    r = logon("carol", {"Password": PASSWORDS["carol"], "Verification code": totp(CAROL["key"], t)})
    try:
        expect(r[0] != 0 and "wrong user name or password" in r[2], r)
        expect(r.prompts == ["Password: "], ("refused at the password, like anyone", r.prompts))
        expect("locked until:" in W.daemon.ctl("user", "show", "carol").stdout)
    finally:
        W.daemon.ctl("user", "unlock", "carol")


def test_single_prompt_mode_takes_password_and_code_in_one_answer():
    t = later(300)
    r = logon("carol", {"Password": PASSWORDS["carol"] + totp(CAROL["key"], t)}, service="lk-single")
    expect(r[0] == 0, r)
    expect(r.prompts == ["Password: "], r.prompts)


def test_a_user_who_must_use_mfa_without_a_device_is_told_how_to_enrol():
    W.daemon.ctl("settings", "set", "mfa_required=true")
    try:
        r = logon("dave", {"Password": PASSWORDS["dave"]})
        expect(r[0] != 0 and AUTH_ERR in r[2], r)
        expect("latchkeyctl mfa enroll dave@web.example.internal" in r[2], r)
    finally:
        W.daemon.ctl("settings", "set", "mfa_required=false")


def test_the_logon_dialogue_walks_dave_through_enrolment_when_the_account_enables_it():
    W.daemon.ctl("settings", "set", "mfa_required=true", "mfa_enrol_at_logon=true")
    t = later(300)
    shown_key = lambda seen: re.search(r"Key: ([A-Z2-7]+)", seen).group(1)
    try:
        r = logon("dave", {
            "Password": PASSWORDS["dave"],
            "Next verification code": lambda seen: totp(shown_key(seen), t + 30),
            "Verification code": lambda seen: totp(shown_key(seen), t),
        })
        expect(r[0] == 0, r)
        expect(r.prompts == ["Password: ", "Verification code: ", "Next verification code: "],
               r.prompts)
        expect("URI: otpauth://totp/example.internal:dave%40web.example.internal?" in r[1], r[1])
        expect("\u2588" in r[1], ("a QR code drawn with blocks", r[1]))
        expect(len(RECOVERY_LINE.findall(r[1])) == 10, r[1])
        devices = W.daemon.ctl("mfa", "list", "dave", json_out=True)["devices"]
        expect(len(devices) == 1, devices)
        key = shown_key(r[1])
        expect(key not in W.daemon.log(), "the key shown in the dialogue is never logged")
        # From now on dave logs in with a code; the enrolment's second step is spent.
        r = logon("dave", {"Password": PASSWORDS["dave"], "Verification code": totp(key, t + 30)})
        expect(r[0] != 0 and "used already" in r[2], r)
        t = later(60)
        r = logon("dave", {"Password": PASSWORDS["dave"], "Verification code": totp(key, t)})
        expect(r[0] == 0 and r.prompts == ["Password: ", "Verification code: "], r)
    finally:
        W.daemon.ctl("settings", "set", "mfa_required=false", "mfa_enrol_at_logon=false")


def test_erin_enrols_herself_over_the_pam_socket_when_the_account_allows_it():
    t = later(300)
    codes = lambda k: (totp(k, t), totp(k, t + 30))
    W.daemon.ctl("settings", "set", "allow_manage_mfa=false")
    try:
        rc, out, err, uri = enrol_script("erin", codes, as_uid=UIDS["erin"],
                                         password=PASSWORDS["erin"])
        expect(rc == 1 and "not allowed on this account" in err and uri is None, (rc, out, err))
    finally:
        W.daemon.ctl("settings", "set", "allow_manage_mfa=true")
    rc, out, err, uri = enrol_script("erin", codes, as_uid=UIDS["erin"], password="wrong")
    expect(rc == 1 and "wrong password" in err and uri is None, (rc, out, err))
    rc, out, err, uri = enrol_script("erin", codes, as_uid=UIDS["erin"], password=PASSWORDS["erin"])
    expect(rc == 0 and uri and "erin%40web.example.internal" in uri, (rc, out, err))
    expect(len(RECOVERY_LINE.findall(out)) == 10, out)
    events = W.daemon.ctl("audit", "--user", "erin", json_out=True)["events"]
    enrolled = [e for e in events if e["event"] == "mfa.enroll"]
    expect(enrolled and {"key": "actor", "value": f"self uid:{UIDS['erin']}"} in enrolled[0]["fields"],
           enrolled)
    t = later(60)
    r = logon("erin", {"Password": PASSWORDS["erin"], "Verification code": totp(key_of(uri), t)})
    expect(r[0] == 0, r)


def test_a_real_sshd_logs_carol_in_with_password_and_code():
    t = later(300)
    sock = f"socket={W.daemon.pam_socket}"
    lines = [f"auth required {MODULE} {sock}", f"account required {MODULE} {sock}",
             f"password required {MODULE} {sock}", f"session required {MODULE} {sock}"]
    with Sshd(W.base, lines, W.nss) as sshd:
        rc, out, err, prompts = ssh_run(
            sshd.port, "carol", "id -u; echo logged-in",
            {"Password": PASSWORDS["carol"], "Verification code": totp(CAROL["key"], t)},
            timeout=60)
        expect(rc == 0 and "5002" in out and "logged-in" in out, (rc, out, err, sshd.log()))
        expect(any(p.endswith("Password: ") for p in prompts) and
               any(p.endswith("Verification code: ") for p in prompts), prompts)
        t = later(60)
        rc, out, err, prompts = ssh_run(
            sshd.port, "carol", "true",
            {"Password": PASSWORDS["carol"], "Verification code": "123456"}, timeout=60)
        expect(rc == 255 and "Permission denied" in err, (rc, out, err))
    W.daemon.ctl("user", "unlock", "carol")


def test_new_recovery_codes_void_the_old_ones_and_removal_ends_mfa():
    r = W.daemon.ctl("mfa", "recovery-codes", "carol")
    fresh = RECOVERY_LINE.findall(r.stdout)
    expect(len(fresh) == 10 and not set(fresh) & set(CAROL["codes"]), r.stdout)
    later(300)
    old = logon("carol", {"Password": PASSWORDS["carol"], "Verification code": CAROL["codes"][1]})
    expect(old[0] != 0, ("an old code no longer works", old))
    new = logon("carol", {"Password": PASSWORDS["carol"], "Verification code": fresh[0]})
    expect(new[0] == 0, new)
    listing = W.daemon.ctl("mfa", "list").stdout
    expect("carol@web.example.internal" in listing and "RECOVERY CODES LEFT" in listing, listing)
    r = W.daemon.ctl("mfa", "remove", "carol")
    expect("removed the MFA device of carol@web.example.internal" in r.stdout, r)
    plain = logon("carol", {"Password": PASSWORDS["carol"]})
    expect(plain[0] == 0 and plain.prompts == ["Password: "], plain)
    again = W.daemon.ctl("mfa", "remove", "carol", check=False)
    expect(again.returncode == 1 and "no MFA device" in again.stderr, again)


def test_the_audit_trail_has_enrolments_removals_recovery_codes_and_failed_codes():
    events = W.daemon.ctl("audit", "--limit", "1000", json_out=True)["events"]
    names = {e["event"] for e in events}
    for name in ("mfa.enroll", "mfa.enroll.fail", "mfa.remove", "mfa.recovery_code.use",
                 "mfa.recovery_code.renew"):
        expect(name in names, (name, sorted(names)))
    reasons = {f["value"] for e in events if e["event"] == "auth.deny" for f in e["fields"]
               if f["key"] == "reason"}
    expect({"bad_code", "replayed_code", "mfa_not_enrolled"} <= reasons, reasons)


if __name__ == "__main__":
    W = World(more_users=UIDS)
    try:
        for name, pw in PASSWORDS.items():
            W.daemon.ctl("user", "create", name)
            W.daemon.ctl("user", "set-password", name, "--stdin", input=pw + "\n")
        W.set_clock(T0)
        run([
            test_an_administrator_enrols_carol_with_two_consecutive_oathtool_codes,
            test_the_secret_and_codes_are_sealed_at_rest_and_never_logged,
            test_pamtester_asks_for_the_password_then_the_code,
            test_codes_one_step_off_pass_and_two_steps_off_fail,
            test_a_used_code_is_refused_again_also_after_a_restart,
            test_a_recovery_code_works_once,
            test_wrong_codes_count_toward_the_lockout,
            test_single_prompt_mode_takes_password_and_code_in_one_answer,
            test_a_user_who_must_use_mfa_without_a_device_is_told_how_to_enrol,
            test_the_logon_dialogue_walks_dave_through_enrolment_when_the_account_enables_it,
            test_erin_enrols_herself_over_the_pam_socket_when_the_account_allows_it,
            test_a_real_sshd_logs_carol_in_with_password_and_code,
            test_new_recovery_codes_void_the_old_ones_and_removal_ends_mfa,
            test_the_audit_trail_has_enrolments_removals_recovery_codes_and_failed_codes,
        ])
    finally:
        W.close()
