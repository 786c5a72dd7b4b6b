# SPDX-License-Identifier: Apache-2.0
"""latchkeyd killed (SIGKILL) at random moments in a burst of administrative writes and logons,
20 times over, restarted each time: the database stays whole (PRAGMA integrity_check) and every
change latchkeyd acknowledged to a client is there after the restart (issue 24).

The moments come from a seeded generator, so a failing run can be repeated (LATCHKEY_CRASH_SEED)."""

import json
import os
import random
import signal
import subprocess
import threading
import time

from harness import Daemon, connect, expect, frame, read_frame, run

ROUNDS = 20
SEED = int(os.environ.get("LATCHKEY_CRASH_SEED", "24"))
FIRST_PASSWORD = "Crash-Test-Passw0rd-0"  # throwaway test fixtures


def password_of(round_no):
    return f"Crash-Test-Passw0rd-{round_no}"


def logon(path, user, password):
    """One logon over the raw protocol as root; True on success, None if the daemon went away."""
    try:
        with connect(path) as s:
            s.sendall(frame(json.dumps({"type": "auth.begin", "service": "crash", "user": user,
                                        "ignore_unknown_user": False,
                                        "single_prompt": False}).encode()))
            if read_frame(s) is None:
                return None
            s.sendall(frame(json.dumps({"type": "auth.answer", "answer": password}).encode()))
            reply = read_frame(s)
            if reply is None:
                return None
            return reply.get("verdict", {}).get("outcome") == "success"
    except (OSError, ValueError):
        return None


def test_acknowledged_changes_survive_sigkill_and_the_database_stays_whole():
    rng = random.Random(SEED)
    d = Daemon()
    db = os.path.join(d.dir, "lib", "latchkey.db")
    acknowledged_users = []
    acknowledged_password = FIRST_PASSWORD
    try:
        d.start()
        d.ctl("directory", "init", "--domain", "example.internal")
        d.ctl("account", "create", "web")
        d.ctl("user", "create", "alice")
        d.ctl("user", "set-password", "alice", "--stdin", input=FIRST_PASSWORD + "\n")
        # A logon racing a password change may try the old one: no lock may end the test.
        d.ctl("policy", "set", "max_failed_per_hour=0")
        logons_ok = 0
        for round_no in range(1, ROUNDS + 1):
            stop = threading.Event()
            acked = []
            password_acked = []

            def writer():
                i = 0
                while not stop.is_set():
                    name = f"u{round_no}x{i}"
                    p = d.ctl("user", "create", name, check=False)
                    if p.returncode == 0:
                        acked.append(name)
                    i += 1
                    if i == 3:  # and a password, mid-burst
                        p = d.ctl("user", "set-password", "alice", "--stdin",
                                  input=password_of(round_no) + "\n", check=False)
                        if p.returncode == 0:
                            password_acked.append(password_of(round_no))

            def logons():
                nonlocal logons_ok
                while not stop.is_set():
                    current = password_acked[-1] if password_acked else acknowledged_password
                    if logon(d.pam_socket, "alice", current):
                        logons_ok += 1

            threads = [threading.Thread(target=writer), threading.Thread(target=logons)]
            for t in threads:
                t.start()
            time.sleep(rng.uniform(0.05, 0.6))
            d.proc.send_signal(signal.SIGKILL)
            d.proc.wait(10)
            stop.set()
            for t in threads:
                t.join(30)
            acknowledged_users += acked
            if password_acked:
                acknowledged_password = password_acked[-1]

            check = subprocess.run(["sqlite3", db, "PRAGMA integrity_check;"],
                                   capture_output=True, text=True, timeout=30)
            expect(check.stdout.strip() == "ok", (round_no, check.stdout, check.stderr))
            d.start()  # over the sockets the killed daemon left behind
            names = {u["name"] for u in d.ctl("user", "list", json_out=True)["users"]}
            missing = [u for u in acknowledged_users if u not in names]
            expect(not missing, (round_no, "acknowledged but lost", missing))
            # The password last acknowledged is the one in force (or a later one, whose
            # acknowledgement the kill cut off).
            if not logon(d.pam_socket, "alice", acknowledged_password):
                later = [password_of(r) for r in range(round_no, round_no + 1)]
                expect(any(logon(d.pam_socket, "alice", p) for p in later),
                       (round_no, "the acknowledged password does not log on"))
                acknowledged_password = later[0]
        expect(len(acknowledged_users) >= ROUNDS, ("too few writes to prove much",
                                                   len(acknowledged_users)))
        expect(logons_ok > 0, "no logon ran during the bursts")
        print(f"# {len(acknowledged_users)} users acknowledged over {ROUNDS} kills, "
              f"{logons_ok} logons succeeded meanwhile", flush=True)
    finally:
        d.__exit__(None, None, None)


if __name__ == "__main__":
    run([test_acknowledged_changes_survive_sigkill_and_the_database_stays_whole])
