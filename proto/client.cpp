// SPDX-License-Identifier: Apache-2.0
// Blocking Unix-socket client with deadlines and server credential checks.
#include "proto/client.hpp"

#include <fcntl.h>
#include <poll.h>
#include <pwd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "proto/wire.hpp"

namespace latchkey::proto {

namespace {

using namespace std::chrono;

core::Unexpected unreachable(const std::string& path, int err)
{
    return core::fail(core::Errc::daemon_unreachable,
                      "cannot reach latchkeyd at " + path + ": " + std::strerror(err));
}

} // namespace

std::vector<uid_t> default_trusted_uids(std::vector<uid_t> also)
{
    std::vector<uid_t> uids{0};
    struct passwd pw{};
    struct passwd* found = nullptr;
    char buf[1024];
    if (getpwnam_r("latchkey", &pw, buf, sizeof buf, &found) == 0 && found != nullptr)
        uids.push_back(pw.pw_uid);
    uids.insert(uids.end(), also.begin(), also.end());
    return uids;
}

Client::Client(core::UniqueFd fd, milliseconds timeout)
    : channel_(std::move(fd), timeout, Peer{"latchkeyd"})
{
}

void Client::extend_deadline()
{
    channel_.extend_deadline();
}

core::Result<Client> Client::connect(const ClientOptions& options)
{
    struct sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (options.socket_path.empty() || options.socket_path.size() >= sizeof addr.sun_path)
        return core::fail(core::Errc::invalid_argument,
                          "socket path is empty or too long: " + options.socket_path);
    std::memcpy(addr.sun_path, options.socket_path.c_str(), options.socket_path.size() + 1);

    core::UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    if (!fd.valid())
        return unreachable(options.socket_path, errno);
    Client client(std::move(fd), options.timeout);

    // A Unix socket whose listen backlog is full answers a non-blocking connect with EAGAIN,
    // and is then not connecting at all (unlike TCP's EINPROGRESS): try again until the
    // deadline, a little later each time, as latchkeyd drains its backlog.
    for (int pause_ms = 1;; pause_ms = std::min(pause_ms * 2, 50)) {
        if (::connect(client.channel_.fd(), reinterpret_cast<const sockaddr*>(&addr),
                      sizeof addr) == 0)
            break;
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN) {
            if (steady_clock::now() + milliseconds(pause_ms) >= client.channel_.deadline())
                return core::fail(core::Errc::daemon_timeout,
                                  "latchkeyd's socket " + options.socket_path +
                                      " is too busy to take a connection");
            ::poll(nullptr, 0, pause_ms);
            continue;
        }
        if (errno != EINPROGRESS)
            return unreachable(options.socket_path, errno);
        LATCHKEY_TRY_STATUS(client.channel_.wait_for(POLLOUT));
        int err = 0;
        socklen_t len = sizeof err;
        ::getsockopt(client.channel_.fd(), SOL_SOCKET, SO_ERROR, &err, &len);
        if (err != 0)
            return unreachable(options.socket_path, err);
        break;
    }

    if (!options.trusted_server_uids.empty()) {
        struct ucred cred{};
        socklen_t len = sizeof cred;
        if (::getsockopt(client.channel_.fd(), SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0)
            return unreachable(options.socket_path, errno);
        const auto& ok = options.trusted_server_uids;
        if (std::find(ok.begin(), ok.end(), cred.uid) == ok.end())
            return core::fail(core::Errc::daemon_untrusted,
                              "the server at " + options.socket_path + " runs as uid " +
                                  std::to_string(cred.uid) + ", which is not trusted");
    }
    return client;
}

core::Status Client::send(const Request& request)
{
    std::string text = encode(request);
    const core::WipeOnExit wipe(text.data(), text.size()); // may carry a password
    return channel_.send(text, max_request_size);
}

core::Result<Response> Client::receive()
{
    LATCHKEY_TRY(payload, channel_.receive(max_response_size));
    auto response = decode_response(payload);
    core::wipe(payload.data(), payload.size()); // may have carried a generated password
    return response;
}

core::Result<Response> Client::call(const Request& request)
{
    const auto sent = send(request);
    if (!sent) {
        // The server may have refused us (and closed) before reading: its reason is still
        // waiting to be read, and says more than "broken pipe".
        auto reply = receive();
        if (reply)
            return reply;
        return core::fail(std::move(sent).error());
    }
    return receive();
}

} // namespace latchkey::proto
