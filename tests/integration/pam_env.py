# SPDX-License-Identifier: Apache-2.0
"""Machinery for PAM integration tests: a real PAM stack (pam_wrapper), fake users (nss_wrapper),
pamtester driven prompt by prompt, and a real OpenSSH server and client.

Nothing here changes the machine for good: no file under /etc is written, no user is created,
every process started is stopped again, and /run/sshd (which sshd's privilege separation needs)
is created only when missing and then removed again by whoever stops the last sshd. Paths of
the tools can be overridden with environment variables (see the constants below).

How the wrappers work (as found out for pam_wrapper 1.1.4, nss_wrapper 1.1.12, Linux-PAM 1.5.2,
OpenSSH 9.2 on Debian 12):

* pam_wrapper is enabled by LD_PRELOAD=libpam_wrapper.so, PAM_WRAPPER=1 and a non-empty
  PAM_WRAPPER_SERVICE_DIR. When the library is loaded (its constructor, i.e. in *every* process
  started with that environment) it creates /tmp/pam.X (one letter or digit), writes its pid
  there, copies the service files of PAM_WRAPPER_SERVICE_DIR into it and calls the real
  libpam's pam_start_confdir() with that directory. So:
    - service files are read when the *process starts*: a file written later is seen only by
      processes started later (sshd re-executes itself per connection, so each connection sees
      the files as they were when it came in);
    - module paths are resolved by the real libpam: a bare name ("pam_permit.so") means
      /lib/x86_64-linux-gnu/security/, an absolute path is used as is (both work);
    - a service with no file falls back to the file "other"; PamWrapper writes an "other"
      that denies, which also silences pam_wrapper's "no default config other" error;
    - a module type with no lines in the service fails (acct_mgmt -> "Permission denied");
    - the /tmp/pam.X directory is removed by the library's destructor, i.e. only when the
      process exits normally. A killed process leaves it behind (pam_wrapper itself removes
      such stale directories lazily); cleanup_stale_pam_wrapper_dirs() removes the ones whose
      pid is dead, and Sshd.stop() and PamWrapper.cleanup() call it;
    - PAM_WRAPPER_DEBUGLEVEL is not needed. Unset, errors of pam_wrapper and pam_syslog()
      calls of modules at LOG_ERR and above are printed on the process's stderr as
      "PWRAP_ERROR[<unknown> (pid)] - SYSLOG(3): <message>"; 1 adds warnings, 2 adds
      LOG_NOTICE..LOG_DEBUG of modules and 3 traces pam_wrapper itself. PAM_WRAPPER_KEEP_DIR=1
      only keeps the /tmp/pam.X copies (for debugging pam_wrapper) and must not be set here;
    - pam_matrix's "verbose" option crashes pamtester (it passes a NULL response array for its
      info/error messages and libpam_misc writes through it): do not use it.
* nss_wrapper is enabled by LD_PRELOAD=libnss_wrapper.so and both NSS_WRAPPER_PASSWD and
  NSS_WRAPPER_GROUP. It then answers passwd/group lookups from those files only, which is why
  root, sshd (privilege separation user, with its real uid) and nobody are in them too.
"""

import array
import fcntl
import grp
import hashlib
import json
import os
import pty
import pwd
import select
import shutil
import signal
import socket
import subprocess
import sys
import termios
import tempfile
import time
import uuid

import ledger

LIBPAM_WRAPPER = os.environ.get("LIBPAM_WRAPPER", "/usr/lib/x86_64-linux-gnu/libpam_wrapper.so")
LIBNSS_WRAPPER = os.environ.get("LIBNSS_WRAPPER", "/usr/lib/x86_64-linux-gnu/libnss_wrapper.so")
PAM_WRAPPER_MODULES = os.environ.get("PAM_WRAPPER_MODULES",
                                     "/usr/lib/x86_64-linux-gnu/pam_wrapper")
PAM_MATRIX = os.path.join(PAM_WRAPPER_MODULES, "pam_matrix.so")
PAM_CHATTY = os.path.join(PAM_WRAPPER_MODULES, "pam_chatty.so")
PAM_MODULE_DIR = os.environ.get("PAM_MODULE_DIR", "/lib/x86_64-linux-gnu/security")
PAMTESTER = os.environ.get("PAMTESTER", "/usr/bin/pamtester")
SETPRIV = os.environ.get("SETPRIV", "/usr/bin/setpriv")
ENV_BIN = os.environ.get("ENV_BIN", "/usr/bin/env")
SSHD = os.environ.get("SSHD", "/usr/sbin/sshd")
SSH = os.environ.get("SSH", "/usr/bin/ssh")
SSH_KEYGEN = os.environ.get("SSH_KEYGEN", "/usr/bin/ssh-keygen")
SSHD_PRIVSEP_DIR = os.environ.get("SSHD_PRIVSEP_DIR", "/run/sshd")
PYTHON = sys.executable or "/usr/bin/python3"

# A minimal, predictable environment for everything started here.
BASE_ENV = {
    "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "LANG": "C.UTF-8",
    "LC_ALL": "C.UTF-8",
}

SSHD_MARKER_VAR = "LATCHKEY_IT_SSHD"


def merge_env(*envs):
    """Merges env dicts; LD_PRELOAD values are joined (":") instead of overwritten."""
    out = {}
    for env in envs:
        for key, value in (env or {}).items():
            if key == "LD_PRELOAD" and out.get(key):
                libs = out[key].split(":")
                for lib in value.split(":"):
                    if lib and lib not in libs:
                        libs.append(lib)
                out[key] = ":".join(libs)
            else:
                out[key] = value
    return out


def _write(path, text, mode=0o644):
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, mode)


# ---- nss_wrapper ------------------------------------------------------------------------

class NssWrapper:
    """passwd/group files for nss_wrapper. `users`: {name: uid} (or {name: (uid, gid)});
    default alice 5000, bob 5001, root 0. Each user gets its own group (gid = uid unless given),
    a home directory inside `dir` owned by it, and /bin/sh. The system users sshd and nobody
    (and their groups) are added with their real ids so sshd finds its privilege separation
    user. `env()` gives LD_PRELOAD, NSS_WRAPPER_PASSWD and NSS_WRAPPER_GROUP."""

    DEFAULT_USERS = {"alice": 5000, "bob": 5001, "root": 0}
    SYSTEM_USERS = ("sshd", "nobody")

    def __init__(self, dir, users=None, shell="/bin/sh", system_users=SYSTEM_USERS):
        self.dir = os.path.join(dir, "nss")
        os.makedirs(self.dir, exist_ok=True)
        os.chmod(dir, 0o755)
        os.chmod(self.dir, 0o755)
        self.passwd_path = os.path.join(self.dir, "passwd")
        self.group_path = os.path.join(self.dir, "group")
        self.users = {}   # name -> (uid, gid, home, shell)
        self.groups = {}  # name -> (gid, [members])
        for name, ids in (self.DEFAULT_USERS if users is None else users).items():
            uid, gid = ids if isinstance(ids, tuple) else (ids, ids)
            self.add_user(name, uid, gid, shell=shell, write=False)
        for name in system_users:
            self._add_system_user(name)
        self.write()

    def _add_system_user(self, name):
        if name in self.users:
            return
        try:
            pw = pwd.getpwnam(name)
        except KeyError:
            return
        self.users[name] = (pw.pw_uid, pw.pw_gid, pw.pw_dir, pw.pw_shell)
        try:
            gname = grp.getgrgid(pw.pw_gid).gr_name
        except KeyError:
            gname = name
        if not any(g[0] == pw.pw_gid for g in self.groups.values()):
            self.groups[gname] = (pw.pw_gid, [])

    def add_user(self, name, uid, gid=None, home=None, shell="/bin/sh", write=True):
        gid = uid if gid is None else gid
        if home is None:
            home = "/root" if uid == 0 else os.path.join(self.dir, "home", name)
            if uid != 0:
                os.makedirs(home, exist_ok=True)
                os.chown(home, uid, gid)
                os.chmod(home, 0o755)
        self.users[name] = (uid, gid, home, shell)
        if not any(g[0] == gid for g in self.groups.values()):
            self.groups[name] = (gid, [])
        if write:
            self.write()

    def home(self, name):
        return self.users[name][2]

    def uid(self, name):
        return self.users[name][0]

    def write(self):
        _write(self.passwd_path, "".join(
            f"{n}:x:{u}:{g}:{n}:{h}:{s}\n" for n, (u, g, h, s) in self.users.items()))
        _write(self.group_path, "".join(
            f"{n}:x:{g}:{','.join(m)}\n" for n, (g, m) in self.groups.items()))

    def env(self):
        return {"LD_PRELOAD": LIBNSS_WRAPPER, "NSS_WRAPPER_PASSWD": self.passwd_path,
                "NSS_WRAPPER_GROUP": self.group_path}


# ---- pam_wrapper ------------------------------------------------------------------------

class PamWrapper:
    """A private PAM service directory for pam_wrapper. `service(name, lines)` writes a
    service file (lines: list of strings or one string); `passdb(entries)` writes a pam_matrix
    password file ({user: password} plus service, or [(user, password, service)]) and returns
    its path.
    `env()` gives LD_PRELOAD, PAM_WRAPPER=1 and PAM_WRAPPER_SERVICE_DIR; `debuglevel` sets
    PAM_WRAPPER_DEBUGLEVEL (see the module docstring)."""

    def __init__(self, dir, debuglevel=None, other=("auth required pam_deny.so",
                                                    "account required pam_deny.so",
                                                    "password required pam_deny.so",
                                                    "session required pam_deny.so")):
        self.dir = os.path.join(dir, "pam.d")
        os.makedirs(self.dir, exist_ok=True)
        os.chmod(dir, 0o755)
        os.chmod(self.dir, 0o755)  # pam_wrapper copies it in every process, also other uids
        self.debuglevel = debuglevel
        if other is not None:
            self.service("other", other)

    def service(self, name, lines):
        if isinstance(lines, str):
            lines = lines.splitlines()
        path = os.path.join(self.dir, name)
        _write(path, "".join(line.rstrip("\n") + "\n" for line in lines))
        return path

    def passdb(self, entries, service="", name="passdb"):
        """pam_matrix's "user:password:service" file. pam_matrix's account module accepts a
        user only for that service (auth ignores it)."""
        if isinstance(entries, dict):
            entries = [(u, p, service) for u, p in entries.items()]
        path = os.path.join(os.path.dirname(self.dir), name)
        _write(path, "".join(f"{u}:{p}:{s}\n" for u, p, s in entries))
        return path

    def env(self):
        env = {"LD_PRELOAD": LIBPAM_WRAPPER, "PAM_WRAPPER": "1",
               "PAM_WRAPPER_SERVICE_DIR": self.dir}
        if self.debuglevel is not None:
            env["PAM_WRAPPER_DEBUGLEVEL"] = str(self.debuglevel)
        return env

    def cleanup(self):
        cleanup_stale_pam_wrapper_dirs()


def pam_wrapper_dirs():
    """{path: pid or None} of pam_wrapper's /tmp/pam.X directories."""
    out = {}
    try:
        names = os.listdir("/tmp")
    except OSError:
        return out
    for name in names:
        if len(name) == 5 and name.startswith("pam.") and name[4].isalnum():
            path = os.path.join("/tmp", name)
            try:
                with open(os.path.join(path, "pid")) as f:
                    out[path] = int(f.read().strip() or 0) or None
            except (OSError, ValueError):
                out[path] = None
    return out


def _pid_alive(pid):
    """True if the process exists and is not a zombie."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    return not _is_zombie(pid)


def cleanup_stale_pam_wrapper_dirs():
    """Removes /tmp/pam.X directories whose owner process is gone (what pam_wrapper does
    lazily itself). Directories without a pid file are left alone: they may be being set up."""
    removed = []
    for path, pid in pam_wrapper_dirs().items():
        if pid is not None and not _pid_alive(pid):
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    return removed


# ---- pamtester --------------------------------------------------------------------------

class PamResult(tuple):
    """(returncode, stdout, stderr), plus .prompts (prompt texts in order) and .transcript
    (list of (kind, text) in arrival order, kind in "out", "err", "prompt", "answer", "eof")."""

    def __new__(cls, returncode, stdout, stderr, prompts, transcript):
        self = super().__new__(cls, (returncode, stdout, stderr))
        self.returncode, self.stdout, self.stderr = returncode, stdout, stderr
        self.prompts = prompts
        self.transcript = transcript
        return self

    def __repr__(self):
        return (f"PamResult(rc={self.returncode}, prompts={self.prompts!r},\n"
                f"stdout={self.stdout!r},\nstderr={self.stderr!r})")


class PamTimeout(AssertionError):
    pass


def _blocked_reading_stdin(pid):
    """True if the process sleeps in read(0, ...) (x86_64: syscall 0 with fd 0), None if that
    cannot be seen. Needs ptrace-read access to the process (root has it, also for processes
    of other uids)."""
    try:
        with open(f"/proc/{pid}/syscall") as f:
            fields = f.read().split()
    except FileNotFoundError:
        return False
    except OSError:
        return None
    if not fields or fields[0] == "running":
        return False
    return len(fields) >= 2 and fields[0] == "0" and int(fields[1], 16) == 0


def _pipe_unread(fd):
    buf = array.array("i", [0])
    try:
        fcntl.ioctl(fd, termios.FIONREAD, buf, True)
    except OSError:
        return 0
    return buf[0]


def _answer_for(prompt, answers, used, seen=""):
    """answers: list (one per prompt, in order) or dict {substring: answer or [answers]}. An
    answer may be a callable, called with everything shown so far (for answers that depend on
    it, such as the code for a secret shown during enrolment)."""
    def value_of(a):
        return a(seen) if callable(a) else a

    if isinstance(answers, dict):
        last = prompt.rstrip().splitlines()[-1] if prompt.strip() else prompt
        for text in (last, prompt):
            for key, value in answers.items():
                if key in text:
                    if isinstance(value, (list, tuple)):
                        n = used.get(key, 0)
                        used[key] = n + 1
                        return value_of(value[n]) if n < len(value) else None
                    return value_of(value)
        return None
    n = used.get(None, 0)
    used[None] = n + 1
    return value_of(answers[n]) if n < len(answers) else None


def pamtester(service, user, ops, answers=(), env=None, as_uid=None, timeout=20, as_gid=None,
              items=None):
    """Runs `pamtester -v [-Iitem=value...] service user op...` and answers its prompts.

    ops: pamtester operations: authenticate, acct_mgmt, open_session, close_session, setcred,
    chauthtok (each may carry flags, e.g. "authenticate(PAM_SILENT)").
    answers: a list (the n-th prompt gets the n-th answer) or a dict {substring of the prompt:
    answer, or a list of answers for repeated prompts}. A prompt with no answer left gets EOF
    (stdin is closed), which libpam_misc's conversation turns into PAM_CONV_ERR.
    env: the wrappers' environment (merge_env(nss.env(), pam.env())); it is applied to
    pamtester only (LD_PRELOAD is passed through `env` after setpriv, so setpriv itself is not
    wrapped). as_uid/as_gid: run as that uid/gid via `setpriv --reuid --regid --clear-groups`.
    items: {"rhost": ..., "tty": ..., "ruser": ...} -> -I options.

    Returns PamResult = (returncode, stdout, stderr) with .prompts and .transcript.

    What pamtester (0.1.2, conversation = libpam_misc's misc_conv) prints:
    * stderr: "pamtester: invoking pam_start(SERVICE, USER, ...)", then per operation
      "pamtester: performing operation - authenticate"; a failure as "pamtester: " +
      pam_strerror(), e.g. "pamtester: Authentication failure", "pamtester: Permission denied",
      "pamtester: Failure setting user credentials" (exit status 1, later operations are not
      run). Prompts (PAM_PROMPT_ECHO_OFF/ON) are written to stderr without a newline
      ("Password: "); PAM_ERROR_MSG messages go to stderr followed by "\\n". pam_wrapper's
      messages (module pam_syslog() at LOG_ERR) appear as "PWRAP_ERROR[...] - SYSLOG(3): ...".
    * stdout: PAM_TEXT_INFO messages followed by "\\n", and the success lines
      "pamtester: successfully authenticated", "pamtester: account management done.",
      "pamtester: successfully opened a session", "pamtester: session has successfully been
      closed.", "pamtester: credential info has successfully been set.",
      "pamtester: authentication token altered successfully."  Exit status 0 if all succeed.
    misc_conv does read answers from a pipe, but with one read() per prompt: answers written
    in advance arrive as one "answer" with embedded newlines. So answers are given one at a
    time: a prompt is taken to be pending when pamtester sleeps in read(0) (seen in
    /proc/PID/syscall) and our previous answer has been consumed; the prompt text is what
    stderr got since the previous answer, after its last newline (a multi-line prompt shows
    only its last line in .prompts, the whole text is in .transcript). stdout is a pty so
    that pamtester line-buffers it (info lines keep their place relative to prompts)."""
    cmd = [PAMTESTER, "-v"]
    for key, value in (items or {}).items():
        cmd.append(f"-I{key}={value}")
    cmd += [service, user, *ops]
    env = dict(env or {})
    preload = env.pop("LD_PRELOAD", None)
    full_env = merge_env(BASE_ENV, env)
    if as_uid is not None:
        gid = as_uid if as_gid is None else as_gid
        argv = [SETPRIV, f"--reuid={as_uid}", f"--regid={gid}", "--clear-groups", ENV_BIN]
        if preload:
            argv.append(f"LD_PRELOAD={preload}")
        argv += cmd
    else:
        argv = cmd
        if preload:
            full_env["LD_PRELOAD"] = preload

    master, slave = pty.openpty()
    attrs = termios.tcgetattr(slave)
    attrs[1] &= ~termios.OPOST  # no "\n" -> "\r\n"
    attrs[3] &= ~termios.ECHO
    termios.tcsetattr(slave, termios.TCSANOW, attrs)
    try:
        proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=slave,
                                stderr=subprocess.PIPE, env=full_env, start_new_session=True)
    finally:
        os.close(slave)
    out, err = bytearray(), bytearray()
    transcript, prompts, used = [], [], {}
    since_answer = 0  # offset into err
    stdin_open = True
    streams = {master: ("out", out), proc.stderr.fileno(): ("err", err)}
    for fd in streams:
        os.set_blocking(fd, False)
    deadline = time.monotonic() + timeout

    def drain(wait):
        got = False
        fds = list(streams)
        if not fds:
            if wait:
                time.sleep(wait)
            return False
        ready, _, _ = select.select(fds, [], [], wait)
        for fd in ready:
            kind, buf = streams[fd]
            try:
                data = os.read(fd, 65536)
            except BlockingIOError:
                continue
            except OSError:  # EIO on the pty master once the child closed it
                data = b""
            if not data:
                del streams[fd]
                continue
            buf += data
            transcript.append((kind, data.decode(errors="replace")))
            got = True
        return got

    last_data = time.monotonic()
    try:
        while streams or proc.poll() is None:
            if time.monotonic() > deadline:
                raise PamTimeout(f"pamtester did not finish in {timeout}s; "
                                 f"transcript: {transcript!r}")
            if drain(0.02):
                last_data = time.monotonic()
                continue
            if proc.poll() is not None or not stdin_open:
                continue  # only EOF on stdout/stderr left to see
            waiting = _blocked_reading_stdin(proc.pid)
            if waiting is None:  # /proc/PID/syscall unreadable: fall back to quiet output
                waiting = (time.monotonic() - last_data > 0.3
                           and len(err) > since_answer and not err.endswith(b"\n"))
            if not waiting or _pipe_unread(proc.stdin.fileno()) != 0:
                continue
            time.sleep(0.02)  # the pty pushes stdout asynchronously: let it catch up
            while drain(0):
                pass
            if _blocked_reading_stdin(proc.pid) is False:
                continue
            pending = err[since_answer:].decode(errors="replace")
            prompt = pending.rsplit("\n", 1)[-1]
            prompts.append(prompt)
            transcript.append(("prompt", prompt))
            since_answer = len(err)
            answer = _answer_for(prompt, answers, used,
                                 out.decode(errors="replace") + err.decode(errors="replace"))
            if answer is None:
                transcript.append(("eof", ""))
                proc.stdin.close()
                stdin_open = False
            else:
                transcript.append(("answer", answer))
                proc.stdin.write(answer.encode() + b"\n")
                proc.stdin.flush()
            last_data = time.monotonic()
    except BaseException:
        _kill_group(proc)
        cleanup_stale_pam_wrapper_dirs()  # the killed pamtester's /tmp/pam.X
        raise
    finally:
        os.close(master)
        if stdin_open:
            try:
                proc.stdin.close()
            except OSError:
                pass
        proc.stderr.close()
    rc = proc.wait()
    return PamResult(rc, out.decode(errors="replace"), err.decode(errors="replace"),
                     prompts, transcript)


def _kill_group(proc):
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except OSError:
        pass
    try:
        proc.kill()
    except OSError:
        pass
    proc.wait()


# ---- processes --------------------------------------------------------------------------

def _proc_table():
    """{pid: (ppid, exe or None)} of all processes."""
    table = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        pid = int(name)
        try:
            with open(f"/proc/{pid}/stat") as f:
                stat = f.read()
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        try:
            exe = os.readlink(f"/proc/{pid}/exe")
        except OSError:
            exe = None
        table[pid] = (ppid, exe)
    return table


def _has_marker(pid, marker):
    try:
        with open(f"/proc/{pid}/environ", "rb") as f:
            return marker in f.read().split(b"\0")
    except OSError:
        return False


def _descendants(table, roots):
    children = {}
    for pid, (ppid, _) in table.items():
        children.setdefault(ppid, []).append(pid)
    out, todo = set(), list(roots)
    while todo:
        pid = todo.pop()
        if pid in out:
            continue
        out.add(pid)
        todo.extend(children.get(pid, ()))
    return out


def sshd_processes(marker=None):
    """pids of running sshd processes (by executable); with `marker` (Sshd.marker), the
    processes carrying it in their environment (the sessions' commands) and everything below
    them."""
    table = _proc_table()
    if marker is None:
        return {pid for pid, (_, exe) in table.items() if exe == SSHD}
    roots = {pid for pid in table if _has_marker(pid, marker)}
    return _descendants(table, roots)


# ---- /run/sshd --------------------------------------------------------------------------

_PRIVSEP_MARK = ".created-by-latchkey-it"


class _RunLock:
    """flock on the parent of the privsep dir (/run): serializes creating/removing it between
    test processes without leaving a lock file behind."""

    def __enter__(self):
        self.fd = os.open(os.path.dirname(SSHD_PRIVSEP_DIR) or "/", os.O_RDONLY | os.O_DIRECTORY)
        fcntl.flock(self.fd, fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc):
        fcntl.flock(self.fd, fcntl.LOCK_UN)
        os.close(self.fd)


def ensure_privsep_dir():
    """Creates /run/sshd (root, 0755) if missing, marked as ours. Call under _RunLock."""
    if not os.path.isdir(SSHD_PRIVSEP_DIR):
        os.mkdir(SSHD_PRIVSEP_DIR, 0o755)
        os.chmod(SSHD_PRIVSEP_DIR, 0o755)
        with open(os.path.join(SSHD_PRIVSEP_DIR, _PRIVSEP_MARK), "w"):
            pass


def release_privsep_dir():
    """Removes /run/sshd if a test created it and no sshd runs any more. Call under _RunLock."""
    mark = os.path.join(SSHD_PRIVSEP_DIR, _PRIVSEP_MARK)
    if os.path.exists(mark) and not sshd_processes():
        os.unlink(mark)
        try:
            os.rmdir(SSHD_PRIVSEP_DIR)
        except OSError:
            pass


# ---- sshd -------------------------------------------------------------------------------

# Runs sshd as its child and reaps everything below it: it is a "child subreaper"
# (prctl PR_SET_CHILD_SUBREAPER), so processes orphaned under sshd (a connection's children
# when its monitor exits, a command that outlived its connection) are reparented to it
# instead of init. It exits, with sshd's status, only when it has no child left at all: its
# exit means that nothing sshd started is still there, not even as a zombie. It ignores
# SIGTERM/SIGINT itself (stop() signals the sshd processes) and runs without the wrappers'
# LD_PRELOAD, which it hands to sshd only (argv: preload marker privsep-dir privsep-mark
# sshd-path sshd-argv...). If the test process dies without stop() (SIGKILL, or the SIGTERM of
# meson's timeout, on which Python exits without cleanup), PR_SET_PDEATHSIG wakes it up: it
# kills everything below itself (the subreaper makes that everything sshd started), reaps it,
# removes stale pam_wrapper dirs and /run/sshd (as stop() would) and exits.
REAPER_SCRIPT = r"""
import ctypes, fcntl, os, shutil, signal, sys
libc = ctypes.CDLL(None, use_errno=True)
libc.prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
preload, marker, privsep_dir, mark, sshd, argv = (sys.argv[1], sys.argv[2], sys.argv[3],
                                                  sys.argv[4], sys.argv[5], sys.argv[6:])
orphaned = False

def below_me():
    parent = {}
    for name in os.listdir("/proc"):
        try:
            with open(f"/proc/{name}/stat") as f:
                parent[int(name)] = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            pass
    out, todo = set(), [os.getpid()]
    while todo:
        pid = todo.pop()
        kids = [p for p, pp in parent.items() if pp == pid and p not in out]
        out.update(kids)
        todo.extend(kids)
    return out

def sweep(*_):  # the test process died without stop(): kill everything below us
    global orphaned
    orphaned = True
    for pid in below_me():
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    signal.setitimer(signal.ITIMER_REAL, 0.2)

signal.signal(signal.SIGTERM, signal.SIG_IGN)
signal.signal(signal.SIGINT, signal.SIG_IGN)
signal.signal(signal.SIGUSR1, sweep)
signal.signal(signal.SIGALRM, sweep)
libc.prctl(1, signal.SIGUSR1, 0, 0, 0)  # PR_SET_PDEATHSIG
if os.getppid() == 1:
    sys.exit(1)
env = dict(os.environ)
if preload:
    env["LD_PRELOAD"] = preload
name, _, value = marker.partition("=")
env[name] = value
pid = os.fork()
if pid == 0:
    libc.prctl(1, 0, 0, 0, 0)
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGUSR1, signal.SIGALRM):
        signal.signal(sig, signal.SIG_DFL)
    os.execve(argv[0], argv, env)
status = 1
while True:
    try:
        done, st = os.waitpid(-1, 0)
    except ChildProcessError:
        break
    except InterruptedError:
        continue
    if done == pid:
        status = os.waitstatus_to_exitcode(st)
signal.setitimer(signal.ITIMER_REAL, 0)
if orphaned:  # do what stop() would have done
    for name in os.listdir("/tmp"):
        path = os.path.join("/tmp", name)
        if len(name) == 5 and name.startswith("pam."):
            try:
                with open(os.path.join(path, "pid")) as f:
                    os.kill(int(f.read().strip()), 0)
            except ProcessLookupError:
                shutil.rmtree(path, ignore_errors=True)
            except (OSError, ValueError):
                pass
    fd = os.open(os.path.dirname(privsep_dir) or "/", os.O_RDONLY | os.O_DIRECTORY)
    fcntl.flock(fd, fcntl.LOCK_EX)
    running = False
    for name in os.listdir("/proc"):
        try:
            running = running or os.readlink(f"/proc/{name}/exe") == sshd
        except OSError:
            pass
    if not running and os.path.exists(os.path.join(privsep_dir, mark)):
        os.unlink(os.path.join(privsep_dir, mark))
        try:
            os.rmdir(privsep_dir)
        except OSError:
            pass
    os.close(fd)
sys.exit(status if status >= 0 else 128 - status)
"""


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Sshd:
    """A real OpenSSH server on 127.0.0.1:port with its own host key and sshd_config, PAM from
    a private pam_wrapper service dir (service "sshd" = `pam_service_lines`) and users from
    `nss` (a NssWrapper). Use as a context manager, or start()/stop().

    extra_config: sshd_config lines that override the defaults (written first, as sshd keeps
    the first value of an option); match_config: Match blocks (written last). env: more
    environment for sshd (and so for the PAM modules it loads). pam_debuglevel: see PamWrapper.

    Attributes: port, dir, pam (its PamWrapper: pam.service("sshd", lines) changes the stack
    for later connections), log() (sshd's own log: -e sends it to stderr, LogLevel VERBOSE).

    sshd runs under a small reaper process (REAPER_SCRIPT; self.proc) that is a child
    subreaper: everything sshd starts stays below it even when orphaned (per-connection
    children call setsid(), and sshd does not kill a non-pty session's command when the client
    goes away). processes() is that tree; stop() signals it and returns when the reaper has
    exited, i.e. when every process below sshd is gone and reaped. If the test process dies
    without stop(), the reaper cleans up by itself (PR_SET_PDEATHSIG; so start sshd from the
    main thread: the signal fires when the *thread* that started it ends).

    sshd keeps its environment across its per-connection re-exec (`sshd -R`: it execs itself
    with the same environ) and its privsep/session children are forks, so LD_PRELOAD and the
    wrappers' variables reach every sshd process (it runs as root, so the loader honours
    LD_PRELOAD). The user's command does not get them: sshd builds the session environment
    from scratch. `SetEnv LATCHKEY_IT_SSHD=<token>` puts self.marker into every session's
    environment (sshd_processes(marker) finds commands of this sshd's sessions); the sshd
    processes themselves do not show it in /proc/PID/environ, as sshd's setproctitle()
    overwrites that memory."""

    def __init__(self, dir, pam_service_lines, nss, port=None, extra_config="", env=None,
                 pam_debuglevel=None, match_config=""):
        self.base = dir
        self.dir = tempfile.mkdtemp(prefix="sshd-", dir=dir)  # several may share `dir`
        os.chmod(dir, 0o755)
        os.chmod(self.dir, 0o755)
        self.nss = nss
        self.pam = PamWrapper(self.dir, debuglevel=pam_debuglevel)
        self.pam.service("sshd", pam_service_lines)
        self.fixed_port = port
        self.port = port
        self.extra_config = extra_config
        self.match_config = match_config
        self.extra_env = env or {}
        self.config_path = os.path.join(self.dir, "sshd_config")
        self.pid_path = os.path.join(self.dir, "sshd.pid")
        self.log_path = os.path.join(self.dir, "sshd.log")
        self.host_key = os.path.join(self.dir, "ssh_host_ed25519_key")
        self.token = uuid.uuid4().hex
        self.marker = f"{SSHD_MARKER_VAR}={self.token}".encode()
        self.proc = None
        subprocess.run([SSH_KEYGEN, "-q", "-t", "ed25519", "-N", "", "-C", "latchkey-it",
                        "-f", self.host_key], check=True, capture_output=True, timeout=30)

    def write_config(self):
        # No UsePrivilegeSeparation: OpenSSH >= 7.5 always separates and 9.2 warns
        # "Deprecated option" for it. No pty (PermitTTY no) means no utmp/wtmp/lastlog
        # records, so logins leave no trace in /var/log.
        # sshd_config: the first value of an option wins, and Match blocks run to the end of
        # the file. So extra_config (overrides) goes first and match_config last.
        _write(self.config_path, "\n".join([
            self.extra_config,
            f"ListenAddress 127.0.0.1:{self.port}",
            f"HostKey {self.host_key}",
            f"PidFile {self.pid_path}",
            "UsePAM yes",
            "KbdInteractiveAuthentication yes",
            "PasswordAuthentication no",
            "PubkeyAuthentication no",
            "HostbasedAuthentication no",
            "GSSAPIAuthentication no",
            "KerberosAuthentication no",
            "PermitRootLogin yes",
            "AuthorizedKeysFile none",
            "LogLevel VERBOSE",
            "StrictModes no",
            "UseDNS no",
            "PermitTTY no",
            "PrintMotd no",
            "PrintLastLog no",
            "X11Forwarding no",
            "AllowTcpForwarding no",
            "AllowAgentForwarding no",
            "PermitUserEnvironment no",
            "PermitUserRC no",
            "MaxStartups 50",
            # Marks the user's processes (sshd builds their environment from scratch).
            f"SetEnv {SSHD_MARKER_VAR}={self.token}",
            "LoginGraceTime 60",
            self.match_config,
            "",
        ]), 0o600)

    def env(self):
        return merge_env(BASE_ENV, self.nss.env() if hasattr(self.nss, "env") else self.nss,
                         self.pam.env(), self.extra_env, {SSHD_MARKER_VAR: self.token})

    def start(self, timeout=15):
        """Starts sshd and waits until it listens. On failure everything is cleaned up
        (also /run/sshd) and AssertionError carries sshd's log."""
        try:
            for _ in range(5):
                self.port = self.fixed_port or free_port()
                self.write_config()
                error = None
                with _RunLock():
                    ensure_privsep_dir()
                    t = subprocess.run([SSHD, "-t", "-f", self.config_path], env=self.env(),
                                       capture_output=True, text=True, timeout=30)
                    if t.returncode != 0:
                        error = f"sshd -t failed: {t.stderr}{t.stdout}"
                    else:
                        env = self.env()
                        preload = env.pop("LD_PRELOAD", "")
                        marker = f"{SSHD_MARKER_VAR}={env.pop(SSHD_MARKER_VAR)}"
                        with open(self.log_path, "ab") as log:
                            self.proc = subprocess.Popen(
                                [PYTHON, "-c", REAPER_SCRIPT, preload, marker,
                                 SSHD_PRIVSEP_DIR, _PRIVSEP_MARK, SSHD,
                                 SSHD, "-D", "-e", "-f", self.config_path],
                                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                env=env, start_new_session=True)
                        if self._wait_listening(timeout):
                            return self
                        error = f"sshd did not start:\n{self.log()}"
                self.stop()  # (takes the lock itself)
                if self.fixed_port or "Address already in use" not in error:
                    raise AssertionError(error)
            raise AssertionError(f"sshd found no free port:\n{self.log()}")
        except BaseException:
            self.stop()
            raise

    def _wait_listening(self, timeout):
        want = f"Server listening on 127.0.0.1 port {self.port}."
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if want in self.log():  # logged after listen(): connections are accepted now
                return True
            if self.proc.poll() is not None:
                return False
            time.sleep(0.05)
        return False

    def processes(self):
        """pids of this sshd's processes: the listener, every connection's processes and the
        session commands (also those whose connection is gone)."""
        pids = sshd_processes(self.marker)
        if self.proc and self.proc.poll() is None:
            pids |= _descendants(_proc_table(), {self.proc.pid})
            pids.discard(self.proc.pid)
        return pids

    def stop(self, timeout=10):
        """Stops the listener, every connection's sshd and whatever they started, and returns
        once all of them are gone (reaped, no zombies); removes /run/sshd if a test created
        it and no sshd runs any more. Can be called repeatedly."""
        if self.proc is not None:
            # pid -> start time, so that a reused pid is never signalled.
            known, signalled = {}, {}
            deadline = time.monotonic() + timeout
            sig = signal.SIGTERM
            while self.proc.poll() is None:  # the reaper exits when no process is left
                for pid in self.processes():
                    known.setdefault(pid, _starttime(pid))
                if time.monotonic() > deadline:
                    if sig == signal.SIGKILL:
                        self.proc.kill()  # leaves what is left to init; report it
                        self.proc.wait()
                        left = sorted(p for p, t in known.items() if _starttime(p) == t)
                        raise AssertionError(f"sshd processes survive SIGKILL: {left}")
                    sig, deadline = signal.SIGKILL, time.monotonic() + 5
                for pid, start in known.items():
                    if signalled.get(pid) != sig and _starttime(pid) == start:
                        signalled[pid] = sig
                        try:
                            os.kill(pid, sig)
                        except OSError:
                            pass
                try:
                    self.proc.wait(0.05)
                except subprocess.TimeoutExpired:
                    pass
        cleanup_stale_pam_wrapper_dirs()
        with _RunLock():
            release_privsep_dir()
        ledger.check(self.log(), "sshd's log")

    def log(self):
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def _starttime(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return int(f.read().rsplit(")", 1)[1].split()[19])
    except (OSError, IndexError, ValueError):
        return None


def _is_zombie(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except (OSError, IndexError):
        return False


# ---- ssh client -------------------------------------------------------------------------

ASKPASS_SCRIPT = r'''#!{python}
# SSH_ASKPASS for the integration tests: logs the prompt, answers by matching it.
import json, os, sys
prompt = sys.argv[1] if len(sys.argv) > 1 else ""
with open(os.environ["LATCHKEY_IT_ASKPASS"]) as f:
    cfg = json.load(f)
with open(cfg["log"]) as f:
    seen = [json.loads(line) for line in f if line.strip()]
lines = prompt.rstrip().splitlines()
candidates = [lines[-1], prompt] if lines else [prompt]
key, answer = None, None
for text in candidates:
    for k, value in cfg["answers"]:
        if k in text:
            key = k
            if isinstance(value, list):
                n = sum(1 for s in seen if s.get("key") == k)
                answer = value[n] if n < len(value) else None
            else:
                answer = value
            break
    if key is not None:
        break
with open(cfg["log"], "a") as f:
    f.write(json.dumps({{"prompt": prompt, "key": key, "answered": answer is not None}}) + "\n")
if answer is None:
    sys.exit(1)
if isinstance(answer, dict):
    # {{"after": PATH, "answer": TEXT}}: the person answers once the test has made PATH
    # (approved elsewhere); the prompt is logged before, so that the test can read it.
    import time
    deadline = time.monotonic() + answer.get("timeout", 120)
    while not os.path.exists(answer["after"]) and time.monotonic() < deadline:
        time.sleep(0.05)
    answer = answer["answer"]
sys.stdout.write(answer + "\n")
'''


class SshClient:
    """A running `ssh` (see ssh_start). wait() -> (returncode, stdout, stderr, prompts_seen)."""

    def __init__(self, port, user, command, answers_by_prompt, dir=None, options=()):
        self.dir = tempfile.mkdtemp(prefix="latchkey-ssh-", dir=dir)
        self.own_dir = dir is None
        self.result = None
        self.out_path = os.path.join(self.dir, "stdout")
        self.err_path = os.path.join(self.dir, "stderr")
        self.log_path = os.path.join(self.dir, "prompts.jsonl")
        cfg_path = os.path.join(self.dir, "askpass.json")
        askpass = os.path.join(self.dir, "askpass")
        _write(self.log_path, "", 0o600)
        with open(cfg_path, "w") as f:
            json.dump({"log": self.log_path, "answers": list(answers_by_prompt.items())}, f)
        _write(askpass, ASKPASS_SCRIPT.format(python=PYTHON), 0o700)
        # An own (empty) client config: -F keeps ~/.ssh/config and /etc/ssh/ssh_config out
        # and stops ssh from creating ~/.ssh.
        client_config = os.path.join(self.dir, "ssh_config")
        _write(client_config, "", 0o600)
        env = merge_env(BASE_ENV, {
            "HOME": self.dir, "SSH_ASKPASS": askpass, "SSH_ASKPASS_REQUIRE": "force",
            "DISPLAY": ":latchkey-it", "LATCHKEY_IT_ASKPASS": cfg_path,
        })
        argv = [SSH, "-F", client_config, "-T", "-p", str(port),
                "-o", "PreferredAuthentications=keyboard-interactive",
                "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
                "-o", "GlobalKnownHostsFile=/dev/null", "-o", "CheckHostIP=no",
                "-o", "NumberOfPasswordPrompts=1", "-o", "BatchMode=no",
                "-o", "ConnectTimeout=10", "-o", "ServerAliveInterval=5",
                "-o", "IdentityFile=none", "-o", "IdentitiesOnly=yes",
                "-o", "LogLevel=INFO", *options,
                "-l", user, "127.0.0.1", command]
        self.out = open(self.out_path, "wb")
        self.err = open(self.err_path, "wb")
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=self.out,
                                     stderr=self.err, env=env, start_new_session=True)

    def prompts(self):
        """The prompts the askpass script got so far, in order."""
        if self.result is not None:
            return self.result[3]
        with open(self.log_path) as f:
            return [json.loads(line)["prompt"] for line in f if line.strip()]

    def stdout(self):
        if self.result is not None:
            return self.result[1]
        with open(self.out_path, errors="replace") as f:
            return f.read()

    def stderr(self):
        if self.result is not None:
            return self.result[2]
        with open(self.err_path, errors="replace") as f:
            return f.read()

    def wait_output(self, text, timeout=30):
        """Waits until stdout contains `text` (e.g. the command printed "connected")."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in self.stdout():
                return True
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        raise AssertionError(f"ssh stdout never contained {text!r} (rc={self.proc.poll()}):\n"
                             f"stdout: {self.stdout()}\nstderr: {self.stderr()}\n"
                             f"prompts: {self.prompts()}")

    def wait(self, timeout=30):
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.stop()
            raise AssertionError(f"ssh did not finish in {timeout}s:\nstdout: {self.stdout()}\n"
                                 f"stderr: {self.stderr()}\nprompts: {self.prompts()}")
        return self._result(rc)

    def stop(self):
        """Ends the connection (kills the client) and returns the result."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self._result(self.proc.returncode)

    def _result(self, rc):
        if self.result is None:
            self.out.close()
            self.err.close()
            self.result = (rc, self.stdout(), self.stderr(), self.prompts())
            if self.own_dir:
                shutil.rmtree(self.dir, ignore_errors=True)
        return self.result

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def ssh_start(port, user, command, answers_by_prompt, dir=None, options=()):
    """Starts a real ssh client in the background (keyboard-interactive only, answers through
    an SSH_ASKPASS script that logs each prompt and answers the first key of
    `answers_by_prompt` found in the prompt's last line, else anywhere in it; a value may be a
    list for repeated prompts, and an answer {"after": PATH, "answer": TEXT} is given only once
    PATH exists, as a person who approves elsewhere first). Returns an SshClient."""
    return SshClient(port, user, command, answers_by_prompt, dir=dir, options=options)


def ssh_run(port, user, command, answers_by_prompt, timeout=30, dir=None, options=()):
    """Runs `command` as `user` over ssh; returns (returncode, stdout, stderr, prompts_seen).

    ssh exits with the command's status, or 255 if authentication failed ("USER@127.0.0.1:
    Permission denied (keyboard-interactive)." on stderr) or the connection was cut. stderr
    always starts with "Warning: Permanently added '[127.0.0.1]:PORT' (ED25519) to the list of
    known hosts." (it goes to /dev/null). Each PAM prompt reaches the askpass script as one
    string: ssh (>= 8.x) prefixes "(USER@127.0.0.1) " and sshd puts the PAM_TEXT_INFO and
    PAM_ERROR_MSG messages sent before the prompt in front of it, one per line:
    "(alice@127.0.0.1) Welcome\\nPassword: ". Messages with no prompt after them (e.g. an
    error just before the stack fails) are sent by sshd as keyboard-interactive "instruction"
    text, which ssh prints on stderr. The user's command runs without the wrappers (sshd
    builds its environment), so it sees only numeric ids of nss_wrapper users (`id -u` works,
    `id -un` does not)."""
    return ssh_start(port, user, command, answers_by_prompt, dir=dir,
                     options=options).wait(timeout)


# ---- machine state ----------------------------------------------------------------------

def snapshot(paths=("/etc/passwd", "/etc/group", "/etc/shadow", "/etc/gshadow", "/etc/pam.d",
                    "/etc/ssh", "/etc/security", "/root/.ssh")):
    """{path: (mtime_ns, mode, sha256)} of files (recursively) under `paths`, to prove that
    tests changed nothing."""
    out = {}

    def add(path):
        try:
            st = os.lstat(path)
        except FileNotFoundError:
            out[path] = None
            return
        digest = ""
        if os.path.isfile(path) and not os.path.islink(path):
            with open(path, "rb") as f:
                digest = hashlib.sha256(f.read()).hexdigest()
        out[path] = (st.st_mtime_ns, st.st_mode, digest)

    for top in paths:
        add(top)
        if os.path.isdir(top) and not os.path.islink(top):
            for root, dirs, files in os.walk(top):
                for name in dirs + files:
                    add(os.path.join(root, name))
    return out
