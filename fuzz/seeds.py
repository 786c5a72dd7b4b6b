#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Seeds for the webauthn fuzzers, made at run time from ../shared/conformance/webauthn/ when
it is there (the vectors are read where they are, never copied into the project), in the input
format each fuzz target reads (fuzz/fuzz_*.cpp)."""
import base64
import calendar
import json
import os
import sys
import time

DEFAULT_TIME = 1735689600  # 2025-01-01, as fuzz/harness.hpp


def b64(text):
    text = text.replace('-', '+').replace('_', '/').rstrip('=')
    return base64.b64decode(text + '=' * (-len(text) % 4))


def auth_data_of(attestation_object):
    # The bytes after the map key "authData": a byte string of 1- or 2-byte length. A seed only
    # needs to be close; the fuzzer decodes properly.
    at = attestation_object.find(b'hauthData')
    if at < 0:
        return None
    head = attestation_object[at + 9:]
    if head[:1] == b'\x58':
        return head[2:2 + head[1]]
    if head[:1] == b'\x59':
        return head[3:3 + int.from_bytes(head[1:3], 'big')]
    return None


def unix(at):
    if not at:
        return DEFAULT_TIME
    return calendar.timegm(time.strptime(at[:19], '%Y-%m-%dT%H:%M:%S'))


def first(v):
    return v[0] if isinstance(v, list) else v


def seeds(conformance):
    """{fuzzer name: [bytes, ...]}"""
    out = {n: [] for n in ('client_data', 'authenticator_data', 'cose_key', 'attestation_object',
                           'registration', 'authentication')}
    for kind in ('registration', 'authentication'):
        folder = os.path.join(conformance, kind)
        if not os.path.isdir(folder):
            continue
        for name in sorted(os.listdir(folder)):
            if not name.endswith('.json'):
                continue
            with open(os.path.join(folder, name)) as f:
                v = json.load(f)
            r = v['response']['response']
            client_data = b64(r['clientDataJSON'])
            rp_id = first(v['expectedRPID']).encode()
            response = json.dumps(v['response']).encode()
            out['client_data'].append(client_data)
            if kind == 'registration':
                obj = b64(r['attestationObject'])
                out['attestation_object'].append(client_data + b'\n' + obj)
                auth_data = auth_data_of(obj)
                if auth_data:
                    out['authenticator_data'].append(auth_data)
                key = v.get('decoded', {}).get('credentialPublicKey')
                if key:
                    out['cose_key'].append(b64(key))
                when = str(unix(v.get('verifyAt'))).encode()
                out['registration'].append(rp_id + b'\n' + when + b'\n' + response)
            else:
                out['authenticator_data'].append(b64(r['authenticatorData']))
                cred = v['credential']
                out['cose_key'].append(b64(cred['publicKey']))
                out['authentication'].append(rp_id + b'\n' + cred['publicKey'].encode() + b'\n' +
                                             str(cred['counter']).encode() + b'\n' + response)
    return out


def write(conformance, target, name):
    os.makedirs(target, exist_ok=True)
    items = seeds(conformance).get(name, [])
    for i, data in enumerate(items):
        with open(os.path.join(target, 'seed-%03d' % i), 'wb') as f:
            f.write(data)
    return len(items)


if __name__ == '__main__':
    print(write(sys.argv[1], sys.argv[2], sys.argv[3]))
