// SPDX-License-Identifier: Apache-2.0
// CTAP frames over a Unix stream socket, and libfido2's hooks for a key behind one.
#include "hostkey/ctap_socket.hpp"

#include <cerrno>
#include <chrono>
#include <cstring>
#include <new>

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "core/c_handle.hpp"

namespace latchkey::hostkey {

namespace {

using core::Errc;
using Clock = std::chrono::steady_clock;

core::Status write_all(int fd, const char* p, std::size_t n)
{
    while (n > 0) {
        const ssize_t w = ::send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return core::fail(Errc::device_failed, "the security key went away");
        p += w;
        n -= static_cast<std::size_t>(w);
    }
    return {};
}

core::Status read_all(int fd, char* p, std::size_t n, Clock::time_point deadline, bool limited)
{
    while (n > 0) {
        int wait = -1;
        if (limited) {
            const auto left =
                std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
            if (left.count() <= 0)
                return core::fail(Errc::device_failed, "the security key did not answer in time");
            wait = static_cast<int>(left.count());
        }
        pollfd pfd{fd, POLLIN, 0};
        const int ready = ::poll(&pfd, 1, wait);
        if (ready < 0 && errno == EINTR)
            continue;
        if (ready < 0)
            return core::fail(Errc::device_failed, "the security key went away");
        if (ready == 0)
            continue; // the deadline check above ends it
        const ssize_t r = ::recv(fd, p, n, 0);
        if (r < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (r <= 0)
            return core::fail(Errc::device_failed, "the security key went away");
        p += r;
        n -= static_cast<std::size_t>(r);
    }
    return {};
}

/// libfido2's io handle of a key behind a socket.
struct Handle {
    core::UniqueFd fd;
};

void* io_open(const char* path)
{
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (path == nullptr || std::strlen(path) >= sizeof addr.sun_path)
        return nullptr;
    std::strcpy(addr.sun_path, path);
    core::UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!fd.valid() ||
        ::connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0)
        return nullptr;
    auto* h = new (std::nothrow) Handle{std::move(fd)};
    return h;
}

void io_close(void* handle)
{
    delete static_cast<Handle*>(handle);
}

// Never called: the transport functions carry every message.
int io_read(void*, unsigned char*, std::size_t, int)
{
    return -1;
}

int io_write(void*, const unsigned char*, std::size_t)
{
    return -1;
}

int socket_tx(fido_dev_t* dev, std::uint8_t command, const unsigned char* buf, std::size_t n)
{
    const auto* h = static_cast<const Handle*>(fido_dev_io_handle(dev));
    if (h == nullptr ||
        !write_ctap_frame(h->fd.get(), command, {reinterpret_cast<const char*>(buf), n}))
        return -1;
    return static_cast<int>(n);
}

int socket_rx(fido_dev_t* dev, std::uint8_t command, unsigned char* buf, std::size_t n, int ms)
{
    const auto* h = static_cast<const Handle*>(fido_dev_io_handle(dev));
    if (h == nullptr)
        return -1;
    auto frame = read_ctap_frame(h->fd.get(), ms);
    if (!frame || frame->command != command || frame->payload.size() > n)
        return -1;
    std::memcpy(buf, frame->payload.data(), frame->payload.size());
    return static_cast<int>(frame->payload.size());
}

} // namespace

core::Status write_ctap_frame(int fd, std::uint8_t command, std::string_view payload)
{
    if (payload.size() > max_ctap_payload)
        return core::fail(Errc::invalid_argument, "CTAP message too long");
    const auto n = static_cast<std::uint32_t>(payload.size());
    const char header[5] = {static_cast<char>(command), static_cast<char>(n >> 24),
                            static_cast<char>(n >> 16), static_cast<char>(n >> 8),
                            static_cast<char>(n)};
    std::string frame(header, sizeof header);
    frame += payload;
    return write_all(fd, frame.data(), frame.size());
}

core::Result<CtapFrame> read_ctap_frame(int fd, int timeout_ms)
{
    const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms < 0 ? 0 : timeout_ms);
    const bool limited = timeout_ms >= 0;
    unsigned char header[5];
    LATCHKEY_TRY_STATUS(
        read_all(fd, reinterpret_cast<char*>(header), sizeof header, deadline, limited));
    const std::uint32_t n = (std::uint32_t{header[1]} << 24) | (std::uint32_t{header[2]} << 16) |
                            (std::uint32_t{header[3]} << 8) | std::uint32_t{header[4]};
    if (n > max_ctap_payload)
        return core::fail(Errc::device_failed, "the security key sent too long a message");
    CtapFrame frame{header[0], std::string(n, '\0')};
    LATCHKEY_TRY_STATUS(read_all(fd, frame.payload.data(), n, deadline, limited));
    return frame;
}

const fido_dev_io_t& socket_io()
{
    static const fido_dev_io_t io{io_open, io_close, io_read, io_write};
    return io;
}

const fido_dev_transport_t& socket_transport()
{
    static const fido_dev_transport_t transport{socket_rx, socket_tx};
    return transport;
}

} // namespace latchkey::hostkey
