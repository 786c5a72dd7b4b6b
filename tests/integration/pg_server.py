# SPDX-License-Identifier: Apache-2.0
"""A throwaway PostgreSQL server for the integration tests, like tests/storage/postgres/
pg_server.hpp: Debian's initdb and pg_ctl in a temporary directory, a Unix socket only (no TCP),
run as `postgres` (or `nobody`) when the tests are root, fsync off; stop() ends it and removes
the directory, so nothing is left on the machine."""

import glob
import os
import pwd
import shutil
import subprocess
import tempfile


def bindir():
    for d in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if os.path.exists(os.path.join(d, "pg_ctl")):
            return d
    raise AssertionError("PostgreSQL is not installed (apt-get install postgresql)")


class PgServer:
    def __init__(self):
        self.bin = bindir()
        self.base = tempfile.mkdtemp(prefix="latchkey-pg-")
        os.chmod(self.base, 0o755)
        self.data = os.path.join(self.base, "data")
        self.sockets = os.path.join(self.base, "run")
        os.mkdir(self.sockets)
        self.user = None
        if os.geteuid() == 0:
            for name in ("postgres", "nobody"):
                try:
                    self.user = pwd.getpwnam(name)
                    break
                except KeyError:
                    pass
            for p in (self.base, self.sockets):
                os.chown(p, self.user.pw_uid, self.user.pw_gid)
        self._run("initdb", "-D", self.data, "-U", "latchkey", "--auth=trust", "-E", "UTF8",
                  "--no-sync", "--no-instructions")
        self.start()

    def _run(self, program, *args, check=True):
        argv = [os.path.join(self.bin, program), *args]
        if self.user is not None:
            argv = ["setpriv", f"--reuid={self.user.pw_uid}", f"--regid={self.user.pw_gid}",
                    "--clear-groups", *argv]
        p = subprocess.run(argv, capture_output=True, text=True)
        if check and p.returncode != 0:
            raise AssertionError(f"{program} failed ({p.returncode}): {p.stderr}\n{self.log()}")
        return p

    def start(self):
        self._run("pg_ctl", "-D", self.data, "-l", os.path.join(self.base, "server.log"), "-w",
                  "-s", "-o", f"-c listen_addresses='' -k {self.sockets} -c fsync=off", "start")

    def stop(self, mode="immediate"):
        self._run("pg_ctl", "-D", self.data, "-w", "-s", "-m", mode, "stop", check=False)

    def create_database(self, name):
        self._run("createdb", "-h", self.sockets, "-U", "latchkey", name)
        return self.conninfo(name)

    def conninfo(self, database):
        return f"host={self.sockets} dbname={database} user=latchkey"

    def psql(self, database, sql):
        return self._run("psql", "-h", self.sockets, "-U", "latchkey", "-d", database, "-At",
                         "-c", sql).stdout.strip()

    def log(self):
        try:
            with open(os.path.join(self.base, "server.log"), errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def close(self):
        self.stop()
        shutil.rmtree(self.base, ignore_errors=True)
