// SPDX-License-Identifier: Apache-2.0
// Who is on the other end of a Unix socket, from the kernel (SO_PEERCRED, SO_PEERGROUPS).
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "core/result.hpp"

namespace latchkey::daemon {

struct Peer {
    pid_t pid = 0;
    uid_t uid = static_cast<uid_t>(-1);
    gid_t gid = static_cast<gid_t>(-1);
    std::vector<gid_t> groups; ///< supplementary groups

    [[nodiscard]] bool in_group(gid_t g) const;
    /// "uid:1000" for audit records.
    [[nodiscard]] std::string actor() const;
};

core::Result<Peer> peer_of(int fd);

/// The gid of a group name, or nullopt if the group does not exist.
std::optional<gid_t> group_id(const std::string& name);

} // namespace latchkey::daemon
