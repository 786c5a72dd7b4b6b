# SPDX-License-Identifier: Apache-2.0
"""Directory users as real Unix users of the host: glibc's own NSS loads the built
libnss_latchkey.so.2 and asks latchkeyd, with no nss_wrapper anywhere.

The whole test runs in a private mount namespace (unshare(CLONE_NEWNS), propagation private),
so that nothing changes on the machine: an empty tmpfs on /run and /var/cache (the module's
fixed paths /run/latchkey/nss.sock and /var/cache/latchkey are this test's daemon's), and bind
mounts over /etc/nsswitch.conf ("passwd: files latchkey"), /etc/ld.so.cache (built by ldconfig
with the module's directory added, so glibc finds it where it looks, also from setuid sudo) and
/etc/sudoers (etc/sudoers.d/latchkey). Everything goes when the test's processes end.

Proven: getent and id for a user in no /etc/passwd, its groups, the sudo group of the account's
administrators, `sudo -l`; a real sshd (the shipped etc/pam.d/latchkey-sshd stack, under
pam_wrapper) logging on such a user with a password, then with a password and an oathtool code,
into a home directory pam_mkhomedir made and the user owns; names the host's files own are never
shadowed; with latchkeyd stopped the cache answers, and without the cache lookups are
unavailable at once while the host's own users still resolve."""

import ctypes
import os
import shutil
import subprocess
import sys
import tempfile
import time

import mfa_test
from harness import Daemon, expect, run
from pam_env import Sshd, ssh_run
from pam_test import MODULE

NSS_MODULE = os.environ.get("LATCHKEY_NSS_MODULE", "build/nss_module/libnss_latchkey.so.2")
SOURCE = os.environ.get("LATCHKEY_SOURCE_DIR", ".")
CLONE_NEWNS = 0x00020000

# Throwaway test fixtures, nobody's real password.
PASSWORDS = {"alice": "Alice-Unix-2026!", "bob": "Bob-Unix-2026!", "carol": "Carol-Unix-2026!"}

D = None
BASE = None
SSHD = None
NOW = 1_900_000_020  # latchkeyd's clock (a file): TOTP codes need a time the test knows


def sh(*cmd, check=True, **kw):
    return subprocess.run(list(cmd), capture_output=True, text=True, timeout=60, check=check, **kw)


def write(path, text, mode=0o644):
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, mode)


def enter_private_namespace(base):
    """From here on this process and everything it starts see their own mounts."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.unshare(CLONE_NEWNS) != 0:
        raise OSError(ctypes.get_errno(), "unshare(CLONE_NEWNS)")
    sh("mount", "--make-rprivate", "/")
    for path in ("/run", "/var/cache"):
        sh("mount", "-t", "tmpfs", "-o", "mode=0755", "tmpfs", path)
    # The module where glibc looks: a private ld.so.cache that adds its directory.
    lib = os.path.join(base, "lib")
    os.makedirs(lib)
    shutil.copy(NSS_MODULE, os.path.join(lib, "libnss_latchkey.so.2"))
    write(os.path.join(base, "ld.so.conf"), f"include /etc/ld.so.conf.d/*.conf\n{lib}\n")
    sh("ldconfig", "-X", "-C", os.path.join(base, "ld.so.cache"), "-f",
       os.path.join(base, "ld.so.conf"))
    sh("mount", "--bind", os.path.join(base, "ld.so.cache"), "/etc/ld.so.cache")
    # The one-line change of docs/nss.md, on the machine's own nsswitch.conf.
    with open("/etc/nsswitch.conf") as f:
        lines = [line for line in f.read().splitlines()
                 if not line.startswith(("passwd:", "group:"))]
    write(os.path.join(base, "nsswitch.conf"),
          "passwd: files latchkey\ngroup: files latchkey\n" + "\n".join(lines) + "\n")
    sh("mount", "--bind", os.path.join(base, "nsswitch.conf"), "/etc/nsswitch.conf")
    with open(os.path.join(SOURCE, "etc/sudoers.d/latchkey")) as f:
        shipped = f.read()
    write(os.path.join(base, "sudoers"),
          "Defaults !lecture, !syslog, !fqdn\nroot ALL=(ALL:ALL) ALL\n" + shipped, 0o440)
    sh("mount", "--bind", os.path.join(base, "sudoers"), "/etc/sudoers")
    # The homes pam_mkhomedir makes, in a directory of this test.
    homes = os.path.join(base, "home")
    os.makedirs(homes)
    return homes


def shipped_sshd_stack():
    """etc/pam.d/latchkey-sshd as shipped, with pam_latchkey.so named by its built path and
    this daemon's socket, and the @include lines replaced by Debian's files they name."""
    out = []
    with open(os.path.join(SOURCE, "etc/pam.d/latchkey-sshd")) as f:
        for line in f.read().splitlines():
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            if line.startswith("@include "):
                with open(os.path.join("/etc/pam.d", line.split()[1])) as inc:
                    out += [x.strip() for x in inc.read().splitlines()
                            if x.strip() and not x.strip().startswith("#")]
                continue
            out.append(line.replace("pam_latchkey.so", f"{MODULE} socket={D.pam_socket}"))
    return out


def audit_last(event, user):
    """The newest audit event `event` of `user`, as a field dict."""
    for e in D.ctl("audit", "--limit", "200", json_out=True)["events"]:
        fields = {f["key"]: f["value"] for f in e["fields"]}
        if e["event"] == event and fields.get("user") == user:
            return fields
    return {}


def getent(*args):
    return sh("getent", *args, check=False)


def test_getent_and_id_see_a_user_in_no_etc_passwd():
    with open("/etc/passwd") as f:
        expect(not any(line.startswith("alice:") for line in f), "alice is in /etc/passwd")
    r = getent("passwd", "alice")
    expect(r.returncode == 0, r)
    expect(r.stdout == f"alice:x:200001:200001:Alice Example:{BASE}/home/alice:/bin/bash\n", r)
    expect(getent("passwd", "200001").stdout == r.stdout, "by uid")
    r = getent("group", "alice")
    expect(r.stdout == "alice:x:200001:\n", r)
    r = sh("id", "alice")
    expect(r.stdout == "uid=200001(alice) gid=200001(alice) "
                       "groups=200001(alice),200000(latchkey-sudo)\n", r)
    r = sh("id", "bob")
    expect(r.stdout == "uid=200002(bob) gid=200002(bob) groups=200002(bob)\n", r)
    r = getent("group", "latchkey-sudo")
    expect(r.stdout == "latchkey-sudo:x:200000:alice\n", r)


def test_the_hosts_own_names_are_never_shadowed():
    # root and the machine's own users come from files; a directory user named like one of
    # them is not answered, and nothing is uid 0 but root.
    expect(getent("passwd", "root").stdout.startswith("root:x:0:0:"), "root")
    expect(getent("passwd", "daemon").stdout.startswith("daemon:x:1:1:"), "daemon")
    r = getent("passwd", "sync")
    expect(r.stdout.startswith("sync:x:4:"), r)  # the directory's "sync" user is not it
    expect(getent("passwd", "dave").returncode == 2, "dave is of another account")
    r = sh("id", "-u", "root")
    expect(r.stdout == "0\n", r)


class Passwd(ctypes.Structure):
    _fields_ = [("pw_name", ctypes.c_char_p), ("pw_passwd", ctypes.c_char_p),
                ("pw_uid", ctypes.c_uint), ("pw_gid", ctypes.c_uint),
                ("pw_gecos", ctypes.c_char_p), ("pw_dir", ctypes.c_char_p),
                ("pw_shell", ctypes.c_char_p)]


def test_the_module_answers_as_glibc_expects():
    """The entry point itself, as glibc calls it: a buffer too small is TRYAGAIN with ERANGE
    (glibc then calls again with a larger one), a name nobody has is NOTFOUND with ENOENT."""
    module = ctypes.CDLL(NSS_MODULE)
    getpwnam = module._nss_latchkey_getpwnam_r
    getpwnam.argtypes = [ctypes.c_char_p, ctypes.POINTER(Passwd), ctypes.c_char_p,
                         ctypes.c_size_t, ctypes.POINTER(ctypes.c_int)]
    pw, err = Passwd(), ctypes.c_int(0)
    small = ctypes.create_string_buffer(8)
    expect(getpwnam(b"alice", ctypes.byref(pw), small, 8, ctypes.byref(err)) == -2, "TRYAGAIN")
    expect(err.value == 34, f"errno {err.value}, not ERANGE")
    big = ctypes.create_string_buffer(1024)
    expect(getpwnam(b"alice", ctypes.byref(pw), big, 1024, ctypes.byref(err)) == 1, "SUCCESS")
    expect((pw.pw_name, pw.pw_uid, pw.pw_gid) == (b"alice", 200001, 200001), pw.pw_name)
    expect(pw.pw_passwd == b"x", pw.pw_passwd)
    err.value = 0
    expect(getpwnam(b"nobody-at-all", ctypes.byref(pw), big, 1024, ctypes.byref(err)) == 0,
           "NOTFOUND")
    expect(err.value == 2, f"errno {err.value}, not ENOENT")


def test_sudo_lists_the_administrators_rights():
    r = sh("sudo", "-l", "-U", "alice", check=False)
    expect(r.returncode == 0 and "(ALL : ALL) ALL" in r.stdout, r)
    r = sh("sudo", "-l", "-U", "bob", check=False)
    expect("is not allowed to run sudo" in r.stdout, r)


def test_sshd_logs_a_directory_user_on_into_a_new_home():
    home = os.path.join(BASE, "home", "bob")
    expect(not os.path.exists(home), "bob has no home yet")
    rc, out, err, prompts = ssh_run(SSHD.port, "bob", "id; pwd; stat -c '%u %g %a' .",
                                    {"Password": PASSWORDS["bob"]})
    expect(rc == 0, (rc, out, err, prompts, SSHD.log()))
    lines = out.splitlines()
    expect(lines[0] == "uid=200002(bob) gid=200002(bob) groups=200002(bob)", lines)
    expect(lines[1] == home, lines)
    expect(lines[2] == "200002 200002 700", lines)
    st = os.stat(home)
    expect((st.st_uid, st.st_gid) == (200002, 200002), st)
    expect(os.path.exists(os.path.join(home, ".profile")) == os.path.exists("/etc/skel/.profile"),
           "from /etc/skel")
    allowed = audit_last("auth.allow", "bob")
    expect(allowed["service"] == "sshd" and allowed["method"] == "pwd", allowed)


def test_sshd_logs_on_with_a_password_and_an_oathtool_code():
    rc, out, err, uri = mfa_enrol("alice")
    expect(rc == 0, (out, err))
    key = mfa_test.key_of(uri)
    code = totp(key, NOW + 90)
    set_clock(NOW + 90)
    rc, out, err, prompts = ssh_run(SSHD.port, "alice", "id -un; pwd",
                                    {"Password": PASSWORDS["alice"], "Verification code": code})
    expect(rc == 0, (rc, out, err, prompts, SSHD.log()))
    expect(out.splitlines() == ["alice", os.path.join(BASE, "home", "alice")], out)
    expect(any("Verification code" in p for p in prompts), prompts)
    allowed = audit_last("auth.allow", "alice")
    expect(allowed["method"] == "pwd+otp", allowed)


def test_with_latchkeyd_stopped_the_cache_answers():
    expect(os.path.exists("/var/cache/latchkey/passwd"), "the cache was written")
    D.stop()
    try:
        expect(not os.path.exists("/run/latchkey/nss.sock"), "no daemon")
        r = getent("passwd", "alice")
        expect(r.stdout.startswith("alice:x:200001:200001:"), r)
        r = sh("id", "alice")
        expect("200000(latchkey-sudo)" in r.stdout, r)
        # Without the cache too: unavailable at once, and the host's own users still resolve.
        os.rename("/var/cache/latchkey", "/var/cache/latchkey.away")
        start = time.monotonic()
        r = getent("passwd", "alice")
        took = time.monotonic() - start
        expect(r.returncode == 2 and r.stdout == "", r)
        expect(took < 5, f"getent took {took:.1f} s")  # a bound, not a benchmark
        expect(getent("passwd", "root").returncode == 0, "root resolves")
        os.rename("/var/cache/latchkey.away", "/var/cache/latchkey")
    finally:
        D.start()


def set_clock(t):
    write(CLOCK, f"{t}\n")


def totp(key, t):
    return mfa_test.totp(key, t)


def mfa_enrol(user):
    """An administrator enrols `user` with two consecutive oathtool codes."""
    mfa_test.W = type("W", (), {"daemon": D})
    return mfa_test.enrol_script(user, lambda k: (totp(k, NOW), totp(k, NOW + 30)))


def main():
    global D, BASE, SSHD, CLOCK
    BASE = tempfile.mkdtemp(prefix="latchkey-nss-")
    os.chmod(BASE, 0o755)
    enter_private_namespace(BASE)
    CLOCK = os.path.join(BASE, "clock")
    set_clock(NOW)
    D = Daemon(extra_config=f'[testing]\nclock_file = "{CLOCK}"\n',
               unix_config=f'home = "{BASE}/home/%u"\n')
    # The module's own paths: this namespace's /run and /var/cache.
    D.nss_socket = "/run/latchkey/nss.sock"
    D.cache_dir = "/var/cache/latchkey"
    D.write_config()
    try:
        D.start()
        D.ctl("directory", "init", "--domain", "example.internal")
        D.ctl("account", "create", "web")
        D.ctl("account", "create", "db")
        for name, display in (("alice", "Alice Example"), ("bob", "Bob"), ("sync", "Not sync")):
            D.ctl("user", "create", name, "--display-name", display)
        for name in ("alice", "bob"):
            D.ctl("user", "set-password", name, "--stdin", input=PASSWORDS[name] + "\n")
        D.ctl("user", "create", "dave@db.example.internal")
        D.ctl("role", "grant", "alice", "account-admin")
        SSHD = Sshd(BASE, shipped_sshd_stack(), {})
        SSHD.start()
        run([
            test_getent_and_id_see_a_user_in_no_etc_passwd,
            test_the_hosts_own_names_are_never_shadowed,
            test_the_module_answers_as_glibc_expects,
            test_sudo_lists_the_administrators_rights,
            test_sshd_logs_a_directory_user_on_into_a_new_home,
            test_sshd_logs_on_with_a_password_and_an_oathtool_code,
            test_with_latchkeyd_stopped_the_cache_answers,
        ])
    finally:
        if SSHD is not None:
            SSHD.stop()
        D.__exit__(None, None, None)
        shutil.rmtree(BASE, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
