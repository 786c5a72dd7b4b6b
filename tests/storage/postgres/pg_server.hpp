// SPDX-License-Identifier: Apache-2.0
// A throwaway PostgreSQL server for tests: initdb and pg_ctl from Debian's postgresql package,
// in a temporary directory, listening on a Unix socket only (no TCP), as an unprivileged user
// (initdb refuses root: when the tests run as root, the server runs as `postgres` or `nobody`).
// Stopped, and its directory removed, when the object goes; nothing is left on the machine.
#pragma once

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/temp_dir.hpp"

namespace latchkey::test_support {

class PgServer {
public:
    PgServer()
    {
        const std::string bin = bindir();
        std::filesystem::permissions(tmp_.path(), std::filesystem::perms(0755));
        data_ = tmp_.file("data");
        sockets_ = tmp_.file("run");
        std::filesystem::create_directory(sockets_);
        std::optional<uid_t> as;
        std::optional<gid_t> as_group;
        if (::geteuid() == 0) {
            const passwd* pw = ::getpwnam("postgres");
            if (pw == nullptr)
                pw = ::getpwnam("nobody");
            if (pw == nullptr)
                throw std::runtime_error("no unprivileged user to run PostgreSQL as");
            as = pw->pw_uid;
            as_group = pw->pw_gid;
            for (const auto& p : {tmp_.path().string(), sockets_})
                if (::chown(p.c_str(), *as, *as_group) != 0)
                    throw std::runtime_error("chown " + p + " failed");
        }
        as_ = as;
        as_group_ = as_group;
        run({bin + "/initdb", "-D", data_, "-U", "latchkey", "--auth=trust", "-E", "UTF8",
             "--no-sync", "--no-instructions"});
        start();
    }

    /// Starts the server (again), waiting until it accepts connections.
    void start()
    {
        // Tests need no durability across a machine crash: fsync off keeps them fast.
        run({bindir() + "/pg_ctl", "-D", data_, "-l", tmp_.file("server.log"), "-w", "-s", "-o",
             "-c listen_addresses='' -k " + sockets_ + " -c fsync=off -c max_connections=200",
             "start"});
        started_ = true;
    }

    /// Stops the server as an outage would: every connection is cut at once.
    void stop()
    {
        run({bindir() + "/pg_ctl", "-D", data_, "-w", "-s", "-m", "immediate", "stop"});
        started_ = false;
    }

    PgServer(const PgServer&) = delete;
    PgServer& operator=(const PgServer&) = delete;

    ~PgServer()
    {
        if (started_) {
            try {
                run({bindir() + "/pg_ctl", "-D", data_, "-w", "-s", "-m", "immediate", "stop"});
            } catch (...) {
            }
        }
        // TempDir removes the directory.
    }

    /// A libpq connection string for `database` on this server.
    [[nodiscard]] std::string conninfo(const std::string& database = "postgres") const
    {
        return "host=" + sockets_ + " dbname=" + database + " user=latchkey";
    }

    /// A fresh, empty database; its connection string.
    std::string fresh_database() { return new_database("t" + std::to_string(++databases_)); }

    /// A new database called `name`; its connection string.
    std::string new_database(const std::string& name)
    {
        run({bindir() + "/createdb", "-h", sockets_, "-U", "latchkey", name});
        return conninfo(name);
    }

    [[nodiscard]] std::string log() const
    {
        std::ifstream in(tmp_.file("server.log"));
        return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    }

private:
    static std::string bindir()
    {
        // Debian installs the server's programs outside PATH.
        for (const char* v : {"16", "15", "14", "13"}) {
            const std::string dir = std::string("/usr/lib/postgresql/") + v + "/bin";
            if (std::filesystem::exists(dir + "/pg_ctl"))
                return dir;
        }
        throw std::runtime_error("PostgreSQL is not installed (apt-get install postgresql)");
    }

    /// Runs a program (as the unprivileged user when we are root) and waits; throws on failure.
    void run(const std::vector<std::string>& argv) const
    {
        std::vector<char*> args;
        for (const auto& a : argv)
            args.push_back(const_cast<char*>(a.c_str()));
        args.push_back(nullptr);
        const pid_t pid = ::fork();
        if (pid < 0)
            throw std::runtime_error("fork failed");
        if (pid == 0) {
            if (as_ &&
                (::setgroups(0, nullptr) != 0 || ::setgid(*as_group_) != 0 || ::setuid(*as_) != 0))
                ::_exit(126);
            ::execv(args[0], args.data());
            ::_exit(127);
        }
        int status = 0;
        while (::waitpid(pid, &status, 0) < 0) {
        }
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
            throw std::runtime_error(argv[0] + " failed (" + std::to_string(status) + "):\n" +
                                     log());
    }

    TempDir tmp_;
    std::string data_;
    std::string sockets_;
    std::optional<uid_t> as_;
    std::optional<gid_t> as_group_;
    bool started_ = false;
    int databases_ = 0;
};

/// The test binary's one server: started by the first test that needs it, stopped (and its
/// directory removed) when the binary exits.
inline PgServer& shared_server()
{
    static PgServer server;
    return server;
}

} // namespace latchkey::test_support
