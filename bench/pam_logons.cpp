// SPDX-License-Identifier: Apache-2.0
// latchkey-bench-pam: complete password logons over the PAM socket from N clients, measured
// beside the raw Argon2id rate at the same parameters, so that what the daemon adds is visible.
//
//   each client thread, until the duration ends or --count logons have started:
//
//     connect ─► auth.begin ─► AuthReply{prompt: password} ─► auth.answer ─► AuthReply{verdict}
//     └──────────────────────────── one timed logon ─────────────────────────────────────────┘
//
//   then PasswordHasher::verify() (what a logon costs the daemon) on 1 thread, on the daemon's
//   W workers (--workers) and on N threads. The daemon never hashes on more than W threads, so
//   its logon rate is best compared with the rate on W.
//
// A logon opens its own connection, as pam_latchkey.so does for each PAM call. Logons in flight
// when the duration ends are finished and counted; the rate divides by the time until the last
// one ended. Phases run one after another, never at the same time, so they do not share cores.
#include <algorithm>
#include <array>
#include <atomic>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <fstream>
#include <functional>
#include <iterator>
#include <latch>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <type_traits>
#include <variant>
#include <vector>

#include <unistd.h>

#include <boost/describe/enum_to_string.hpp>
#include <boost/json.hpp>

#include "bench/bench_util.hpp"
#include "core/result.hpp"
#include "core/secret.hpp"
#include "daemon/config.hpp"
#include "credentials/password_hasher.hpp"
#include "proto/client.hpp"
#include "proto/messages.hpp"

namespace {

namespace lk = latchkey;
namespace json = boost::json;
using Clock = std::chrono::steady_clock;

constexpr std::string_view usage_text =
    "usage: latchkey-bench-pam --socket PATH --user USER --password-file FILE [OPTIONS]\n"
    "\n"
    "Runs complete password logons against latchkeyd's PAM socket from N client threads, then\n"
    "measures the raw Argon2id verification rate at the same parameters on 1, W and N threads.\n"
    "\n"
    "  --socket PATH                the PAM socket\n"
    "  --user USER                  the user to log on (must have a password in latchkey)\n"
    "  --password-file FILE         the user's password: the file's first line\n"
    "  --users N                    log on as USER0 .. USER<N-1> in turn instead of USER: one\n"
    "                               user's logons hash on all the daemon's workers but one\n"
    "  --concurrency N              client threads, and hashing threads (default 1)\n"
    "  --workers W                  the daemon's [limits] workers: also hash on W threads,\n"
    "                               the baseline for the daemon's overhead\n"
    "  --duration SECONDS           how long each phase starts new work (default 5)\n"
    "  --count N                    instead: each phase does N logons or hashes in all\n"
    "  --warmup N                   untimed logons first, to warm the daemon (default 2)\n"
    "  --timeout SECONDS            give up on one reply after SECONDS (default 120)\n"
    "  --argon2-memory-kib KIB      the daemon's [password] parameters (default 65536,\n"
    "  --argon2-iterations T          3 and 1); the daemon's stored hash should use them\n"
    "  --argon2-parallelism P\n"
    "  --spray N                    instead: the spray phase. N clients keep failing logons of\n"
    "                               --spray-user in flight while one client logs --user on,\n"
    "                               --spray-count times; the same count is timed first with\n"
    "                               no spray (idle). Needs [limits] max_connections above N\n"
    "  --spray-user USER            the user the spray guesses at (default victim)\n"
    "  --spray-count N              timed logons of --user, idle and then under the spray\n"
    "                               (default 100)\n"
    "  --json                       print one JSON object instead of the table\n"
    "  -h, --help                   show this help\n";

struct Options {
    std::string socket;
    std::string user;
    std::string password_file;
    unsigned concurrency = 1;
    std::optional<unsigned> workers; ///< the daemon's [limits] workers, if known
    double duration_s = 5.0;
    std::optional<std::uint64_t> count;
    unsigned warmup = 2;
    double timeout_s = 120.0;
    lk::credentials::Argon2Params argon2;
    unsigned users = 0; ///< 0: --user itself; else USER0 .. USER<users-1>
    unsigned spray = 0;
    std::string spray_user = "victim";
    std::uint64_t spray_count = 100;
    bool json = false;
};

using latchkey::bench::parse_number;
using latchkey::bench::percentile;
using latchkey::bench::plural;
using latchkey::bench::UsageError;

std::variant<Options, UsageError, std::monostate> parse_args(int argc, char** argv)
{
    Options o;
    const auto take = [&](std::string_view a, std::string_view v) -> std::optional<bool> {
        const auto count = [&](auto& out, std::uint64_t lo, std::uint64_t hi) {
            return latchkey::bench::parse_count(v, out, lo, hi);
        };
        const auto seconds = [&](double& out) {
            return latchkey::bench::parse_seconds(v, out, 86'400);
        };
        bool ok = true;
        if (a == "--socket") {
            o.socket = v;
        } else if (a == "--user") {
            o.user = v;
        } else if (a == "--password-file") {
            o.password_file = v;
        } else if (a == "--concurrency") {
            ok = count(o.concurrency, 1, 4096);
        } else if (a == "--workers") {
            unsigned n = 0;
            ok = count(n, 1, 4096);
            o.workers = n;
        } else if (a == "--duration") {
            ok = seconds(o.duration_s);
        } else if (a == "--count") {
            std::uint64_t n = 0;
            ok = count(n, 1, 100'000'000);
            o.count = n;
        } else if (a == "--warmup") {
            ok = count(o.warmup, 0, 10'000);
        } else if (a == "--timeout") {
            ok = seconds(o.timeout_s);
        } else if (a == "--argon2-memory-kib") {
            ok = count(o.argon2.memory_kib, 8, std::uint64_t{4} * 1024 * 1024);
        } else if (a == "--argon2-iterations") {
            ok = count(o.argon2.iterations, 1, 1024);
        } else if (a == "--argon2-parallelism") {
            ok = count(o.argon2.parallelism, 1, 255);
        } else if (a == "--users") {
            ok = count(o.users, 1, 100'000);
        } else if (a == "--spray") {
            ok = count(o.spray, 1, 4096);
        } else if (a == "--spray-user") {
            o.spray_user = v;
        } else if (a == "--spray-count") {
            ok = count(o.spray_count, 1, 1'000'000);
        } else {
            return std::nullopt;
        }
        return ok;
    };
    const auto walked = latchkey::bench::walk_options(argc, argv, o.json, take);
    if (walked.help)
        return std::monostate{};
    if (walked.error)
        return *walked.error;
    if (o.socket.empty() || o.user.empty() || o.password_file.empty())
        return UsageError{"--socket, --user and --password-file are required"};
    return o;
}

// ---- one unit of work and a phase of many -----------------------------------------------

/// failed: a verdict other than success (or a hash that did not match); error: no verdict at
/// all (cannot connect, timeout, Failure frame, a reply out of order).
enum class Kind : std::uint8_t { ok, failed, error };

struct Attempt {
    Kind kind = Kind::ok;
    std::string detail;
    /// Logons: when the first reply (the prompt) came, from the start. It needs no hashing,
    /// so it shows how long a cheap request waits behind the others.
    std::optional<double> first_reply_ms;
};

Attempt problem(Kind kind, std::string detail)
{
    Attempt a;
    a.kind = kind;
    a.detail = std::move(detail);
    return a;
}

struct Phase {
    unsigned threads = 0;
    std::uint64_t ok = 0;
    std::uint64_t failed = 0;
    std::uint64_t errors = 0;
    double seconds = 0;
    std::vector<double> latencies_ms;   ///< of the successful attempts, sorted
    std::vector<double> first_reply_ms; ///< of the successful logons, sorted
    std::string first_problem;
    bool stopped_early = false; ///< after max_errors: a dead daemon fails fast, in a tight loop
};

/// Errors after which a phase stops; the numbers would say nothing about latchkey any more.
constexpr std::uint64_t max_errors = 100;

double per_second(const Phase& p)
{
    return p.seconds > 0 ? static_cast<double>(p.ok) / p.seconds : 0;
}

double percentile(const Phase& p, double pct)
{
    return percentile(p.latencies_ms, pct);
}

struct Stop {
    std::optional<std::uint64_t> count;
    std::chrono::duration<double> duration{};
};

/// Runs `work` on `threads` threads until `stop`. Each thread first runs `warm` untimed; the
/// clock starts when every thread is warm.
template <class Work, class Warm>
Phase run_phase(unsigned threads, const Stop& stop, const Work& work, const Warm& warm)
{
    struct PerThread {
        Phase phase;
        Clock::time_point end{};
    };
    std::vector<PerThread> results(threads);
    std::atomic<std::uint64_t> started{0};
    std::atomic<std::uint64_t> errors{0};
    std::latch ready(static_cast<std::ptrdiff_t>(threads) + 1);
    std::latch go(1);
    Clock::time_point start{};

    const auto body = [&](PerThread& mine) {
        const auto note = [&mine](Attempt& a) {
            if (mine.phase.first_problem.empty())
                mine.phase.first_problem = std::move(a.detail);
        };
        try {
            warm();
        } catch (const std::exception& e) {
            Attempt a = problem(Kind::error, e.what());
            note(a);
        }
        ready.count_down();
        go.wait();
        const auto deadline = start + std::chrono::duration_cast<Clock::duration>(stop.duration);
        for (;;) {
            if (errors.load() >= max_errors)
                break;
            if (stop.count ? started.fetch_add(1) >= *stop.count : Clock::now() >= deadline)
                break;
            const auto t0 = Clock::now();
            Attempt a;
            try {
                a = work();
            } catch (const std::exception& e) {
                a = problem(Kind::error, e.what());
            }
            const auto t1 = Clock::now();
            mine.end = t1;
            switch (a.kind) {
            case Kind::ok:
                ++mine.phase.ok;
                mine.phase.latencies_ms.push_back(
                    std::chrono::duration<double, std::milli>(t1 - t0).count());
                if (a.first_reply_ms)
                    mine.phase.first_reply_ms.push_back(*a.first_reply_ms);
                break;
            case Kind::failed: ++mine.phase.failed; break;
            case Kind::error:
                ++mine.phase.errors;
                errors.fetch_add(1);
                break;
            }
            if (a.kind != Kind::ok)
                note(a);
        }
    };

    std::vector<std::jthread> pool;
    pool.reserve(threads);
    for (auto& r : results)
        pool.emplace_back(body, std::ref(r));
    ready.arrive_and_wait();
    start = Clock::now();
    go.count_down();
    pool.clear(); // joins

    Phase all;
    all.threads = threads;
    Clock::time_point end = start;
    for (auto& r : results) {
        all.ok += r.phase.ok;
        all.failed += r.phase.failed;
        all.errors += r.phase.errors;
        all.latencies_ms.insert(all.latencies_ms.end(), r.phase.latencies_ms.begin(),
                                r.phase.latencies_ms.end());
        all.first_reply_ms.insert(all.first_reply_ms.end(), r.phase.first_reply_ms.begin(),
                                  r.phase.first_reply_ms.end());
        if (all.first_problem.empty())
            all.first_problem = std::move(r.phase.first_problem);
        end = std::max(end, r.end);
    }
    all.seconds = std::chrono::duration<double>(end - start).count();
    all.stopped_early = all.errors >= max_errors;
    std::sort(all.latencies_ms.begin(), all.latencies_ms.end());
    std::sort(all.first_reply_ms.begin(), all.first_reply_ms.end());
    return all;
}

// ---- the logon dialogue -----------------------------------------------------------------

/// The AuthReply in a response, or an Attempt saying why there is none.
std::variant<lk::proto::AuthReply, Attempt> auth_reply(lk::core::Result<lk::proto::Response> r,
                                                       std::string_view step)
{
    const std::string where = "on " + std::string(step) + ": ";
    if (!r)
        return problem(Kind::error, where + r.error().message);
    if (auto* reply = std::get_if<lk::proto::AuthReply>(&*r))
        return std::move(*reply);
    if (const auto* f = std::get_if<lk::proto::Failure>(&*r))
        return problem(Kind::error, where + f->error + ": " + f->message);
    return problem(Kind::error, where + "unexpected reply");
}

Attempt verdict_attempt(const lk::proto::Verdict& v)
{
    if (v.outcome == lk::proto::Outcome::success)
        return {};
    const char* name = boost::describe::enum_to_string(v.outcome, "?");
    return problem(Kind::failed, std::string("verdict ") + name + ": " + v.message);
}

Attempt logon(const lk::proto::ClientOptions& options, const std::string& user,
              const lk::core::Secret& password)
{
    const auto start = Clock::now();
    auto client = lk::proto::Client::connect(options);
    if (!client)
        return problem(Kind::error, client.error().message);

    lk::proto::AuthBegin begin;
    begin.service = "bench";
    begin.user = user;
    auto first = auth_reply(client->call(begin), "auth.begin");
    if (auto* a = std::get_if<Attempt>(&first))
        return std::move(*a);
    const auto& prompt = std::get<lk::proto::AuthReply>(first);
    if (prompt.verdict)
        return verdict_attempt(*prompt.verdict);
    if (!prompt.prompt || prompt.prompt->kind != lk::proto::PromptKind::password)
        return problem(Kind::error, "auth.begin: expected a password prompt");

    const auto prompted = Clock::now();
    client->extend_deadline();
    auto second = auth_reply(client->call(lk::proto::AuthAnswer{password.clone(), std::nullopt}),
                             "auth.answer");
    if (auto* a = std::get_if<Attempt>(&second))
        return std::move(*a);
    const auto& last = std::get<lk::proto::AuthReply>(second);
    if (!last.verdict)
        return problem(Kind::error, "auth.answer: expected a verdict, got another prompt");
    Attempt a = verdict_attempt(*last.verdict);
    a.first_reply_ms = std::chrono::duration<double, std::milli>(prompted - start).count();
    return a;
}

// ---- output -----------------------------------------------------------------------------

json::object to_json(const Phase& p)
{
    json::object o{{"threads", p.threads},
                   {"ok", p.ok},
                   {"failed", p.failed},
                   {"errors", p.errors},
                   {"seconds", p.seconds},
                   {"per_second", per_second(p)},
                   {"p50_ms", percentile(p, 50)},
                   {"p99_ms", percentile(p, 99)},
                   {"max_ms", percentile(p, 100)},
                   {"first_problem", p.first_problem},
                   {"stopped_early", p.stopped_early}};
    if (!p.first_reply_ms.empty())
        o["first_reply"] = {{"p50_ms", percentile(p.first_reply_ms, 50)},
                            {"p99_ms", percentile(p.first_reply_ms, 99)},
                            {"max_ms", percentile(p.first_reply_ms, 100)}};
    return o;
}

void print_row(const std::string& label, const Phase& p, bool has_verdicts)
{
    const std::string failed = has_verdicts ? std::to_string(p.failed) : "-";
    std::printf("%-30s %6llu %7s %7llu %8.2f %9.1f %9.1f %9.1f\n", label.c_str(),
                static_cast<unsigned long long>(p.ok), failed.c_str(),
                static_cast<unsigned long long>(p.errors), per_second(p), percentile(p, 50),
                percentile(p, 99), percentile(p, 100));
}

/// Raw Argon2id phases by thread count: 1, the daemon's workers (if known), N.
using HashPhases = std::map<unsigned, Phase>;

void print_table(const Options& o, const Phase& logons, const HashPhases& hashes)
{
    const auto& a = o.argon2;
    std::array<char, 64> span{};
    if (o.count)
        std::snprintf(span.data(), span.size(), "%llu per phase",
                      static_cast<unsigned long long>(*o.count));
    else
        std::snprintf(span.data(), span.size(), "%g s per phase", o.duration_s);
    std::printf("latchkey-bench-pam: %s, %s, argon2id m=%u KiB t=%u p=%u\n",
                plural(o.concurrency, "client", "clients").c_str(), span.data(), a.memory_kib,
                a.iterations, a.parallelism);
    std::printf("%-30s %6s %7s %7s %8s %9s %9s %9s\n", "", "ok", "failed", "errors", "per s",
                "p50 ms", "p99 ms", "max ms");
    print_row("pam logons, " + plural(o.concurrency, "client", "clients"), logons, true);
    if (!logons.first_reply_ms.empty())
        std::printf("%-30s %6s %7s %7s %8s %9.1f %9.1f %9.1f\n", "  of which the prompt", "",
                    "", "", "", percentile(logons.first_reply_ms, 50),
                    percentile(logons.first_reply_ms, 99), percentile(logons.first_reply_ms, 100));
    for (const auto& [threads, phase] : hashes)
        print_row("argon2id, " + plural(threads, "thread", "threads") +
                      (o.workers && threads == *o.workers ? " (workers)" : ""),
                  phase, false);

    // The baseline is the hash rate at the daemon's own parallelism when it is known.
    const unsigned base = std::min(o.concurrency, o.workers.value_or(o.concurrency));
    if (const double rate = per_second(hashes.at(base)); rate > 0)
        std::printf("logons/s = %.0f%% of argon2id/s on %s", 100 * per_second(logons) / rate,
                    plural(base, "thread", "threads").c_str());
    if (o.concurrency == 1 && !logons.latencies_ms.empty() && !hashes.at(1).latencies_ms.empty())
        std::printf("; logon p50 - argon2id p50 = %+.1f ms",
                    percentile(logons, 50) - percentile(hashes.at(1), 50));
    std::printf("\n");

    std::vector<const Phase*> all{&logons};
    for (const auto& [threads, phase] : hashes)
        all.push_back(&phase);
    for (const auto* p : all) {
        if (p->stopped_early)
            std::printf("a phase stopped after %llu errors\n",
                        static_cast<unsigned long long>(max_errors));
        if (!p->first_problem.empty())
            std::printf("first problem: %s\n", p->first_problem.c_str());
    }
}

// ---- the spray phase ----------------------------------------------------------------------

/// One client's logons of the user, `count` of them one after another, timed: first idle, then
/// while `spray` clients keep wrong-password logons of another user in flight (issue 24: a spray
/// against one user must not starve another's logon).
int run_spray(const Options& o, const lk::proto::ClientOptions& client, const lk::core::Secret& password)
{
    const auto nothing = [] {};
    const auto one_logon = [&] { return logon(client, o.user, password); };
    const Stop stop{o.spray_count, {}};
    const Phase idle = run_phase(1, stop, one_logon, nothing);

    std::atomic<bool> stopping{false};
    std::atomic<std::uint64_t> denied{0}, spray_errors{0};
    const lk::core::Secret wrong("not-" + std::string(password.view()));
    std::latch started(static_cast<std::ptrdiff_t>(o.spray));
    std::vector<std::thread> sprayers;
    sprayers.reserve(o.spray);
    for (unsigned i = 0; i < o.spray; ++i)
        sprayers.emplace_back([&] {
            started.count_down();
            while (!stopping.load()) {
                const Attempt a = logon(client, o.spray_user, wrong);
                (a.kind == Kind::failed ? denied : spray_errors).fetch_add(1);
            }
        });
    started.wait();
    // Let the spray fill the daemon's queue before timing: every worker busy, N waiting.
    std::this_thread::sleep_for(std::chrono::seconds(2));
    const Phase under = run_phase(1, stop, one_logon, nothing);
    stopping = true;

    // The raw floor: one Argon2id verification, as the daemon does per logon.
    lk::credentials::PasswordHasher hasher(o.argon2);
    const auto stored = hasher.hash(password);
    if (!stored) {
        std::fprintf(stderr, "latchkey-bench-pam: %s\n", stored.error().message.c_str());
        std::_Exit(1);
    }
    const Phase floor = run_phase(1, stop, [&]() -> Attempt {
        const auto match = hasher.verify(*stored, password);
        return match && *match ? Attempt{} : problem(Kind::failed, "hash did not match");
    }, nothing);

    const double ratio = percentile(idle, 99) > 0 ? percentile(under, 99) / percentile(idle, 99) : 0;
    if (o.json) {
        const json::object out{{"spray", o.spray},
                               {"spray_user", o.spray_user},
                               {"idle", to_json(idle)},
                               {"under_spray", to_json(under)},
                               {"argon2id_1_thread", to_json(floor)},
                               {"spray_denied", denied.load()},
                               {"spray_errors", spray_errors.load()},
                               {"p99_ratio", ratio}};
        std::printf("%s\n", json::serialize(out).c_str());
    } else {
        std::printf("latchkey-bench-pam spray: %llu logons of %s, idle and with %u failing logons "
                    "of %s in flight\n",
                    static_cast<unsigned long long>(o.spray_count), o.user.c_str(), o.spray,
                    o.spray_user.c_str());
        std::printf("%-30s %6s %7s %7s %8s %9s %9s %9s\n", "", "ok", "failed", "errors", "per s",
                    "p50 ms", "p99 ms", "max ms");
        print_row("logons, idle", idle, true);
        print_row("logons, under the spray", under, true);
        print_row("argon2id, 1 thread (floor)", floor, false);
        std::printf("p99 under the spray = %.2f x idle p99 (issue 24 asks <= 2); the spray got "
                    "%llu verdicts meanwhile (%llu errors)\n",
                    ratio, static_cast<unsigned long long>(denied.load()),
                    static_cast<unsigned long long>(spray_errors.load()));
        for (const Phase* p : {&idle, &under})
            if (!p->first_problem.empty())
                std::printf("first problem: %s\n", p->first_problem.c_str());
    }
    std::fflush(stdout);
    // The spray's logons still queued in the daemon would take minutes to finish: end here
    // without waiting for their clients (bench/run stops the daemon next).
    const bool clean = idle.failed + idle.errors + under.failed + under.errors == 0;
    std::_Exit(clean ? 0 : 1);
}

} // namespace

int main(int argc, char** argv)
try {
    auto parsed = parse_args(argc, argv);
    if (const auto done = latchkey::bench::usage_exit(parsed, "latchkey-bench-pam", usage_text))
        return *done;
    const Options o = std::get<Options>(std::move(parsed));
    const auto password = latchkey::bench::read_secret_line(o.password_file);
    if (!password) {
        std::fprintf(stderr, "latchkey-bench-pam: %s\n", password.error().message.c_str());
        return 1;
    }

    lk::proto::ClientOptions client;
    client.socket_path = o.socket;
    client.timeout = std::chrono::milliseconds(static_cast<long long>(o.timeout_s * 1000));
    client.trusted_server_uids = lk::proto::default_trusted_uids({::getuid()});
    if (o.spray > 0)
        return run_spray(o, client, *password);
    const Stop stop{o.count, std::chrono::duration<double>(o.duration_s)};
    const auto nothing = [] {};
    std::atomic<std::uint64_t> next_user{0};
    const auto one_logon = [&] {
        if (o.users == 0)
            return logon(client, o.user, *password);
        return logon(client, o.user + std::to_string(next_user.fetch_add(1) % o.users), *password);
    };

    // Untimed logons first: the daemon's workers map their Argon2 buffers on first use, and a
    // wrong password or user is reported before minutes are spent measuring it.
    if (o.warmup > 0) {
        const Phase w = run_phase(std::min(o.warmup, o.concurrency),
                                  Stop{std::uint64_t{o.warmup}, {}}, one_logon, nothing);
        if (w.ok != o.warmup) {
            std::fprintf(stderr, "latchkey-bench-pam: a warm-up logon did not succeed: %s\n",
                         w.first_problem.c_str());
            return 1;
        }
    }
    const Phase logons = run_phase(o.concurrency, stop, one_logon, nothing);

    // What the daemon spends on a logon: one verification of a stored hash.
    lk::credentials::PasswordHasher hasher(o.argon2);
    const auto stored = hasher.hash(*password);
    if (!stored) {
        std::fprintf(stderr, "latchkey-bench-pam: %s\n", stored.error().message.c_str());
        return 1;
    }
    const auto one_hash = [&]() -> Attempt {
        const auto match = hasher.verify(*stored, *password);
        if (!match)
            return problem(Kind::error, match.error().message);
        return *match ? Attempt{} : problem(Kind::failed, "hash did not match");
    };
    const auto warm_hash = [&] { (void)hasher.verify(*stored, *password); };
    HashPhases hashes;
    const unsigned workers = std::min(o.workers.value_or(1), o.concurrency);
    for (const unsigned threads : {1U, workers, o.concurrency})
        if (!hashes.contains(threads))
            hashes.emplace(threads, run_phase(threads, stop, one_hash, warm_hash));

    if (o.json) {
        json::array hash_rows;
        for (const auto& [threads, phase] : hashes)
            hash_rows.push_back(to_json(phase));
        const json::object out{
            {"socket", o.socket},
            {"user", o.user},
            {"concurrency", o.concurrency},
            {"workers", o.workers ? json::value(*o.workers) : json::value(nullptr)},
            {"duration_s", o.count ? json::value(nullptr) : json::value(o.duration_s)},
            {"count", o.count ? json::value(*o.count) : json::value(nullptr)},
            {"argon2",
             {{"memory_kib", o.argon2.memory_kib},
              {"iterations", o.argon2.iterations},
              {"parallelism", o.argon2.parallelism}}},
            {"logons", to_json(logons)},
            {"argon2id", hash_rows},
        };
        std::printf("%s\n", json::serialize(out).c_str());
    } else {
        print_table(o, logons, hashes);
    }
    if (std::fflush(stdout) != 0)
        return 1;
    std::uint64_t problems = logons.failed + logons.errors;
    for (const auto& [threads, phase] : hashes)
        problems += phase.failed + phase.errors;
    return problems == 0 ? 0 : 1;
} catch (const std::exception& e) {
    std::fprintf(stderr, "latchkey-bench-pam: %s\n", e.what());
    return 1;
}
