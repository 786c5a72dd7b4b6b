# SPDX-License-Identifier: Apache-2.0
"""The OpenID Connect provider's browser sessions against a real latchkeyd: they are listed
and ended by latchkeyctl, survive a restart of the daemon, end with a password change, and
tell their clients through back-channel logout (a logout token checked with jose against
/jwks); and the pages a person clicks through in Debian's chromium (tests/browser/pages.mjs):
the forced password change and the consent page.

The plain-HTTP helpers are oidc_test.py's: this suite runs its own daemon on the port that
module chose, with the same users."""

import http.server
import json
import os
import subprocess
import tempfile
import threading
import urllib.parse

import oidc_test as o
from harness import Daemon, expect, run

PAGES_SCRIPT = os.path.join(o.BROWSER_DIR, "pages.mjs")
RP_ORIGIN = urllib.parse.urlsplit(o.REDIRECT)._replace(path="", query="").geturl()
D = None


def code_flow(client_id="app", user="alice"):
    """Signs in through the pages and exchanges the code; returns (tokens, session cookie)."""
    params, cookie = o.sign_in(client_id, user)
    code = params["code"]
    r = o.request("POST", "/token", {"grant_type": "authorization_code", "code": code,
                                     "redirect_uri": o.REDIRECT},
                  headers={"Authorization": o.basic(client_id, o.SECRETS[client_id])})
    expect(r.status == 200, r)
    return r.json(), cookie


def refresh(token, client_id="app"):
    return o.request("POST", "/token", {"grant_type": "refresh_token", "refresh_token": token},
                     headers={"Authorization": o.basic(client_id, o.SECRETS[client_id])})


def authorize_with(cookie, client_id="app", **extra):
    q = o.authorize_query(client_id, **extra)
    return o.request("GET", "/authorize?" + urllib.parse.urlencode(q), headers={"Cookie": cookie})


def web_sessions(user=None):
    args = ["session", "list"] + ([user] if user else [])
    return [s for s in D.ctl(*args, json_out=True)["sessions"] if s["kind"] == "web"]


def pages(steps):
    """Runs tests/browser/pages.mjs with `steps`; returns its report."""
    env = dict(os.environ, PAGES_STEPS=json.dumps(steps))
    with tempfile.TemporaryDirectory(prefix="latchkey-pages-") as tmp:
        env["TMPDIR"] = tmp
        p = subprocess.run([o.node(), PAGES_SCRIPT, "--rp-origin", RP_ORIGIN], env=env,
                           cwd=o.BROWSER_DIR, capture_output=True, text=True,
                           timeout=o.RP_TIMEOUT)
    lines = [line for line in p.stdout.splitlines() if line.startswith("{")]
    expect(lines, f"pages.mjs printed no report: {p.returncode}\n{p.stderr[-3000:]}")
    report = json.loads(lines[-1])
    expect(report["ok"], f"pages.mjs failed at step {report.get('failed_step')}: console {report.get('console')} "
           f"{report.get('error')}\npage: {report.get('text')}\n{p.stderr[-2000:]}")
    return report


def sign_in_steps(user, password, query):
    return [{"goto": f"{o.ISSUER}/authorize?" + urllib.parse.urlencode(query)},
            {"fill": "#username", "value": f"{user}@{o.DOMAIN}"},
            {"click": "button[type=submit]"},
            {"fill": "#answer", "value": password},
            {"click": "button[type=submit]"}]


# ---- the cases --------------------------------------------------------------------------

def test_a_browser_session_is_listed_and_ended_by_latchkeyctl():
    tokens, cookie = code_flow()
    listed = web_sessions("alice")
    expect(len(listed) == 1, listed)
    s = listed[0]
    expect(s["service"] == "oidc" and s["user"] == f"alice@{o.DOMAIN}" and s["method"] == "pwd", s)
    expect(s["rhost"] == "127.0.0.1" and s["expires_at"] > s["opened_at"], s)
    table = D.ctl("session", "list").stdout
    expect(s["id"][:8] in table and "oidc" in table, table)

    out = D.ctl("session", "end", "--", s["id"][:8]).stdout  # an id may begin with '-'
    expect("ended 1 session" in out and s["id"] in out, out)
    expect(web_sessions("alice") == [], web_sessions("alice"))
    r = authorize_with(cookie)
    expect(r.status == 303 and r.header("Location").startswith("/login?tx="), r)
    r = refresh(tokens["refresh_token"])
    expect(r.status == 400 and r.json()["error"] == "invalid_grant", r)
    r = o.request("GET", "/userinfo", headers={"Authorization": "Bearer " + tokens["access_token"]})
    expect(r.status == 401, r)
    again = D.ctl("session", "end", "--", s["id"], check=False)
    expect(again.returncode != 0 and "session list" in again.stderr, again)
    audit = D.ctl("audit", "--limit", "20").stdout
    expect(any("session.end" in line and "reason=admin" in line and "kind=web" in line
               for line in audit.splitlines()), audit)


def test_sessions_and_refresh_tokens_survive_a_restart_of_latchkeyd():
    tokens, cookie = code_flow()
    D.stop()
    D.start()
    r = authorize_with(cookie)
    expect(r.status == 302 and "code" in r.location_params(), r)
    r = refresh(tokens["refresh_token"])
    expect(r.status == 200 and r.json()["refresh_token"] != tokens["refresh_token"], r)
    D.ctl("session", "end", "--user", "alice")


def test_a_password_reset_signs_the_user_out_and_leaves_others_signed_in():
    _, alice_cookie = code_flow(user="alice")
    _, bob_cookie = code_flow(user="bob")
    D.ctl("user", "set-password", "alice", "--stdin", input=o.PASSWORDS["alice"] + "-2\n")
    o.PASSWORDS["alice"] += "-2"
    expect(web_sessions("alice") == [], web_sessions("alice"))
    expect(len(web_sessions("bob")) == 1, web_sessions("bob"))
    expect(authorize_with(alice_cookie).status == 303, "alice signs in again")
    expect(authorize_with(bob_cookie).status == 302, "bob is still signed in")
    audit = D.ctl("audit", "--limit", "20").stdout
    expect(any("session.end" in line and "reason=password_change" in line
               for line in audit.splitlines()), audit)
    D.ctl("session", "end", "--user", "bob")


class LogoutCatcher(http.server.BaseHTTPRequestHandler):
    """A relying party's back-channel logout endpoint: keeps each POST's form."""
    received = []
    arrived = threading.Event()

    def do_POST(self):  # noqa: N802 - the http.server name
        length = int(self.headers.get("Content-Length", "0"))
        form = dict(urllib.parse.parse_qsl(self.rfile.read(length).decode()))
        LogoutCatcher.received.append((self.path, self.headers.get("Content-Type"), form))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()
        LogoutCatcher.arrived.set()

    def log_message(self, *args):
        pass


def verify_with_jose(token, audience):
    """The logout token's header and claims, verified by jose against /jwks (Node)."""
    script = ("import { createRemoteJWKSet, jwtVerify } from 'jose';"
              "const jwks = createRemoteJWKSet(new URL(process.env.JWKS));"
              "const { payload, protectedHeader } = await jwtVerify(process.env.TOKEN, jwks,"
              " { issuer: process.env.ISS, audience: process.env.AUD,"
              "   typ: 'logout+jwt' });"
              "console.log(JSON.stringify({ header: protectedHeader, claims: payload }));")
    env = dict(os.environ, JWKS=f"{o.ISSUER}/jwks", TOKEN=token, ISS=o.ISSUER, AUD=audience)
    p = subprocess.run([o.node(), "--input-type=module", "-e", script], env=env,
                       cwd=o.BROWSER_DIR, capture_output=True, text=True, timeout=30)
    expect(p.returncode == 0, f"jose refused the logout token: {p.stderr[-2000:]}")
    return json.loads(p.stdout)


def test_signing_out_sends_a_back_channel_logout_token_that_jose_verifies():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), LogoutCatcher)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        port = server.server_address[1]
        o.add_client("listener", "--backchannel-logout-uri",
                     f"http://127.0.0.1:{port}/backchannel?from=latchkey")
        tokens, cookie = code_flow("listener")
        id_claims = json.loads(o.base64.urlsafe_b64decode(
            tokens["id_token"].split(".")[1] + "==").decode())
        r = o.request("GET", "/logout", headers={"Cookie": cookie})
        expect(r.status == 200, r)
        expect(LogoutCatcher.arrived.wait(10), "no back-channel logout arrived in 10 s")
        path, content_type, form = LogoutCatcher.received[0]
        expect(path == "/backchannel?from=latchkey", path)
        expect(content_type == "application/x-www-form-urlencoded", content_type)
        v = verify_with_jose(form["logout_token"], "listener")
        c = v["claims"]
        expect(c["sid"] == id_claims["sid"] and c["sub"] == id_claims["sub"], (c, id_claims))
        expect("http://schemas.openid.net/event/backchannel-logout" in c["events"], c)
        expect("nonce" not in c and c.get("jti") and c["exp"] > c["iat"], c)
        audit = D.ctl("audit", "--limit", "20").stdout
        expect(any("oidc.backchannel_logout" in line and "result=delivered" in line
                   for line in audit.splitlines()), audit)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def test_a_password_to_change_at_next_logon_is_changed_on_the_pages_in_chromium():
    D.ctl("user", "create", "dave")
    D.ctl("user", "set-password", "dave", "--stdin", "--require-change",
          input="Dave-Temp-Passw0rd!\n")
    query = o.authorize_query("app")
    report = pages(sign_in_steps("dave", "Dave-Temp-Passw0rd!", query) + [
        {"expect": "You are required to change your password now."},
        {"expect": "New password"},
        {"fill": "#answer", "value": "short"},
        {"click": "button[type=submit]"},
        {"expect": "New password"},
        {"fill": "#answer", "value": "Dave-Chosen-Passw0rd!"},
        {"click": "button[type=submit]"},
        {"expect": "Retype new password"},
        {"fill": "#answer", "value": "Dave-Chosen-Passw0rd!"},
        {"click": "button[type=submit]"},
        {"landing": True},
    ])
    back = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(report["landings"][-1]).query))
    expect(back.get("state") == query["state"] and back.get("code"), report["landings"])
    user = D.ctl("user", "show", "dave", json_out=True)
    expect(not user["user"]["require_change"], user)
    o.PASSWORDS["dave"] = "Dave-Chosen-Passw0rd!"
    o.sign_in_for_code("app", "dave")  # the new password is the one now


def test_the_consent_page_in_chromium_allows_and_denies():
    o.add_client("asks", "--consent", "--name", "Asking App")
    query = o.authorize_query("asks")
    report = pages(sign_in_steps("bob", o.PASSWORDS["bob"], query) + [
        {"expect": "Allow access?"},
        {"expect": "Asking App"},
        {"expect": "See your name and user name"},
        {"click": "button[value=allow]"},
        {"landing": True},
    ])
    back = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(report["landings"][-1]).query))
    expect(back.get("code") and back.get("state") == query["state"], report["landings"])

    deny = o.authorize_query("asks", prompt="consent")
    report = pages(sign_in_steps("bob", o.PASSWORDS["bob"], deny) + [
        {"expect": "Allow access?"},
        {"click": "button[value=deny]"},
        {"landing": True},
    ])
    back = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(report["landings"][-1]).query))
    expect(back.get("error") == "access_denied" and back.get("state") == deny["state"], back)


def test_prompt_none_where_consent_is_missing_answers_consent_required():
    _, cookie = code_flow("app", user="erin")
    r = authorize_with(cookie, "asks", prompt="none")
    expect(r.status == 302 and r.location_params().get("error") == "consent_required", r)


if __name__ == "__main__":
    D = Daemon(extra_config=f'[oidc]\nlisten = "127.0.0.1:{o.PORT}"\nrefresh_grace_s = 0\n'
               # Every browser here comes from 127.0.0.1: the throttle of one address would
               # end the suite's sign-ins; hardening_test.py tests it with its defaults.
               '[lockout]\nsource_failures_per_user = 0\nsource_failures = 0\n')
    o.D = D
    try:
        D.start()
        D.ctl("directory", "init", "--domain", "example.internal")
        D.ctl("account", "create", "web")
        o.PASSWORDS["erin"] = "Erin-Passw0rd!"
        for name in ("alice", "bob", "erin"):
            D.ctl("user", "create", name)
            D.ctl("user", "set-password", name, "--stdin", input=o.PASSWORDS[name] + "\n")
        o.add_client("app")
        run([
            test_a_browser_session_is_listed_and_ended_by_latchkeyctl,
            test_sessions_and_refresh_tokens_survive_a_restart_of_latchkeyd,
            test_a_password_reset_signs_the_user_out_and_leaves_others_signed_in,
            test_signing_out_sends_a_back_channel_logout_token_that_jose_verifies,
            test_a_password_to_change_at_next_logon_is_changed_on_the_pages_in_chromium,
            test_the_consent_page_in_chromium_allows_and_denies,
            test_prompt_none_where_consent_is_missing_answers_consent_required,
        ])
    finally:
        D.__exit__(None, None, None)
