# SPDX-License-Identifier: Apache-2.0
"""Security keys at the hosts, end to end with real processes: latchkeyd, `latchkeyctl passkey
add-key` enrolling the software CTAP2 key (latchkey-test-softkey, behind a Unix socket) through
the real latchkey-fido, then pam_latchkey.so in pamtester under pam_wrapper asking for it:
passwordless, as the second factor, a wrong PIN, no key plugged in, and a cloned key; and the
real setuid sudo, in a private mount namespace with a PAM stack of ours.

Environment: LATCHKEY_FIDO (the helper), LATCHKEY_TEST_SOFTKEY (the key), set by meson."""

import os
import shutil
import subprocess
import tempfile

import ledger
from harness import Daemon, expect, run
from pam_env import NssWrapper, PamWrapper, merge_env, pamtester

LATCHKEYCTL = os.environ["LATCHKEYCTL"]
MODULE = os.environ.get("LATCHKEY_PAM_MODULE", "build/pam_module/pam_latchkey.so")
HELPER = os.environ["LATCHKEY_FIDO"]
SOFTKEY = os.environ["LATCHKEY_TEST_SOFTKEY"]
# latchkeyctl runs this helper rather than the installed one.
os.environ["LATCHKEY_FIDO_HELPER"] = HELPER

# Throwaway test fixtures, nobody's real password or PIN.
ALICE_PW = "Alice-Passw0rd!"
BOB_PW = "Bob-Passw0rd!"
BOB_PIN = "pin-7f3k9q"

AUTH_ERR = "Authentication failure"

# No log and no audit line may ever hold the PIN.
ledger.note(BOB_PIN, "pin")


class Key:
    """latchkey-test-softkey at `path`, with its stdin controls."""

    def __init__(self, path, pin=None):
        self.path = path
        args = [SOFTKEY, "--socket", path] + (["--pin", pin] if pin else [])
        self.proc = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
        expect(self.proc.stdout.readline().strip() == "ready", "the software key started")

    def control(self, command):
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()
        expect(self.proc.stdout.readline().strip() == "ok", command)

    def stop(self):
        self.proc.stdin.close()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


class World:
    """One latchkeyd, alice's key (no PIN) and bob's (a PIN), and PAM services that reach
    each key through the real helper."""

    def __init__(self):
        self.base = tempfile.mkdtemp(prefix="latchkey-hostkey-")
        os.chmod(self.base, 0o755)
        self.nss = NssWrapper(self.base, users={"root": 0, "alice": 5000, "bob": 5001})
        self.daemon = Daemon(env=self.nss.env())
        self.daemon.start()
        d = self.daemon
        d.ctl("directory", "init", "--domain", "example.internal")
        d.ctl("account", "create", "web")
        for name, pw in (("alice", ALICE_PW), ("bob", BOB_PW)):
            d.ctl("user", "create", name)
            d.ctl("user", "set-password", name, "--stdin", input=pw + "\n")
        self.keys = {"alice": Key(os.path.join(self.base, "alice.sock")),
                     "bob": Key(os.path.join(self.base, "bob.sock"), pin=BOB_PIN),
                     "spare": Key(os.path.join(self.base, "spare.sock"))}
        self.pam = PamWrapper(self.base)
        sock = f"socket={d.pam_socket}"
        for name, key in self.keys.items():
            os.chmod(key.path, 0o666)  # the users' own latchkeyctl reaches them too
            self.pam.service(f"console-{name}", [
                f"auth required {MODULE} {sock} fido_helper={HELPER} security_key=unix:{key.path}"])
        self.pam.service("nokey", [f"auth required {MODULE} {sock} security_key=off"])

    def settings(self, **values):
        self.daemon.ctl("settings", "set", "--account", "web",
                        *[f"{k}={v}" for k, v in values.items()])

    def pt(self, user, answers=(), service=None):
        return pamtester(service or f"console-{user}", user, ["authenticate"], answers,
                         env=merge_env(self.nss.env(), self.pam.env()))

    def last(self, event, user):
        """The newest audit event `event` about `user`, as a dict of its fields."""
        events = self.daemon.ctl("audit", "--limit", "50", json_out=True)["events"]
        for e in events:
            fields = {f["key"]: f["value"] for f in e["fields"]}
            if e["event"] == event and fields.get("user", "").split("@")[0] == user:
                return fields
        raise AssertionError(f"no {event} of {user} in {events}")

    def close(self):
        for key in self.keys.values():
            key.stop()
        self.daemon.stop()
        self.pam.cleanup()
        shutil.rmtree(self.base, ignore_errors=True)
        shutil.rmtree(self.daemon.dir, ignore_errors=True)


W = None


def test_an_administrator_enrols_a_key_with_latchkeyctl():
    p = W.daemon.ctl("passkey", "add-key", "alice", "--device", "unix:" + W.keys["alice"].path,
                     "--name", "Desk key")
    expect("Touch your security key." in p.stdout, p.stdout)
    expect("Security key enrolled" in p.stdout and "logons at the hosts" in p.stdout, p.stdout)
    listed = W.daemon.ctl("passkey", "list", "alice", json_out=True)["passkeys"]
    expect(len(listed) == 1 and listed[0]["name"] == "Desk key"
           and listed[0]["relying_party"] == "host", listed)
    registered = W.last("passkey.register", "alice")
    expect(registered["relying_party"] == "host", registered)
    # A key with a PIN asks for it, here read from standard input.
    p = W.daemon.ctl("passkey", "add-key", "bob", "--device", "unix:" + W.keys["bob"].path,
                     input=BOB_PIN + "\n")
    expect("Security key enrolled" in p.stdout, p.stdout)


def test_a_user_enrols_a_key_for_themselves_after_their_password():
    cmd = ["setpriv", "--reuid=5001", "--regid=5001", "--clear-groups", LATCHKEYCTL, "--socket",
           W.daemon.pam_socket, "passkey", "add-key", "--device", "unix:" + W.keys["spare"].path,
           "--name", "Spare"]
    wrong = subprocess.run(cmd, input="not-it\n", capture_output=True, text=True, timeout=60)
    expect(wrong.returncode == 1 and "wrong password; nothing was changed" in wrong.stderr, wrong)
    p = subprocess.run(cmd, input=BOB_PW + "\n", capture_output=True, text=True, timeout=60)
    expect(p.returncode == 0 and "Security key enrolled" in p.stdout, p)
    names = [k["name"] for k in W.daemon.ctl("passkey", "list", "bob", json_out=True)["passkeys"]]
    expect(sorted(names) == ["Security key", "Spare"], names)
    # Another user's name is refused on the PAM socket: one enrols only oneself there.
    other = subprocess.run(cmd[:-4] + ["alice"] + cmd[-4:], input=BOB_PW + "\n",
                           capture_output=True, text=True, timeout=60)
    expect(other.returncode == 1 and "only enrol a key for yourself" in other.stderr, other)


def test_the_key_alone_logs_on_when_the_account_allows_passkey_logon():
    W.settings(allow_passkey_logon="yes")
    r = W.pt("alice")
    expect(r[0] == 0, r)
    expect(r.prompts == [], r.prompts)
    expect("Touch your security key." in r[1], r)
    allowed = W.last("auth.allow", "alice")
    expect(allowed["method"] == "hwk", allowed)


def test_without_passkey_logon_the_key_follows_the_password():
    W.settings(allow_passkey_logon="no")
    r = W.pt("alice", {"Password": ALICE_PW})
    expect(r[0] == 0, r)
    expect(r.prompts == ["Password: "], r.prompts)
    expect("Touch your security key." in r[1], r)
    expect(W.last("auth.allow", "alice")["method"] == "pwd+hwk", "pwd+hwk")
    W.settings(allow_passkey_logon="yes")


def test_where_the_stack_turns_keys_off_the_password_is_asked():
    r = W.pt("alice", {"Password": ALICE_PW}, service="nokey")
    expect(r[0] == 0 and r.prompts == ["Password: "], r)


def test_a_key_with_a_pin_asks_for_it_when_mfa_is_required():
    W.settings(mfa_required="yes")
    try:
        r = W.pt("bob", {"PIN for your security key": BOB_PIN})
        expect(r[0] == 0, r)
        expect(r.prompts == ["PIN for your security key: "], r.prompts)
        expect(W.last("auth.allow", "bob")["method"] == "hwk+uv", "hwk+uv")

        # A wrong PIN: said so; the password follows, and with MFA required and the key unable
        # to answer, nothing is left to be the second factor.
        r = W.pt("bob", {"PIN for your security key": "1111", "Password": BOB_PW})
        expect(r[0] != 0 and "Wrong PIN for the security key." in r[2], r)
        expect(r.prompts[-1] == "Password: ", r.prompts)
        expect(W.last("auth.deny", "bob")["reason"] == "security_key_unavailable",
               W.last("auth.deny", "bob"))
    finally:
        W.settings(mfa_required="no")
    # Without MFA required the PIN is not asked; with user verification required by the
    # config it would be, and a wrong one leaves the password alone, as the policy allows.
    r = W.pt("bob")
    expect(r[0] == 0 and r.prompts == [], r)
    expect(W.last("auth.allow", "bob")["method"] == "hwk", "hwk")


def test_no_key_plugged_in_falls_back_to_the_password():
    W.keys["alice"].control("unplug")
    try:
        r = W.pt("alice", {"Password": ALICE_PW})
        expect(r[0] == 0, r)
        expect("No security key was found." in r[2], r)
        expect("Log on with your password instead." in r[1], r)
        expect(W.last("auth.allow", "alice")["method"] == "pwd", "pwd")
    finally:
        W.keys["alice"].control("plug")


def test_a_cloned_key_is_refused_as_a_counter_regression():
    key = W.keys["alice"]
    key.control("clone")  # a copy of the key as it is now
    expect(W.pt("alice")[0] == 0, "the original signs in and its counter moves on")
    key.control("use-clone")
    r = W.pt("alice")
    expect(r[0] != 0 and AUTH_ERR in r[2], r)
    expect("the security key was not accepted" in r[2], r)
    denied = W.last("auth.deny", "alice")
    expect(denied["reason"] == "counter_regression", denied)
    W.daemon.ctl("user", "unlock", "alice")


def sudo(user, uid, service_lines, stdin=""):
    """Runs the real, setuid `sudo -S -k id -un` as `user` (uid) in a private mount namespace
    whose /etc/passwd, /etc/group, /etc/sudoers and /etc/pam.d/sudo are ours, bind-mounted over
    the machine's for this process tree only: nothing outside it sees them, nothing is left."""
    etc = os.path.join(W.base, "sudo-etc")
    os.makedirs(etc, exist_ok=True)
    with open("/etc/passwd") as f:
        passwd = f.read()
    with open("/etc/group") as f:
        group = f.read()
    files = {
        "passwd": passwd + f"{user}:x:{uid}:{uid}::/tmp:/bin/sh\n",
        "group": group + f"{user}:x:{uid}:\n",
        "sudoers": f"Defaults !lecture, !syslog, !fqdn\n{user} ALL=(ALL) ALL\n",
        "pam-sudo": "\n".join(service_lines) + "\n",
    }
    for name, text in files.items():
        path = os.path.join(etc, name)
        with open(path, "w") as f:
            f.write(text)
        os.chmod(path, 0o440 if name == "sudoers" else 0o644)
    script = (f"mount --bind {etc}/passwd /etc/passwd && mount --bind {etc}/group /etc/group && "
              f"mount --bind {etc}/sudoers /etc/sudoers && "
              f"mount --bind {etc}/pam-sudo /etc/pam.d/sudo && "
              f"exec setpriv --reuid={uid} --regid={uid} --clear-groups sudo -S -k id -un")
    return subprocess.run(["unshare", "--mount", "--propagation", "private", "sh", "-c", script],
                          input=stdin, capture_output=True, text=True, timeout=60)


def test_sudo_asks_for_the_security_key():
    sock = f"socket={W.daemon.pam_socket}"
    key = f"fido_helper={HELPER} security_key=unix:{W.keys['alice'].path}"
    stack = [f"auth required {MODULE} {sock} {key}", f"account required {MODULE} {sock}",
             "session required pam_permit.so"]
    r = sudo("alice", 5000, stack)
    # sudo passes PAM_SILENT; the cue to touch the key is shown all the same.
    expect(r.returncode == 0 and sorted(r.stdout.splitlines()) == ["Touch your security key.",
                                                                    "root"], r)
    allowed = W.last("auth.allow", "alice")
    expect(allowed["method"] == "hwk" and allowed["service"] == "sudo", allowed)
    # Without its key, sudo falls back to the password, read by sudo -S from standard input.
    W.keys["alice"].control("unplug")
    try:
        r = sudo("alice", 5000, stack, stdin=ALICE_PW + "\n")
        expect(r.returncode == 0 and "root" in r.stdout.splitlines(), r)
        expect("No security key was found." in r.stderr, r)
        expect(W.last("auth.allow", "alice")["method"] == "pwd", "pwd")
        r = sudo("alice", 5000, stack, stdin="not-it\n")
        expect(r.returncode != 0 and r.stdout.strip() == "", r)
    finally:
        W.keys["alice"].control("plug")
    W.daemon.ctl("user", "unlock", "alice")


def setup():
    global W
    W = World()


if __name__ == "__main__":
    setup()
    try:
        run([
            test_an_administrator_enrols_a_key_with_latchkeyctl,
            test_a_user_enrols_a_key_for_themselves_after_their_password,
            test_the_key_alone_logs_on_when_the_account_allows_passkey_logon,
            test_without_passkey_logon_the_key_follows_the_password,
            test_where_the_stack_turns_keys_off_the_password_is_asked,
            test_a_key_with_a_pin_asks_for_it_when_mfa_is_required,
            test_no_key_plugged_in_falls_back_to_the_password,
            test_sudo_asks_for_the_security_key,
            test_a_cloned_key_is_refused_as_a_counter_regression,
        ])
    finally:
        W.close()
