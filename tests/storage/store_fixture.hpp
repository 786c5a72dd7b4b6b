// SPDX-License-Identifier: Apache-2.0
// What the store tests share: an Engine opens a Store on a real database of its kind (a SQLite
// file in a temporary directory, a database on a throwaway PostgreSQL server) and looks behind
// the store's back with plain SQL; StoreTest is the fixture the contract runs on every engine.
#pragma once

#include <cstdint>
#include <memory>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "core/clock.hpp"
#include "core/result.hpp"
#include "directory/store.hpp"

namespace latchkey::store_test {

using core::Errc;

/// One database of one engine for one test.
class Engine {
public:
    Engine() = default;
    Engine(const Engine&) = delete;
    Engine& operator=(const Engine&) = delete;
    virtual ~Engine() = default;

    /// Opens (creating and migrating on first use) this test's database; again after the
    /// previous store is gone, the same data.
    virtual core::Result<std::unique_ptr<directory::Store>> open() = 0;

    /// A store on a second, empty database.
    virtual core::Result<std::unique_ptr<directory::Store>> open_another() = 0;

    /// The integer in the first column of the first row of `sql` (count(*), a time column),
    /// read on a connection of its own; -1 for NULL. Throws when the query fails.
    virtual std::int64_t count(const std::string& sql) = 0;

    /// Runs `sql` on a connection of its own (to break a rule the store would not).
    virtual core::Status exec(const std::string& sql) = 0;
};

/// A named way of making engines, the parameter of the contract's suites.
struct EngineKind {
    std::string name;
    std::unique_ptr<Engine> (*make)();
};

/// How gtest names the parameter in its messages.
inline void PrintTo(const EngineKind& kind, std::ostream* out)
{
    *out << kind.name;
}

inline std::string engine_name(const ::testing::TestParamInfo<EngineKind>& info)
{
    return info.param.name;
}

template <class T>
::testing::AssertionResult ok(const core::Result<T>& r)
{
    if (r)
        return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << r.error().code.message() << ": " << r.error().message;
}

template <class T>
::testing::AssertionResult fails_with(const core::Result<T>& r, Errc expected)
{
    if (r)
        return ::testing::AssertionFailure() << "succeeded, expected " << core::errc_name(expected);
    if (!r.error().is(expected))
        return ::testing::AssertionFailure()
               << r.error().code.message() << " (" << r.error().message << "), expected "
               << core::errc_name(expected);
    return ::testing::AssertionSuccess();
}

inline const core::TimePoint t0 = core::from_unix(1'700'000'000);

inline directory::DirectoryRecord make_directory()
{
    return {"dir-1", "example.internal", "acc-mgmt", t0};
}

inline directory::AccountRecord make_account(std::string id,
                                             std::string name,
                                             proto::AccountKind kind = proto::AccountKind::resource)
{
    directory::AccountRecord a;
    a.id = std::move(id);
    a.directory_id = "dir-1";
    a.default_domain = name + ".example.internal";
    a.name = std::move(name);
    a.kind = kind;
    a.created_at = t0;
    return a;
}

inline directory::UserRecord make_user(std::string id, std::string account_id, std::string name)
{
    directory::UserRecord u;
    u.id = std::move(id);
    u.account_id = std::move(account_id);
    u.display_name = "User " + name;
    u.name = std::move(name);
    u.created_at = t0;
    return u;
}

inline directory::PasswordChange change_to(std::string hash, std::int64_t at, std::uint32_t keep)
{
    return {std::move(hash), core::from_unix(at), false, keep};
}

inline directory::AuditEvent
make_event(std::int64_t at, directory::Severity s, std::string event, std::string user)
{
    directory::AuditEvent e;
    e.at = core::from_unix(at);
    e.severity = s;
    e.event = std::move(event);
    e.fields = {{"user", std::move(user)}, {"service", "sshd"}};
    return e;
}

inline directory::SessionRecord
make_session(std::string id, std::string user_id, std::int64_t opened_at)
{
    directory::SessionRecord r;
    r.id = std::move(id);
    r.user_id = std::move(user_id);
    r.service = "sshd";
    r.pid = 4242;
    r.opened_at = core::from_unix(opened_at);
    return r;
}

inline std::vector<std::string>
session_ids(const core::Result<std::vector<directory::SessionRecord>>& sessions)
{
    std::vector<std::string> ids;
    for (const auto& r : sessions.value())
        ids.push_back(r.id);
    return ids;
}

inline directory::VerificationCodeRecord make_code(std::string account_id,
                                                   directory::CodePurpose purpose,
                                                   std::string hash,
                                                   std::uint32_t tries)
{
    directory::VerificationCodeRecord c;
    c.account_id = std::move(account_id);
    c.purpose = purpose;
    c.phone = "+15550100";
    c.code_hash = std::move(hash);
    c.created_at = t0;
    c.expires_at = core::from_unix(1'700'000'600);
    c.tries_left = tries;
    return c;
}

inline directory::RoleRecord
make_role(std::string user_id, directory::Role role, std::int64_t at, std::string by = "root")
{
    directory::RoleRecord r;
    r.user_id = std::move(user_id);
    r.role = role;
    r.granted_at = core::from_unix(at);
    r.granted_by = std::move(by);
    return r;
}

/// "user:role" of each record, in order, and " (self-revoked)" after inactive ones.
inline std::vector<std::string>
role_names(const core::Result<std::vector<directory::RoleRecord>>& roles)
{
    std::vector<std::string> out;
    for (const auto& r : roles.value())
        out.push_back(r.user_id + ":" + std::string(to_string(r.role)) +
                      (r.self_revoked_at ? " (self-revoked)" : ""));
    return out;
}

/// A store of the engine under test holding the directory and its management account.
class StoreTest : public ::testing::TestWithParam<EngineKind> {
protected:
    void SetUp() override
    {
        engine_ = GetParam().make();
        open_store();
        ASSERT_TRUE(store_);
        ASSERT_TRUE(ok(store_->create_directory(
            make_directory(),
            make_account("acc-mgmt", "management", proto::AccountKind::management))));
    }

    /// Closes the store and opens it again on the same database.
    void open_store()
    {
        store_.reset();
        auto opened = engine_->open();
        ASSERT_TRUE(ok(opened));
        store_ = std::move(opened).value();
    }

    void add_account(const directory::AccountRecord& a)
    {
        ASSERT_TRUE(ok(store_->create_account(a)));
    }

    void add_user(const directory::UserRecord& u) { ASSERT_TRUE(ok(store_->create_user(u))); }

    std::int64_t count(const std::string& sql) { return engine_->count(sql); }

    std::unique_ptr<Engine> engine_;
    std::unique_ptr<directory::Store> store_;
};

} // namespace latchkey::store_test
