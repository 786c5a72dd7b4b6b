# SPDX-License-Identifier: Apache-2.0
"""The secrets an integration test used, and the check that none of them reached a log.

Every secret the tests hand to latchkey or get from it is noted here: passwords given on
standard input, generated passwords, TOTP secrets, recovery codes, client and access-key secrets,
tokens. Each log a test produces (latchkeyd's log and audit, sshd's log, the browser driver's
output) is checked against them before it is thrown away (issue 24). A failure names the log and
the kind of secret, never the secret."""

import urllib.parse

# value -> what it is ("password", "recovery code", ...)
SECRETS = {}

# JSON keys whose string values (or lists of them) are secrets.
SECRET_KEYS = {
    "generated_password": "generated password",
    "secret": "secret",
    "client_secret": "client secret",
    "recovery_codes": "recovery code",
    "access_token": "access token",
    "refresh_token": "refresh token",
    "id_token": "ID token",
}

# Shorter values (a six-digit code) would be found in timestamps by chance.
MIN_LENGTH = 8


def note(value, kind="secret"):
    if isinstance(value, str) and len(value) >= MIN_LENGTH:
        SECRETS.setdefault(value, kind)


def harvest(obj):
    """Notes the secrets in a JSON value latchkey or a client returned."""
    if isinstance(obj, dict):
        for k, v in obj.items():
            if k in SECRET_KEYS:
                for item in v if isinstance(v, list) else [v]:
                    note(item, SECRET_KEYS[k])
            elif isinstance(v, str) and v.startswith("otpauth://"):
                query = urllib.parse.parse_qs(urllib.parse.urlsplit(v).query)
                for s in query.get("secret", []):
                    note(s, "TOTP secret")
            else:
                harvest(v)
    elif isinstance(obj, list):
        for item in obj:
            harvest(item)


def check(text, where):
    """Raises if `text` (a log) holds a noted secret; says which kind, not what."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    found = sorted({kind for value, kind in SECRETS.items() if value in text})
    if found:
        raise AssertionError(f"{where} holds secrets: {', '.join(found)}")
