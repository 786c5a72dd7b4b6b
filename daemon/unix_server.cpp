// SPDX-License-Identifier: Apache-2.0
// The socket server: one coroutine per connection on the io thread, work on the pool.
#include "daemon/unix_server.hpp"

// GCC 12 misreads Asio's coroutine frame allocator (its own operator new/delete pair) as a
// mismatched new/delete at -O2 (GCC bug 109224); nothing is mismatched.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

#include <list>
#include <mutex>
#include <optional>
#include <variant>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include "core/log.hpp"
#include "core/secret.hpp"
#include "daemon/admission.hpp"
#include "proto/wire.hpp"

namespace latchkey::daemon {

namespace asio = boost::asio;
using asio::local::stream_protocol;
using namespace asio::experimental::awaitable_operators;

struct UnixServer::State {
    std::atomic<std::uint32_t> connections{0};
    std::mutex limits_mutex;
    ServerLimits limits;
    // Touched only on the io thread.
    bool stopping = false;
    std::list<std::shared_ptr<Admission>> admissions; // one per socket
    std::list<std::weak_ptr<stream_protocol::acceptor>> acceptors;
    std::list<std::weak_ptr<stream_protocol::socket>> sockets;

    ServerLimits current_limits()
    {
        const std::lock_guard lock(limits_mutex);
        return limits;
    }
};

namespace {

using StatePtr = std::shared_ptr<UnixServer::State>;

void log_exception(const std::string& where, std::exception_ptr e)
{
    if (!e)
        return;
    try {
        std::rethrow_exception(e);
    } catch (const std::exception& x) {
        core::log::error(where + ": " + x.what());
    } catch (...) {
        core::log::error(where + ": unknown exception");
    }
}

proto::Response run_handler(Connection& conn, proto::Request&& request) noexcept
{
    try {
        return conn.handle(std::move(request));
    } catch (const std::bad_alloc&) {
        return proto::failure({core::Errc::internal, "out of memory"});
    } catch (...) {
        core::log::error("a request handler threw; answering with an internal error");
        return proto::failure({core::Errc::internal, "internal error"});
    }
}

/// Writes one response frame; false if the peer is gone or too slow.
asio::awaitable<bool> write_response(stream_protocol::socket& sock, asio::steady_timer& timer,
                                     const proto::Response& response, std::chrono::seconds timeout)
{
    auto bytes = proto::frame(proto::encode(response), proto::max_response_size);
    if (!bytes) {
        bytes = proto::frame(proto::encode(proto::failure(bytes.error())), proto::max_response_size);
        if (!bytes)
            co_return false;
    }
    timer.expires_after(timeout);
    auto result = co_await (asio::async_write(sock, asio::buffer(*bytes),
                                              asio::as_tuple(asio::use_awaitable)) ||
                            timer.async_wait(asio::as_tuple(asio::use_awaitable)));
    core::wipe(bytes->data(), bytes->size()); // may carry a generated password
    if (result.index() != 0)
        co_return false;
    co_return !std::get<0>(std::get<0>(result));
}

/// Ends a connection after a final reply without resetting it: stop sending, then discard what
/// the peer still sends (bounded in bytes and time) so the reply is not lost to a reset.
asio::awaitable<void> close_gracefully(stream_protocol::socket& sock, asio::steady_timer& timer)
{
    boost::system::error_code ec;
    sock.shutdown(stream_protocol::socket::shutdown_send, ec);
    std::array<char, 4096> sink{};
    std::size_t discarded = 0;
    timer.expires_after(std::chrono::seconds(1));
    while (discarded < 64 * 1024) {
        auto r = co_await (sock.async_read_some(asio::buffer(sink),
                                                asio::as_tuple(asio::use_awaitable)) ||
                           timer.async_wait(asio::as_tuple(asio::use_awaitable)));
        if (r.index() != 0 || std::get<0>(std::get<0>(r)))
            break;
        discarded += std::get<1>(std::get<0>(r));
    }
    core::wipe(sink.data(), sink.size());
}

/// Runs a handler on `pool` and resumes on the caller's executor. (co_spawn onto the pool would
/// post the completion to the pool too, so every reply would wait behind the hashes queued
/// meanwhile.)
asio::awaitable<proto::Response> run_on(WorkPool& pool, Connection& conn, proto::Request& request)
{
    // The key is read here, on the io thread, while no handler of this connection runs.
    std::string key = conn.fairness_key(request);
    return asio::async_initiate<const asio::use_awaitable_t<>&, void(proto::Response)>(
        [&pool, &conn, &request, key = std::move(key)](auto handler) {
            auto back = asio::get_associated_executor(handler);
            // The queue holds copyable jobs; the handler is move-only, so it is shared.
            auto shared = std::make_shared<decltype(handler)>(std::move(handler));
            pool.post(key, [&conn, &request, back, shared]() {
                proto::Response r = run_handler(conn, std::move(request));
                asio::post(back, [shared, r = std::move(r)]() mutable {
                    std::move(*shared)(std::move(r));
                });
            });
        },
        asio::use_awaitable);
}

/// Requests of one socket waiting for or running on its pools: each socket has its own bound,
/// so a flood on one cannot make the other answer "busy".
using QueueCount = std::shared_ptr<std::atomic<std::uint32_t>>;

asio::awaitable<void> session(StatePtr st, std::shared_ptr<stream_protocol::socket> sock,
                              Peer peer, Admission::Ticket slot, std::string name,
                              ConnectionFactory factory, WorkPool& slow, WorkPool& quick,
                              QueueCount queued)
{
    struct Count {
        std::atomic<std::uint32_t>& n;
        ~Count() { --n; }
    } count{st->connections};
    const Admission::Ticket held = std::move(slot);

    asio::steady_timer timer(co_await asio::this_coro::executor);
    const auto limits = st->current_limits();

    auto connection = factory(peer);
    if (!connection) {
        core::log::write_limited(core::LogLevel::notice,
                                 name + ":refused:" + std::to_string(peer.uid),
                                 name + " socket: refused pid " + std::to_string(peer.pid) +
                                     " uid " + std::to_string(peer.uid) + ": " +
                                     connection.error().message);
        if (co_await write_response(*sock, timer, proto::failure(connection.error()),
                                    limits.read_timeout))
            co_await close_gracefully(*sock, timer);
        co_return;
    }

    proto::FrameReader reader(proto::max_request_size);
    std::string payload;
    std::array<char, 16 * 1024> buf{};
    for (;;) {
        // A request must arrive whole within read_timeout of its first byte: one deadline, not
        // one per read, or a client sending a byte at a time would hold the slot for ever.
        std::optional<std::chrono::steady_clock::time_point> deadline;
        while (!reader.next(payload)) {
            const auto read_timeout = st->current_limits().read_timeout;
            if (deadline)
                timer.expires_at(*deadline);
            else // before the first byte the connection may wait for a person (a prompt)
                timer.expires_after((*connection)->idle_timeout(read_timeout));
            const std::size_t want = std::min(reader.wanted(), buf.size());
            auto result = co_await (
                sock->async_read_some(asio::buffer(buf.data(), want),
                                      asio::as_tuple(asio::use_awaitable)) ||
                timer.async_wait(asio::as_tuple(asio::use_awaitable)));
            if (result.index() != 0) {
                if (reader.pending() > 0)
                    core::log::write_limited(core::LogLevel::info,
                                             name + ":slow:" + std::to_string(peer.uid),
                                             name + " socket: closed a connection of uid " +
                                                 std::to_string(peer.uid) +
                                                 " that did not send its request within the "
                                                 "read timeout");
                co_return; // idle or too slow: the slot goes back to others
            }
            const auto [ec, n] = std::get<0>(result);
            if (ec)
                co_return; // closed by the peer (or by stop())
            if (!deadline)
                deadline = std::chrono::steady_clock::now() + read_timeout;
            const auto fed = reader.feed({buf.data(), n});
            core::wipe(buf.data(), n);
            if (!fed) {
                // The framing is lost: nothing after this can be trusted.
                if (co_await write_response(*sock, timer, proto::failure(fed.error()),
                                            limits.read_timeout))
                    co_await close_gracefully(*sock, timer);
                co_return;
            }
        }

        auto request = proto::decode_request(payload);
        core::wipe(payload.data(), payload.size());
        proto::Response response;
        if (!request) {
            // A well-framed but bad message: say so and keep the connection.
            response = proto::failure(request.error());
        } else if (queued->load() >= st->current_limits().max_queued) {
            response = proto::failure({core::Errc::daemon_busy,
                                       "latchkeyd is busy; try again in a moment"});
        } else {
            ++*queued;
            Connection& conn = **connection;
            WorkPool& pool = conn.is_slow(*request) ? slow : quick;
            response = co_await run_on(pool, conn, *request);
            --*queued;
        }
        if (!co_await write_response(*sock, timer, response, limits.read_timeout))
            co_return;
    }
}

/// Best effort, never waiting: a small frame fits the socket buffer of a new connection. Then
/// the socket closes as the caller drops it.
void refuse(stream_protocol::socket& sock, const std::string& message)
{
    const auto refusal = proto::frame(proto::encode(proto::failure({core::Errc::daemon_busy, message})),
                                      proto::max_response_size);
    boost::system::error_code ignored;
    sock.non_blocking(true, ignored);
    if (refusal)
        sock.write_some(asio::buffer(*refusal), ignored);
    sock.shutdown(stream_protocol::socket::shutdown_both, ignored);
}

asio::awaitable<void> accept_loop(StatePtr st, std::shared_ptr<stream_protocol::acceptor> acceptor,
                                  std::shared_ptr<Admission> admission, std::string name,
                                  ConnectionFactory factory, PrivilegedPeer privileged,
                                  WorkPool& slow, WorkPool& quick)
{
    auto queued = std::make_shared<std::atomic<std::uint32_t>>(0);
    asio::steady_timer backoff(co_await asio::this_coro::executor);
    for (;;) {
        auto [ec, sock] = co_await acceptor->async_accept(asio::as_tuple(asio::use_awaitable));
        if (st->stopping)
            co_return;
        if (ec) {
            if (ec == asio::error::operation_aborted)
                co_return;
            core::log::warning(name + " socket: accept failed: " + ec.message());
            backoff.expires_after(std::chrono::milliseconds(100)); // e.g. out of descriptors
            co_await backoff.async_wait(asio::as_tuple(asio::use_awaitable));
            continue;
        }
        auto peer = peer_of(sock.native_handle());
        if (!peer)
            continue; // gone already
        auto slot = admission->admit(peer->uid, privileged(*peer));
        if (const auto* refusal = std::get_if<Refusal>(&slot)) {
            if (*refusal == Refusal::uid_full) {
                core::log::write_limited(core::LogLevel::warning,
                                         name + ":uid_full:" + std::to_string(peer->uid),
                                         name + " socket: uid " + std::to_string(peer->uid) +
                                             " holds its limit of connections; refusing it "
                                             "another");
                refuse(sock, "latchkeyd has too many connections from your user; close some "
                             "and try again");
            } else {
                core::log::write_limited(core::LogLevel::warning, name + ":full",
                                         name + " socket: connection limit reached; refusing "
                                                "a client");
                refuse(sock, "latchkeyd has too many connections; try again in a moment");
            }
            continue;
        }
        ++st->connections;
        auto shared = std::make_shared<stream_protocol::socket>(std::move(sock));
        st->sockets.remove_if([](const auto& w) { return w.expired(); });
        st->sockets.push_back(shared);
        asio::co_spawn(acceptor->get_executor(),
                       session(st, shared, std::move(*peer),
                               std::get<Admission::Ticket>(std::move(slot)), name, factory, slow,
                               quick, queued),
                       [name](std::exception_ptr e) { log_exception(name + " session", e); });
    }
}

} // namespace

WorkPool::WorkPool(std::uint32_t threads, std::uint32_t per_key)
    : pool_(threads)
    , fair_(pool_, threads, per_key == 0 ? threads : per_key)
{
}

void WorkPool::post(const std::string& key, std::function<void()> job)
{
    fair_.post(key, std::move(job));
}

WorkPool::~WorkPool()
{
    join();
}

void WorkPool::join()
{
    pool_.join();
}

UnixServer::UnixServer(asio::io_context& io, ServerLimits limits)
    : io_(io)
    , state_(std::make_shared<State>())
{
    set_limits(limits);
}

UnixServer::~UnixServer() = default;

std::uint32_t UnixServer::connections() const
{
    return state_->connections.load();
}

void UnixServer::set_limits(ServerLimits limits)
{
    const std::lock_guard lock(state_->limits_mutex);
    state_->limits = limits;
    for (auto& a : state_->admissions)
        a->set_limits({limits.max_connections, limits.max_per_uid});
}

core::Status UnixServer::listen(core::UniqueFd fd, std::string name, ConnectionFactory factory,
                               PrivilegedPeer privileged, WorkPool& slow, WorkPool& quick)
{
    boost::system::error_code ec;
    auto acceptor = std::make_shared<stream_protocol::acceptor>(io_);
    acceptor->assign(stream_protocol(), fd.get(), ec);
    if (ec)
        return core::fail(core::Errc::io_failed, name + " socket: " + ec.message());
    fd.release();
    state_->acceptors.push_back(acceptor);
    auto admission = std::make_shared<Admission>();
    {
        const std::lock_guard lock(state_->limits_mutex);
        admission->set_limits({state_->limits.max_connections, state_->limits.max_per_uid});
        state_->admissions.push_back(admission);
    }
    asio::co_spawn(io_,
                   accept_loop(state_, acceptor, std::move(admission), name, std::move(factory),
                               std::move(privileged), slow, quick),
                   [name](std::exception_ptr e) { log_exception(name + " accept loop", e); });
    return {};
}

void UnixServer::stop()
{
    state_->stopping = true;
    boost::system::error_code ec;
    for (auto& w : state_->acceptors)
        if (auto a = w.lock())
            a->close(ec);
    for (auto& w : state_->sockets)
        if (auto s = w.lock())
            s->close(ec);
}

} // namespace latchkey::daemon
