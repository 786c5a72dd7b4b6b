// SPDX-License-Identifier: Apache-2.0
// Framed, deadline-bounded exchanges over a stream socket.
#include "proto/channel.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <poll.h>
#include <sys/socket.h>

#include "core/secret.hpp"
#include "proto/wire.hpp"

namespace latchkey::proto {

using namespace std::chrono;

Channel::Channel(core::UniqueFd fd, milliseconds timeout, Peer peer)
    : fd_(std::move(fd))
    , timeout_(timeout)
    , deadline_(steady_clock::now() + timeout)
    , peer_(std::move(peer))
{
}

void Channel::extend_deadline()
{
    deadline_ = steady_clock::now() + timeout_;
}

core::Status Channel::wait_for(short events)
{
    for (;;) {
        const auto left = duration_cast<milliseconds>(deadline_ - steady_clock::now()).count();
        if (left <= 0)
            return core::fail(peer_.late, peer_.name + " did not answer in time");

        struct pollfd p {
            fd_.get(), events, 0
        };

        const int r = ::poll(&p, 1, static_cast<int>(std::min<long long>(left, 60'000)));
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return core::fail(core::Errc::io_failed, std::string("poll: ") + std::strerror(errno));
        if (r > 0)
            return {};
    }
}

core::Status Channel::send(std::string_view payload, std::size_t max_size)
{
    LATCHKEY_TRY(bytes, frame(payload, max_size));
    const core::WipeOnExit wipe(bytes.data(), bytes.size());
    std::size_t off = 0;
    while (off < bytes.size()) {
        const ssize_t n = ::send(fd_.get(), bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
            LATCHKEY_TRY_STATUS(wait_for(POLLOUT));
            continue;
        }
        if (n < 0)
            return core::fail(peer_.gone,
                              "sending to " + peer_.name + " failed: " + std::strerror(errno));
        off += static_cast<std::size_t>(n);
    }
    return {};
}

core::Result<std::string> Channel::receive(std::size_t max_size)
{
    FrameReader reader(max_size);
    std::string payload;
    std::string chunk;
    while (!reader.next(payload)) {
        LATCHKEY_TRY_STATUS(wait_for(POLLIN));
        chunk.resize(std::min<std::size_t>(reader.wanted(), 64 * 1024));
        const ssize_t n = ::recv(fd_.get(), chunk.data(), chunk.size(), 0);
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            continue;
        if (n < 0)
            return core::fail(peer_.gone,
                              "reading from " + peer_.name + " failed: " + std::strerror(errno));
        if (n == 0)
            return core::fail(peer_.gone, peer_.name + " closed the connection");
        LATCHKEY_TRY_STATUS(reader.feed({chunk.data(), static_cast<std::size_t>(n)}));
    }
    core::wipe(chunk.data(), chunk.size());
    return payload;
}

} // namespace latchkey::proto
