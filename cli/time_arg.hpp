// SPDX-License-Identifier: Apache-2.0
// Points in time and durations as typed on latchkeyctl's command line (`audit --since TIME`,
// `account root allow-recovery --for DURATION`).
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "core/clock.hpp"

namespace latchkey::cli {

/// How far back a relative time may reach: a century, far beyond any audit trail, and far from
/// overflowing Unix seconds.
inline constexpr std::int64_t max_time_ago_s = 36'500LL * 86'400;

/// A TIME argument, parsed but not yet tied to a clock: the parser checks the form, and only the
/// command that sends the request asks what "now" is.
struct TimeArg {
    enum class Kind : std::uint8_t { at, ago };
    Kind kind = Kind::at;
    std::int64_t seconds = 0; ///< Unix seconds (at), or seconds before now (ago)

    /// The time in Unix seconds, `now` anchoring a relative one.
    [[nodiscard]] std::int64_t unix_seconds(core::TimePoint now) const noexcept;
};

/// Parses one of
///   2026-11-23T10:00:00Z   ISO-8601 UTC, to the second (what latchkeyctl prints)
///   2026-11-23             a date: its midnight UTC
///   1795428000             Unix seconds
///   -30m, -1h, -2d         minutes, hours or days before now (at most max_time_ago_s)
/// Anything else, an impossible date (2026-02-30) included, is nullopt.
std::optional<TimeArg> parse_time_arg(std::string_view text);

/// The accepted forms, for usage errors and help.
inline constexpr std::string_view time_arg_forms =
    "an ISO-8601 UTC time (2026-11-23T10:00:00Z), a date (2026-11-23), Unix seconds, or a time "
    "ago (-30m, -1h, -2d)";

/// A DURATION argument in seconds: a whole number of minutes, hours or days ("30m", "2h",
/// "1d"), at most `max_seconds`. Anything else (a sign, a blank, another unit, no number) is
/// nullopt. The times ago of parse_time_arg() are these durations after a '-'.
std::optional<std::int64_t> parse_duration(std::string_view text, std::int64_t max_seconds);

} // namespace latchkey::cli
