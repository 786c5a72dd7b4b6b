# SPDX-License-Identifier: Apache-2.0
"""`./dev run` brings up the demo directory idempotently and latchkeyctl administers it."""

import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request

from harness import SOURCE_DIR, ctl, expect, run

BUILD_DIR = os.path.dirname(os.path.dirname(os.environ.get("LATCHKEYCTL", "build/cli/latchkeyctl")))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


OIDC_PORT = free_port()


class DevRun:
    def __init__(self, var):
        self.var = var
        env = dict(os.environ, LATCHKEY_VAR=var, LATCHKEY_SKIP_SETUP="1", LATCHKEY_BUILD_DIR=BUILD_DIR,
                   LATCHKEY_OIDC_LISTEN=f"127.0.0.1:{OIDC_PORT}")
        self.out_path = os.path.join(var, "dev-run.out")
        os.makedirs(var, exist_ok=True)
        self.out = open(self.out_path, "w")
        self.proc = subprocess.Popen([os.path.join(SOURCE_DIR, "dev"), "run"], env=env,
                                     stdout=self.out, stderr=subprocess.STDOUT,
                                     start_new_session=True)

    def text(self):
        with open(self.out_path) as f:
            return f.read()

    def wait_for(self, needle, timeout=30):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if needle in self.text():
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.1)
        raise AssertionError(f"'{needle}' not printed by ./dev run:\n{self.text()}")

    def stop(self):
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGINT)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.out.close()
        return self.proc.returncode


def test_dev_run_brings_up_the_demo_directory_twice():
    var = tempfile.mkdtemp(prefix="latchkey-devrun-")
    admin = os.path.join(var, "run", "admin.sock")
    try:
        first = DevRun(var)
        try:
            first.wait_for("Stop with Ctrl-C.")
            text = first.text()
            expect("alice@web.example.internal" in text and "password:" in text, text)
            issuer = f"http://localhost:{OIDC_PORT}"
            expect(f"{issuer}/.well-known/openid-configuration" in text, text)
            expect(f"Device page    {issuer}/device" in text, text)
            # A stranger at the device page is sent to sign in first, and back to the page.
            with urllib.request.urlopen(f"{issuer}/device", timeout=10) as r:
                expect(r.status == 200 and r.url.endswith("/login?return=device"), r.url)
            with urllib.request.urlopen(f"{issuer}/.well-known/openid-configuration", timeout=10) as r:
                expect(json.load(r)["issuer"] == issuer, "the demo's OIDC provider answers")
            d = ctl(admin, "directory", "show", json_out=True)["directory"]
            expect(d["domain"] == "example.internal" and d["management_account"] == "management", d)
            accounts = {a["name"]: a["kind"] for a in ctl(admin, "account", "list", json_out=True)["accounts"]}
            expect(accounts == {"management": "management", "web": "resource"}, accounts)
            # The host is bound to the resource account: bare names resolve there.
            alice = ctl(admin, "user", "show", "alice", json_out=True)["user"]
            expect(alice["account"] == "web" and alice["has_password"], alice)
            # ./dev ctl reaches the same daemon.
            env = dict(os.environ, LATCHKEY_VAR=var, LATCHKEY_BUILD_DIR=BUILD_DIR)
            p = subprocess.run([os.path.join(SOURCE_DIR, "dev"), "ctl", "user", "list"], env=env,
                               capture_output=True, text=True, timeout=60)
            expect(p.returncode == 0 and "alice" in p.stdout, p)
            ctl(admin, "user", "create", "bob")
        finally:
            expect(first.stop() == 0, "./dev run stops cleanly on Ctrl-C")
        expect(not os.path.exists(admin), "the daemon removed its sockets")
        second = DevRun(var)
        try:
            second.wait_for("Stop with Ctrl-C.")
            users = sorted(u["name"] for u in ctl(admin, "user", "list", json_out=True)["users"])
            expect(users == ["alice", "bob"], users)  # nothing duplicated, nothing lost
        finally:
            second.stop()
    finally:
        shutil.rmtree(var, ignore_errors=True)


if __name__ == "__main__":
    run([test_dev_run_brings_up_the_demo_directory_twice])
