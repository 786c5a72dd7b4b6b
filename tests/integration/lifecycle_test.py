# SPDX-License-Identifier: Apache-2.0
"""The account lifecycle end to end (seeds 000, 002, 003) against a real latchkeyd: phone codes
read from the spool notifier's files, the daily limit across a restart, switches, root recovery
and then root logons through pamtester (pam_wrapper) with password and oathtool codes on a host
bound to the cloud account, centralized root access, administrators signed in with
`latchkeyctl --as`, and alerts in both the spool and the audit. The clock is the test's
([testing] clock_file); no code or password may appear in any log."""

import glob
import json
import os
import re
import subprocess
import time

from harness import LATCHKEYCTL, expect, run
from pam_test import AUTH_ERR, World

# Throwaway test fixtures, nobody's real passwords or numbers.
PHONE = "+4915112345678"
NEW_PHONE = "+4915187654321"
ROOT_PW = "Root-Recovered-1!"
OPS_PW = "Ops-Passw0rd-1!"
DANA_PW = "Dana-Passw0rd-1!"
ERIN_PW = "Erin-Passw0rd-1!"
SECRETS = set()  # every code and password the tests used: none may be logged
ROOT_KEY = {}  # web's root's TOTP key, once enrolled

W = None


def spool_dir():
    return os.path.join(W.daemon.dir, "lib", "spool")


def spooled(kind=None):
    out = []
    # The names share the second of the test's clock: order by when each file was written.
    paths = sorted(glob.glob(os.path.join(spool_dir(), "*.json")), key=lambda p: os.stat(p).st_mtime_ns)
    for path in paths:
        expect(os.stat(path).st_mode & 0o777 == 0o600, path)
        with open(path) as f:
            message = json.load(f)
        if kind is None or message["kind"] == kind:
            out.append(message)
    return out


def last_code(account, phone=PHONE):
    codes = [m for m in spooled("verification_code") if m["account"] == account]
    expect(codes, "a verification code in the spool")
    expect(codes[-1]["phone"] == phone, codes[-1])
    SECRETS.add(codes[-1]["code"])
    return codes[-1]["code"]


def ctl(*args, **kw):
    return W.daemon.ctl(*args, **kw)


def fails(*args, input=None):
    r = ctl(*args, input=input, check=False)
    expect(r.returncode == 1, (args, r.returncode, r.stdout, r.stderr))
    return r.stderr


def later(seconds):
    W.set_clock(W.now + seconds)
    return W.now


def totp(key, t):
    return subprocess.run(["oathtool", "--totp", "-b", key, "-N", f"@{t}"], check=True,
                          capture_output=True, text=True).stdout.strip()


def bind(account, phone=PHONE):
    out = ctl("account", "phone", "bind", account, phone).stdout
    expect(phone in out and "10 minutes" in out, out)
    code = last_code(account, phone)
    shown = ctl("--json", "account", "phone", "verify", account, code).stdout
    expect(json.loads(shown)["account"]["phone"] == phone, shown)


def account(name):
    return ctl("account", "show", name, json_out=True)["account"]


def alerts():
    return ctl("audit", "--severity", "alert", "--limit", "1000", json_out=True)["events"]


def test_a_phone_is_bound_with_a_code_from_the_spool():
    ctl("account", "create", "shop")
    expect("E.164" in fails("account", "phone", "bind", "shop", "0151-1234567"))
    out = ctl("account", "phone", "bind", "shop", PHONE).stdout
    expect(PHONE in out, out)
    message = spooled("verification_code")[-1]
    expect(re.fullmatch(r"[0-9]{6}", message["code"]) and message["code"] not in message["text"],
           message)
    code = last_code("shop")
    expect("wrong verification code; 4 tries left" in
           fails("account", "phone", "verify", "shop", "000000" if code != "000000" else "111111"))
    # From standard input too (no terminal).
    r = ctl("account", "phone", "verify", "shop", input=code + "\n")
    expect(PHONE in r.stdout, r.stdout)
    expect(account("shop")["phone"] == PHONE)
    err = fails("account", "phone", "bind", "shop", NEW_PHONE)
    expect("switch the account to a cloud account first" in err, err)


def test_a_code_expires_after_ten_minutes_and_dies_after_five_wrong_tries():
    ctl("account", "create", "expiry")
    ctl("account", "phone", "bind", "expiry", PHONE)
    code = last_code("expiry")
    later(600)
    expect("expired" in fails("account", "phone", "verify", "expiry", code))
    ctl("account", "phone", "bind", "expiry", PHONE)
    code = last_code("expiry")
    wrong = "000000" if code != "000000" else "111111"
    for left in (4, 3, 2, 1):
        err = fails("account", "phone", "verify", "expiry", wrong)
        expect(f"{left} tr" in err, err)
    expect("last try" in fails("account", "phone", "verify", "expiry", wrong))
    expect("no verification code is waiting" in
           fails("account", "phone", "verify", "expiry", code))
    expect(account("expiry").get("phone") is None)


def test_the_101st_code_of_a_day_is_refused_also_after_a_restart():
    ctl("account", "create", "busy")
    for i in range(100):
        ctl("account", "phone", "bind", "busy", PHONE)
    err = fails("account", "phone", "bind", "busy", PHONE)
    expect("100 verification codes today" in err, err)
    W.daemon.stop()
    W.daemon.start()
    err = fails("account", "phone", "bind", "busy", PHONE)
    expect("100 verification codes today" in err, err)
    expect(account("busy")["codes_sent_today"] == 100)
    sent = [m for m in spooled("verification_code") if m["account"] == "busy"]
    expect(len(sent) == 100, len(sent))
    for m in sent:
        SECRETS.add(m["code"])


def test_switching_to_cloud_needs_a_phone_and_the_acknowledgement():
    err = fails("account", "switch", "web", "--to", "cloud", "--acknowledge-risk")
    expect("no bound phone" in err, err)
    bind("web")
    err = fails("account", "switch", "web", "--to", "cloud")
    expect("root user" in err and "--acknowledge-risk" in err and "Nothing was changed" in err,
           err)
    expect(account("web")["kind"] == "resource")
    r = W.pt("lk", "root", ["authenticate"], {"Password": "anything"})
    expect(r[0] != 0 and "disabled on resource accounts" in r[2], r)


def test_root_is_recovered_through_the_spool_then_logs_on_with_password_and_totp():
    out = ctl("account", "switch", "web", "--to", "cloud", "--acknowledge-risk").stdout
    expect("cloud" in out, out)
    root = account("web")["root"]
    expect(root["exists"] and not root["has_password"] and not root["has_mfa"], root)
    r = W.pt("lk", "root", ["authenticate"], {"Password": "anything"})
    expect(r[0] != 0 and "has no password" in r[2], r)

    ctl("account", "root", "recover", "web", "--send-only")
    code = last_code("web")
    err = fails("account", "root", "recover", "web", "--code", input=f"{code}\nshort\n")
    expect("password" in err, err)  # the account's policy decides
    ctl("account", "root", "recover", "web", "--send-only")
    code = last_code("web")
    SECRETS.add(ROOT_PW)
    ctl("account", "root", "recover", "web", "--code", input=f"{code}\n{ROOT_PW}\n")
    expect(account("web")["root"]["has_password"])

    # The first logon enrols root's MFA device before it completes.
    t = later(300)
    key = lambda seen: re.search(r"Key: ([A-Z2-7]+)", seen).group(1)
    r = W.pt("lk", "root", ["authenticate", "acct_mgmt"], {
        "Password": ROOT_PW,
        "Next verification code": lambda seen: totp(key(seen), t + 30),
        "Verification code": lambda seen: totp(key(seen), t),
    })
    expect(r[0] == 0, r)
    expect(r.prompts == ["Password: ", "Verification code: ", "Next verification code: "],
           r.prompts)
    shown_key = key(r[1])
    SECRETS.add(shown_key)
    ROOT_KEY["web"] = shown_key
    expect(account("web")["root"]["has_mfa"])

    # Then password and code, never the password alone.
    t = later(60)
    r = W.pt("lk", "root", ["authenticate", "acct_mgmt"],
             {"Password": ROOT_PW, "Verification code": totp(shown_key, t)})
    expect(r[0] == 0 and r.prompts == ["Password: ", "Verification code: "], r)
    r = W.pt("lk", "root", ["authenticate"], {"Password": ROOT_PW})
    expect(r[0] != 0, r)
    r = W.pt("lk", "root", ["authenticate"], {"Password": "Wrong-Passw0rd!"})
    expect(r[0] != 0 and AUTH_ERR in r[2], r)

    # Every attempt is an alert, in the audit and in the spool.
    events = [e for e in alerts() if e["event"] in ("auth.allow", "auth.deny")]
    expect(len([e for e in events if e["event"] == "auth.allow"]) >= 2, events)
    expect(len([e for e in events if e["event"] == "auth.deny"]) >= 3, events)
    spooled_alerts = [m["fields"].get("event") for m in spooled("alert")]
    expect("auth.allow" in spooled_alerts and "auth.deny" in spooled_alerts and
           "account.switch" in spooled_alerts and "root.recover" in spooled_alerts,
           spooled_alerts)


def test_root_signs_in_with_as_and_runs_a_root_only_task_itself():
    ctl("user", "create", "erin")
    ctl("user", "set-password", "erin", "--stdin", input=ERIN_PW + "\n")
    SECRETS.add(ERIN_PW)
    ctl("role", "grant", "erin@web.example.internal", "account-admin")
    ctl("--as", "erin@web.example.internal", "role", "revoke", "erin@web.example.internal",
        "account-admin", input=ERIN_PW + "\n")
    # A directory administrator may not restore her, without centralized root access.
    err = fails("account", "restore-admin", "web", "erin")
    expect("root-only task" in err and "root@web.example.internal" in err, err)
    # Root may, signed in with its password and a code; never with the password alone.
    err = fails("--as", "root@web.example.internal", "account", "restore-admin", "web", "erin",
                input=f"{ROOT_PW}\n")
    expect("no answer on standard input to 'Verification code: '" in err, err)
    t = later(60)
    code = totp(ROOT_KEY["web"], t)
    SECRETS.add(code)
    r = ctl("--as", "root@web.example.internal", "account", "restore-admin", "web", "erin",
            input=f"{ROOT_PW}\n{code}\n")
    expect("restored the account-admin role of erin@web.example.internal" in r.stdout, r.stdout)
    roles = ctl("role", "list", "--account", "web", json_out=True)["roles"]
    expect([(x["user"], x.get("self_revoked_at")) for x in roles] ==
           [("erin@web.example.internal", None)], roles)
    events = [e for e in alerts() if e["event"] == "account.restore_admin"]
    fields = {f["key"]: f["value"] for f in events[0]["fields"]}
    expect(fields["actor"] == "root@web.example.internal" and fields["by"] == "root", fields)
    doors = [{f["key"]: f["value"] for f in e["fields"]}.get("front_door")
             for e in alerts() if e["event"] == "auth.allow"]
    expect("admin" in doors, doors)


def test_a_cloud_account_changes_its_phone_with_a_code_to_the_new_number():
    ctl("account", "phone", "bind", "web", NEW_PHONE)
    code = last_code("web", NEW_PHONE)
    ctl("account", "phone", "verify", "web", code)
    expect(account("web")["phone"] == NEW_PHONE)
    expect("account.phone.change" in [e["event"] for e in alerts()])


def test_switching_back_to_resource_removes_root_and_refuses_it_again():
    out = ctl("account", "switch", "web", "--to", "resource").stdout
    expect("resource" in out, out)
    expect(account("web").get("root") is None)
    r = W.pt("lk", "root", ["authenticate"], {"Password": ROOT_PW})
    expect(r[0] != 0 and "disabled on resource accounts" in r[2], r)
    # Switched to cloud again, root has no password: the old one was deleted.
    ctl("account", "switch", "web", "--to", "cloud", "--acknowledge-risk")
    root = account("web")["root"]
    expect(not root["has_password"] and not root["has_mfa"], root)
    ctl("account", "switch", "web", "--to", "resource")


def test_centralized_root_access_gives_no_root_credentials_and_a_recovery_window():
    out = ctl("directory", "root-access", "enable").stdout
    expect("enabled" in out, out)
    ctl("account", "create", "vault", "--kind", "cloud")
    root = account("vault")["root"]
    expect(root["exists"] and not root["has_password"] and not root["recovery_open"], root)
    bind("vault")
    err = fails("account", "root", "recover", "vault", "--send-only")
    expect("allow-recovery" in err, err)
    ctl("account", "root", "allow-recovery", "vault", "--for", "1h")
    expect(account("vault")["root"]["recovery_open"])
    ctl("account", "root", "recover", "vault", "--send-only")
    code = last_code("vault")
    ctl("account", "root", "recover", "vault", "--code", input=f"{code}\n{ROOT_PW}\n")
    expect(account("vault")["root"]["has_password"])
    later(3601)
    expect("allow-recovery" in fails("account", "root", "recover", "vault", "--send-only"))
    ctl("account", "root", "remove-credentials", "vault")
    expect(not account("vault")["root"]["has_password"])
    shown = ctl("directory", "root-access", "show", json_out=True)
    expect(shown["enabled"] and "vault" in [a["name"] for a in shown["members"]], shown)
    names = [e["event"] for e in alerts()]
    for event in ("root.allow_recovery", "root.remove_credentials"):
        expect(event in names, (event, names))


def test_administrators_sign_in_with_as_and_are_refused_what_their_roles_do_not_allow():
    ctl("user", "create", "ops@management.example.internal")
    ctl("user", "set-password", "ops@management.example.internal", "--stdin", input=OPS_PW + "\n")
    SECRETS.update({OPS_PW, DANA_PW})
    as_ops = ("--as", "ops@management.example.internal")
    err = fails(*as_ops, "account", "create", "nope", input=OPS_PW + "\n")
    expect("directory administrators" in err and "ops@management.example.internal is not one"
           in err, err)
    err = fails(*as_ops, "account", "list", input="Wrong-Passw0rd!\n")
    expect("Authentication failed" in err, err)
    ctl("role", "grant", "ops@management.example.internal", "directory-admin")
    ctl(*as_ops, "account", "create", "made-by-ops", input=OPS_PW + "\n")
    roles = ctl("role", "list", json_out=True)["roles"]
    expect(any(r["user"] == "ops@management.example.internal" and r["role"] == "directory-admin"
               for r in roles), roles)

    # A root-only task: refused to a directory administrator while root access is not
    # centralized, allowed under it.
    ctl("directory", "root-access", "disable")
    err = fails(*as_ops, "account", "close", "made-by-ops", "--yes", input=OPS_PW + "\n")
    expect("root-only task" in err and "centralized root access" in err, err)
    ctl("directory", "root-access", "enable")
    ctl(*as_ops, "account", "close", "made-by-ops", "--yes", input=OPS_PW + "\n")
    expect(account("made-by-ops").get("closed_at"))
    # A closed account takes no changes, nor logons.
    expect("account made-by-ops is closed" in
           fails("user", "create", "zed", "--account", "made-by-ops"))
    expect("account made-by-ops is closed" in
           fails("policy", "set", "--account", "made-by-ops", "min_length=12"))

    # An account administrator who removes their own role is restored by a root-only task.
    ctl("user", "create", "dana")
    ctl("user", "set-password", "dana", "--stdin", input=DANA_PW + "\n")
    ctl("role", "grant", "dana@web.example.internal", "account-admin")
    as_dana = ("--as", "dana@web.example.internal")
    out = ctl(*as_dana, "role", "revoke", "dana@web.example.internal", "account-admin",
              input=DANA_PW + "\n").stdout
    expect("root" in out, out)
    err = fails("role", "grant", "dana@web.example.internal", "account-admin")
    expect("restore-admin" in err, err)
    ctl("account", "restore-admin", "web", "dana")  # a directory admin, centralized
    err = fails(*as_dana, "account", "create", "nope", input=DANA_PW + "\n")
    expect("directory administrators" in err, err)
    # An account administrator lists the roles of its own account only.
    r = ctl("--json", *as_dana, "role", "list", input=DANA_PW + "\n")
    seen = {x["account"] for x in json.loads(r.stdout)["roles"]}
    expect(seen == {"web"}, seen)
    ctl("directory", "root-access", "disable")
    names = [e["event"] for e in alerts()]
    expect("account.close" in names and "account.restore_admin" in names, names)


def test_a_logon_network_restriction_that_locks_everyone_out_is_removed_by_a_privileged_task():
    ctl("settings", "set", "--account", "shop", "allowed_networks=192.0.2.0/24")
    err = fails("account", "clear-logon-networks", "shop")
    expect("root-only task" in err, err)
    ctl("directory", "root-access", "enable")
    ctl("account", "clear-logon-networks", "shop")
    ctl("directory", "root-access", "disable")
    settings = ctl("settings", "show", "--account", "shop", json_out=True)["settings"]
    expect(settings["allowed_networks"] == [], settings)
    expect("account.clear_logon_networks" in [e["event"] for e in alerts()])


def test_every_alert_in_the_audit_went_to_the_notifier():
    audited = {e["seq"]: e["event"] for e in alerts()}
    expect(len(audited) >= 15, audited)
    deadline = time.monotonic() + 10  # the alert sender delivers on a thread of its own
    while True:
        sent = {int(m["fields"]["seq"]): m["fields"]["event"] for m in spooled("alert")}
        missing = {seq: ev for seq, ev in audited.items() if sent.get(seq) != ev}
        if not missing or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    expect(not missing, ("alerts not in the spool", missing))
    for m in spooled("alert"):
        expect(m["code"] is None and m["phone"] is None, m)


def mentions(text, secret):
    """Whether `secret` is in `text`. A six-digit code counts only as a number of its own: inside
    a timestamp or a longer number it is chance, not a leak (ledger.MIN_LENGTH says why)."""
    if secret.isdigit():
        return re.search(rf"(?<![0-9]){secret}(?![0-9])", text) is not None
    return secret in text


def test_no_code_or_password_reaches_a_log_or_the_audit():
    audit = ctl("audit", "--limit", "10000").stdout
    # The process id of each line ("latchkeyd[871234]: ") is a number of its own, by chance
    # sometimes a code's digits.
    log = re.sub(r"^latchkeyd\[[0-9]+\]", "latchkeyd[]", W.daemon.log(), flags=re.M)
    expect(SECRETS, "the tests used secrets")
    for secret in SECRETS:
        expect(not mentions(log, secret), ("in the daemon's log", secret[:2] + "..."))
        expect(not mentions(audit, secret), ("in the audit", secret[:2] + "..."))


def main():
    global W
    W = World()
    try:
        run([v for k, v in globals().items() if k.startswith("test_")])
    finally:
        W.close()


if __name__ == "__main__":
    main()
