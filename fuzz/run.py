#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Runs one libFuzzer target for a bounded time, seeded from the conformance vectors when they
are present. Any crash, leak, timeout or out-of-memory fails (exit status non-zero), and the
input that did it is printed in base64 so it can be replayed: `FUZZER file`.

    run.py FUZZER NAME SECONDS"""
import base64
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import seeds  # noqa: E402

SOURCE = os.environ.get('LATCHKEY_SOURCE_DIR',
                        os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CONFORMANCE = os.path.join(SOURCE, '..', 'shared', 'conformance', 'webauthn')


def main():
    fuzzer, name, seconds = sys.argv[1], sys.argv[2], int(sys.argv[3])
    work = tempfile.mkdtemp(prefix='latchkey-fuzz-')
    try:
        corpus = os.path.join(work, 'corpus')
        count = seeds.write(CONFORMANCE, corpus, name)
        print('%s: %d seeds from %s' % (name, count, os.path.normpath(CONFORMANCE)), flush=True)
        env = dict(os.environ,
                   ASAN_OPTIONS='detect_leaks=1:abort_on_error=0:allocator_may_return_null=1',
                   UBSAN_OPTIONS='halt_on_error=1:print_stacktrace=1')
        args = [fuzzer, '-max_total_time=%d' % seconds, '-timeout=10', '-rss_limit_mb=2048',
                '-max_len=65536', '-print_final_stats=1',
                '-artifact_prefix=' + os.path.join(work, ''), corpus]
        rc = subprocess.call(args, env=env)
        bad = [f for f in os.listdir(work) if f.split('-')[0] in ('crash', 'leak', 'timeout', 'oom', 'slow')]
        for f in bad:
            with open(os.path.join(work, f), 'rb') as data:
                print('%s input (base64): %s' % (f, base64.b64encode(data.read()).decode()))
        if rc != 0 or bad:
            print('%s: FAILED (exit %d)' % (name, rc))
            return 1
        print('%s: no crash, leak or timeout in %d s' % (name, seconds))
        return 0
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == '__main__':
    sys.exit(main())
