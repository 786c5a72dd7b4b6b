// SPDX-License-Identifier: Apache-2.0
// Unit tests of TOTP codes (RFC 6238 vectors and the real oathtool), base32 and otpauth URIs.
#include "credentials/totp.hpp"

#include <array>
#include <chrono>
#include <cstdint>
#include <cstdio> // popen(3), which POSIX declares here
#include <optional>
#include <string>
#include <string_view>

#include <gtest/gtest.h>

#include "core/clock.hpp"
#include "core/random.hpp"
#include "core/secret.hpp"

namespace latchkey::credentials {
namespace {

using core::from_unix;
using core::Secret;

struct Rfc6238Vector {
    std::int64_t time;
    const char* code;
};

// RFC 6238 Appendix B, SHA-1 column, less the last row (see below).
constexpr std::array<Rfc6238Vector, 5> rfc6238_sha1{{
    {59, "94287082"},
    {1111111109, "07081804"},
    {1111111111, "14050471"},
    {1234567890, "89005924"},
    {2000000000, "69279037"},
}};

// The last row, 20000000000 -> 65353130, is in the year 2603. core::TimePoint is a
// std::chrono::system_clock::time_point, which libstdc++ counts in int64 nanoseconds, so it
// ends in 2262 and from_unix(20000000000) overflows. `oathtool --totp -d 8
// --now=@20000000000 3132...3930` does print 65353130.
constexpr std::int64_t rfc6238_last_time = 20000000000;

const Secret& rfc_secret()
{
    static const Secret s("12345678901234567890");
    return s;
}

constexpr TotpParams eight_digits{8, std::chrono::seconds{30}, 1};

/// The code the real `oathtool --totp` prints for `secret` at unix time `t`, or "" on failure.
std::string oathtool_code(const Secret& secret, std::int64_t t, unsigned digits)
{
    const std::string cmd = "oathtool --totp --digits=" + std::to_string(digits) + " --now=@" +
                            std::to_string(t) + " " + core::to_hex(secret.view());
    FILE* p = ::popen(cmd.c_str(), "r");
    if (p == nullptr)
        return {};
    std::array<char, 64> buf{};
    std::string out;
    while (::fgets(buf.data(), static_cast<int>(buf.size()), p) != nullptr)
        out += buf.data();
    if (::pclose(p) != 0)
        return {};
    while (!out.empty() && (out.back() == '\n' || out.back() == '\r'))
        out.pop_back();
    return out;
}

/// A random secret whose code at `step` differs from its codes at the six nearest other steps,
/// so the "refused" checks below cannot be flaky through a chance collision.
Secret distinctive_secret(std::int64_t step, const TotpParams& p)
{
    for (;;) {
        Secret s = generate_totp_secret();
        const std::string code = totp_code(s, from_unix(step * 30), p);
        bool unique = true;
        for (std::int64_t d = -3; d <= 3 && unique; ++d)
            if (d != 0 && totp_code(s, from_unix((step + d) * 30), p) == code)
                unique = false;
        if (unique)
            return s;
    }
}

TEST(Totp, GeneratesTheRfc6238Sha1Vectors)
{
    for (const auto& v : rfc6238_sha1)
        EXPECT_EQ(totp_code(rfc_secret(), from_unix(v.time), eight_digits), v.code) << v.time;
}

TEST(Totp, AcceptsTheRfc6238Sha1VectorsAtTheirOwnStep)
{
    for (const auto& v : rfc6238_sha1) {
        const auto step = verify_totp(rfc_secret(), v.code, from_unix(v.time), eight_digits, {});
        ASSERT_TRUE(step.has_value()) << v.time;
        EXPECT_EQ(*step, v.time / 30);
    }
}

TEST(Totp, TheLastRfc6238VectorIsBeyondTimePoint)
{
    // When core::TimePoint can hold the year 2603, move the last row into rfc6238_sha1.
    const auto max_seconds =
        std::chrono::duration_cast<std::chrono::seconds>(core::TimePoint::max().time_since_epoch());
    EXPECT_LT(max_seconds.count(), rfc6238_last_time);
}

TEST(Totp, SixDigitCodesAreTheLastSixOfTheEightDigitOnes)
{
    const TotpParams six;
    for (const auto& v : rfc6238_sha1)
        EXPECT_EQ(totp_code(rfc_secret(), from_unix(v.time), six), std::string(v.code).substr(2));
}

TEST(Totp, GeneratedSecretsAre160RandomBits)
{
    const Secret a = generate_totp_secret();
    const Secret b = generate_totp_secret();
    EXPECT_EQ(a.size(), 20u);
    EXPECT_EQ(b.size(), 20u);
    EXPECT_FALSE(a.equals(b.view()));
}

TEST(Totp, AgreesWithOathtool)
{
    const TotpParams p;
    const std::int64_t t = 1'700'000'000 + core::random_below(100'000'000);
    const Secret s = generate_totp_secret();
    const std::string code = oathtool_code(s, t, p.digits);
    ASSERT_EQ(code.size(), 6u) << "is oathtool installed?";
    EXPECT_EQ(totp_code(s, from_unix(t), p), code);
}

TEST(Totp, AcceptsAnOathtoolCodeWithinOneStepEitherSide)
{
    const TotpParams p;
    const std::int64_t t = 1'700'000'000 + core::random_below(100'000'000);
    const std::int64_t step = t / 30;
    const Secret s = distinctive_secret(step, p);
    const std::string code = oathtool_code(s, t, p.digits);
    ASSERT_EQ(code.size(), 6u) << "is oathtool installed?";

    for (const std::int64_t shift : {0, -30, 30}) {
        const auto matched = verify_totp(s, code, from_unix(t + shift), p, {});
        ASSERT_TRUE(matched.has_value()) << shift;
        EXPECT_EQ(*matched, step) << shift;
    }
    // The edges of the window: first and last second of the neighbouring steps.
    EXPECT_EQ(verify_totp(s, code, from_unix(step * 30 - 30), p, {}), step);
    EXPECT_EQ(verify_totp(s, code, from_unix(step * 30 + 59), p, {}), step);
}

TEST(Totp, RefusesAnOathtoolCodeTwoStepsAway)
{
    const TotpParams p;
    const std::int64_t t = 1'700'000'000 + core::random_below(100'000'000);
    const std::int64_t step = t / 30;
    const Secret s = distinctive_secret(step, p);
    const std::string code = oathtool_code(s, t, p.digits);
    ASSERT_EQ(code.size(), 6u) << "is oathtool installed?";

    EXPECT_EQ(verify_totp(s, code, from_unix(t + 60), p, {}), std::nullopt);
    EXPECT_EQ(verify_totp(s, code, from_unix(t - 60), p, {}), std::nullopt);
    EXPECT_EQ(verify_totp(s, code, from_unix(step * 30 - 31), p, {}), std::nullopt);
    EXPECT_EQ(verify_totp(s, code, from_unix(step * 30 + 60), p, {}), std::nullopt);
}

TEST(Totp, AWiderWindowAcceptsTwoStepsAway)
{
    const TotpParams p{6, std::chrono::seconds{30}, 2};
    const std::int64_t t = 1'700'000'000 + core::random_below(100'000'000);
    const std::int64_t step = t / 30;
    const Secret s = distinctive_secret(step, p);
    const std::string code = oathtool_code(s, t, p.digits);
    ASSERT_EQ(code.size(), 6u) << "is oathtool installed?";

    EXPECT_EQ(verify_totp(s, code, from_unix(t + 60), p, {}), step);
    EXPECT_EQ(verify_totp(s, code, from_unix(t - 60), p, {}), step);
    EXPECT_EQ(verify_totp(s, code, from_unix(t + 90), p, {}), std::nullopt);
}

TEST(Totp, RefusesAReplayedStep)
{
    const TotpParams p;
    const std::int64_t t = 1'700'000'000 + core::random_below(100'000'000);
    const std::int64_t step = t / 30;
    const Secret s = distinctive_secret(step, p);
    const std::string code = oathtool_code(s, t, p.digits);
    ASSERT_EQ(code.size(), 6u) << "is oathtool installed?";

    EXPECT_EQ(verify_totp(s, code, from_unix(t), p, step - 1), step);
    EXPECT_EQ(verify_totp(s, code, from_unix(t), p, step), std::nullopt);
    EXPECT_EQ(verify_totp(s, code, from_unix(t), p, step + 1), std::nullopt);
    // Still refused when presented again from the next step, inside the window.
    EXPECT_EQ(verify_totp(s, code, from_unix(t + 30), p, step), std::nullopt);
}

TEST(Totp, RefusesCodesThatAreNotExactlySixDigits)
{
    const TotpParams p;
    const std::int64_t t = 1'700'000'000;
    const Secret s = generate_totp_secret();
    const std::string good = totp_code(s, from_unix(t), p);
    ASSERT_EQ(verify_totp(s, good, from_unix(t), p, {}), t / 30);

    for (const std::string_view bad : {"12345", "1234567", "12a456", "", " 12345", "+12345"})
        EXPECT_EQ(verify_totp(s, bad, from_unix(t), p, {}), std::nullopt) << bad;
    EXPECT_EQ(verify_totp(s, good + " ", from_unix(t), p, {}), std::nullopt);
    EXPECT_EQ(verify_totp(s, good.substr(1), from_unix(t), p, {}), std::nullopt);
    EXPECT_EQ(verify_totp(s, std::string_view(good.c_str(), 7), from_unix(t), p, {}),
              std::nullopt); // a trailing NUL
}

TEST(Totp, RefusesUnusableParams)
{
    const std::int64_t t = 1111111109;
    for (const TotpParams bad : {TotpParams{5, std::chrono::seconds{30}, 1},
                                 TotpParams{9, std::chrono::seconds{30}, 1},
                                 TotpParams{6, std::chrono::seconds{0}, 1},
                                 TotpParams{6, std::chrono::seconds{-30}, 1}}) {
        EXPECT_EQ(totp_code(rfc_secret(), from_unix(t), bad), "");
        EXPECT_EQ(verify_totp(rfc_secret(), "081804", from_unix(t), bad, {}), std::nullopt);
    }
}

TEST(Base32, EncodesTheRfc4648Vectors)
{
    EXPECT_EQ(base32_encode(""), "");
    EXPECT_EQ(base32_encode("f"), "MY");
    EXPECT_EQ(base32_encode("fo"), "MZXQ");
    EXPECT_EQ(base32_encode("foo"), "MZXW6");
    EXPECT_EQ(base32_encode("foob"), "MZXW6YQ");
    EXPECT_EQ(base32_encode("fooba"), "MZXW6YTB");
    EXPECT_EQ(base32_encode("foobar"), "MZXW6YTBOI");
}

TEST(Base32, DecodesTheRfc4648VectorsWithAndWithoutPadding)
{
    EXPECT_EQ(base32_decode(""), "");
    EXPECT_EQ(base32_decode("MY======"), "f");
    EXPECT_EQ(base32_decode("MZXQ===="), "fo");
    EXPECT_EQ(base32_decode("MZXW6==="), "foo");
    EXPECT_EQ(base32_decode("MZXW6YQ="), "foob");
    EXPECT_EQ(base32_decode("MZXW6YTB"), "fooba");
    EXPECT_EQ(base32_decode("MZXW6YTBOI======"), "foobar");
    EXPECT_EQ(base32_decode("MY"), "f");
    EXPECT_EQ(base32_decode("MZXW6YTBOI"), "foobar");
}

TEST(Base32, DecodesLowerCase)
{
    EXPECT_EQ(base32_decode("mzxw6ytboi"), "foobar");
    EXPECT_EQ(base32_decode("MzXw6YtBoI=="), "foobar");
}

TEST(Base32, RefusesForeignCharactersAndImpossibleLengths)
{
    EXPECT_EQ(base32_decode("MZXW6YTB0I"), std::nullopt); // '0' is not in the alphabet
    EXPECT_EQ(base32_decode("MZXW6YT1"), std::nullopt);
    EXPECT_EQ(base32_decode("MZ=XW6YT"), std::nullopt); // padding in the middle
    EXPECT_EQ(base32_decode("MZXW 6YTB"), std::nullopt);
    EXPECT_EQ(base32_decode("M"), std::nullopt);
    EXPECT_EQ(base32_decode("MZX"), std::nullopt);
    EXPECT_EQ(base32_decode("MZXW6Y"), std::nullopt);
    EXPECT_EQ(base32_decode("MZXW6YTBO"), std::nullopt);
}

TEST(Base32, RoundTripsEveryLengthUpTo64Bytes)
{
    for (std::size_t n = 0; n <= 64; ++n) {
        const std::string bytes = core::random_string(n);
        const std::string text = base32_encode(bytes);
        EXPECT_EQ(text.size(), (n * 8 + 4) / 5);
        EXPECT_EQ(text.find('='), std::string::npos);
        EXPECT_EQ(base32_decode(text), bytes) << n;
    }
}

TEST(Base32, RoundTripsEveryByteValue)
{
    std::string all;
    for (int i = 0; i < 256; ++i)
        all.push_back(static_cast<char>(i));
    EXPECT_EQ(base32_decode(base32_encode(all)), all);
}

TEST(OtpauthUri, HasTheKeyUriFormat)
{
    const Secret s("12345678901234567890");
    EXPECT_EQ(otpauth_uri("example.internal", "alice@web.example.internal", s, TotpParams{}),
              "otpauth://totp/example.internal:alice%40web.example.internal"
              "?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=example.internal"
              "&algorithm=SHA1&digits=6&period=30");
}

TEST(OtpauthUri, PercentEncodesIssuerAndLabel)
{
    const Secret s("12345678901234567890");
    const TotpParams p{8, std::chrono::seconds{60}, 1};
    EXPECT_EQ(otpauth_uri("Acme Co:&", "bob/x?y=z~_.-", s, p),
              "otpauth://totp/Acme%20Co%3A%26:bob%2Fx%3Fy%3Dz~_.-"
              "?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Acme%20Co%3A%26"
              "&algorithm=SHA1&digits=8&period=60");
}

TEST(OtpauthUri, CarriesASecretThatDecodesBack)
{
    const Secret s = generate_totp_secret();
    const std::string uri = otpauth_uri("i", "l", s, TotpParams{});
    const auto begin = uri.find("secret=") + 7;
    const auto end = uri.find('&', begin);
    const auto decoded = base32_decode(uri.substr(begin, end - begin));
    ASSERT_TRUE(decoded.has_value());
    EXPECT_TRUE(s.equals(*decoded));
}

} // namespace
} // namespace latchkey::credentials
