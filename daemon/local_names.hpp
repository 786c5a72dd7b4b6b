// SPDX-License-Identifier: Apache-2.0
// The host's own users and groups (/etc/passwd, /etc/group), which the NSS answers must never
// shadow: read once, and again whenever either file changes.
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include <sys/types.h>

#include "directory/host_users.hpp"

namespace latchkey::daemon {

class LocalNamesFiles {
public:
    explicit LocalNamesFiles(std::string passwd = "/etc/passwd", std::string group = "/etc/group");

    /// The names and numbers as the files are now. Thread-safe; a file that cannot be read
    /// counts as empty (and is logged): then only the directory's own rules stand.
    std::shared_ptr<const directory::LocalNames> current();

    /// For HostUsers.
    directory::LocalNamesSource source();

private:
    struct Stamp {
        dev_t dev = 0;
        ino_t ino = 0;
        off_t size = -1;
        long long mtime_ns = -1;
        bool operator==(const Stamp&) const = default;
    };
    static Stamp stamp_of(const std::string& path);

    std::string passwd_;
    std::string group_;
    std::mutex mutex_;
    Stamp passwd_stamp_;
    Stamp group_stamp_;
    std::shared_ptr<const directory::LocalNames> names_;
};

} // namespace latchkey::daemon
