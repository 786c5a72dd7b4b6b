// SPDX-License-Identifier: Apache-2.0
// UnixServer: accepts connections on the daemon's sockets and runs their requests.
//
//   accept ──► a slot for the peer (Admission)? ──no──► one Failure frame, close
//                 │yes
//                 ▼
//   factory(peer)? ──no──► one Failure frame, close
//                 │yes
//                 ▼
//   read frame (one deadline from its first byte) ──bad/oversized/late──► close
//                 │
//                 ▼
//   WorkPool: connection.handle(request)  (queue full ──► "busy" Failure)
//                 │
//                 ▼
//   write response (timeout) ──► next frame
//
// One io thread owns every socket; handlers run on a bounded pool so slow work (Argon2id,
// storage) never blocks other clients, and a flood queues up to a limit and is then refused.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>

#include "core/c_handle.hpp"
#include "core/result.hpp"
#include "daemon/fair_queue.hpp"
#include "daemon/peer.hpp"
#include "proto/messages.hpp"

namespace latchkey::daemon {

/// The state of one client connection: an admin session, or a PAM logon dialogue.
class Connection {
public:
    virtual ~Connection() = default;
    /// Runs on a worker thread; never throws (the server maps a stray exception to a Failure).
    virtual proto::Response handle(proto::Request&& request) = 0;

    /// How long the next request may take to start arriving. Normally the server's read
    /// timeout; longer while a person is answering a prompt.
    virtual std::chrono::seconds idle_timeout(std::chrono::seconds normal) const { return normal; }

    /// Whether a request costs a password hash; such requests run on the socket's slow pool,
    /// the rest on its quick pool, so a cheap step never queues behind other people's hashes.
    virtual bool is_slow(const proto::Request&) const { return true; }

    /// Whose work the request is, for the pools' fairness: requests of one key wait behind each
    /// other, never behind another key's flood (FairQueue).
    virtual std::string fairness_key(const proto::Request&) const { return {}; }
};

/// Decides whether a peer may use the socket; an error is the refusal sent to it.
using ConnectionFactory = std::function<core::Result<std::unique_ptr<Connection>>(const Peer&)>;

struct ServerLimits {
    std::uint32_t max_connections = 256; ///< per socket, for ordinary and for privileged peers
    std::uint32_t max_per_uid = 32;      ///< per socket, for each ordinary peer's uid
    std::uint32_t max_queued = 1024;
    /// The whole request, from its first byte; and how long a client may stay idle.
    std::chrono::seconds read_timeout{10};
};

/// Peers always admitted to a socket's own pool of connections (root, the daemon's user, the
/// admin group), whatever ordinary peers hold.
using PrivilegedPeer = std::function<bool(const Peer&)>;

class WorkPool {
public:
    /// `threads` workers; one fairness key holds at most `per_key` of them at once (0: all).
    explicit WorkPool(std::uint32_t threads, std::uint32_t per_key = 0);
    ~WorkPool();

    boost::asio::thread_pool& pool() { return pool_; }

    /// Runs `job` on a worker, round-robin between keys (FairQueue).
    void post(const std::string& key, std::function<void()> job);

    void join();

private:
    boost::asio::thread_pool pool_;
    FairQueue fair_;
};

class UnixServer {
public:
    explicit UnixServer(boost::asio::io_context& io, ServerLimits limits);
    ~UnixServer();

    /// Serves a listening socket (bound already, or passed by systemd). Its requests run on
    /// `work`: each socket gets its own pool, so a flood of logons on the PAM socket (Argon2id
    /// on every worker) cannot delay the administrator on the admin socket.
    core::Status listen(core::UniqueFd fd, std::string name, ConnectionFactory factory,
                        PrivilegedPeer privileged, WorkPool& slow, WorkPool& quick);

    void set_limits(ServerLimits limits);

    /// Stops accepting and closes every connection.
    void stop();

    std::uint32_t connections() const;

    struct State;

private:
    boost::asio::io_context& io_;
    std::shared_ptr<State> state_;
};

} // namespace latchkey::daemon
