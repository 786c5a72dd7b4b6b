// SPDX-License-Identifier: Apache-2.0
// http_post: one HTTP(S) exchange on Beast, run on an io_context of its own and bounded in time.
#include "notify/http_client.hpp"

#include <openssl/ssl.h>

#include <exception>
#include <optional>
#include <utility>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
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

#include "core/secret.hpp"

namespace latchkey::notify {

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

struct Target {
    bool tls = false;
    std::string host;        ///< without IPv6 brackets: for the resolver, SNI and verification
    std::string host_header; ///< as in the URL: "[::1]:8080"
    std::string port;
    std::string path; ///< origin-form: path and query
};

core::Result<Target> parse_target(const std::string& url)
{
    auto u = boost::urls::parse_uri(url);
    if (!u)
        return core::fail(core::Errc::invalid_argument, "the URL is not a URI");
    Target t;
    if (u->scheme() == "https")
        t.tls = true;
    else if (u->scheme() != "http")
        return core::fail(core::Errc::invalid_argument, "the URL must be http or https");
    t.host = std::string(u->encoded_host());
    t.host_header = std::string(u->encoded_host_and_port());
    if (t.host.size() > 2 && t.host.front() == '[' && t.host.back() == ']')
        t.host = t.host.substr(1, t.host.size() - 2);
    if (t.host.empty())
        return core::fail(core::Errc::invalid_argument, "the URL has no host");
    t.port = u->has_port() ? std::string(u->port()) : (t.tls ? "443" : "80");
    t.path = std::string(u->encoded_path());
    if (t.path.empty())
        t.path = "/";
    if (u->has_query())
        t.path += "?" + std::string(u->encoded_query());
    return t;
}

template <class Stream>
asio::awaitable<core::Result<unsigned>> exchange(Stream& stream, const Target& t,
                                                 std::string_view content_type,
                                                 const std::string& body)
{
    http::request<http::string_body> req{http::verb::post, t.path, 11};
    req.set(http::field::host, t.host_header);
    req.set(http::field::user_agent, "latchkeyd");
    req.set(http::field::content_type, content_type);
    req.set(http::field::connection, "close");
    req.body() = body;
    req.prepare_payload();
    auto [wec, written] = co_await http::async_write(stream, req, use_tuple);
    // The body may hold a secret (a notification's code): do not leave this copy behind.
    core::wipe(req.body().data(), req.body().size());
    if (wec)
        co_return core::fail(core::Errc::io_failed, "sending the request: " + wec.message());
    beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    parser.body_limit(max_http_answer_body);
    auto [rec, read] = co_await http::async_read(stream, buffer, parser, use_tuple);
    if (rec)
        co_return core::fail(core::Errc::io_failed, "reading the answer: " + rec.message());
    co_return parser.get().result_int();
}

asio::awaitable<core::Result<unsigned>> post(Target t, std::string_view content_type,
                                             const std::string& body,
                                             std::chrono::milliseconds timeout)
{
    auto ex = co_await asio::this_coro::executor;
    tcp::resolver resolver(ex);
    auto [rec, endpoints] = co_await resolver.async_resolve(t.host, t.port, use_tuple);
    if (rec)
        co_return core::fail(core::Errc::io_failed, "resolving " + t.host + ": " + rec.message());
    // The stream's timer bounds every operation started after expires_after: the whole exchange.
    if (!t.tls) {
        beast::tcp_stream stream(ex);
        stream.expires_after(timeout);
        auto [cec, ep] = co_await stream.async_connect(endpoints, use_tuple);
        if (cec)
            co_return core::fail(core::Errc::io_failed, "connecting: " + cec.message());
        co_return co_await exchange(stream, t, content_type, body);
    }
    asio::ssl::context ctx(asio::ssl::context::tls_client);
    ctx.set_default_verify_paths();
    ctx.set_verify_mode(asio::ssl::verify_peer);
    ctx.set_verify_callback(asio::ssl::host_name_verification(t.host));
    beast::ssl_stream<beast::tcp_stream> stream(ex, ctx);
    // SNI carries host names only (RFC 6066 §3), never an address literal.
    boost::system::error_code not_an_address;
    asio::ip::make_address(t.host, not_an_address);
    if (not_an_address && !SSL_set_tlsext_host_name(stream.native_handle(), t.host.c_str()))
        co_return core::fail(core::Errc::io_failed, "TLS: cannot set the server name");
    beast::get_lowest_layer(stream).expires_after(timeout);
    auto [cec, ep] = co_await beast::get_lowest_layer(stream).async_connect(endpoints, use_tuple);
    if (cec)
        co_return core::fail(core::Errc::io_failed, "connecting: " + cec.message());
    auto [hec] = co_await stream.async_handshake(asio::ssl::stream_base::client, use_tuple);
    if (hec)
        co_return core::fail(core::Errc::io_failed, "TLS handshake: " + hec.message());
    co_return co_await exchange(stream, t, content_type, body);
}

} // namespace

core::Result<unsigned> http_post(const std::string& url, std::string_view content_type,
                                 const std::string& body, std::chrono::milliseconds timeout)
{
    LATCHKEY_TRY(target, parse_target(url));
    // The coroutine borrows `content_type` and `body`: they outlive `io`, which is run here and
    // destroyed (with any unfinished coroutine) before this function returns.
    std::optional<core::Result<unsigned>> outcome;
    asio::io_context io;
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
            outcome.emplace(co_await post(std::move(target), content_type, body, timeout));
        },
        [&](std::exception_ptr e) {
            if (e)
                outcome.emplace(core::fail(core::Errc::io_failed, "the POST failed"));
        });
    // The resolver runs on a thread of its own; the stream's timer bounds the rest.
    io.run_for(timeout + std::chrono::seconds(1));
    if (!outcome)
        return core::fail(core::Errc::io_failed, "the server did not answer in time");
    return std::move(*outcome);
}

core::Status check_http_url(const std::string& url)
{
    LATCHKEY_TRY(target, parse_target(url));
    return {};
}

} // namespace latchkey::notify
