// SPDX-License-Identifier: Apache-2.0
// The PostgreSQL schema and its migrations, and the libpq layer's errors, on a real server the
// test starts itself (pg_server.hpp).
#include "storage/postgres/migrations.hpp"

#include <atomic>
#include <memory>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "storage/postgres/pg.hpp"
#include "tests/storage/postgres/pg_server.hpp"

namespace latchkey::postgres {
namespace {

using core::Errc;

class Migrations : public ::testing::Test {
protected:
    void SetUp() override
    {
        conninfo_ = test_support::shared_server().fresh_database();
        auto c = Connection::open(conninfo_);
        ASSERT_TRUE(c) << c.error().message;
        conn_ = std::make_unique<Connection>(std::move(*c));
    }

    std::int64_t count(const char* sql)
    {
        auto r = conn_->query(sql);
        EXPECT_TRUE(r) << (r ? "" : r.error().message);
        return r ? r->int64(0, 0) : -1;
    }

    core::Status insert_account(const char* id, const char* name, const char* kind)
    {
        auto r = conn_->query(
            "INSERT INTO accounts (id, directory_id, name, kind, created_at, policy_min_length, "
            "policy_require_lowercase, policy_require_uppercase, policy_require_digit, "
            "policy_require_symbol, policy_max_age_days, policy_history, "
            "policy_max_failed_per_hour, policy_hard_expiry, settings_allow_change_password, "
            "settings_allow_passkey_logon, settings_allow_manage_mfa, settings_mfa_required, "
            "settings_session_duration_s, settings_allowed_networks) VALUES ($1, 'd', $2, $3, 0, "
            "8, true, true, true, true, 0, 0, 5, false, true, true, true, false, 21600, '[]')",
            params(id, name, kind));
        if (!r)
            return core::fail(std::move(r).error());
        return {};
    }

    std::string conninfo_;
    std::unique_ptr<Connection> conn_;
};

TEST_F(Migrations, AnEmptyDatabaseIsMigratedToTheLatestVersionOnce)
{
    EXPECT_EQ(schema_version(*conn_).value(), 0U);
    ASSERT_TRUE(migrate(*conn_)) << test_support::shared_server().log();
    EXPECT_EQ(schema_version(*conn_).value(), latest_schema_version);
    EXPECT_EQ(count("SELECT count(*) FROM information_schema.tables WHERE table_schema = "
                    "'public' AND table_name IN ('directory', 'accounts', 'users', 'audit', "
                    "'passkeys', 'unix_groups', 'retired_uids')"),
              7);
    ASSERT_TRUE(migrate(*conn_)) << "again: nothing to do";
    EXPECT_EQ(count("SELECT count(*) FROM latchkey_schema"), 1);
}

TEST_F(Migrations, NodesStartingTogetherMigrateOnce)
{
    std::vector<std::thread> nodes;
    std::atomic<int> ok{0};
    for (int i = 0; i < 4; ++i)
        nodes.emplace_back([&] {
            auto c = Connection::open(conninfo_);
            if (c && migrate(*c))
                ++ok;
        });
    for (auto& t : nodes)
        t.join();
    EXPECT_EQ(ok.load(), 4) << test_support::shared_server().log();
    EXPECT_EQ(schema_version(*conn_).value(), latest_schema_version);
}

TEST_F(Migrations, ADatabaseOfANewerLatchkeyIsLeftAlone)
{
    ASSERT_TRUE(migrate(*conn_));
    ASSERT_TRUE(conn_->exec("UPDATE latchkey_schema SET version = 99"));
    const auto st = migrate(*conn_);
    ASSERT_FALSE(st);
    EXPECT_TRUE(st.error().is(Errc::store_schema));
    EXPECT_NE(st.error().message.find("newer than this latchkey"), std::string::npos);
    EXPECT_EQ(count("SELECT version FROM latchkey_schema"), 99);
}

TEST_F(Migrations, TheSchemaKeepsTheDirectorysRules)
{
    ASSERT_TRUE(migrate(*conn_));
    {
        auto txn = Transaction::begin(*conn_);
        ASSERT_TRUE(txn);
        ASSERT_TRUE(conn_->exec("INSERT INTO directory (id, domain, management_account_id, "
                                "created_at) VALUES ('d', 'example.internal', 'a1', 0)"));
        ASSERT_TRUE(insert_account("a1", "management", "management"));
        ASSERT_TRUE(txn->commit());
    }
    const char* user = "INSERT INTO users (id, account_id, name, display_name, console_logon, "
                       "password_hash, require_change, created_at, uid) VALUES ($1, 'a1', $2, "
                       "'', true, '', false, 0, $3)";
    ASSERT_TRUE(conn_->query(user, params("u1", "alice", 200000)));
    // No directory user is ever root; names are unique in an account; a deleted uid is retired.
    const auto root = conn_->query(user, params("u2", "bob", 0));
    ASSERT_FALSE(root);
    EXPECT_TRUE(root.error().is(Errc::store_failed));
    EXPECT_NE(root.error().message.find("23514"), std::string::npos) << root.error().message;
    const auto twice = conn_->query(user, params("u3", "alice", std::nullopt));
    ASSERT_FALSE(twice);
    EXPECT_TRUE(twice.error().is(Errc::already_exists)) << twice.error().message;
    ASSERT_TRUE(conn_->query("DELETE FROM users WHERE id = 'u1'"));
    EXPECT_EQ(count("SELECT count(*) FROM retired_uids WHERE uid = 200000 AND user_name = 'alice'"),
              1);
    // Account names differ in more than case; one management account.
    const auto again = insert_account("a2", "Management", "resource");
    ASSERT_FALSE(again);
    EXPECT_TRUE(again.error().is(Errc::already_exists));
}

TEST_F(Migrations, ALostConnectionIsStoreUnavailableAndARolledBackTransactionLeavesNothing)
{
    ASSERT_TRUE(migrate(*conn_));
    {
        auto txn = Transaction::begin(*conn_);
        ASSERT_TRUE(txn);
        ASSERT_TRUE(conn_->query("INSERT INTO unix_groups VALUES ('g', 300000)"));
        // No commit: rolled back when it goes.
    }
    EXPECT_EQ(count("SELECT count(*) FROM unix_groups"), 0);

    auto other = Connection::open(conninfo_);
    ASSERT_TRUE(other);
    const auto pid = conn_->query("SELECT pg_backend_pid()").value().int64(0, 0);
    ASSERT_TRUE(other->query("SELECT pg_terminate_backend($1)", params(pid)));
    const auto lost = conn_->query("SELECT 1");
    ASSERT_FALSE(lost);
    EXPECT_TRUE(lost.error().is(Errc::store_unavailable)) << lost.error().message;
    EXPECT_FALSE(conn_->ok());

    const auto nobody = Connection::open("host=/nonexistent dbname=x user=latchkey");
    ASSERT_FALSE(nobody);
    EXPECT_TRUE(nobody.error().is(Errc::store_unavailable));
}

} // namespace
} // namespace latchkey::postgres
