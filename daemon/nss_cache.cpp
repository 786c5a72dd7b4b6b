// SPDX-License-Identifier: Apache-2.0
// Writing the NSS cache.
#include "daemon/nss_cache.hpp"

#include "core/files.hpp"
#include "proto/nss.hpp"

namespace latchkey::daemon {

NssCache::NssCache(directory::HostUsers& users, std::string dir)
    : users_(users)
    , dir_(std::move(dir))
{
}

core::Status NssCache::refresh()
{
    LATCHKEY_TRY(entries, users_.entries());
    std::string passwd;
    for (const auto& u : entries.users)
        passwd += proto::passwd_line(u);
    std::string group;
    for (const auto& g : entries.groups)
        group += proto::group_line(g);

    const std::lock_guard lock(mutex_);
    if (written_ && passwd == passwd_ && group == group_)
        return {};
    LATCHKEY_TRY_STATUS(core::make_dirs(dir_, 0755));
    // The group file first: a reader that finds a new user finds its groups too.
    LATCHKEY_TRY_STATUS(
        core::write_file_atomically(dir_, std::string(proto::nss_cache_group), group, 0644));
    LATCHKEY_TRY_STATUS(
        core::write_file_atomically(dir_, std::string(proto::nss_cache_passwd), passwd, 0644));
    passwd_ = std::move(passwd);
    group_ = std::move(group);
    written_ = true;
    return {};
}

} // namespace latchkey::daemon
