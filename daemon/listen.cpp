// SPDX-License-Identifier: Apache-2.0
// Socket activation and self-binding.
#include "daemon/listen.hpp"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <systemd/sd-daemon.h>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/log.hpp"

namespace latchkey::daemon {

namespace {

std::string errno_text(const std::string& what, int err)
{
    return what + ": " + std::strerror(err);
}

core::Status make_parent(const std::string& path)
{
    const auto slash = path.rfind('/');
    if (slash == std::string::npos || slash == 0)
        return {};
    const std::string dir = path.substr(0, slash);
    struct stat st{};
    if (::stat(dir.c_str(), &st) == 0)
        return {};
    LATCHKEY_TRY_STATUS(make_parent(dir));
    if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST)
        return core::fail(core::Errc::io_failed, errno_text("cannot create " + dir, errno));
    return {};
}

} // namespace

std::map<std::string, core::UniqueFd> activated_sockets()
{
    std::map<std::string, core::UniqueFd> out;
    const int n = sd_listen_fds(1);
    for (int i = 0; i < n; ++i) {
        core::UniqueFd fd(SD_LISTEN_FDS_START + i);
        struct sockaddr_un addr{};
        socklen_t len = sizeof addr;
        if (sd_is_socket_unix(fd.get(), SOCK_STREAM, 1, nullptr, 0) <= 0 ||
            ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&addr), &len) != 0 ||
            addr.sun_path[0] == '\0') {
            core::log::warning("ignoring a socket from systemd that is not a listening Unix stream "
                         "socket with a path");
            continue;
        }
        ::fcntl(fd.get(), F_SETFD, FD_CLOEXEC);
        out.emplace(std::string(addr.sun_path), std::move(fd));
    }
    return out;
}

core::Result<core::UniqueFd> bind_unix(const std::string& path, mode_t mode,
                                       std::optional<gid_t> group)
{
    struct sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (path.empty() || path.size() >= sizeof addr.sun_path)
        return core::fail(core::Errc::config_invalid, "socket path is empty or too long: " + path);
    std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
    LATCHKEY_TRY_STATUS(make_parent(path));

    struct stat st{};
    if (::lstat(path.c_str(), &st) == 0) {
        if (!S_ISSOCK(st.st_mode))
            return core::fail(core::Errc::io_failed,
                              path + " exists and is not a socket; not touching it");
        core::UniqueFd probe(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
        if (probe.valid() &&
            ::connect(probe.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0)
            return core::fail(core::Errc::io_failed,
                              "another process is already listening on " + path);
        ::unlink(path.c_str()); // stale, from a daemon that did not stop cleanly
    }

    core::UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!fd.valid())
        return core::fail(core::Errc::io_failed, errno_text("socket", errno));
    // Bind under a tight umask so the socket is never reachable with looser permissions.
    const mode_t old = ::umask(0177);
    const int rc = ::bind(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr);
    const int err = errno;
    ::umask(old);
    if (rc != 0)
        return core::fail(core::Errc::io_failed, errno_text("cannot bind " + path, err));
    if (group && ::geteuid() == 0 && ::chown(path.c_str(), 0, *group) != 0)
        return core::fail(core::Errc::io_failed, errno_text("cannot chown " + path, errno));
    if (::chmod(path.c_str(), mode) != 0)
        return core::fail(core::Errc::io_failed, errno_text("cannot chmod " + path, errno));
    // The kernel's largest backlog: a flood of connections is accepted and refused quickly,
    // and clients meanwhile wait in the backlog rather than being turned away.
    if (::listen(fd.get(), SOMAXCONN) != 0)
        return core::fail(core::Errc::io_failed, errno_text("cannot listen on " + path, errno));
    return fd;
}

} // namespace latchkey::daemon
