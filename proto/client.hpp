// SPDX-License-Identifier: Apache-2.0
// A blocking client of the daemon's sockets, for latchkeyctl and pam_latchkey.so.
//
// No threads, no signals (MSG_NOSIGNAL), no global state; every wait is bounded by the deadline
// given at connect, so the host process never hangs on a silent daemon.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include <sys/types.h>

#include "core/c_handle.hpp"
#include "core/result.hpp"
#include "proto/channel.hpp"
#include "proto/messages.hpp"

namespace latchkey::proto {

struct ClientOptions {
    std::string socket_path;
    std::chrono::milliseconds timeout{10'000};
    /// Uids the server may run as (SO_PEERCRED); empty accepts any server.
    std::vector<uid_t> trusted_server_uids;
};

/// The uids a client trusts by default: root, the `latchkey` system user if it exists, and
/// `also` (the caller's own uid, for a daemon an unprivileged developer started).
std::vector<uid_t> default_trusted_uids(std::vector<uid_t> also = {});

class Client {
public:
    /// Connects and checks the server's credentials. Errors: daemon_unreachable (no socket,
    /// refused), daemon_timeout, daemon_untrusted (server uid not trusted).
    static core::Result<Client> connect(const ClientOptions& options);

    /// Sends one request and waits for its response, within the deadline that remains.
    core::Result<Response> call(const Request& request);

    core::Status send(const Request& request);
    core::Result<Response> receive();

    /// Restarts the deadline (a dialogue with a person typing may take longer than one call).
    void extend_deadline();

private:
    Client(core::UniqueFd fd, std::chrono::milliseconds timeout);

    Channel channel_;
};

} // namespace latchkey::proto
