// SPDX-License-Identifier: Apache-2.0
// What only PostgreSQL adds to the store: several nodes (PgStore objects, as several latchkeyd
// processes would hold them) on one database keeping the rules one process kept alone, a
// bounded pool, and connections that come back by themselves after the server cut them or
// went away. Everything else is the contract (tests/storage/store_contract_test.cpp).
#include "storage/postgres/pg_store.hpp"

#include <atomic>
#include <chrono>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "tests/storage/postgres/pg_server.hpp"
#include "tests/storage/store_fixture.hpp"

namespace latchkey::postgres {
namespace {

using namespace store_test;

TEST(DollarParameters, NumberedLikePostgresOutsideQuotedText)
{
    EXPECT_EQ(dollar_parameters("SELECT a FROM t WHERE b = ?1 AND c = ?12"),
              "SELECT a FROM t WHERE b = $1 AND c = $12");
    EXPECT_EQ(dollar_parameters("SELECT '?1', \"?2\" FROM t WHERE x = ?3"),
              "SELECT '?1', \"?2\" FROM t WHERE x = $3");
    EXPECT_EQ(dollar_parameters("SELECT 'it''s ?1' WHERE y = ?2"),
              "SELECT 'it''s ?1' WHERE y = $2");
    EXPECT_EQ(dollar_parameters("SELECT ? FROM t"), "SELECT ? FROM t");
}

/// Two nodes on one fresh database holding the directory and user u1 (alice).
class TwoNodes : public ::testing::Test {
protected:
    void SetUp() override
    {
        conninfo_ = test_support::shared_server().fresh_database();
        a_ = open();
        b_ = open();
        ASSERT_TRUE(a_ && b_);
        ASSERT_TRUE(ok(
            a_->create_directory(make_directory(), make_account("acc-mgmt", "management",
                                                                proto::AccountKind::management))));
        ASSERT_TRUE(ok(a_->create_user(make_user("u1", "acc-mgmt", "alice"))));
    }

    std::unique_ptr<PgStore> open(PoolOptions options = {})
    {
        auto store = PgStore::open(conninfo_, options);
        EXPECT_TRUE(ok(store));
        return store ? std::move(store).value() : nullptr;
    }

    /// How many connections latchkey holds to this test's database.
    std::int64_t connections()
    {
        auto c = Connection::open(test_support::shared_server().conninfo());
        const auto ours = c->query("SELECT count(*) FROM pg_stat_activity WHERE "
                                   "application_name = 'latchkeyd' AND datname = $1",
                                   params(database()));
        return ours->int64(0, 0);
    }

    [[nodiscard]] std::string database() const
    {
        const auto at = conninfo_.find("dbname=");
        return conninfo_.substr(at + 7, conninfo_.find(' ', at) - at - 7);
    }

    std::string conninfo_;
    std::unique_ptr<PgStore> a_;
    std::unique_ptr<PgStore> b_;
};

TEST_F(TwoNodes, SeeEachOthersWritesAtOnce)
{
    ASSERT_TRUE(ok(b_->set_console_logon("u1", true)));
    EXPECT_TRUE(a_->user_by_id("u1").value()->console_logon);
    ASSERT_TRUE(ok(a_->create_user(make_user("u2", "acc-mgmt", "bob"))));
    EXPECT_TRUE(b_->user_by_name("acc-mgmt", "bob").value().has_value());
}

TEST_F(TwoNodes, ATotpStepAcceptedOnOneIsAReplayOnTheOther)
{
    directory::MfaDeviceRecord device;
    device.id = "d1";
    device.user_id = "u1";
    device.sealed_secret = "sealed";
    device.created_at = t0;
    ASSERT_TRUE(ok(a_->add_mfa_device(device, {"r1", "r2"})));

    EXPECT_TRUE(a_->use_totp_step("d1", 1000).value());
    EXPECT_FALSE(b_->use_totp_step("d1", 1000).value());
    EXPECT_FALSE(b_->use_totp_step("d1", 999).value());
    EXPECT_TRUE(b_->use_totp_step("d1", 1001).value());

    // The same step offered on both at once: exactly one wins.
    for (std::int64_t step = 2000; step < 2020; ++step) {
        std::atomic<int> accepted{0};
        std::thread on_a([&] { accepted += a_->use_totp_step("d1", step).value() ? 1 : 0; });
        std::thread on_b([&] { accepted += b_->use_totp_step("d1", step).value() ? 1 : 0; });
        on_a.join();
        on_b.join();
        EXPECT_EQ(accepted.load(), 1) << "step " << step;
    }

    EXPECT_TRUE(b_->use_recovery_code("u1", "r1", t0).value());
    EXPECT_FALSE(a_->use_recovery_code("u1", "r1", t0).value());
    EXPECT_EQ(a_->recovery_codes_left("u1").value(), 1U);
}

TEST_F(TwoNodes, RedeemAnAuthorizationCodeOnceBetweenThem)
{
    directory::OidcClientRecord client;
    client.id = "app";
    client.name = "App";
    client.secret_hash = "h";
    client.created_at = t0;
    ASSERT_TRUE(ok(a_->add_oidc_client(client)));
    auto web = make_session("w1", "u1", 1'700'000'000);
    web.service = "oidc";
    web.kind = directory::SessionKind::web;
    web.secret_hash = "cookie-hash";
    web.expires_at = core::from_unix(1'700'003'600);
    ASSERT_TRUE(ok(a_->create_session(web)));
    for (int i = 0; i < 20; ++i) {
        directory::AuthCodeRecord code;
        code.code_hash = "code-" + std::to_string(i);
        code.client_id = "app";
        code.user_id = "u1";
        code.session_id = "w1";
        code.redirect_uri = "https://app.example.com/cb";
        code.auth_time = t0;
        code.method = "pwd";
        code.expires_at = t0 + std::chrono::seconds(60);
        code.keep_until = t0 + std::chrono::seconds(120);
        ASSERT_TRUE(ok(a_->add_auth_code(code)));
        // The browser came back to node A; the client exchanges the code at both at once.
        std::atomic<int> won{0};
        std::thread on_a([&] { won += a_->use_auth_code(code.code_hash, "fa").value() ? 1 : 0; });
        std::thread on_b([&] { won += b_->use_auth_code(code.code_hash, "fb").value() ? 1 : 0; });
        on_a.join();
        on_b.join();
        EXPECT_EQ(won.load(), 1) << code.code_hash;
        EXPECT_TRUE(b_->auth_code(code.code_hash).value()->used);
    }
}

TEST_F(TwoNodes, GiveASignInInProgressToOneOfThemOnly)
{
    const auto until = t0 + std::chrono::seconds(600);
    for (int i = 0; i < 20; ++i) {
        const std::string key = "tx-" + std::to_string(i);
        ASSERT_TRUE(ok(a_->put_pending({directory::PendingKind::sign_in, key, "state", until})));
        // The browser's form is sent twice, to both nodes at once.
        std::atomic<int> got{0};
        const auto take = [&](directory::Store& s) {
            auto t = s.take_pending(directory::PendingKind::sign_in, key, t0);
            got += t && t->has_value() ? 1 : 0;
        };
        std::thread on_a([&] { take(*a_); });
        std::thread on_b([&] { take(*b_); });
        on_a.join();
        on_b.join();
        EXPECT_EQ(got.load(), 1) << key;
    }
}

TEST_F(TwoNodes, FailuresOnBothAddUpToOneLockout)
{
    constexpr std::uint32_t limit = 10;
    const core::TimePoint until = t0 + std::chrono::hours(1);
    std::atomic<int> locks{0};
    std::atomic<int> errors{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 8; ++t) {
        threads.emplace_back([&, t] {
            PgStore& node = t % 2 == 0 ? *a_ : *b_;
            for (int i = 0; i < 5; ++i) {
                const auto tally = node.record_failure("u1", t0, t0, limit, until);
                if (!tally)
                    ++errors;
                else if (tally->locked_now)
                    ++locks;
            }
        });
    }
    for (auto& t : threads)
        t.join();
    EXPECT_EQ(errors.load(), 0);
    // 40 failures on two nodes: each counted once, the limit reached once.
    EXPECT_EQ(locks.load(), 1);
    EXPECT_EQ(a_->record_failure("u1", t0, t0, limit, until)->failures, 41U);
    EXPECT_EQ(b_->user_by_id("u1").value()->locked_until, until);
}

TEST_F(TwoNodes, NeverGiveOneUidTwice)
{
    std::vector<std::string> ids;
    for (int i = 0; i < 24; ++i) {
        ids.push_back("n" + std::to_string(i));
        ASSERT_TRUE(ok(a_->create_user(make_user(ids.back(), "acc-mgmt", ids.back()))));
    }
    std::vector<std::uint32_t> uids(ids.size());
    std::atomic<int> errors{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&, t] {
            PgStore& node = t % 2 == 0 ? *a_ : *b_;
            for (std::size_t i = static_cast<std::size_t>(t); i < ids.size(); i += 4) {
                const auto uid = node.assign_uid(ids[i], {200000, 299999});
                if (uid)
                    uids[i] = *uid;
                else
                    ++errors;
            }
        });
    }
    for (auto& t : threads)
        t.join();
    EXPECT_EQ(errors.load(), 0);
    EXPECT_EQ(std::set<std::uint32_t>(uids.begin(), uids.end()).size(), ids.size());
}

TEST_F(TwoNodes, HoldNoMoreConnectionsThanThePoolAllows)
{
    PoolOptions small;
    small.size = 2;
    a_ = open(small);
    b_.reset();
    std::atomic<int> errors{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 8; ++t) {
        threads.emplace_back([&] {
            for (int i = 0; i < 25; ++i)
                if (!a_->user_by_id("u1"))
                    ++errors;
        });
    }
    for (auto& t : threads)
        t.join();
    EXPECT_EQ(errors.load(), 0);
    EXPECT_LE(connections(), 2);
}

TEST_F(TwoNodes, ComeBackByThemselvesWhenTheServerCutsTheirConnections)
{
    ASSERT_TRUE(a_->user_by_id("u1").value().has_value());
    {
        auto admin = Connection::open(test_support::shared_server().conninfo());
        ASSERT_TRUE(admin);
        ASSERT_TRUE(admin->query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                 "WHERE application_name = 'latchkeyd' AND pid <> pg_backend_pid()"));
    }
    // A read and a write each find their connection gone, reconnect and run again.
    EXPECT_TRUE(ok(a_->user_by_id("u1")));
    EXPECT_TRUE(ok(a_->set_console_logon("u1", true)));
    EXPECT_TRUE(b_->user_by_id("u1").value()->console_logon);
}

TEST_F(TwoNodes, FailWithinBoundsWhileTheServerIsDownAndRecoverAfter)
{
    auto& server = test_support::shared_server();
    server.stop();
    const auto started = std::chrono::steady_clock::now();
    const auto during = a_->user_by_id("u1");
    const auto took = std::chrono::steady_clock::now() - started;
    const auto write = b_->set_console_logon("u1", true);
    server.start();
    EXPECT_TRUE(fails_with(during, Errc::store_unavailable));
    EXPECT_TRUE(fails_with(write, Errc::store_unavailable));
    // Tries a few times with growing pauses, then says so: well inside a PAM conversation.
    EXPECT_LT(took, std::chrono::seconds(3));

    // Once the server is back, the same stores work again without being reopened.
    EXPECT_TRUE(a_->user_by_id("u1").value().has_value());
    EXPECT_TRUE(ok(b_->set_console_logon("u1", true)));
    EXPECT_TRUE(a_->user_by_id("u1").value()->console_logon);
}

} // namespace
} // namespace latchkey::postgres
