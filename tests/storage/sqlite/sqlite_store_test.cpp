// SPDX-License-Identifier: Apache-2.0
// What only the SQLite engine has: its file (write-ahead log, mode 0600, a clear error for a
// missing directory) and the upgrades of databases older releases wrote. Everything else a
// store does is tested on every engine by tests/storage/store_contract_test.cpp.
#include "storage/sqlite/sqlite_store.hpp"

#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <sys/stat.h>

#include <sqlite3.h>

#include <gtest/gtest.h>

#include "core/clock.hpp"
#include "storage/sqlite/migrations.hpp"
#include "storage/sqlite/sqlite.hpp"
#include "tests/storage/store_fixture.hpp"
#include "tests/temp_dir.hpp"

namespace latchkey::sqlite {
namespace {

using namespace store_test;
using test_support::TempDir;

/// A second connection to the file, for looking behind the store's back.
SqliteDb raw_open(const std::string& path)
{
    sqlite3* db = nullptr;
    const int rc = sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr);
    SqliteDb owned(db);
    if (rc != SQLITE_OK)
        throw std::runtime_error("cannot open " + path);
    return owned;
}

/// A database file holding the directory and its management account.
class SqliteStore : public ::testing::Test {
protected:
    void SetUp() override
    {
        auto opened = sqlite::SqliteStore::open(path_);
        ASSERT_TRUE(ok(opened));
        store_ = std::move(opened).value();
        ASSERT_TRUE(ok(store_->create_directory(
            make_directory(),
            make_account("acc-mgmt", "management", proto::AccountKind::management))));
    }

    TempDir dir_;
    std::string path_ = dir_.file("latchkey.db");
    std::unique_ptr<sqlite::SqliteStore> store_;
};

TEST_F(SqliteStore, UsesWriteAheadLogging)
{
    const auto raw = raw_open(path_);
    auto stmt = Statement::prepare(raw.get(), "PRAGMA journal_mode");
    ASSERT_TRUE(ok(stmt));
    ASSERT_TRUE(stmt->step().value());
    EXPECT_EQ(stmt->text(0), "wal");
}

TEST_F(SqliteStore, CreatesTheDatabaseReadableOnlyByItsOwner)
{
    struct stat st {};

    ASSERT_EQ(::stat(path_.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0600U);
    // SQLite gives the write-ahead log the database's mode.
    ASSERT_EQ(::stat((path_ + "-wal").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0600U);
}

TEST_F(SqliteStore, SaysWhenTheDatabaseDirectoryIsMissing)
{
    const std::string missing = dir_.file("no-such-dir") + "/latchkey.db";
    const auto opened = sqlite::SqliteStore::open(missing);
    ASSERT_TRUE(fails_with(opened, Errc::store_failed));
    EXPECT_NE(opened.error().message.find("does not exist"), std::string::npos)
        << opened.error().message;
    EXPECT_NE(opened.error().message.find(dir_.file("no-such-dir")), std::string::npos)
        << opened.error().message;
}

/// The directory (dir-1) with accounts management and web (alias www.example.com, history 4),
/// written as schema versions 1 to 3 wrote them.
void seed_old_accounts(sqlite3* db)
{
    ASSERT_TRUE(ok(exec(db, R"sql(
        BEGIN;
        INSERT INTO directory (id, domain, management_account_id, created_at)
            VALUES ('dir-1', 'example.internal', 'acc-mgmt', 1700000000);
        INSERT INTO accounts VALUES ('acc-mgmt', 'dir-1', 'management', 'management', 1700000000,
            8, 1, 1, 1, 1, 0, 0, 5, 0, 1, 1, 1, 0, 21600, '[]');
        INSERT INTO accounts VALUES ('acc-web', 'dir-1', 'web', 'resource', 1700000000,
            8, 1, 1, 1, 1, 0, 4, 5, 0, 1, 1, 1, 0, 21600, '[]');
        INSERT INTO domains VALUES ('management.example.internal', 'acc-mgmt', 1);
        INSERT INTO domains VALUES ('web.example.internal', 'acc-web', 1);
        INSERT INTO domains VALUES ('www.example.com', 'acc-web', 0);
        COMMIT;
    )sql")));
}

TEST_F(SqliteStore, UpgradesAVersion1DatabaseKeepingItsData)
{
    TempDir other;
    const std::string path = other.file("old.db");
    {
        auto old = sqlite::SqliteStore::open(path, 1);
        ASSERT_TRUE(ok(old));
        auto& s = **old;
        // As version 1 wrote them: today's store writes columns of later versions.
        const auto raw = raw_open(path);
        seed_old_accounts(raw.get());
        ASSERT_TRUE(ok(exec(raw.get(), "INSERT INTO users VALUES ('u1', 'acc-web', 'alice', "
                                       "'User alice', 1, 'h1', 1700000000, 0, 1700000000)")));
        // Version 1 has no history or audit tables yet.
        directory::AuditEvent e = make_event(1, directory::Severity::info, "x", "alice");
        EXPECT_TRUE(fails_with(s.append_audit(e), Errc::store_failed));
    }
    {
        const auto raw = raw_open(path);
        EXPECT_EQ(schema_version(raw.get()).value(), 1U);
    }

    auto upgraded = sqlite::SqliteStore::open(path);
    ASSERT_TRUE(ok(upgraded));
    auto& s = **upgraded;
    {
        const auto raw = raw_open(path);
        EXPECT_EQ(schema_version(raw.get()).value(), latest_schema_version);
    }
    EXPECT_EQ(s.directory().value()->id, "dir-1");
    const auto web = s.account_by_domain("www.example.com");
    ASSERT_TRUE(ok(web));
    ASSERT_TRUE(web->has_value());
    EXPECT_EQ((*web)->policy.history, 4U);
    EXPECT_EQ(s.user_by_name("acc-web", "alice").value()->password_hash, "h1");

    ASSERT_TRUE(ok(s.set_password("u1", change_to("h2", 1'700'000'100, 4))));
    EXPECT_EQ(s.password_history("u1", 4).value(), std::vector<std::string>{"h1"});
    directory::AuditEvent e =
        make_event(1'700'000'100, directory::Severity::info, "user.password", "alice");
    EXPECT_TRUE(ok(s.append_audit(e)));
}

TEST_F(SqliteStore, UpgradesAVersion2DatabaseKeepingItsData)
{
    TempDir other;
    const std::string path = other.file("old.db");
    std::int64_t audit_seq = 0;
    {
        auto old = sqlite::SqliteStore::open(path, 2);
        ASSERT_TRUE(ok(old));
        auto& s = **old;
        {
            // As version 2 wrote accounts and a user: without later versions' columns.
            const auto raw = raw_open(path);
            seed_old_accounts(raw.get());
            ASSERT_TRUE(ok(exec(raw.get(), "INSERT INTO users VALUES ('u1', 'acc-mgmt', 'alice', "
                                           "'User alice', 0, 'h1', 1700000001, 1, 1700000000)")));
        }
        ASSERT_TRUE(ok(s.set_password("u1", {"h2", core::from_unix(1'700'000'002), true, 5})));
        auto e = make_event(1'700'000'002, directory::Severity::notice, "user.password", "alice");
        ASSERT_TRUE(ok(s.append_audit(e)));
        audit_seq = e.seq;
        // Version 2 has no failures or sessions yet.
        EXPECT_TRUE(fails_with(s.record_failure("u1", t0, t0, 0, t0), Errc::store_failed));
        EXPECT_TRUE(fails_with(s.create_session(make_session("s1", "u1", 1'700'000'003)),
                               Errc::store_failed));
    }
    {
        const auto raw = raw_open(path);
        EXPECT_EQ(schema_version(raw.get()).value(), 2U);
    }

    auto upgraded = sqlite::SqliteStore::open(path);
    ASSERT_TRUE(ok(upgraded));
    auto& s = **upgraded;
    {
        const auto raw = raw_open(path);
        EXPECT_EQ(schema_version(raw.get()).value(), latest_schema_version);
    }
    const auto u = s.user_by_id("u1");
    ASSERT_TRUE(ok(u));
    ASSERT_TRUE(u->has_value());
    EXPECT_EQ((*u)->name, "alice");
    EXPECT_FALSE((*u)->console_logon);
    EXPECT_EQ((*u)->password_hash, "h2");
    EXPECT_EQ((*u)->password_set_at, core::from_unix(1'700'000'002));
    EXPECT_TRUE((*u)->require_change);
    EXPECT_FALSE((*u)->locked_until.has_value());
    EXPECT_EQ(s.password_history("u1", 5).value(), std::vector<std::string>{"h1"});
    const auto audit = s.audit({});
    ASSERT_TRUE(ok(audit));
    ASSERT_EQ(audit->size(), 1U);
    EXPECT_EQ((*audit)[0].seq, audit_seq);

    // The version 3 features work on the old user.
    EXPECT_EQ(s.record_failure("u1", t0, t0, 0, t0).value().failures, 1U);
    ASSERT_TRUE(ok(s.set_locked_until("u1", core::from_unix(1'700'000'900))));
    EXPECT_EQ(s.user_by_id("u1").value()->locked_until, core::from_unix(1'700'000'900));
    ASSERT_TRUE(ok(s.create_session(make_session("s1", "u1", 1'700'000'003))));
    EXPECT_EQ(session_ids(s.open_sessions(std::nullopt, t0)), std::vector<std::string>{"s1"});
}

TEST_F(SqliteStore, RefusesADatabaseFromANewerVersion)
{
    store_.reset();
    {
        const auto raw = raw_open(path_);
        ASSERT_TRUE(ok(exec(raw.get(), "PRAGMA user_version = 99")));
    }
    const auto opened = sqlite::SqliteStore::open(path_);
    ASSERT_TRUE(fails_with(opened, Errc::store_schema));
    EXPECT_NE(opened.error().message.find("newer"), std::string::npos) << opened.error().message;
    EXPECT_NE(opened.error().message.find("99"), std::string::npos) << opened.error().message;
}


// ---- upgrading to the lifecycle schema -----------------------------------------------------

TEST_F(SqliteStore, UpgradesAVersion7DatabaseKeepingItsData)
{
    TempDir other;
    const std::string path = other.file("old.db");
    {
        auto old = sqlite::SqliteStore::open(path, 7);
        ASSERT_TRUE(ok(old));
        // As version 7 wrote them: without the lifecycle columns.
        const auto raw = raw_open(path);
        ASSERT_TRUE(ok(exec(raw.get(), R"sql(
            BEGIN;
            INSERT INTO directory (id, domain, management_account_id, created_at)
                VALUES ('dir-1', 'example.internal', 'acc-mgmt', 1700000000);
            INSERT INTO accounts VALUES ('acc-mgmt', 'dir-1', 'management', 'management',
                1700000000, 8, 1, 1, 1, 1, 0, 0, 5, 0, 1, 1, 1, 0, 21600, '[]', 1);
            INSERT INTO accounts VALUES ('acc-web', 'dir-1', 'web', 'resource', 1700000000,
                8, 1, 1, 1, 1, 0, 4, 5, 0, 1, 1, 1, 0, 21600, '["10.0.0.0/8"]', 0);
            INSERT INTO domains VALUES ('management.example.internal', 'acc-mgmt', 1);
            INSERT INTO domains VALUES ('web.example.internal', 'acc-web', 1);
            INSERT INTO users (id, account_id, name, display_name, console_logon, password_hash,
                               password_set_at, require_change, created_at, email)
                VALUES ('u1', 'acc-web', 'alice', 'Alice', 1, 'h1', 1700000001, 0, 1700000000,
                        'alice@example.com');
            INSERT INTO access_keys VALUES ('LK1', 'u1', 'kh', 1, 1700000002, NULL);
            COMMIT;
        )sql")));
        // Version 7 has no roles yet.
        EXPECT_TRUE(
            fails_with((*old)->grant_role(make_role("u1", directory::Role::account_admin, 1)),
                       Errc::store_failed));
    }

    auto upgraded = sqlite::SqliteStore::open(path);
    ASSERT_TRUE(ok(upgraded));
    auto& s = **upgraded;
    {
        const auto raw = raw_open(path);
        EXPECT_EQ(schema_version(raw.get()).value(), latest_schema_version);
    }
    const auto d = s.directory().value();
    ASSERT_TRUE(d.has_value());
    EXPECT_EQ(d->management_account_id, "acc-mgmt");
    EXPECT_FALSE(d->root_access_centralized);
    const auto web = s.account_by_name("web").value();
    ASSERT_TRUE(web.has_value());
    EXPECT_EQ(web->policy.history, 4U);
    EXPECT_EQ(web->settings.allowed_networks, std::vector<std::string>{"10.0.0.0/8"});
    EXPECT_FALSE(web->phone.has_value());
    EXPECT_FALSE(web->closed_at.has_value());
    EXPECT_FALSE(web->recovery_open_until.has_value());
    EXPECT_TRUE(s.account_by_id("acc-mgmt").value()->settings.mfa_enrol_at_logon);
    const auto u = s.user_by_id("u1").value();
    ASSERT_TRUE(u.has_value());
    EXPECT_EQ(u->password_hash, "h1");
    EXPECT_EQ(u->email, "alice@example.com");
    EXPECT_EQ(s.access_keys("u1")->size(), 1U);

    // The version 8 features work on the old rows.
    ASSERT_TRUE(ok(s.set_root_access_centralized(true)));
    ASSERT_TRUE(ok(s.set_phone("acc-web", "+15550100")));
    EXPECT_EQ(s.account_by_id("acc-web").value()->phone, "+15550100");
    ASSERT_TRUE(ok(s.grant_role(make_role("u1", directory::Role::account_admin, 1'700'000'100))));
    EXPECT_EQ(role_names(s.roles("acc-web")), (std::vector<std::string>{"u1:account-admin"}));
    EXPECT_TRUE(s.count_code_sent("acc-web", "2026-12-02", 1).value());
    ASSERT_TRUE(ok(s.put_code(make_code("acc-web", directory::CodePurpose::phone_bind, "c1", 5))));
    ASSERT_TRUE(ok(s.clear_credentials("u1")));
    EXPECT_TRUE(s.access_keys("u1").value().empty());
}

} // namespace
} // namespace latchkey::sqlite
