// SPDX-License-Identifier: Apache-2.0
// HostUsers: the directory's users as Unix users and groups of the host (docs/nss.md).
//
// The one place that decides what libnss_latchkey.so.2 sees, whether it asks the daemon's NSS
// socket or reads the cache file the daemon writes:
//
//   users of the host's account ([directory] account) that have a uid in [unix] uid_min..max
//     ─► passwd entry: name, uid, gid = uid, gecos = display name, home, shell
//     ─► their own group: name, gid = uid, no members
//   the account's administrators (account-admin; directory-admin on the management account)
//     ─► members of [unix] sudo_group, whose gid the directory allocated from the same range
//
// Never answered: "root", any name or number the host's own files hold (/etc/passwd,
// /etc/group: `files` comes first and must never be shadowed), any number outside the range.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "core/result.hpp"
#include "directory/directory.hpp"
#include "directory/store.hpp"
#include "proto/messages.hpp"

namespace latchkey::directory {

/// The names and numbers of the host's own users and groups (/etc/passwd, /etc/group).
struct LocalNames {
    std::unordered_set<std::string> users;
    std::unordered_set<std::uint32_t> uids;
    std::unordered_set<std::string> groups;
    std::unordered_set<std::uint32_t> gids;
};

/// The current LocalNames (the daemon rereads the files when they change).
using LocalNamesSource = std::function<std::shared_ptr<const LocalNames>()>;

/// Every entry of the host, for the cache file; users and groups ordered by name.
struct HostEntries {
    std::vector<proto::NssUser> users;
    std::vector<proto::NssGroup> groups;
};

class HostUsers {
public:
    HostUsers(Store& store, const Directory& directory, LocalNamesSource local);

    /// Gives the administrators' group its gid, once (kept in the directory). Call at start,
    /// after Directory::set_unix; without [unix] settings there is nothing to do.
    core::Status prepare();

    /// One lookup; an entry not found is an empty reply, not an error.
    core::Result<proto::NssReply> lookup(const proto::NssLookup& query);

    /// Every user and group the host has, for the cache file.
    core::Result<HostEntries> entries();

private:
    struct Scope; // what one lookup needs: the account, the range, the local names
    core::Result<std::optional<Scope>> scope();
    std::optional<proto::NssUser> entry(const Scope& s, const UserRecord& u) const;
    core::Result<std::optional<proto::NssUser>> user_named(const Scope& s, const std::string& name);
    core::Result<std::optional<proto::NssUser>> user_numbered(const Scope& s, std::uint32_t uid);
    core::Result<std::vector<std::string>> administrators(const Scope& s);
    core::Result<std::optional<proto::NssGroup>> sudo_group(const Scope& s);
    static std::optional<proto::NssGroup> own_group(const Scope& s,
                                                    const std::optional<proto::NssUser>& u);

    Store& store_;
    const Directory& directory_;
    LocalNamesSource local_;
    std::optional<std::uint32_t> sudo_gid_;
};

/// The display name as a passwd gecos field: no ':', ',' or control characters.
std::string gecos_of(std::string_view display_name);

} // namespace latchkey::directory
