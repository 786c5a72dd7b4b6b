// SPDX-License-Identifier: Apache-2.0
// Secret: bytes that must never be logged, copied by accident or left in memory.
#pragma once

#include <cstddef>
#include <ostream>
#include <string>
#include <string_view>

namespace latchkey::core {

/// A move-only byte string wiped on destruction. It prints as "<redacted>".
class Secret {
public:
    Secret() = default;

    explicit Secret(std::string_view s);

    Secret(const Secret&) = delete;
    Secret& operator=(const Secret&) = delete;
    Secret(Secret&& other) noexcept;
    Secret& operator=(Secret&& other) noexcept;
    ~Secret();

    /// An explicit copy, for the rare place that must keep one (never implicit).
    [[nodiscard]] Secret clone() const { return Secret(view()); }

    [[nodiscard]] std::string_view view() const noexcept { return data_; }

    [[nodiscard]] std::size_t size() const noexcept { return data_.size(); }

    [[nodiscard]] bool empty() const noexcept { return data_.empty(); }

    void clear() noexcept;

    /// Constant-time comparison of contents (the length is not hidden).
    [[nodiscard]] bool equals(std::string_view other) const noexcept;

private:
    std::string data_;
};

std::ostream& operator<<(std::ostream& os, const Secret&);

/// Wipes memory in a way the optimiser cannot remove.
void wipe(void* p, std::size_t n) noexcept;

/// Wipes a buffer when the scope ends, whichever way it ends.
class WipeOnExit {
public:
    WipeOnExit(void* p, std::size_t n) noexcept
        : p_(p)
        , n_(n)
    {
    }

    WipeOnExit(const WipeOnExit&) = delete;
    WipeOnExit& operator=(const WipeOnExit&) = delete;

    ~WipeOnExit() { wipe(p_, n_); }

private:
    void* p_;
    std::size_t n_;
};

/// Constant-time equality of two byte strings of the same length; false when lengths differ.
bool constant_time_equal(std::string_view a, std::string_view b) noexcept;

} // namespace latchkey::core
