// SPDX-License-Identifier: Apache-2.0
// latchkey-bench-nss: user lookups as libnss_latchkey.so.2 makes them, beside their floors, in
// one run and on one thread each:
//
//   socket round trip   connect ─► hello ─► hello.reply on the NSS socket (the floor of a lookup)
//   getpwnam via module  nss::user_by_name(): connect ─► nss.lookup ─► the SQLite lookup ─► reply
//                        (the module's own code, on the socket bench/run's latchkeyd listens on)
//   getpwnam via files   glibc's getpwnam_r() of the last user of /etc/passwd (what `files`
//                        costs; this process's nsswitch.conf is the machine's)
//   cache               nss::user_by_name() with no daemon: a scan of the cache file
//
// The directory holds --users users named user1..userN (bench/run puts them there); each lookup
// asks for one at random, and every answer is checked.
#include <pwd.h>

#include <chrono>
#include <cstdio>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "bench/bench_util.hpp"
#include "nss_module/lookup.hpp"
#include "proto/client.hpp"

namespace {

namespace lk = latchkey;
using Clock = std::chrono::steady_clock;

constexpr std::string_view usage_text =
    "usage: latchkey-bench-nss --socket PATH --cache-dir DIR --users N [--count C]\n"
    "\n"
    "Looks up users user1..userN (random) through the NSS socket and through the cache as\n"
    "libnss_latchkey.so.2 does, beside the bare socket round trip and a files lookup.\n"
    "\n"
    "  --socket PATH      latchkeyd's NSS socket\n"
    "  --cache-dir DIR    its [unix] cache_dir\n"
    "  --users N          how many users the directory holds\n"
    "  --count C          lookups per measure (default 20000; the cache scans 1/100 of it)\n";

struct Options {
    std::string socket;
    std::string cache_dir;
    std::uint64_t users = 0;
    std::uint64_t count = 20000;
};

struct Measure {
    std::string label;
    std::vector<double> ms;
    std::uint64_t failed = 0;
    double seconds = 0;
};

Measure measure(std::string label, std::uint64_t count, const std::function<bool()>& once)
{
    Measure m{std::move(label), {}, 0, 0};
    m.ms.reserve(count);
    const auto start = Clock::now();
    for (std::uint64_t i = 0; i < count; ++i) {
        const auto t0 = Clock::now();
        if (!once())
            ++m.failed;
        m.ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
    }
    m.seconds = std::chrono::duration<double>(Clock::now() - start).count();
    std::sort(m.ms.begin(), m.ms.end());
    return m;
}

void print(const Measure& m)
{
    std::printf("%-28s %8zu %7llu %10.0f %9.3f %9.3f\n", m.label.c_str(), m.ms.size(),
                static_cast<unsigned long long>(m.failed),
                m.seconds > 0 ? static_cast<double>(m.ms.size()) / m.seconds : 0.0,
                lk::bench::percentile(m.ms, 50), lk::bench::percentile(m.ms, 99));
}

std::string last_local_user()
{
    std::string name = "root";
    lk::core::UniqueFile f(std::fopen("/etc/passwd", "re"));
    std::vector<char> buf(4096);
    passwd pw{};
    passwd* got = nullptr;
    while (f && ::fgetpwent_r(f.get(), &pw, buf.data(), buf.size(), &got) == 0 && got)
        name = pw.pw_name;
    return name;
}

} // namespace

int main(int argc, char** argv)
{
    Options o;
    bool json = false;
    const auto walked = lk::bench::walk_options(argc, argv, json, [&](std::string_view k,
                                                                      std::string_view v)
                                                                      -> std::optional<bool> {
        if (k == "--socket")
            return o.socket = std::string(v), true;
        if (k == "--cache-dir")
            return o.cache_dir = std::string(v), true;
        if (k == "--users")
            return lk::bench::parse_count(v, o.users, 1, 10'000'000);
        if (k == "--count")
            return lk::bench::parse_count(v, o.count, 100, 100'000'000);
        return std::nullopt;
    });
    if (walked.help) {
        std::fwrite(usage_text.data(), 1, usage_text.size(), stdout);
        return 0;
    }
    if (walked.error || o.socket.empty() || o.cache_dir.empty() || o.users == 0) {
        std::fprintf(stderr, "latchkey-bench-nss: %s (see --help)\n",
                     walked.error ? walked.error->message.c_str()
                                  : "--socket, --cache-dir and --users are required");
        return 2;
    }

    std::mt19937_64 random(42);
    std::uniform_int_distribution<std::uint64_t> pick(1, o.users);
    const lk::nss::Sources daemon{o.socket, o.cache_dir, std::chrono::milliseconds(2000), {}};
    const lk::nss::Sources cache_only{o.socket + ".none", o.cache_dir,
                                      std::chrono::milliseconds(2000), {}};
    const std::string local = last_local_user();

    std::vector<Measure> out;
    out.push_back(measure("socket round trip (hello)", o.count, [&] {
        auto c = lk::proto::Client::connect({o.socket, std::chrono::milliseconds(2000), {}});
        if (!c)
            return false;
        auto r = c->call(lk::proto::Hello{lk::proto::protocol_version, "bench"});
        return r && std::holds_alternative<lk::proto::HelloReply>(*r);
    }));
    out.push_back(measure("getpwnam via the module", o.count, [&] {
        const std::string name = "user" + std::to_string(pick(random));
        const auto f = lk::nss::user_by_name(daemon, name);
        return f.status == lk::nss::Status::success && f.entry && f.entry->name == name;
    }));
    out.push_back(measure("getpwnam via files", o.count, [&] {
        passwd pw{};
        passwd* got = nullptr;
        std::vector<char> buf(4096);
        return ::getpwnam_r(local.c_str(), &pw, buf.data(), buf.size(), &got) == 0 && got;
    }));
    out.push_back(measure("getpwnam via the cache", std::max<std::uint64_t>(o.count / 100, 10), [&] {
        const std::string name = "user" + std::to_string(pick(random));
        const auto f = lk::nss::user_by_name(cache_only, name);
        return f.status == lk::nss::Status::success && f.entry && f.entry->name == name;
    }));

    std::printf("latchkey-bench-nss: %llu users in the directory, 1 thread; files looks up %s\n",
                static_cast<unsigned long long>(o.users), local.c_str());
    std::printf("%-28s %8s %7s %10s %9s %9s\n", "", "lookups", "failed", "per s", "p50 ms",
                "p99 ms");
    std::uint64_t failed = 0;
    for (const auto& m : out) {
        print(m);
        failed += m.failed;
    }
    return failed == 0 ? 0 : 1;
}
