// SPDX-License-Identifier: Apache-2.0
// Clock implementations and time formatting.
#include "core/clock.hpp"

#include <charconv>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <iterator>

namespace latchkey::core {

std::int64_t to_unix(TimePoint t) noexcept
{
    return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

TimePoint from_unix(std::int64_t s) noexcept
{
    return TimePoint{std::chrono::seconds{s}};
}

std::string to_iso8601(TimePoint t)
{
    const std::time_t tt = static_cast<std::time_t>(to_unix(t));
    std::tm tm{};
    gmtime_r(&tt, &tm);
    char buf[32];
    const auto n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return std::string(buf, n);
}

TimePoint FileClock::now() const
{
    std::ifstream in(path_);
    std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    while (!text.empty() && (text.back() == '\n' || text.back() == ' '))
        text.pop_back();
    std::int64_t s = 0;
    const auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), s);
    if (ec != std::errc{} || p != text.data() + text.size() || text.empty())
        return std::chrono::system_clock::now();
    return from_unix(s);
}

} // namespace latchkey::core
