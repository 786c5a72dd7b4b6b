# SPDX-License-Identifier: Apache-2.0
"""pam_latchkey.so in real PAM stacks: pamtester through pam_wrapper, `passwd`, and a real sshd
with a real ssh client. Linux users come from nss_wrapper; nothing under /etc is touched."""

import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time

from harness import Daemon, expect, run
from pam_env import (NssWrapper, PamWrapper, Sshd, merge_env, pamtester, ssh_run, ssh_start)

MODULE = os.environ.get("LATCHKEY_PAM_MODULE", "build/pam_module/pam_latchkey.so")
PAM_SET_ITEMS = "/usr/lib/x86_64-linux-gnu/pam_wrapper/pam_set_items.so"

# Throwaway test fixtures, nobody's real password.
ALICE_PW = "Alice-Passw0rd!"
BOB_PW = "Bob-Passw0rd!"

# pam_strerror() texts as pamtester prints them.
AUTH_ERR = "Authentication failure"
UNAVAILABLE = "Authentication service cannot retrieve authentication info"
PERM_DENIED = "Permission denied"
NEW_AUTHTOK = "Authentication token is no longer valid; new one required"


class World:
    """One latchkeyd with a directory, the wrappers, and service files for the module."""

    def __init__(self, more_users=None):
        self.base = tempfile.mkdtemp(prefix="latchkey-pam-")
        os.chmod(self.base, 0o755)
        self.clock = os.path.join(self.base, "clock")
        self.now = 1_900_000_000
        self.set_clock(self.now)
        # The daemon maps a caller's uid to its name, so it sees the same test users.
        self.nss = NssWrapper(self.base, users={"root": 0, "alice": 5000, "bob": 5001,
                                                "carol": 5002, **(more_users or {})})
        self.daemon = Daemon(extra_config=f'[testing]\nclock_file = "{self.clock}"\n',
                             env=self.nss.env())
        self.daemon.start()
        d = self.daemon
        d.ctl("directory", "init", "--domain", "example.internal")
        d.ctl("account", "create", "web")
        for name, pw in (("alice", ALICE_PW), ("bob", BOB_PW)):
            d.ctl("user", "create", name)
            d.ctl("user", "set-password", name, "--stdin", input=pw + "\n")
        self.pam = PamWrapper(self.base)
        sock = f"socket={d.pam_socket}"
        self.pam.service("lk", [f"auth required {MODULE} {sock}",
                                f"account required {MODULE} {sock}",
                                f"password required {MODULE} {sock}",
                                f"session required {MODULE} {sock}"])
        self.pam.service("lk-first", [f"auth required {PAM_SET_ITEMS}",
                                      f"auth required {MODULE} {sock} use_first_pass"])
        self.pam.service("lk-nofirst", [f"auth required {MODULE} {sock} use_first_pass"])
        self.pam.service("lk-single", [f"auth required {MODULE} {sock} single_prompt"])
        self.pam.service("lk-fallthrough", [
            f"auth [success=done ignore=ignore default=die] {MODULE} {sock} ignore_unknown_user",
            "auth required pam_permit.so"])
        self.pam.service("lk-down", [f"auth required {MODULE} socket={self.base}/absent.sock"])
        self.pam.service("lk-bogus", [f"auth required {MODULE} {sock} frobnicate=1 debug"])
        self.pam.service("passwd", [f"password required {MODULE} {sock}"])

    def set_clock(self, t):
        self.now = t
        with open(self.clock + ".tmp", "w") as f:
            f.write(str(t))
        os.replace(self.clock + ".tmp", self.clock)

    def env(self, **extra):
        return merge_env(self.nss.env(), self.pam.env(), extra)

    def pt(self, service, user, ops, answers=(), **kw):
        env = kw.pop("env", None) or self.env()
        return pamtester(service, user, ops, answers, env=env, **kw)

    def close(self):
        self.daemon.stop()
        self.pam.cleanup()
        shutil.rmtree(self.base, ignore_errors=True)
        shutil.rmtree(self.daemon.dir, ignore_errors=True)


W = None


def test_the_right_password_logs_in():
    r = W.pt("lk", "alice", ["authenticate", "acct_mgmt"], {"Password": ALICE_PW})
    expect(r[0] == 0, r)
    expect(r.prompts == ["Password: "], r.prompts)


def test_a_wrong_password_and_an_unknown_user_get_the_same_answer():
    wrong = W.pt("lk", "alice", ["authenticate"], {"Password": "not-it"})
    unknown = W.pt("lk", "mallory", ["authenticate"], {"Password": "not-it"})
    expect(wrong[0] != 0 and AUTH_ERR in wrong[2], wrong)
    expect(unknown[0] == wrong[0], (wrong, unknown))
    expect(unknown.prompts == wrong.prompts == ["Password: "], (wrong.prompts, unknown.prompts))
    last = lambda r: [l for l in r[2].splitlines() if l.startswith("pamtester: ")][-1]
    expect(last(wrong) == last(unknown), (last(wrong), last(unknown)))
    W.daemon.ctl("user", "unlock", "alice")


def test_disabled_console_logon_is_refused():
    W.daemon.ctl("user", "disable-logon", "bob")
    try:
        r = W.pt("lk", "bob", ["authenticate"], {"Password": BOB_PW})
        expect(r[0] != 0 and "Console logon is disabled" in r[2], r)
    finally:
        W.daemon.ctl("user", "enable-logon", "bob")


def test_lockout_with_a_controlled_clock_then_unlock():
    for _ in range(5):
        W.pt("lk", "bob", ["authenticate"], {"Password": "wrong"})
    r = W.pt("lk", "bob", ["authenticate"], {"Password": BOB_PW})
    # Locked: asked for the password like anyone and refused in the words of a wrong one, so
    # that a stranger cannot tell a locked user from a wrong password or an unknown name.
    expect(r[0] != 0 and AUTH_ERR in r[2] and "wrong user name or password" in r[2], r)
    expect("locked" not in r[2] and "Too many" not in r[2], r[2])
    expect(r.prompts == ["Password: "], r.prompts)
    expect("locked until:" in W.daemon.ctl("user", "show", "bob").stdout, "the administrator sees it")
    W.set_clock(W.now + 30 * 60)
    expect(W.pt("lk", "bob", ["authenticate"], {"Password": BOB_PW})[0] != 0, "still locked")
    W.set_clock(W.now + 31 * 60)
    r = W.pt("lk", "bob", ["authenticate"], {"Password": BOB_PW})
    expect(r[0] == 0, ("unlocked after the hour", r))
    for _ in range(5):
        W.pt("lk", "bob", ["authenticate"], {"Password": "wrong"})
    expect(W.pt("lk", "bob", ["authenticate"], {"Password": BOB_PW})[0] != 0)
    W.daemon.ctl("user", "unlock", "bob")
    expect(W.pt("lk", "bob", ["authenticate"], {"Password": BOB_PW})[0] == 0, "unlocked by ctl")


def test_root_is_refused_on_a_resource_account_and_audited_as_alert():
    r = W.pt("lk", "root", ["authenticate"], {"Password": "whatever"})
    expect(r[0] != 0, r)
    expect("root logon is disabled on resource accounts" in r[2], r[2])
    events = W.daemon.ctl("audit", "--severity", "alert", json_out=True)["events"]
    reasons = [dict((f["key"], f["value"]) for f in e["fields"]).get("reason") for e in events]
    expect("root_disabled" in reasons, events)


def test_expired_password_is_changed_through_chauthtok_with_the_policy():
    W.daemon.ctl("policy", "set", "max_age_days=30", "history=2")
    try:
        W.set_clock(W.now + 31 * 86400)
        r = W.pt("lk", "alice", ["authenticate", "acct_mgmt"], {"Password": ALICE_PW})
        expect(r[0] != 0 and NEW_AUTHTOK in r[2], r)
        new = "Fresh-Passw0rd#2"
        r = W.pt("lk", "alice", ["chauthtok(PAM_CHANGE_EXPIRED_AUTHTOK)"],
                 {"Current password": ALICE_PW, "New password": ["short", ALICE_PW, new],
                  "Retype new password": [ALICE_PW, new]})
        expect(r[0] == 0, r)
        expect("at least 8 characters" in r[2], r[2])
        expect("must not be one of the last 2 passwords" in r[2], r[2])
        r = W.pt("lk", "alice", ["authenticate", "acct_mgmt"], {"Password": new})
        expect(r[0] == 0, r)
        # Back to the fixture password for the other tests (history allows it after two more).
        for pw in ("Other-Passw0rd#3", ALICE_PW):
            r = W.pt("passwd", "alice", ["chauthtok"],
                     {"Current password": new, "New password": pw, "Retype new password": pw})
            expect(r[0] == 0, r)
            new = pw
    finally:
        W.daemon.ctl("policy", "set", "max_age_days=0", "history=0")


def test_plain_passwd_changes_the_password_through_pam():
    new = "Passwd-Changed#9"
    env = W.env()
    p = subprocess.run(["passwd", "bob"], input=f"{BOB_PW}\n{new}\n{new}\n",
                       capture_output=True, text=True, env=env, timeout=30)
    expect(p.returncode == 0, (p.returncode, p.stdout, p.stderr))
    expect(W.pt("lk", "bob", ["authenticate"], {"Password": new})[0] == 0)
    W.daemon.ctl("user", "set-password", "bob", "--stdin", input=BOB_PW + "\n")


def test_use_first_pass_takes_the_earlier_modules_password():
    r = W.pt("lk-first", "alice", ["authenticate"], env=W.env(PAM_AUTHTOK=ALICE_PW))
    expect(r[0] == 0 and r.prompts == [], r)
    r = W.pt("lk-first", "alice", ["authenticate"], env=W.env(PAM_AUTHTOK="wrong"))
    expect(r[0] != 0 and r.prompts == [], r)
    r = W.pt("lk-nofirst", "alice", ["authenticate"], {"Password": ALICE_PW})
    expect(r[0] != 0 and r.prompts == [], ("no earlier password: fail, never prompt", r))


def test_single_prompt_mode_takes_one_answer():
    r = W.pt("lk-single", "alice", ["authenticate"], [ALICE_PW])
    expect(r[0] == 0 and len(r.prompts) == 1, r)


def test_unknown_users_fall_through_only_when_asked_and_root_never_does():
    r = W.pt("lk-fallthrough", "carol", ["authenticate"])
    expect(r[0] == 0 and r.prompts == [], ("unknown to latchkey: next module decides", r))
    r = W.pt("lk-fallthrough", "root", ["authenticate"])
    expect(r[0] != 0, ("root is known and refused: it must not fall through", r))


def test_unknown_options_are_ignored():
    r = W.pt("lk-bogus", "alice", ["authenticate"], {"Password": ALICE_PW})
    expect(r[0] == 0, r)


def test_an_absent_daemon_fails_closed_quickly():
    start = time.monotonic()
    r = W.pt("lk-down", "alice", ["authenticate"], {"Password": ALICE_PW})
    expect(r[0] != 0 and UNAVAILABLE in r[2], r)
    expect(r.prompts == [], r.prompts)
    expect(time.monotonic() - start < 5, "no waiting on an absent socket")


def test_a_silent_daemon_fails_closed_within_the_timeout():
    path = os.path.join(W.base, "silent.sock")
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(path)
    srv.listen(4)
    held = []
    stop = threading.Event()

    def accept():
        srv.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(srv.accept()[0])  # accept, then never answer
            except OSError:
                pass

    t = threading.Thread(target=accept, daemon=True)
    t.start()
    try:
        W.pam.service("lk-silent", [f"auth required {MODULE} socket={path} timeout=2"])
        start = time.monotonic()
        r = W.pt("lk-silent", "alice", ["authenticate"], {"Password": ALICE_PW}, timeout=15)
        elapsed = time.monotonic() - start
        expect(r[0] != 0 and UNAVAILABLE in r[2], r)
        expect(1.5 < elapsed < 6, f"gave up after {elapsed:.1f}s with timeout=2")
    finally:
        stop.set()
        t.join()
        for c in held:
            c.close()
        srv.close()


def test_an_unprivileged_caller_may_authenticate_only_itself():
    r = W.pt("lk", "alice", ["authenticate"], {"Password": ALICE_PW}, as_uid=5001)
    expect(r[0] != 0 and PERM_DENIED in r[2], ("bob's process asking for alice", r))
    expect(r.prompts == [], r.prompts)
    r = W.pt("lk", "alice", ["authenticate"], {"Password": ALICE_PW}, as_uid=5000)
    expect(r[0] == 0, ("alice's own screen locker", r))
    r = W.pt("lk", "alice", ["chauthtok"], {"Current password": ALICE_PW}, as_uid=5001)
    expect(r[0] != 0, ("nor change alice's password", r))


def test_sessions_are_registered_and_linked_to_their_logon():
    r = W.pt("lk", "alice", ["authenticate", "open_session", "close_session"],
             {"Password": ALICE_PW}, items={"tty": "pts/7", "rhost": "192.0.2.9"})
    expect(r[0] == 0, r)
    events = W.daemon.ctl("audit", "--user", "alice", "--limit", "5", json_out=True)["events"]
    kinds = [e["event"] for e in events]
    expect(kinds[:3] == ["session.close", "session.open", "auth.allow"], kinds)
    fields = lambda e: dict((f["key"], f["value"]) for f in e["fields"])
    expect(fields(events[1])["logon_id"] == fields(events[2])["logon_id"], events)
    expect(W.daemon.ctl("session", "list", json_out=True)["sessions"] == [], "closed again")


def test_the_audit_names_every_attempt_and_holds_no_password():
    events = W.daemon.ctl("audit", "--limit", "1000", json_out=True)["events"]
    text = repr(events)
    for secret in (ALICE_PW, BOB_PW, "Fresh-Passw0rd#2", "Passwd-Changed#9"):
        expect(secret not in text, f"a password reached the audit")
        expect(secret not in W.daemon.log(), f"a password reached the log")
    deny = [e for e in events if e["event"] == "auth.deny"]
    expect(deny and all({"service", "user", "reason"} <= {f["key"] for f in e["fields"]} for e in deny),
           deny[:3])


def test_a_real_sshd_logs_alice_in_registers_her_session_and_refuses_root():
    sock = f"socket={W.daemon.pam_socket}"
    lines = [f"auth [success=done ignore=ignore default=die] {MODULE} {sock}",
             f"account required {MODULE} {sock}",
             f"password required {MODULE} {sock}",
             f"session required {MODULE} {sock}"]
    with Sshd(W.base, lines, W.nss) as sshd:
        rc, out, err, prompts = ssh_run(sshd.port, "alice", "id -u; echo logged-in",
                                        {"Password": ALICE_PW}, timeout=60)
        expect(rc == 0 and "5000" in out and "logged-in" in out, (rc, out, err, sshd.log()))
        expect(any("Password" in p for p in prompts), prompts)
        client = ssh_start(sshd.port, "alice", "sleep 4", {"Password": ALICE_PW})
        try:
            deadline = time.monotonic() + 20
            sessions = []
            while time.monotonic() < deadline and not sessions:
                sessions = W.daemon.ctl("session", "list", "alice", json_out=True)["sessions"]
                time.sleep(0.2)
            expect(len(sessions) == 1, sessions)
            s = sessions[0]
            expect(s["service"] == "sshd" and s["rhost"] == "127.0.0.1", s)
            expect(s.get("logon_id") and s.get("method") == "pwd", ("linked to its logon", s))
        finally:
            client.wait(30) if hasattr(client, "wait") else client.stop()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and W.daemon.ctl("session", "list", json_out=True)["sessions"]:
            time.sleep(0.2)
        expect(W.daemon.ctl("session", "list", json_out=True)["sessions"] == [], "gone after logout")
        rc, out, err, prompts = ssh_run(sshd.port, "root", "id -u", {"Password": "whatever"},
                                        timeout=60)
        expect(rc == 255 and "Permission denied" in err, (rc, out, err))


if __name__ == "__main__":
    W = World()
    try:
        run([
            test_the_right_password_logs_in,
            test_a_wrong_password_and_an_unknown_user_get_the_same_answer,
            test_disabled_console_logon_is_refused,
            test_lockout_with_a_controlled_clock_then_unlock,
            test_root_is_refused_on_a_resource_account_and_audited_as_alert,
            test_expired_password_is_changed_through_chauthtok_with_the_policy,
            test_plain_passwd_changes_the_password_through_pam,
            test_use_first_pass_takes_the_earlier_modules_password,
            test_single_prompt_mode_takes_one_answer,
            test_unknown_users_fall_through_only_when_asked_and_root_never_does,
            test_unknown_options_are_ignored,
            test_an_absent_daemon_fails_closed_quickly,
            test_a_silent_daemon_fails_closed_within_the_timeout,
            test_an_unprivileged_caller_may_authenticate_only_itself,
            test_sessions_are_registered_and_linked_to_their_logon,
            test_the_audit_names_every_attempt_and_holds_no_password,
            test_a_real_sshd_logs_alice_in_registers_her_session_and_refuses_root,
        ])
    finally:
        W.close()
