// SPDX-License-Identifier: Apache-2.0
// Atomic file writes.
#include "core/files.hpp"

#include <cerrno>
#include <cstring>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/c_handle.hpp"

namespace latchkey::core {

namespace {

std::string errno_text(int e)
{
    return std::strerror(e); // NOLINT(concurrency-mt-unsafe): glibc's is thread-safe for errnos
}

Unexpected io_error(const std::string& what, int e)
{
    return fail(Errc::io_failed, what + ": " + errno_text(e));
}

Status write_all(int fd, std::string_view data, const std::string& path)
{
    while (!data.empty()) {
        const ssize_t n = ::write(fd, data.data(), data.size());
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return io_error("cannot write " + path, errno);
        data.remove_prefix(static_cast<std::size_t>(n));
    }
    return {};
}

/// Removes the temporary file unless the rename made it the file.
class UnlinkUnlessKept {
public:
    explicit UnlinkUnlessKept(std::string path)
        : path_(std::move(path))
    {
    }

    UnlinkUnlessKept(const UnlinkUnlessKept&) = delete;
    UnlinkUnlessKept& operator=(const UnlinkUnlessKept&) = delete;

    ~UnlinkUnlessKept()
    {
        if (!kept_)
            ::unlink(path_.c_str());
    }

    void keep() noexcept { kept_ = true; }

private:
    std::string path_;
    bool kept_ = false;
};

} // namespace

Status make_dirs(const std::string& dir, mode_t mode)
{
    if (dir.empty())
        return fail(Errc::invalid_argument, "no directory configured");
    for (std::size_t pos = 1;; ++pos) {
        pos = dir.find('/', pos);
        const std::string part = dir.substr(0, pos);
        if (::mkdir(part.c_str(), mode) < 0 && errno != EEXIST)
            return io_error("cannot create " + part, errno);
        if (pos == std::string::npos)
            break;
    }

    struct stat st {};

    if (::stat(dir.c_str(), &st) < 0 || !S_ISDIR(st.st_mode))
        return fail(Errc::io_failed, dir + " is not a directory");
    return {};
}

Status write_file_atomically(const std::string& dir,
                             const std::string& name,
                             std::string_view data,
                             mode_t mode)
{
    const std::string final_path = dir + "/" + name;
    const std::string tmp_path = dir + "/." + name + ".tmp";
    UniqueFd fd(
        ::open(tmp_path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode));
    if (!fd.valid())
        return io_error("cannot create " + tmp_path, errno);
    UnlinkUnlessKept tmp(tmp_path);
    // Exactly `mode` whatever the umask, which can only take bits away.
    if (::fchmod(fd.get(), mode) < 0)
        return io_error("cannot chmod " + tmp_path, errno);
    LATCHKEY_TRY_STATUS(write_all(fd.get(), data, tmp_path));
    if (::fsync(fd.get()) < 0)
        return io_error("cannot fsync " + tmp_path, errno);
    if (::close(fd.release()) < 0)
        return io_error("cannot close " + tmp_path, errno);
    if (::rename(tmp_path.c_str(), final_path.c_str()) < 0)
        return io_error("cannot rename to " + final_path, errno);
    tmp.keep();
    // The rename is durable once the directory is.
    const UniqueFd dirfd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!dirfd.valid() || ::fsync(dirfd.get()) < 0)
        return io_error("cannot fsync the directory " + dir, errno);
    return {};
}

} // namespace latchkey::core
