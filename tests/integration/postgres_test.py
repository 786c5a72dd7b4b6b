# SPDX-License-Identifier: Apache-2.0
"""Two real latchkeyd nodes on one PostgreSQL database (a throwaway server the test starts):
what one node writes the other serves at once, a TOTP code accepted on one is a replay on the
other, failed logons on both add up to one lockout, and when the server goes away logons fail
closed quickly and work again, without a restart, once it is back. pamtester through
pam_wrapper, codes from Debian's oathtool, one clock file for both nodes."""

import http.client
import os
import re
import shutil
import socket
import tempfile
import time
import urllib.parse

import ledger
from harness import Daemon, expect, run
from mfa_test import enrol_script, totp
import mfa_test
from pam_env import NssWrapper, PamWrapper, merge_env, pamtester
from pam_test import MODULE, UNAVAILABLE
from pg_server import PgServer

# Throwaway test fixtures, nobody's real passwords.
ALICE_PW = "Alice-Pg-Passw0rd!"
BOB_PW = "Bob-Pg-Passw0rd!"
T0 = 1_900_000_020  # 20 s into a 30-second step
DOMAIN = "web.example.internal"
REDIRECT = "http://localhost:9/cb"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Reply:
    def __init__(self, status, headers, body):
        self.status, self.headers, self.body = status, headers, body

    def header(self, name):
        return self.headers.get(name.lower(), "")

    def __repr__(self):
        return f"<{self.status} {self.headers.get('location', '')} {self.body[:300]!r}>"


class Nodes:
    def __init__(self):
        self.base = tempfile.mkdtemp(prefix="latchkey-nodes-")
        os.chmod(self.base, 0o755)
        self.clock = os.path.join(self.base, "clock")
        self.now = T0
        self.set_clock(T0)
        self.pg = PgServer()
        conninfo = self.pg.create_database("latchkey")
        # One key file for both: what one node seals, the other opens.
        storage = (f'engine = "postgresql"\nconnection = "{conninfo}"\n'
                   f'key_file = "{self.base}/secret.key"\npool_size = 4\n')
        # Source throttling is per node (memory); this test counts the directory's lockout.
        extra = (f'[testing]\nclock_file = "{self.clock}"\n'
                 "[lockout]\nsource_failures_per_user = 1000\nsource_failures = 1000\n")
        self.nss = NssWrapper(self.base, users={"root": 0})
        # Two provider nodes as behind one load balancer: one issuer, a port each.
        self.ports = {"a": free_port(), "b": free_port()}
        self.issuer = f"http://localhost:{self.ports['a']}"

        def oidc(node):
            return (f'[oidc]\nlisten = "127.0.0.1:{self.ports[node]}"\n'
                    f'issuer = "{self.issuer}"\n')

        self.a = Daemon(extra_config=extra + oidc("a"), storage_config=storage,
                        env=self.nss.env()).start()
        self.b = Daemon(extra_config=extra + oidc("b"), storage_config=storage,
                        env=self.nss.env()).start()
        self.pam = PamWrapper(self.base)
        for name, node in (("lk-a", self.a), ("lk-b", self.b)):
            sock = f"socket={node.pam_socket}"
            self.pam.service(name, [f"auth required {MODULE} {sock}",
                                    f"account required {MODULE} {sock}"])

    def set_clock(self, t):
        self.now = t
        with open(self.clock + ".tmp", "w") as f:
            f.write(str(t))
        os.replace(self.clock + ".tmp", self.clock)

    def logon(self, node, user, answers):
        return pamtester(f"lk-{node}", user, ["authenticate", "acct_mgmt"], answers,
                         env=merge_env(self.nss.env(), self.pam.env()))

    def http(self, node, method, path, form=None, cookie=None):
        """One request to a node, on its own connection; redirects are not followed."""
        c = http.client.HTTPConnection("127.0.0.1", self.ports[node], timeout=10)
        try:
            h = {"Host": f"localhost:{self.ports['a']}"}
            body = None
            if form is not None:
                body = urllib.parse.urlencode(form)
                h["Content-Type"] = "application/x-www-form-urlencoded"
            if cookie:
                h["Cookie"] = cookie
            c.request(method, path, body=body, headers=h)
            r = c.getresponse()
            data = r.read().decode(errors="replace")
            headers = {}
            for k, v in r.getheaders():
                headers.setdefault(k.lower(), v)
            return Reply(r.status, headers, data)
        finally:
            c.close()

    def close(self):
        for d in (self.a, self.b):
            d.stop()
            ledger.check(d.log(), "latchkeyd's log")
        self.pam.cleanup()
        self.pg.close()
        for d in (self.a, self.b):
            shutil.rmtree(d.dir, ignore_errors=True)
        shutil.rmtree(self.base, ignore_errors=True)


N = None


def test_what_one_node_creates_the_other_serves():
    N.a.ctl("directory", "init", "--domain", "example.internal")
    N.a.ctl("account", "create", "web")
    for name, pw in (("alice", ALICE_PW), ("bob", BOB_PW)):
        N.a.ctl("user", "create", name)
        N.a.ctl("user", "set-password", name, "--stdin", input=pw + "\n")
    users = N.b.ctl("user", "list").stdout
    expect("alice" in users and "bob" in users, users)
    for node in ("a", "b"):
        r = N.logon(node, "alice", {"Password": ALICE_PW})
        expect(r[0] == 0, (node, r))
    # The tables are PostgreSQL's, and SQLite's file was never made.
    expect(N.pg.psql("latchkey", "SELECT count(*) FROM users") == "2")
    expect(not os.path.exists(os.path.join(N.a.dir, "lib", "latchkey.db")))


def test_a_totp_code_accepted_on_one_node_is_a_replay_on_the_other():
    mfa_test.W = N.a_world  # enrol_script talks to node A's admin socket
    t = N.now
    rc, out, err, uri = enrol_script("bob", lambda k: (totp(k, t), totp(k, t + 30)))
    expect(rc == 0, (out, err))
    key = mfa_test.key_of(uri)
    N.bob_key = key
    N.set_clock(N.now + 60)
    code = totp(key, N.now)
    answers = {"Password": BOB_PW, "Verification code": code}
    first = N.logon("a", "bob", answers)
    expect(first[0] == 0, first)
    replay = N.logon("b", "bob", answers)
    expect(replay[0] != 0, ("the same code on node B", replay))
    N.set_clock(N.now + 30)
    fresh = N.logon("b", "bob", {"Password": BOB_PW, "Verification code": totp(key, N.now)})
    expect(fresh[0] == 0, fresh)


def test_failed_logons_on_both_nodes_add_up_to_one_lockout():
    # The default policy: 5 failures in an hour lock the user.
    for node in ("a", "b", "a", "b", "a"):
        r = N.logon(node, "alice", {"Password": "not-her-password"})
        expect(r[0] != 0, r)
    for node in ("a", "b"):
        r = N.logon(node, "alice", {"Password": ALICE_PW})
        expect(r[0] != 0, (node, "locked on every node", r))
    expect("locked until:" in N.b.ctl("user", "show", "alice").stdout)
    N.b.ctl("user", "unlock", "alice")
    expect(N.logon("a", "alice", {"Password": ALICE_PW})[0] == 0, "unlocked on B, seen on A")


def test_a_sign_in_whose_requests_alternate_between_the_nodes_completes():
    """The sign-in pages keep their state in the database: each request of one sign-in may go
    to either node, as behind a load balancer without sticky sessions."""
    out = N.a.ctl("oidc", "client", "add", "app", "--redirect-uris", REDIRECT).stdout
    secret = out.strip().splitlines()[-1]
    q = {"client_id": "app", "redirect_uri": REDIRECT, "response_type": "code",
         "scope": "openid profile", "state": "st-1", "nonce": "n-1"}
    r = N.http("a", "GET", "/authorize?" + urllib.parse.urlencode(q))
    expect(r.status == 303 and r.header("Location").startswith("/login?tx="), r)
    page = N.http("b", "GET", r.header("Location"))
    expect(page.status == 200, page)
    tx = re.search(r'name="tx" value="([^"]+)"', page.body).group(1)
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.body).group(1)

    # A form from elsewhere is refused and leaves the sign-in as it was.
    r = N.http("a", "POST", "/login", {"tx": tx, "csrf": "forged", "username": "x"})
    expect(r.status == 403, r)
    r = N.http("a", "POST", "/login", {"tx": tx, "csrf": csrf, "username": f"bob@{DOMAIN}"})
    expect(r.status == 200 and 'id="answer"' in r.body, r)
    r = N.http("b", "POST", "/login", {"tx": tx, "csrf": csrf, "answer": BOB_PW})
    expect(r.status == 200 and "Verification code" in r.body, r)
    N.set_clock(N.now + 30)
    r = N.http("a", "POST", "/login", {"tx": tx, "csrf": csrf,
                                       "answer": totp(N.bob_key, N.now)})
    expect(r.status == 303 and r.header("Location").startswith("/authorize/resume"), r)
    cookie = r.header("Set-Cookie").split(";")[0]
    r = N.http("b", "GET", r.header("Location"), cookie=cookie)
    expect(r.status == 302 and r.header("Location").startswith(REDIRECT + "?"), r)
    params = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(r.header("Location")).query))
    expect(params.get("state") == "st-1" and "code" in params, params)
    # Done: the sign-in is gone from both.
    again = N.http("a", "GET", f"/authorize/resume?tx={tx}")
    expect(again.status == 400, again)

    token = N.http("a", "POST", "/token", {
        "grant_type": "authorization_code", "code": params["code"], "redirect_uri": REDIRECT,
        "client_id": "app", "client_secret": secret})
    expect(token.status == 200 and '"access_token"' in token.body, token)
    # The browser's session, opened on B, is known to A: a code without any form.
    q["state"] = "st-2"
    r = N.http("a", "GET", "/authorize?" + urllib.parse.urlencode(q), cookie=cookie)
    expect(r.status == 302 and "code=" in r.header("Location"), r)
    N.a_secret = secret


def test_a_sign_in_answered_on_both_nodes_at_once_goes_on_once():
    """The form sent twice, to both nodes at once: one request has the sign-in, the other is
    told it expired; the password is checked once."""
    q = {"client_id": "app", "redirect_uri": REDIRECT, "response_type": "code",
         "scope": "openid", "state": "st-3", "nonce": "n-3"}
    r = N.http("b", "GET", "/authorize?" + urllib.parse.urlencode(q))
    page = N.http("a", "GET", r.header("Location"))
    tx = re.search(r'name="tx" value="([^"]+)"', page.body).group(1)
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.body).group(1)
    r = N.http("b", "POST", "/login", {"tx": tx, "csrf": csrf, "username": f"alice@{DOMAIN}"})
    expect(r.status == 200, r)
    import concurrent.futures
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        replies = list(pool.map(
            lambda node: N.http(node, "POST", "/login",
                                {"tx": tx, "csrf": csrf, "answer": ALICE_PW}), ("a", "b")))
    statuses = sorted(r.status for r in replies)
    expect(statuses == [303, 400], replies)


def test_without_the_database_logons_fail_closed_quickly_and_come_back_by_themselves():
    N.pg.stop()
    try:
        start = time.monotonic()
        r = N.logon("a", "alice", {"Password": ALICE_PW})
        took = time.monotonic() - start
        expect(r[0] != 0, ("no logon without the directory", r))
        expect(UNAVAILABLE in r[2], r[2])
        # The person at the prompt gets a plain sentence; where the database lives is for the
        # log alone.
        expect("cannot check credentials right now" in r[2], r[2])
        expect("postgresql" not in r[2].lower() and N.pg.sockets not in r[2], r[2])
        expect("postgresql: cannot connect" in N.a.log(), "the log says why")
        expect(took < 10, f"failed closed in {took:.1f}s")
    finally:
        N.pg.start()
    # The same daemons, not restarted, reconnect on their own.
    for node in ("a", "b"):
        r = N.logon(node, "alice", {"Password": ALICE_PW})
        expect(r[0] == 0, (node, r))
    N.a.ctl("user", "create", "carol")
    expect("carol" in N.b.ctl("user", "list").stdout)


class _World:
    """What mfa_test's helpers need: node A's daemon."""

    def __init__(self, daemon):
        self.daemon = daemon


if __name__ == "__main__":
    N = Nodes()
    N.a_world = _World(N.a)
    try:
        run([
            test_what_one_node_creates_the_other_serves,
            test_a_totp_code_accepted_on_one_node_is_a_replay_on_the_other,
            test_failed_logons_on_both_nodes_add_up_to_one_lockout,
            test_a_sign_in_whose_requests_alternate_between_the_nodes_completes,
            test_a_sign_in_answered_on_both_nodes_at_once_goes_on_once,
            test_without_the_database_logons_fail_closed_quickly_and_come_back_by_themselves,
        ])
    finally:
        N.close()
