# SPDX-License-Identifier: Apache-2.0
"""ssh logons approved with a passkey in a browser, and the OAuth 2.0 device grant, end to end:
a real sshd with the real OpenSSH client (keyboard-interactive, through pam_latchkey.so under
pam_wrapper), the code it shows typed into the provider's /device page in Debian's chromium
(tests/browser/pages.mjs), where alice signs in with a passkey of the DevTools virtual
authenticator and approves or denies. Refused, each with its audited reason: a denial, a code
that expired, a code that another user opened (spent), and a second use of one code. The
device grant is driven by the real openid-client library (initiateDeviceAuthorization and
pollDeviceAuthorizationGrant) while chromium approves.

latchkeyd's clock is a file the test writes (real time plus what a case adds), so that a code
can expire without waiting five minutes. With LATCHKEY_SCREENSHOTS=DIR the runs also take the
pictures of docs/pam.md there."""

import json
import os
import re
import shutil
import subprocess
import tempfile
import threading
import time

import ledger
import oidc_test as o
import oidc_session_test as s
import passkey_test as pk
from harness import Daemon, expect, run
from passkey_test import audit
from pam_env import NssWrapper, Sshd, ssh_start
from pam_test import MODULE

D = None
SSHD = None
CLOCK = None
BASE = None
ALICE = f"alice@{o.DOMAIN}"
CODE = re.compile(r"and enter code  ([B-Z]{4}-[B-Z]{4})")
ENTER = "Press Enter when you have approved"
SPENT = "That code is not waiting for approval"


class Clock:
    """latchkeyd's [testing] clock_file: real time, plus what advance() added, written five
    times a second from a thread."""

    def __init__(self, path):
        self.path = path
        self.offset = 0
        self.stopped = threading.Event()
        self.write()
        self.thread = threading.Thread(target=self.tick, daemon=True)
        self.thread.start()

    def write(self):
        with open(self.path + ".tmp", "w") as f:
            f.write(str(int(time.time()) + self.offset))
        os.replace(self.path + ".tmp", self.path)

    def tick(self):
        while not self.stopped.wait(0.2):
            self.write()

    def advance(self, seconds):
        self.offset += seconds
        self.write()

    def stop(self):
        self.stopped.set()
        self.thread.join()


def settings(mode):
    D.ctl("settings", "set", f"device_approval={mode}")


class Logon:
    """alice's ssh logon, waiting at the approval prompt: its code, the text it showed, and
    enter() for the person who presses Enter once they have been to the page."""

    def __init__(self, answers=None):
        self.flag = tempfile.mktemp(prefix="approved-", dir=BASE)
        self.client = ssh_start(SSHD.port, "alice", "id -u; echo logged-in",
                                {**(answers or {}), ENTER: {"after": self.flag, "answer": ""}})
        deadline = time.monotonic() + 30
        self.prompt = None
        while time.monotonic() < deadline and self.prompt is None:
            self.prompt = next((p for p in self.client.prompts() if ENTER in p), None)
            if self.prompt is None:
                expect(self.client.proc.poll() is None,
                       f"ssh ended before the approval prompt: {self.client.stderr()}\n"
                       f"{self.client.prompts()}\n{SSHD.log()[-3000:]}")
                time.sleep(0.05)
        expect(self.prompt, f"no approval prompt: {self.client.prompts()}")
        self.code = CODE.search(self.prompt).group(1)

    def enter(self):
        """Presses Enter; returns (returncode, stdout, stderr, prompts) of ssh."""
        open(self.flag, "w").close()
        return self.client.wait(60)


def device_page(code, *steps, authenticator="laptop"):
    """Opens /device?code=CODE in a fresh chromium with alice's passkey plugged in: the page
    sends her to sign in, the passkey signs her in, and she is back at the code."""
    return pk.pages([{"authenticator": {"name": authenticator}},
                     {"goto": f"{o.ISSUER}/device?code={code}"},
                     *steps])


def shot(name):
    return pk.shot(name, 480)


# ---- the cases --------------------------------------------------------------------------

def test_alice_adds_a_passkey_on_her_account_page():
    pk.pages([
        *pk.account_page_with_password(),
        {"authenticator": {"name": "laptop", "transport": "internal", "uv": True}},
        {"fill": "#passkey-name", "value": "Laptop"},
        {"click": "#add-passkey-button"},
        {"expect": "Passkey added."},
    ])
    pk.laptop_credential()


def test_an_ssh_logon_is_approved_with_a_passkey_in_chromium():
    settings("instead_of_password")
    logon = Logon()
    host = os.uname().nodename
    lines = logon.prompt.splitlines()
    expect(lines[0].endswith(f"To sign in to {host} as alice, open"), lines)
    expect(lines[1] == f"  {o.ISSUER}/device   and enter code  {logon.code}", lines)
    expect(lines[2] == "or scan:" and any("\u2580" in line or "\u2584" in line for line in lines),
           "the QR code of the page with the code follows")
    expect(lines[-1] == f"{ENTER}.", lines)
    device_page(logon.code,
                {"expect": f"Sign in to {host}?"},
                {"expect": "127.0.0.1"},
                {"expect": logon.code},
                {"expect": "sshd"},
                *shot("device-approve.png"),
                {"click": "button[value=approve]"},
                {"expect": "Approved"},
                *shot("device-approved.png"))
    rc, out, err, prompts = logon.enter()
    expect(rc == 0 and "5000" in out and "logged-in" in out, (rc, out, err, SSHD.log()[-3000:]))
    expect(not any("Password" in p for p in prompts), ("no password was asked", prompts))
    allowed = audit("auth.allow", user="alice", method="device_approval", service="sshd",
                    rhost="127.0.0.1")
    expect(allowed and allowed[0]["approved_by_session"] and
           allowed[0]["approver_method"] == "hwk+uv", allowed)
    approved = audit("device.approve", user_code=logon.code, **{"for": "host_logon"})
    expect(approved and approved[0]["session"] == allowed[0]["approved_by_session"], approved)
    if pk.SHOTS:  # the terminal and the audit, for docs/pam.md
        with open(os.path.join(pk.SHOTS, "ssh-device-approval.txt"), "w") as f:
            f.write(logon.prompt + "\n\n" + D.ctl("audit", "--limit", "6").stdout)
    test_an_ssh_logon_is_approved_with_a_passkey_in_chromium.code = logon.code


def test_a_used_code_is_spent():
    code = test_an_ssh_logon_is_approved_with_a_passkey_in_chromium.code
    device_page(code, {"expect": SPENT})


def test_after_password_asks_the_password_then_the_approval():
    settings("after_password")
    logon = Logon({"Password": o.PASSWORDS["alice"]})
    expect(any(p.endswith("Password: ") for p in logon.client.prompts()), logon.client.prompts())
    device_page(logon.code, {"click": "button[value=approve]"}, {"expect": "Approved"})
    rc, out, err, _ = logon.enter()
    expect(rc == 0 and "logged-in" in out, (rc, out, err))
    expect(audit("auth.allow", user="alice", method="pwd+device_approval"), "audited")


def test_a_denial_refuses_the_logon():
    settings("instead_of_password")
    logon = Logon()
    device_page(logon.code, {"click": "button[value=deny]"}, {"expect": "Denied"})
    rc, out, err, _ = logon.enter()
    expect(rc == 255 and "Permission denied" in err and "logged-in" not in out, (rc, out, err))
    expect(audit("auth.deny", user="alice", reason="approval_denied"), "audited")
    expect(audit("device.deny", user_code=logon.code), "the page's decision is audited")


def test_a_code_another_user_opens_is_spent():
    logon = Logon()
    pk.pages([{"goto": f"{o.ISSUER}/device?code={logon.code}"},
              {"fill": "#username", "value": f"bob@{o.DOMAIN}"},
              {"click": "button[type=submit]"},
              {"fill": "#answer", "value": o.PASSWORDS["bob"]},
              {"click": "button[type=submit]"},
              {"expect": "Not your sign-in"}])
    # alice comes too late: the code no longer works for anyone.
    device_page(logon.code, {"expect": SPENT})
    rc, out, err, _ = logon.enter()
    expect(rc == 255 and "logged-in" not in out, (rc, out, err))
    expect(audit("device.deny", reason="another_users_logon", user=f"bob@{o.DOMAIN}"), "audited")
    expect(audit("auth.deny", user="alice", reason="approval_denied"), "audited")


def test_an_expired_code_refuses_the_logon():
    logon = Logon()
    CLOCK.advance(301)
    device_page(logon.code, {"expect": SPENT})
    rc, out, err, _ = logon.enter()
    expect(rc == 255 and "logged-in" not in out, (rc, out, err))
    expect(audit("auth.deny", user="alice", reason="approval_expired"), "audited")


DEVICE_GRANT_SCRIPT = r"""
import * as client from 'openid-client';
const env = process.env;
const config = await client.discovery(new URL(env.ISSUER), env.CLIENT_ID,
    { client_secret: env.CLIENT_SECRET }, client.ClientSecretBasic(env.CLIENT_SECRET),
    { execute: [client.allowInsecureRequests] });
const started = await client.initiateDeviceAuthorization(config, { scope: 'openid profile' });
console.log(JSON.stringify({ started }));
try {
    const tokens = await client.pollDeviceAuthorizationGrant(config, started);
    console.log(JSON.stringify({ claims: tokens.claims(), scope: tokens.scope,
                                 access_token: tokens.access_token }));
} catch (e) {
    console.log(JSON.stringify({ error: e.error || String(e) }));
}
"""


def device_grant(decision):
    """openid-client asks for a device code and polls while chromium decides; returns its
    last report and the code it was given."""
    env = dict(os.environ, ISSUER=o.ISSUER, CLIENT_ID="cli", CLIENT_SECRET=o.SECRETS["cli"])
    proc = subprocess.Popen([o.node(), "--input-type=module", "-e", DEVICE_GRANT_SCRIPT],
                            cwd=o.BROWSER_DIR, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        first = json.loads(proc.stdout.readline() or "{}")
        if "started" not in first:
            proc.kill()
            raise AssertionError(f"no device authorization: {proc.communicate()[1][-2000:]}")
        started = first["started"]
        expect(started["verification_uri"] == f"{o.ISSUER}/device" and
               started["verification_uri_complete"] ==
               f"{o.ISSUER}/device?code={started['user_code']}" and
               started["interval"] == 5, started)
        pk.pages([{"authenticator": {"name": "laptop"}},
                  {"goto": started["verification_uri_complete"]},
                  {"expect": "Allow CLI Tool to sign in as you?"},
                  {"expect": "openid profile"},
                  *shot("device-grant.png"),
                  {"click": f"button[value={decision}]"}])
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    lines = [line for line in out.splitlines() if line.startswith("{")]
    expect(lines, (out, err))
    report = json.loads(lines[-1])
    if "access_token" in report:
        ledger.note(report["access_token"], "access token")
    return report, started["user_code"]


def test_openid_client_signs_in_with_the_device_grant_approved_in_chromium():
    report, code = device_grant("approve")
    expect("claims" in report, report)
    alice_id = D.ctl("user", "show", "alice", json_out=True)["user"]["id"]
    expect(report["claims"]["sub"] == alice_id and report["claims"]["aud"] == "cli" and
           report["claims"]["iss"] == o.ISSUER, report["claims"])
    expect(audit("device.approve", user_code=code, **{"for": "client cli"}), "audited")


def test_openid_client_hears_access_denied_when_the_grant_is_denied():
    report, _ = device_grant("deny")
    expect(report.get("error") == "access_denied", report)


if __name__ == "__main__":
    BASE = tempfile.mkdtemp(prefix="latchkey-device-")
    os.chmod(BASE, 0o755)
    clock_path = os.path.join(BASE, "clock")
    CLOCK = Clock(clock_path)
    nss = NssWrapper(BASE, users={"root": 0, "alice": 5000, "bob": 5001})
    D = Daemon(extra_config=f'[oidc]\nlisten = "127.0.0.1:{o.PORT}"\n'
               f'[testing]\nclock_file = "{clock_path}"\n'
               # Every browser here comes from 127.0.0.1: no throttle of the one address.
               '[lockout]\nsource_failures_per_user = 0\nsource_failures = 0\n',
               env=nss.env())
    o.D = s.D = pk.D = D
    try:
        D.start()
        D.ctl("directory", "init", "--domain", "example.internal")
        D.ctl("account", "create", "web")
        for name in ("alice", "bob"):
            D.ctl("user", "create", name)
            D.ctl("user", "set-password", name, "--stdin", input=o.PASSWORDS[name] + "\n")
        o.add_client("cli", "--name", "CLI Tool")
        sock = f"socket={D.pam_socket}"
        SSHD = Sshd(BASE, [f"auth required {MODULE} {sock}",
                           f"account required {MODULE} {sock}",
                           f"session required {MODULE} {sock}"], nss)
        SSHD.start()
        run([
            test_alice_adds_a_passkey_on_her_account_page,
            test_an_ssh_logon_is_approved_with_a_passkey_in_chromium,
            test_a_used_code_is_spent,
            test_after_password_asks_the_password_then_the_approval,
            test_a_denial_refuses_the_logon,
            test_a_code_another_user_opens_is_spent,
            test_an_expired_code_refuses_the_logon,
            test_openid_client_signs_in_with_the_device_grant_approved_in_chromium,
            test_openid_client_hears_access_denied_when_the_grant_is_denied,
        ])
    finally:
        if SSHD is not None:
            SSHD.stop()
        D.__exit__(None, None, None)
        CLOCK.stop()
        shutil.rmtree(BASE, ignore_errors=True)
