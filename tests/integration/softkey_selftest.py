# SPDX-License-Identifier: Apache-2.0
"""Proves the security key test machinery as processes: latchkey-test-softkey (the software
CTAP2 key at a Unix socket) driven through the real latchkey-fido helper, with the helper's
conversation (proto/security_key.hpp) framed here in Python, independently of the C++ side.
Enrolment, a sign-in whose signature verifies with the enrolled key, a counter that rises,
then each control of the key: untouched (timeout), unplugged (no device), plugged back, and a
clone whose counter falls behind. The PAM tests (hostkey_test.py) build on this.

Environment: LATCHKEY_FIDO (the helper), LATCHKEY_TEST_SOFTKEY (the key), set by meson."""

import base64
import hashlib
import json
import os
import socket
import struct
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from cryptography.hazmat.primitives import hashes  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec  # noqa: E402

from harness import expect, run  # noqa: E402

HELPER = os.environ["LATCHKEY_FIDO"]
SOFTKEY = os.environ["LATCHKEY_TEST_SOFTKEY"]
RP = "pam:example.internal"
ORIGIN = "pam://example.internal"
DIR = tempfile.mkdtemp(prefix="latchkey-softkey-")
SOCKET = os.path.join(DIR, "key.sock")
KEY = None
ENROLLED = {}


def b64u(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64u(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def control(command):
    KEY.stdin.write(command + "\n")
    KEY.stdin.flush()
    expect(KEY.stdout.readline().strip() == "ok", command)


def send(sock, message):
    payload = json.dumps(message).encode()
    sock.sendall(struct.pack(">I", len(payload)) + payload)


def receive(sock):
    header = b""
    while len(header) < 4:
        chunk = sock.recv(4 - len(header))
        expect(chunk, "the helper closed the conversation")
        header += chunk
    (n,) = struct.unpack(">I", header)
    body = b""
    while len(body) < n:
        chunk = sock.recv(n - len(body))
        expect(chunk, "the helper closed the conversation mid-frame")
        body += chunk
    return json.loads(body)


def ceremony(kind, allow=(), **extra):
    """Runs one ceremony through a fresh helper; returns (messages seen, key.done's result,
    the challenge)."""
    challenge = os.urandom(32)
    c = {"kind": kind, "rp_id": RP, "origin": ORIGIN, "challenge": b64u(challenge),
         "allow": [b64u(i) for i in allow], "user_verification": False, "timeout_s": 5,
         "rp_name": "latchkey", "user_handle": b64u(b"alice's handle"), "user_name": "alice",
         "display_name": "Alice", **extra}
    ours, theirs = socket.socketpair()
    with ours:
        helper = subprocess.Popen([HELPER], stdin=theirs, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.PIPE, env={"PATH": "/usr/bin:/bin"})
        theirs.close()
        send(ours, {"type": "key.start", "ceremony": c, "device": "unix:" + SOCKET})
        seen = []
        while True:
            m = receive(ours)
            seen.append(m["type"])
            if m["type"] == "key.done":
                break
    _, err = helper.communicate(timeout=30)
    expect(helper.returncode == 0, err)
    return seen, m["result"], challenge


def auth_data_fields(auth_data):
    return {"rp_id_hash": auth_data[:32], "flags": auth_data[32],
            "counter": struct.unpack(">I", auth_data[33:37])[0], "rest": auth_data[37:]}


def sign_in():
    seen, result, challenge = ceremony("get", allow=[ENROLLED["id"]])
    expect(result["problem"] == "", result)
    r = json.loads(result["response"])["response"]
    client = unb64u(r["clientDataJSON"])
    data = json.loads(client)
    expect(data == {"type": "webauthn.get", "challenge": b64u(challenge), "origin": ORIGIN,
                    "crossOrigin": False}, data)
    auth_data = unb64u(r["authenticatorData"])
    fields = auth_data_fields(auth_data)
    expect(fields["rp_id_hash"] == hashlib.sha256(RP.encode()).digest(), "rpIdHash")
    ENROLLED["key"].verify(unb64u(r["signature"]), auth_data + hashlib.sha256(client).digest(),
                           ec.ECDSA(hashes.SHA256()))
    return seen, fields


def test_a_key_enrolled_through_the_helper_signs_in_with_a_rising_counter():
    seen, result, _ = ceremony("create")
    expect(seen == ["key.touch", "key.done"] and result["problem"] == "", (seen, result))
    response = json.loads(result["response"])
    expect(response["type"] == "public-key" and response["response"]["transports"] == ["usb"],
           response)
    # The credential's public key, read from the attested credential data by hand: the COSE
    # key's x (-2) and y (-3) are the two 32-byte strings after their labels (0x21, 0x22).
    att = unb64u(response["response"]["attestationObject"])
    auth_data = att[att.index(b"authData") + 8 + 2:]  # the key, then a byte string 0x58 LEN
    fields = auth_data_fields(auth_data)
    expect(fields["flags"] & 0x41 == 0x41, "user present, attested data")
    rest = fields["rest"]
    id_len = struct.unpack(">H", rest[16:18])[0]
    ENROLLED["id"] = rest[18:18 + id_len]
    expect(ENROLLED["id"] == unb64u(response["id"]), "credential id")
    cose = rest[18 + id_len:]
    after_x = cose.index(b"\x21\x58\x20") + 3
    x = cose[after_x:after_x + 32]
    y = cose[cose.index(b"\x22\x58\x20", after_x + 32) + 3:][:32]
    ENROLLED["key"] = ec.EllipticCurvePublicNumbers(
        int.from_bytes(x, "big"), int.from_bytes(y, "big"), ec.SECP256R1()).public_key()
    _, first = sign_in()
    _, second = sign_in()
    expect(second["counter"] > first["counter"] > 0, (first, second))


def test_nobody_touching_it_is_a_timeout():
    control("untouched")
    try:
        _, result, _ = ceremony("get", allow=[ENROLLED["id"]])
        expect(result["problem"] == "timeout", result)
    finally:
        control("touched")


def test_unplugged_it_is_no_device_and_plugged_back_it_answers():
    control("unplug")
    seen, result, _ = ceremony("get", allow=[ENROLLED["id"]])
    expect(seen == ["key.done"] and result["problem"] == "no_device", (seen, result))
    control("plug")
    sign_in()


def test_a_clones_counter_falls_behind():
    control("clone")
    _, before = sign_in()
    _, original = sign_in()
    control("use-clone")
    _, cloned = sign_in()
    expect(cloned["counter"] < original["counter"], (before, original, cloned))


if __name__ == "__main__":
    KEY = subprocess.Popen([SOFTKEY, "--socket", SOCKET], stdin=subprocess.PIPE,
                           stdout=subprocess.PIPE, text=True)
    try:
        expect(KEY.stdout.readline().strip() == "ready", "latchkey-test-softkey did not start")
        run([
            test_a_key_enrolled_through_the_helper_signs_in_with_a_rising_counter,
            test_nobody_touching_it_is_a_timeout,
            test_unplugged_it_is_no_device_and_plugged_back_it_answers,
            test_a_clones_counter_falls_behind,
        ])
    finally:
        KEY.stdin.close()
        KEY.wait(timeout=10)
        for name in os.listdir(DIR):
            os.unlink(os.path.join(DIR, name))
        os.rmdir(DIR)
