// SPDX-License-Identifier: Apache-2.0
// The NSS cache: the host's directory users and groups as files in the format of /etc/passwd
// and /etc/group, which libnss_latchkey.so.2 reads while the daemon does not answer (a restart,
// an upgrade), so that `ls -l`, `ps` and logons keep resolving names.
#pragma once

#include <atomic>
#include <mutex>
#include <string>

#include "core/result.hpp"
#include "directory/host_users.hpp"

namespace latchkey::daemon {

class NssCache {
public:
    /// Writes into `dir` ([unix] cache_dir, created 0755 if missing).
    NssCache(directory::HostUsers& users, std::string dir);

    /// Writes both files when what HostUsers answers differs from what was last written,
    /// each atomically (readers see the old file or the new one). Mode 0644, like /etc/passwd.
    core::Status refresh();

    /// Something users, roles or accounts depend on changed: refresh soon. Thread-safe, cheap.
    void mark_changed() noexcept { changed_.store(true); }
    /// Whether a change is waiting for a refresh; clears the mark.
    bool take_changed() noexcept { return changed_.exchange(false); }

    const std::string& dir() const { return dir_; }

private:
    directory::HostUsers& users_;
    std::string dir_;
    std::atomic<bool> changed_{true};
    std::mutex mutex_;
    std::string passwd_; ///< as last written
    std::string group_;
    bool written_ = false;
};

} // namespace latchkey::daemon
