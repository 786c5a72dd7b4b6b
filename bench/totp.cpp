// SPDX-License-Identifier: Apache-2.0
// latchkey-bench-totp: TOTP verifications over the PAM socket, only the code step of each logon
// timed, measured beside the raw liboath validation rate, so that what the daemon adds to a
// code check (the socket round trip, unsealing the secret, the SQLite write of the used step,
// the audit record) is visible.
//
//   setup, untimed: U users over the admin socket, each with a password and an enrolled TOTP
//   device (user.create, user.set_password, mfa.enroll ─► key ─► mfa.confirm with the codes of
//   steps s and s+1, computed here with daemon::totp_code()).
//
//   then, for each client count N, rounds until --count code steps (or --duration seconds of
//   timed code steps) are done:
//
//     prepare, untimed: each of N client threads opens its sessions of this round
//       connect ─► auth.begin ─► prompt password ─► auth.answer ─► prompt verification_code
//     all threads ready, then timed:
//       each thread, session after session: auth.answer {code} ─► AuthReply{verdict: success}
//
//   then daemon::verify_totp() (liboath, what a code costs the daemon before its I/O) on 1
//   thread, for codes at the edges of the positions the socket phases used.
//
// latchkeyd accepts a time step once per user, and only within ±window steps of now; a code step
// therefore needs a (user, step) pair not used before. This tool hands each user's steps out
// in order, the lowest fresh one first, never one user twice in a round, and waits for the next
// time step when none is left. A round's time runs from the moment every thread is ready to the
// last verdict; the rate divides all code steps by the sum of those times, so no password hash
// is ever running in the daemon while code steps are timed.
#include <algorithm>
#include <array>
#include <atomic>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <functional>
#include <latch>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include <unistd.h>

#include <boost/describe/enum_to_string.hpp>
#include <boost/json.hpp>

#include "core/clock.hpp"
#include "core/error.hpp"
#include "bench/bench_util.hpp"
#include "core/result.hpp"
#include "core/secret.hpp"
#include "credentials/totp.hpp"
#include "proto/client.hpp"
#include "proto/messages.hpp"

namespace {

namespace lk = latchkey;
namespace json = boost::json;
using Clock = std::chrono::steady_clock;

constexpr std::string_view usage_text =
    "usage: latchkey-bench-totp --socket PATH --admin-socket PATH [OPTIONS]\n"
    "\n"
    "Creates U users with a password and a TOTP device over latchkeyd's admin socket, then logs\n"
    "them on over the PAM socket from N client threads, timing only the step that answers the\n"
    "verification code; then measures raw liboath validations on 1 thread. Needs root: latchkeyd\n"
    "lets only root authenticate users other than the caller. The users stay in the directory.\n"
    "\n"
    "  --socket PATH                the PAM socket\n"
    "  --admin-socket PATH          the admin socket (users are created in the host account)\n"
    "  --window W                   the daemon's [mfa] totp_window (default 3); steps used\n"
    "                               are chosen inside it\n"
    "  --users U                    users to create and enrol (default 3000)\n"
    "  --prefix NAME                user names are NAME0001... (default totp-bench-); existing\n"
    "                               ones get a new password and a new device\n"
    "  --concurrency N[,N...]       client threads, one phase each (default 1,4,16)\n"
    "  --count N                    code steps per phase (default 2000)\n"
    "  --duration SECONDS           instead: timed code steps per phase add up to SECONDS\n"
    "  --open N                     sessions held open at once, across clients (default 192;\n"
    "                               latchkeyd's [limits] max_connections is 256)\n"
    "  --timeout SECONDS            give up on one reply after SECONDS (default 60)\n"
    "  --json                       print one JSON object instead of the table\n"
    "  -h, --help                   show this help\n"
    "\n"
    "Exit status: 0 when every code step succeeded, 1 otherwise, 2 for bad arguments, 77 when\n"
    "not run as root (nothing measured).\n";

/// Exit status for "cannot run here" (the automake convention for a skipped test).
constexpr int exit_skipped = 77;

/// The daemon's admin socket runs on two worker threads: enrol over as many connections.
constexpr unsigned enrol_threads = 2;

/// How long each raw liboath phase runs.
constexpr double raw_seconds = 1.0;

constexpr std::string_view password_text = "Bench-Totp-Password-1";

struct Options {
    std::string socket;
    std::string admin_socket;
    unsigned window = 3;
    unsigned users = 3000;
    std::string prefix = "totp-bench-";
    std::vector<unsigned> concurrency{1, 4, 16};
    std::uint64_t count = 2000;
    std::optional<double> duration_s;
    unsigned open = 192;
    double timeout_s = 60.0;
    bool json = false;
};

using latchkey::bench::parse_number;
using latchkey::bench::percentile;
using latchkey::bench::plural;
using latchkey::bench::UsageError;

std::optional<std::vector<unsigned>> parse_list(std::string_view s)
{
    std::vector<unsigned> out;
    for (;;) {
        const auto comma = s.find(',');
        const auto n = parse_number<unsigned>(s.substr(0, comma));
        if (!n || *n < 1 || *n > 1024)
            return std::nullopt;
        out.push_back(*n);
        if (comma == std::string_view::npos)
            return out;
        s.remove_prefix(comma + 1);
    }
}

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
        } else if (a == "--admin-socket") {
            o.admin_socket = v;
        } else if (a == "--window") {
            ok = count(o.window, 0, 10); // latchkeyd's own range for totp_window
        } else if (a == "--users") {
            ok = count(o.users, 1, 1'000'000);
        } else if (a == "--prefix") {
            o.prefix = v;
            ok = !o.prefix.empty() && o.prefix.size() <= 24; // + 4 or more digits <= 32
        } else if (a == "--concurrency") {
            const auto list = parse_list(v);
            ok = list.has_value();
            if (list)
                o.concurrency = *list;
        } else if (a == "--count") {
            ok = count(o.count, 1, 100'000'000);
            o.duration_s.reset();
        } else if (a == "--duration") {
            double d = 0;
            ok = seconds(d);
            o.duration_s = d;
        } else if (a == "--open") {
            ok = count(o.open, 1, 4096);
        } else if (a == "--timeout") {
            ok = seconds(o.timeout_s);
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
    if (o.socket.empty() || o.admin_socket.empty())
        return UsageError{"--socket and --admin-socket are required"};
    for (const unsigned n : o.concurrency)
        if (n > o.users || n > o.open)
            return UsageError{"a client count above --users or --open cannot keep its clients "
                              "busy: " + std::to_string(n)};
    return o;
}

// ---- replies ----------------------------------------------------------------------------

/// The reply of type T, or an error naming the step and the daemon's Failure.
template <class T>
lk::core::Result<T> expect(lk::core::Result<lk::proto::Response> r, std::string_view step)
{
    const std::string where = "on " + std::string(step) + ": ";
    if (!r)
        return lk::core::fail(lk::core::Error{r.error().code, where + r.error().message});
    if (auto* reply = std::get_if<T>(&*r))
        return std::move(*reply);
    if (const auto* f = std::get_if<lk::proto::Failure>(&*r))
        return lk::core::fail(static_cast<lk::core::Errc>(f->code),
                              where + f->error + ": " + f->message);
    return lk::core::fail(lk::core::Errc::protocol_malformed, where + "unexpected reply");
}

bool is_failure(const lk::core::Result<lk::proto::Response>& r, lk::core::Errc code)
{
    const auto* f = r ? std::get_if<lk::proto::Failure>(&*r) : nullptr;
    return f != nullptr && f->code == static_cast<std::uint16_t>(code);
}

// ---- setup: users with a TOTP device ----------------------------------------------------

struct BenchUser {
    std::string name;
    lk::core::Secret secret;   ///< the device's key, decoded
    std::int64_t last_step = 0; ///< the highest step used: by enrolment, then by logons here
};

lk::credentials::TotpParams device_params(unsigned window)
{
    lk::credentials::TotpParams p; // latchkeyd's defaults: 6 digits, 30 s; checked at enrolment
    p.window = window;
    return p;
}

std::int64_t step_of(lk::core::TimePoint t, const lk::credentials::TotpParams& p)
{
    return lk::core::to_unix(t) / p.step.count();
}

lk::core::Result<BenchUser>
enrol(lk::proto::Client& admin, const std::string& name, const lk::credentials::TotpParams& params)
{
    const lk::proto::UserRef ref{name, std::nullopt};
    // A user left from an earlier run gets a new password and device: its old key is gone.
    admin.extend_deadline();
    auto created = admin.call(lk::proto::UserCreate{ref, std::nullopt, true});
    if (is_failure(created, lk::core::Errc::already_exists)) {
        admin.extend_deadline();
        auto removed = admin.call(lk::proto::MfaRemove{ref});
        if (!is_failure(removed, lk::core::Errc::not_found)) {
            LATCHKEY_TRY(done, expect<lk::proto::Done>(std::move(removed), "mfa.remove"));
            (void)done;
        }
    } else {
        LATCHKEY_TRY(user, expect<lk::proto::UserReply>(std::move(created), "user.create"));
        (void)user;
    }

    admin.extend_deadline();
    LATCHKEY_TRY(with_password,
                 expect<lk::proto::UserReply>(
                     admin.call(lk::proto::UserSetPassword{ref, lk::proto::PasswordMode::custom,
                                                           lk::core::Secret(password_text),
                                                           false}),
                     "user.set_password"));
    (void)with_password;

    admin.extend_deadline();
    LATCHKEY_TRY(challenge,
                 expect<lk::proto::MfaChallenge>(
                     admin.call(lk::proto::MfaEnroll{ref, std::nullopt}), "mfa.enroll"));
    if (challenge.digits != params.digits || challenge.period_s != params.step.count())
        return lk::core::fail(lk::core::Errc::invalid_argument,
                              "latchkeyd enrols " + std::to_string(challenge.digits) +
                                  "-digit codes every " + std::to_string(challenge.period_s) +
                                  " s; this tool computes 6-digit codes every 30 s");
    auto key = lk::credentials::base32_decode(challenge.key.view());
    if (!key)
        return lk::core::fail(lk::core::Errc::protocol_malformed,
                              "mfa.enroll: the key is not base32");
    BenchUser user{name, lk::core::Secret(*key), 0};
    lk::core::wipe(key->data(), key->size());

    // Two consecutive codes, as a person reads them off a phone a step apart.
    const auto now = std::chrono::system_clock::now();
    lk::proto::MfaConfirm confirm{
        lk::core::Secret(lk::credentials::totp_code(user.secret, now, params)),
        lk::core::Secret(lk::credentials::totp_code(user.secret, now + params.step, params))};
    admin.extend_deadline();
    LATCHKEY_TRY(enrolled, expect<lk::proto::MfaEnrolled>(admin.call(std::move(confirm)),
                                                                 "mfa.confirm"));
    (void)enrolled;
    // Both steps are spent. (The device's last_used_at cannot tell: it is never later than
    // the daemon's now, and the second step has not begun yet.)
    user.last_step = step_of(now, params) + 1;
    return user;
}

struct Setup {
    std::vector<BenchUser> users;
    double seconds = 0;
};

lk::core::Result<Setup> enrol_all(const Options& o,
                                  const lk::proto::ClientOptions& admin_options,
                                  const lk::credentials::TotpParams& params)
{
    std::vector<std::optional<BenchUser>> made(o.users);
    std::vector<std::optional<lk::core::Error>> problems(enrol_threads);
    std::atomic<bool> failed{false};
    const int digits = std::max(4, static_cast<int>(std::to_string(o.users).size()));
    const auto t0 = Clock::now();
    {
        std::vector<std::jthread> pool;
        for (unsigned t = 0; t < enrol_threads; ++t)
            pool.emplace_back([&, t] {
                auto admin = lk::proto::Client::connect(admin_options);
                if (!admin) {
                    problems[t] = admin.error();
                    failed = true;
                    return;
                }
                for (unsigned i = t; i < o.users && !failed; i += enrol_threads) {
                    std::array<char, 16> number{};
                    std::snprintf(number.data(), number.size(), "%0*u", digits, i + 1);
                    auto user = enrol(*admin, o.prefix + number.data(), params);
                    if (!user) {
                        problems[t] = lk::core::Error{user.error().code,
                                                      "enrolling " + o.prefix + number.data() +
                                                          ": " + user.error().message};
                        failed = true;
                        return;
                    }
                    made[i] = std::move(*user);
                }
            });
    }
    for (auto& p : problems)
        if (p)
            return lk::core::fail(std::move(*p));
    Setup s;
    s.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
    s.users.reserve(o.users);
    for (auto& u : made)
        s.users.push_back(std::move(*u));
    return s;
}

// ---- fresh (user, step) pairs -----------------------------------------------------------

/// One code to answer: a user and a time step never used for that user.
struct Pick {
    std::size_t user = 0;
    std::int64_t step = 0;
    unsigned offset = 0; ///< step - the current step when it was picked: 0..window
};

/// Hands out each user's steps in order, the lowest fresh one first. The daemon accepts a step
/// above the user's last one and within ±window of its now; a pick in [now, now + window]
/// stays acceptable while fewer than `window` steps pass before it is answered.
class CodeSupply {
public:
    CodeSupply(std::vector<BenchUser>& users, const lk::credentials::TotpParams& params)
        : users_(users)
        , params_(params)
    {
    }

    /// Up to `n` picks, each user at most once (one user's codes must reach the daemon in
    /// order, and sessions of a round run at the same time).
    std::vector<Pick> take(std::size_t n)
    {
        const std::int64_t now = step_of(std::chrono::system_clock::now(), params_);
        std::vector<Pick> out;
        for (std::size_t seen = 0; seen < users_.size() && out.size() < n; ++seen) {
            BenchUser& u = users_[next_];
            const std::size_t index = next_;
            next_ = (next_ + 1) % users_.size();
            const std::int64_t step = std::max(u.last_step + 1, now);
            if (step > now + static_cast<std::int64_t>(params_.window))
                continue;
            u.last_step = step;
            out.push_back({index, step, static_cast<unsigned>(step - now)});
        }
        return out;
    }

    /// Sleeps until just after the next time step starts; returns the seconds slept.
    [[nodiscard]] double wait_for_next_step() const
    {
        const auto period = std::chrono::duration_cast<std::chrono::system_clock::duration>(
            params_.step);
        const auto now = std::chrono::system_clock::now();
        const auto next = lk::core::from_unix((step_of(now, params_) + 1) * params_.step.count());
        const auto until = next + std::chrono::milliseconds(50);
        std::this_thread::sleep_until(std::min(until, now + period));
        return std::chrono::duration<double>(std::chrono::system_clock::now() - now).count();
    }

private:
    std::vector<BenchUser>& users_;
    lk::credentials::TotpParams params_;
    std::size_t next_ = 0;
};

// ---- a phase of many code steps ---------------------------------------------------------

struct Phase {
    unsigned threads = 0;
    std::uint64_t ok = 0;
    std::uint64_t failed = 0; ///< a verdict other than success
    std::uint64_t errors = 0; ///< no verdict: cannot connect, timeout, Failure, wrong prompt
    double seconds = 0;       ///< timed: the sum of the rounds' times (or the raw loop's)
    double wall_seconds = 0;  ///< everything: preparing sessions, waiting for fresh steps
    double waited_seconds = 0;
    std::uint64_t rounds = 0;
    /// Successful logons this tool made before the phase: latchkeyd keeps each one for ten
    /// minutes (for the session hooks), and the bookkeeping grows with them.
    std::uint64_t logons_before = 0;
    std::vector<double> latencies_ms; ///< of the successful code steps, sorted
    std::array<std::uint64_t, 11> offsets{}; ///< picks by step - now (0..10)
    std::string first_problem;
};

double per_second(const Phase& p)
{
    return p.seconds > 0 ? static_cast<double>(p.ok) / p.seconds : 0;
}

double percentile(const Phase& p, double pct)
{
    return percentile(p.latencies_ms, pct);
}

/// A logon waiting at its "Verification code: " prompt.
struct Session {
    lk::proto::Client client;
    lk::core::Secret code;
};

/// connect ─► auth.begin ─► password prompt ─► auth.answer ─► code prompt.
lk::core::Result<Session> open_session(const lk::proto::ClientOptions& options,
                                       const BenchUser& user,
                                       const Pick& pick,
                                       const lk::credentials::TotpParams& params)
{
    auto client = lk::proto::Client::connect(options);
    if (!client)
        return lk::core::fail(
            lk::core::Error{client.error().code, "connect: " + client.error().message});
    lk::proto::AuthBegin begin;
    begin.service = "bench";
    begin.user = user.name;
    LATCHKEY_TRY(first, expect<lk::proto::AuthReply>(client->call(begin), "auth.begin"));
    if (!first.prompt || first.prompt->kind != lk::proto::PromptKind::password)
        return lk::core::fail(lk::core::Errc::protocol_malformed,
                              "auth.begin of " + user.name + ": expected a password prompt");
    client->extend_deadline();
    LATCHKEY_TRY(second,
                 expect<lk::proto::AuthReply>(client->call(lk::proto::AuthAnswer{
                                                  lk::core::Secret(password_text), std::nullopt}),
                                              "auth.answer (password)"));
    if (!second.prompt || second.prompt->kind != lk::proto::PromptKind::verification_code) {
        std::string what = "no prompt";
        if (second.verdict)
            what = std::string("verdict ") +
                   boost::describe::enum_to_string(second.verdict->outcome, "?") + ": " +
                   second.verdict->message;
        return lk::core::fail(lk::core::Errc::protocol_malformed,
                              "password of " + user.name +
                                  ": expected a verification code prompt, got " + what);
    }
    const auto at = lk::core::from_unix(pick.step * params.step.count());
    return Session{std::move(*client),
                   lk::core::Secret(lk::credentials::totp_code(user.secret, at, params))};
}

/// The outcome of one timed code step: nullopt when the verdict was success.
struct StepProblem {
    bool failed = false; ///< a verdict (else: no verdict at all)
    std::string detail;
};

std::optional<StepProblem> answer_code(Session& s, const std::string& user)
{
    auto reply = expect<lk::proto::AuthReply>(
        s.client.call(lk::proto::AuthAnswer{std::move(s.code), std::nullopt}),
        "auth.answer (code)");
    if (!reply)
        return StepProblem{false, reply.error().message};
    if (!reply->verdict)
        return StepProblem{false, "auth.answer (code): expected a verdict, got another prompt"};
    if (reply->verdict->outcome != lk::proto::Outcome::success)
        return StepProblem{true, "code of " + user + ": verdict " +
                                     boost::describe::enum_to_string(reply->verdict->outcome,
                                                                     "?") +
                                     ": " + reply->verdict->message};
    return std::nullopt;
}

/// One round: `picks` spread over `threads` clients; each prepares its sessions, then all
/// answer their codes at once. Adds to `phase`; returns false after a problem.
bool run_round(unsigned threads,
               const std::vector<Pick>& picks,
               std::vector<BenchUser>& users,
               const lk::proto::ClientOptions& options,
               const lk::credentials::TotpParams& params,
               Phase& phase,
               bool counted)
{
    struct PerThread {
        std::vector<Pick> picks;
        std::vector<double> latencies_ms;
        std::uint64_t failed = 0;
        std::uint64_t errors = 0;
        std::string first_problem;
        Clock::time_point end{};
    };
    std::vector<PerThread> results(threads);
    for (std::size_t i = 0; i < picks.size(); ++i)
        results[i % threads].picks.push_back(picks[i]);

    std::atomic<bool> stop{false};
    std::latch ready(static_cast<std::ptrdiff_t>(threads) + 1);
    std::latch go(1);
    Clock::time_point start{};

    const auto body = [&](PerThread& mine) {
        std::vector<Session> sessions;
        sessions.reserve(mine.picks.size());
        for (const Pick& p : mine.picks) {
            if (stop)
                break;
            auto s = open_session(options, users[p.user], p, params);
            if (!s) {
                ++mine.errors;
                mine.first_problem = s.error().message;
                stop = true;
                break;
            }
            sessions.push_back(std::move(*s));
        }
        ready.count_down();
        go.wait();
        mine.end = start;
        for (std::size_t i = 0; i < sessions.size() && !stop; ++i) {
            Session& s = sessions[i];
            s.client.extend_deadline();
            const auto t0 = Clock::now();
            const auto problem = answer_code(s, users[mine.picks[i].user].name);
            const auto t1 = Clock::now();
            mine.end = t1;
            if (problem) {
                ++(problem->failed ? mine.failed : mine.errors);
                mine.first_problem = problem->detail;
                stop = true;
                break;
            }
            mine.latencies_ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
        }
        // The sessions close here, after the clock stopped.
    };

    {
        std::vector<std::jthread> pool;
        pool.reserve(threads);
        for (auto& r : results)
            pool.emplace_back(body, std::ref(r));
        ready.arrive_and_wait();
        start = Clock::now();
        go.count_down();
    } // joins

    Clock::time_point end = start;
    for (auto& r : results) {
        end = std::max(end, r.end);
        phase.failed += r.failed;
        phase.errors += r.errors;
        if (phase.first_problem.empty())
            phase.first_problem = std::move(r.first_problem);
        if (!counted)
            continue;
        phase.ok += r.latencies_ms.size();
        phase.latencies_ms.insert(phase.latencies_ms.end(), r.latencies_ms.begin(),
                                  r.latencies_ms.end());
        for (const Pick& p : r.picks)
            ++phase.offsets[std::min<std::size_t>(p.offset, phase.offsets.size() - 1)];
    }
    if (counted) {
        phase.seconds += std::chrono::duration<double>(end - start).count();
        ++phase.rounds;
    }
    return phase.failed + phase.errors == 0;
}

Phase run_logons(const Options& o,
                 unsigned threads,
                 CodeSupply& supply,
                 std::vector<BenchUser>& users,
                 const lk::proto::ClientOptions& options,
                 const lk::credentials::TotpParams& params,
                 std::uint64_t logons_before)
{
    Phase phase;
    phase.threads = threads;
    phase.logons_before = logons_before;
    const auto t0 = Clock::now();
    const std::size_t per_round =
        std::max<std::size_t>(threads, std::size_t{o.open / threads} * threads);

    // Picks that are fewer than the clients leave some idle: wait for the next time step.
    const auto take = [&](std::size_t n) {
        auto picks = supply.take(n);
        while (picks.size() < std::min<std::size_t>(n, threads)) {
            // The steps of these picks go unused, which the daemon allows: only order matters.
            phase.waited_seconds += supply.wait_for_next_step();
            picks = supply.take(n);
        }
        return picks;
    };

    // One untimed code step per client first: it proves the setup and warms the daemon.
    if (!run_round(threads, take(threads), users, options, params, phase, false)) {
        phase.wall_seconds = std::chrono::duration<double>(Clock::now() - t0).count();
        return phase;
    }
    for (;;) {
        std::size_t n = per_round;
        if (o.duration_s) {
            if (phase.seconds >= *o.duration_s)
                break;
        } else {
            if (phase.ok >= o.count)
                break;
            n = std::min<std::size_t>(n, o.count - phase.ok);
        }
        if (!run_round(threads, take(n), users, options, params, phase, true))
            break;
    }
    std::sort(phase.latencies_ms.begin(), phase.latencies_ms.end());
    phase.wall_seconds = std::chrono::duration<double>(Clock::now() - t0).count();
    return phase;
}

// ---- raw liboath ------------------------------------------------------------------------

/// daemon::verify_totp() on one thread for raw_seconds, with a code `offset` steps ahead of
/// now: liboath tries now, then now±1, now±2..., so the offset decides how many HMACs run.
Phase run_raw(const lk::credentials::TotpParams& params, unsigned offset)
{
    Phase phase;
    phase.threads = 1;
    const lk::core::Secret secret = lk::credentials::generate_totp_secret();
    std::vector<std::string> codes;
    std::int64_t codes_for = -1;
    const auto t0 = Clock::now();
    const auto deadline = t0 + std::chrono::duration_cast<Clock::duration>(
                                   std::chrono::duration<double>(raw_seconds));
    auto end = t0;
    while (end < deadline) {
        const auto now = std::chrono::system_clock::now();
        const std::int64_t step = step_of(now, params) + offset;
        if (step != codes_for) { // once a step, outside the timing
            codes = {lk::credentials::totp_code(
                secret, lk::core::from_unix(step * params.step.count()), params)};
            codes_for = step;
        }
        const auto a = Clock::now();
        const auto matched =
            lk::credentials::verify_totp(secret, codes.front(), now, params, std::nullopt);
        end = Clock::now();
        if (matched != step) {
            ++phase.failed; // a step boundary between `now` and `step` cannot cause this
            phase.first_problem = "liboath did not match a code " + std::to_string(offset) +
                                  " steps ahead";
            break;
        }
        ++phase.ok;
        phase.latencies_ms.push_back(std::chrono::duration<double, std::milli>(end - a).count());
        phase.seconds += std::chrono::duration<double>(end - a).count();
    }
    phase.wall_seconds = std::chrono::duration<double>(end - t0).count();
    std::sort(phase.latencies_ms.begin(), phase.latencies_ms.end());
    return phase;
}

// ---- output -----------------------------------------------------------------------------

json::object to_json(const Phase& p)
{
    json::array offsets;
    for (const auto n : p.offsets)
        offsets.push_back(n);
    while (!offsets.empty() && offsets.back().as_uint64() == 0)
        offsets.pop_back();
    return {{"threads", p.threads},
            {"ok", p.ok},
            {"failed", p.failed},
            {"errors", p.errors},
            {"seconds", p.seconds},
            {"wall_seconds", p.wall_seconds},
            {"waited_seconds", p.waited_seconds},
            {"rounds", p.rounds},
            {"logons_before", p.logons_before},
            {"per_second", per_second(p)},
            {"p50_ms", percentile(p, 50)},
            {"p99_ms", percentile(p, 99)},
            {"max_ms", percentile(p, 100)},
            {"offsets", offsets},
            {"first_problem", p.first_problem}};
}

void print_row(const std::string& label, const Phase& p, bool has_verdicts)
{
    const std::string failed = has_verdicts ? std::to_string(p.failed) : "-";
    std::printf("%-32s %7llu %7s %7llu %9.0f %9.3f %9.3f %9.3f\n", label.c_str(),
                static_cast<unsigned long long>(p.ok), failed.c_str(),
                static_cast<unsigned long long>(p.errors), per_second(p), percentile(p, 50),
                percentile(p, 99), percentile(p, 100));
}

struct Raw {
    unsigned offset = 0;
    Phase phase;
};

void print_table(const Options& o, const Setup& setup, const std::vector<Phase>& logons,
                 const std::vector<Raw>& raws)
{
    std::array<char, 64> span{};
    if (o.duration_s)
        std::snprintf(span.data(), span.size(), "%g s of code steps per phase", *o.duration_s);
    else
        std::snprintf(span.data(), span.size(), "%llu code steps per phase",
                      static_cast<unsigned long long>(o.count));
    std::printf("latchkey-bench-totp: %s, %s, totp window %u (6 digits, 30 s steps)\n",
                plural(o.users, "user", "users").c_str(), span.data(), o.window);
    std::printf("enrolled %zu users in %.1f s over %u admin connections\n", setup.users.size(),
                setup.seconds, enrol_threads);
    std::printf("%-32s %7s %7s %7s %9s %9s %9s %9s\n", "", "ok", "failed", "errors", "per s",
                "p50 ms", "p99 ms", "max ms");
    for (const auto& p : logons)
        print_row("totp code steps, " + plural(p.threads, "client", "clients"), p, true);
    for (const auto& r : raws)
        print_row("liboath, code at now+" + std::to_string(r.offset) + ", 1 thread", r.phase,
                  false);

    std::array<std::uint64_t, 11> offsets{};
    for (const auto& p : logons)
        for (std::size_t i = 0; i < offsets.size(); ++i)
            offsets[i] += p.offsets[i];
    std::printf("codes picked for");
    const char* sep = " ";
    for (std::size_t i = 0; i < offsets.size(); ++i)
        if (offsets[i] != 0) {
            std::printf("%snow+%zu: %llu", sep, i, static_cast<unsigned long long>(offsets[i]));
            sep = ", ";
        }
    std::printf("\n");
    for (const auto& p : logons)
        std::printf("%s: %s after %llu logons; %.1f s in all: %.2f s timed, %.1f s waiting for "
                    "fresh steps, the rest preparing sessions\n",
                    plural(p.threads, "client", "clients").c_str(),
                    plural(p.rounds, "round", "rounds").c_str(),
                    static_cast<unsigned long long>(p.logons_before), p.wall_seconds, p.seconds,
                    p.waited_seconds);
    const auto one = std::find_if(logons.begin(), logons.end(),
                                  [](const Phase& p) { return p.threads == 1; });
    if (one != logons.end() && !raws.empty() && per_second(*one) > 0) {
        const Phase& raw = raws.back().phase;
        std::printf("1 client: code step p50 - liboath p50 at now+%u = %+.3f ms; liboath "
                    "validates %.0fx as many codes per second\n",
                    raws.back().offset, percentile(*one, 50) - percentile(raw, 50),
                    per_second(raw) / per_second(*one));
    }
    for (const auto& p : logons)
        if (!p.first_problem.empty())
            std::printf("first problem (%s): %s\n",
                        plural(p.threads, "client", "clients").c_str(), p.first_problem.c_str());
    for (const auto& r : raws)
        if (!r.phase.first_problem.empty())
            std::printf("first problem (liboath): %s\n", r.phase.first_problem.c_str());
}

} // namespace

int main(int argc, char** argv)
try {
    auto parsed = parse_args(argc, argv);
    if (const auto done = latchkey::bench::usage_exit(parsed, "latchkey-bench-totp", usage_text))
        return *done;
    const Options o = std::get<Options>(std::move(parsed));
    if (::geteuid() != 0) {
        std::printf("latchkey-bench-totp: skipped, needs root: it logs on as %u users of its "
                    "own, and latchkeyd lets only root authenticate users other than the "
                    "caller\n",
                    o.users);
        return exit_skipped;
    }

    const auto timeout = std::chrono::milliseconds(static_cast<long long>(o.timeout_s * 1000));
    lk::proto::ClientOptions pam;
    pam.socket_path = o.socket;
    pam.timeout = timeout;
    pam.trusted_server_uids = lk::proto::default_trusted_uids({::getuid()});
    lk::proto::ClientOptions admin = pam;
    admin.socket_path = o.admin_socket;
    const auto params = device_params(o.window);

    auto setup = enrol_all(o, admin, params);
    if (!setup) {
        std::fprintf(stderr, "latchkey-bench-totp: %s\n", setup.error().message.c_str());
        return 1;
    }

    CodeSupply supply(setup->users, params);
    std::vector<Phase> logons;
    std::uint64_t problems = 0;
    std::uint64_t done = 0;
    for (const unsigned n : o.concurrency) {
        logons.push_back(run_logons(o, n, supply, setup->users, pam, params, done));
        done += logons.back().ok + n; // and the untimed one per client
        problems += logons.back().failed + logons.back().errors;
        if (problems != 0)
            break; // later phases would measure the same fault
    }

    // The positions the socket phases answered at: the nearest and the farthest.
    unsigned lowest = o.window;
    unsigned highest = 0;
    for (const auto& p : logons)
        for (unsigned i = 0; i < p.offsets.size(); ++i)
            if (p.offsets[i] != 0) {
                lowest = std::min(lowest, i);
                highest = std::max(highest, i);
            }
    std::vector<Raw> raws;
    for (const unsigned offset : {lowest, highest})
        if (raws.empty() || raws.back().offset != offset) {
            raws.push_back({offset, run_raw(params, offset)});
            problems += raws.back().phase.failed + raws.back().phase.errors;
        }

    if (o.json) {
        json::array logon_rows;
        for (const auto& p : logons)
            logon_rows.push_back(to_json(p));
        json::array raw_rows;
        for (const auto& r : raws) {
            auto row = to_json(r.phase);
            for (const auto* key : {"wall_seconds", "waited_seconds", "rounds", "logons_before",
                                    "offsets"})
                row.erase(key);
            row["offset"] = r.offset;
            raw_rows.push_back(std::move(row));
        }
        const json::object out{
            {"socket", o.socket},
            {"admin_socket", o.admin_socket},
            {"users", o.users},
            {"window", o.window},
            {"count", o.duration_s ? json::value(nullptr) : json::value(o.count)},
            {"duration_s", o.duration_s ? json::value(*o.duration_s) : json::value(nullptr)},
            {"enrol_seconds", setup->seconds},
            {"code_steps", logon_rows},
            {"liboath", raw_rows},
        };
        std::printf("%s\n", json::serialize(out).c_str());
    } else {
        print_table(o, *setup, logons, raws);
    }
    if (std::fflush(stdout) != 0)
        return 1;
    return problems == 0 ? 0 : 1;
} catch (const std::exception& e) {
    std::fprintf(stderr, "latchkey-bench-totp: %s\n", e.what());
    return 1;
}
