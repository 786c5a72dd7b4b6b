// SPDX-License-Identifier: Apache-2.0
// latchkey-bench-oidc: HTTP load on latchkeyd's OpenID Connect provider from N keep-alive
// connections (discovery, JWKS, client_credentials, refresh, code exchange), with the daemon's
// RSS and CPU read from /proc during each measurement.
//
//   once, untimed: one sign-in per connection slot, without a browser, its cookie kept
//     GET /authorize (PKCE S256) ─► 303 /login?tx ─► GET /login ─► POST username
//     ─► POST password (one Argon2id hash) ─► 303 /authorize/resume + lk_session ─► 302 code
//
//   then for each endpoint, for each connection count N, one measurement:
//     prepare, untimed: N connections; for refresh each gets a refresh token of its own
//       (GET /authorize with its cookie ─► 302 code ─► POST /token, scope openid
//       offline_access); for code exchange each fetches its share of codes with its cookie
//       (timed by count, reported as "authorize → code")
//     one untimed request per connection, then all start together; each connection sends its
//     next request when the last response arrived (closed loop), for --duration seconds
//
// One thread drives every connection (Asio coroutines), so the generator takes at most one
// core; it prints its own CPU use beside the daemon's. Responses are checked (status, and the
// token in a token response); a refresh chain continues with the token each response rotates
// in. Requests in flight when the time is up are finished and counted; the rate divides by the
// time until the last one ended. Loopback only.
#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include <sys/resource.h>
#include <unistd.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>

#include "bench/bench_util.hpp"
#include "core/random.hpp"
#include "core/secret.hpp"
#include "oidc/jose.hpp"
#include "oidc/web.hpp"

namespace {

namespace lk = latchkey;
namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace json = boost::json;
using tcp = net::ip::tcp;
using Clock = std::chrono::steady_clock;
using Request = http::request<http::string_body>;
using Response = http::response<http::string_body>;
using latchkey::oidc::form_encode;
/// nullopt: it worked; otherwise what went wrong.
using Problem = std::optional<std::string>;
constexpr auto use_tuple = net::as_tuple(net::use_awaitable);

using latchkey::bench::parse_number;
using latchkey::bench::percentile;
using latchkey::bench::plural;
using latchkey::bench::UsageError;

constexpr std::string_view usage_text =
    "usage: latchkey-bench-oidc --port PORT --client-id ID --client-secret-file FILE\n"
    "           --redirect-uri URI --user USER@DOMAIN --password-file FILE\n"
    "           --access-key-id ID --access-key-secret-file FILE [OPTIONS]\n"
    "\n"
    "Sends HTTP requests to latchkeyd's OpenID Connect provider on 127.0.0.1 from N keep-alive\n"
    "connections and prints requests/s and latency per endpoint and N, with the daemon's peak\n"
    "RSS. Signs in once per connection slot (one password hash each) and reuses the cookies.\n"
    "\n"
    "  --port PORT                  the provider's port on 127.0.0.1\n"
    "  --client-id ID               a confidential client (client_secret_basic) whose redirect\n"
    "  --client-secret-file FILE      URIs include --redirect-uri; files: their first line\n"
    "  --redirect-uri URI           never fetched: codes are read from the Location header\n"
    "  --user USER@DOMAIN           signs in on the pages; needs a password and no MFA\n"
    "  --password-file FILE\n"
    "  --access-key-id ID           an access key (LK...) for client_credentials\n"
    "  --access-key-secret-file FILE\n"
    "  --endpoints E[,E...]         of discovery, jwks, client_credentials, refresh, code\n"
    "                               (default: all, in that order)\n"
    "  --connections N[,N...]       connection counts, one measurement each (default 1,10,100)\n"
    "  --duration SECONDS           of each measurement (default 5)\n"
    "  --max-codes N                codes fetched for one code-exchange measurement at most\n"
    "                               (default 40000); a measurement that uses them up stops early\n"
    "  --prefetch-seconds SECONDS   and for SECONDS at most (default: 3 times --duration)\n"
    "  --daemon-pid PID             read latchkeyd's VmRSS and CPU time from /proc/PID\n"
    "  --timeout SECONDS            give up on one response after SECONDS (default 10)\n"
    "  --json                       print one JSON object instead of the table\n"
    "  -h, --help                   show this help\n";

enum class Endpoint : std::uint8_t { discovery, jwks, client_credentials, refresh, code };

constexpr std::array all_endpoints{Endpoint::discovery, Endpoint::jwks,
                                   Endpoint::client_credentials, Endpoint::refresh,
                                   Endpoint::code};

std::string_view name_of(Endpoint e)
{
    switch (e) {
    case Endpoint::discovery: return "discovery";
    case Endpoint::jwks: return "jwks";
    case Endpoint::client_credentials: return "client_credentials";
    case Endpoint::refresh: return "refresh";
    case Endpoint::code: return "code";
    }
    return "?";
}

struct Options {
    unsigned short port = 0;
    std::string client_id;
    std::string client_secret_file;
    std::string redirect_uri;
    std::string user;
    std::string password_file;
    std::string access_key_id;
    std::string access_key_secret_file;
    std::vector<Endpoint> endpoints{all_endpoints.begin(), all_endpoints.end()};
    std::vector<unsigned> connections{1, 10, 100};
    double duration_s = 5.0;
    std::uint64_t max_codes = 40'000;
    std::optional<double> prefetch_s;
    std::optional<int> daemon_pid;
    double timeout_s = 10.0;
    bool json = false;
};

/// Connections at most: the daemon's own limit is 512, and each one is a socket here too.
constexpr unsigned max_connections = 1000;

std::vector<std::string_view> split_commas(std::string_view s)
{
    std::vector<std::string_view> out;
    for (std::size_t start = 0;;) {
        const auto comma = s.find(',', start);
        out.push_back(s.substr(start, comma - start));
        if (comma == std::string_view::npos)
            return out;
        start = comma + 1;
    }
}

std::variant<Options, UsageError, std::monostate> parse_args(int argc, char** argv)
{
    Options o;
    const auto take = [&](std::string_view a, std::string_view v) -> std::optional<bool> {
        const auto seconds = [&](double& out, double most) {
            return latchkey::bench::parse_seconds(v, out, most);
        };
        bool ok = true;
        if (a == "--port") {
            const auto n = parse_number<unsigned short>(v);
            ok = n && *n != 0;
            o.port = n.value_or(0);
        } else if (a == "--client-id") {
            o.client_id = v;
        } else if (a == "--client-secret-file") {
            o.client_secret_file = v;
        } else if (a == "--redirect-uri") {
            o.redirect_uri = v;
        } else if (a == "--user") {
            o.user = v;
        } else if (a == "--password-file") {
            o.password_file = v;
        } else if (a == "--access-key-id") {
            o.access_key_id = v;
        } else if (a == "--access-key-secret-file") {
            o.access_key_secret_file = v;
        } else if (a == "--endpoints") {
            o.endpoints.clear();
            for (const auto word : split_commas(v)) {
                const auto it = std::find_if(all_endpoints.begin(), all_endpoints.end(),
                                             [&](Endpoint e) { return name_of(e) == word; });
                ok = ok && it != all_endpoints.end();
                if (it != all_endpoints.end())
                    o.endpoints.push_back(*it);
            }
        } else if (a == "--connections") {
            o.connections.clear();
            for (const auto word : split_commas(v)) {
                const auto n = parse_number<unsigned>(word);
                ok = ok && n && *n >= 1 && *n <= max_connections;
                o.connections.push_back(n.value_or(1));
            }
        } else if (a == "--duration") {
            ok = seconds(o.duration_s, 600);
        } else if (a == "--max-codes") {
            const auto n = parse_number<std::uint64_t>(v);
            ok = n && *n >= 1 && *n <= 1'000'000;
            o.max_codes = n.value_or(1);
        } else if (a == "--prefetch-seconds") {
            double d = 0;
            ok = seconds(d, 600);
            o.prefetch_s = d;
        } else if (a == "--daemon-pid") {
            const auto n = parse_number<int>(v);
            ok = n && *n > 0;
            o.daemon_pid = n;
        } else if (a == "--timeout") {
            ok = seconds(o.timeout_s, 600);
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
    if (o.port == 0)
        return UsageError{"--port is required"};
    const auto needs = [&](Endpoint e) {
        return std::find(o.endpoints.begin(), o.endpoints.end(), e) != o.endpoints.end();
    };
    if ((needs(Endpoint::refresh) || needs(Endpoint::code)) &&
        (o.client_id.empty() || o.client_secret_file.empty() || o.redirect_uri.empty() ||
         o.user.empty() || o.password_file.empty()))
        return UsageError{"refresh and code need --client-id, --client-secret-file, "
                          "--redirect-uri, --user and --password-file"};
    if (needs(Endpoint::client_credentials) &&
        (o.access_key_id.empty() || o.access_key_secret_file.empty()))
        return UsageError{"client_credentials needs --access-key-id and --access-key-secret-file"};
    return o;
}

// ---- HTTP -------------------------------------------------------------------------------

std::string form(std::initializer_list<std::pair<std::string_view, std::string_view>> fields)
{
    std::string out;
    for (const auto& [k, v] : fields)
        out += (out.empty() ? "" : "&") + form_encode(k) + "=" + form_encode(v);
    return out;
}

/// "Basic base64(id:secret)", both parts form-encoded first (RFC 6749 §2.3.1).
lk::core::Secret basic_authorization(std::string_view id, const lk::core::Secret& secret)
{
    std::string pair = form_encode(id) + ":" + form_encode(secret.view());
    const lk::core::WipeOnExit wipe_pair(pair.data(), pair.size());
    std::string header = "Basic " + lk::core::base64_encode(pair, false, true);
    const lk::core::WipeOnExit wipe_header(header.data(), header.size());
    return lk::core::Secret(header);
}

/// One keep-alive connection to the provider. It connects again, when asked to, after a
/// response that closed it (latchkeyd closes after a number of requests) or after an error.
class Connection {
public:
    Connection(const net::any_io_executor& ex, tcp::endpoint to, std::chrono::milliseconds timeout)
        : stream_(ex)
        , to_(std::move(to))
        , timeout_(timeout)
    {
    }

    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;
    ~Connection() { close(); }

    /// Connects unless connected.
    net::awaitable<Problem> ensure_open()
    {
        if (open_)
            co_return std::nullopt;
        if (opened_before_)
            ++reconnects_;
        buffer_.clear();
        stream_.expires_after(timeout_);
        const auto r = co_await stream_.async_connect(to_, use_tuple);
        const beast::error_code ec = std::get<0>(r);
        if (ec) {
            close();
            co_return "connect: " + ec.message();
        }
        beast::error_code ignored;
        stream_.socket().set_option(tcp::no_delay(true), ignored);
        open_ = true;
        opened_before_ = true;
        co_return std::nullopt;
    }

    /// Writes `req` and reads the response into `res` on the open connection.
    net::awaitable<Problem> exchange(const Request& req, Response& res)
    {
        res = {};
        stream_.expires_after(timeout_);
        const auto w = co_await http::async_write(stream_, req, use_tuple);
        beast::error_code ec = std::get<0>(w);
        if (!ec) {
            const auto r = co_await http::async_read(stream_, buffer_, res, use_tuple);
            ec = std::get<0>(r);
        }
        if (ec || !res.keep_alive())
            close();
        if (ec)
            co_return std::string(ec == beast::error::timeout ? "timeout" : ec.message());
        co_return std::nullopt;
    }

    /// ensure_open(), then exchange().
    net::awaitable<Problem> round_trip(const Request& req, Response& res)
    {
        if (auto p = co_await ensure_open())
            co_return p;
        co_return co_await exchange(req, res);
    }

    [[nodiscard]] std::uint64_t reconnects() const { return reconnects_; }

private:
    void close()
    {
        beast::error_code ignored;
        stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
        stream_.close();
        open_ = false;
    }

    beast::tcp_stream stream_;
    tcp::endpoint to_;
    std::chrono::milliseconds timeout_;
    beast::flat_buffer buffer_;
    bool open_ = false;
    bool opened_before_ = false;
    std::uint64_t reconnects_ = 0;
};

/// What every request needs: the Host header, the client, the secrets.
struct Context {
    std::string host;
    std::string client_id;
    std::string redirect_uri;
    std::string user;
    lk::core::Secret password;
    lk::core::Secret client_authorization;     ///< Basic, of the client
    lk::core::Secret access_key_authorization; ///< Basic, of the access key
};

Request get(const Context& cx, std::string target, std::string_view cookie = {})
{
    Request req{http::verb::get, std::move(target), 11};
    req.set(http::field::host, cx.host);
    if (!cookie.empty())
        req.set(http::field::cookie, cookie);
    return req;
}

Request post_form(const Context& cx, std::string target, std::string body,
                  const lk::core::Secret* authorization = nullptr)
{
    Request req{http::verb::post, std::move(target), 11};
    req.set(http::field::host, cx.host);
    req.set(http::field::content_type, "application/x-www-form-urlencoded");
    if (authorization != nullptr)
        req.set(http::field::authorization, authorization->view());
    req.body() = std::move(body);
    req.prepare_payload();
    return req;
}

/// "HTTP 400: {...}" with the start of the body, for the first problem of a measurement.
std::string unexpected(const Response& res, std::string_view what)
{
    std::string body = res.body().substr(0, 160);
    std::replace(body.begin(), body.end(), '\n', ' ');
    return std::string(what) + ": HTTP " + std::to_string(res.result_int()) + " " + body;
}

std::optional<std::string> query_param(std::string_view url, std::string_view key)
{
    const auto q = url.find('?');
    if (q == std::string_view::npos)
        return std::nullopt;
    auto params = lk::oidc::parse_params(url.substr(q + 1));
    if (!params)
        return std::nullopt;
    const auto it = params->find(key);
    if (it == params->end())
        return std::nullopt;
    return it->second;
}

/// The value of the hidden input `name` of a sign-in page (tokens: no escaping needed).
std::optional<std::string> hidden_value(std::string_view html, std::string_view name)
{
    const std::string marker = "name=\"" + std::string(name) + "\" value=\"";
    const auto at = html.find(marker);
    if (at == std::string_view::npos)
        return std::nullopt;
    const auto start = at + marker.size();
    const auto end = html.find('"', start);
    if (end == std::string_view::npos)
        return std::nullopt;
    return std::string(html.substr(start, end - start));
}

// ---- sign-in, codes, tokens ---------------------------------------------------------------

struct Code {
    std::string code;
    std::string verifier;
};

struct Pkce {
    std::string verifier;
    std::string challenge;
};

Pkce make_pkce()
{
    std::array<unsigned char, 32> raw{};
    lk::core::random_bytes(raw.data(), raw.size());
    Pkce p;
    p.verifier = lk::oidc::base64url(
        std::string_view(reinterpret_cast<const char*>(raw.data()), raw.size()));
    p.challenge = lk::oidc::sha256_base64url(p.verifier);
    return p;
}

std::string authorize_target(const Context& cx, const Pkce& p, std::string_view scope)
{
    return "/authorize?" + form({{"response_type", "code"},
                                 {"client_id", cx.client_id},
                                 {"redirect_uri", cx.redirect_uri},
                                 {"scope", scope},
                                 {"state", "bench"},
                                 {"code_challenge", p.challenge},
                                 {"code_challenge_method", "S256"}});
}

/// The whole sign-in on the pages, as a browser without JavaScript does it; sets `cookie` to
/// "lk_session=...". (Each request is built before its co_await: g++ 12 rejects string
/// literals inside an expression that suspends.)
net::awaitable<Problem> sign_in(Connection& c, const Context& cx, std::string& cookie)
{
    Response res;
    const Pkce pkce = make_pkce();
    const Request start = get(cx, authorize_target(cx, pkce, "openid"));
    if (auto p = co_await c.round_trip(start, res))
        co_return "GET /authorize: " + *p;
    const std::string login(res[http::field::location]);
    if (res.result() != http::status::see_other || login.rfind("/login?tx=", 0) != 0)
        co_return unexpected(res, "GET /authorize, expected 303 to /login");
    const auto tx = query_param(login, "tx");
    if (!tx)
        co_return "GET /authorize: no tx in " + login;

    const Request page = get(cx, login);
    if (auto p = co_await c.round_trip(page, res))
        co_return "GET /login: " + *p;
    const auto csrf = hidden_value(res.body(), "csrf");
    if (res.result() != http::status::ok || !csrf)
        co_return unexpected(res, "GET /login, expected the user name form");

    const Request username =
        post_form(cx, "/login", form({{"tx", *tx}, {"csrf", *csrf}, {"username", cx.user}}));
    if (auto p = co_await c.round_trip(username, res))
        co_return "POST /login (user name): " + *p;
    if (res.result() != http::status::ok || res.body().find("name=\"answer\"") == std::string::npos)
        co_return unexpected(res, "POST /login (user name), expected the password form");

    Request answer = post_form(
        cx, "/login", form({{"tx", *tx}, {"csrf", *csrf}, {"answer", cx.password.view()}}));
    const lk::core::WipeOnExit wipe_answer(answer.body().data(), answer.body().size());
    if (auto p = co_await c.round_trip(answer, res))
        co_return "POST /login (password): " + *p;
    const std::string resume(res[http::field::location]);
    const std::string_view set_cookie = res[http::field::set_cookie];
    if (res.result() != http::status::see_other || resume.rfind("/authorize/resume?", 0) != 0 ||
        set_cookie.rfind("lk_session=", 0) != 0)
        co_return unexpected(res, "POST /login (password), expected 303 to /authorize/resume "
                                  "and a session cookie");
    cookie = std::string(set_cookie.substr(0, set_cookie.find(';')));

    const Request back = get(cx, resume);
    if (auto p = co_await c.round_trip(back, res))
        co_return "GET /authorize/resume: " + *p;
    if (!query_param(res[http::field::location], "code"))
        co_return unexpected(res, "GET /authorize/resume, expected a redirect with a code");
    co_return std::nullopt;
}

/// A code for the signed-in session of `cookie`: GET /authorize answers at once.
net::awaitable<Problem> fetch_code(Connection& c, const Context& cx, const std::string& cookie,
                                   std::string_view scope, Code& out)
{
    Response res;
    Pkce pkce = make_pkce();
    const Request req = get(cx, authorize_target(cx, pkce, scope), cookie);
    if (auto p = co_await c.round_trip(req, res))
        co_return "GET /authorize: " + *p;
    auto code = query_param(res[http::field::location], "code");
    if (res.result() != http::status::found || !code)
        co_return unexpected(res, "GET /authorize with a session, expected 302 with a code");
    out = Code{std::move(*code), std::move(pkce.verifier)};
    co_return std::nullopt;
}

Request code_request(const Context& cx, const Code& code)
{
    return post_form(cx, "/token",
                     form({{"grant_type", "authorization_code"},
                           {"code", code.code},
                           {"redirect_uri", cx.redirect_uri},
                           {"code_verifier", code.verifier}}),
                     &cx.client_authorization);
}

Request refresh_request(const Context& cx, std::string_view token)
{
    return post_form(cx, "/token",
                     form({{"grant_type", "refresh_token"}, {"refresh_token", token}}),
                     &cx.client_authorization);
}

/// The string member `key` of a token response, or nullopt.
std::optional<std::string> json_string(const std::string& body, std::string_view key)
{
    boost::system::error_code ec;
    const json::value v = json::parse(body, ec);
    if (ec || !v.is_object())
        return std::nullopt;
    const auto* member = v.as_object().if_contains(key);
    if (member == nullptr || !member->is_string())
        return std::nullopt;
    return std::string(member->as_string());
}

// ---- the daemon, from /proc ---------------------------------------------------------------

/// Reads latchkeyd's memory and CPU time; every answer is nullopt without a pid.
class DaemonProbe {
public:
    explicit DaemonProbe(std::optional<int> pid)
        : pid_(pid)
    {
    }

    /// A "VmRSS:"/"VmHWM:" line of /proc/PID/status, in KiB.
    [[nodiscard]] std::optional<std::uint64_t> status_kib(std::string_view field) const
    {
        if (!pid_)
            return std::nullopt;
        std::ifstream in("/proc/" + std::to_string(*pid_) + "/status");
        for (std::string line; std::getline(in, line);)
            if (line.rfind(field, 0) == 0) {
                std::istringstream rest(line.substr(field.size()));
                std::uint64_t kib = 0;
                if (rest >> kib)
                    return kib;
            }
        return std::nullopt;
    }

    /// utime + stime of /proc/PID/stat, in seconds.
    [[nodiscard]] std::optional<double> cpu_seconds() const
    {
        if (!pid_)
            return std::nullopt;
        std::ifstream in("/proc/" + std::to_string(*pid_) + "/stat");
        std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        const auto paren = text.rfind(')'); // the command name may hold spaces
        if (paren == std::string::npos)
            return std::nullopt;
        std::istringstream fields(text.substr(paren + 1));
        std::string field;
        std::uint64_t utime = 0;
        std::uint64_t stime = 0;
        // After ")": state is field 3 of the line; utime and stime are fields 14 and 15.
        for (int i = 3; i <= 13; ++i)
            fields >> field;
        if (!(fields >> utime >> stime))
            return std::nullopt;
        return static_cast<double>(utime + stime) / static_cast<double>(::sysconf(_SC_CLK_TCK));
    }

private:
    std::optional<int> pid_;
};

double own_cpu_seconds()
{
    rusage u{};
    ::getrusage(RUSAGE_SELF, &u);
    const auto s = [](const timeval& t) {
        return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
    };
    return s(u.ru_utime) + s(u.ru_stime);
}

// ---- measurements -------------------------------------------------------------------------

/// Runs the tasks at once on this coroutine's executor; returns when all have ended. An
/// exception from one (not an expected failure: those are values) is rethrown here.
net::awaitable<void> run_all(std::vector<net::awaitable<void>> tasks)
{
    const auto ex = co_await net::this_coro::executor;
    std::size_t left = tasks.size();
    std::exception_ptr first;
    net::steady_timer done(ex, net::steady_timer::time_point::max());
    for (auto& t : tasks)
        net::co_spawn(ex, std::move(t), [&](const std::exception_ptr& e) {
            if (e && !first)
                first = e;
            if (--left == 0)
                done.cancel();
        });
    while (left > 0)
        (void)co_await done.async_wait(use_tuple);
    if (first)
        std::rethrow_exception(first);
}

/// Errors after which a measurement stops: a daemon that is gone fails in microseconds.
constexpr std::uint64_t max_errors = 1000;

/// One connection's share of a measurement.
struct Slot {
    Slot(const net::any_io_executor& ex, const tcp::endpoint& to, std::chrono::milliseconds t)
        : conn(ex, to, t)
    {
    }

    Connection conn;
    std::string refresh_token;
    std::vector<Code> codes;
    std::size_t next_code = 0;
    std::uint64_t reconnects_base = 0; ///< reconnects before this phase
    std::uint64_t ok = 0;
    std::uint64_t errors = 0;
    std::vector<double> latencies_ms;
    std::string first_problem;
    Clock::time_point end{};
};

struct Row {
    std::string name;
    unsigned connections = 0;
    std::uint64_t ok = 0;
    std::uint64_t errors = 0;
    std::uint64_t reconnects = 0;
    double seconds = 0;
    std::vector<double> latencies_ms; ///< of the successful requests, sorted
    std::string first_problem;
    bool by_count = false; ///< a fixed number of requests (codes fetched), not a duration
    bool ran_out = false;  ///< stopped early: the prefetched codes were used up
    bool cut_short = false; ///< codes fetched: stopped by --prefetch-seconds, not the count
    std::optional<std::uint64_t> rss_peak_kib;
    std::optional<double> daemon_cpu; ///< seconds of CPU per second of wall time
    double bench_cpu = 0;
};

double per_second(const Row& r)
{
    return r.seconds > 0 ? static_cast<double>(r.ok) / r.seconds : 0;
}

class Bench {
public:
    Bench(const Options& o, Context cx, const net::any_io_executor& ex)
        : o_(o)
        , cx_(std::move(cx))
        , ex_(ex)
        , to_(net::ip::make_address_v4("127.0.0.1"), o.port)
        , timeout_(static_cast<long long>(o.timeout_s * 1000))
        , probe_(o.daemon_pid)
    {
    }

    std::vector<Row> rows;
    std::uint64_t sign_ins = 0;
    double sign_in_seconds = 0;
    std::string first_setup_problem;

    /// Every measurement of the options, in order; stops at the first that had errors.
    net::awaitable<void> run()
    {
        for (const Endpoint e : o_.endpoints)
            for (const unsigned n : o_.connections) {
                if (!co_await measure(e, n))
                    co_return;
            }
    }

private:
    /// Signs in until `n` session cookies exist, a few at a time: the daemon hashes a password
    /// on each, on at most its worker count of threads.
    net::awaitable<bool> ensure_sessions(unsigned n)
    {
        if (cookies_.size() >= n)
            co_return true;
        const auto t0 = Clock::now();
        const std::size_t from = cookies_.size();
        cookies_.resize(n);
        std::size_t next = from;
        Problem problem;
        const auto worker = [&]() -> net::awaitable<void> {
            Connection c(ex_, to_, timeout_);
            while (next < cookies_.size() && !problem) {
                const std::size_t i = next++;
                if (auto p = co_await sign_in(c, cx_, cookies_[i]))
                    problem = std::move(p);
            }
        };
        std::vector<net::awaitable<void>> tasks;
        for (std::size_t i = 0; i < std::min<std::size_t>(sign_in_parallel, n - from); ++i)
            tasks.push_back(worker());
        co_await run_all(std::move(tasks));
        sign_ins += n - from;
        sign_in_seconds += std::chrono::duration<double>(Clock::now() - t0).count();
        if (problem) {
            first_setup_problem = "sign-in: " + *problem;
            co_return false;
        }
        co_return true;
    }

    /// The request one connection sends next, or nullopt when it has no code left.
    std::optional<Request> next_request(Endpoint e, Slot& s) const
    {
        switch (e) {
        case Endpoint::discovery: return get(cx_, "/.well-known/openid-configuration");
        case Endpoint::jwks: return get(cx_, "/jwks");
        case Endpoint::client_credentials:
            return post_form(cx_, "/token", "grant_type=client_credentials",
                             &cx_.access_key_authorization);
        case Endpoint::refresh: return refresh_request(cx_, s.refresh_token);
        case Endpoint::code:
            if (s.next_code >= s.codes.size())
                return std::nullopt;
            return code_request(cx_, s.codes[s.next_code++]);
        }
        return std::nullopt;
    }

    /// Whether a response is what the endpoint answers when it works; for refresh, takes the
    /// rotated token.
    static Problem check(Endpoint e, Slot& s, const Response& res)
    {
        if (res.result() != http::status::ok)
            return unexpected(res, name_of(e));
        switch (e) {
        case Endpoint::discovery:
            if (res.body().find("\"token_endpoint\"") == std::string::npos)
                return unexpected(res, "discovery without token_endpoint");
            break;
        case Endpoint::jwks:
            if (res.body().find("\"keys\"") == std::string::npos)
                return unexpected(res, "jwks without keys");
            break;
        case Endpoint::client_credentials:
            if (res.body().find("\"access_token\"") == std::string::npos)
                return unexpected(res, "client_credentials without access_token");
            break;
        case Endpoint::refresh: {
            auto next = json_string(res.body(), "refresh_token");
            if (!next)
                return unexpected(res, "refresh without refresh_token");
            s.refresh_token = std::move(*next);
            break;
        }
        case Endpoint::code:
            if (res.body().find("\"id_token\"") == std::string::npos)
                return unexpected(res, "code exchange without id_token");
            break;
        }
        return std::nullopt;
    }

    struct Shared {
        bool stop = false;
        bool ran_out = false;
        std::uint64_t errors = 0;
        std::size_t active = 0;
    };

    static void note(Slot& s, std::string problem)
    {
        ++s.errors;
        if (s.first_problem.empty())
            s.first_problem = std::move(problem);
    }

    /// One connection's closed loop until `deadline`.
    net::awaitable<void> drive(Endpoint e, Slot& s, Clock::time_point deadline, Shared& shared)
    {
        Response res;
        while (!shared.stop && Clock::now() < deadline) {
            auto req = next_request(e, s);
            if (!req) {
                shared.ran_out = true;
                shared.stop = true;
                break;
            }
            if (auto p = co_await s.conn.ensure_open()) { // reconnecting is not a request's time
                note(s, *p);
                if (++shared.errors >= max_errors)
                    shared.stop = true;
                continue;
            }
            const auto t0 = Clock::now();
            auto problem = co_await s.conn.exchange(*req, res);
            const auto t1 = Clock::now();
            s.end = t1;
            if (!problem)
                problem = check(e, s, res);
            if (!problem) {
                ++s.ok;
                s.latencies_ms.push_back(
                    std::chrono::duration<double, std::milli>(t1 - t0).count());
                continue;
            }
            note(s, *problem);
            if (++shared.errors >= max_errors)
                shared.stop = true;
            if (e == Endpoint::refresh)
                break; // the chain is broken: the last token may be spent
        }
        --shared.active;
    }

    /// Samples VmRSS every 50 ms while connections are active.
    net::awaitable<void> sample(const Shared& shared, std::uint64_t& peak_kib)
    {
        net::steady_timer tick(ex_);
        while (shared.active > 0) {
            if (const auto kib = probe_.status_kib("VmRSS:"))
                peak_kib = std::max(peak_kib, *kib);
            tick.expires_after(std::chrono::milliseconds(50));
            (void)co_await tick.async_wait(use_tuple);
        }
    }

    /// Fills `row` from the slots of a finished phase that started at `start`.
    static void collect(std::vector<std::unique_ptr<Slot>>& slots,
                        Clock::time_point start,
                        Row& row)
    {
        Clock::time_point end = start;
        for (auto& s : slots) {
            row.ok += s->ok;
            row.errors += s->errors;
            row.reconnects += s->conn.reconnects() - s->reconnects_base;
            s->reconnects_base = s->conn.reconnects();
            row.latencies_ms.insert(row.latencies_ms.end(), s->latencies_ms.begin(),
                                    s->latencies_ms.end());
            if (row.first_problem.empty())
                row.first_problem = s->first_problem;
            end = std::max(end, s->end);
        }
        row.seconds = std::chrono::duration<double>(end - start).count();
        std::sort(row.latencies_ms.begin(), row.latencies_ms.end());
    }

    /// How many codes a code-exchange measurement on n connections fetches: twice what the
    /// refresh rate at n would use (a refresh signs what an exchange signs, but it also walks
    /// the daemon's token maps, so exchanges run faster), or a guess without it.
    std::uint64_t code_budget(unsigned n) const
    {
        const auto it = refresh_rate_.find(n);
        const double rate = it != refresh_rate_.end() ? it->second * 2 : 1500.0;
        const auto want = static_cast<std::uint64_t>(rate * o_.duration_s) + n;
        return std::clamp<std::uint64_t>(want, std::uint64_t{n} * 2, o_.max_codes);
    }

    /// Fetches each slot's share of `total` codes, for --prefetch-seconds at most (a slow
    /// /authorize must not stretch the run without bound); timed as its own row.
    net::awaitable<bool> fetch_codes(std::vector<std::unique_ptr<Slot>>& slots, std::uint64_t total)
    {
        const auto limit = std::chrono::duration_cast<Clock::duration>(
            std::chrono::duration<double>(o_.prefetch_s.value_or(3 * o_.duration_s)));
        const auto deadline = Clock::now() + limit;
        const auto n = static_cast<unsigned>(slots.size());
        Row row;
        row.name = "authorize → code";
        row.connections = n;
        row.by_count = true;
        const std::uint64_t per_slot = (total + n - 1) / n;
        const auto fetch = [&](std::size_t i) -> net::awaitable<void> {
            Slot& s = *slots[i];
            s.codes.reserve(per_slot);
            while (s.codes.size() < per_slot) {
                if (Clock::now() >= deadline) {
                    row.cut_short = true;
                    co_return;
                }
                Code code;
                const auto t0 = Clock::now();
                const std::string_view scope = "openid";
                if (auto p = co_await fetch_code(s.conn, cx_, cookies_[i], scope, code)) {
                    note(s, *p);
                    co_return;
                }
                s.end = Clock::now();
                ++s.ok;
                s.latencies_ms.push_back(
                    std::chrono::duration<double, std::milli>(s.end - t0).count());
                s.codes.push_back(std::move(code));
            }
        };
        std::vector<net::awaitable<void>> tasks;
        for (std::size_t i = 0; i < slots.size(); ++i)
            tasks.push_back(fetch(i));
        const auto start = Clock::now();
        co_await run_all(std::move(tasks));
        collect(slots, start, row);
        for (auto& s : slots) { // the exchange's own tally starts from zero
            s->ok = 0;
            s->errors = 0;
            s->latencies_ms.clear();
            s->first_problem.clear();
            s->end = {};
        }
        const bool ok = row.errors == 0;
        rows.push_back(std::move(row));
        co_return ok;
    }

    /// Gives each slot a refresh token of its own: a code of its session, exchanged.
    net::awaitable<bool> start_chains(std::vector<std::unique_ptr<Slot>>& slots)
    {
        Problem problem;
        const auto chain = [&](std::size_t i) -> net::awaitable<void> {
            Slot& s = *slots[i];
            Code code;
            const std::string_view scope = "openid offline_access";
            if (auto p = co_await fetch_code(s.conn, cx_, cookies_[i], scope, code)) {
                problem = std::move(p);
                co_return;
            }
            Response res;
            const Request exchange = code_request(cx_, code);
            if (auto p = co_await s.conn.round_trip(exchange, res)) {
                problem = "POST /token (code): " + *p;
                co_return;
            }
            auto token = json_string(res.body(), "refresh_token");
            if (res.result() != http::status::ok || !token) {
                problem = unexpected(res, "code exchange, expected a refresh_token");
                co_return;
            }
            s.refresh_token = std::move(*token);
        };
        std::vector<net::awaitable<void>> tasks;
        for (std::size_t i = 0; i < slots.size(); ++i)
            tasks.push_back(chain(i));
        co_await run_all(std::move(tasks));
        if (problem)
            first_setup_problem = "refresh setup: " + *problem;
        co_return !problem;
    }

    /// One endpoint at n connections; false after errors (later ones would measure the fault).
    net::awaitable<bool> measure(Endpoint e, unsigned n)
    {
        const bool signed_in = e == Endpoint::refresh || e == Endpoint::code;
        if (signed_in && !co_await ensure_sessions(n))
            co_return false;
        std::vector<std::unique_ptr<Slot>> slots;
        for (unsigned i = 0; i < n; ++i)
            slots.push_back(std::make_unique<Slot>(ex_, to_, timeout_));
        if (e == Endpoint::refresh && !co_await start_chains(slots))
            co_return false;
        if (e == Endpoint::code && !co_await fetch_codes(slots, code_budget(n) + n))
            co_return false;

        // One untimed request each: connected, and the daemon's coroutine for it running.
        // (A named lambda: the coroutines refer to it until run_all() returns.)
        const auto warm_up = [&](Slot& slot) -> net::awaitable<void> {
            Response res;
            auto req = next_request(e, slot);
            if (!req) {
                note(slot, "warm-up: no code left");
                co_return;
            }
            Problem p = co_await slot.conn.round_trip(*req, res);
            if (!p)
                p = check(e, slot, res);
            if (p)
                note(slot, "warm-up: " + *p);
        };
        {
            std::vector<net::awaitable<void>> tasks;
            for (auto& s : slots)
                tasks.push_back(warm_up(*s));
            co_await run_all(std::move(tasks));
        }
        for (auto& s : slots)
            s->reconnects_base = s->conn.reconnects();

        Row row;
        row.name = std::string(name_of(e));
        row.connections = n;
        for (const auto& s : slots)
            if (s->errors != 0) {
                row.errors = s->errors;
                row.first_problem = s->first_problem;
                rows.push_back(std::move(row));
                co_return false;
            }

        Shared shared;
        shared.active = n;
        std::uint64_t peak_kib = 0;
        const auto cpu0 = probe_.cpu_seconds();
        const double own0 = own_cpu_seconds();
        const auto start = Clock::now();
        const auto deadline = start + std::chrono::duration_cast<Clock::duration>(
                                          std::chrono::duration<double>(o_.duration_s));
        std::vector<net::awaitable<void>> tasks;
        for (auto& s : slots)
            tasks.push_back(drive(e, *s, deadline, shared));
        tasks.push_back(sample(shared, peak_kib));
        co_await run_all(std::move(tasks));
        const double wall = std::chrono::duration<double>(Clock::now() - start).count();
        const auto cpu1 = probe_.cpu_seconds();

        collect(slots, start, row);
        row.ran_out = shared.ran_out;
        if (o_.daemon_pid && peak_kib != 0)
            row.rss_peak_kib = peak_kib;
        if (cpu0 && cpu1 && wall > 0)
            row.daemon_cpu = (*cpu1 - *cpu0) / wall;
        row.bench_cpu = wall > 0 ? (own_cpu_seconds() - own0) / wall : 0;
        if (e == Endpoint::refresh)
            refresh_rate_[n] = per_second(row);
        const bool ok = row.errors == 0;
        rows.push_back(std::move(row));
        co_return ok;
    }

    /// Sign-ins at once: enough to keep the daemon's hashing workers busy, no more.
    static constexpr std::size_t sign_in_parallel = 4;

    const Options& o_;
    Context cx_;
    net::any_io_executor ex_;
    tcp::endpoint to_;
    std::chrono::milliseconds timeout_;
    DaemonProbe probe_;
    std::vector<std::string> cookies_; ///< "lk_session=...", one per connection slot
    std::map<unsigned, double> refresh_rate_;
};

// ---- output -------------------------------------------------------------------------------

json::object to_json(const Row& r)
{
    json::object o{{"endpoint", r.name},
                   {"connections", r.connections},
                   {"ok", r.ok},
                   {"errors", r.errors},
                   {"reconnects", r.reconnects},
                   {"seconds", r.seconds},
                   {"per_second", per_second(r)},
                   {"p50_ms", percentile(r.latencies_ms, 50)},
                   {"p99_ms", percentile(r.latencies_ms, 99)},
                   {"max_ms", percentile(r.latencies_ms, 100)},
                   {"by_count", r.by_count},
                   {"ran_out", r.ran_out},
                   {"cut_short", r.cut_short},
                   {"first_problem", r.first_problem}};
    o["rss_peak_kib"] = r.rss_peak_kib ? json::value(*r.rss_peak_kib) : json::value(nullptr);
    o["daemon_cpu"] = r.daemon_cpu ? json::value(*r.daemon_cpu) : json::value(nullptr);
    o["bench_cpu"] = r.by_count ? json::value(nullptr) : json::value(r.bench_cpu);
    return o;
}

void print_table(const Options& o, const Bench& b, std::optional<std::uint64_t> hwm_kib)
{
    std::printf("latchkey-bench-oidc: http://127.0.0.1:%u, %g s per measurement, keep-alive "
                "connections, 1 client thread\n",
                static_cast<unsigned>(o.port), o.duration_s);
    if (b.sign_ins != 0)
        std::printf("sign-ins (untimed, one per connection slot, cookies reused): %s in %.1f s\n",
                    plural(b.sign_ins, "sign-in", "sign-ins").c_str(), b.sign_in_seconds);
    std::printf("%-18s %5s %8s %6s %9s %8s %8s %8s %8s %9s %9s\n", "", "conns", "ok", "errors",
                "req/s", "p50 ms", "p99 ms", "max ms", "rss MiB", "daemon %", "bench %");
    for (const auto& r : b.rows) {
        const std::string rss = r.rss_peak_kib ? std::to_string((*r.rss_peak_kib + 512) / 1024)
                                               : std::string("-");
        std::array<char, 16> daemon{};
        std::array<char, 16> bench{};
        std::snprintf(daemon.data(), daemon.size(), "%s", "-");
        std::snprintf(bench.data(), bench.size(), "%s", "-");
        if (r.daemon_cpu)
            std::snprintf(daemon.data(), daemon.size(), "%.0f", *r.daemon_cpu * 100);
        if (!r.by_count)
            std::snprintf(bench.data(), bench.size(), "%.0f", r.bench_cpu * 100);
        // "→" is 3 bytes and 1 column: pad by hand.
        const int pad = r.name.find("→") != std::string::npos ? 20 : 18;
        std::printf("%-*s %5u %8llu %6llu %9.0f %8.2f %8.2f %8.2f %8s %9s %9s\n", pad,
                    r.name.c_str(), r.connections, static_cast<unsigned long long>(r.ok),
                    static_cast<unsigned long long>(r.errors), per_second(r),
                    percentile(r.latencies_ms, 50), percentile(r.latencies_ms, 99),
                    percentile(r.latencies_ms, 100), rss.c_str(), daemon.data(), bench.data());
    }
    if (hwm_kib)
        std::printf("latchkeyd peak RSS (VmHWM) at the end: %llu MiB\n",
                    static_cast<unsigned long long>((*hwm_kib + 512) / 1024));
    for (const auto& r : b.rows) {
        if (r.cut_short)
            std::printf("%s, %u: stopped fetching codes after %.1f s (--prefetch-seconds)\n",
                        r.name.c_str(), r.connections, r.seconds);
        if (r.ran_out)
            std::printf("%s, %u: the prefetched codes ran out after %.1f s\n", r.name.c_str(),
                        r.connections, r.seconds);
        if (!r.first_problem.empty())
            std::printf("first problem (%s, %u): %s\n", r.name.c_str(), r.connections,
                        r.first_problem.c_str());
    }
    std::string reconnects;
    for (const auto& r : b.rows)
        if (r.reconnects != 0)
            reconnects += (reconnects.empty() ? "" : ", ") + r.name + " " +
                          std::to_string(r.connections) + ": " + std::to_string(r.reconnects);
    if (!reconnects.empty())
        std::printf("reconnects (latchkeyd ends a connection after 1000 requests): %s\n",
                    reconnects.c_str());
    if (!b.first_setup_problem.empty())
        std::printf("setup failed: %s\n", b.first_setup_problem.c_str());
}

} // namespace

int main(int argc, char** argv)
try {
    auto parsed = parse_args(argc, argv);
    if (const auto done = latchkey::bench::usage_exit(parsed, "latchkey-bench-oidc", usage_text))
        return *done;
    const Options o = std::get<Options>(std::move(parsed));
    const auto read_secret = [](const std::string& path) -> std::optional<lk::core::Secret> {
        if (path.empty())
            return lk::core::Secret();
        auto s = lk::bench::read_secret_line(path);
        if (!s) {
            std::fprintf(stderr, "latchkey-bench-oidc: %s\n", s.error().message.c_str());
            return std::nullopt;
        }
        return std::move(*s);
    };
    auto password = read_secret(o.password_file);
    auto client_secret = read_secret(o.client_secret_file);
    auto key_secret = read_secret(o.access_key_secret_file);
    if (!password || !client_secret || !key_secret)
        return 1;

    Context cx;
    cx.host = "127.0.0.1:" + std::to_string(o.port);
    cx.client_id = o.client_id;
    cx.redirect_uri = o.redirect_uri;
    cx.user = o.user;
    cx.password = std::move(*password);
    cx.client_authorization = basic_authorization(o.client_id, *client_secret);
    cx.access_key_authorization = basic_authorization(o.access_key_id, *key_secret);

    net::io_context io(1);
    Bench bench(o, std::move(cx), io.get_executor());
    std::exception_ptr failure;
    net::co_spawn(io, bench.run(), [&](const std::exception_ptr& e) { failure = e; });
    io.run();
    if (failure)
        std::rethrow_exception(failure);

    const auto hwm = DaemonProbe(o.daemon_pid).status_kib("VmHWM:");
    if (o.json) {
        json::array rows;
        for (const auto& r : bench.rows)
            rows.push_back(to_json(r));
        json::object out{{"port", o.port},
                         {"duration_s", o.duration_s},
                         {"sign_ins", bench.sign_ins},
                         {"sign_in_seconds", bench.sign_in_seconds},
                         {"rows", rows},
                         {"setup_problem", bench.first_setup_problem}};
        out["daemon_hwm_kib"] = hwm ? json::value(*hwm) : json::value(nullptr);
        std::printf("%s\n", json::serialize(out).c_str());
    } else {
        print_table(o, bench, hwm);
    }
    if (std::fflush(stdout) != 0)
        return 1;
    std::uint64_t problems = bench.first_setup_problem.empty() ? 0 : 1;
    for (const auto& r : bench.rows)
        problems += r.errors;
    return problems == 0 ? 0 : 1;
} catch (const std::exception& e) {
    std::fprintf(stderr, "latchkey-bench-oidc: %s\n", e.what());
    return 1;
}
