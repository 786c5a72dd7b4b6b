// SPDX-License-Identifier: Apache-2.0
// HttpServer: the OpenID Connect provider's HTTP/1.1 (or HTTPS) listener and connections.
//
//   accept ──► over max_connections? ──yes──► "503 Connection: close" (plain) or close (TLS)
//                 │no
//                 ▼
//   [TLS handshake, read_timeout] ──fail──► close
//                 ▼
//   wait for a first byte (read_timeout for the first request, then keep_alive_timeout)
//                 │              └─ idle too long / peer closed / stop() ──► close
//                 ▼
//   read header + body, read_timeout from the first byte
//                 │── header too large ──► 431 ─┐
//                 │── body too large   ──► 413 ─┤
//                 │── malformed        ──► 400 ─┼──► graceful close
//                 │── too slow         ──► 408 ─┘
//                 ▼
//   thread pool: handler(request, peer)  (throws ──► 500, connection kept)
//                 ▼
//   write the response, write_timeout ──► keep-alive? next request : graceful close
//
// One io thread owns every socket (run the io_context on one thread, as for UnixServer); the
// handler runs on a thread pool, so a slow endpoint never stalls other connections. Each
// connection has at most one request in flight, so the pool's queue is bounded by
// max_connections. Pipelined requests are answered in order, one after the other.
//
// Nothing here logs a request body, a query string or a header value: those carry codes,
// tokens and passwords. At debug level each request is logged as method and path only.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include "core/result.hpp"

namespace latchkey::oidc {

namespace http = boost::beast::http;

using HttpRequest = http::request<http::string_body>;
using HttpResponse = http::response<http::string_body>;

/// Who sent a request: the TCP peer, or the client a trusted proxy names (client_of()).
struct HttpPeer {
    std::string address; ///< textual IPv4 or IPv6 address
    std::uint16_t port = 0;
    bool tls = false;
    bool forwarded = false; ///< `address` came from a trusted proxy's X-Forwarded-For
};

struct HttpLimits {
    std::size_t max_header_bytes = 8 * 1024; ///< request line + headers
    std::size_t max_body_bytes = 64 * 1024;
    std::chrono::seconds read_timeout{10};       ///< whole request, from its first byte
    std::chrono::seconds write_timeout{10};      ///< whole response
    std::chrono::seconds keep_alive_timeout{30}; ///< idle between requests
    std::uint32_t max_connections = 512;
    std::uint32_t max_requests_per_connection = 1000;
    /// Addresses of reverse proxies whose X-Forwarded-For names the client; from anyone else
    /// the header is ignored.
    std::vector<std::string> trusted_proxies;
};

/// The client a request came from: the TCP peer; or, when the peer is a trusted proxy, the
/// rightmost address of X-Forwarded-For that is not itself a trusted proxy (each proxy appends
/// the address it got the request from, so only the hops after the last untrusted one can be
/// believed). A value that is no IP address ends the walk at the hop before it.
HttpPeer client_of(const HttpPeer& peer,
                   const HttpRequest& request,
                   const std::vector<std::string>& trusted_proxies);

/// PEM files for HTTPS.
struct TlsFiles {
    std::string certificate_chain; ///< leaf certificate first, then intermediates
    std::string private_key;
};

/// Answers one request. Runs on a worker thread of the server's pool, possibly on several
/// threads at once for different connections. Must not throw: a stray exception becomes a 500
/// and an error log line that quotes nothing of the request. The server adds `Server:`,
/// `Content-Length` and `Connection`, and answers with the request's HTTP version; a handler
/// that sets `Connection: close` ends the connection after its response. For HEAD, only the
/// header of the response is sent (its Content-Length is that of the body returned).
using HttpHandler = std::function<HttpResponse(HttpRequest&& request, const HttpPeer& peer)>;

class HttpServer {
public:
    /// `io` must be run by a single thread and outlive the server; `work` must outlive every
    /// request in flight (join it before destroying `io`).
    HttpServer(boost::asio::io_context& io,
               HttpLimits limits,
               HttpHandler handler,
               boost::asio::thread_pool& work);

    /// Calls stop().
    ~HttpServer();

    HttpServer(const HttpServer&) = delete;
    HttpServer& operator=(const HttpServer&) = delete;

    /// Binds and listens on `address` ("127.0.0.1", "::1", "0.0.0.0", "::"...) and `port`
    /// (0 = an ephemeral port) and returns the bound port. With `tls`, loads the certificate
    /// chain and key now and serves HTTPS only (TLS 1.2 or later, no renegotiation); a plain
    /// HTTP request on that port is dropped by the handshake. May be called several times
    /// (one listener each), from any thread. Errors: config_invalid for a bad address or an
    /// unusable certificate or key (the message names the file), io_failed when the bind or
    /// listen fails, failed_precondition after stop().
    core::Result<std::uint16_t> listen(const std::string& address,
                                       std::uint16_t port,
                                       const std::optional<TlsFiles>& tls = std::nullopt);

    /// Stops accepting, closes idle and half-read connections, and lets a request whose handler
    /// is running finish with `Connection: close`. Called on the io thread it acts at once;
    /// from another thread it is posted to the io thread and returns without waiting. Safe to
    /// call more than once.
    void stop();

    /// Open connections (refused ones are not counted). Any thread.
    std::uint32_t connections() const;

    struct State;

private:
    boost::asio::io_context& io_;
    std::shared_ptr<State> state_;
};

} // namespace latchkey::oidc
