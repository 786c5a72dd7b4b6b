// SPDX-License-Identifier: Apache-2.0
// Reading /etc/passwd and /etc/group with glibc's own parsers.
#include "daemon/local_names.hpp"

#include <functional>

#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>

#include "core/files.hpp"
#include "core/log.hpp"

namespace latchkey::daemon {

namespace {

void read_file(const std::string& path, const std::function<bool()>& read)
{
    if (!read())
        core::log::warning("cannot read " + path + ": the NSS answers cannot avoid its names");
}

void read_users(const std::string& path, directory::LocalNames& out)
{
    read_file(path, [&] {
        return core::scan_entries<struct passwd>(path, ::fgetpwent_r,
                                                 [&](const struct passwd& pw) {
                                                     out.users.emplace(pw.pw_name);
                                                     out.uids.insert(pw.pw_uid);
                                                     return false;
                                                 })
            .has_value();
    });
}

void read_groups(const std::string& path, directory::LocalNames& out)
{
    read_file(path, [&] {
        return core::scan_entries<struct group>(path, ::fgetgrent_r,
                                                [&](const struct group& gr) {
                                                    out.groups.emplace(gr.gr_name);
                                                    out.gids.insert(gr.gr_gid);
                                                    return false;
                                                })
            .has_value();
    });
}

} // namespace

LocalNamesFiles::LocalNamesFiles(std::string passwd, std::string group)
    : passwd_(std::move(passwd))
    , group_(std::move(group))
{
}

LocalNamesFiles::Stamp LocalNamesFiles::stamp_of(const std::string& path)
{
    struct stat st {};

    if (::stat(path.c_str(), &st) != 0)
        return {};
    return {st.st_dev, st.st_ino, st.st_size,
            static_cast<long long>(st.st_mtim.tv_sec) * 1'000'000'000LL + st.st_mtim.tv_nsec};
}

std::shared_ptr<const directory::LocalNames> LocalNamesFiles::current()
{
    const Stamp p = stamp_of(passwd_);
    const Stamp g = stamp_of(group_);
    const std::lock_guard lock(mutex_);
    if (names_ && p == passwd_stamp_ && g == group_stamp_)
        return names_;
    auto fresh = std::make_shared<directory::LocalNames>();
    read_users(passwd_, *fresh);
    read_groups(group_, *fresh);
    passwd_stamp_ = p;
    group_stamp_ = g;
    names_ = std::move(fresh);
    return names_;
}

directory::LocalNamesSource LocalNamesFiles::source()
{
    return [this] { return current(); };
}

} // namespace latchkey::daemon
