// SPDX-License-Identifier: Apache-2.0
// Test support: a SoftwareKey served over a Unix socket.
#include "tests/hostkey/key_server.hpp"

#include <cstring>
#include <stdexcept>

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "hostkey/ctap_socket.hpp"

#include <fido/param.h>

namespace latchkey::hostkey::testing {

KeyServer::KeyServer(SoftwareKey& key, std::string path)
    : key_(key)
    , path_(std::move(path))
{
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (path_.size() >= sizeof addr.sun_path)
        throw std::runtime_error("socket path too long");
    std::strcpy(addr.sun_path, path_.c_str());
    listener_.reset(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    int pipe_fds[2];
    if (!listener_.valid() ||
        ::bind(listener_.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0 ||
        ::listen(listener_.get(), 8) != 0 || ::pipe2(pipe_fds, O_CLOEXEC) != 0)
        throw std::runtime_error("cannot listen at " + path_ + ": " + std::strerror(errno));
    stop_read_.reset(pipe_fds[0]);
    stop_write_.reset(pipe_fds[1]);
    thread_ = std::thread([this] { serve(); });
}

KeyServer::~KeyServer()
{
    const char byte = 0;
    (void)!::write(stop_write_.get(), &byte, 1);
    thread_.join();
    ::unlink(path_.c_str());
}

void KeyServer::serve()
{
    for (;;) {
        pollfd fds[2] = {{listener_.get(), POLLIN, 0}, {stop_read_.get(), POLLIN, 0}};
        if (::poll(fds, 2, -1) < 0 && errno != EINTR)
            return;
        if (fds[1].revents != 0)
            return;
        if (fds[0].revents == 0)
            continue;
        core::UniqueFd conn(::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC));
        if (!conn.valid())
            continue;
        // One client at a time, as a key has one. It ends when the client closes.
        for (;;) {
            pollfd c[2] = {{conn.get(), POLLIN, 0}, {stop_read_.get(), POLLIN, 0}};
            if (::poll(c, 2, -1) < 0 && errno != EINTR)
                return;
            if (c[1].revents != 0)
                return;
            auto frame = read_ctap_frame(conn.get(), 5000);
            if (!frame)
                break;
            if (frame->command == CTAP_CMD_CBOR) {
                const int left = remove_after_.load();
                if (left == 0)
                    break; // pulled out
                if (left > 0)
                    remove_after_ = left - 1;
            }
            std::string reply;
            {
                const std::lock_guard lock(mutex_);
                reply = key_.exchange(frame->command, frame->payload);
            }
            if (!write_ctap_frame(conn.get(), frame->command, reply))
                break;
        }
    }
}

} // namespace latchkey::hostkey::testing
