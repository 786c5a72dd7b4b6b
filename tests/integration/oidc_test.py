# SPDX-License-Identifier: Apache-2.0
"""The OpenID Connect provider end to end with real clients: openid-client (Node) as the relying
party and Debian's chromium (driven by playwright-core) as the browser, in tests/browser/rp.mjs;
one run per ID-token algorithm, a public client, a TOTP user and a wrong password; the prefilled
portals, single sign-on and forced re-authentication (max_age=0, prompt=login), each refusal
message of the sign-in pages, and access keys with client_credentials. Hostile and edge-case
requests go in by plain urllib, http.client and raw sockets.

The daemon runs on the real clock (the TOTP window is one step either side) with
refresh_grace_s = 0, so a rotated refresh token is dead at once. The npm packages come from
`./dev test` (tests/browser/node_modules); without them the browser cases fail, never skip."""

import base64
import datetime
import hashlib
import http.client
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.parse
import urllib.request

import ledger
from harness import LATCHKEYCTL, Daemon, expect, run

SOURCE_DIR = os.environ.get("LATCHKEY_SOURCE_DIR") or os.path.normpath(
    os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
BROWSER_DIR = os.path.join(SOURCE_DIR, "tests", "browser")
RP_SCRIPT = os.path.join(BROWSER_DIR, "rp.mjs")
RP_TIMEOUT = 60

# Throwaway test fixtures, nobody's real passwords.
# dave is locked out, erin has console logon disabled, frank has the access key.
PASSWORDS = {"alice": "Alice-Passw0rd!", "bob": "Bob-Passw0rd!", "carol": "Carol-Passw0rd!",
             "dave": "Dave-Passw0rd!", "erin": "Erin-Passw0rd!", "frank": "Frank-Passw0rd!"}
DOMAIN = "web.example.internal"
# The engine's refusals (credentials/), word for word. A wrong password, an unknown name, a
# locked user and a closed account all get the first.
WRONG_PASSWORD_MESSAGE = "Authentication failed: wrong user name or password."
CONSOLE_LOGON_OFF_MESSAGE = "Console logon is disabled for this user."
ROOT_ON_RESOURCE_MESSAGE = "root logon is disabled on resource accounts"
ISO_TIME = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


PORT = free_port()
RP_PORT = free_port()  # nothing listens here: the browser's requests to it are read, not served
ISSUER = f"http://localhost:{PORT}"
REDIRECT = f"http://localhost:{RP_PORT}/cb"
POST_LOGOUT = f"http://localhost:{RP_PORT}/bye"

D = None
SECRETS = {}           # client id -> secret
CAROL_KEY = None       # her TOTP key, once enrolled
ACCESS_KEY = {}        # frank's access key: "id" and "secret"
CSP = {"blocks": None}  # whether latchkey's pages' CSP stops chromium (see the strict case)


# ---- the relying party in Node ----------------------------------------------------------

class RpRun:
    def __init__(self, rc, result, stderr):
        self.rc, self.result, self.stderr = rc, result or {}, stderr

    @property
    def ok(self):
        return self.rc == 0 and self.result.get("ok") is True

    def explain(self):
        r = self.result
        if not r:
            return (f"rp.mjs exited with {self.rc} and no result line\n"
                    f"stderr:\n{self.stderr[-3000:]}")
        return (f"rp.mjs exited with {self.rc}: step {r.get('failed_step')!r} failed: "
                f"{r.get('error')}\ndetail: {json.dumps(r.get('detail'), indent=2)}\n"
                f"passed before it: {r.get('passed')}\nstderr:\n{self.stderr[-2000:]}")


def node():
    path = shutil.which("node")
    expect(path is not None, "node is not installed: run ./dev test (it installs nodejs)")
    expect(os.path.isdir(os.path.join(BROWSER_DIR, "node_modules", "openid-client")) and
           os.path.isdir(os.path.join(BROWSER_DIR, "node_modules", "playwright-core")),
           f"{BROWSER_DIR}/node_modules is missing: run ./dev test, which installs the npm "
           "packages of tests/browser/package-lock.json")
    return path


def rp(client_id, user, *, password=None, alg="RS256", public=False, auth_method="post",
       scenario="full", totp_key=None, totp_skew=0, strict=False, note=True, secret=None,
       wrong_passwords=0):
    """Runs tests/browser/rp.mjs once; returns its exit code, JSON result and stderr."""
    args = [node(), RP_SCRIPT, "--issuer", ISSUER, "--client-id", client_id,
            "--redirect-uri", REDIRECT, "--post-logout-uri", POST_LOGOUT,
            "--id-token-alg", alg, "--user", f"{user}@{DOMAIN}", "--scenario", scenario]
    if wrong_passwords:
        args += ["--wrong-passwords", str(wrong_passwords)]
    env = dict(os.environ)
    env["RP_PASSWORD"] = password or PASSWORDS[user]
    if public:
        args.append("--public")
    else:
        args += ["--auth-method", auth_method]
        env["RP_CLIENT_SECRET"] = secret or SECRETS[client_id]
    if totp_key:
        env["RP_TOTP_KEY"] = totp_key
        args += ["--totp-skew", str(totp_skew)]
    if CSP["blocks"] and not strict:
        args.append("--bypass-csp")
    if CSP["blocks"] and not strict and note:
        print("# chromium runs with --bypass-csp here: latchkey's own CSP blocks the redirect "
              "to the client (see the CSP case above)", flush=True)
    # chromium's temporary profile goes under TMPDIR: one directory per run, removed after.
    with tempfile.TemporaryDirectory(prefix="latchkey-rp-") as tmp:
        env["TMPDIR"] = tmp
        proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                env=env, cwd=BROWSER_DIR, start_new_session=True)
        try:
            out, err = proc.communicate(timeout=RP_TIMEOUT)
        except subprocess.TimeoutExpired:
            # playwright closes its browser on SIGTERM; the group kill is the backstop.
            proc.send_signal(signal.SIGTERM)
            try:
                out, err = proc.communicate(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                out, err = proc.communicate()
            raise AssertionError(f"rp.mjs did not finish in {RP_TIMEOUT} s\nstdout: {out}\n"
                                 f"stderr: {err[-3000:]}")
    lines = [line for line in out.splitlines() if line.startswith("{")]
    result = json.loads(lines[-1]) if lines else None
    for key in ("RP_PASSWORD", "RP_CLIENT_SECRET", "RP_TOTP_KEY"):
        ledger.note(env.get(key), key.lower())
    ledger.harvest(result)
    ledger.check(err, "the browser driver's output")
    return RpRun(proc.returncode, result, err)


def expect_full_flow(r, alg, amr=("pwd",)):
    expect(r.ok, r.explain())
    claims = r.result["id_token_claims"]
    expect(r.result["alg"] == alg, r.result)
    for m in amr:
        expect(m in claims["amr"], (m, claims))
    expect(claims["iss"] == ISSUER and claims.get("sid"), claims)
    for check in ("jose verifies the ID token against the JWKS", "userinfo",
                  "refresh token grant rotates the refresh token",
                  "reuse of the rotated refresh token fails (refresh_grace_s = 0)",
                  "the second refresh token fails too: its family is revoked",
                  "the access token of the revoked family is revoked with it",
                  "RP-initiated logout returns to the post-logout URI with the state"):
        expect(check in r.result["passed"], (check, r.result["passed"]))
    return claims


# ---- plain HTTP -------------------------------------------------------------------------

class Reply:
    def __init__(self, status, headers, body):
        self.status, self.headers, self.body = status, headers, body

    def header(self, name):
        return self.headers.get(name.lower())

    def json(self):
        return json.loads(self.body)

    def location_params(self):
        loc = self.header("Location") or ""
        return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(loc).query))

    def __repr__(self):
        return f"HTTP {self.status} {self.headers} {self.body[:400]!r}"


def request(method, path, body=None, headers=None):
    """One request on its own connection; redirects are not followed."""
    c = http.client.HTTPConnection("127.0.0.1", PORT, timeout=10)
    try:
        h = {"Host": f"localhost:{PORT}", **(headers or {})}
        if isinstance(body, dict):
            body = urllib.parse.urlencode(body)
            h.setdefault("Content-Type", "application/x-www-form-urlencoded")
        c.request(method, path, body=body, headers=h)
        r = c.getresponse()
        data = r.read()
        headers = {}
        for k, v in r.getheaders():
            headers.setdefault(k.lower(), v)
        if headers.get("content-type", "").startswith("application/json"):
            try:
                ledger.harvest(json.loads(data))
            except ValueError:
                pass
        return Reply(r.status, headers, data.decode(errors="replace"))
    finally:
        c.close()


def raw(data: bytes, timeout=10):
    """Sends raw bytes and returns what the server answers until it closes or goes quiet."""
    with socket.create_connection(("127.0.0.1", PORT), timeout=timeout) as s:
        s.sendall(data)
        out = b""
        try:
            while chunk := s.recv(65536):
                out += chunk
        except (ConnectionResetError, socket.timeout):
            pass
        return out


def jwks():
    with urllib.request.urlopen(f"{ISSUER}/jwks", timeout=10) as r:
        expect(r.headers["Content-Type"] == "application/jwk-set+json", r.headers)
        return json.load(r)["keys"]


def pkce():
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    return verifier, challenge.rstrip(b"=").decode()


def authorize_query(client_id="app-rs", **extra):
    p = {"client_id": client_id, "redirect_uri": REDIRECT, "response_type": "code",
         "scope": "openid profile offline_access", "state": "st-" + secrets.token_hex(4),
         "nonce": "n-" + secrets.token_hex(4)}
    p.update({k: v for k, v in extra.items() if v is not None})
    return p


def sign_in_for_code(client_id="app-rs", user="alice", challenge=None):
    """The code flow through the pages without a browser (no CSP here); returns the code."""
    return sign_in(client_id, user, challenge)[0]["code"]


def sign_in(client_id="app-rs", user="alice", challenge=None, **extra):
    """As sign_in_for_code; returns the redirect's parameters and the session cookie."""
    q = authorize_query(client_id, code_challenge=challenge,
                        code_challenge_method="S256" if challenge else None, **extra)
    r = request("GET", "/authorize?" + urllib.parse.urlencode(q))
    expect(r.status == 303 and r.header("Location").startswith("/login?tx="), r)
    page = request("GET", r.header("Location"))
    tx = re.search(r'name="tx" value="([^"]+)"', page.body).group(1)
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.body).group(1)
    r = request("POST", "/login", {"tx": tx, "csrf": csrf, "username": f"{user}@{DOMAIN}"})
    expect(r.status == 200 and 'id="answer"' in r.body, r)
    r = request("POST", "/login", {"tx": tx, "csrf": csrf, "answer": PASSWORDS[user]})
    expect(r.status == 303 and r.header("Location").startswith("/authorize/resume"), r)
    cookie = r.header("Set-Cookie").split(";")[0]
    r = request("GET", r.header("Location"), headers={"Cookie": cookie})
    expect(r.status == 302 and r.header("Location").startswith(REDIRECT + "?"), r)
    params = r.location_params()
    expect(params.get("state") == q["state"] and params.get("iss") == ISSUER, params)
    return params, cookie


def basic(client_id, secret):
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


def code_grant(code, verifier):
    r = request("POST", "/token", {"grant_type": "authorization_code", "code": code,
                                   "redirect_uri": REDIRECT, "code_verifier": verifier},
                {"Authorization": basic("app-rs", SECRETS["app-rs"])})
    expect(r.status == 200, r)
    return r.json()


def jwt_parts(token):
    """The header and claims of a JWS, unverified (jose in rp.mjs verifies)."""
    def part(p):
        return json.loads(base64.urlsafe_b64decode(p + "=" * (-len(p) % 4)))
    header, claims, _ = token.split(".")
    return part(header), part(claims)


def user_id(name):
    return D.ctl("user", "show", name, json_out=True)["user"]["id"]


def policy_value(key):
    out = D.ctl("policy", "show").stdout
    return re.search(rf"^{key}:\s+(\d+)", out, re.M).group(1)


def client_credentials(key_id, secret, how="basic"):
    form = {"grant_type": "client_credentials", "scope": "profile"}
    headers = {}
    if how == "basic":
        headers["Authorization"] = basic(key_id, secret)
    else:
        form.update(client_id=key_id, client_secret=secret)
    return request("POST", "/token", form, headers)


def expect_access_key_works(who="frank"):
    """A client_credentials grant with the key: an at+jwt for `who`, good at /userinfo."""
    r = client_credentials(ACCESS_KEY["id"], ACCESS_KEY["secret"])
    expect(r.status == 200, r)
    body = r.json()
    header, claims = jwt_parts(body["access_token"])
    expect(header.get("typ") == "at+jwt" and claims["sub"] == user_id(who) and
           claims["iss"] == ISSUER and claims["client_id"] == ACCESS_KEY["id"], (header, claims))
    info = request("GET", "/userinfo", headers={"Authorization": "Bearer " + body["access_token"]})
    expect(info.status == 200 and info.json()["preferred_username"] == f"{who}@{DOMAIN}", info)


def totp(key, t):
    """The code Debian's oathtool makes for base32 `key` at Unix time `t`."""
    return subprocess.run(["oathtool", "--totp", "-b", key, "-N", f"@{t}"], check=True,
                          capture_output=True, text=True).stdout.strip()


# ---- the cases --------------------------------------------------------------------------

def test_discovery_names_the_issuer_and_what_it_supports():
    with urllib.request.urlopen(f"{ISSUER}/.well-known/openid-configuration", timeout=10) as r:
        d = json.load(r)
    expect(d["issuer"] == ISSUER, d)
    expect(d["token_endpoint"] == f"{ISSUER}/token" and d["jwks_uri"] == f"{ISSUER}/jwks", d)
    expect(d["code_challenge_methods_supported"] == ["S256"], d)
    expect(set(d["id_token_signing_alg_values_supported"]) == {"RS256", "ES256", "EdDSA"}, d)
    expect(d["introspection_endpoint_auth_methods_supported"] and
           "none" not in d["introspection_endpoint_auth_methods_supported"], d)
    keys = jwks()
    expect([k["kty"] for k in keys] == ["RSA"], ("a fresh provider publishes its RS256 key", keys))


def test_the_jwks_publishes_a_key_per_algorithm_once_used():
    """After the ES256 and EdDSA sign-ins: latchkeyd makes a key per algorithm on first use."""
    keys = jwks()
    kinds = {(k["kty"], k.get("crv"), k.get("alg")) for k in keys}
    expect(kinds == {("RSA", None, "RS256"), ("EC", "P-256", "ES256"),
                     ("OKP", "Ed25519", "EdDSA")}, kinds)
    expect(all(k.get("kid") and k.get("use", "sig") == "sig" for k in keys), keys)
    expect(not any(p in k for k in keys for p in ("d", "p", "q", "dp", "dq", "qi")),
           ("no private parts", keys))


def test_chromium_gets_back_to_the_client_under_the_sign_in_pages_own_csp():
    """The RS256 confidential client (client_secret_basic), the browser honouring every header
    latchkey sends. If the pages' Content-Security-Policy stops chromium, the flow is run again
    with the CSP bypassed, to tell that defect apart from the rest; later cases then bypass it
    too, and say so."""
    r = rp("app-rs", "alice", alg="RS256", auth_method="basic", strict=True)
    if r.ok:
        CSP["blocks"] = False
        expect_full_flow(r, "RS256")
        return
    detail = r.result.get("detail") or {}
    if not detail.get("csp_blocked"):
        raise AssertionError(r.explain())
    CSP["blocks"] = True
    page = request("GET", "/login")
    again = rp("app-rs", "alice", alg="RS256", auth_method="basic", note=False)
    rest = ("with the CSP bypassed, the rest of the flow passed: " + ", ".join(
        again.result.get("passed", [])) if again.ok else
        "with the CSP bypassed the flow fails too:\n" + again.explain())
    raise AssertionError(
        "chromium never gets back to the client after signing in: latchkey's pages send\n"
        f"  Content-Security-Policy: {page.header('Content-Security-Policy')}\n"
        "and CSP's form-action also governs the redirects after a form submission, so the\n"
        "chain POST /login -> 303 /authorize/resume -> 302 " + REDIRECT + "?code=... is\n"
        "blocked at its last hop (a cross-origin redirect).\n"
        f"chromium said: {detail.get('csp_violations')}\n"
        f"failed navigations: {detail.get('failed_navigations')}\n" + rest)


def test_the_full_flow_with_an_es256_id_token_and_client_secret_post():
    expect_full_flow(rp("app-es", "alice", alg="ES256", auth_method="post"), "ES256")


def test_the_full_flow_with_an_eddsa_id_token_and_client_secret_post():
    expect_full_flow(rp("app-ed", "alice", alg="EdDSA", auth_method="post"), "EdDSA")


def test_the_full_flow_with_a_public_client_pkce_and_no_secret():
    expect_full_flow(rp("app-public", "alice", public=True), "RS256")


def test_a_totp_user_signs_in_with_password_then_code():
    """carol's device was enrolled with the codes of the previous and the current step, so
    the RP types the next step's code (its clock 30 s ahead, inside the ±1 window)."""
    r = rp("app-rs", "carol", alg="RS256", totp_key=CAROL_KEY, totp_skew=30)
    claims = expect_full_flow(r, "RS256", amr=("pwd", "otp"))
    expect(claims.get("acr") == "urn:latchkey:acr:mfa", claims)


def test_a_wrong_password_is_refused_with_a_message_and_a_retry_works():
    r = rp("app-rs", "bob", scenario="wrong-password")
    expect(r.ok, r.explain())
    expect(r.result["wrong_password_message"] == WRONG_PASSWORD_MESSAGE, r.result)
    expect(r.result["id_token_claims"]["amr"] == ["pwd"], r.result)
    D.ctl("user", "unlock", "bob")


def test_the_dedicated_portal_asks_only_for_the_user_name_of_its_domain():
    with urllib.request.urlopen(f"{ISSUER}/d/{DOMAIN}/login", timeout=10) as r:
        html = r.read().decode()
        expect(r.status == 200, r.status)
    expect('<input id="username" name="username"' in html, html)
    expect(f"<span>@{DOMAIN}</span>" in html, ("the fixed domain next to the field", html))
    expect('placeholder="name@domain"' not in html, html)
    tx = re.search(r'name="tx" value="([^"]+)"', html).group(1)
    csrf = re.search(r'name="csrf" value="([^"]+)"', html).group(1)
    r = request("POST", "/login", {"tx": tx, "csrf": csrf, "username": f"alice@{DOMAIN}"})
    expect(r.status == 400 and "the domain is fixed here" in r.body, r)
    r = request("POST", "/login", {"tx": tx, "csrf": csrf, "username": "alice"})
    expect(r.status == 200 and f"alice@{DOMAIN}" in r.body and 'id="answer"' in r.body, r)
    r = request("POST", "/login", {"tx": tx, "csrf": csrf, "answer": PASSWORDS["alice"]})
    expect(r.status == 200 and f"You are signed in as alice@{DOMAIN}." in r.body, r)


def test_an_unregistered_redirect_uri_gets_a_page_and_no_redirect():
    for uri in ("http://evil.example/cb", REDIRECT + "/more",
                REDIRECT.replace("localhost", "127.0.0.1")):
        q = authorize_query(redirect_uri=uri)
        r = request("GET", "/authorize?" + urllib.parse.urlencode(q))
        expect(r.status == 400 and r.header("Location") is None, (uri, r))
        expect("text/html" in r.header("Content-Type") and "not one registered" in r.body, r)


def test_pkce_plain_is_refused_back_at_the_client():
    verifier = secrets.token_urlsafe(48)
    q = authorize_query(code_challenge=verifier[:43], code_challenge_method="plain")
    r = request("GET", "/authorize?" + urllib.parse.urlencode(q))
    expect(r.status in (302, 303) and r.header("Location").startswith(REDIRECT + "?"), r)
    p = r.location_params()
    expect(p.get("error") == "invalid_request" and p.get("state") == q["state"] and
           p.get("iss") == ISSUER and "code" not in p, p)


def test_a_public_client_without_pkce_is_refused():
    q = authorize_query("app-public")
    r = request("GET", "/authorize?" + urllib.parse.urlencode(q))
    expect(r.status in (302, 303) and r.header("Location").startswith(REDIRECT + "?"), r)
    p = r.location_params()
    expect(p.get("error") == "invalid_request" and p.get("state") == q["state"] and
           "code" not in p, p)


def test_prompt_none_without_a_session_answers_login_required():
    q = authorize_query(prompt="none")
    r = request("GET", "/authorize?" + urllib.parse.urlencode(q))
    expect(r.status in (302, 303) and r.header("Location").startswith(REDIRECT + "?"), r)
    p = r.location_params()
    expect(p.get("error") == "login_required" and p.get("state") == q["state"] and
           p.get("iss") == ISSUER, p)


def test_a_wrong_client_secret_is_401_and_a_code_works_only_once():
    verifier, challenge = pkce()
    code = sign_in_for_code(challenge=challenge)
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT,
            "code_verifier": verifier}
    wrong = request("POST", "/token", form, {"Authorization": basic("app-rs", "not-the-secret")})
    expect(wrong.status == 401 and wrong.json()["error"] == "invalid_client", wrong)
    wrong = request("POST", "/token", {**form, "client_id": "app-rs", "client_secret": "nope"})
    expect(wrong.status == 401 and wrong.json()["error"] == "invalid_client", wrong)
    good = request("POST", "/token", form, {"Authorization": basic("app-rs", SECRETS["app-rs"])})
    expect(good.status == 200 and "id_token" in good.json(),
           ("a refused client authentication leaves the code usable", good))
    access = good.json()["access_token"]
    again = request("POST", "/token", form, {"Authorization": basic("app-rs", SECRETS["app-rs"])})
    expect(again.status == 400 and again.json()["error"] == "invalid_grant", again)
    info = request("GET", "/userinfo", headers={"Authorization": "Bearer " + access})
    expect(info.status == 401, ("what the replayed code issued is revoked", info))


def test_introspection_refuses_an_unauthenticated_public_client():
    """Discovery lists only client_secret_basic and client_secret_post for introspection, and
    RFC 7662 wants the endpoint protected against token scanning."""
    verifier, challenge = pkce()
    code = sign_in_for_code(challenge=challenge)
    tokens = request("POST", "/token", {"grant_type": "authorization_code", "code": code,
                                     "redirect_uri": REDIRECT, "code_verifier": verifier},
                  {"Authorization": basic("app-rs", SECRETS["app-rs"])})
    expect(tokens.status == 200, tokens)
    with urllib.request.urlopen(f"{ISSUER}/.well-known/openid-configuration", timeout=10) as r:
        methods = json.load(r)["introspection_endpoint_auth_methods_supported"]
    expect("none" not in methods, methods)
    r = request("POST", "/introspect", {"client_id": "app-public",
                                     "token": tokens.json()["access_token"]})
    expect(r.status == 401 and r.json().get("error") == "invalid_client",
           "POST /introspect with client_id=app-public (a public client, no authentication) "
           "and another client's (app-rs) access token should be 401 invalid_client, as "
           f"discovery lists only {methods}; it answered {r.status} {r.body[:300]}")


def test_a_20_kb_header_is_431_and_the_server_carries_on():
    data = (f"GET /.well-known/openid-configuration HTTP/1.1\r\nHost: localhost:{PORT}\r\n"
            f"X-Padding: {'a' * 20480}\r\n\r\n").encode()
    answer = raw(data)
    expect(answer.startswith(b"HTTP/1.1 431 "), answer[:200])
    r = request("GET", "/.well-known/openid-configuration")
    expect(r.status == 200 and r.json()["issuer"] == ISSUER, r)


def test_a_malformed_request_line_is_400():
    for line in (b"NOT A REQUEST LINE\r\n\r\n", b"GET /jwks HTTP/9\r\n\r\n",
                 b"GET\x00 / HTTP/1.1\r\nHost: x\r\n\r\n"):
        answer = raw(line)
        expect(answer.startswith(b"HTTP/1.1 400 "), (line, answer[:200]))
    expect(request("GET", "/jwks").status == 200, "still serving")


def test_crlf_in_a_parameter_is_400_and_reaches_no_header():
    q = urllib.parse.urlencode(authorize_query()) + "&state=x%0d%0aSet-Cookie:%20evil=1"
    r = request("GET", "/authorize?" + q)
    expect(r.status == 400 and r.header("Location") is None and r.header("Set-Cookie") is None, r)
    expect("control character" in r.body, r)
    r = request("GET", "/authorize?" + urllib.parse.urlencode(authorize_query(state="a\r\nb")))
    expect(r.status == 400 and r.header("Location") is None, r)


def test_a_parameter_given_twice_is_400():
    q = urllib.parse.urlencode(authorize_query()) + "&redirect_uri=" + urllib.parse.quote(
        "http://evil.example/cb", safe="")
    r = request("GET", "/authorize?" + q)
    expect(r.status == 400 and r.header("Location") is None, r)


def test_login_hint_prefills_the_user_name_in_the_browser_and_the_flow_completes():
    r = rp("app-rs", "alice", scenario="login-hint")
    expect(r.ok, r.explain())
    expect(r.result["prefilled"] == f"alice@{DOMAIN}", r.result)
    expect(r.result["userinfo"]["preferred_username"] == f"alice@{DOMAIN}", r.result)
    expect(r.result["id_token_claims"]["sub"] == user_id("alice"), r.result)


def test_the_portal_prefills_the_user_name_from_the_query_in_the_browser():
    r = rp("app-rs", "bob", scenario="portal")
    expect(r.ok, r.explain())
    expect(r.result["prefilled"] == f"bob@{DOMAIN}", r.result)
    expect(r.result["signed_in_text"] == f"You are signed in as bob@{DOMAIN}.", r.result)


def test_the_dedicated_portal_prefills_the_name_without_its_domain_in_the_browser():
    r = rp("app-rs", "bob", scenario="dedicated-portal")
    expect(r.ok, r.explain())
    expect(r.result["prefilled"] == "bob" and r.result["fixed_domain"] == f"@{DOMAIN}",
           r.result)
    expect(r.result["signed_in_text"] == f"You are signed in as bob@{DOMAIN}.", r.result)


def test_with_a_live_session_and_no_prompt_authorize_answers_a_code_without_a_form():
    r = rp("app-rs", "alice", scenario="no-prompt")
    expect(r.ok, r.explain())
    first, silent = r.result["id_token_claims"], r.result["silent_claims"]
    expect(silent["sid"] == first["sid"] and silent["auth_time"] == first["auth_time"],
           (first, silent))


def test_prompt_none_with_a_live_session_returns_a_code_without_ui():
    r = rp("app-es", "alice", alg="ES256", scenario="prompt-none")
    expect(r.ok, r.explain())
    first, silent = r.result["id_token_claims"], r.result["silent_claims"]
    expect(silent["sid"] == first["sid"] and silent["auth_time"] == first["auth_time"],
           (first, silent))
    expect(silent["nonce"] != first["nonce"], ("each request its own nonce", first, silent))


def test_max_age_0_sends_a_browser_with_a_live_session_to_the_password_page_again():
    r = rp("app-rs", "alice", scenario="max-age-0")
    expect(r.ok, r.explain())
    first, second = r.result["first_claims"], r.result["id_token_claims"]
    expect(second["auth_time"] > first["auth_time"], (first, second))
    expect("max_age=0 with the session cookie: the authorization request shows the sign-in "
           "page" in r.result["passed"], r.result["passed"])


def test_prompt_login_sends_a_browser_with_a_live_session_to_the_password_page_again():
    r = rp("app-rs", "alice", scenario="prompt-login")
    expect(r.ok, r.explain())
    first, second = r.result["first_claims"], r.result["id_token_claims"]
    expect(second["auth_time"] > first["auth_time"], (first, second))


def test_max_age_0_forces_a_new_logon_in_the_very_second_of_the_last_one():
    """OpenID Connect Core 1.0 §3.1.2.1, as its errata read: "max_age=0 is equivalent to
    prompt=login". Here the session was made in this same second, so 0 s have elapsed in whole
    seconds: the request must still go to the sign-in page, never straight to a code. (The
    browser case above waits a second first, to tell the two auth_times apart.)"""
    while time.time() % 1 > 0.3:  # the sign-in and the request in one second
        time.sleep(0.02)
    start = time.time()
    _, cookie = sign_in()
    verifier, challenge = pkce()
    q = authorize_query(max_age="0", code_challenge=challenge, code_challenge_method="S256")
    r = request("GET", "/authorize?" + urllib.parse.urlencode(q), headers={"Cookie": cookie})
    asked = int(time.time())
    if r.status == 303 and r.header("Location").startswith("/login?tx="):
        return
    detail = ""
    if r.status == 302 and "code" in r.location_params():
        _, claims = jwt_parts(code_grant(r.location_params()["code"], verifier)["id_token"])
        detail = (f"\nthe ID token's auth_time is {claims.get('auth_time')}, the request was "
                  f"made at {asked} (sign-in started at {start:.3f})")
    raise AssertionError("GET /authorize?max_age=0 with a session made in the same second should "
                         "show the sign-in page (303 /login?tx=...); it answered "
                         f"{r.status} Location: {r.header('Location')}" + detail)


def test_a_locked_user_gets_the_page_of_a_wrong_password_and_of_an_unknown_name():
    """max_failed_per_hour=2: the second wrong password locks dave, and says nothing of it;
    then even the right password gets the page and the words of a wrong one, as an unknown
    name does: a stranger cannot tell the three apart (issue 24, finding 3)."""
    before = policy_value("max_failed_per_hour")
    D.ctl("policy", "set", "max_failed_per_hour=2")
    try:
        r = rp("app-rs", "dave", scenario="refused", wrong_passwords=2)
        expect(r.ok, r.explain())
        shown = [x["message"] for x in r.result["refusals"]]
        expect(shown == [WRONG_PASSWORD_MESSAGE] * 2, shown)
        final = r.result["final"]
        expect(final["message"] == WRONG_PASSWORD_MESSAGE, final)
        expect(final["asked_password"] is True and final["status"] == 401, final)
        expect(final["username_kept"] == f"dave@{DOMAIN}", final)
        expect("locked until:" in D.ctl("user", "show", "dave").stdout, "latchkeyctl sees it")
        ghost = rp("app-rs", "ghost", password="Ghost-Passw0rd-1", scenario="refused")
        expect(ghost.ok, ghost.explain())
        g = ghost.result["final"]
        expect((g["message"], g["asked_password"], g["status"]) ==
               (final["message"], final["asked_password"], final["status"]), (g, final))
    finally:
        D.ctl("policy", "set", f"max_failed_per_hour={before}")
        D.ctl("user", "unlock", "dave")
    sign_in_for_code(user="dave")  # unlocked, the same password signs in


def test_console_logon_disabled_is_refused_on_the_page_only_after_the_right_password():
    """The reasons are told only once the password is right: a wrong one gets the usual
    message."""
    D.ctl("user", "disable-logon", "erin")
    try:
        r = rp("app-rs", "erin", scenario="refused", wrong_passwords=1)
        expect(r.ok, r.explain())
        expect([x["message"] for x in r.result["refusals"]] == [WRONG_PASSWORD_MESSAGE],
               r.result["refusals"])
        final = r.result["final"]
        expect(final["message"] == CONSOLE_LOGON_OFF_MESSAGE, final)
        expect(final["asked_password"] is True and final["status"] == 401, final)
    finally:
        D.ctl("user", "enable-logon", "erin")
        D.ctl("user", "unlock", "erin")
    sign_in_for_code(user="erin")  # enabled again, the same password signs in


def test_root_is_refused_on_a_resource_account_before_any_password():
    r = rp("app-rs", "root", password="Root-Passw0rd!", scenario="refused")
    expect(r.ok, r.explain())
    final = r.result["final"]
    expect(final["message"].startswith(ROOT_ON_RESOURCE_MESSAGE + ": web is a resource account"),
           final)
    expect(final["asked_password"] is False and final["status"] == 401, final)
    expect(final["username_kept"] == f"root@{DOMAIN}", final)


def test_an_access_key_gets_an_at_jwt_by_client_credentials_that_jose_verifies():
    r = rp(ACCESS_KEY["id"], "frank", scenario="client-credentials", auth_method="basic",
           secret=ACCESS_KEY["secret"])
    expect(r.ok, r.explain())
    claims, header = r.result["access_token_claims"], r.result["access_token_header"]
    expect(claims["iss"] == ISSUER and claims["sub"] == user_id("frank") and
           claims["client_id"] == ACCESS_KEY["id"], claims)
    expect(header["typ"] == "at+jwt" and header["alg"] == "RS256" and
           header["kid"] in {k["kid"] for k in jwks()}, header)
    expect(r.result["userinfo"]["sub"] == claims["sub"], r.result)
    post = client_credentials(ACCESS_KEY["id"], ACCESS_KEY["secret"], how="post")
    expect(post.status == 200 and "id_token" not in post.json() and
           "refresh_token" not in post.json(), ("client_secret_post too", post))
    wrong = client_credentials(ACCESS_KEY["id"], ACCESS_KEY["secret"] + "x")
    expect(wrong.status == 401 and wrong.json()["error"] == "invalid_client", wrong)


def test_a_disabled_access_key_is_401_invalid_client_and_works_again_once_enabled():
    expect_access_key_works()
    D.ctl("accesskey", "disable", ACCESS_KEY["id"])
    try:
        for how in ("basic", "post"):
            r = client_credentials(ACCESS_KEY["id"], ACCESS_KEY["secret"], how)
            expect(r.status == 401 and r.json()["error"] == "invalid_client", (how, r))
    finally:
        D.ctl("accesskey", "enable", ACCESS_KEY["id"])
    expect_access_key_works()


def test_an_access_key_keeps_working_after_an_admin_resets_the_password():
    reset = D.ctl("user", "set-password", "frank", "--generate", json_out=True)
    expect(reset["generated_password"] != PASSWORDS["frank"], reset)
    PASSWORDS["frank"] = reset["generated_password"]
    expect_access_key_works()


# ---- setup ------------------------------------------------------------------------------

def add_client(client_id, *extra):
    p = D.ctl("oidc", "client", "add", client_id, "--redirect-uris", REDIRECT,
              "--post-logout-uris", POST_LOGOUT, *extra)
    if "--public" not in extra:
        SECRETS[client_id] = p.stdout.strip().splitlines()[-1]


def enrol_carol():
    """`latchkeyctl mfa enroll` without a terminal (as tests/integration/mfa_test.py does): the
    URI comes first on stdout; two consecutive codes go to stdin. The codes are the previous
    and the current step's, so the next step is free for the sign-in."""
    if time.time() % 30 > 27:  # not at a step's edge: latchkeyd must see the same step
        time.sleep(4)
    proc = subprocess.Popen([LATCHKEYCTL, "--socket", D.admin_socket, "mfa", "enroll", "carol"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        uri = proc.stdout.readline().strip()
        if not uri.startswith("otpauth://"):
            out, err = proc.communicate(timeout=20)
            raise AssertionError(f"mfa enroll carol: {proc.returncode} {uri}{out} {err}")
        key = urllib.parse.parse_qs(urllib.parse.urlparse(uri).query)["secret"][0]
        now = int(time.time())
        out, err = proc.communicate(f"{totp(key, now - 30)}\n{totp(key, now)}\n", timeout=20)
        expect(proc.returncode == 0, (proc.returncode, out, err))
        return key
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


if __name__ == "__main__":
    D = Daemon(extra_config=f'[oidc]\nlisten = "127.0.0.1:{PORT}"\nrefresh_grace_s = 0\n'
               # Every browser here comes from 127.0.0.1: the throttle of one address would
               # end the suite's sign-ins; hardening_test.py tests it with its defaults.
               '[lockout]\nsource_failures_per_user = 0\nsource_failures = 0\n')
    try:
        D.start()
        D.ctl("directory", "init", "--domain", "example.internal")
        D.ctl("account", "create", "web")
        for name, pw in PASSWORDS.items():
            D.ctl("user", "create", name)
            D.ctl("user", "set-password", name, "--stdin", input=pw + "\n")
        add_client("app-rs")
        add_client("app-es", "--id-token-alg", "ES256")
        add_client("app-ed", "--id-token-alg", "EdDSA")
        add_client("app-public", "--public")
        CAROL_KEY = enrol_carol()
        made = D.ctl("accesskey", "create", "frank", json_out=True)
        ACCESS_KEY.update(id=made["key"]["id"], secret=made["secret"])
        run([
            test_discovery_names_the_issuer_and_what_it_supports,
            test_chromium_gets_back_to_the_client_under_the_sign_in_pages_own_csp,
            test_the_full_flow_with_an_es256_id_token_and_client_secret_post,
            test_the_full_flow_with_an_eddsa_id_token_and_client_secret_post,
            test_the_full_flow_with_a_public_client_pkce_and_no_secret,
            test_the_jwks_publishes_a_key_per_algorithm_once_used,
            test_a_totp_user_signs_in_with_password_then_code,
            test_a_wrong_password_is_refused_with_a_message_and_a_retry_works,
            test_a_locked_user_gets_the_page_of_a_wrong_password_and_of_an_unknown_name,
            test_console_logon_disabled_is_refused_on_the_page_only_after_the_right_password,
            test_root_is_refused_on_a_resource_account_before_any_password,
            test_login_hint_prefills_the_user_name_in_the_browser_and_the_flow_completes,
            test_the_portal_prefills_the_user_name_from_the_query_in_the_browser,
            test_the_dedicated_portal_prefills_the_name_without_its_domain_in_the_browser,
            test_with_a_live_session_and_no_prompt_authorize_answers_a_code_without_a_form,
            test_prompt_none_with_a_live_session_returns_a_code_without_ui,
            test_max_age_0_sends_a_browser_with_a_live_session_to_the_password_page_again,
            test_prompt_login_sends_a_browser_with_a_live_session_to_the_password_page_again,
            test_max_age_0_forces_a_new_logon_in_the_very_second_of_the_last_one,
            test_the_dedicated_portal_asks_only_for_the_user_name_of_its_domain,
            test_an_unregistered_redirect_uri_gets_a_page_and_no_redirect,
            test_pkce_plain_is_refused_back_at_the_client,
            test_a_public_client_without_pkce_is_refused,
            test_prompt_none_without_a_session_answers_login_required,
            test_a_wrong_client_secret_is_401_and_a_code_works_only_once,
            test_introspection_refuses_an_unauthenticated_public_client,
            test_a_20_kb_header_is_431_and_the_server_carries_on,
            test_a_malformed_request_line_is_400,
            test_crlf_in_a_parameter_is_400_and_reaches_no_header,
            test_a_parameter_given_twice_is_400,
            test_an_access_key_gets_an_at_jwt_by_client_credentials_that_jose_verifies,
            test_a_disabled_access_key_is_401_invalid_client_and_works_again_once_enabled,
            test_an_access_key_keeps_working_after_an_admin_resets_the_password,
        ])
    finally:
        D.__exit__(None, None, None)
