// SPDX-License-Identifier: Apache-2.0
// Parsing TIME arguments (ISO-8601 UTC, dates, Unix seconds, times ago) and DURATIONs.
#include "cli/time_arg.hpp"

#include <algorithm>
#include <charconv>
#include <chrono>

namespace latchkey::cli {

namespace {

bool all_digits(std::string_view s)
{
    return !s.empty() &&
           std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

/// A whole number made only of digits (no sign, no blanks), if it fits in T.
template <class T>
std::optional<T> number(std::string_view s)
{
    if (!all_digits(s))
        return std::nullopt;
    T v{};
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc{} || end != s.data() + s.size())
        return std::nullopt;
    return v;
}

/// "-30m", "-1h", "-2d".
std::optional<TimeArg> parse_ago(std::string_view text)
{
    if (!text.starts_with('-'))
        return std::nullopt;
    const auto seconds = parse_duration(text.substr(1), max_time_ago_s);
    if (!seconds)
        return std::nullopt;
    return TimeArg{TimeArg::Kind::ago, *seconds};
}

/// "2026-11-23" or "2026-11-23T10:00:00Z": exactly these shapes, in UTC.
std::optional<TimeArg> parse_calendar(std::string_view text)
{
    constexpr std::size_t date_size = 10;     // 2026-11-23
    constexpr std::size_t date_time_size = 20; // 2026-11-23T10:00:00Z
    if (text.size() != date_size && text.size() != date_time_size)
        return std::nullopt;
    if (text[4] != '-' || text[7] != '-')
        return std::nullopt;
    const auto y = number<int>(text.substr(0, 4));
    const auto mo = number<unsigned>(text.substr(5, 2));
    const auto d = number<unsigned>(text.substr(8, 2));
    if (!y || !mo || !d)
        return std::nullopt;
    const std::chrono::year_month_day date{std::chrono::year{*y}, std::chrono::month{*mo},
                                           std::chrono::day{*d}};
    if (!date.ok())
        return std::nullopt;
    std::int64_t seconds = std::chrono::sys_seconds{std::chrono::sys_days{date}}
                               .time_since_epoch()
                               .count();
    if (text.size() == date_size)
        return TimeArg{TimeArg::Kind::at, seconds};

    if (text[10] != 'T' || text[13] != ':' || text[16] != ':' || text[19] != 'Z')
        return std::nullopt;
    const auto h = number<int>(text.substr(11, 2));
    const auto mi = number<int>(text.substr(14, 2));
    const auto s = number<int>(text.substr(17, 2));
    if (!h || !mi || !s || *h > 23 || *mi > 59 || *s > 59)
        return std::nullopt;
    seconds += *h * 3600 + *mi * 60 + *s;
    return TimeArg{TimeArg::Kind::at, seconds};
}

} // namespace

std::optional<std::int64_t> parse_duration(std::string_view text, std::int64_t max_seconds)
{
    if (text.size() < 2)
        return std::nullopt;
    std::int64_t unit = 0;
    switch (text.back()) {
    case 'm':
        unit = 60;
        break;
    case 'h':
        unit = 3600;
        break;
    case 'd':
        unit = 86'400;
        break;
    default:
        return std::nullopt;
    }
    const auto amount = number<std::int64_t>(text.substr(0, text.size() - 1));
    if (!amount || *amount > max_seconds / unit)
        return std::nullopt;
    return *amount * unit;
}

std::int64_t TimeArg::unix_seconds(core::TimePoint now) const noexcept
{
    return kind == Kind::at ? seconds : core::to_unix(now) - seconds;
}

std::optional<TimeArg> parse_time_arg(std::string_view text)
{
    if (text.starts_with('-'))
        return parse_ago(text);
    if (all_digits(text)) {
        const auto seconds = number<std::int64_t>(text);
        if (!seconds)
            return std::nullopt;
        return TimeArg{TimeArg::Kind::at, *seconds};
    }
    return parse_calendar(text);
}

} // namespace latchkey::cli
