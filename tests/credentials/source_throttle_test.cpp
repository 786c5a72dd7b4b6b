// SPDX-License-Identifier: Apache-2.0
// Unit tests of the failures counted per source, on a clock the test sets.
#include "credentials/source_throttle.hpp"

#include <gtest/gtest.h>

namespace latchkey::credentials {
namespace {

using std::chrono::minutes;
using std::chrono::seconds;

const core::TimePoint t0 = core::from_unix(1'900'000'000);

TEST(SourceThrottle, ThrottlesANameAfterItsFailuresUntilTheyLeaveTheWindow)
{
    SourceThrottle t({.per_name = 3, .per_source = 30, .window = seconds(3600)});
    t.record_failure("198.51.100.1", "alice@a1", t0);
    t.record_failure("198.51.100.1", "alice@a1", t0 + minutes(10));
    EXPECT_FALSE(t.throttled_until("198.51.100.1", "alice@a1", t0 + minutes(20)));
    t.record_failure("198.51.100.1", "alice@a1", t0 + minutes(20));
    EXPECT_EQ(t.throttled_until("198.51.100.1", "alice@a1", t0 + minutes(20)), t0 + minutes(60));
    // Other names and other sources are not held back.
    EXPECT_FALSE(t.throttled_until("198.51.100.1", "bob@a1", t0 + minutes(20)));
    EXPECT_FALSE(t.throttled_until("198.51.100.2", "alice@a1", t0 + minutes(20)));
    // Free when the oldest failure has left the window.
    EXPECT_TRUE(t.throttled_until("198.51.100.1", "alice@a1", t0 + minutes(60) - seconds(1)));
    EXPECT_FALSE(t.throttled_until("198.51.100.1", "alice@a1", t0 + minutes(60)));
}

TEST(SourceThrottle, ThrottlesASourceSprayingManyNames)
{
    SourceThrottle t({.per_name = 3, .per_source = 5, .window = seconds(3600)});
    for (int i = 0; i < 5; ++i)
        t.record_failure("198.51.100.1", "user" + std::to_string(i), t0);
    EXPECT_EQ(t.throttled_until("198.51.100.1", "someone-new", t0), t0 + minutes(60));
    EXPECT_FALSE(t.throttled_until("198.51.100.9", "someone-new", t0));
}

TEST(SourceThrottle, KeepsABoundedNumberOfKeys)
{
    SourceThrottle t({.per_name = 3, .per_source = 30, .window = seconds(3600), .max_keys = 100});
    for (int i = 0; i < 10'000; ++i)
        t.record_failure("2001:db8::" + std::to_string(i), "alice@a1", t0 + seconds(i));
    EXPECT_LE(t.keys(), 100u);
    // The newest are kept: a source still failing is still counted.
    t.record_failure("2001:db8::9999", "alice@a1", t0 + seconds(10'000));
    t.record_failure("2001:db8::9999", "alice@a1", t0 + seconds(10'001));
    EXPECT_TRUE(t.throttled_until("2001:db8::9999", "alice@a1", t0 + seconds(10'002)));
}

TEST(SourceThrottle, ForgetsKeysWhoseFailuresHaveAllExpired)
{
    SourceThrottle t({.per_name = 3, .per_source = 30, .window = seconds(60), .max_keys = 10});
    for (int i = 0; i < 4; ++i)
        t.record_failure("198.51.100." + std::to_string(i), "alice@a1", t0);
    EXPECT_EQ(t.keys(), 8u);
    for (int i = 0; i < 2; ++i)
        t.record_failure("203.0.113." + std::to_string(i), "alice@a1", t0 + minutes(5));
    EXPECT_EQ(t.keys(), 4u); // the old ones went, not the live ones
}

TEST(SourceThrottle, ALimitOfZeroNeverThrottles)
{
    SourceThrottle t({.per_name = 0, .per_source = 0, .window = seconds(3600)});
    for (int i = 0; i < 100; ++i)
        t.record_failure("198.51.100.1", "alice@a1", t0);
    EXPECT_FALSE(t.throttled_until("198.51.100.1", "alice@a1", t0));
    EXPECT_EQ(t.keys(), 0u);
}

} // namespace
} // namespace latchkey::credentials
