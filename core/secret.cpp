// SPDX-License-Identifier: Apache-2.0
// Secret storage that wipes itself.
#include "core/secret.hpp"

#include <cstring>
#include <string.h>

namespace latchkey::core {

void wipe(void* p, std::size_t n) noexcept
{
    if (p != nullptr && n != 0)
        explicit_bzero(p, n);
}

bool constant_time_equal(std::string_view a, std::string_view b) noexcept
{
    if (a.size() != b.size())
        return false;
    volatile unsigned char diff = 0;
    for (std::size_t i = 0; i < a.size(); ++i)
        diff = static_cast<unsigned char>(diff | (static_cast<unsigned char>(a[i]) ^
                                                  static_cast<unsigned char>(b[i])));
    return diff == 0;
}

Secret::Secret(std::string_view s)
{
    // Reserve first so the buffer is never reallocated (which would leave a copy behind).
    data_.reserve(s.size() < 16 ? 16 : s.size());
    data_.assign(s.data(), s.size());
}

Secret::Secret(Secret&& other) noexcept
    : data_(std::move(other.data_))
{
    other.clear();
}

Secret& Secret::operator=(Secret&& other) noexcept
{
    if (this != &other) {
        clear();
        data_ = std::move(other.data_);
        other.clear();
    }
    return *this;
}

Secret::~Secret()
{
    clear();
}

void Secret::clear() noexcept
{
    // Wipe the whole capacity: short strings live inside the object, long ones on the heap.
    wipe(data_.data(), data_.capacity());
    data_.clear();
}

bool Secret::equals(std::string_view other) const noexcept
{
    return constant_time_equal(data_, other);
}

std::ostream& operator<<(std::ostream& os, const Secret&)
{
    return os << "<redacted>";
}

} // namespace latchkey::core
