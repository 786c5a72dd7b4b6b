// SPDX-License-Identifier: Apache-2.0
// Files written whole or not at all: the notifier's spool and the NSS cache.
#pragma once

#include <cerrno>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <sys/types.h>

#include "core/c_handle.hpp"
#include "core/result.hpp"

namespace latchkey::core {

/// Creates `dir` and any missing parent, each with `mode`; an existing directory is left as it
/// is. Errors (io_failed) name the part that could not be made.
Status make_dirs(const std::string& dir, mode_t mode);

/// Writes `data` to `dir`/`name` so that a reader sees the old file or the new one, never a part:
/// a temporary "." + name + ".tmp" of exactly `mode` (whatever the umask) in the same directory,
/// written, fsync'd, renamed over `name`, then the directory fsync'd. The temporary file never
/// outlives a failure.
Status write_file_atomically(const std::string& dir,
                             const std::string& name,
                             std::string_view data,
                             mode_t mode);

/// Reads a passwd(5) or group(5) file with glibc's own parser for it (`read`: fgetpwent_r or
/// fgetgrent_r; never through NSS) and calls `on(entry)` for each entry until it answers true.
/// nullopt when the file cannot be opened; else whether `on` answered true.
template <class Entry, class Read, class On>
std::optional<bool> scan_entries(const std::string& path, Read read, On on)
{
    UniqueFile f(std::fopen(path.c_str(), "re"));
    if (!f)
        return std::nullopt;
    std::vector<char> buf(4096);
    for (;;) {
        Entry e{};
        Entry* got = nullptr;
        const int err = read(f.get(), &e, buf.data(), buf.size(), &got);
        if (err == ERANGE && buf.size() < (1U << 20)) {
            buf.resize(buf.size() * 2); // the entry is read again, whole
            continue;
        }
        if (err != 0 || got == nullptr)
            return false;
        if (on(e))
            return true;
    }
}

} // namespace latchkey::core
