# SPDX-License-Identifier: Apache-2.0
"""A real latchkeyd on a temporary directory, driven by the real latchkeyctl and raw frames."""

import json
import os
import sqlite3
import signal
import socket
import struct
import subprocess
import time

from harness import Daemon, call, connect, ctl, expect, frame, hello, read_frame, run

PASSWORD = "Integration-Test-1"  # throwaway test fixture


def seed(d):
    d.ctl("directory", "init", "--domain", "example.internal")
    d.ctl("account", "create", "web", "--kind", "resource")
    d.ctl("account", "create", "lab", "--kind", "cloud")
    d.ctl("user", "create", "alice", "--display-name", "Alice Example")
    d.ctl("user", "set-password", "alice", "--stdin", input=PASSWORD + "\n")


def test_directory_accounts_and_users_survive_a_restart():
    d = Daemon()
    try:
        d.start()
        seed(d)
        d.ctl("account", "alias", "add", "web", "corp.example")
        before = d.ctl("user", "show", "alice@corp.example", json_out=True)
        expect(d.stop() == 0, "clean exit on SIGTERM")
        expect(not os.path.exists(d.admin_socket), "sockets removed on shutdown")
        d.start()
        after = d.ctl("user", "show", "alice@web.example.internal", json_out=True)
        expect(after["user"] == before["user"], f"{after} != {before}")
        expect(after["user"]["has_password"] is True)
        accounts = d.ctl("account", "list", json_out=True)["accounts"]
        names = sorted(a["name"] for a in accounts)
        expect(names == ["lab", "management", "web"], names)
        kinds = {a["name"]: a["kind"] for a in accounts}
        expect(kinds == {"lab": "cloud", "management": "management", "web": "resource"}, kinds)
        web = d.ctl("account", "show", "web", json_out=True)["account"]
        expect(web["default_domain"] == "web.example.internal" and web["aliases"] == ["corp.example"], web)
    finally:
        d.__exit__(None, None, None)


def test_tables_for_people_and_one_error_line_on_failure():
    with Daemon() as d:
        seed(d)
        out = d.ctl("user", "list").stdout
        expect("alice" in out and "alice@web.example.internal" in out, out)
        p = d.ctl("user", "show", "nobody", check=False)
        expect(p.returncode == 1, p)
        lines = p.stderr.strip().splitlines()
        expect(len(lines) == 1 and lines[0].startswith("latchkeyctl: "), p.stderr)
        expect("no user 'nobody'" in lines[0], lines)
        p = d.ctl("account", "create", "Bad_Name", check=False)
        expect(p.returncode == 1 and "not valid" in p.stderr, p.stderr)
        p = d.ctl("frobnicate", check=False)
        expect(p.returncode == 2, p)


def test_set_password_generate_custom_keep_and_policy_messages():
    with Daemon() as d:
        seed(d)
        p = d.ctl("user", "set-password", "alice", "--stdin", input="weakpass\n", check=False)
        expect(p.returncode == 1, p)
        expect("the password must contain an uppercase letter" in p.stderr, p.stderr)
        expect("weakpass" not in p.stderr and "weakpass" not in d.log(), "no echo of the password")
        gen = d.ctl("user", "set-password", "alice", "--generate", "--require-change", json_out=True)
        generated = gen["generated_password"]
        expect(len(generated) >= 20 and gen["user"]["require_change"] is True, gen)
        expect(generated not in d.log(), "a generated password never reaches the log")
        audit_db = os.path.join(d.dir, "lib", "latchkey.db")
        expect(generated.encode() not in open(audit_db, "rb").read(), "nor the database")
        keep = d.ctl("user", "set-password", "alice", "--keep", "--no-require-change", json_out=True)
        expect(keep["user"]["require_change"] is False, keep)
        expect(keep["user"]["password_set_at"] == gen["user"]["password_set_at"], keep)
        human = d.ctl("user", "set-password", "alice", "--generate").stdout
        expect(human.count("\n") >= 1 and "only once" in human, human)


def test_policy_and_settings_show_and_set():
    with Daemon() as d:
        seed(d)
        pol = d.ctl("policy", "show", json_out=True)
        expect(pol["account"] == "web" and pol["policy"]["min_length"] == 8, pol)
        d.ctl("policy", "set", "min_length=12", "history=3")
        pol = d.ctl("policy", "show", "--account", "web", json_out=True)["policy"]
        expect(pol["min_length"] == 12 and pol["history"] == 3, pol)
        p = d.ctl("policy", "set", "min_length=99", check=False)
        expect(p.returncode == 1 and "between 8 and 32" in p.stderr, p.stderr)
        p = d.ctl("settings", "set", "colour=blue", check=False)
        expect(p.returncode == 1 and "unknown key 'colour'" in p.stderr, p.stderr)
        d.ctl("settings", "set", "--account", "lab", "mfa_required=yes")
        s = d.ctl("settings", "show", "--account", "lab", json_out=True)["settings"]
        expect(s["mfa_required"] is True and s["allow_change_password"] is True, s)


def test_logon_flag_and_delete():
    with Daemon() as d:
        seed(d)
        d.ctl("user", "disable-logon", "alice")
        expect(d.ctl("user", "show", "alice", json_out=True)["user"]["console_logon"] is False)
        d.ctl("user", "enable-logon", "alice")
        expect(d.ctl("user", "show", "alice", json_out=True)["user"]["console_logon"] is True)
        p = d.ctl("user", "delete", "alice", check=False)  # no terminal, no --yes
        expect(p.returncode != 0, p)
        d.ctl("user", "delete", "alice", "--yes")
        expect(d.ctl("user", "show", "alice", check=False).returncode == 1)


def add_passkey_row(d, passkey_id, user_id, name, credential, created):
    # The web registration comes with the sign-in pages; until then a passkey is written the way
    # the store writes one (schema v10), straight into the real database file.
    db = sqlite3.connect(os.path.join(d.dir, "lib", "latchkey.db"))
    try:
        db.execute(
            "INSERT INTO passkeys (id, user_id, credential_id, public_key, algorithm, sign_count,"
            " aaguid, transports, backup_eligible, backed_up, user_verified, attestation, name,"
            " created_at, last_used_at) VALUES (?, ?, ?, 'pQECAyYgAQ==', -7, 0,"
            " 'f8a011f38c0a4d15800617111f9edc7d', '[\"usb\",\"nfc\"]', 0, 0, 1, 'packed', ?, ?, NULL)",
            (passkey_id, user_id, credential, name, created))
        db.commit()
    finally:
        db.close()


def test_administrators_list_show_and_remove_passkeys():
    with Daemon() as d:
        seed(d)
        alice = d.ctl("user", "show", "alice", json_out=True)["user"]
        expect(alice["passkeys"] == [], alice)
        expect("passkeys:             -" in d.ctl("user", "show", "alice").stdout)
        add_passkey_row(d, "pk-1", alice["id"], "YubiKey 5C", "Y3JlZC0x", 1_800_000_000)
        add_passkey_row(d, "pk-2", alice["id"], "Pixel", "Y3JlZC0y", 1_800_000_100)

        listed = d.ctl("passkey", "list", "alice", json_out=True)["passkeys"]
        expect([p["id"] for p in listed] == ["pk-1", "pk-2"], listed)
        expect(listed[0]["algorithm"] == "ES256" and listed[0]["transports"] == ["usb", "nfc"],
               listed)
        expect(listed[0]["aaguid"] == "f8a011f3-8c0a-4d15-8006-17111f9edc7d", listed)
        text = d.ctl("passkey", "list", "alice").stdout
        expect("PASSKEY ID" in text and "YubiKey 5C" in text and "Pixel" in text, text)
        shown = d.ctl("user", "show", "alice").stdout
        expect("passkeys:             YubiKey 5C (ES256, pk-1), Pixel (ES256, pk-2)" in shown, shown)

        p = d.ctl("passkey", "remove", "alice", "pk-9", check=False)
        expect(p.returncode == 1 and "no passkey 'pk-9'" in p.stderr, p)
        d.ctl("passkey", "remove", "alice", "pk-1")
        expect([k["id"] for k in d.ctl("passkey", "list", "alice", json_out=True)["passkeys"]]
               == ["pk-2"])
        events = [dict((f["key"], f["value"]) for f in e["fields"])
                  for e in d.ctl("audit", "--limit", "50", json_out=True)["events"]
                  if e["event"] == "passkey.remove"]
        expect(len(events) == 1 and events[0]["passkey"] == "pk-1"
               and events[0]["name"] == "YubiKey 5C"
               and events[0]["user"] == "alice@web.example.internal", events)
        p = d.ctl("passkey", "list", "nobody", check=False)
        expect(p.returncode == 1, p)


def test_a_non_admin_uid_is_refused_on_the_admin_socket():
    expect(os.geteuid() == 0, "this test switches to uid 65534 and must run as root")
    with Daemon() as d:
        seed(d)
        p = d.ctl("user", "list", user=65534, check=False)
        expect(p.returncode == 1, p)
        expect("permission denied" in p.stderr and "latchkey-admin" in p.stderr, p.stderr)
        expect(len(p.stderr.strip().splitlines()) == 1, p.stderr)
        # The PAM socket is open to everyone, but not for admin requests.
        r = subprocess.run(
            ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "python3", "-c",
             "import json,socket,struct,sys;s=socket.socket(socket.AF_UNIX);s.connect(sys.argv[1]);"
             "m=json.dumps({'type':'account.list'}).encode();s.sendall(struct.pack('>I',len(m))+m);"
             "n=struct.unpack('>I',s.recv(4))[0];print(s.recv(n).decode())", d.pam_socket],
            capture_output=True, text=True, timeout=10)
        reply = json.loads(r.stdout)
        expect(reply["type"] == "failure" and reply["error"] == "permission_denied", reply)
        # Root still administers.
        expect(len(d.ctl("user", "list", json_out=True)["users"]) == 1)


def test_random_bytes_and_bad_frames_leave_the_daemon_serving():
    with Daemon(extra_config="[limits]\nread_timeout_s = 1\n") as d:
        seed(d)
        rng = __import__("random").Random(1234)
        for path in (d.pam_socket, d.admin_socket):
            for _ in range(30):  # random junk, then hang up
                with connect(path) as s:
                    s.sendall(bytes(rng.getrandbits(8) for _ in range(rng.randrange(1, 400))))
            # An oversized frame is refused from its header, with a reason.
            with connect(path) as s:
                s.sendall(struct.pack(">I", 0x7FFFFFFF) + b"{")
                reply = read_frame(s)
                expect(reply["error"] == "protocol_too_large", reply)
                expect(s.recv(1) == b"", "the connection is closed after a lost framing")
            # Well-framed garbage and unknown types get an error reply and the connection stays.
            with connect(path) as s:
                for payload, err in ((b"not json", "protocol_malformed"),
                                     (b'{"type":"launch.missiles"}', "protocol_unknown_message"),
                                     (b'{"type":"account.create","name":5}', "protocol_malformed")):
                    s.sendall(frame(payload))
                    reply = read_frame(s)
                    expect(reply["type"] == "failure" and reply["error"] == err, reply)
                s.sendall(frame(b'{"type":"hello","version":1,"client":"it"}'))
                expect(read_frame(s)["type"] == "hello.reply")
            # A truncated frame then a hang-up.
            with connect(path) as s:
                s.sendall(struct.pack(">I", 100) + b'{"type":')
            # A wrong protocol version is refused politely.
            reply = call(path, {"type": "hello", "version": 99, "client": "it"})
            expect(reply["error"] == "protocol_version", reply)
        expect(d.proc.poll() is None, "daemon still running")
        expect(len(d.ctl("user", "list", json_out=True)["users"]) == 1)
        hello(d.pam_socket)


def test_a_stalled_client_is_disconnected_and_others_are_served_meanwhile():
    with Daemon(extra_config="[limits]\nread_timeout_s = 1\n") as d:
        seed(d)
        slow = connect(d.admin_socket, timeout=10)
        slow.sendall(struct.pack(">I", 50) + b'{"type"')  # and then nothing
        idle = connect(d.pam_socket, timeout=10)          # sends nothing at all
        started = time.monotonic()
        expect(len(d.ctl("account", "list", json_out=True)["accounts"]) == 3, "served while stalled")
        expect(time.monotonic() - started < 1, "other clients are not held up")
        expect(slow.recv(1) == b"" and idle.recv(1) == b"", "stalled connections are closed")
        expect(time.monotonic() - started < 5, "within the read timeout")
        slow.close()
        idle.close()


def test_a_person_may_take_longer_than_the_read_timeout_to_answer_a_prompt():
    config = "[limits]\nread_timeout_s = 1\nanswer_timeout_s = 3\n"
    with Daemon(extra_config=config) as d:
        seed(d)
        begin = {"type": "auth.begin", "service": "it", "user": "alice",
                 "ignore_unknown_user": False, "single_prompt": False}
        with connect(d.pam_socket, timeout=10) as s:
            s.sendall(frame(json.dumps(begin).encode()))
            reply = read_frame(s)
            expect(reply["prompt"]["kind"] == "password", reply)
            time.sleep(2)  # longer than read_timeout_s, as a person typing
            s.sendall(frame(json.dumps({"type": "auth.answer", "answer": PASSWORD}).encode()))
            reply = read_frame(s)
            expect(reply["verdict"]["outcome"] == "success", reply)
        with connect(d.pam_socket, timeout=10) as s:
            s.sendall(frame(json.dumps(begin).encode()))
            expect(read_frame(s)["prompt"]["kind"] == "password")
            started = time.monotonic()
            expect(s.recv(1) == b"", "a dialogue nobody answers is closed")
            expect(2 < time.monotonic() - started < 6, "after answer_timeout_s")


def test_sighup_reloads_the_config_and_a_bad_config_keeps_the_old_one():
    with Daemon() as d:
        seed(d)
        expect(d.ctl("user", "show", "alice", check=False).returncode == 0)
        d.write_config(account="lab")
        d.proc.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 5
        while "configuration reloaded" not in d.log() and time.monotonic() < deadline:
            time.sleep(0.05)
        p = d.ctl("user", "show", "alice", check=False)
        expect(p.returncode == 1 and "account lab" in p.stderr, p.stderr)
        with open(d.config_path, "a") as f:
            f.write("[bogus]\n")
        d.proc.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 5
        while "reload failed" not in d.log() and time.monotonic() < deadline:
            time.sleep(0.05)
        expect("reload failed" in d.log() and "bogus: unknown section" in d.log(), d.log())
        expect(d.proc.poll() is None)
        expect(d.ctl("user", "show", "alice@web.example.internal").returncode == 0)


def test_a_bad_config_stops_the_daemon_with_a_clear_message():
    d = Daemon(extra_config="[limits]\nworkerz = 2\n")
    try:
        d.start(wait=False)
        expect(d.proc.wait(10) == 78, d.proc.returncode)
        expect("limits.workerz: unknown key" in d.log(), d.log())
    finally:
        d.__exit__(None, None, None)


def test_passkeys_refuse_a_plain_http_origin_at_start():
    # Browsers offer passkeys only to https pages (and http://localhost): a provider on plain
    # http elsewhere would show buttons that never work, so latchkeyd says so and stops.
    d = Daemon(extra_config='[oidc]\nlisten = "127.0.0.1:0"\nissuer = "http://login.example.org"\n')
    try:
        d.start(wait=False)
        expect(d.proc.wait(10) == 78, d.proc.returncode)
        expect("webauthn.origins: http://login.example.org is plain http" in d.log(), d.log())
        expect("tls_certificate" in d.log(), d.log())
    finally:
        d.__exit__(None, None, None)


def test_sd_notify_ready_and_stopping():
    d = Daemon()
    sock_path = os.path.join(d.dir, "notify.sock")
    notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    notify.bind(sock_path)
    notify.settimeout(10)
    try:
        d.env = {"NOTIFY_SOCKET": sock_path}
        d.start(wait=False)
        expect(b"READY=1" in notify.recv(4096))
        d.wait_ready()
        d.stop()
        expect(b"STOPPING=1" in notify.recv(4096))
    finally:
        notify.close()
        d.__exit__(None, None, None)


def test_sockets_from_systemd_socket_activation_are_used():
    d = Daemon()
    try:
        os.makedirs(d.run_dir)
        socks = []
        for path in (d.pam_socket, d.admin_socket):
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.bind(path)
            s.listen(16)
            socks.append(s)
        fds = [s.fileno() for s in socks]
        # The sd_listen_fds(3) protocol: fds from 3 on, LISTEN_PID = our pid, LISTEN_FDS.
        wrapper = ("import os,sys;fds=[int(x) for x in sys.argv[1:3]];"
                   "[os.dup2(f,3+i) for i,f in enumerate(fds)];"
                   "os.environ['LISTEN_PID']=str(os.getpid());os.environ['LISTEN_FDS']='2';"
                   "os.execv(sys.argv[3],sys.argv[3:])")
        d.start(extra_args=["python3", "-c", wrapper, str(fds[0]), str(fds[1])], pass_fds=fds)
        for s in socks:
            s.close()
        seed(d)
        expect("from systemd" in d.log(), d.log())
        expect(d.stop() == 0)
        expect(os.path.exists(d.admin_socket), "sockets systemd owns are left in place")
    finally:
        d.__exit__(None, None, None)


def test_the_database_is_sqlite_in_wal_mode_with_private_permissions():
    with Daemon() as d:
        seed(d)
        db = os.path.join(d.dir, "lib", "latchkey.db")
        expect(oct(os.stat(db).st_mode & 0o777) == "0o600", oct(os.stat(db).st_mode))
        mode = subprocess.run(["sqlite3", db, "PRAGMA journal_mode;"], capture_output=True,
                              text=True).stdout.strip()
        expect(mode == "wal", mode)
        hashes = subprocess.run(["sqlite3", db, "SELECT password_hash FROM users WHERE password_hash <> '';"],
                                capture_output=True, text=True).stdout
        expect(hashes.startswith("$argon2id$v=19$m=8192,t=1,p=1$"), hashes)


if __name__ == "__main__":
    run([
        test_directory_accounts_and_users_survive_a_restart,
        test_tables_for_people_and_one_error_line_on_failure,
        test_set_password_generate_custom_keep_and_policy_messages,
        test_policy_and_settings_show_and_set,
        test_logon_flag_and_delete,
        test_administrators_list_show_and_remove_passkeys,
        test_a_non_admin_uid_is_refused_on_the_admin_socket,
        test_random_bytes_and_bad_frames_leave_the_daemon_serving,
        test_a_stalled_client_is_disconnected_and_others_are_served_meanwhile,
        test_a_person_may_take_longer_than_the_read_timeout_to_answer_a_prompt,
        test_sighup_reloads_the_config_and_a_bad_config_keeps_the_old_one,
        test_a_bad_config_stops_the_daemon_with_a_clear_message,
        test_passkeys_refuse_a_plain_http_origin_at_start,
        test_sd_notify_ready_and_stopping,
        test_sockets_from_systemd_socket_activation_are_used,
        test_the_database_is_sqlite_in_wal_mode_with_private_permissions,
    ])
