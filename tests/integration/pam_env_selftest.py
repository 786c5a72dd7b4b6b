# SPDX-License-Identifier: Apache-2.0
"""Proves the PAM test machinery (pam_env.py) with stock modules only: pamtester on a
pam_wrapper stack (pam_matrix, pam_permit/pam_deny by absolute path, pam_chatty, pam_exec,
pam_succeed_if), as another uid through setpriv, and a real sshd + ssh login through PAM with
nss_wrapper users. Ends by checking that the machine is as before: /etc unchanged, no sshd of
ours running, /run/sshd as it was, no pam_wrapper directory of ours left in /tmp.

No arguments; tool paths come from the environment (see pam_env.py), defaults are Debian's."""

import os
import pwd
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import expect, run  # noqa: E402
from pam_env import (BASE_ENV, LIBNSS_WRAPPER, LIBPAM_WRAPPER, PAM_CHATTY,  # noqa: E402
                     PAM_MATRIX, PAM_MODULE_DIR, PAMTESTER, SSH, SSHD, SSHD_PRIVSEP_DIR, NssWrapper, PamWrapper, Sshd, merge_env,
                     pam_wrapper_dirs, pamtester, snapshot, ssh_run, ssh_start, sshd_processes)

PERMIT = os.path.join(PAM_MODULE_DIR, "pam_permit.so")
DENY = os.path.join(PAM_MODULE_DIR, "pam_deny.so")

ETC_BEFORE = snapshot()
PRIVSEP_DIR_EXISTED = os.path.isdir(SSHD_PRIVSEP_DIR)
PWRAP_DIRS_BEFORE = set(pam_wrapper_dirs())
OUR_PIDS = set()  # pids of sshd processes seen during the tests
SSHDS = []  # every Sshd started


def started(sshd):
    SSHDS.append(sshd)
    OUR_PIDS.update(sshd.processes())
    return sshd


def exe(pid):
    try:
        return os.readlink(f"/proc/{pid}/exe")
    except OSError:
        return None


def leftovers():
    """Processes of our sshds still there: the reaper of each must have exited (it does so
    only when nothing below it is left) and no session command may carry its marker."""
    out = set()
    for sshd in SSHDS:
        if sshd.proc.poll() is None:
            out |= {sshd.proc.pid} | sshd.processes()
        out |= sshd_processes(sshd.marker)
    return out


class Env:
    """A temp dir with nss_wrapper users and a pam_wrapper service dir."""

    def __enter__(self):
        self.dir = tempfile.mkdtemp(prefix="latchkey-pam-it-")
        self.nss = NssWrapper(self.dir)
        self.pam = PamWrapper(self.dir)
        self.env = merge_env(self.nss.env(), self.pam.env())
        return self

    def __exit__(self, *exc):
        self.pam.cleanup()
        shutil.rmtree(self.dir, ignore_errors=True)


def matrix_stack(passdb):
    return [f"auth required {PAM_MATRIX} passdb={passdb}",
            f"account required {PAM_MATRIX} passdb={passdb}",
            f"password required {PAM_MATRIX} passdb={passdb}",
            f"session required {PERMIT}"]


# ---- nss_wrapper ------------------------------------------------------------------------

def test_nss_wrapper_users():
    with Env() as e:
        env = merge_env(BASE_ENV, e.nss.env())
        p = subprocess.run(["getent", "passwd", "alice", "bob", "root", "sshd", "nobody"],
                           env=env, capture_output=True, text=True, timeout=10)
        expect(p.returncode == 0, f"getent: {p.returncode} {p.stderr}")
        rows = {line.split(":")[0]: line.split(":") for line in p.stdout.splitlines()}
        expect(rows["alice"][2] == "5000" and rows["bob"][2] == "5001" and rows["root"][2] == "0",
               p.stdout)
        expect(rows["alice"][5].startswith(e.dir) and rows["alice"][6] == "/bin/sh", p.stdout)
        expect(os.stat(rows["alice"][5]).st_uid == 5000, "home of alice not owned by her")
        expect(rows["sshd"][2] == str(pwd.getpwnam("sshd").pw_uid), p.stdout)
        g = subprocess.run(["getent", "group", "alice"], env=env, capture_output=True,
                           text=True, timeout=10)
        expect(g.stdout.startswith("alice:x:5000:"), g.stdout)
        custom = NssWrapper(os.path.join(e.dir, "c"), users={"carol": 6000, "dave": (6001, 100)})
        p = subprocess.run(["getent", "passwd", "carol", "dave", "alice"],
                           env=merge_env(BASE_ENV, custom.env()), capture_output=True,
                           text=True, timeout=10)
        expect("carol:x:6000:6000:" in p.stdout and "dave:x:6001:100:" in p.stdout
               and "alice" not in p.stdout, p.stdout)


# ---- pamtester --------------------------------------------------------------------------

def test_pamtester_matrix_password():
    with Env() as e:
        db = e.pam.passdb({"alice": "s3cret"}, service="matrix")
        e.pam.service("matrix", matrix_stack(db))

        r = pamtester("matrix", "alice", ["authenticate", "acct_mgmt"], ["s3cret"], e.env)
        expect(r.returncode == 0, repr(r))
        expect(r.prompts == ["Password: "], repr(r))
        expect("pamtester: successfully authenticated" in r.stdout, repr(r))
        expect("pamtester: account management done." in r.stdout, repr(r))
        rc, out, err = r  # unpacks as (returncode, stdout, stderr)
        expect(rc == 0 and out == r.stdout and err == r.stderr)

        r = pamtester("matrix", "alice", ["authenticate"], ["wrong"], e.env)
        expect(r.returncode == 1 and "pamtester: Authentication failure" in r.stderr, repr(r))
        expect(r.prompts == ["Password: "], repr(r))

        r = pamtester("matrix", "bob", ["authenticate"], {"Password": "s3cret"}, e.env)
        expect(r.returncode == 1 and "Authentication failure" in r.stderr, repr(r))

        # No answer left: stdin is closed, the conversation fails.
        r = pamtester("matrix", "alice", ["authenticate"], [], e.env)
        expect(r.returncode == 1 and r.prompts == ["Password: "], repr(r))
        expect(("eof", "") in r.transcript, repr(r.transcript))


def test_pamtester_several_prompts_in_order():
    with Env() as e:
        db = e.pam.passdb({"alice": "old"}, service="matrix")
        e.pam.service("matrix", matrix_stack(db))
        r = pamtester("matrix", "alice", ["chauthtok"], ["old", "new", "new"], e.env)
        expect(r.returncode == 0, repr(r))
        expect(r.prompts == ["Old password: ", "New Password :", "Verify New Password :"],
               repr(r))
        expect("authentication token altered successfully" in r.stdout, repr(r))
        r = pamtester("matrix", "alice", ["authenticate"], {"Password": "new"}, e.env)
        expect(r.returncode == 0, repr(r))


def test_pamtester_info_and_error_messages():
    with Env() as e:
        db = e.pam.passdb({"alice": "pw"})
        # pam_chatty has no pam_sm_setcred: "optional" keeps setcred from failing.
        e.pam.service("chatty", [f"auth optional {PAM_CHATTY} num_lines=1 info error",
                                 f"auth required {PAM_MATRIX} passdb={db}"])
        r = pamtester("chatty", "alice", ["authenticate"], ["pw"], e.env)
        expect(r.returncode == 0, repr(r))
        expect("Authentication succeeded\n" in r.stdout, "PAM_TEXT_INFO goes to stdout")
        expect("Authentication generated an error\n" in r.stderr, "PAM_ERROR_MSG to stderr")
        kinds = [k for k, _ in r.transcript]
        expect(kinds.index("out") < kinds.index("prompt"), f"info before prompt: {r.transcript}")


def test_pamtester_permit_deny_by_absolute_path():
    with Env() as e:
        e.pam.service("open", [f"{t} required {PERMIT}"
                               for t in ("auth", "account", "password", "session")])
        e.pam.service("closed", [f"auth required {DENY}", f"account required {DENY}"])
        e.pam.service("bare", ["auth required pam_permit.so"])  # module dir of libpam
        r = pamtester("open", "alice", ["authenticate", "acct_mgmt", "open_session",
                                        "close_session"], [], e.env)
        expect(r.returncode == 0 and r.prompts == [], repr(r))
        expect("successfully opened a session" in r.stdout, repr(r))
        r = pamtester("closed", "alice", ["authenticate"], [], e.env)
        expect(r.returncode == 1 and "Authentication failure" in r.stderr, repr(r))
        r = pamtester("closed", "alice", ["acct_mgmt"], [], e.env)
        expect(r.returncode == 1, repr(r))
        r = pamtester("bare", "alice", ["authenticate"], [], e.env)
        expect(r.returncode == 0, repr(r))
        # A service without a file falls back to "other" (written by PamWrapper: deny).
        r = pamtester("nosuchservice", "alice", ["authenticate"], [], e.env)
        expect(r.returncode == 1 and "Authentication failure" in r.stderr, repr(r))
        expect("no default config" not in r.stderr, repr(r))


def test_pamtester_as_uid_65534():
    with Env() as e:
        db = e.pam.passdb({"alice": "pw"}, service="who")
        # pam_exec shows `id -u` (run as the caller) as PAM_TEXT_INFO; pam_succeed_if resolves
        # the user through NSS, i.e. nss_wrapper (alice is 5000 only there).
        e.pam.service("who", ["auth optional pam_exec.so stdout /usr/bin/id -u",
                              f"auth required {PAM_MATRIX} passdb={db}",
                              "account required pam_succeed_if.so uid eq 5000"])
        r = pamtester("who", "alice", ["authenticate", "acct_mgmt"], ["pw"], e.env,
                      as_uid=65534)
        expect(r.returncode == 0, repr(r))
        expect(r.stdout.splitlines()[0] == "65534", repr(r))
        expect(r.prompts == ["Password: "], repr(r))
        r = pamtester("who", "bob", ["acct_mgmt"], [], e.env, as_uid=65534)
        expect(r.returncode == 1, f"bob is 5001, not 5000: {r!r}")
        r = pamtester("who", "alice", ["authenticate"], ["pw"], e.env)
        expect(r.returncode == 0 and r.stdout.splitlines()[0] == "0", repr(r))


# ---- sshd -------------------------------------------------------------------------------

def sshd_stack(db):
    return [f"auth required {PAM_MATRIX} passdb={db}",
            f"account required {PERMIT}",
            f"session required {PERMIT}",
            f"password required {DENY}"]


def test_sshd_login_through_pam():
    with Env() as e, Sshd(e.dir, [], e.nss) as sshd:
        db = sshd.pam.passdb({"alice": "pw-alice", "root": "pw-root"}, service="sshd")
        sshd.pam.service("sshd", sshd_stack(db))
        started(sshd)

        rc, out, err, prompts = ssh_run(sshd.port, "alice", "id -u; echo \"[$LD_PRELOAD]\"",
                                        {"Password": "pw-alice"})
        expect(rc == 0, f"rc={rc} err={err}\n{sshd.log()}")
        expect(out.splitlines() == ["5000", "[]"], f"out={out!r}")
        expect(len(prompts) == 1 and prompts[0].endswith("Password: "), repr(prompts))
        expect("Accepted keyboard-interactive/pam for alice" in sshd.log(), sshd.log())

        rc, out, err, prompts = ssh_run(sshd.port, "alice", "id -u", {"Password": "nope"})
        expect(rc == 255 and "Permission denied" in err and out == "", f"rc={rc} err={err}")
        expect(len(prompts) == 1, repr(prompts))
        expect("Failed keyboard-interactive/pam for alice" in sshd.log(), sshd.log())

        # Service files are read per connection: a changed stack applies to the next login.
        sshd.pam.service("sshd", [f"auth required {DENY}", f"account required {PERMIT}",
                                  f"session required {PERMIT}"])
        rc, out, err, prompts = ssh_run(sshd.port, "alice", "id -u", {"Password": "pw-alice"})
        expect(rc == 255 and prompts == [], f"rc={rc} prompts={prompts} err={err}")


def test_two_prompts_in_one_conversation():
    """Two modules prompting in a row (like password + verification code): pamtester answers
    them in order, ssh answers both within its single keyboard-interactive attempt."""
    with Env() as e:
        check = os.path.join(e.dir, "first-factor")
        with open(check, "w") as f:
            f.write('#!/bin/sh\nread answer\n[ "$answer" = one ]\n')
        os.chmod(check, 0o755)
        db = e.pam.passdb({"alice": "two"}, service="sshd")
        stack = [f"auth required pam_exec.so expose_authtok quiet {check}",
                 f"auth required {PAM_MATRIX} passdb={db}",
                 f"account required {PERMIT}", f"session required {PERMIT}"]
        e.pam.service("sshd", stack)
        r = pamtester("sshd", "alice", ["authenticate"], ["one", "two"], e.env)
        expect(r.returncode == 0 and r.prompts == ["Password: ", "Password: "], repr(r))
        r = pamtester("sshd", "alice", ["authenticate"], ["one", "three"], e.env)
        expect(r.returncode == 1 and len(r.prompts) == 2, repr(r))
        with Sshd(e.dir, stack, e.nss) as sshd:
            started(sshd)
            rc, out, err, prompts = ssh_run(sshd.port, "alice", "id -u",
                                            {"Password": ["one", "two"]})
            expect(rc == 0 and out == "5000\n", f"rc={rc} out={out!r} err={err}")
            expect(prompts == ["(alice@127.0.0.1) Password: "] * 2, repr(prompts))
            rc, out, err, prompts = ssh_run(sshd.port, "alice", "id -u",
                                            {"Password": ["one", "three"]})
            expect(rc == 255 and len(prompts) == 2, f"rc={rc} prompts={prompts} err={err}")


def test_sshd_root_refused_by_pam():
    with Env() as e:
        db = e.pam.passdb({"alice": "pw"}, service="sshd")
        stack = [f"auth required {PAM_MATRIX} passdb={db}",
                 f"account required {PERMIT}", f"session required {PERMIT}"]
        with Sshd(e.dir, stack, e.nss) as sshd:
            started(sshd)
            rc, out, err, prompts = ssh_run(sshd.port, "root", "id -u", {"Password": "pw"})
            expect(rc == 255 and "Permission denied" in err, f"rc={rc} err={err}")
            expect(len(prompts) == 1, repr(prompts))


def test_sshd_background_session_and_stop():
    with Env() as e:
        db = e.pam.passdb({"alice": "pw"}, service="sshd")
        sshd = started(Sshd(e.dir, sshd_stack(db), e.nss).start())
        try:
            client = ssh_start(sshd.port, "alice", "echo connected; exec sleep 120",
                               {"Password": "pw"}, dir=e.dir)
            client.wait_output("connected")
            pids = sshd.processes()
            OUR_PIDS.update(pids)
            uids = set()
            for pid in pids:
                try:
                    with open(f"/proc/{pid}/status") as f:
                        uids |= {int(line.split()[1]) for line in f if line.startswith("Uid:")}
                except OSError:
                    pass
            expect(5000 in uids, f"no process of alice under sshd while connected: {uids}")
            expect(client.proc.poll() is None, "client ended early")
            # A second connection is left open on purpose: stop() must end it too.
            other = ssh_start(sshd.port, "alice", "echo up; exec sleep 120", {"Password": "pw"},
                              dir=e.dir)
            other.wait_output("up")
            OUR_PIDS.update(sshd.processes())
            rc, out, _, prompts = client.stop()
            expect(out == "connected\n" and len(prompts) == 1, f"{rc} {out!r} {prompts}")
            sleep = os.path.realpath(shutil.which("sleep"))
            sleeps = {p for p in sshd.processes() if exe(p) == sleep}
            expect(len(sleeps) == 2, f"both commands found through the marker: {sleeps}")
        finally:
            sshd.stop()
        rc, out, err, _ = other.wait(timeout=15)
        expect(rc != 0 and out == "up\n", f"connection survived sshd.stop(): {rc} {out!r}")
        # The first client went away before stop(): its `sleep` outlived the connection
        # (reparented to init) and must have been found through the marker.
        expect(sshd.proc.poll() is not None and not sshd.processes(), "sshd still there")
        left = sshd_processes(sshd.marker)
        expect(not left, f"processes of this sshd left: {left}")


# ---- the machine ------------------------------------------------------------------------

def test_machine_unchanged():
    expect(SSHDS and not leftovers(), f"processes of our sshds left: {leftovers()}")
    after = snapshot()
    changed = sorted(p for p in set(ETC_BEFORE) | set(after) if ETC_BEFORE.get(p) != after.get(p))
    expect(not changed, f"changed under /etc (or /root/.ssh): {changed}")
    if PRIVSEP_DIR_EXISTED:
        expect(os.path.isdir(SSHD_PRIVSEP_DIR), f"{SSHD_PRIVSEP_DIR} was removed")
    else:
        # Other test processes may run their own sshd right now (it then stays until the last
        # one stops), or be just about to remove the directory: give them a moment.
        deadline = time.monotonic() + 10
        while os.path.isdir(SSHD_PRIVSEP_DIR) and not sshd_processes():
            expect(time.monotonic() < deadline, f"{SSHD_PRIVSEP_DIR} was left behind")
            time.sleep(0.1)
    ours = {path for path, pid in pam_wrapper_dirs().items()
            if path not in PWRAP_DIRS_BEFORE and pid in OUR_PIDS}
    expect(not ours, f"pam_wrapper dirs of our processes left: {ours}")


if __name__ == "__main__":
    # A check that cannot run is a failure, not a skip: it would prove nothing.
    if os.geteuid() != 0:
        print("1..1\nnot ok 1 - needs root (sshd, setpriv); run ./dev test as root")
        sys.exit(1)
    missing = [p for p in (LIBPAM_WRAPPER, LIBNSS_WRAPPER, PAM_MATRIX, PAMTESTER, SSHD, SSH)
               if not os.path.exists(p)]
    if missing:
        print(f"1..1\nnot ok 1 - not installed: {' '.join(missing)} (./dev installs them)")
        sys.exit(1)
    run([
        test_nss_wrapper_users,
        test_pamtester_matrix_password,
        test_pamtester_several_prompts_in_order,
        test_pamtester_info_and_error_messages,
        test_pamtester_permit_deny_by_absolute_path,
        test_pamtester_as_uid_65534,
        test_sshd_login_through_pam,
        test_two_prompts_in_one_conversation,
        test_sshd_root_refused_by_pam,
        test_sshd_background_session_and_stop,
        test_machine_unchanged,
    ])
