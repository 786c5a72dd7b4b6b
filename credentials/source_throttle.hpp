// SPDX-License-Identifier: Apache-2.0
// SourceThrottle: failed logons counted per source address, so that a stranger can neither lock a
// user out (the per-user lock of the seeds) nor spray passwords across many users.
//
//   attempt from SOURCE for NAME
//     │
//     ├─ SOURCE failed `per_name` times for NAME in the window ──► throttled (no check at all)
//     ├─ SOURCE failed `per_source` times in the window      ──► throttled
//     ▼
//   checked; a failure counts for (SOURCE, NAME) and for SOURCE, whether NAME exists or not
//
// `per_name` stays below the accounts' max_failed_per_hour, so one source is throttled before
// the user is locked. Names count as typed (canonical form made by the caller without asking
// whether the user exists), so the throttle answers alike for real and unknown users.
// Bounded: each key keeps at most its limit of times, and at most `max_keys` keys are kept.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "core/clock.hpp"

namespace latchkey::credentials {

struct ThrottleLimits {
    std::uint32_t per_name = 3;    ///< failures of one source against one name, per window
    std::uint32_t per_source = 30; ///< failures of one source against any names, per window
    std::chrono::seconds window{3600};
    std::size_t max_keys = 100'000;
};

class SourceThrottle {
public:
    explicit SourceThrottle(ThrottleLimits limits = {});

    /// Until when `source` may not try `name` (nullopt: it may now). Thread-safe.
    std::optional<core::TimePoint>
    throttled_until(const std::string& source, const std::string& name, core::TimePoint now);

    /// Counts a failure of `source` against `name`.
    void record_failure(const std::string& source, const std::string& name, core::TimePoint now);

    void set_limits(ThrottleLimits limits);

    [[nodiscard]] std::size_t keys() const;

private:
    using Times = std::deque<core::TimePoint>;

    std::optional<core::TimePoint> blocked(Times* times, std::uint32_t limit, core::TimePoint now);
    void add(const std::string& key, std::uint32_t limit, core::TimePoint now);
    void prune(core::TimePoint now);

    mutable std::mutex mutex_;
    ThrottleLimits limits_;
    std::unordered_map<std::string, Times> failures_; ///< "n\0source\0name" and "s\0source"
};

} // namespace latchkey::credentials
