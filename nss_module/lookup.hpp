// SPDX-License-Identifier: Apache-2.0
// What libnss_latchkey.so.2 does for one glibc lookup, apart from glibc's calling convention:
//
//   LATCHKEY_NSS_OFF set (latchkeyd itself) ──► unavailable
//   the daemon's NSS socket answers ──► its entry, or not found
//   no daemon (not running, no socket, too slow, untrusted) ──► the cache files
//   no cache either ──► unavailable, at once
//
// Whatever the source, an entry is used only when it is sane: the name or number asked for, a
// uid and gid of at least proto::nss_min_id (never root, never a system user), and fields that
// fit a passwd line. No exceptions leave the entry points; no state is kept between calls.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "proto/messages.hpp"

namespace latchkey::nss {

enum class Status { success, not_found, unavailable, try_again };

/// Where to look; the module uses the defaults (proto/nss.hpp), the unit tests their own.
struct Sources {
    std::string socket_path;
    std::string cache_dir;
    std::chrono::milliseconds timeout{1000};
    /// Uids the daemon may run as; empty: root and the `latchkey` user of /etc/passwd.
    std::vector<uid_t> trusted_uids;
};

Sources default_sources();

template <class T>
struct Found {
    Status status = Status::unavailable;
    std::optional<T> entry;
};

Found<proto::NssUser> user_by_name(const Sources& from, const std::string& name);
Found<proto::NssUser> user_by_uid(const Sources& from, std::uint32_t uid);
Found<proto::NssGroup> group_by_name(const Sources& from, const std::string& name);
Found<proto::NssGroup> group_by_gid(const Sources& from, std::uint32_t gid);
/// The user's groups besides its own.
Found<std::vector<std::uint32_t>> groups_of(const Sources& from, const std::string& user);

/// The uid of `name` in a passwd(5) file, read directly (never through NSS, which would ask
/// this module again).
std::optional<uid_t> uid_in_file(const std::string& passwd_path, const std::string& name);

} // namespace latchkey::nss
