// SPDX-License-Identifier: Apache-2.0
// Unit tests of the pending passkey ceremonies: single use, expiry, and the bounds.
#include "credentials/ceremonies.hpp"

#include <atomic>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace latchkey::credentials {
namespace {

const core::TimePoint t0 = core::from_unix(1'800'000'000);

webauthn::PendingCeremony pending(std::string challenge,
                                  core::TimePoint expires = t0 + std::chrono::minutes(5))
{
    webauthn::PendingCeremony p;
    p.challenge = std::move(challenge);
    p.rp_ids = {"example.org"};
    p.expires_at = expires;
    return p;
}

TEST(Ceremonies, GivesACeremonyBackOnceOnly)
{
    Ceremonies c({4, 100});
    const auto id = c.put("alice", pending("one"), t0);
    ASSERT_TRUE(id);
    EXPECT_EQ(id->size(), 43U); // 32 random bytes, base64url
    const auto taken = c.take(*id, "alice", t0);
    ASSERT_TRUE(taken);
    EXPECT_EQ(taken->challenge, "one");
    // A replayed answer finds nothing.
    EXPECT_FALSE(c.take(*id, "alice", t0));
    EXPECT_FALSE(c.take("made-up", "alice", t0));
    EXPECT_EQ(c.size(), 0U);
}

TEST(Ceremonies, GiveNothingToAnotherOwnerAndForgetTheCeremony)
{
    Ceremonies c({4, 100});
    const auto id = c.put("alice", pending("one"), t0);
    ASSERT_TRUE(id);
    EXPECT_FALSE(c.take(*id, "bob", t0));
    EXPECT_FALSE(c.take(*id, "alice", t0)); // a leaked id is spent
}

TEST(Ceremonies, ForgetAnExpiredCeremony)
{
    Ceremonies c({4, 100});
    const auto id = c.put("alice", pending("one", t0 + std::chrono::seconds(60)), t0);
    ASSERT_TRUE(id);
    EXPECT_FALSE(c.take(*id, "alice", t0 + std::chrono::seconds(60)));
    EXPECT_EQ(c.size(), 0U); // and taking it removed it
    ASSERT_TRUE(c.put("alice", pending("two", t0 + std::chrono::seconds(60)), t0));
    ASSERT_TRUE(c.put("bob", pending("three"), t0 + std::chrono::seconds(61)));
    EXPECT_EQ(c.size(), 1U); // the next put forgot alice's expired one
}

TEST(Ceremonies, LetAUsersOldestCeremonyGiveWayToItsNewest)
{
    Ceremonies c({2, 100});
    const auto first = c.put("alice", pending("1"), t0);
    const auto second = c.put("alice", pending("2"), t0);
    const auto third = c.put("alice", pending("3"), t0);
    ASSERT_TRUE(first && second && third);
    EXPECT_EQ(c.size(), 2U);
    EXPECT_FALSE(c.take(*first, "alice", t0));
    EXPECT_EQ(c.take(*second, "alice", t0)->challenge, "2");
    EXPECT_EQ(c.take(*third, "alice", t0)->challenge, "3");
}

TEST(Ceremonies, RefuseNewOwnersWhenTheTotalIsReached)
{
    Ceremonies c({2, 3});
    for (const char* owner : {"a", "b", "c"})
        ASSERT_TRUE(c.put(owner, pending(owner), t0));
    const auto full = c.put("d", pending("d"), t0);
    ASSERT_FALSE(full);
    EXPECT_TRUE(full.error().is(core::Errc::daemon_busy));
    // An owner already holding one replaces nothing and is refused too, until one is taken.
    EXPECT_FALSE(c.put("a", pending("a2"), t0));
    EXPECT_EQ(c.size(), 3U);
}

TEST(Ceremonies, HandOutEachCeremonyToOneThreadOnly)
{
    Ceremonies c({1000, 1000});
    std::vector<std::string> ids;
    for (int i = 0; i < 200; ++i)
        ids.push_back(*c.put("alice", pending(std::to_string(i)), t0));
    std::atomic<int> taken{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t)
        threads.emplace_back([&] {
            for (const auto& id : ids)
                if (c.take(id, "alice", t0))
                    ++taken;
        });
    for (auto& t : threads)
        t.join();
    EXPECT_EQ(taken.load(), 200);
}

} // namespace
} // namespace latchkey::credentials
