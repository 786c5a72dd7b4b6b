# SPDX-License-Identifier: Apache-2.0
"""Passkeys in the product against a real latchkeyd, in Debian's chromium with the DevTools
virtual authenticator (tests/browser/pages.mjs; CTAP2, internal and usb transports, resident
keys, user verification on and off): added on /account, then used to sign in to a relying
party without a password, by the name typed and by the key alone (discoverable); the ID
token's amr says how. Refused, each with its audited reason: a removed passkey, a replayed
response, a response made for another origin (signed with the authenticator's own key, beside
the same response for the right origin, which is accepted), a counter that went back (a
clone), and passkey logon switched off for the account; the fallback to the password after a
refusal works. The dedicated portal and a prefilled name offer the passkey after Next. The
account page's other halves too: an authenticator app set up with oathtool's codes (a recovery
code shown then signs in), removed, and the password changed with the policy's messages.

The plain-HTTP helpers are oidc_test.py's and the browser runner oidc_session_test.py's: this
suite runs its own daemon on the port oidc_test.py chose (issuer http://localhost:PORT, so
the relying party id is `localhost`, which browsers treat as a secure context)."""

import base64
import hashlib
import html
import json
import os
import re
import struct
import urllib.parse

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

import ledger
import oidc_test as o
import oidc_session_test as s
from harness import Daemon, expect, run

D = None
ALICE = f"alice@{o.DOMAIN}"
ACR_MFA = "urn:latchkey:acr:mfa"
ACR_PHR = "phr"  # phishing-resistant: a passkey that verified its user
REFUSED = "the passkey was not accepted"
# With LATCHKEY_SCREENSHOTS=DIR the runs also take the pictures of docs/passkeys.md there.
SHOTS = os.environ.get("LATCHKEY_SCREENSHOTS")
AUTHENTICATORS = {}  # name -> the virtual authenticator and its credentials, run to run
CAPTURED = []        # the form of a passkey sign-in that succeeded, to replay


def b64u(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def audit(event, **match):
    """The audit events named `event` whose fields include `match`, newest first."""
    out = []
    for e in D.ctl("audit", "--limit", "500", json_out=True)["events"]:
        fields = {f["key"]: f["value"] for f in e["fields"]}
        if e["event"] == event and all(fields.get(k) == v for k, v in match.items()):
            out.append(fields)
    return out


def id_token_of(landing):
    """Exchanges the code of a landing at the relying party; returns the ID token's claims."""
    back = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(landing).query))
    expect(back.get("code"), landing)
    r = o.request("POST", "/token", {"grant_type": "authorization_code", "code": back["code"],
                                     "redirect_uri": o.REDIRECT},
                  headers={"Authorization": o.basic("app", o.SECRETS["app"])})
    expect(r.status == 200, r)
    return o.jwt_parts(r.json()["id_token"])[1]


def authorize_url(**extra):
    return f"{o.ISSUER}/authorize?" + urllib.parse.urlencode(o.authorize_query("app", **extra))


def shot(name, width=480):
    """A screenshot step for docs/passkeys.md when LATCHKEY_SCREENSHOTS is set."""
    return [{"screenshot": os.path.join(SHOTS, name), "width": width}] if SHOTS else []


def typed_sign_in(user=ALICE, screenshot=None):
    """The steps to the password page of `user` at a client that asks to sign in again."""
    return [{"goto": authorize_url(prompt="login")},
            *(shot(screenshot, 1000) if screenshot else []),
            {"fill": "#username", "value": user},
            {"click": "button[type=submit]"}]


def account_page_with_password():
    """The steps to /account, signing in there with alice's password on the way."""
    return [{"goto": f"{o.ISSUER}/account"},
            {"fill": "#username", "value": ALICE},
            {"click": "button[type=submit]"},
            {"fill": "#answer", "value": o.PASSWORDS["alice"]},
            {"click": "button[type=submit]"}]


def fresh_logon(user=None):
    """A sign-in opened by plain HTTP at the general portal, up to the page that offers a
    passkey (the user name page, or the password page of `user`); returns its form fields and
    the challenge of its passkey options."""
    page = o.request("GET", "/login")
    tx = re.search(r'name="tx" value="([^"]+)"', page.body).group(1)
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.body).group(1)
    if user:
        page = o.request("POST", "/login", {"tx": tx, "csrf": csrf, "username": user})
    options = json.loads(html.unescape(re.search(r'data-options="([^"]+)"', page.body).group(1)))
    return {"tx": tx, "csrf": csrf}, options


def signed_assertion(credential, challenge, origin, counter):
    """An assertion made with the virtual authenticator's own key, as a browser at `origin`
    would have it signed."""
    client = json.dumps({"type": "webauthn.get", "challenge": challenge, "origin": origin,
                         "crossOrigin": False}, separators=(",", ":")).encode()
    auth_data = hashlib.sha256(b"localhost").digest() + bytes([0x05]) + struct.pack(">I", counter)
    key = serialization.load_der_private_key(base64.b64decode(credential["privateKey"]), None)
    signature = key.sign(auth_data + hashlib.sha256(client).digest(), ec.ECDSA(hashes.SHA256()))
    return {"pk_id": b64u(base64.b64decode(credential["credentialId"])),
            "pk_client_data": b64u(client), "pk_authenticator_data": b64u(auth_data),
            "pk_signature": b64u(signature),
            "pk_user_handle": b64u(base64.b64decode(credential["userHandle"]))}


def pages(steps):
    """oidc_session_test.pages() with the authenticators of the runs before plugged in."""
    os.environ["PAGES_AUTHENTICATORS"] = json.dumps(AUTHENTICATORS)
    try:
        report = s.pages(steps)
    finally:
        del os.environ["PAGES_AUTHENTICATORS"]
    AUTHENTICATORS.update(report["authenticators"])
    return report


def laptop_credential():
    credentials = AUTHENTICATORS["laptop"]["credentials"]
    expect(len(credentials) == 1 and credentials[0]["isResidentCredential"], credentials)
    return credentials[0]


# ---- the cases --------------------------------------------------------------------------

def test_a_passkey_added_on_the_account_page_signs_in_to_a_client_without_a_password():
    report = pages([
        *account_page_with_password(),
        {"expect": "You have no passkeys yet"},
        {"authenticator": {"name": "laptop", "transport": "internal", "uv": True}},
        {"fill": "#passkey-name", "value": "Laptop"},
        {"click": "#add-passkey-button"},
        {"expect": "Passkey added."},
        {"expect": "Laptop"},
        # Out while the name is typed: the user-name page would offer it in the autofill.
        {"unplug": True},
        *typed_sign_in(screenshot="sign-in.png"),
        {"expect": "Log on with Passkey"},
        *shot("passkey-sign-in.png"),
        {"authenticator": {"name": "laptop"}},
        {"capture": "/login"},
        {"click": "#passkey-button"},
        {"landing": True},
    ])
    claims = id_token_of(report["landings"][-1])
    expect(claims["amr"] == ["hwk", "user", "pin", "mfa"] and claims["acr"] == ACR_PHR, claims)
    listed = D.ctl("passkey", "list", "alice", json_out=True)["passkeys"]
    expect(len(listed) == 1 and listed[0]["name"] == "Laptop" and listed[0]["last_used_at"],
           listed)
    expect(audit("passkey.register", user=ALICE, name="Laptop", user_verified="true"), "audit")
    expect(audit("auth.allow", user="alice", method="passkey", key="hwk+uv"), "audit")
    laptop_credential()
    CAPTURED.append(report["captured"][0])


def test_the_key_alone_signs_in_from_the_user_name_fields_autofill():
    # The general portal asks for a discoverable passkey with conditional mediation; the
    # virtual authenticator answers it as a person picking it from the autofill would.
    report = pages([
        {"authenticator": {"name": "laptop"}},  # a fresh browser, the same key
        {"goto": authorize_url(prompt="login")},
        {"landing": True},
    ])
    claims = id_token_of(report["landings"][-1])
    expect(claims["amr"] == ["hwk", "user", "pin", "mfa"], claims)


def test_a_replayed_response_is_refused():
    form = dict(urllib.parse.parse_qsl(CAPTURED[0], keep_blank_values=True))
    expect(form.get("pk_signature"), form)
    fields, _ = fresh_logon(ALICE)
    form.update(fields)
    r = o.request("POST", "/login", form)
    expect(r.status == 401 and REFUSED in html.unescape(r.body), r)
    expect(audit("auth.deny", user="alice", method="passkey", reason="challenge_mismatch"),
           "no auth.deny reason=challenge_mismatch")


def test_a_response_made_for_another_origin_is_refused_and_the_same_for_ours_is_not():
    credential = laptop_credential()
    counter = credential["signCount"] + 100
    fields, options = fresh_logon()
    r = o.request("POST", "/login", {**fields, **signed_assertion(
        credential, options["challenge"], "http://evil.example", counter)})
    expect(r.status == 401 and REFUSED in html.unescape(r.body), r)
    expect(audit("auth.deny", user="alice", method="passkey", reason="origin_not_allowed"),
           "no auth.deny reason=origin_not_allowed")
    fields, options = fresh_logon()
    r = o.request("POST", "/login", {**fields, **signed_assertion(
        credential, options["challenge"], o.ISSUER, counter + 1)})
    expect(r.status == 200 and f"You are signed in as {ALICE}." in html.unescape(r.body), r)


def test_two_passkeys_one_without_user_verification_and_the_removed_one_is_refused():
    report = pages([
        *account_page_with_password(),
        {"expect": "Laptop"},
        {"authenticator": {"name": "key", "transport": "usb", "uv": False, "resident": False}},
        {"fill": "#passkey-name", "value": "Security key"},
        {"click": "#add-passkey-button"},
        {"expect": "Passkey added."},
        *shot("account-passkeys.png"),
        {"unplug": True},
        *typed_sign_in(),
        {"authenticator": {"name": "key"}},
        {"click": "#passkey-button"},
        {"landing": True},
        {"goto": f"{o.ISSUER}/account"},
        {"click": "li.passkey:has-text('Laptop') button.danger"},
        {"expect": "Passkey removed."},
        {"authenticator": {"name": "laptop"}},
        {"goto": authorize_url(prompt="login")},
        {"expect": "Authentication failed: the passkey was not accepted."},
    ])
    claims = id_token_of(report["landings"][-1])
    expect(claims["amr"] == ["hwk", "user"] and claims["acr"] == "urn:latchkey:acr:pwd", claims)
    names = [p["name"] for p in D.ctl("passkey", "list", "alice", json_out=True)["passkeys"]]
    expect(names == ["Security key"], names)
    expect(audit("passkey.remove", user=ALICE, name="Laptop", actor=ALICE), "audit")
    expect(audit("auth.deny", method="passkey", reason="unknown_credential"), "audit")


def test_a_passkey_is_the_second_factor_where_the_account_requires_mfa():
    D.ctl("settings", "set", "--account", "web", "mfa_required=yes")
    try:
        report = pages([
            *typed_sign_in(),
            {"fill": "#answer", "value": o.PASSWORDS["alice"]},
            {"click": "button[type=submit]"},
            {"expect": "Multi-factor authentication is required: confirm with one of your "
                       "passkeys."},
            *shot("passkey-second-factor.png"),
            {"authenticator": {"name": "key"}},
            {"click": "#passkey-button"},
            {"landing": True},
            # The session is MFA: a client asking for MFA gets a code at once; one asking for
            # phishing-resistant MFA (a passkey that verified its user) has it sign in again.
            {"goto": authorize_url(acr_values="urn:latchkey:acr:mfa")},
            {"landing": True},
            {"unplug": True},
            {"goto": authorize_url(acr_values="phr")},
            {"expect": "User name"},
        ])
    finally:
        D.ctl("settings", "set", "--account", "web", "mfa_required=no")
    claims = id_token_of(report["landings"][0])
    expect(claims["amr"] == ["pwd", "hwk", "user", "mfa"] and claims["acr"] == ACR_MFA, claims)
    expect(audit("auth.allow", user="alice", method="pwd+hwk"), "audit")


def test_the_dedicated_portal_and_a_prefilled_name_offer_the_passkey_after_next():
    report = pages([
        {"authenticator": {"name": "key"}},
        {"goto": f"{o.ISSUER}/d/{o.DOMAIN}/login"},
        {"fill": "#username", "value": "alice"},
        {"click": "button[type=submit]"},
        {"click": "#passkey-button"},
        {"expect": f"You are signed in as {ALICE}."},
        {"goto": f"{o.ISSUER}/logout"},
        # The name comes filled in (seed 001: "you only need to click Next").
        {"goto": authorize_url(prompt="login", login_hint=ALICE)},
        {"click": "button[type=submit]"},
        {"expect": "Log on with Passkey"},
        {"click": "#passkey-button"},
        {"landing": True},
    ])
    expect(id_token_of(report["landings"][-1])["amr"] == ["hwk", "user"], "amr")


def test_a_counter_that_went_back_is_refused_and_the_password_still_works():
    report = pages([
        *typed_sign_in(),
        {"authenticator": {"name": "key"}},
        {"click": "#passkey-button"},
        {"landing": True},
        {"sign_count": 0},  # a copy of the key, behind the original
        {"unplug": True},
        *typed_sign_in(),
        {"authenticator": {"name": "key"}},
        {"click": "#passkey-button"},
        {"expect": "Authentication failed: the passkey was not accepted."},
        {"expect": "or use your password instead"},
        *shot("passkey-refused.png"),
        {"fill": "#answer", "value": o.PASSWORDS["alice"]},
        {"click": "button[type=submit]"},
        {"landing": True},
    ])
    expect(id_token_of(report["landings"][-1])["amr"] == ["pwd"], "amr")
    expect(audit("auth.deny", user="alice", method="passkey", reason="counter_regression"),
           "no auth.deny reason=counter_regression")


def test_passkey_logon_switched_off_for_the_account():
    D.ctl("settings", "set", "--account", "web", "allow_passkey_logon=no")
    try:
        pages([
            *typed_sign_in(),
            {"expect": "Password"},
            {"absent": "#passkey-button"},
        ])
        # The general portal cannot know the account before the key answers: its answer,
        # signed by the authenticator itself, is refused with why.
        credential = laptop_credential()
        fields, options = fresh_logon()
        r = o.request("POST", "/login", {**fields, **signed_assertion(
            credential, options["challenge"], o.ISSUER, credential["signCount"] + 1000)})
        expect(r.status == 401 and "Passkey logon is not allowed for this account; use your "
               "password." in html.unescape(r.body), r)
        expect(audit("auth.deny", method="passkey", reason="passkey_logon_not_allowed"),
               "audit")
    finally:
        D.ctl("settings", "set", "--account", "web", "allow_passkey_logon=yes")


def test_the_account_page_sets_up_an_authenticator_app_and_changes_the_password():
    # Set up with two consecutive codes of Debian's oathtool; a recovery code shown once then
    # signs in as the second factor; the app is removed; the password changed, and only the
    # new one signs in. The account's own rules hold in each (the unit tests refuse the rest).
    new_password = "Correct-horse-26-staple"
    ledger.note(new_password, "password")
    try:
        report = pages([
            *account_page_with_password(),
            {"expect": "No authenticator app is set up."},
            {"fill": "#mfa-password", "value": o.PASSWORDS["alice"]},
            {"click": "#start-mfa"},
            {"expect": "Scan this QR code"},
            {"remember": "#totp-key", "as": "key"},
            *shot("account-authenticator-app.png", 1000),
            {"totp": "key", "fill": ["#first", "#second"]},
            {"click": "#confirm-mfa"},
            {"expect": "Authenticator app set up."},
            {"remember": "pre.codes", "as": "codes"},
            {"goto": f"{o.ISSUER}/logout"},
            *typed_sign_in(),
            {"fill": "#answer", "value": o.PASSWORDS["alice"]},
            {"click": "button[type=submit]"},
            {"expect": "Verification code"},
            {"fill": "#answer", "remembered": "codes", "line": 3},
            {"click": "button[type=submit]"},
            {"landing": True},
            {"goto": f"{o.ISSUER}/account"},
            {"fill": "#mfa-password", "value": o.PASSWORDS["alice"]},
            {"click": "#remove-mfa"},
            {"expect": "Authenticator app removed."},
            {"fill": "#current", "value": o.PASSWORDS["alice"]},
            {"fill": "#new", "value": "short"},
            {"fill": "#repeat", "value": "short"},
            {"click": "#change-password"},
            {"expect": "the password must be at least 8 characters long."},
            {"fill": "#current", "value": o.PASSWORDS["alice"]},
            {"fill": "#new", "value": new_password},
            {"fill": "#repeat", "value": new_password},
            {"click": "#change-password"},
            {"expect": "Password changed. Your other sessions have ended."},
            {"goto": f"{o.ISSUER}/logout"},
            *typed_sign_in(),
            {"fill": "#answer", "value": o.PASSWORDS["alice"]},
            {"click": "button[type=submit]"},
            {"expect": "Authentication failed: wrong user name or password."},
            {"fill": "#username", "value": ALICE},
            {"click": "button[type=submit]"},
            {"fill": "#answer", "value": new_password},
            {"click": "button[type=submit]"},
            {"landing": True},
        ])
        # The first landing's code came from a session the password change ended.
        expect(len(report["landings"]) == 2, report["landings"])
        expect(id_token_of(report["landings"][-1])["amr"] == ["pwd"], "amr")
    finally:
        D.ctl("mfa", "remove", ALICE, check=False)
        D.ctl("user", "set-password", "alice", "--stdin", input=o.PASSWORDS["alice"] + "\n")
    expect(audit("mfa.recovery_code.use", user="alice"), "no mfa.recovery_code.use")
    expect(audit("mfa.enroll", user="alice"), "no mfa.enroll")
    expect(audit("mfa.remove", user="alice"), "no mfa.remove")
    expect(audit("passwd.change", user="alice"), "no passwd.change")


if __name__ == "__main__":
    D = Daemon(extra_config=f'[oidc]\nlisten = "127.0.0.1:{o.PORT}"\n'
               # Every browser here comes from 127.0.0.1: no throttle of the one address.
               '[lockout]\nsource_failures_per_user = 0\nsource_failures = 0\n')
    o.D = D
    s.D = D
    try:
        D.start()
        D.ctl("directory", "init", "--domain", "example.internal")
        D.ctl("account", "create", "web")
        D.ctl("user", "create", "alice")
        D.ctl("user", "set-password", "alice", "--stdin", input=o.PASSWORDS["alice"] + "\n")
        o.add_client("app")
        run([
            test_a_passkey_added_on_the_account_page_signs_in_to_a_client_without_a_password,
            test_the_key_alone_signs_in_from_the_user_name_fields_autofill,
            test_a_replayed_response_is_refused,
            test_a_response_made_for_another_origin_is_refused_and_the_same_for_ours_is_not,
            test_passkey_logon_switched_off_for_the_account,
            test_two_passkeys_one_without_user_verification_and_the_removed_one_is_refused,
            test_a_passkey_is_the_second_factor_where_the_account_requires_mfa,
            test_the_dedicated_portal_and_a_prefilled_name_offer_the_passkey_after_next,
            test_a_counter_that_went_back_is_refused_and_the_password_still_works,
            test_the_account_page_sets_up_an_authenticator_app_and_changes_the_password,
        ])
    finally:
        D.__exit__(None, None, None)
