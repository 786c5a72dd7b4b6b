// SPDX-License-Identifier: Apache-2.0
// Schema migrations on a real database file: order, atomicity, and refusing the future.
#include "storage/sqlite/migrations.hpp"

#include <cstdint>
#include <filesystem>
#include <stdexcept>
#include <string>

#include <sqlite3.h>

#include <gtest/gtest.h>

#include "storage/sqlite/sqlite.hpp"
#include "tests/temp_dir.hpp"

namespace latchkey::sqlite {
namespace {

using core::Errc;

using test_support::TempDir;

template <class T>
::testing::AssertionResult ok(const core::Result<T>& r)
{
    if (r)
        return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << r.error().code.message() << ": " << r.error().message;
}

class Migrations : public ::testing::Test {
protected:
    void SetUp() override
    {
        sqlite3* raw = nullptr;
        const int rc = sqlite3_open_v2(dir_.file("test.db").c_str(), &raw,
                                       SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
        db_.reset(raw);
        ASSERT_EQ(rc, SQLITE_OK);
        ASSERT_TRUE(ok(exec(db(), "PRAGMA foreign_keys = ON")));
    }

    [[nodiscard]] sqlite3* db() const { return db_.get(); }

    [[nodiscard]] std::uint32_t version() const { return schema_version(db()).value(); }

    [[nodiscard]] bool has_table(const std::string& name) const { return has("table", name); }

    [[nodiscard]] bool has_index(const std::string& name) const { return has("index", name); }

    /// Whether the schema has an object of `type` ("table", "index") named `name`.
    [[nodiscard]] bool has(const std::string& type, const std::string& name) const
    {
        auto stmt = Statement::prepare(
            db(), "SELECT 1 FROM sqlite_schema WHERE type = ?1 AND name = ?2");
        if (!stmt || !stmt->bind_text(1, type) || !stmt->bind_text(2, name))
            throw std::runtime_error("query failed");
        return stmt->step().value();
    }

    [[nodiscard]] bool has_column(const std::string& table, const std::string& column) const
    {
        auto stmt = Statement::prepare(db(), "SELECT 1 FROM pragma_table_info(?1) WHERE name = ?2");
        if (!stmt || !stmt->bind_text(1, table) || !stmt->bind_text(2, column))
            throw std::runtime_error("query failed");
        return stmt->step().value();
    }

    [[nodiscard]] std::int64_t count(const std::string& sql) const
    {
        auto stmt = Statement::prepare(db(), sql);
        if (!stmt || !stmt->step().value())
            throw std::runtime_error("query failed: " + sql);
        return stmt->int64(0);
    }

    TempDir dir_;
    SqliteDb db_;
};

TEST_F(Migrations, StartAtVersionZeroForANewFile)
{
    EXPECT_EQ(version(), 0U);
}

TEST_F(Migrations, BringANewDatabaseToTheLatestVersion)
{
    ASSERT_TRUE(ok(migrate(db())));
    EXPECT_EQ(version(), latest_schema_version);
    for (const char* table : {"directory", "accounts", "domains", "users", "password_history",
                              "audit", "logon_failures", "sessions", "roles",
                              "verification_codes", "codes_sent"})
        EXPECT_TRUE(has_table(table)) << table;
    EXPECT_TRUE(has_column("users", "locked_until"));
    EXPECT_TRUE(has_column("directory", "root_access_centralized"));
    for (const char* column : {"phone", "closed_at", "recovery_open_until"})
        EXPECT_TRUE(has_column("accounts", column)) << column;
}

TEST_F(Migrations, StopAtTheTargetVersion)
{
    ASSERT_TRUE(ok(migrate(db(), 1)));
    EXPECT_EQ(version(), 1U);
    EXPECT_TRUE(has_table("accounts"));
    EXPECT_TRUE(has_table("domains"));
    EXPECT_TRUE(has_table("users"));
    EXPECT_FALSE(has_table("password_history"));
    EXPECT_FALSE(has_table("audit"));

    ASSERT_TRUE(ok(migrate(db(), 2)));
    EXPECT_EQ(version(), 2U);
    EXPECT_TRUE(has_table("password_history"));
    EXPECT_TRUE(has_table("audit"));
    EXPECT_FALSE(has_column("users", "locked_until"));
    EXPECT_FALSE(has_table("logon_failures"));
    EXPECT_FALSE(has_table("sessions"));

    ASSERT_TRUE(ok(migrate(db(), 3)));
    EXPECT_EQ(version(), 3U);
    EXPECT_TRUE(has_column("users", "locked_until"));
    EXPECT_TRUE(has_table("logon_failures"));
    EXPECT_TRUE(has_table("sessions"));
    EXPECT_TRUE(has_index("logon_failures_by_user"));
    EXPECT_TRUE(has_index("sessions_open_by_user"));
}

TEST_F(Migrations, DoNothingWhenAlreadyCurrent)
{
    ASSERT_TRUE(ok(migrate(db())));
    ASSERT_TRUE(ok(migrate(db())));
    EXPECT_EQ(version(), latest_schema_version);
    // An older target never downgrades.
    ASSERT_TRUE(ok(migrate(db(), 1)));
    EXPECT_EQ(version(), latest_schema_version);
}

TEST_F(Migrations, RefuseADatabaseWrittenByANewerLatchkey)
{
    ASSERT_TRUE(ok(exec(db(), "PRAGMA user_version = 42")));
    const auto migrated = migrate(db());
    ASSERT_FALSE(migrated);
    EXPECT_TRUE(migrated.error().is(Errc::store_schema));
    EXPECT_NE(migrated.error().message.find("42"), std::string::npos);
    EXPECT_NE(migrated.error().message.find("newer"), std::string::npos);
    EXPECT_EQ(version(), 42U);
}

TEST_F(Migrations, RefuseATargetBeyondTheLatestVersion)
{
    const auto migrated = migrate(db(), latest_schema_version + 1);
    ASSERT_FALSE(migrated);
    EXPECT_TRUE(migrated.error().is(Errc::store_schema));
    EXPECT_EQ(version(), 0U);
}

TEST_F(Migrations, RollBackAFailedMigrationAndKeepThePreviousVersion)
{
    ASSERT_TRUE(ok(migrate(db(), 1)));
    // Something in the way of migration 2's second table: the first must not survive either.
    ASSERT_TRUE(ok(exec(db(), "CREATE TABLE audit (x)")));
    const auto migrated = migrate(db());
    ASSERT_FALSE(migrated);
    EXPECT_TRUE(migrated.error().is(Errc::store_failed));
    EXPECT_NE(migrated.error().message.find("schema version 2"), std::string::npos)
        << migrated.error().message;
    EXPECT_EQ(version(), 1U);
    EXPECT_FALSE(has_table("password_history"));
}

TEST_F(Migrations, MakeADomainBelongToOneAccountOnly)
{
    ASSERT_TRUE(ok(migrate(db())));
    ASSERT_TRUE(ok(exec(db(), R"sql(
        BEGIN;
        INSERT INTO directory (id, domain, management_account_id, created_at)
            VALUES ('d', 'example.internal', 'a1', 0);
        INSERT INTO accounts VALUES ('a1', 'd', 'one', 'management', 0,
            8, 1, 1, 1, 1, 0, 0, 5, 0, 1, 1, 1, 0, 21600, '[]', 0, NULL, NULL, NULL, 'off');
        INSERT INTO accounts VALUES ('a2', 'd', 'two', 'resource', 0,
            8, 1, 1, 1, 1, 0, 0, 5, 0, 1, 1, 1, 0, 21600, '[]', 0, NULL, NULL, NULL, 'off');
        INSERT INTO domains VALUES ('one.example.internal', 'a1', 1);
        COMMIT;
    )sql")));
    const auto taken = exec(db(), "INSERT INTO domains VALUES ('one.example.internal', 'a2', 0)");
    ASSERT_FALSE(taken);
    EXPECT_TRUE(taken.error().is(Errc::already_exists));
    // And one default domain per account.
    const auto second_default =
        exec(db(), "INSERT INTO domains VALUES ('uno.example.internal', 'a1', 1)");
    ASSERT_FALSE(second_default);
    EXPECT_TRUE(second_default.error().is(Errc::already_exists));
}

TEST_F(Migrations, CascadeUserDeletionToHistoryFailuresAndSessions)
{
    ASSERT_TRUE(ok(migrate(db())));
    ASSERT_TRUE(ok(exec(db(), R"sql(
        BEGIN;
        INSERT INTO directory (id, domain, management_account_id, created_at)
            VALUES ('d', 'example.internal', 'a1', 0);
        INSERT INTO accounts VALUES ('a1', 'd', 'one', 'management', 0,
            8, 1, 1, 1, 1, 0, 0, 5, 0, 1, 1, 1, 0, 21600, '[]', 0, NULL, NULL, NULL, 'off');
        INSERT INTO users (id, account_id, name, display_name, console_logon, password_hash,
                           password_set_at, require_change, created_at)
            VALUES ('u1', 'a1', 'alice', '', 1, 'h2', 2, 0, 0);
        INSERT INTO password_history (user_id, hash, set_at) VALUES ('u1', 'h1', 1);
        INSERT INTO logon_failures (user_id, at) VALUES ('u1', 5);
        INSERT INTO sessions (id, user_id, service, pid, opened_at)
            VALUES ('s1', 'u1', 'sshd', 42, 6);
        COMMIT;
        DELETE FROM users WHERE id = 'u1';
    )sql")));
    EXPECT_EQ(count("SELECT count(*) FROM password_history"), 0);
    EXPECT_EQ(count("SELECT count(*) FROM logon_failures"), 0);
    EXPECT_EQ(count("SELECT count(*) FROM sessions"), 0);
}

TEST_F(Migrations, UpgradeAVersion2DatabaseKeepingItsRows)
{
    ASSERT_TRUE(ok(migrate(db(), 2)));
    // Rows as version 2 wrote them: users without locked_until.
    ASSERT_TRUE(ok(exec(db(), R"sql(
        BEGIN;
        INSERT INTO directory (id, domain, management_account_id, created_at)
            VALUES ('d', 'example.internal', 'a1', 0);
        INSERT INTO accounts VALUES ('a1', 'd', 'one', 'management', 0,
            8, 1, 1, 1, 1, 0, 0, 5, 0, 1, 1, 1, 0, 21600, '[]');
        INSERT INTO users VALUES ('u1', 'a1', 'alice', 'Alice', 1, 'h2', 2, 0, 0);
        INSERT INTO password_history (user_id, hash, set_at) VALUES ('u1', 'h1', 1);
        INSERT INTO audit (at, severity, event, user_name, fields)
            VALUES (7, 1, 'user.create', 'alice', '{"user":"alice"}');
        COMMIT;
    )sql")));

    ASSERT_TRUE(ok(migrate(db(), 3)));
    EXPECT_EQ(version(), 3U);
    EXPECT_EQ(count("SELECT count(*) FROM users WHERE id = 'u1' AND password_hash = 'h2' "
                    "AND locked_until IS NULL"),
              1);
    EXPECT_EQ(count("SELECT count(*) FROM password_history WHERE user_id = 'u1'"), 1);
    EXPECT_EQ(count("SELECT count(*) FROM audit"), 1);
    // The new tables accept rows for the old user.
    ASSERT_TRUE(ok(exec(db(), R"sql(
        UPDATE users SET locked_until = 100 WHERE id = 'u1';
        INSERT INTO logon_failures (user_id, at) VALUES ('u1', 5);
        INSERT INTO sessions (id, user_id, service, pid, opened_at)
            VALUES ('s1', 'u1', 'sshd', 42, 6);
    )sql")));
    EXPECT_EQ(count("SELECT locked_until FROM users WHERE id = 'u1'"), 100);
}

TEST_F(Migrations, StopAtVersion7WithoutTheLifecycleTables)
{
    ASSERT_TRUE(ok(migrate(db(), 7)));
    EXPECT_EQ(version(), 7U);
    EXPECT_FALSE(has_column("directory", "root_access_centralized"));
    EXPECT_FALSE(has_column("accounts", "phone"));
    EXPECT_FALSE(has_table("roles"));
    EXPECT_FALSE(has_table("verification_codes"));
    EXPECT_FALSE(has_table("codes_sent"));

    ASSERT_TRUE(ok(migrate(db(), 8)));
    EXPECT_EQ(version(), 8U);
    EXPECT_TRUE(has_column("directory", "root_access_centralized"));
    EXPECT_TRUE(has_column("accounts", "recovery_open_until"));
    EXPECT_TRUE(has_table("roles"));
}

TEST_F(Migrations, Version9AddsTheFamilyAccessTokens)
{
    ASSERT_TRUE(ok(migrate(db(), 8)));
    EXPECT_FALSE(has_table("oidc_family_access_tokens"));
    ASSERT_TRUE(ok(migrate(db(), 9)));
    EXPECT_EQ(version(), 9U);
    EXPECT_TRUE(has_table("oidc_family_access_tokens"));
    EXPECT_FALSE(ok(exec(db(), "INSERT INTO oidc_family_access_tokens VALUES ('', 'f', 1)")));
}

TEST_F(Migrations, Version11NamesEachPasskeysRelyingPartyAndOlderOnesAreWebPasskeys)
{
    ASSERT_TRUE(ok(migrate(db(), 10)));
    // The passkey alone matters here: its user's rows are left out.
    ASSERT_TRUE(ok(exec(db(), R"sql(
        PRAGMA foreign_keys = OFF;
        INSERT INTO passkeys VALUES ('p1', 'u1', 'Y3JlZA', 'cGs=', -7, 3,
            '00000000000000000000000000000000', '[]', 0, 0, 1, 'none', 'Key', 0, NULL);
    )sql")));
    ASSERT_TRUE(ok(migrate(db(), 11)));
    EXPECT_EQ(count("SELECT count(*) FROM passkeys WHERE id = 'p1' AND relying_party = 'web'"), 1);
    EXPECT_TRUE(ok(exec(db(), "UPDATE passkeys SET relying_party = 'host'")));
    EXPECT_FALSE(ok(exec(db(), "UPDATE passkeys SET relying_party = 'elsewhere'")));
}

TEST_F(Migrations, Version12GivesEveryAccountDeviceApprovalOff)
{
    ASSERT_TRUE(ok(migrate(db(), 11)));
    ASSERT_TRUE(ok(exec(db(), R"sql(
        BEGIN;
        INSERT INTO directory (id, domain, management_account_id, created_at)
            VALUES ('d', 'example.internal', 'a1', 0);
        INSERT INTO accounts VALUES ('a1', 'd', 'one', 'management', 0,
            8, 1, 1, 1, 1, 0, 0, 5, 0, 1, 1, 1, 0, 21600, '[]', 0, NULL, NULL, NULL);
        COMMIT;
    )sql")));
    ASSERT_TRUE(ok(migrate(db(), 12)));
    EXPECT_EQ(count("SELECT count(*) FROM accounts WHERE settings_device_approval = 'off'"), 1);
    EXPECT_TRUE(ok(exec(db(), "UPDATE accounts SET settings_device_approval = 'after_password'")));
    EXPECT_FALSE(ok(exec(db(), "UPDATE accounts SET settings_device_approval = 'sometimes'")));
}

TEST_F(Migrations, Version13GivesUsersNoUidUntilOneIsAssigned)
{
    ASSERT_TRUE(ok(migrate(db(), 12)));
    ASSERT_TRUE(ok(exec(db(), R"sql(
        PRAGMA foreign_keys = OFF;
        INSERT INTO users (id, account_id, name, display_name, console_logon, password_hash,
                           require_change, created_at)
            VALUES ('u1', 'a1', 'alice', '', 1, '', 0, 0);
    )sql")));
    ASSERT_TRUE(ok(migrate(db(), 13)));
    EXPECT_EQ(count("SELECT count(*) FROM users WHERE uid IS NULL"), 1);
    EXPECT_TRUE(ok(exec(db(), "UPDATE users SET uid = 200000")));
    EXPECT_TRUE(ok(exec(db(), "DELETE FROM users")));
    EXPECT_EQ(count("SELECT count(*) FROM retired_uids WHERE uid = 200000 AND user_name = 'alice'"),
              1);
}

TEST_F(Migrations, Version14KeepsUsersOnTheDefaultHomeAndShell)
{
    ASSERT_TRUE(ok(migrate(db(), 13)));
    ASSERT_TRUE(ok(exec(db(), R"sql(
        PRAGMA foreign_keys = OFF;
        INSERT INTO users (id, account_id, name, display_name, console_logon, password_hash,
                           require_change, created_at, uid)
            VALUES ('u1', 'a1', 'alice', '', 1, '', 0, 0, 200000);
    )sql")));
    ASSERT_TRUE(ok(migrate(db(), 14)));
    EXPECT_EQ(count("SELECT count(*) FROM users WHERE home IS NULL AND shell IS NULL"), 1);
    EXPECT_TRUE(ok(exec(db(), "INSERT INTO unix_groups VALUES ('latchkey-sudo', 200001)")));
    EXPECT_FALSE(ok(exec(db(), "INSERT INTO unix_groups VALUES ('other', 200001)")));
    EXPECT_FALSE(ok(exec(db(), "INSERT INTO unix_groups VALUES ('wheel', 0)")));
}

TEST_F(Migrations, Version15AddsAuthorizationCodesThatGoWithTheirSession)
{
    ASSERT_TRUE(ok(migrate(db(), 14)));
    ASSERT_TRUE(ok(exec(db(), R"sql(
        PRAGMA foreign_keys = OFF;
        INSERT INTO sessions (id, user_id, service, pid, opened_at) VALUES ('s1', 'u1', 'oidc', 0, 0);
    )sql")));
    ASSERT_TRUE(ok(migrate(db(), 15)));
    ASSERT_TRUE(ok(exec(db(), R"sql(
        INSERT INTO oidc_codes VALUES ('h1', 'app', 'u1', 's1', 'https://a/cb', '[]', NULL, NULL,
                                       0, 'pwd', 60, 120, 0, NULL);
        INSERT INTO oidc_code_tokens VALUES ('h1', 'jti-1');
    )sql")));
    EXPECT_FALSE(ok(exec(db(), "UPDATE oidc_codes SET used = 2")));
    EXPECT_FALSE(ok(exec(db(), "INSERT INTO oidc_codes (code_hash) VALUES ('')")));
    ASSERT_TRUE(ok(exec(db(), "PRAGMA foreign_keys = ON; DELETE FROM sessions WHERE id = 's1'")));
    EXPECT_EQ(count("SELECT count(*) FROM oidc_codes"), 0);
    EXPECT_EQ(count("SELECT count(*) FROM oidc_code_tokens"), 0);
}

TEST_F(Migrations, Version16AddsPendingWorkOfKnownKinds)
{
    ASSERT_TRUE(ok(migrate(db(), 16)));
    ASSERT_TRUE(ok(exec(db(), "INSERT INTO web_pending VALUES ('sign_in', 'k', 'AA==', 60)")));
    EXPECT_FALSE(ok(exec(db(), "INSERT INTO web_pending VALUES ('sign_in', 'k', 'AA==', 60)")));
    EXPECT_FALSE(ok(exec(db(), "INSERT INTO web_pending VALUES ('other', 'k2', 'AA==', 60)")));
    EXPECT_FALSE(ok(exec(db(), "INSERT INTO web_pending VALUES ('sign_in', '', 'AA==', 60)")));
    EXPECT_EQ(count("SELECT count(*) FROM web_pending"), 1);
}

TEST_F(Migrations, UpgradeAVersion7DatabaseKeepingItsRows)
{
    ASSERT_TRUE(ok(migrate(db(), 7)));
    // Rows as version 7 wrote them: a directory and accounts without the lifecycle columns.
    ASSERT_TRUE(ok(exec(db(), R"sql(
        BEGIN;
        INSERT INTO directory (id, domain, management_account_id, created_at)
            VALUES ('d', 'example.internal', 'a1', 0);
        INSERT INTO accounts VALUES ('a1', 'd', 'one', 'management', 0,
            8, 1, 1, 1, 1, 0, 0, 5, 0, 1, 1, 1, 0, 21600, '[]', 1);
        INSERT INTO accounts VALUES ('a2', 'd', 'two', 'resource', 0,
            8, 1, 1, 1, 1, 0, 0, 5, 0, 1, 1, 1, 0, 21600, '[]', 0);
        INSERT INTO domains VALUES ('one.example.internal', 'a1', 1);
        INSERT INTO users (id, account_id, name, display_name, console_logon, password_hash,
                           password_set_at, require_change, created_at, email)
            VALUES ('u1', 'a2', 'alice', 'Alice', 1, 'h2', 2, 0, 0, 'alice@example.com');
        INSERT INTO access_keys VALUES ('LK1', 'u1', 'kh', 1, 3, NULL);
        COMMIT;
    )sql")));

    ASSERT_TRUE(ok(migrate(db())));
    EXPECT_EQ(version(), latest_schema_version);
    EXPECT_EQ(count("SELECT count(*) FROM directory WHERE id = 'd' "
                    "AND root_access_centralized = 0"),
              1);
    EXPECT_EQ(count("SELECT count(*) FROM accounts WHERE phone IS NULL AND closed_at IS NULL "
                    "AND recovery_open_until IS NULL"),
              2);
    EXPECT_EQ(count("SELECT settings_mfa_enrol_at_logon FROM accounts WHERE id = 'a1'"), 1);
    EXPECT_EQ(count("SELECT count(*) FROM users WHERE id = 'u1' AND password_hash = 'h2' "
                    "AND email = 'alice@example.com'"),
              1);
    EXPECT_EQ(count("SELECT count(*) FROM access_keys WHERE user_id = 'u1'"), 1);
    // The new columns and tables accept rows for the old account and user.
    ASSERT_TRUE(ok(exec(db(), R"sql(
        UPDATE directory SET root_access_centralized = 1;
        UPDATE accounts SET phone = '+15550100', closed_at = 9 WHERE id = 'a2';
        INSERT INTO roles VALUES ('u1', 'account-admin', 10, 'root', NULL);
        INSERT INTO verification_codes VALUES ('a2', 'phone_bind', '+15550100', 'ch', 10, 20, 5);
        INSERT INTO codes_sent VALUES ('a2', '2026-12-02', 1);
    )sql")));
    EXPECT_EQ(count("SELECT closed_at FROM accounts WHERE id = 'a2'"), 9);
}

TEST_F(Migrations, CheckTheLifecycleTablesValues)
{
    ASSERT_TRUE(ok(migrate(db())));
    ASSERT_TRUE(ok(exec(db(), R"sql(
        BEGIN;
        INSERT INTO directory (id, domain, management_account_id, created_at)
            VALUES ('d', 'example.internal', 'a1', 0);
        INSERT INTO accounts VALUES ('a1', 'd', 'one', 'management', 0,
            8, 1, 1, 1, 1, 0, 0, 5, 0, 1, 1, 1, 0, 21600, '[]', 0, NULL, NULL, NULL, 'off');
        INSERT INTO users (id, account_id, name, display_name, console_logon, password_hash,
                           password_set_at, require_change, created_at)
            VALUES ('u1', 'a1', 'alice', '', 1, '', NULL, 0, 0);
        COMMIT;
    )sql")));
    for (const char* bad : {
             "UPDATE directory SET root_access_centralized = 2",
             "UPDATE accounts SET phone = ''",
             "INSERT INTO roles VALUES ('u1', 'root', 1, 'x', NULL)",
             "INSERT INTO roles VALUES ('nobody', 'account-admin', 1, 'x', NULL)",
             "INSERT INTO verification_codes VALUES ('a1', 'login', '+1555', 'h', 1, 2, 5)",
             "INSERT INTO verification_codes VALUES ('a1', 'phone_bind', '+1555', 'h', 1, 2, -1)",
             "INSERT INTO verification_codes VALUES ('nope', 'phone_bind', '+1555', 'h', 1, 2, 5)",
             "INSERT INTO codes_sent VALUES ('a1', '2 Dec 2026', 1)",
             "INSERT INTO codes_sent VALUES ('a1', '2026-12-02', 4294967296)",
         })
        EXPECT_FALSE(exec(db(), bad)) << bad;
    // An account's codes and counts go with it, a user's roles with the user.
    ASSERT_TRUE(ok(exec(db(), R"sql(
        INSERT INTO roles VALUES ('u1', 'directory-admin', 1, 'root', NULL);
        INSERT INTO verification_codes VALUES ('a1', 'root_recovery', '+1555', 'h', 1, 2, 5);
        INSERT INTO codes_sent VALUES ('a1', '2026-12-02', 1);
        DELETE FROM users WHERE id = 'u1';
    )sql")));
    EXPECT_EQ(count("SELECT count(*) FROM roles"), 0);
    ASSERT_TRUE(ok(exec(db(), "BEGIN; "
                              "DELETE FROM accounts WHERE id = 'a1'; "
                              "DELETE FROM directory; COMMIT;")));
    EXPECT_EQ(count("SELECT count(*) FROM verification_codes"), 0);
    EXPECT_EQ(count("SELECT count(*) FROM codes_sent"), 0);
}

TEST_F(Migrations, RejectFailuresAndSessionsOfUnknownUsers)
{
    ASSERT_TRUE(ok(migrate(db())));
    const auto failure = exec(db(), "INSERT INTO logon_failures (user_id, at) VALUES ('x', 1)");
    ASSERT_FALSE(failure);
    EXPECT_TRUE(failure.error().is(Errc::store_failed));
    const auto session = exec(db(), "INSERT INTO sessions (id, user_id, service, pid, opened_at) "
                                    "VALUES ('s1', 'x', 'sshd', 1, 1)");
    ASSERT_FALSE(session);
}

TEST_F(Migrations, ListOpenSessionsOfAUserThroughThePartialIndex)
{
    ASSERT_TRUE(ok(migrate(db())));
    auto plan = Statement::prepare(db(), "EXPLAIN QUERY PLAN SELECT id FROM sessions "
                                         "WHERE closed_at IS NULL AND user_id = ?1 "
                                         "ORDER BY opened_at");
    ASSERT_TRUE(ok(plan));
    std::string details;
    while (plan->step().value())
        details += plan->text(3) + "\n";
    EXPECT_NE(details.find("sessions_open_by_user"), std::string::npos) << details;
    EXPECT_EQ(details.find("TEMP B-TREE"), std::string::npos) << details;
}

} // namespace
} // namespace latchkey::sqlite
