// SPDX-License-Identifier: Apache-2.0
// Unit tests of core/: Result, Secret, Clock, randomness and encodings.
#include <gtest/gtest.h>

#include <sstream>

#include "core/clock.hpp"
#include "core/random.hpp"
#include "core/result.hpp"
#include "core/secret.hpp"

namespace latchkey::core {
namespace {

Result<int> parse_positive(int v)
{
    if (v <= 0)
        return fail(Errc::invalid_argument, "must be positive");
    return v;
}

Result<int> doubled(int v)
{
    LATCHKEY_TRY(x, parse_positive(v));
    return x * 2;
}

TEST(Result, CarriesValueOrError)
{
    EXPECT_EQ(*doubled(4), 8);
    const auto r = doubled(-1);
    ASSERT_FALSE(r);
    EXPECT_TRUE(r.error().is(Errc::invalid_argument));
    EXPECT_EQ(r.error().message, "must be positive");
}

TEST(Error, CodesHaveStableNames)
{
    EXPECT_EQ(errc_name(Errc::policy_violation), "policy_violation");
    EXPECT_EQ(make_error_code(Errc::protocol_too_large).value(), 101);
    EXPECT_EQ(make_error_code(Errc::protocol_too_large).category().name(), std::string("latchkey"));
}

TEST(Secret, PrintsRedacted)
{
    const Secret s("hunter2");
    std::ostringstream os;
    os << s;
    EXPECT_EQ(os.str(), "<redacted>");
    EXPECT_EQ(s.view(), "hunter2");
}

TEST(Secret, MoveLeavesSourceEmpty)
{
    Secret a("correct horse battery staple");
    Secret b(std::move(a));
    EXPECT_TRUE(a.empty()); // NOLINT(bugprone-use-after-move): checking the moved-from state
    EXPECT_EQ(b.view(), "correct horse battery staple");
}

TEST(Secret, ComparesInConstantTimeByContent)
{
    const Secret s("abc");
    EXPECT_TRUE(s.equals("abc"));
    EXPECT_FALSE(s.equals("abd"));
    EXPECT_FALSE(s.equals("abcd"));
    EXPECT_TRUE(constant_time_equal("", ""));
}

TEST(Clock, ManualClockMovesOnlyWhenTold)
{
    ManualClock c(from_unix(1000));
    EXPECT_EQ(to_unix(c.now()), 1000);
    c.advance(Seconds(30));
    EXPECT_EQ(to_unix(c.now()), 1030);
    EXPECT_EQ(to_iso8601(from_unix(0)), "1970-01-01T00:00:00Z");
}

TEST(Random, UuidsAreVersion4AndDistinct)
{
    const auto a = uuid_v4();
    const auto b = uuid_v4();
    EXPECT_TRUE(is_uuid(a));
    EXPECT_NE(a, b);
    EXPECT_EQ(a[14], '4');
    EXPECT_FALSE(is_uuid("not-a-uuid"));
}

TEST(Random, BelowStaysInRange)
{
    for (int i = 0; i < 1000; ++i)
        EXPECT_LT(random_below(7), 7u);
}

TEST(Base64, RoundTripsBothAlphabets)
{
    const std::string bytes("\x00\xff\xfe\x01hello", 9);
    for (const bool url : {false, true})
        for (const bool pad : {false, true})
            EXPECT_EQ(*base64_decode(base64_encode(bytes, url, pad)), bytes);
    EXPECT_EQ(base64_encode("f", false, true), "Zg==");
    EXPECT_EQ(base64_encode("foobar", false, false), "Zm9vYmFy");
    EXPECT_FALSE(base64_decode("a*b"));
    EXPECT_FALSE(base64_decode("a")); // a lone sextet is no byte
}

} // namespace
} // namespace latchkey::core
