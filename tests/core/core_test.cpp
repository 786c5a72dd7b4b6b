// SPDX-License-Identifier: Apache-2.0
// Unit tests of core/: Result, Secret, Clock, randomness and encodings.
#include <gtest/gtest.h>

#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/clock.hpp"
#include "core/files.hpp"
#include "core/log.hpp"
#include "core/random.hpp"
#include "core/result.hpp"
#include "core/secret.hpp"
#include "tests/temp_dir.hpp"

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

TEST(Files, WritesWholeFilesOfExactlyTheModeAndLeavesNoTemporaryFile)
{
    const test_support::TempDir tmp;
    const std::string dir = tmp.file("a/b");
    ASSERT_TRUE(core::make_dirs(dir, 0755));
    const ::mode_t old = ::umask(077);
    ASSERT_TRUE(core::write_file_atomically(dir, "passwd", "one\n", 0644));
    ASSERT_TRUE(core::write_file_atomically(dir, "passwd", "two\n", 0644));
    ::umask(old);
    std::ifstream in(dir + "/passwd");
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_EQ(text, "two\n");
    struct stat st {};
    ASSERT_EQ(::stat((dir + "/passwd").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0644U) << "whatever the umask";
    std::size_t files = 0;
    for (const auto& e : std::filesystem::directory_iterator(dir)) {
        (void)e;
        ++files;
    }
    EXPECT_EQ(files, 1U);
    const auto bad = core::write_file_atomically(tmp.file("missing"), "x", "", 0644);
    ASSERT_FALSE(bad);
    EXPECT_TRUE(bad.error().is(core::Errc::io_failed));
    EXPECT_TRUE(core::make_dirs(dir + "/passwd", 0755).error().is(core::Errc::io_failed));
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

// ---- the log ------------------------------------------------------------------------------

TEST(Log, EscapesEveryControlByteAndNothingElse)
{
    using namespace std::string_literals;
    EXPECT_EQ(log::escape("user=alice"), "user=alice");
    EXPECT_EQ(log::escape("a\0b"s), "a\\x00b");
    EXPECT_EQ(log::escape("\x1b[31mred\r\nforged: error"), "\\x1b[31mred\\x0d\\x0aforged: error");
    EXPECT_EQ(log::escape("tab\tdel\x7f"), "tab\\x09del\\x7f");
    EXPECT_EQ(log::escape("caf\xc3\xa9 \\ \""), "caf\xc3\xa9 \\ \""); // UTF-8, \\ and " stay
}

TEST(Log, RepeatsBeyondTheBurstAreDroppedAndCountedInTheNextLine)
{
    log::RepeatLimiter r({.burst = 3, .interval = std::chrono::seconds(10), .max_kinds = 8});
    const auto t0 = std::chrono::steady_clock::time_point{} + std::chrono::hours(1);
    std::uint64_t suppressed = 99;
    for (int i = 0; i < 3; ++i) {
        EXPECT_TRUE(r.admit("pam:full", t0, suppressed));
        EXPECT_EQ(suppressed, 0u);
    }
    for (int i = 0; i < 100; ++i)
        EXPECT_FALSE(r.admit("pam:full", t0 + std::chrono::seconds(9), suppressed));
    EXPECT_TRUE(r.admit("admin:full", t0, suppressed)) << "another kind has its own burst";
    EXPECT_TRUE(r.admit("pam:full", t0 + std::chrono::seconds(10), suppressed));
    EXPECT_EQ(suppressed, 100u);
    EXPECT_TRUE(r.admit("pam:full", t0 + std::chrono::seconds(11), suppressed));
    EXPECT_EQ(suppressed, 0u);
}

TEST(Log, RepeatKindsAreBounded)
{
    log::RepeatLimiter r({.burst = 1, .interval = std::chrono::seconds(10), .max_kinds = 4});
    const auto t0 = std::chrono::steady_clock::time_point{} + std::chrono::hours(1);
    std::uint64_t suppressed = 0;
    for (int i = 0; i < 4; ++i)
        EXPECT_TRUE(r.admit("uid:" + std::to_string(i), t0, suppressed));
    EXPECT_FALSE(r.admit("uid:4", t0, suppressed)) << "full of live kinds: dropped";
    EXPECT_TRUE(r.admit("uid:5", t0 + std::chrono::seconds(10), suppressed))
        << "quiet kinds are forgotten to make room";
}

} // namespace
} // namespace latchkey::core
