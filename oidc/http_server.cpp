// SPDX-License-Identifier: Apache-2.0
// The HTTP(S) server: one coroutine per connection on the io thread, handlers on a thread pool.
#include "oidc/http_server.hpp"

// GCC 12 misreads Asio's coroutine frame allocator (its own operator new/delete pair) as a
// mismatched new/delete at -O2 (GCC bug 109224); nothing is mismatched.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

#include <algorithm>
#include <array>
#include <atomic>
#include <exception>
#include <limits>
#include <list>
#include <sstream>
#include <string_view>
#include <type_traits>
#include <utility>

#include <fcntl.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/serializer.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include "core/log.hpp"
#include "core/secret.hpp"
#include "directory/network.hpp"

namespace latchkey::oidc {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace ssl = boost::asio::ssl;
namespace log = core::log;
using asio::ip::tcp;
using namespace asio::experimental::awaitable_operators;

struct HttpServer::State {
    /// A connection that stop() may close; `busy` while its handler runs or its response is
    /// being written, which stop() lets finish.
    struct Live {
        tcp::socket* socket;
        bool busy;
    };

    State(HttpLimits l, HttpHandler h, asio::thread_pool& w)
        : limits(l)
        , handler(std::move(h))
        , work(w)
    {
    }

    const HttpLimits limits;
    const HttpHandler handler;
    asio::thread_pool& work;
    std::atomic<std::uint32_t> connections{0};
    std::atomic<bool> stopping{false};
    // Touched only on the io thread.
    bool refusing = false; // logged "connection limit reached" and not yet below it again
    std::list<std::weak_ptr<tcp::acceptor>> acceptors;
    std::list<Live> live;
};

namespace {

using StatePtr = std::shared_ptr<HttpServer::State>;
using Timer = asio::steady_timer;
using TlsStream = beast::ssl_stream<tcp::socket>;
using RequestParser = http::request_parser<http::string_body>;

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
constexpr std::string_view server_name = "latchkeyd";
/// How long, and how many bytes, a closing connection is drained so that a final response is
/// not destroyed by a reset (a peer still sending when we close gets an RST, and may lose the
/// response it has not read yet).
constexpr std::chrono::seconds linger_time{1};
constexpr std::size_t linger_bytes = 64 * 1024;
constexpr std::size_t first_read_size = 4096;
constexpr std::size_t logged_path_max = 200;

template <class Stream>
constexpr bool is_tls = std::is_same_v<Stream, TlsStream>;

tcp::socket& socket_of(tcp::socket& s)
{
    return s;
}

tcp::socket& socket_of(TlsStream& s)
{
    return s.next_layer();
}

void set_cloexec(int fd) noexcept
{
    const int flags = ::fcntl(fd, F_GETFD);
    if (flags >= 0)
        ::fcntl(fd, F_SETFD, flags | FD_CLOEXEC);
}

void log_exception(std::string_view where, const std::exception_ptr& e)
{
    if (!e)
        return;
    try {
        std::rethrow_exception(e);
    } catch (const std::exception& x) {
        log::error("http: " + std::string(where) + ": " + x.what());
    } catch (...) {
        log::error("http: " + std::string(where) + ": unknown exception");
    }
}

std::string endpoint_text(const tcp::endpoint& ep)
{
    const auto address = ep.address().to_string();
    const auto port = std::to_string(ep.port());
    return ep.address().is_v6() ? "[" + address + "]:" + port : address + ":" + port;
}

HttpPeer peer_of(const tcp::socket& sock, bool tls)
{
    HttpPeer peer;
    peer.tls = tls;
    boost::system::error_code ec;
    const auto ep = sock.remote_endpoint(ec);
    if (ec)
        return peer;
    auto address = ep.address();
    // A dual-stack listener ("::") sees IPv4 clients as ::ffff:a.b.c.d; report them as IPv4.
    if (address.is_v6() && address.to_v6().is_v4_mapped())
        address = asio::ip::make_address_v4(asio::ip::v4_mapped, address.to_v6());
    peer.address = address.to_string();
    peer.port = ep.port();
    return peer;
}

/// Method and path for a debug line: the query and fragment may hold codes and tokens.
std::string log_line(const HttpRequest& request, const HttpPeer& peer)
{
    std::string_view path = request.target();
    path = path.substr(0, path.find_first_of("?#"));
    std::string line = "http: " + peer.address + " " + std::string(request.method_string()) + " ";
    if (path.size() > logged_path_max) {
        line.append(path.substr(0, logged_path_max));
        line += "...";
    } else {
        line.append(path);
    }
    return line;
}

/// A short text response that ends the connection (errors found before the handler runs).
HttpResponse closing_response(http::status status, std::string_view text)
{
    HttpResponse res{status, 11};
    res.set(http::field::server, server_name);
    res.set(http::field::content_type, "text/plain; charset=utf-8");
    res.set(http::field::cache_control, "no-store");
    res.keep_alive(false);
    res.body() = text;
    res.prepare_payload();
    return res;
}

/// The whole text of the 503 written, without waiting, to a connection over the limit.
std::string busy_response_text()
{
    auto res = closing_response(http::status::service_unavailable,
                                "latchkeyd has too many connections; try again in a moment\n");
    res.set(http::field::retry_after, "1");
    std::ostringstream text;
    text << res;
    return text.str();
}

/// Calls the handler and completes its response (Server, Content-Length). Never throws out:
/// a stray exception becomes a 500.
HttpResponse run_handler(const HttpHandler& handler,
                         HttpRequest&& request,
                         const HttpPeer& peer) noexcept
{
    try {
        HttpResponse res = handler(std::move(request), peer);
        if (res.find(http::field::server) == res.end())
            res.set(http::field::server, server_name);
        res.prepare_payload(); // throws for a body on a 1xx, 204 or 304
        return res;
    } catch (...) {
        // Its message is not logged: it may quote the request.
        log::error("http: a request handler threw; answered 500");
    }
    HttpResponse res{http::status::internal_server_error, 11};
    res.set(http::field::server, server_name);
    res.set(http::field::content_type, "text/plain; charset=utf-8");
    res.set(http::field::cache_control, "no-store");
    res.body() = "internal server error\n";
    res.prepare_payload();
    return res;
}

/// Runs the handler on `pool` and resumes on the caller's executor (as the daemon's UnixServer does: the
/// reply must not queue behind the pool's other work). The work guard keeps io.run() going
/// until the reply is back, even when nothing else is left to do (after stop()).
asio::awaitable<HttpResponse> run_on(asio::thread_pool& pool,
                                     const HttpHandler& handler,
                                     HttpRequest& request,
                                     const HttpPeer& peer)
{
    return asio::async_initiate<const asio::use_awaitable_t<>&, void(HttpResponse)>(
        [&pool, &handler, &request, &peer](auto completion) {
            auto guard = asio::make_work_guard(asio::get_associated_executor(completion));
            asio::post(pool, [&handler, &request, &peer, guard = std::move(guard),
                                     completion = std::move(completion)]() mutable {
                HttpResponse res = run_handler(handler, std::move(request), peer);
                auto back = guard.get_executor();
                asio::post(back, [guard = std::move(guard), completion = std::move(completion),
                                  res = std::move(res)]() mutable {
                    std::move(completion)(std::move(res));
                });
            });
        },
        asio::use_awaitable);
}

/// Removes a connection from the live list when its coroutine ends, and wipes what it read.
class Registration {
public:
    Registration(HttpServer::State& st, tcp::socket& sock, beast::flat_buffer& buffer)
        : st_(st)
        , it_(st.live.insert(st.live.end(), HttpServer::State::Live{&sock, false}))
        , buffer_(buffer)
    {
    }

    Registration(const Registration&) = delete;
    Registration& operator=(const Registration&) = delete;

    ~Registration()
    {
        st_.live.erase(it_);
        buffer_.consume(buffer_.size());
        const auto all = buffer_.prepare(buffer_.capacity());
        core::wipe(all.data(), all.size());
    }

    void set_busy(bool busy) { it_->busy = busy; }

private:
    HttpServer::State& st_;
    std::list<HttpServer::State::Live>::iterator it_;
    beast::flat_buffer& buffer_;
};

/// Ends a connection after a final response without resetting it: TLS close_notify, stop
/// sending, then discard what the peer still sends, bounded in bytes and time.
template <class Stream>
asio::awaitable<void> close_gracefully(Stream& stream, Timer& timer)
{
    timer.expires_after(linger_time);
    if constexpr (is_tls<Stream>)
        co_await (stream.async_shutdown(use_tuple) || timer.async_wait(use_tuple));
    tcp::socket& sock = socket_of(stream);
    boost::system::error_code ec;
    sock.shutdown(tcp::socket::shutdown_send, ec);
    if (ec)
        co_return;
    std::array<char, 4096> sink{};
    std::size_t discarded = 0;
    while (discarded < linger_bytes) {
        auto r = co_await (sock.async_read_some(asio::buffer(sink), use_tuple) ||
                           timer.async_wait(use_tuple));
        if (r.index() != 0 || std::get<0>(std::get<0>(r)))
            break;
        discarded += std::get<1>(std::get<0>(r));
    }
    core::wipe(sink.data(), sink.size());
}

/// Writes a response within `timeout`; false if the peer is gone or too slow. For HEAD only
/// the header goes out.
template <class Stream>
asio::awaitable<bool> write_response(Stream& stream,
                                     Timer& timer,
                                     HttpResponse& res,
                                     bool header_only,
                                     std::chrono::seconds timeout)
{
    timer.expires_after(timeout);
    http::response_serializer<http::string_body> sr{res};
    auto r = header_only ? co_await (http::async_write_header(stream, sr, use_tuple) ||
                                     timer.async_wait(use_tuple))
                         : co_await (http::async_write(stream, sr, use_tuple) ||
                                     timer.async_wait(use_tuple));
    co_return r.index() == 0 && !std::get<0>(std::get<0>(r));
}

/// Why reading a request stopped.
struct ReadResult {
    boost::system::error_code ec;
    bool timed_out = false;
};

/// Reads one request (header, then `100 Continue` if asked for, then body) before the timer
/// expires; the caller sets it once for the whole request.
template <class Stream>
asio::awaitable<ReadResult> read_request(Stream& stream,
                                         beast::flat_buffer& buffer,
                                         RequestParser& parser,
                                         Timer& timer)
{
    auto r = co_await (http::async_read_header(stream, buffer, parser, use_tuple) ||
                       timer.async_wait(use_tuple));
    if (r.index() != 0)
        co_return ReadResult{{}, true};
    if (const auto ec = std::get<0>(std::get<0>(r)))
        co_return ReadResult{ec};
    if (parser.is_done())
        co_return ReadResult{};

    const auto& req = parser.get();
    if (req.version() >= 11 && beast::iequals(req[http::field::expect], "100-continue")) {
        // curl and others wait for this (or a second) before sending a larger body.
        static constexpr std::string_view go_on = "HTTP/1.1 100 Continue\r\n\r\n";
        auto w = co_await (asio::async_write(stream, asio::buffer(go_on), use_tuple) ||
                           timer.async_wait(use_tuple));
        if (w.index() != 0)
            co_return ReadResult{{}, true};
        if (const auto ec = std::get<0>(std::get<0>(w)))
            co_return ReadResult{ec};
    }
    auto b = co_await (http::async_read(stream, buffer, parser, use_tuple) ||
                       timer.async_wait(use_tuple));
    if (b.index() != 0)
        co_return ReadResult{{}, true};
    co_return ReadResult{std::get<0>(std::get<0>(b))};
}

/// The answer to a request that could not be read, or nothing when the connection just ends
/// (the peer closed it, a network error, or stop()).
std::optional<HttpResponse> read_failure_response(const ReadResult& r)
{
    if (r.timed_out)
        return closing_response(http::status::request_timeout, "request timeout\n");
    if (r.ec == http::error::end_of_stream || r.ec == http::error::partial_message)
        return std::nullopt;
    if (r.ec == http::error::header_limit)
        return closing_response(http::status::request_header_fields_too_large,
                                "request header fields too large\n");
    if (r.ec == http::error::body_limit)
        return closing_response(http::status::payload_too_large, "payload too large\n");
    if (r.ec.category() == http::make_error_code(http::error::bad_method).category())
        return closing_response(http::status::bad_request, "bad request\n");
    return std::nullopt;
}

/// Serves the requests of one connection, in order.
template <class Stream>
asio::awaitable<void> serve(HttpServer::State& st, Stream& stream, const HttpPeer& peer)
{
    const HttpLimits& limits = st.limits;
    Timer timer(co_await asio::this_coro::executor);
    beast::flat_buffer buffer;
    Registration registration(st, socket_of(stream), buffer);
    if (st.stopping)
        co_return;

    if constexpr (is_tls<Stream>) {
        timer.expires_after(limits.read_timeout);
        auto r = co_await (stream.async_handshake(ssl::stream_base::server, use_tuple) ||
                           timer.async_wait(use_tuple));
        if (r.index() != 0 || std::get<0>(std::get<0>(r))) {
            log::debug("http: TLS handshake with " + peer.address + " failed or timed out");
            co_return;
        }
    }

    for (std::uint32_t served = 0;;) {
        if (buffer.size() == 0) {
            // Idle: a new connection gets read_timeout to start its request, a kept-alive one
            // keep_alive_timeout to send its next.
            timer.expires_after(served == 0 ? limits.read_timeout : limits.keep_alive_timeout);
            auto r = co_await (stream.async_read_some(buffer.prepare(first_read_size), use_tuple) ||
                               timer.async_wait(use_tuple));
            if (r.index() != 0)
                co_return;
            const auto [ec, n] = std::get<0>(r);
            if (ec)
                co_return; // closed by the peer (or by stop())
            buffer.commit(n);
        }

        // From its first byte, the whole request must arrive within read_timeout (slowloris).
        timer.expires_after(limits.read_timeout);
        RequestParser parser;
        parser.header_limit(static_cast<std::uint32_t>(std::min<std::size_t>(
            limits.max_header_bytes, std::numeric_limits<std::uint32_t>::max())));
        parser.body_limit(limits.max_body_bytes);
        const auto read = co_await read_request(stream, buffer, parser, timer);
        if (read.timed_out || read.ec) {
            auto res = read_failure_response(read);
            if (!res)
                co_return;
            log::debug("http: " + peer.address + " " + std::to_string(res->result_int()) + " (" +
                       (read.timed_out ? std::string("too slow") : read.ec.message()) + ")");
            if (co_await write_response(stream, timer, *res, false, limits.write_timeout))
                co_await close_gracefully(stream, timer);
            co_return;
        }

        HttpRequest request = parser.release();
        ++served;
        const unsigned version = request.version() == 10 ? 10 : 11;
        const bool client_keeps = request.keep_alive();
        const bool head = request.method() == http::verb::head;
        log::debug(log_line(request, peer));

        registration.set_busy(true);
        const HttpPeer client = client_of(peer, request, limits.trusted_proxies);
        HttpResponse res = co_await run_on(st.work, st.handler, request, client);
        const bool keep = client_keeps && res.keep_alive() &&
                          served < limits.max_requests_per_connection && !st.stopping;
        res.version(version);
        res.keep_alive(keep);
        const bool written =
            co_await write_response(stream, timer, res, head, limits.write_timeout);
        registration.set_busy(false);
        if (!written)
            co_return;
        if (res.need_eof() || st.stopping) {
            co_await close_gracefully(stream, timer);
            co_return;
        }
    }
}

} // namespace

HttpPeer client_of(const HttpPeer& peer,
                   const HttpRequest& request,
                   const std::vector<std::string>& trusted_proxies)
{
    const auto trusted = [&](const std::string& a) {
        return !a.empty() &&
               std::find(trusted_proxies.begin(), trusted_proxies.end(), a) != trusted_proxies.end();
    };
    if (!trusted(peer.address))
        return peer;
    // Every X-Forwarded-For line, in order, as one list.
    std::vector<std::string_view> hops;
    for (auto [it, end] = request.equal_range("X-Forwarded-For"); it != end; ++it) {
        std::string_view v = it->value();
        while (!v.empty()) {
            const auto comma = v.find(',');
            std::string_view hop = v.substr(0, comma);
            while (!hop.empty() && (hop.front() == ' ' || hop.front() == '\t'))
                hop.remove_prefix(1);
            while (!hop.empty() && (hop.back() == ' ' || hop.back() == '\t'))
                hop.remove_suffix(1);
            hops.push_back(hop);
            if (comma == std::string_view::npos)
                break;
            v.remove_prefix(comma + 1);
        }
    }
    HttpPeer client = peer;
    for (auto it = hops.rbegin(); it != hops.rend(); ++it) {
        const std::string address = directory::canonical_address(*it).value_or("");
        if (address.empty())
            break; // garbage: believe nothing further left
        client.address = address;
        client.forwarded = true;
        client.port = 0;
        if (!trusted(address))
            break;
    }
    return client;
}

namespace {

asio::awaitable<void> connection(StatePtr st, tcp::socket sock, std::shared_ptr<ssl::context> tls)
{
    struct Count {
        std::atomic<std::uint32_t>& n;
        ~Count() { --n; }
    } count{st->connections};

    const HttpPeer peer = peer_of(sock, tls != nullptr);
    if (!tls) {
        co_await serve(*st, sock, peer);
    } else {
        TlsStream stream(std::move(sock), *tls);
        co_await serve(*st, stream, peer);
    }
}

/// Answers a connection over the limit without waiting for it: a plain 503 fits the socket
/// buffer of a new connection; TLS would need a handshake, so it is just closed.
void refuse(tcp::socket& sock, bool tls, const std::string& busy_text)
{
    boost::system::error_code ignored;
    if (!tls) {
        sock.non_blocking(true, ignored);
        sock.write_some(asio::buffer(busy_text), ignored);
    }
    sock.shutdown(tcp::socket::shutdown_both, ignored);
    sock.close(ignored);
}

asio::awaitable<void> accept_loop(StatePtr st,
                                  std::shared_ptr<tcp::acceptor> acceptor,
                                  std::shared_ptr<ssl::context> tls,
                                  std::string where)
{
    if (st->stopping)
        co_return;
    st->acceptors.remove_if([](const auto& w) { return w.expired(); });
    st->acceptors.push_back(acceptor);
    const std::string busy_text = busy_response_text();
    Timer backoff(co_await asio::this_coro::executor);
    for (;;) {
        auto [ec, sock] = co_await acceptor->async_accept(use_tuple);
        if (st->stopping)
            co_return;
        if (ec) {
            if (ec == asio::error::operation_aborted)
                co_return;
            log::warning("http: accept on " + where + " failed: " + ec.message());
            backoff.expires_after(std::chrono::milliseconds(100)); // e.g. out of descriptors
            co_await backoff.async_wait(use_tuple);
            continue;
        }
        set_cloexec(sock.native_handle());
        if (st->connections.load() >= st->limits.max_connections) {
            if (!st->refusing)
                log::warning("http: connection limit (" +
                             std::to_string(st->limits.max_connections) +
                             ") reached; refusing new clients until one leaves");
            st->refusing = true;
            refuse(sock, tls != nullptr, busy_text);
            continue;
        }
        st->refusing = false;
        ++st->connections;
        asio::co_spawn(acceptor->get_executor(), connection(st, std::move(sock), tls),
                       [](const std::exception_ptr& e) { log_exception("connection", e); });
    }
}

core::Result<std::shared_ptr<ssl::context>> make_tls_context(const TlsFiles& files)
try {
    auto ctx = std::make_shared<ssl::context>(ssl::context::tls_server);
    SSL_CTX* native = ctx->native_handle();
    if (SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION) != 1)
        return core::fail(core::Errc::crypto_failed, "TLS: cannot require TLS 1.2");
    SSL_CTX_set_options(native, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION |
                                    SSL_OP_CIPHER_SERVER_PREFERENCE);
    boost::system::error_code ec;
    ctx->use_certificate_chain_file(files.certificate_chain, ec);
    if (ec) {
        ERR_clear_error();
        return core::fail(core::Errc::config_invalid, "TLS certificate chain " +
                                                          files.certificate_chain + ": " +
                                                          ec.message());
    }
    const auto mismatch = [&] {
        ERR_clear_error();
        return core::fail(core::Errc::config_invalid,
                          "TLS private key " + files.private_key +
                              " does not match the certificate chain " + files.certificate_chain);
    };
    ctx->use_private_key_file(files.private_key, ssl::context::pem, ec);
    if (ec) {
        // OpenSSL compares the key with the certificate as it loads it.
        const auto code = static_cast<unsigned long>(ec.value());
        if (ec.category() == asio::error::get_ssl_category() &&
            ERR_GET_LIB(code) == ERR_LIB_X509 && ERR_GET_REASON(code) == X509_R_KEY_VALUES_MISMATCH)
            return mismatch();
        ERR_clear_error();
        return core::fail(core::Errc::config_invalid,
                          "TLS private key " + files.private_key + ": " + ec.message());
    }
    if (SSL_CTX_check_private_key(native) != 1)
        return mismatch();
    return ctx;
} catch (const std::exception& e) {
    ERR_clear_error();
    return core::fail(core::Errc::crypto_failed, std::string("TLS: ") + e.what());
}

void close_all(HttpServer::State& st)
{
    boost::system::error_code ec;
    for (auto& w : st.acceptors)
        if (auto a = w.lock())
            a->close(ec);
    st.acceptors.clear();
    // A connection whose handler runs finishes its response with "Connection: close".
    for (auto& c : st.live)
        if (!c.busy)
            c.socket->close(ec);
}

} // namespace

HttpServer::HttpServer(asio::io_context& io,
                       HttpLimits limits,
                       HttpHandler handler,
                       asio::thread_pool& work)
    : io_(io)
    , state_(std::make_shared<State>(limits, std::move(handler), work))
{
}

HttpServer::~HttpServer()
{
    stop();
}

std::uint32_t HttpServer::connections() const
{
    return state_->connections.load();
}

core::Result<std::uint16_t> HttpServer::listen(const std::string& address,
                                               std::uint16_t port,
                                               const std::optional<TlsFiles>& tls)
{
    if (state_->stopping)
        return core::fail(core::Errc::failed_precondition, "the HTTP server is stopping");
    boost::system::error_code ec;
    const auto ip = asio::ip::make_address(address, ec);
    if (ec)
        return core::fail(core::Errc::config_invalid,
                          "invalid HTTP listen address \"" + address + "\"");
    std::shared_ptr<ssl::context> ctx;
    if (tls) {
        LATCHKEY_TRY(loaded, make_tls_context(*tls));
        ctx = std::move(loaded);
    }

    const tcp::endpoint endpoint(ip, port);
    const auto failed = [&](std::string_view what) {
        return core::fail(core::Errc::io_failed, "cannot " + std::string(what) + " on " +
                                                     endpoint_text(endpoint) + ": " +
                                                     ec.message());
    };
    auto acceptor = std::make_shared<tcp::acceptor>(io_);
    acceptor->open(endpoint.protocol(), ec);
    if (ec)
        return failed("open a socket");
    set_cloexec(acceptor->native_handle());
    acceptor->set_option(tcp::acceptor::reuse_address(true), ec);
    if (!ec)
        acceptor->bind(endpoint, ec);
    if (ec)
        return failed("bind");
    acceptor->listen(asio::socket_base::max_listen_connections, ec);
    if (ec)
        return failed("listen");
    const auto bound = acceptor->local_endpoint(ec);
    if (ec)
        return failed("listen");

    const std::string where = endpoint_text(bound) + (ctx ? " (https)" : " (http)");
    asio::co_spawn(io_, accept_loop(state_, acceptor, std::move(ctx), where),
                   [where](const std::exception_ptr& e) {
                       log_exception("accept loop on " + where, e);
                   });
    return bound.port();
}

void HttpServer::stop()
{
    state_->stopping = true;
    asio::dispatch(io_, [st = state_] { close_all(*st); });
}

} // namespace latchkey::oidc
