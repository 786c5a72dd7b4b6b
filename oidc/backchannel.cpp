// SPDX-License-Identifier: Apache-2.0
// Back-channel logout delivery: a small HTTP(S) client on Beast, one exchange at a time.
#include "oidc/backchannel.hpp"

#include <openssl/ssl.h>

#include <exception>
#include <optional>
#include <utility>
#include <variant>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <boost/url/parse.hpp>

#include "oidc/web.hpp"

namespace latchkey::oidc {

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

/// What a client may answer: a short body at most (we read it only to finish the exchange).
constexpr std::size_t max_answer_body = 16 * 1024;

struct Target {
    bool tls = false;
    std::string host;
    std::string port;
    std::string path; ///< origin-form: path and query
};

core::Result<Target> parse(const std::string& uri)
{
    auto u = boost::urls::parse_uri(uri);
    if (!u)
        return core::fail(core::Errc::invalid_argument, "the back-channel logout URI is not a URI");
    Target t;
    if (u->scheme() == "https")
        t.tls = true;
    else if (u->scheme() != "http")
        return core::fail(core::Errc::invalid_argument,
                          "the back-channel logout URI must be http or https");
    t.host = std::string(u->encoded_host());
    if (t.host.size() > 2 && t.host.front() == '[' && t.host.back() == ']')
        t.host = t.host.substr(1, t.host.size() - 2);
    if (t.host.empty())
        return core::fail(core::Errc::invalid_argument, "the back-channel logout URI has no host");
    t.port = u->has_port() ? std::string(u->port()) : (t.tls ? "443" : "80");
    t.path = std::string(u->encoded_path());
    if (t.path.empty())
        t.path = "/";
    if (u->has_query())
        t.path += "?" + std::string(u->encoded_query());
    return t;
}

template <class Stream>
asio::awaitable<core::Status> exchange(Stream& stream, const Target& t, const std::string& body)
{
    http::request<http::string_body> req{http::verb::post, t.path, 11};
    req.set(http::field::host, t.host + ":" + t.port);
    req.set(http::field::user_agent, "latchkeyd");
    req.set(http::field::content_type, "application/x-www-form-urlencoded");
    req.set(http::field::connection, "close");
    req.body() = body;
    req.prepare_payload();
    auto [wec, written] = co_await http::async_write(stream, req, use_tuple);
    if (wec)
        co_return core::fail(core::Errc::io_failed, "sending the logout token: " + wec.message());
    beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    parser.body_limit(max_answer_body);
    auto [rec, read] = co_await http::async_read(stream, buffer, parser, use_tuple);
    if (rec)
        co_return core::fail(core::Errc::io_failed, "reading the client's answer: " + rec.message());
    const unsigned status = parser.get().result_int();
    if (status < 200 || status > 299)
        co_return core::fail(core::Errc::io_failed,
                             "the client answered HTTP " + std::to_string(status));
    co_return core::Status{};
}

asio::awaitable<core::Status> deliver(Target t, std::string body,
                                      std::chrono::milliseconds timeout)
{
    auto ex = co_await asio::this_coro::executor;
    tcp::resolver resolver(ex);
    auto [rec, endpoints] = co_await resolver.async_resolve(t.host, t.port, use_tuple);
    if (rec)
        co_return core::fail(core::Errc::io_failed, "resolving " + t.host + ": " + rec.message());
    if (!t.tls) {
        beast::tcp_stream stream(ex);
        stream.expires_after(timeout);
        auto [cec, ep] = co_await stream.async_connect(endpoints, use_tuple);
        if (cec)
            co_return core::fail(core::Errc::io_failed, "connecting: " + cec.message());
        co_return co_await exchange(stream, t, body);
    }
    asio::ssl::context ctx(asio::ssl::context::tls_client);
    ctx.set_default_verify_paths();
    ctx.set_verify_mode(asio::ssl::verify_peer);
    ctx.set_verify_callback(asio::ssl::host_name_verification(t.host));
    beast::ssl_stream<beast::tcp_stream> stream(ex, ctx);
    if (!SSL_set_tlsext_host_name(stream.native_handle(), t.host.c_str()))
        co_return core::fail(core::Errc::io_failed, "TLS: cannot set the server name");
    beast::get_lowest_layer(stream).expires_after(timeout);
    auto [cec, ep] = co_await beast::get_lowest_layer(stream).async_connect(endpoints, use_tuple);
    if (cec)
        co_return core::fail(core::Errc::io_failed, "connecting: " + cec.message());
    auto [hec] = co_await stream.async_handshake(asio::ssl::stream_base::client, use_tuple);
    if (hec)
        co_return core::fail(core::Errc::io_failed, "TLS handshake: " + hec.message());
    co_return co_await exchange(stream, t, body);
}

} // namespace

core::Status post_logout_token(const std::string& uri, const std::string& token,
                               std::chrono::milliseconds timeout)
{
    LATCHKEY_TRY(target, parse(uri));
    asio::io_context io;
    std::optional<core::Status> outcome;
    asio::co_spawn(io, deliver(std::move(target), "logout_token=" + form_encode(token), timeout),
                   [&](std::exception_ptr e, core::Status st) {
                       outcome = e ? core::Status(core::fail(core::Errc::io_failed,
                                                             "the delivery failed"))
                                   : std::move(st);
                   });
    // The resolver runs on a thread of its own; the timer of the stream bounds the rest.
    io.run_for(timeout + std::chrono::seconds(1));
    if (!outcome)
        return core::fail(core::Errc::io_failed, "the client did not answer in time");
    return std::move(*outcome);
}

BackchannelSender::BackchannelSender(std::chrono::milliseconds timeout, Report report)
    : timeout_(timeout)
    , report_(std::move(report))
    , thread_([this] { run(); })
{
}

BackchannelSender::~BackchannelSender()
{
    {
        const std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_all();
    thread_.join();
    for (const auto& d : queue_)
        report_(d, core::fail(core::Errc::io_failed, "latchkeyd stopped before delivering it"));
}

bool BackchannelSender::send(LogoutDelivery delivery)
{
    {
        const std::lock_guard lock(mutex_);
        if (queue_.size() >= max_queued)
            return false;
        queue_.push_back(std::move(delivery));
    }
    wake_.notify_one();
    return true;
}

void BackchannelSender::run()
{
    for (;;) {
        LogoutDelivery d;
        {
            std::unique_lock lock(mutex_);
            wake_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
            if (stopping_)
                return;
            d = std::move(queue_.front());
            queue_.pop_front();
        }
        core::Status st;
        try {
            st = post_logout_token(d.uri, d.logout_token, timeout_);
        } catch (const std::exception& e) {
            st = core::fail(core::Errc::io_failed, std::string("the delivery failed: ") + e.what());
        }
        report_(d, st);
    }
}

} // namespace latchkey::oidc
