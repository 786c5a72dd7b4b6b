# SPDX-License-Identifier: Apache-2.0
"""Shared pieces of the integration tests: a real latchkeyd on a temporary directory, the real
latchkeyctl, raw protocol frames, and a TAP runner (meson reads each case as one test).

Nothing here touches the machine outside its temporary directory, and every process it starts
is stopped when the test ends, passed or failed."""

import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import traceback

import ledger

LATCHKEYD = os.environ.get("LATCHKEYD", "build/daemon/latchkeyd")
LATCHKEYCTL = os.environ.get("LATCHKEYCTL", "build/cli/latchkeyctl")
SOURCE_DIR = os.environ.get("LATCHKEY_SOURCE_DIR", os.getcwd())

# Small Argon2 parameters: these tests check behaviour, not cost.
FAST_ARGON2 = "[password]\nargon2_memory_kib = 8192\nargon2_iterations = 1\n"


class Daemon:
    """latchkeyd on a fresh temporary directory. Use as a context manager."""

    def __init__(self, extra_config="", account="web", env=None, keep_dir=None, unix_config="",
                 storage_config=""):
        self.dir = keep_dir or tempfile.mkdtemp(prefix="latchkey-it-")
        os.chmod(self.dir, 0o755)  # other uids must reach the sockets in refusal tests
        self.run_dir = os.path.join(self.dir, "run")
        self.pam_socket = os.path.join(self.run_dir, "pam.sock")
        self.admin_socket = os.path.join(self.run_dir, "admin.sock")
        self.nss_socket = os.path.join(self.run_dir, "nss.sock")
        self.cache_dir = os.path.join(self.dir, "cache")
        # Lines of the [unix] section (the NSS cache is always this daemon's own).
        self.unix_config = unix_config
        # More lines of the [storage] section (another engine, a shared key file).
        self.storage_config = storage_config
        self.config_path = os.path.join(self.dir, "latchkey.toml")
        self.log_path = os.path.join(self.dir, "latchkeyd.log")
        self.extra_config = extra_config
        self.account = account
        self.env = env
        self.proc = None
        self.write_config()

    def write_config(self, account=None, extra=None):
        if account is not None:
            self.account = account
        if extra is not None:
            self.extra_config = extra
        with open(self.config_path, "w") as f:
            f.write(
                f'[directory]\naccount = "{self.account}"\n'
                f'[storage]\ndatabase = "{self.dir}/lib/latchkey.db"\n{self.storage_config}\n'
                f'[sockets]\npam = "{self.pam_socket}"\nadmin = "{self.admin_socket}"\n'
                f'nss = "{self.nss_socket}"\nadmin_mode = "0666"\n'
                f'[unix]\ncache_dir = "{self.cache_dir}"\n{self.unix_config}\n'
                f"{FAST_ARGON2}{self.extra_config}"
            )

    def start(self, wait=True, extra_args=(), pass_fds=()):
        log = open(self.log_path, "ab")
        env = dict(os.environ)
        env.pop("NOTIFY_SOCKET", None)
        env.update(self.env or {})
        self.proc = subprocess.Popen(
            [*extra_args, LATCHKEYD, "--config", self.config_path],
            stdout=log, stderr=subprocess.STDOUT, env=env, pass_fds=pass_fds,
        )
        log.close()
        if wait:
            self.wait_ready()
        return self

    def wait_ready(self, timeout=10):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"latchkeyd exited with {self.proc.returncode}:\n{self.log()}")
            if os.path.exists(self.admin_socket) and os.path.exists(self.pam_socket):
                try:
                    hello(self.pam_socket)
                    return
                except OSError:
                    pass
            time.sleep(0.05)
        raise AssertionError("latchkeyd did not become ready:\n" + self.log())

    def stop(self, sig=signal.SIGTERM, timeout=10):
        if self.proc and self.proc.poll() is None and sig == signal.SIGTERM:
            self.check_secrets()
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise AssertionError("latchkeyd did not stop on SIGTERM")
        return self.proc.returncode if self.proc else None

    def check_secrets(self):
        """No secret the tests used is in latchkeyd's log or its audit trail (issue 24)."""
        ledger.check(self.log(), "latchkeyd's log")
        if self.proc and self.proc.poll() is None and os.path.exists(self.admin_socket):
            p = ctl(self.admin_socket, "--json", "audit", "--limit", "10000", check=False)
            ledger.check(p.stdout + p.stderr, "the audit trail")

    def log(self):
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def ctl(self, *args, input=None, check=True, user=None, json_out=False):
        return ctl(self.admin_socket, *args, input=input, check=check, user=user,
                   json_out=json_out)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        try:
            self.stop()
            ledger.check(self.log(), "latchkeyd's log")
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)


class CtlError(AssertionError):
    pass


def ctl(socket_path, *args, input=None, check=True, user=None, json_out=False):
    """Runs the real latchkeyctl. `user` runs it as that uid (via setpriv, as root)."""
    if input is not None and "--stdin" in args:
        for line in input.splitlines():
            ledger.note(line, "password")
    cmd = [LATCHKEYCTL, "--socket", socket_path]
    if json_out:
        cmd.append("--json")
    cmd += list(args)
    if user is not None:
        cmd = ["setpriv", f"--reuid={user}", f"--regid={user}", "--clear-groups", *cmd]
    p = subprocess.run(cmd, input=input, capture_output=True, text=True, timeout=60)
    if check and p.returncode != 0:
        raise CtlError(f"{' '.join(args)} -> {p.returncode}\nstdout: {p.stdout}\nstderr: {p.stderr}")
    if json_out and p.returncode == 0:
        out = json.loads(p.stdout)
        ledger.harvest(out)
        return out
    return p


# ---- raw protocol -----------------------------------------------------------------------

def frame(payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + payload


def connect(path, timeout=5):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect(path)
    return s


def read_frame(s):
    header = recv_exact(s, 4)
    if header is None:
        return None
    (n,) = struct.unpack(">I", header)
    body = recv_exact(s, n)
    return json.loads(body) if body is not None else None


def recv_exact(s, n):
    data = b""
    while len(data) < n:
        chunk = s.recv(n - len(data))
        if not chunk:
            return None
        data += chunk
    return data


def call(path, message, timeout=5):
    with connect(path, timeout) as s:
        s.sendall(frame(json.dumps(message).encode()))
        return read_frame(s)


def hello(path):
    reply = call(path, {"type": "hello", "version": 1, "client": "it"})
    if reply is None or reply.get("type") != "hello.reply":
        raise OSError(f"bad hello reply {reply!r}")
    return reply


# ---- TAP --------------------------------------------------------------------------------

def run(tests):
    """Runs test functions in order and prints TAP; exits non-zero if any failed."""
    print(f"1..{len(tests)}", flush=True)
    failed = 0
    for i, t in enumerate(tests, 1):
        name = t.__name__.removeprefix("test_").replace("_", " ")
        start = time.monotonic()
        try:
            t()
            print(f"ok {i} - {name}  # {time.monotonic() - start:.1f}s", flush=True)
        except Exception:  # noqa: BLE001 - every failure becomes a TAP line
            failed += 1
            print(f"not ok {i} - {name}", flush=True)
            for line in traceback.format_exc().splitlines():
                print(f"# {line}", flush=True)
    kinds = sorted(set(ledger.SECRETS.values()))
    print(f"# {len(ledger.SECRETS)} secrets ({', '.join(kinds) or 'none'}) were looked for in "
          "every log these tests produced", flush=True)
    sys.exit(1 if failed else 0)


def expect(cond, message="expectation failed"):
    if not cond:
        raise AssertionError(message)
