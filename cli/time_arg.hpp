// SPDX-License-Identifier: Apache-2.0
// A point in time as typed on latchkeyctl's command line (`audit --since TIME`).
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

} // namespace latchkey::cli
