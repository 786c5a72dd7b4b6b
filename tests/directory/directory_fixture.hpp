// SPDX-License-Identifier: Apache-2.0
// A directory on a real SQLite file with a controlled clock: example.internal, its management
// account and the resource account "web", to which the host is bound.
#pragma once

#include <map>
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "credentials/passwords.hpp"
#include "directory/directory.hpp"
#include "storage/sqlite/sqlite_store.hpp"
#include "tests/temp_dir.hpp"

namespace latchkey::directory {

class DirectoryFixture : public ::testing::Test {
protected:
    void SetUp() override
    {
        auto s = sqlite::SqliteStore::open(tmp_.file("test.db"));
        ASSERT_TRUE(s) << s.error().message;
        store_ = std::move(*s);
        audit_ = std::make_unique<Audit>(*store_, clock_);
        directory_ = std::make_unique<Directory>(*store_, *audit_, clock_);
        passwords_ = std::make_unique<credentials::Passwords>(*store_, *directory_, hasher_,
                                                              *audit_, clock_);
        ASSERT_TRUE(directory_->init({"example.internal", "management"}, admin_));
        ASSERT_TRUE(directory_->create_account({"web", AccountKind::resource}, admin_));
        directory_->set_host_account("web");
    }

    /// The newest audit event named `event`, as field map (the store lists newest first).
    std::map<std::string, std::string> last(const std::string& event)
    {
        AuditQuery q;
        q.limit = 50;
        for (const auto& e : store_->audit(q).value())
            if (e.event == event)
                return e.fields;
        return {};
    }

    test_support::TempDir tmp_;
    core::ManualClock clock_{core::from_unix(1'800'000'000)};
    // Small Argon2 parameters: these tests check rules, not cost.
    credentials::PasswordHasher hasher_{{1024, 1, 1}};
    std::unique_ptr<sqlite::SqliteStore> store_;
    std::unique_ptr<Audit> audit_;
    std::unique_ptr<Directory> directory_;
    std::unique_ptr<credentials::Passwords> passwords_;
    const Actor admin_{"uid:0"};
};

} // namespace latchkey::directory
