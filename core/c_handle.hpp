// SPDX-License-Identifier: Apache-2.0
// RAII for C handles: unique_ptr deleters and an owned file descriptor.
#pragma once

#include <cstdio>
#include <memory>
#include <utility>

namespace latchkey::core {

/// Deleter for libraries that free with `void free(T*)` (OpenSSL, sqlite3).
template <auto Free>
struct CFree {
    template <class T>
    void operator()(T* p) const noexcept
    {
        Free(p);
    }
};

/// Deleter for libraries that free with `void free(T**)` and null the pointer (libfido2).
template <class T, void (*Free)(T**)>
struct CFreeRef {
    void operator()(T* p) const noexcept { Free(&p); }
};

/// An open stdio stream, closed on destruction.
using UniqueFile = std::unique_ptr<std::FILE, CFree<&::fclose>>;

/// An owned file descriptor, closed on destruction.
class UniqueFd {
public:
    UniqueFd() = default;

    explicit UniqueFd(int fd) noexcept
        : fd_(fd)
    {
    }

    UniqueFd(const UniqueFd&) = delete;
    UniqueFd& operator=(const UniqueFd&) = delete;

    UniqueFd(UniqueFd&& o) noexcept
        : fd_(std::exchange(o.fd_, -1))
    {
    }

    UniqueFd& operator=(UniqueFd&& o) noexcept
    {
        if (this != &o)
            reset(std::exchange(o.fd_, -1));
        return *this;
    }

    ~UniqueFd() { reset(); }

    [[nodiscard]] int get() const noexcept { return fd_; }

    [[nodiscard]] bool valid() const noexcept { return fd_ >= 0; }

    int release() noexcept { return std::exchange(fd_, -1); }

    void reset(int fd = -1) noexcept;

private:
    int fd_ = -1;
};

} // namespace latchkey::core
