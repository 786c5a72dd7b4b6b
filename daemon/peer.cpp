// SPDX-License-Identifier: Apache-2.0
// Peer credentials.
#include "daemon/peer.hpp"

#include <grp.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace latchkey::daemon {

bool Peer::in_group(gid_t g) const
{
    return gid == g || std::find(groups.begin(), groups.end(), g) != groups.end();
}

std::string Peer::actor() const
{
    return "uid:" + std::to_string(uid);
}

core::Result<Peer> peer_of(int fd)
{
    Peer p;
    struct ucred cred{};
    socklen_t len = sizeof cred;
    if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0)
        return core::fail(core::Errc::io_failed,
                          std::string("SO_PEERCRED: ") + std::strerror(errno));
    p.pid = cred.pid;
    p.uid = cred.uid;
    p.gid = cred.gid;
    std::vector<gid_t> groups(64);
    for (int attempt = 0; attempt < 4; ++attempt) {
        socklen_t glen = static_cast<socklen_t>(groups.size() * sizeof(gid_t));
        if (::getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups.data(), &glen) == 0) {
            groups.resize(glen / sizeof(gid_t));
            p.groups = std::move(groups);
            return p;
        }
        if (errno != ERANGE)
            break;
        groups.resize(glen / sizeof(gid_t) + 1);
    }
    return p; // without supplementary groups: group-based access will simply not match
}

std::optional<gid_t> group_id(const std::string& name)
{
    struct group g{};
    struct group* found = nullptr;
    std::vector<char> buf(16384);
    if (::getgrnam_r(name.c_str(), &g, buf.data(), buf.size(), &found) != 0 || found == nullptr)
        return std::nullopt;
    return g.gr_gid;
}

} // namespace latchkey::daemon
