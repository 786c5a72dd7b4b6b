// SPDX-License-Identifier: Apache-2.0
// Frames (proto/wire.hpp) over a connected stream socket, every wait bounded by a deadline:
// the daemon's client and the security key helper's conversation both run on one.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "core/c_handle.hpp"
#include "core/error.hpp"
#include "core/result.hpp"

namespace latchkey::proto {

/// Who is at the other end, for the errors: "latchkeyd did not answer in time".
struct Peer {
    std::string name;
    core::Errc gone = core::Errc::daemon_unreachable; ///< closed, or the socket failed
    core::Errc late = core::Errc::daemon_timeout;     ///< the deadline passed
};

class Channel {
public:
    /// `fd` is a connected, non-blocking stream socket; the deadline starts now.
    Channel(core::UniqueFd fd, std::chrono::milliseconds timeout, Peer peer);

    /// Sends `payload` as one frame (over `max_size`: protocol_too_large), then wipes the copy
    /// it framed: payloads may carry a password.
    core::Status send(std::string_view payload, std::size_t max_size);
    /// The next frame's payload; the caller wipes it when it may hold a secret.
    core::Result<std::string> receive(std::size_t max_size);

    /// Waits until the socket is ready for `events` (POLLIN, POLLOUT) within the deadline.
    core::Status wait_for(short events);
    /// Restarts the deadline (a person typing may take longer than one exchange).
    void extend_deadline();

    [[nodiscard]] int fd() const { return fd_.get(); }

    [[nodiscard]] std::chrono::steady_clock::time_point deadline() const { return deadline_; }

private:
    core::UniqueFd fd_;
    std::chrono::milliseconds timeout_;
    std::chrono::steady_clock::time_point deadline_;
    Peer peer_;
};

} // namespace latchkey::proto
