// SPDX-License-Identifier: Apache-2.0
// HttpServer over real sockets on 127.0.0.1: keep-alive, limits, timeouts, errors, stop, TLS.
#include "oidc/http_server.hpp"

// GCC 12 misreads Asio's coroutine frame allocator as a mismatched new/delete (bug 109224).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <utility>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include <gtest/gtest.h>

#include "core/c_handle.hpp"
#include "core/log.hpp"
#include "tests/temp_dir.hpp"

namespace latchkey::oidc {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// ---- a raw-socket client, so that the tests can send anything and time every byte ----------

class Client {
public:
    explicit Client(std::uint16_t port)
        : fd_(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0))
    {
        if (!fd_.valid())
            throw std::runtime_error("socket failed");
        // A broken server fails the test instead of hanging it.
        const timeval tv{5, 0};
        ::setsockopt(fd_.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        ::setsockopt(fd_.get(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_port = htons(port);
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        connected_ =
            ::connect(fd_.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0;
    }

    [[nodiscard]] bool connected() const { return connected_; }

    void close() { fd_.reset(); }

    bool send(std::string_view data)
    {
        while (!data.empty()) {
            const auto n = ::send(fd_.get(), data.data(), data.size(), MSG_NOSIGNAL);
            if (n <= 0)
                return false;
            data.remove_prefix(static_cast<std::size_t>(n));
        }
        return true;
    }

    /// The next response, or nothing when the connection ends (or 5 s pass) before one is
    /// complete. `head`: the response has no body whatever its Content-Length says.
    std::optional<HttpResponse> read_response(bool head = false)
    {
        http::response_parser<http::string_body> parser;
        parser.skip(head);
        parser.eager(true);
        for (;;) {
            if (!pending_.empty()) {
                boost::system::error_code ec;
                const auto n = parser.put(asio::buffer(pending_), ec);
                pending_.erase(0, n);
                if (ec && ec != http::error::need_more)
                    return std::nullopt;
                if (parser.is_done())
                    return parser.release();
                if (!ec && n > 0)
                    continue;
            }
            std::array<char, 4096> buf{};
            const auto n = ::recv(fd_.get(), buf.data(), buf.size(), 0);
            if (n <= 0) {
                if (n == 0) {
                    boost::system::error_code ec;
                    parser.put_eof(ec);
                    if (!ec && parser.is_done())
                        return parser.release();
                }
                return std::nullopt;
            }
            pending_.append(buf.data(), static_cast<std::size_t>(n));
        }
    }

    enum class End { closed, data, timeout };

    /// Waits for the server to close the connection (EOF or reset) or to send something.
    End wait_end(std::chrono::milliseconds timeout)
    {
        if (!pending_.empty())
            return End::data;
        pollfd p{fd_.get(), POLLIN, 0};
        if (::poll(&p, 1, static_cast<int>(timeout.count())) <= 0)
            return End::timeout;
        std::array<char, 4096> buf{};
        const auto n = ::recv(fd_.get(), buf.data(), buf.size(), MSG_DONTWAIT);
        if (n > 0) {
            pending_.append(buf.data(), static_cast<std::size_t>(n));
            return End::data;
        }
        return n == 0 || errno == ECONNRESET ? End::closed : End::timeout;
    }

    /// Everything the server sends until it closes; nothing if it does not within 5 s.
    std::optional<std::string> read_until_closed()
    {
        std::string all = std::exchange(pending_, {});
        for (;;) {
            std::array<char, 4096> buf{};
            const auto n = ::recv(fd_.get(), buf.data(), buf.size(), 0);
            if (n == 0 || (n < 0 && errno == ECONNRESET))
                return all;
            if (n < 0)
                return std::nullopt;
            all.append(buf.data(), static_cast<std::size_t>(n));
        }
    }

private:
    core::UniqueFd fd_;
    bool connected_ = false;
    std::string pending_;
};

std::string get(std::string_view target, std::string_view extra_headers = "")
{
    return "GET " + std::string(target) + " HTTP/1.1\r\nHost: localhost\r\n" +
           std::string(extra_headers) + "\r\n";
}

std::string post(std::string_view target, std::string_view body)
{
    return "POST " + std::string(target) +
           " HTTP/1.1\r\nHost: localhost\r\nContent-Type: text/plain\r\nContent-Length: " +
           std::to_string(body.size()) + "\r\n\r\n" + std::string(body);
}

// ---- the server under test -------------------------------------------------------------------

/// Echoes "METHOD target body"; /throw throws, /slow takes 300 ms.
HttpResponse echo(HttpRequest&& request, const HttpPeer& peer)
{
    if (request.target().starts_with("/throw"))
        throw std::runtime_error("handler failed on " + std::string(request.target()));
    if (request.target() == "/slow")
        std::this_thread::sleep_for(300ms);
    HttpResponse res{http::status::ok, 11};
    res.set(http::field::content_type, "text/plain");
    res.set("X-Peer", peer.address + (peer.tls ? " tls" : " plain") +
                          (peer.port != 0 ? " port" : " noport"));
    res.body() = std::string(request.method_string()) + " " + std::string(request.target()) +
                 " " + request.body();
    return res;
}

HttpLimits test_limits()
{
    HttpLimits limits;
    limits.max_header_bytes = 1024;
    limits.max_body_bytes = 1024;
    limits.read_timeout = 5s;
    limits.write_timeout = 5s;
    limits.keep_alive_timeout = 5s;
    limits.max_connections = 16;
    return limits;
}

class HttpServerTest : public ::testing::Test {
protected:
    void start(HttpLimits limits = test_limits(), const std::optional<TlsFiles>& tls = {})
    {
        server_ = std::make_unique<HttpServer>(io_, limits, echo, work_);
        auto port = server_->listen("127.0.0.1", 0, tls);
        ASSERT_TRUE(port) << port.error().message;
        port_ = *port;
        ASSERT_NE(port_, 0);
        thread_ = std::thread([this] { io_.run(); });
    }

    void TearDown() override
    {
        if (server_)
            server_->stop();
        guard_.reset();
        io_.stop();
        if (thread_.joinable())
            thread_.join();
    }

    /// Waits (up to 2 s) for the server to count `n` connections.
    bool wait_connections(std::uint32_t n)
    {
        for (auto until = Clock::now() + 2s; Clock::now() < until;) {
            if (server_->connections() == n)
                return true;
            std::this_thread::sleep_for(10ms);
        }
        return false;
    }

    asio::io_context io_;
    asio::executor_work_guard<asio::io_context::executor_type> guard_{io_.get_executor()};
    boost::asio::thread_pool work_{2};
    std::unique_ptr<HttpServer> server_;
    std::thread thread_;
    std::uint16_t port_ = 0;
};

TEST_F(HttpServerTest, AnswersGetWithContentLengthAndKeepsTheConnection)
{
    start();
    Client c(port_);
    ASSERT_TRUE(c.connected());
    for (const std::string target : {"/first", "/second?x=1"}) {
        ASSERT_TRUE(c.send(get(target)));
        const auto res = c.read_response();
        ASSERT_TRUE(res) << target;
        EXPECT_EQ(res->result(), http::status::ok);
        EXPECT_EQ(res->version(), 11);
        EXPECT_EQ(res->body(), "GET " + target + " ");
        EXPECT_EQ((*res)[http::field::content_length], std::to_string(res->body().size()));
        EXPECT_EQ((*res)[http::field::server], "latchkeyd");
        EXPECT_EQ((*res)["X-Peer"], "127.0.0.1 plain port");
        EXPECT_TRUE(res->keep_alive());
    }
    EXPECT_EQ(server_->connections(), 1U);
}

TEST_F(HttpServerTest, DeliversPostBody)
{
    start();
    Client c(port_);
    const std::string body(1000, 'b');
    ASSERT_TRUE(c.send(post("/token", body)));
    const auto res = c.read_response();
    ASSERT_TRUE(res);
    EXPECT_EQ(res->result(), http::status::ok);
    EXPECT_EQ(res->body(), "POST /token " + body);
}

TEST_F(HttpServerTest, SendsContinueBeforeTheBodyWhenAsked)
{
    start();
    Client c(port_);
    ASSERT_TRUE(c.send("POST /form HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5\r\n"
                       "Expect: 100-continue\r\n\r\n"));
    const auto go_on = c.read_response();
    ASSERT_TRUE(go_on);
    EXPECT_EQ(go_on->result(), http::status::continue_);
    ASSERT_TRUE(c.send("hello"));
    const auto res = c.read_response();
    ASSERT_TRUE(res);
    EXPECT_EQ(res->body(), "POST /form hello");
}

TEST_F(HttpServerTest, AnswersPipelinedRequestsInOrder)
{
    start();
    Client c(port_);
    ASSERT_TRUE(c.send(get("/slow") + post("/b", "xy") + get("/c")));
    for (const std::string expected : {"GET /slow ", "POST /b xy", "GET /c "}) {
        const auto res = c.read_response();
        ASSERT_TRUE(res) << expected;
        EXPECT_EQ(res->body(), expected);
    }
}

TEST_F(HttpServerTest, ClosesHttp10ConnectionsAfterOneResponse)
{
    start();
    Client c(port_);
    ASSERT_TRUE(c.send("GET /old HTTP/1.0\r\n\r\n"));
    const auto res = c.read_response();
    ASSERT_TRUE(res);
    EXPECT_EQ(res->version(), 10);
    EXPECT_EQ(res->body(), "GET /old ");
    EXPECT_FALSE(res->keep_alive());
    EXPECT_EQ(c.wait_end(2s), Client::End::closed);
}

TEST_F(HttpServerTest, ClosesWhenTheClientAsks)
{
    start();
    Client c(port_);
    ASSERT_TRUE(c.send(get("/bye", "Connection: close\r\n")));
    const auto res = c.read_response();
    ASSERT_TRUE(res);
    EXPECT_FALSE(res->keep_alive());
    EXPECT_EQ(c.wait_end(2s), Client::End::closed);
}

TEST_F(HttpServerTest, SendsOnlyTheHeaderForHead)
{
    start();
    Client c(port_);
    ASSERT_TRUE(c.send("HEAD /h HTTP/1.1\r\nHost: localhost\r\n\r\n"));
    const auto head = c.read_response(true);
    ASSERT_TRUE(head);
    EXPECT_EQ((*head)[http::field::content_length], "8"); // "HEAD /h "
    // Had a body been sent, it would be read as the next response and fail to parse.
    ASSERT_TRUE(c.send(get("/after")));
    const auto res = c.read_response();
    ASSERT_TRUE(res);
    EXPECT_EQ(res->body(), "GET /after ");
}

TEST_F(HttpServerTest, EndsConnectionAfterMaxRequests)
{
    auto limits = test_limits();
    limits.max_requests_per_connection = 2;
    start(limits);
    Client c(port_);
    ASSERT_TRUE(c.send(get("/1")));
    const auto first = c.read_response();
    ASSERT_TRUE(first);
    EXPECT_TRUE(first->keep_alive());
    ASSERT_TRUE(c.send(get("/2")));
    const auto second = c.read_response();
    ASSERT_TRUE(second);
    EXPECT_FALSE(second->keep_alive());
    EXPECT_EQ(c.wait_end(2s), Client::End::closed);
}

TEST_F(HttpServerTest, Answers431ToOversizedHeaderAndServesOthers)
{
    start();
    Client c(port_);
    ASSERT_TRUE(c.send(get("/", "X-Big: " + std::string(4000, 'a') + "\r\n")));
    const auto res = c.read_response();
    ASSERT_TRUE(res);
    EXPECT_EQ(res->result(), http::status::request_header_fields_too_large);
    EXPECT_FALSE(res->keep_alive());
    EXPECT_EQ(c.wait_end(2s), Client::End::closed);

    Client next(port_);
    ASSERT_TRUE(next.send(get("/next")));
    const auto ok = next.read_response();
    ASSERT_TRUE(ok);
    EXPECT_EQ(ok->body(), "GET /next ");
}

TEST_F(HttpServerTest, Answers431ToOversizedRequestLine)
{
    start();
    Client c(port_);
    ASSERT_TRUE(c.send(get("/authorize?code=" + std::string(2000, 'c'))));
    const auto res = c.read_response();
    ASSERT_TRUE(res);
    EXPECT_EQ(res->result(), http::status::request_header_fields_too_large);
}

TEST_F(HttpServerTest, Answers413ToOversizedBody)
{
    start();
    Client c(port_);
    ASSERT_TRUE(c.send(post("/token", std::string(5000, 'x'))));
    const auto res = c.read_response();
    ASSERT_TRUE(res);
    EXPECT_EQ(res->result(), http::status::payload_too_large);
    EXPECT_FALSE(res->keep_alive());
    EXPECT_EQ(c.wait_end(2s), Client::End::closed);
}

TEST_F(HttpServerTest, Answers413ToOversizedChunkedBody)
{
    start();
    Client c(port_);
    const std::string chunk(800, 'x');
    ASSERT_TRUE(c.send("POST /t HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n"
                       "320\r\n" + chunk + "\r\n320\r\n" + chunk + "\r\n0\r\n\r\n"));
    const auto res = c.read_response();
    ASSERT_TRUE(res);
    EXPECT_EQ(res->result(), http::status::payload_too_large);
}

TEST_F(HttpServerTest, Answers400ToGarbage)
{
    start();
    Client c(port_);
    ASSERT_TRUE(c.send(std::string("\x16\x03\x01 not http at all\r\n\r\n")));
    const auto res = c.read_response();
    ASSERT_TRUE(res);
    EXPECT_EQ(res->result(), http::status::bad_request);
    EXPECT_EQ(c.wait_end(2s), Client::End::closed);
}

TEST_F(HttpServerTest, Answers500WhenHandlerThrowsAndKeepsServing)
{
    start();
    Client c(port_);
    ASSERT_TRUE(c.send(get("/throw")));
    const auto res = c.read_response();
    ASSERT_TRUE(res);
    EXPECT_EQ(res->result(), http::status::internal_server_error);
    EXPECT_EQ((*res)[http::field::server], "latchkeyd");
    ASSERT_TRUE(c.send(get("/fine")));
    const auto ok = c.read_response();
    ASSERT_TRUE(ok);
    EXPECT_EQ(ok->body(), "GET /fine ");
}

TEST_F(HttpServerTest, DropsSlowlorisWithinReadTimeout)
{
    auto limits = test_limits();
    limits.read_timeout = 1s;
    start(limits);
    Client c(port_);
    // One byte every 100 ms keeps the connection busy but never completes the header.
    const std::string partial =
        "GET / HTTP/1.1\r\nHost: localhost\r\nX-Slow: " + std::string(200, 's');
    const auto began = Clock::now();
    bool ended = false;
    for (const char ch : partial) {
        if (!c.send(std::string(1, ch)) || c.wait_end(100ms) != Client::End::timeout) {
            ended = true;
            break;
        }
    }
    const auto elapsed = Clock::now() - began;
    ASSERT_TRUE(ended) << "the server waited for the whole slow request";
    EXPECT_GE(elapsed, 900ms);
    EXPECT_LT(elapsed, 2500ms);
    const auto res = c.read_response();
    ASSERT_TRUE(res) << "no 408";
    EXPECT_EQ(res->result(), http::status::request_timeout);
    EXPECT_EQ(c.wait_end(2s), Client::End::closed);
}

TEST_F(HttpServerTest, ClosesIdleKeepAliveConnections)
{
    auto limits = test_limits();
    limits.keep_alive_timeout = 1s;
    start(limits);
    Client c(port_);
    ASSERT_TRUE(c.send(get("/")));
    ASSERT_TRUE(c.read_response());
    const auto began = Clock::now();
    EXPECT_EQ(c.wait_end(3s), Client::End::closed);
    EXPECT_GE(Clock::now() - began, 900ms);
    EXPECT_TRUE(wait_connections(0));
}

TEST_F(HttpServerTest, RefusesConnectionsOverTheLimitAndKeepsServing)
{
    auto limits = test_limits();
    limits.max_connections = 2;
    start(limits);
    Client a(port_);
    Client b(port_);
    for (Client* c : {&a, &b}) {
        ASSERT_TRUE(c->send(get("/held")));
        ASSERT_TRUE(c->read_response());
    }
    EXPECT_EQ(server_->connections(), 2U);

    Client third(port_);
    ASSERT_TRUE(third.connected()); // the kernel accepts; the server answers and closes
    const auto refused = third.read_response();
    ASSERT_TRUE(refused);
    EXPECT_EQ(refused->result(), http::status::service_unavailable);
    EXPECT_FALSE(refused->keep_alive());
    EXPECT_EQ(third.wait_end(2s), Client::End::closed);

    for (Client* c : {&a, &b}) {
        ASSERT_TRUE(c->send(get("/again")));
        const auto res = c->read_response();
        ASSERT_TRUE(res);
        EXPECT_EQ(res->body(), "GET /again ");
    }

    { Client gone = std::move(a); } // closes the first connection
    ASSERT_TRUE(wait_connections(1));
    Client fourth(port_);
    ASSERT_TRUE(fourth.send(get("/fourth")));
    const auto res = fourth.read_response();
    ASSERT_TRUE(res);
    EXPECT_EQ(res->body(), "GET /fourth ");
}

TEST_F(HttpServerTest, StopClosesIdleConnectionsAndListener)
{
    start();
    Client c(port_);
    ASSERT_TRUE(c.send(get("/")));
    ASSERT_TRUE(c.read_response());
    server_->stop();
    server_->stop();
    EXPECT_EQ(c.wait_end(2s), Client::End::closed);
    // (Had stop() caught the response still being written, the server lingers for our EOF.)
    c.close();
    EXPECT_TRUE(wait_connections(0));
    Client late(port_);
    EXPECT_FALSE(late.connected());
    const auto again = server_->listen("127.0.0.1", 0);
    ASSERT_FALSE(again);
    EXPECT_TRUE(again.error().is(core::Errc::failed_precondition));
}

TEST_F(HttpServerTest, StopLetsARunningRequestFinish)
{
    start();
    Client c(port_);
    ASSERT_TRUE(c.send(get("/slow")));
    std::this_thread::sleep_for(100ms); // the handler is running now
    server_->stop();
    const auto res = c.read_response();
    ASSERT_TRUE(res);
    EXPECT_EQ(res->body(), "GET /slow ");
    EXPECT_FALSE(res->keep_alive());
    EXPECT_EQ(c.wait_end(2s), Client::End::closed);
}

TEST_F(HttpServerTest, NeverLogsQueriesHeadersOrBodies)
{
    start();
    core::log::set_level(core::LogLevel::debug);
    ::testing::internal::CaptureStderr();
    Client c(port_);
    ASSERT_TRUE(c.send("POST /token?code=s3cret-query HTTP/1.1\r\nHost: localhost\r\n"
                       "Authorization: Basic s3cret-auth\r\nCookie: sid=s3cret-cookie\r\n"
                       "Content-Length: 11\r\n\r\ns3cret-body"));
    const auto res = c.read_response();
    ASSERT_TRUE(c.send(get("/throw?token=s3cret-thrown")));
    const auto thrown = c.read_response();
    ASSERT_TRUE(c.send(get("/x", "X-Big: s3cret-" + std::string(2000, 'h') + "\r\n")));
    const auto big = c.read_response();
    const std::string logged = ::testing::internal::GetCapturedStderr();
    core::log::set_level(core::LogLevel::info);

    ASSERT_TRUE(res);
    ASSERT_TRUE(thrown);
    ASSERT_TRUE(big);
    EXPECT_EQ(thrown->result(), http::status::internal_server_error);
    EXPECT_EQ(big->result(), http::status::request_header_fields_too_large);
    EXPECT_NE(logged.find("POST /token"), std::string::npos) << logged; // proves the capture
    EXPECT_NE(logged.find("handler threw"), std::string::npos) << logged;
    EXPECT_EQ(logged.find("s3cret"), std::string::npos) << logged;
}

TEST(HttpServer, ListenRejectsBadAddressAndBusyPort)
{
    asio::io_context io;
    boost::asio::thread_pool work(1);
    HttpServer server(io, test_limits(), echo, work);
    const auto bad = server.listen("not-an-address", 0);
    ASSERT_FALSE(bad);
    EXPECT_TRUE(bad.error().is(core::Errc::config_invalid));

    const auto first = server.listen("127.0.0.1", 0);
    ASSERT_TRUE(first) << first.error().message;
    HttpServer other(io, test_limits(), echo, work);
    const auto clash = other.listen("127.0.0.1", *first);
    ASSERT_FALSE(clash);
    EXPECT_TRUE(clash.error().is(core::Errc::io_failed));
    EXPECT_NE(clash.error().message.find(std::to_string(*first)), std::string::npos);
}

// ---- TLS -----------------------------------------------------------------------------------

using EvpPkey = std::unique_ptr<EVP_PKEY, core::CFree<EVP_PKEY_free>>;
using X509Ptr = std::unique_ptr<X509, core::CFree<X509_free>>;

void write_pem(const std::string& path, const std::function<int(FILE*)>& write)
{
    std::unique_ptr<FILE, core::CFree<::fclose>> f(std::fopen(path.c_str(), "w"));
    if (!f || write(f.get()) != 1)
        throw std::runtime_error("cannot write " + path);
}

/// A self-signed P-256 certificate for "localhost" and its key, as PEM files.
TlsFiles make_certificate(const test_support::TempDir& dir, const std::string& name)
{
    EvpPkey key(EVP_EC_gen("P-256"));
    X509Ptr cert(X509_new());
    if (!key || !cert)
        throw std::runtime_error("OpenSSL key or certificate allocation failed");
    X509_set_version(cert.get(), 2);
    ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), 1);
    X509_gmtime_adj(X509_getm_notBefore(cert.get()), -60);
    X509_gmtime_adj(X509_getm_notAfter(cert.get()), 3600);
    X509_set_pubkey(cert.get(), key.get());
    X509_NAME* subject = X509_get_subject_name(cert.get());
    X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>("localhost"), -1, -1, 0);
    X509_set_issuer_name(cert.get(), subject);
    if (X509_sign(cert.get(), key.get(), EVP_sha256()) == 0)
        throw std::runtime_error("X509_sign failed");
    TlsFiles files{dir.file(name + ".crt"), dir.file(name + ".key")};
    write_pem(files.certificate_chain, [&](FILE* f) { return PEM_write_X509(f, cert.get()); });
    write_pem(files.private_key, [&](FILE* f) {
        return PEM_write_PrivateKey(f, key.get(), nullptr, nullptr, 0, nullptr, nullptr);
    });
    return files;
}

asio::awaitable<void> https_get_coro(asio::ssl::context& ctx,
                                     std::uint16_t port,
                                     std::string target,
                                     std::optional<HttpResponse>& out)
{
    beast::ssl_stream<beast::tcp_stream> stream(co_await asio::this_coro::executor, ctx);
    beast::get_lowest_layer(stream).expires_after(5s);
    co_await beast::get_lowest_layer(stream).async_connect(
        asio::ip::tcp::endpoint(asio::ip::address_v4::loopback(), port), asio::use_awaitable);
    co_await stream.async_handshake(asio::ssl::stream_base::client, asio::use_awaitable);
    HttpRequest request{http::verb::get, target, 11};
    request.set(http::field::host, "localhost");
    co_await http::async_write(stream, request, asio::use_awaitable);
    beast::flat_buffer buffer;
    HttpResponse response;
    co_await http::async_read(stream, buffer, response, asio::use_awaitable);
    out = std::move(response);
    co_await stream.async_shutdown(asio::as_tuple(asio::use_awaitable));
}

/// One HTTPS GET with certificate verification off (the certificate is self-signed).
std::optional<HttpResponse> https_get(std::uint16_t port, const std::string& target)
{
    asio::io_context io;
    asio::ssl::context ctx(asio::ssl::context::tls_client);
    ctx.set_verify_mode(asio::ssl::verify_none);
    std::optional<HttpResponse> out;
    std::string failure;
    asio::co_spawn(io, https_get_coro(ctx, port, target, out), [&](const std::exception_ptr& e) {
        if (!e)
            return;
        try {
            std::rethrow_exception(e);
        } catch (const std::exception& x) {
            failure = x.what();
        }
    });
    io.run();
    if (!out)
        ADD_FAILURE() << "HTTPS GET failed: " << failure;
    return out;
}

TEST_F(HttpServerTest, ServesHttpsAndRefusesPlainHttpOnTheTlsPort)
{
    const test_support::TempDir dir;
    start(test_limits(), make_certificate(dir, "server"));

    const auto res = https_get(port_, "/secure");
    ASSERT_TRUE(res);
    EXPECT_EQ(res->result(), http::status::ok);
    EXPECT_EQ(res->body(), "GET /secure ");
    EXPECT_EQ((*res)["X-Peer"], "127.0.0.1 tls port");

    Client plain(port_);
    ASSERT_TRUE(plain.send(get("/plain")));
    const auto answer = plain.read_until_closed();
    ASSERT_TRUE(answer) << "the TLS port kept a plain HTTP connection open";
    EXPECT_NE(answer->rfind("HTTP/", 0), 0U) << *answer;

    // The server is still fine after the failed handshake.
    const auto again = https_get(port_, "/again");
    ASSERT_TRUE(again);
    EXPECT_EQ(again->body(), "GET /again ");
}

TEST(HttpServer, ListenNamesTheUnusableTlsFile)
{
    const test_support::TempDir dir;
    const auto good = make_certificate(dir, "good");
    const auto other = make_certificate(dir, "other");
    asio::io_context io;
    boost::asio::thread_pool work(1);
    HttpServer server(io, test_limits(), echo, work);

    const auto missing =
        server.listen("127.0.0.1", 0, TlsFiles{dir.file("none.crt"), good.private_key});
    ASSERT_FALSE(missing);
    EXPECT_TRUE(missing.error().is(core::Errc::config_invalid));
    EXPECT_NE(missing.error().message.find(dir.file("none.crt")), std::string::npos)
        << missing.error().message;

    const auto bad_key =
        server.listen("127.0.0.1", 0, TlsFiles{good.certificate_chain, dir.file("none.key")});
    ASSERT_FALSE(bad_key);
    EXPECT_NE(bad_key.error().message.find(dir.file("none.key")), std::string::npos)
        << bad_key.error().message;

    const auto mismatch =
        server.listen("127.0.0.1", 0, TlsFiles{good.certificate_chain, other.private_key});
    ASSERT_FALSE(mismatch);
    EXPECT_TRUE(mismatch.error().is(core::Errc::config_invalid));
    EXPECT_NE(mismatch.error().message.find("does not match"), std::string::npos)
        << mismatch.error().message;
}

// ---- the client behind a reverse proxy -----------------------------------------------------

HttpRequest forwarded(std::initializer_list<std::string_view> lines)
{
    HttpRequest r{http::verb::post, "/login", 11};
    for (const auto line : lines)
        r.insert("X-Forwarded-For", line);
    return r;
}

TEST(ClientOf, TrustsXForwardedForOnlyFromATrustedProxy)
{
    const std::vector<std::string> proxies{"127.0.0.1", "::1"};
    const HttpPeer stranger{"192.0.2.50", 40000, false, false};
    EXPECT_EQ(client_of(stranger, forwarded({"203.0.113.7"}), proxies).address, "192.0.2.50");
    const HttpPeer proxy{"127.0.0.1", 40000, false, false};
    const auto c = client_of(proxy, forwarded({"203.0.113.7"}), proxies);
    EXPECT_EQ(c.address, "203.0.113.7");
    EXPECT_TRUE(c.forwarded);
    EXPECT_FALSE(client_of(proxy, forwarded({}), proxies).forwarded);
    EXPECT_EQ(client_of(proxy, forwarded({"203.0.113.7"}), {}).address, "127.0.0.1");
}

TEST(ClientOf, TakesTheRightmostHopThatIsNoTrustedProxy)
{
    const std::vector<std::string> proxies{"127.0.0.1", "10.0.0.2"};
    const HttpPeer proxy{"127.0.0.1", 40000, false, false};
    // The client may put anything in front; only what the trusted hops appended counts.
    EXPECT_EQ(client_of(proxy, forwarded({"198.51.100.1, 203.0.113.7, 10.0.0.2"}), proxies).address,
              "203.0.113.7");
    EXPECT_EQ(client_of(proxy, forwarded({"198.51.100.1", "203.0.113.7 ,10.0.0.2"}), proxies)
                  .address,
              "203.0.113.7");
    // Garbage ends the walk: the hop before it is the client.
    EXPECT_EQ(client_of(proxy, forwarded({"203.0.113.7, not-an-address"}), proxies).address,
              "127.0.0.1");
    EXPECT_EQ(client_of(proxy, forwarded({"not-an-address, 10.0.0.2"}), proxies).address,
              "10.0.0.2");
    EXPECT_EQ(client_of(proxy, forwarded({"::ffff:203.0.113.9"}), proxies).address, "203.0.113.9");
    EXPECT_EQ(client_of(proxy, forwarded({"2001:db8::7"}), proxies).address, "2001:db8::7");
}

} // namespace
} // namespace latchkey::oidc
