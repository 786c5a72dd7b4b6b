// SPDX-License-Identifier: Apache-2.0
// Unit tests of password rules, PHC strings and Argon2id hashing.
#include <gtest/gtest.h>

#include "credentials/password_hasher.hpp"
#include "directory/password_policy.hpp"
#include "credentials/phc.hpp"

namespace latchkey::credentials {
namespace {

using core::Secret;

// Small parameters keep the tests fast; production defaults are exercised by the bench.
constexpr Argon2Params fast{1024, 1, 1};

std::string violation(const proto::PasswordPolicy& p, std::string_view pw)
{
    const auto s = directory::check_composition(p, Secret(pw));
    if (s)
        return "";
    EXPECT_TRUE(s.error().is(core::Errc::policy_violation));
    return s.error().message;
}

TEST(PasswordPolicy, DefaultsAreTheSeeds)
{
    const proto::PasswordPolicy p;
    EXPECT_EQ(p.min_length, 8u);
    EXPECT_TRUE(p.require_lowercase && p.require_uppercase && p.require_digit && p.require_symbol);
    EXPECT_EQ(p.max_age_days, 0u);
    EXPECT_EQ(p.history, 0u);
    EXPECT_EQ(p.max_failed_per_hour, 5u);
    EXPECT_TRUE(directory::validate(p));
}

TEST(PasswordPolicy, SaysWhichRuleIsBroken)
{
    const proto::PasswordPolicy p;
    EXPECT_EQ(violation(p, "Sh0rt!"), "the password must be at least 8 characters long");
    EXPECT_EQ(violation(p, "NOLOWER1!"), "the password must contain a lowercase letter");
    EXPECT_EQ(violation(p, "noupper1!"), "the password must contain an uppercase letter");
    EXPECT_EQ(violation(p, "NoDigits!!"), "the password must contain a digit");
    EXPECT_EQ(violation(p, "NoSymbol11"), "the password must contain a symbol such as ! # % or -");
    EXPECT_EQ(violation(p, "Tab\there1!"), "the password must not contain control characters");
    EXPECT_EQ(violation(p, "Good-Passw0rd"), "");
}

TEST(PasswordPolicy, CountsCharactersNotBytes)
{
    proto::PasswordPolicy p;
    p.require_symbol = false;
    // Seven characters, fourteen bytes.
    EXPECT_EQ(violation(p, "Aäb1öüü"), "the password must be at least 8 characters long");
    EXPECT_EQ(violation(p, "Aäb1öüüé"), "");
}

TEST(PasswordPolicy, RelaxedClassesAreNotRequired)
{
    proto::PasswordPolicy p;
    p.require_uppercase = p.require_digit = p.require_symbol = false;
    p.min_length = 12;
    EXPECT_EQ(violation(p, "correcthorsebattery"), "");
    EXPECT_EQ(violation(p, "elevenchars"), "the password must be at least 12 characters long");
}

TEST(PasswordPolicy, BoundsTheLength)
{
    const proto::PasswordPolicy p;
    EXPECT_NE(violation(p, "Aa1!" + std::string(200, 'x')), "");
}

TEST(PasswordPolicy, ExpiresAfterMaxAge)
{
    proto::PasswordPolicy p;
    const auto set = core::from_unix(1'000'000);
    EXPECT_FALSE(directory::password_expires_at(p, set));
    EXPECT_FALSE(directory::password_expired(p, set, set + std::chrono::hours(24 * 10000)));
    p.max_age_days = 90;
    EXPECT_EQ(core::to_unix(*directory::password_expires_at(p, set)), 1'000'000 + 90 * 86400);
    EXPECT_FALSE(
        directory::password_expired(p, set, set + std::chrono::hours(24 * 90) - core::Seconds(1)));
    EXPECT_TRUE(directory::password_expired(p, set, set + std::chrono::hours(24 * 90)));
    EXPECT_FALSE(directory::password_expired(p, std::nullopt, set));
}

TEST(PasswordPolicy, GeneratedPasswordsMeetThePolicy)
{
    proto::PasswordPolicy p;
    p.min_length = 32;
    for (int i = 0; i < 200; ++i) {
        const auto pw = directory::generate_password(p);
        EXPECT_EQ(violation(p, pw.view()), "");
        EXPECT_GE(pw.size(), 32u);
    }
    EXPECT_NE(directory::generate_password(p).view(), directory::generate_password(p).view());
}

TEST(PasswordPolicy, ValidatesItsOwnRanges)
{
    proto::PasswordPolicy p;
    p.min_length = 7;
    EXPECT_FALSE(directory::validate(p));
    p.min_length = 33;
    EXPECT_FALSE(directory::validate(p));
    p.min_length = 32;
    p.history = 25;
    EXPECT_FALSE(directory::validate(p));
    p.history = 24;
    EXPECT_TRUE(directory::validate(p));
}

TEST(SecuritySettings, ValidateNetworksAndDuration)
{
    proto::SecuritySettings s;
    EXPECT_TRUE(directory::validate(s));
    s.allowed_networks = {"10.0.0.0/8", "2001:db8::/32", "192.0.2.7"};
    EXPECT_TRUE(directory::validate(s));
    s.allowed_networks = {"10.0.0.0/33"};
    EXPECT_FALSE(directory::validate(s));
    s.allowed_networks = {};
    s.session_duration_s = 60;
    EXPECT_FALSE(directory::validate(s));
}

TEST(Phc, ParsesAndFormatsArgon2id)
{
    const std::string text = "$argon2id$v=19$m=65536,t=3,p=1$c29tZXNhbHRzb21lc2FsdA$"
                             "dmStS6GjyZn83QmR/8InD3gwLSODIz215778hdG7GBk";
    const auto h = parse_phc(text);
    ASSERT_TRUE(h) << h.error().message;
    EXPECT_EQ(h->memory_kib, 65536u);
    EXPECT_EQ(h->iterations, 3u);
    EXPECT_EQ(h->parallelism, 1u);
    EXPECT_EQ(h->salt, "somesaltsomesalt");
    EXPECT_EQ(h->hash.size(), 32u);
    EXPECT_EQ(format_phc(*h), text);
}

TEST(Phc, RejectsMalformedStrings)
{
    for (const char* bad : {"", "plain", "$argon2i$v=19$m=65536,t=3,p=1$c29tZXNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
                            "$argon2id$v=16$m=65536,t=3,p=1$c29tZXNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
                            "$argon2id$v=19$m=65536,t=0,p=1$c29tZXNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
                            "$argon2id$v=19$m=065536,t=3,p=1$c29tZXNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
                            "$argon2id$v=19$m=65536,t=3$c29tZXNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
                            "$argon2id$v=19$m=65536,t=3,p=1$c29t*XNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
                            "$argon2id$v=19$m=65536,t=3,p=1$c29tZXNhbHQ$aGFzaA"})
        EXPECT_FALSE(parse_phc(bad)) << bad;
}

TEST(PasswordHasher, VerifiesTheRightPasswordOnly)
{
    const PasswordHasher h(fast);
    const auto phc = h.hash(Secret("Good-Passw0rd"));
    ASSERT_TRUE(phc);
    EXPECT_EQ(phc->rfind("$argon2id$v=19$m=1024,t=1,p=1$", 0), 0u);
    EXPECT_TRUE(*h.verify(*phc, Secret("Good-Passw0rd")));
    EXPECT_FALSE(*h.verify(*phc, Secret("Good-Passw0rD")));
    EXPECT_FALSE(*h.verify(*phc, Secret("")));
    EXPECT_FALSE(h.verify("garbage", Secret("x")));
}

TEST(PasswordHasher, SaltsEveryHash)
{
    const PasswordHasher h(fast);
    EXPECT_NE(*h.hash(Secret("same")), *h.hash(Secret("same")));
}

TEST(PasswordHasher, MatchesTheReferenceImplementation)
{
    // argon2 CLI: echo -n password | argon2 somesaltsomesalt -id -t 3 -m 16 -p 1 -l 32
    const PasswordHasher h(fast);
    const std::string ref = "$argon2id$v=19$m=65536,t=3,p=1$c29tZXNhbHRzb21lc2FsdA$"
                            "dmStS6GjyZn83QmR/8InD3gwLSODIz215778hdG7GBk";
    EXPECT_TRUE(*h.verify(ref, Secret("password")));
    EXPECT_FALSE(*h.verify(ref, Secret("passwore")));
}

TEST(PasswordHasher, WantsRehashWhenParametersChange)
{
    PasswordHasher h(fast);
    const auto phc = *h.hash(Secret("x"));
    EXPECT_FALSE(h.needs_rehash(phc));
    h.set_params({2048, 1, 1});
    EXPECT_TRUE(h.needs_rehash(phc));
    EXPECT_TRUE(*h.verify(phc, Secret("x"))); // old hashes still verify at their own cost
    h.burn(Secret("anything"));
}

} // namespace
} // namespace latchkey::credentials
