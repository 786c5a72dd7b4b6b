// SPDX-License-Identifier: Apache-2.0
// The Store contract: every engine (a SQLite file, a PostgreSQL database) passes the same tests,
// so that what the directory relies on cannot drift between them.
#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "core/clock.hpp"
#include "tests/storage/engines.hpp"
#include "tests/storage/store_fixture.hpp"

namespace latchkey::store_test {
namespace {

// ---- directory ----------------------------------------------------------------------------

TEST_P(StoreTest, CreatesDirectoryWithItsManagementAccount)
{
    const auto d = store_->directory();
    ASSERT_TRUE(ok(d));
    ASSERT_TRUE(d->has_value());
    EXPECT_EQ((*d)->id, "dir-1");
    EXPECT_EQ((*d)->domain, "example.internal");
    EXPECT_EQ((*d)->management_account_id, "acc-mgmt");
    EXPECT_EQ((*d)->created_at, t0);

    const auto m = store_->account_by_id("acc-mgmt");
    ASSERT_TRUE(ok(m));
    ASSERT_TRUE(m->has_value());
    EXPECT_EQ((*m)->kind, proto::AccountKind::management);
    EXPECT_EQ((*m)->default_domain, "management.example.internal");
}

TEST_P(StoreTest, HasNoDirectoryWhenNew)
{
    auto fresh = engine_->open_another();
    ASSERT_TRUE(ok(fresh));
    const auto d = (*fresh)->directory();
    ASSERT_TRUE(ok(d));
    EXPECT_FALSE(d->has_value());
}

TEST_P(StoreTest, RefusesASecondDirectory)
{
    auto d = make_directory();
    d.id = "dir-2";
    d.management_account_id = "acc-mgmt-2";
    auto m = make_account("acc-mgmt-2", "management2", proto::AccountKind::management);
    m.directory_id = "dir-2";
    const auto created = store_->create_directory(d, m);
    ASSERT_TRUE(fails_with(created, Errc::already_exists));
    EXPECT_EQ(created.error().message, "the directory already exists");
    // Nothing of the failed attempt remains.
    EXPECT_FALSE(store_->account_by_id("acc-mgmt-2")->has_value());
}

TEST_P(StoreTest, RejectsManagementAccountThatDoesNotMatchTheDirectory)
{
    auto fresh = engine_->open_another();
    ASSERT_TRUE(ok(fresh));
    EXPECT_TRUE(fails_with(
        (*fresh)->create_directory(make_directory(), make_account("acc-other", "management",
                                                                  proto::AccountKind::management)),
        Errc::invalid_argument));
    EXPECT_TRUE(fails_with(
        (*fresh)->create_directory(make_directory(), make_account("acc-mgmt", "management")),
        Errc::invalid_argument));
}

// ---- accounts -----------------------------------------------------------------------------

TEST_P(StoreTest, ListsAccountsByName)
{
    auto web = make_account("acc-web", "web");
    web.aliases = {"www.example.com", "web.example.org"};
    add_account(web);
    add_account(make_account("acc-db", "db", proto::AccountKind::cloud));

    const auto all = store_->accounts();
    ASSERT_TRUE(ok(all));
    ASSERT_EQ(all->size(), 3U);
    EXPECT_EQ((*all)[0].name, "db");
    EXPECT_EQ((*all)[0].kind, proto::AccountKind::cloud);
    EXPECT_EQ((*all)[1].name, "management");
    EXPECT_EQ((*all)[2].name, "web");
    EXPECT_EQ((*all)[2].default_domain, "web.example.internal");
    EXPECT_EQ((*all)[2].aliases, (std::vector<std::string>{"www.example.com", "web.example.org"}));
    EXPECT_TRUE((*all)[0].aliases.empty());
}

TEST_P(StoreTest, FindsAccountByIdAndName)
{
    auto web = make_account("acc-web", "web");
    web.created_at = core::from_unix(1'700'000'123);
    add_account(web);

    const auto by_id = store_->account_by_id("acc-web");
    ASSERT_TRUE(ok(by_id));
    ASSERT_TRUE(by_id->has_value());
    EXPECT_EQ((*by_id)->name, "web");
    EXPECT_EQ((*by_id)->directory_id, "dir-1");
    EXPECT_EQ((*by_id)->kind, proto::AccountKind::resource);
    EXPECT_EQ((*by_id)->created_at, core::from_unix(1'700'000'123));

    const auto by_name = store_->account_by_name("web");
    ASSERT_TRUE(ok(by_name));
    ASSERT_TRUE(by_name->has_value());
    EXPECT_EQ((*by_name)->id, "acc-web");
}

TEST_P(StoreTest, ReturnsNothingForUnknownAccounts)
{
    EXPECT_FALSE(store_->account_by_id("nope")->has_value());
    EXPECT_FALSE(store_->account_by_name("nope")->has_value());
    EXPECT_FALSE(store_->account_by_domain("nope.example.internal")->has_value());
}

TEST_P(StoreTest, FindsAccountByDefaultDomainAndByAlias)
{
    auto web = make_account("acc-web", "web");
    web.aliases = {"www.example.com"};
    add_account(web);

    const auto by_default = store_->account_by_domain("web.example.internal");
    ASSERT_TRUE(ok(by_default));
    ASSERT_TRUE(by_default->has_value());
    EXPECT_EQ((*by_default)->id, "acc-web");
    EXPECT_EQ((*by_default)->aliases, std::vector<std::string>{"www.example.com"});

    const auto by_alias = store_->account_by_domain("www.example.com");
    ASSERT_TRUE(ok(by_alias));
    ASSERT_TRUE(by_alias->has_value());
    EXPECT_EQ((*by_alias)->id, "acc-web");
}

TEST_P(StoreTest, TreatsDomainsAndAccountNamesCaseInsensitively)
{
    add_account(make_account("acc-web", "web"));
    const auto found = store_->account_by_domain("WEB.Example.Internal");
    ASSERT_TRUE(ok(found));
    ASSERT_TRUE(found->has_value());
    EXPECT_EQ((*found)->id, "acc-web");
    EXPECT_TRUE(
        fails_with(store_->create_account(make_account("acc-web2", "WEB")), Errc::already_exists));
}

TEST_P(StoreTest, RejectsDuplicateAccountName)
{
    add_account(make_account("acc-web", "web"));
    auto again = make_account("acc-web-2", "web");
    again.default_domain = "other.example.internal";
    const auto created = store_->create_account(again);
    ASSERT_TRUE(fails_with(created, Errc::already_exists));
    EXPECT_EQ(created.error().message, "account 'web' already exists");
}

TEST_P(StoreTest, RejectsASecondManagementAccount)
{
    const auto created = store_->create_account(
        make_account("acc-m2", "management2", proto::AccountKind::management));
    ASSERT_TRUE(fails_with(created, Errc::already_exists));
    EXPECT_EQ(created.error().message, "the directory already has a management account");
}

TEST_P(StoreTest, RejectsAccountOfUnknownDirectory)
{
    auto a = make_account("acc-web", "web");
    a.directory_id = "dir-unknown";
    EXPECT_TRUE(fails_with(store_->create_account(a), Errc::not_found));
}

TEST_P(StoreTest, RejectsDuplicateDomainAcrossAccounts)
{
    auto web = make_account("acc-web", "web");
    web.aliases = {"www.example.com"};
    add_account(web);

    // Another account's default domain equal to an existing alias...
    auto clash = make_account("acc-www", "www");
    clash.default_domain = "www.example.com";
    const auto created = store_->create_account(clash);
    ASSERT_TRUE(fails_with(created, Errc::already_exists));
    EXPECT_EQ(created.error().message, "domain 'www.example.com' is already in use");
    // ...leaves nothing behind: the account row was rolled back with the domain.
    EXPECT_FALSE(store_->account_by_id("acc-www")->has_value());

    // An alias equal to another account's default domain, or to another account's alias.
    add_account(make_account("acc-db", "db"));
    const auto alias_default = store_->add_alias("acc-db", "web.example.internal");
    ASSERT_TRUE(fails_with(alias_default, Errc::already_exists));
    EXPECT_EQ(alias_default.error().message, "domain 'web.example.internal' is already in use");
    EXPECT_TRUE(fails_with(store_->add_alias("acc-db", "www.example.com"), Errc::already_exists));
}

TEST_P(StoreTest, AddsAndRemovesAliases)
{
    add_account(make_account("acc-web", "web"));
    ASSERT_TRUE(ok(store_->add_alias("acc-web", "www.example.com")));
    ASSERT_TRUE(ok(store_->add_alias("acc-web", "web.example.org")));
    EXPECT_EQ(store_->account_by_id("acc-web").value()->aliases,
              (std::vector<std::string>{"www.example.com", "web.example.org"}));

    ASSERT_TRUE(ok(store_->remove_alias("acc-web", "www.example.com")));
    EXPECT_EQ(store_->account_by_id("acc-web").value()->aliases,
              std::vector<std::string>{"web.example.org"});
    EXPECT_FALSE(store_->account_by_domain("www.example.com")->has_value());

    // A removed alias is free for another account.
    add_account(make_account("acc-db", "db"));
    EXPECT_TRUE(ok(store_->add_alias("acc-db", "www.example.com")));
}

TEST_P(StoreTest, ReportsUnknownAliasAsNotFound)
{
    add_account(make_account("acc-web", "web"));
    add_account(make_account("acc-db", "db"));
    ASSERT_TRUE(ok(store_->add_alias("acc-db", "db.example.org")));

    EXPECT_TRUE(
        fails_with(store_->remove_alias("acc-web", "nothing.example.org"), Errc::not_found));
    // Another account's alias, and the account's own default domain, are not its aliases.
    EXPECT_TRUE(fails_with(store_->remove_alias("acc-web", "db.example.org"), Errc::not_found));
    EXPECT_TRUE(
        fails_with(store_->remove_alias("acc-web", "web.example.internal"), Errc::not_found));
    EXPECT_EQ(store_->account_by_id("acc-web").value()->default_domain, "web.example.internal");
}

TEST_P(StoreTest, ReportsAliasForUnknownAccountAsNotFound)
{
    EXPECT_TRUE(fails_with(store_->add_alias("acc-none", "x.example.org"), Errc::not_found));
}

TEST_P(StoreTest, RoundTripsPolicyAndSettings)
{
    add_account(make_account("acc-web", "web"));

    proto::PasswordPolicy p;
    p.min_length = 14;
    p.require_lowercase = false;
    p.require_uppercase = true;
    p.require_digit = false;
    p.require_symbol = true;
    p.max_age_days = 90;
    p.history = 24;
    p.max_failed_per_hour = 0;
    p.hard_expiry = true;
    ASSERT_TRUE(ok(store_->set_policy("acc-web", p)));

    proto::SecuritySettings s;
    s.allow_change_password = false;
    s.allow_passkey_logon = false;
    s.allow_manage_mfa = false;
    s.mfa_required = true;
    s.session_duration_s = 4'294'967'295U;
    s.allowed_networks = {"10.0.0.0/8", "2001:db8::/32"};
    s.device_approval = proto::DeviceApproval::after_password;
    ASSERT_TRUE(ok(store_->set_settings("acc-web", s)));

    open_store(); // read back from the database, not from anything cached
    const auto a = store_->account_by_id("acc-web");
    ASSERT_TRUE(ok(a));
    ASSERT_TRUE(a->has_value());
    const auto& got = (*a)->policy;
    EXPECT_EQ(got.min_length, 14U);
    EXPECT_FALSE(got.require_lowercase);
    EXPECT_TRUE(got.require_uppercase);
    EXPECT_FALSE(got.require_digit);
    EXPECT_TRUE(got.require_symbol);
    EXPECT_EQ(got.max_age_days, 90U);
    EXPECT_EQ(got.history, 24U);
    EXPECT_EQ(got.max_failed_per_hour, 0U);
    EXPECT_TRUE(got.hard_expiry);
    const auto& set = (*a)->settings;
    EXPECT_FALSE(set.allow_change_password);
    EXPECT_FALSE(set.allow_passkey_logon);
    EXPECT_FALSE(set.allow_manage_mfa);
    EXPECT_TRUE(set.mfa_required);
    EXPECT_EQ(set.session_duration_s, 4'294'967'295U);
    EXPECT_EQ(set.allowed_networks, s.allowed_networks);
    EXPECT_EQ(set.device_approval, proto::DeviceApproval::after_password);

    // Other accounts keep their defaults.
    const auto m = store_->account_by_id("acc-mgmt");
    EXPECT_EQ((*m)->policy.min_length, proto::PasswordPolicy{}.min_length);
    EXPECT_TRUE((*m)->settings.allowed_networks.empty());
    EXPECT_EQ((*m)->settings.device_approval, proto::DeviceApproval::off);
}

TEST_P(StoreTest, ReportsPolicyOrSettingsOfUnknownAccountAsNotFound)
{
    EXPECT_TRUE(fails_with(store_->set_policy("acc-none", {}), Errc::not_found));
    EXPECT_TRUE(fails_with(store_->set_settings("acc-none", {}), Errc::not_found));
}

// ---- users --------------------------------------------------------------------------------

TEST_P(StoreTest, CreatesAndFindsUsers)
{
    auto alice = make_user("u-alice", "acc-mgmt", "alice");
    alice.console_logon = false;
    alice.password_hash = "$argon2id$v=19$m=65536,t=3,p=1$c2FsdA$aGFzaA";
    alice.password_set_at = core::from_unix(1'700'000'500);
    alice.require_change = true;
    add_user(alice);

    const auto by_id = store_->user_by_id("u-alice");
    ASSERT_TRUE(ok(by_id));
    ASSERT_TRUE(by_id->has_value());
    const directory::UserRecord& got = **by_id;
    EXPECT_EQ(got.account_id, "acc-mgmt");
    EXPECT_EQ(got.name, "alice");
    EXPECT_EQ(got.display_name, "User alice");
    EXPECT_FALSE(got.console_logon);
    EXPECT_EQ(got.password_hash, alice.password_hash);
    EXPECT_EQ(got.password_set_at, alice.password_set_at);
    EXPECT_TRUE(got.require_change);
    EXPECT_FALSE(got.locked_until.has_value());
    EXPECT_EQ(got.created_at, t0);

    const auto by_name = store_->user_by_name("acc-mgmt", "alice");
    ASSERT_TRUE(ok(by_name));
    ASSERT_TRUE(by_name->has_value());
    EXPECT_EQ((*by_name)->id, "u-alice");

    EXPECT_FALSE(store_->user_by_id("u-none")->has_value());
    EXPECT_FALSE(store_->user_by_name("acc-mgmt", "bob")->has_value());
}

TEST_P(StoreTest, KeepsAUserWithoutPasswordPasswordless)
{
    add_user(make_user("u-bob", "acc-mgmt", "bob"));
    const auto bob = store_->user_by_id("u-bob");
    ASSERT_TRUE(ok(bob));
    EXPECT_TRUE((*bob)->password_hash.empty());
    EXPECT_FALSE((*bob)->password_set_at.has_value());
    EXPECT_TRUE((*bob)->console_logon);
}

TEST_P(StoreTest, ListsUsersByAccountNameThenUserName)
{
    add_account(make_account("acc-web", "web"));
    add_account(make_account("acc-db", "db"));
    add_user(make_user("u1", "acc-web", "zed"));
    add_user(make_user("u2", "acc-web", "amy"));
    add_user(make_user("u3", "acc-db", "mia"));
    add_user(make_user("u4", "acc-mgmt", "root-admin"));

    const auto all = store_->users(std::nullopt);
    ASSERT_TRUE(ok(all));
    std::vector<std::string> ids;
    for (const auto& u : *all)
        ids.push_back(u.id);
    EXPECT_EQ(ids, (std::vector<std::string>{"u3", "u4", "u2", "u1"}));

    const auto web = store_->users(std::string("acc-web"));
    ASSERT_TRUE(ok(web));
    ASSERT_EQ(web->size(), 2U);
    EXPECT_EQ((*web)[0].name, "amy");
    EXPECT_EQ((*web)[1].name, "zed");

    EXPECT_EQ(store_->count_users("acc-web").value(), 2U);
    EXPECT_EQ(store_->count_users("acc-db").value(), 1U);
    EXPECT_EQ(store_->count_users("acc-none").value(), 0U);
}

TEST_P(StoreTest, RejectsDuplicateUserNameInAnAccountButNotAcrossAccounts)
{
    add_account(make_account("acc-web", "web"));
    add_user(make_user("u1", "acc-web", "alice"));
    const auto again = store_->create_user(make_user("u2", "acc-web", "alice"));
    ASSERT_TRUE(fails_with(again, Errc::already_exists));
    EXPECT_EQ(again.error().message, "user 'alice' already exists in this account");

    EXPECT_TRUE(ok(store_->create_user(make_user("u3", "acc-mgmt", "alice"))));

    const auto same_id = store_->create_user(make_user("u1", "acc-mgmt", "carol"));
    ASSERT_TRUE(fails_with(same_id, Errc::already_exists));
    EXPECT_EQ(same_id.error().message, "user id 'u1' already exists");
}

TEST_P(StoreTest, RejectsUserOfUnknownAccountBecauseForeignKeysAreOn)
{
    const auto created = store_->create_user(make_user("u1", "acc-none", "alice"));
    ASSERT_TRUE(fails_with(created, Errc::not_found));
    EXPECT_EQ(created.error().message, "account 'acc-none' not found");
}

TEST_P(StoreTest, KeepsPasswordHashesOutOfErrorMessages)
{
    auto u = make_user("u1", "acc-mgmt", "alice");
    u.password_hash = "$argon2id$v=19$secret-looking-hash";
    add_user(u);
    u.name = "alice2";
    const auto dup = store_->create_user(u);
    ASSERT_FALSE(dup);
    EXPECT_EQ(dup.error().message.find("argon2id"), std::string::npos);
    const auto missing =
        store_->set_password("u-none", change_to("$argon2id$v=19$other", 1'700'000'001, 3));
    ASSERT_TRUE(fails_with(missing, Errc::not_found));
    EXPECT_EQ(missing.error().message.find("argon2id"), std::string::npos);
}

TEST_P(StoreTest, SetsConsoleLogonAndRequireChange)
{
    add_user(make_user("u1", "acc-mgmt", "alice"));
    ASSERT_TRUE(ok(store_->set_console_logon("u1", false)));
    ASSERT_TRUE(ok(store_->set_require_change("u1", true)));
    auto u = store_->user_by_id("u1");
    EXPECT_FALSE((*u)->console_logon);
    EXPECT_TRUE((*u)->require_change);

    // Setting the value it already has still finds the user.
    ASSERT_TRUE(ok(store_->set_console_logon("u1", false)));
    ASSERT_TRUE(ok(store_->set_console_logon("u1", true)));
    u = store_->user_by_id("u1");
    EXPECT_TRUE((*u)->console_logon);

    EXPECT_TRUE(fails_with(store_->set_console_logon("u-none", true), Errc::not_found));
    EXPECT_TRUE(fails_with(store_->set_require_change("u-none", true), Errc::not_found));
}

TEST_P(StoreTest, DeletesAUserWithItsPasswordHistory)
{
    add_user(make_user("u1", "acc-mgmt", "alice"));
    add_user(make_user("u2", "acc-mgmt", "bob"));
    for (int i = 1; i <= 3; ++i) {
        const std::string n = std::to_string(i);
        ASSERT_TRUE(ok(store_->set_password("u1", change_to("h" + n, 1'700'000'000 + i, 5))));
        ASSERT_TRUE(ok(store_->set_password("u2", change_to("b" + n, 1'700'000'000 + i, 5))));
    }

    ASSERT_TRUE(ok(store_->delete_user("u1")));
    EXPECT_FALSE(store_->user_by_id("u1")->has_value());
    EXPECT_FALSE(store_->user_by_name("acc-mgmt", "alice")->has_value());
    EXPECT_EQ(count("SELECT count(*) FROM password_history WHERE user_id = 'u1'"), 0);
    EXPECT_EQ(count("SELECT count(*) FROM password_history WHERE user_id = 'u2'"), 2);

    EXPECT_TRUE(fails_with(store_->delete_user("u1"), Errc::not_found));
}

TEST_P(StoreTest, PushesTheOldHashIntoHistoryOnSetPassword)
{
    auto u = make_user("u1", "acc-mgmt", "alice");
    u.password_hash = "h1";
    u.password_set_at = core::from_unix(1'700'000'001);
    add_user(u);

    ASSERT_TRUE(ok(store_->set_password("u1", {"h2", core::from_unix(1'700'000'002), true, 5})));
    const auto after = store_->user_by_id("u1");
    EXPECT_EQ((*after)->password_hash, "h2");
    EXPECT_EQ((*after)->password_set_at, core::from_unix(1'700'000'002));
    EXPECT_TRUE((*after)->require_change);
    EXPECT_EQ(store_->password_history("u1", 10).value(), std::vector<std::string>{"h1"});

    // The history entry keeps the replaced hash's own set_at.
    EXPECT_EQ(count("SELECT set_at FROM password_history WHERE hash = 'h1'"), 1'700'000'001);

    ASSERT_TRUE(ok(store_->set_password("u1", change_to("h3", 1'700'000'003, 5))));
    EXPECT_FALSE(store_->user_by_id("u1").value()->require_change);
    EXPECT_EQ(store_->password_history("u1", 10).value(), (std::vector<std::string>{"h2", "h1"}));
    EXPECT_EQ(store_->password_history("u1", 1).value(), std::vector<std::string>{"h2"});
}

TEST_P(StoreTest, PushesNothingWhenTheUserHadNoPassword)
{
    add_user(make_user("u1", "acc-mgmt", "alice"));
    ASSERT_TRUE(ok(store_->set_password("u1", change_to("h1", 1'700'000'001, 5))));
    EXPECT_TRUE(store_->password_history("u1", 10).value().empty());
}

TEST_P(StoreTest, TrimsPasswordHistoryToTheNewestEntries)
{
    add_user(make_user("u1", "acc-mgmt", "alice"));
    for (int i = 1; i <= 6; ++i)
        ASSERT_TRUE(ok(
            store_->set_password("u1", change_to("h" + std::to_string(i), 1'700'000'000 + i, 3))));
    // h6 is current; h5, h4, h3 are the newest three replaced.
    EXPECT_EQ(store_->password_history("u1", 10).value(),
              (std::vector<std::string>{"h5", "h4", "h3"}));

    ASSERT_TRUE(ok(store_->set_password("u1", change_to("h7", 1'700'000'007, 1))));
    EXPECT_EQ(store_->password_history("u1", 10).value(), std::vector<std::string>{"h6"});

    ASSERT_TRUE(ok(store_->set_password("u1", change_to("h8", 1'700'000'008, 0))));
    EXPECT_TRUE(store_->password_history("u1", 10).value().empty());
}

TEST_P(StoreTest, ReportsPasswordOfUnknownUserAsNotFound)
{
    EXPECT_TRUE(fails_with(store_->set_password("u-none", change_to("h", 1, 3)), Errc::not_found));
    const auto history = store_->password_history("u-none", 10);
    ASSERT_TRUE(ok(history));
    EXPECT_TRUE(history->empty());
}

TEST_P(StoreTest, RehashesThePasswordKeepingEverythingElse)
{
    auto u = make_user("u1", "acc-mgmt", "alice");
    u.password_hash = "h1";
    u.password_set_at = core::from_unix(1'700'000'001);
    u.require_change = true;
    add_user(u);
    ASSERT_TRUE(ok(store_->set_password("u1", {"h2", core::from_unix(1'700'000'002), true, 5})));

    // A rehash computed from a hash that is no longer current writes nothing.
    EXPECT_TRUE(fails_with(store_->rehash_password("u1", "h1", "h1-stronger"), Errc::not_found));
    ASSERT_TRUE(ok(store_->rehash_password("u1", "h2", "h2-stronger")));
    const auto after = store_->user_by_id("u1");
    ASSERT_TRUE(ok(after));
    EXPECT_EQ((*after)->password_hash, "h2-stronger");
    EXPECT_EQ((*after)->password_set_at, core::from_unix(1'700'000'002));
    EXPECT_TRUE((*after)->require_change);
    // The same password under new parameters is not a previous password.
    EXPECT_EQ(store_->password_history("u1", 10).value(), std::vector<std::string>{"h1"});
}

TEST_P(StoreTest, RefusesToRehashToNothingOrForAnUnknownUser)
{
    auto u = make_user("u1", "acc-mgmt", "alice");
    u.password_hash = "h1";
    add_user(u);
    EXPECT_TRUE(fails_with(store_->rehash_password("u1", "h1", ""), Errc::invalid_argument));
    EXPECT_EQ(store_->user_by_id("u1").value()->password_hash, "h1");
    EXPECT_TRUE(fails_with(store_->rehash_password("u-none", "h", "h2"), Errc::not_found));
}

// ---- logon failures and lockout ------------------------------------------------------------

TEST_P(StoreTest, CountsFailuresOnlyInsideTheWindow)
{
    add_user(make_user("u1", "acc-mgmt", "alice"));
    const auto at = [](std::int64_t s) { return core::from_unix(1'700'000'000 + s); };

    // A window of an hour, sliding with each failure.
    EXPECT_EQ(store_->record_failure("u1", at(0), at(-3600), 0, t0).value().failures, 1U);
    EXPECT_EQ(store_->record_failure("u1", at(100), at(-3500), 0, t0).value().failures, 2U);
    EXPECT_EQ(store_->record_failure("u1", at(3599), at(-1), 0, t0).value().failures, 3U);
    // The failure at 0 is exactly at the window's start: it counts.
    EXPECT_EQ(store_->record_failure("u1", at(3600), at(0), 0, t0).value().failures, 4U);
    // Now 0 and 100 are before the window.
    EXPECT_EQ(store_->record_failure("u1", at(3700), at(101), 0, t0).value().failures, 3U);
    // Much later, only the new one.
    EXPECT_EQ(store_->record_failure("u1", at(99'999), at(99'999 - 3600), 0, t0).value().failures,
              1U);
}

TEST_P(StoreTest, CountsFailuresPerUser)
{
    add_user(make_user("u1", "acc-mgmt", "alice"));
    add_user(make_user("u2", "acc-mgmt", "bob"));
    EXPECT_EQ(store_->record_failure("u1", t0, t0, 0, t0).value().failures, 1U);
    EXPECT_EQ(store_->record_failure("u1", t0, t0, 0, t0).value().failures, 2U);
    EXPECT_EQ(store_->record_failure("u2", t0, t0, 0, t0).value().failures, 1U);
    EXPECT_EQ(store_->record_failure("u1", t0, t0, 0, t0).value().failures, 3U);
}

TEST_P(StoreTest, ForgetsFailuresThatLeftTheWindow)
{
    add_user(make_user("u1", "acc-mgmt", "alice"));
    add_user(make_user("u2", "acc-mgmt", "bob"));
    for (int i = 0; i < 5; ++i) {
        ASSERT_TRUE(
            ok(store_->record_failure("u1", core::from_unix(100 + i), core::from_unix(0), 0, t0)));
        ASSERT_TRUE(
            ok(store_->record_failure("u2", core::from_unix(100 + i), core::from_unix(0), 0, t0)));
    }
    ASSERT_TRUE(
        ok(store_->record_failure("u1", core::from_unix(200), core::from_unix(150), 0, t0)));
    EXPECT_EQ(count("SELECT count(*) FROM logon_failures WHERE user_id = 'u1'"), 1);
    // Another user's failures are not the store's to prune.
    EXPECT_EQ(count("SELECT count(*) FROM logon_failures WHERE user_id = 'u2'"), 5);
}

TEST_P(StoreTest, ClearsAUsersFailures)
{
    add_user(make_user("u1", "acc-mgmt", "alice"));
    add_user(make_user("u2", "acc-mgmt", "bob"));
    for (int i = 0; i < 3; ++i) {
        ASSERT_TRUE(ok(store_->record_failure("u1", t0, t0, 0, t0)));
        ASSERT_TRUE(ok(store_->record_failure("u2", t0, t0, 0, t0)));
    }

    ASSERT_TRUE(ok(store_->clear_failures("u1")));
    EXPECT_EQ(store_->record_failure("u1", t0, t0, 0, t0).value().failures, 1U);
    EXPECT_EQ(store_->record_failure("u2", t0, t0, 0, t0).value().failures, 4U);

    // Clearing a user with no failures is fine; an unknown user is not.
    ASSERT_TRUE(ok(store_->clear_failures("u1")));
    ASSERT_TRUE(ok(store_->clear_failures("u1")));
    EXPECT_TRUE(fails_with(store_->clear_failures("u-none"), Errc::not_found));
}

TEST_P(StoreTest, ReportsFailureOfUnknownUserAsNotFound)
{
    const auto recorded = store_->record_failure("u-none", t0, t0, 0, t0);
    ASSERT_TRUE(fails_with(recorded, Errc::not_found));
    EXPECT_EQ(recorded.error().message, "user 'u-none' not found");
    EXPECT_EQ(count("SELECT count(*) FROM logon_failures"), 0);
}

TEST_P(StoreTest, TheFailureThatReachesTheLimitLocksInTheSameTransaction)
{
    add_user(make_user("u1", "acc-mgmt", "alice"));
    const core::TimePoint until = t0 + std::chrono::hours(1);
    for (std::uint32_t i = 1; i < 3; ++i) {
        const auto tally = store_->record_failure("u1", t0, t0, 3, until).value();
        EXPECT_EQ(tally.failures, i);
        EXPECT_FALSE(tally.locked_until.has_value());
        EXPECT_FALSE(tally.locked_now);
    }
    const auto third = store_->record_failure("u1", t0, t0, 3, until).value();
    EXPECT_EQ(third.failures, 3U);
    EXPECT_EQ(third.locked_until, until);
    EXPECT_TRUE(third.locked_now);
    EXPECT_EQ(store_->user_by_id("u1").value()->locked_until, until);
    // A failure while locked is counted but does not move the lock.
    const auto fourth =
        store_->record_failure("u1", t0, t0, 3, until + std::chrono::hours(1)).value();
    EXPECT_EQ(fourth.locked_until, until);
    EXPECT_FALSE(fourth.locked_now);
}

TEST_P(StoreTest, ASuccessStandsOnlyWhenNoLockIsInForce)
{
    add_user(make_user("u1", "acc-mgmt", "alice"));
    ASSERT_TRUE(ok(store_->record_failure("u1", t0, t0, 0, t0)));
    const core::TimePoint until = t0 + std::chrono::hours(1);
    ASSERT_TRUE(ok(store_->set_locked_until("u1", until)));
    EXPECT_EQ(store_->lock_in_force("u1", t0).value(), until);
    EXPECT_EQ(store_->settle_success("u1", t0).value(), until);
    // Refused: the failures stay.
    EXPECT_EQ(store_->record_failure("u1", t0, t0, 0, t0).value().failures, 2U);
    // Once the lock has passed, the success stands and forgets the failures.
    EXPECT_FALSE(store_->lock_in_force("u1", until).value().has_value());
    EXPECT_FALSE(store_->settle_success("u1", until).value().has_value());
    EXPECT_EQ(store_->record_failure("u1", until, t0, 0, t0).value().failures, 1U);
    EXPECT_TRUE(fails_with(store_->settle_success("u-none", t0), Errc::not_found));
    EXPECT_TRUE(fails_with(store_->lock_in_force("u-none", t0), Errc::not_found));
}

TEST_P(StoreTest, LocksAndUnlocksAUser)
{
    add_user(make_user("u1", "acc-mgmt", "alice"));
    add_user(make_user("u2", "acc-mgmt", "bob"));
    const core::TimePoint until = core::from_unix(1'700'003'600);

    ASSERT_TRUE(ok(store_->set_locked_until("u1", until)));
    open_store(); // from the database
    EXPECT_EQ(store_->user_by_id("u1").value()->locked_until, until);
    EXPECT_EQ(store_->user_by_name("acc-mgmt", "alice").value()->locked_until, until);
    const auto all = store_->users(std::nullopt);
    ASSERT_TRUE(ok(all));
    ASSERT_EQ(all->size(), 2U);
    EXPECT_EQ((*all)[0].locked_until, until);
    EXPECT_FALSE((*all)[1].locked_until.has_value());

    // Locking again moves the time; nullopt unlocks.
    ASSERT_TRUE(ok(store_->set_locked_until("u1", core::from_unix(1'700'007'200))));
    EXPECT_EQ(store_->user_by_id("u1").value()->locked_until, core::from_unix(1'700'007'200));
    ASSERT_TRUE(ok(store_->set_locked_until("u1", std::nullopt)));
    EXPECT_FALSE(store_->user_by_id("u1").value()->locked_until.has_value());
    // Unlocking an unlocked user still finds it.
    ASSERT_TRUE(ok(store_->set_locked_until("u1", std::nullopt)));

    EXPECT_TRUE(fails_with(store_->set_locked_until("u-none", until), Errc::not_found));
    EXPECT_TRUE(fails_with(store_->set_locked_until("u-none", std::nullopt), Errc::not_found));
}

TEST_P(StoreTest, CreatesAUserAlreadyLocked)
{
    auto u = make_user("u1", "acc-mgmt", "alice");
    u.locked_until = core::from_unix(1'700'000'600);
    add_user(u);
    EXPECT_EQ(store_->user_by_id("u1").value()->locked_until, core::from_unix(1'700'000'600));
}

TEST_P(StoreTest, KeepsLockAndFailuresApartFromOtherUserUpdates)
{
    add_user(make_user("u1", "acc-mgmt", "alice"));
    ASSERT_TRUE(ok(store_->set_locked_until("u1", core::from_unix(1'700'000'600))));
    ASSERT_TRUE(ok(store_->record_failure("u1", t0, t0, 0, t0)));
    ASSERT_TRUE(ok(store_->set_password("u1", change_to("h1", 1'700'000'001, 3))));
    ASSERT_TRUE(ok(store_->set_console_logon("u1", false)));
    // A password change by itself neither unlocks nor forgets failures: the caller decides.
    EXPECT_EQ(store_->user_by_id("u1").value()->locked_until, core::from_unix(1'700'000'600));
    EXPECT_EQ(store_->record_failure("u1", t0, t0, 0, t0).value().failures, 2U);
}

// ---- sessions -----------------------------------------------------------------------------

TEST_P(StoreTest, OpensListsAndClosesASession)
{
    add_user(make_user("u1", "acc-mgmt", "alice"));
    ASSERT_TRUE(ok(store_->create_session(make_session("s1", "u1", 1'700'000'100))));
    EXPECT_EQ(session_ids(store_->open_sessions(std::nullopt, t0)), std::vector<std::string>{"s1"});
    EXPECT_EQ(session_ids(store_->open_sessions(std::string("u1"), t0)),
              std::vector<std::string>{"s1"});

    const auto closed = store_->close_session("s1", core::from_unix(1'700'000'200));
    ASSERT_TRUE(ok(closed));
    EXPECT_TRUE(*closed);
    EXPECT_TRUE(session_ids(store_->open_sessions(std::nullopt, t0)).empty());
    EXPECT_TRUE(session_ids(store_->open_sessions(std::string("u1"), t0)).empty());

    // The closed session stays on record with its closing time.
    EXPECT_EQ(count("SELECT closed_at FROM sessions WHERE id = 's1'"), 1'700'000'200);
}

TEST_P(StoreTest, RoundTripsEverySessionField)
{
    add_user(make_user("u1", "acc-mgmt", "alice"));
    directory::SessionRecord full = make_session("s-full", "u1", 1'700'000'100);
    full.service = "login";
    full.tty = "tty1";
    full.rhost = "192.0.2.7";
    full.pid = 2'147'483'648; // more than 32 bits
    full.logind_session = "c3";
    full.logon_id = "logon-123";
    full.method = "pwd+otp";
    ASSERT_TRUE(ok(store_->create_session(full)));
    ASSERT_TRUE(ok(store_->create_session(make_session("s-bare", "u1", 1'700'000'101))));

    open_store();
    const auto open = store_->open_sessions(std::nullopt, t0);
    ASSERT_TRUE(ok(open));
    ASSERT_EQ(open->size(), 2U);
    const directory::SessionRecord& got = (*open)[0];
    EXPECT_EQ(got.id, "s-full");
    EXPECT_EQ(got.user_id, "u1");
    EXPECT_EQ(got.service, "login");
    EXPECT_EQ(got.tty, std::optional<std::string>("tty1"));
    EXPECT_EQ(got.rhost, std::optional<std::string>("192.0.2.7"));
    EXPECT_EQ(got.pid, 2'147'483'648);
    EXPECT_EQ(got.logind_session, std::optional<std::string>("c3"));
    EXPECT_EQ(got.logon_id, std::optional<std::string>("logon-123"));
    EXPECT_EQ(got.method, std::optional<std::string>("pwd+otp"));
    EXPECT_EQ(got.opened_at, core::from_unix(1'700'000'100));
    EXPECT_FALSE(got.closed_at.has_value());

    const directory::SessionRecord& bare = (*open)[1];
    EXPECT_EQ(bare.id, "s-bare");
    EXPECT_EQ(bare.service, "sshd");
    EXPECT_EQ(bare.pid, 4242);
    EXPECT_FALSE(bare.tty.has_value());
    EXPECT_FALSE(bare.rhost.has_value());
    EXPECT_FALSE(bare.logind_session.has_value());
    EXPECT_FALSE(bare.logon_id.has_value());
    EXPECT_FALSE(bare.method.has_value());
}

TEST_P(StoreTest, ListsOpenSessionsOldestFirstForOneUserOrEveryone)
{
    add_user(make_user("u1", "acc-mgmt", "alice"));
    add_user(make_user("u2", "acc-mgmt", "bob"));
    ASSERT_TRUE(ok(store_->create_session(make_session("a-late", "u1", 300))));
    ASSERT_TRUE(ok(store_->create_session(make_session("b-early", "u2", 100))));
    ASSERT_TRUE(ok(store_->create_session(make_session("c-mid", "u1", 200))));
    // Same second as c-mid: insertion order breaks the tie.
    ASSERT_TRUE(ok(store_->create_session(make_session("a-mid", "u2", 200))));
    ASSERT_TRUE(ok(store_->create_session(make_session("z-closed", "u1", 50))));
    ASSERT_TRUE(store_->close_session("z-closed", core::from_unix(60)).value());

    EXPECT_EQ(session_ids(store_->open_sessions(std::nullopt, t0)),
              (std::vector<std::string>{"b-early", "c-mid", "a-mid", "a-late"}));
    EXPECT_EQ(session_ids(store_->open_sessions(std::string("u1"), t0)),
              (std::vector<std::string>{"c-mid", "a-late"}));
    EXPECT_EQ(session_ids(store_->open_sessions(std::string("u2"), t0)),
              (std::vector<std::string>{"b-early", "a-mid"}));
    EXPECT_TRUE(session_ids(store_->open_sessions(std::string("u-none"), t0)).empty());
}

TEST_P(StoreTest, AnswersFalseWhenClosingAnUnknownOrClosedSession)
{
    add_user(make_user("u1", "acc-mgmt", "alice"));
    const auto unknown = store_->close_session("s-none", t0);
    ASSERT_TRUE(ok(unknown));
    EXPECT_FALSE(*unknown);

    ASSERT_TRUE(ok(store_->create_session(make_session("s1", "u1", 1'700'000'100))));
    EXPECT_TRUE(store_->close_session("s1", core::from_unix(1'700'000'200)).value());
    const auto again = store_->close_session("s1", core::from_unix(1'700'000'300));
    ASSERT_TRUE(ok(again));
    EXPECT_FALSE(*again);
    // The first close stands.
    EXPECT_EQ(count("SELECT closed_at FROM sessions WHERE id = 's1'"), 1'700'000'200);
}

TEST_P(StoreTest, RejectsDuplicateSessionIdAndSessionOfUnknownUser)
{
    add_user(make_user("u1", "acc-mgmt", "alice"));
    ASSERT_TRUE(ok(store_->create_session(make_session("s1", "u1", 1'700'000'100))));
    const auto dup = store_->create_session(make_session("s1", "u1", 1'700'000'200));
    ASSERT_TRUE(fails_with(dup, Errc::already_exists));
    EXPECT_EQ(dup.error().message, "session id 's1' already exists");

    const auto orphan = store_->create_session(make_session("s2", "u-none", 1'700'000'100));
    ASSERT_TRUE(fails_with(orphan, Errc::not_found));
    EXPECT_EQ(orphan.error().message, "user 'u-none' not found");
    EXPECT_EQ(session_ids(store_->open_sessions(std::nullopt, t0)), std::vector<std::string>{"s1"});
}

TEST_P(StoreTest, DeletesAUserWithItsSessionsAndFailures)
{
    add_user(make_user("u1", "acc-mgmt", "alice"));
    add_user(make_user("u2", "acc-mgmt", "bob"));
    for (const char* user : {"u1", "u2"}) {
        ASSERT_TRUE(ok(store_->record_failure(user, t0, t0, 0, t0)));
        ASSERT_TRUE(ok(store_->record_failure(user, t0, t0, 0, t0)));
        const std::string id = std::string(user) + "-s";
        ASSERT_TRUE(ok(store_->create_session(make_session(id + "1", user, 100))));
        ASSERT_TRUE(ok(store_->create_session(make_session(id + "2", user, 200))));
        ASSERT_TRUE(store_->close_session(id + "2", core::from_unix(300)).value());
    }

    ASSERT_TRUE(ok(store_->delete_user("u1")));
    EXPECT_EQ(session_ids(store_->open_sessions(std::nullopt, t0)),
              std::vector<std::string>{"u2-s1"});
    EXPECT_EQ(count("SELECT count(*) FROM sessions WHERE user_id = 'u1'"), 0);
    EXPECT_EQ(count("SELECT count(*) FROM logon_failures WHERE user_id = 'u1'"), 0);
    EXPECT_EQ(count("SELECT count(*) FROM sessions WHERE user_id = 'u2'"), 2);
    EXPECT_EQ(count("SELECT count(*) FROM logon_failures WHERE user_id = 'u2'"), 2);
    EXPECT_EQ(store_->record_failure("u2", t0, t0, 0, t0).value().failures, 3U);
}

// ---- Unix ids ---------------------------------------------------------------------------

TEST_P(StoreTest, AssignsUidsOnceInOrderFromTheRange)
{
    add_user(make_user("u1", "acc-mgmt", "alice"));
    add_user(make_user("u2", "acc-mgmt", "bob"));
    const directory::UidRange range{200000, 200009};
    EXPECT_FALSE(store_->user_by_id("u1").value()->uid);
    EXPECT_EQ(store_->assign_uid("u1", range).value(), 200000U);
    EXPECT_EQ(store_->assign_uid("u2", range).value(), 200001U);
    // Asked again, a user keeps its uid.
    EXPECT_EQ(store_->assign_uid("u1", range).value(), 200000U);
    open_store(); // from the database
    EXPECT_EQ(store_->user_by_id("u2").value()->uid, 200001U);
    const auto by_uid = store_->user_by_uid(200000).value();
    ASSERT_TRUE(by_uid);
    EXPECT_EQ(by_uid->name, "alice");
    EXPECT_FALSE(store_->user_by_uid(200002).value());
    const auto unknown = store_->assign_uid("u-none", range);
    ASSERT_FALSE(unknown);
    EXPECT_TRUE(unknown.error().is(Errc::not_found));
}

TEST_P(StoreTest, ADeletedUsersUidIsRetiredAndNeverGivenAgain)
{
    const directory::UidRange range{200000, 200009};
    add_user(make_user("u1", "acc-mgmt", "alice"));
    add_user(make_user("u2", "acc-mgmt", "bob"));
    ASSERT_EQ(store_->assign_uid("u1", range).value(), 200000U);
    ASSERT_EQ(store_->assign_uid("u2", range).value(), 200001U);
    ASSERT_TRUE(ok(store_->delete_user("u2")));
    const auto retired = store_->retired_uids().value();
    ASSERT_EQ(retired.size(), 1U);
    EXPECT_EQ(retired[0].uid, 200001U);
    EXPECT_EQ(retired[0].user_name, "bob");
    // A new bob, and a user of a new name: neither gets 200001, the highest ever given.
    add_user(make_user("u3", "acc-mgmt", "bob"));
    EXPECT_EQ(store_->assign_uid("u3", range).value(), 200002U);
    EXPECT_FALSE(store_->user_by_uid(200001).value());
}

TEST_P(StoreTest, GroupsTakeTheirGidFromTheUsersNumbers)
{
    const directory::UidRange range{200000, 200009};
    add_user(make_user("u1", "acc-mgmt", "alice"));
    add_user(make_user("u2", "acc-mgmt", "bob"));
    ASSERT_EQ(store_->assign_uid("u1", range).value(), 200000U);
    // A group's gid is never a user's uid (nor a user's own group's gid), and is kept.
    EXPECT_EQ(store_->assign_gid("latchkey-sudo", range).value(), 200001U);
    EXPECT_EQ(store_->assign_uid("u2", range).value(), 200002U);
    EXPECT_EQ(store_->assign_gid("latchkey-sudo", range).value(), 200001U);
    open_store();
    const auto groups = store_->unix_groups().value();
    ASSERT_EQ(groups.size(), 1U);
    EXPECT_EQ(groups[0].name, "latchkey-sudo");
    EXPECT_EQ(groups[0].gid, 200001U);
    const auto full = store_->assign_gid("other", {200000, 200002});
    ASSERT_FALSE(full);
    EXPECT_TRUE(full.error().is(Errc::failed_precondition));
}

TEST_P(StoreTest, KeepsAUsersOwnHomeAndShell)
{
    add_user(make_user("u1", "acc-mgmt", "alice"));
    EXPECT_FALSE(store_->user_by_id("u1").value()->home);
    ASSERT_TRUE(ok(store_->set_home("u1", std::string("/srv/home/alice"))));
    ASSERT_TRUE(ok(store_->set_shell("u1", std::string("/bin/zsh"))));
    open_store();
    auto u = store_->user_by_id("u1").value();
    EXPECT_EQ(u->home, "/srv/home/alice");
    EXPECT_EQ(u->shell, "/bin/zsh");
    ASSERT_TRUE(ok(store_->set_shell("u1", std::nullopt)));
    u = store_->user_by_id("u1").value();
    EXPECT_FALSE(u->shell);
    EXPECT_EQ(u->home, "/srv/home/alice");
    EXPECT_TRUE(store_->set_home("u-none", std::nullopt).error().is(Errc::not_found));
}

TEST_P(StoreTest, RefusesAUidOutsideAnExhaustedRange)
{
    const directory::UidRange range{200000, 200001};
    for (const char* id : {"u1", "u2", "u3"})
        add_user(make_user(id, "acc-mgmt", std::string("user-") + id));
    ASSERT_TRUE(ok(store_->assign_uid("u1", range)));
    ASSERT_TRUE(ok(store_->assign_uid("u2", range)));
    const auto full = store_->assign_uid("u3", range);
    ASSERT_FALSE(full);
    EXPECT_TRUE(full.error().is(Errc::failed_precondition));
    EXPECT_EQ(full.error().message,
              "no uid is left in the range 200000 to 200001: widen [unix] uid_max");
    EXPECT_FALSE(store_->user_by_id("u3").value()->uid);
    // A wider range goes on above the highest uid given in it.
    EXPECT_EQ(store_->assign_uid("u3", {200000, 200099}).value(), 200002U);
    // The schema itself refuses uid 0: no directory user is ever root.
    EXPECT_FALSE(ok(engine_->exec("UPDATE users SET uid = 0 WHERE id = 'u1'")));
}

// ---- audit --------------------------------------------------------------------------------

TEST_P(StoreTest, AppendsAuditEventsWithIncreasingSequence)
{
    auto first = make_event(1'700'000'001, directory::Severity::notice, "user.create", "alice");
    auto second = make_event(1'700'000'002, directory::Severity::info, "auth.allow", "alice");
    ASSERT_TRUE(ok(store_->append_audit(first)));
    ASSERT_TRUE(ok(store_->append_audit(second)));
    EXPECT_GT(first.seq, 0);
    EXPECT_GT(second.seq, first.seq);

    const auto all = store_->audit({});
    ASSERT_TRUE(ok(all));
    ASSERT_EQ(all->size(), 2U);
    const directory::AuditEvent& newest = (*all)[0];
    EXPECT_EQ(newest.seq, second.seq);
    EXPECT_EQ(newest.at, core::from_unix(1'700'000'002));
    EXPECT_EQ(newest.severity, directory::Severity::info);
    EXPECT_EQ(newest.event, "auth.allow");
    EXPECT_EQ(newest.fields, second.fields);
    EXPECT_EQ((*all)[1].seq, first.seq);
}

TEST_P(StoreTest, KeepsAuditFieldsThatNeedEscaping)
{
    auto e =
        make_event(1'700'000'001, directory::Severity::warning, "auth.deny", "o'brien \"x\"\n\\");
    e.fields["reason"] = "bad_code";
    e.fields["note"] = "ünïcödé";
    ASSERT_TRUE(ok(store_->append_audit(e)));
    const auto all = store_->audit({});
    ASSERT_EQ(all->size(), 1U);
    EXPECT_EQ((*all)[0].fields, e.fields);

    directory::AuditQuery q;
    q.user = "o'brien \"x\"\n\\";
    EXPECT_EQ(store_->audit(q)->size(), 1U);
}

TEST_P(StoreTest, FiltersAuditBySeverityTimeUserAndLimit)
{
    auto add = [&](std::int64_t at, directory::Severity s, const std::string& user) {
        auto e = make_event(at, s, "test.event", user);
        ASSERT_TRUE(ok(store_->append_audit(e)));
    };
    add(100, directory::Severity::info, "alice");
    add(200, directory::Severity::alert, "root");
    add(300, directory::Severity::warning, "alice");
    add(400, directory::Severity::notice, "bob");
    directory::AuditEvent no_user;
    no_user.at = core::from_unix(500);
    no_user.event = "daemon.start";
    ASSERT_TRUE(ok(store_->append_audit(no_user)));

    const auto times = [&](const directory::AuditQuery& q) {
        const auto events = store_->audit(q);
        std::vector<std::int64_t> out;
        for (const auto& e : events.value())
            out.push_back(core::to_unix(e.at));
        return out;
    };

    EXPECT_EQ(times({}), (std::vector<std::int64_t>{500, 400, 300, 200, 100}));

    directory::AuditQuery severe;
    severe.min_severity = directory::Severity::warning;
    EXPECT_EQ(times(severe), (std::vector<std::int64_t>{300, 200}));

    directory::AuditQuery recent;
    recent.since = core::from_unix(300);
    EXPECT_EQ(times(recent), (std::vector<std::int64_t>{500, 400, 300}));

    directory::AuditQuery alice;
    alice.user = "alice";
    EXPECT_EQ(times(alice), (std::vector<std::int64_t>{300, 100}));

    directory::AuditQuery limited;
    limited.limit = 2;
    EXPECT_EQ(times(limited), (std::vector<std::int64_t>{500, 400}));

    directory::AuditQuery combined;
    combined.user = "alice";
    combined.min_severity = directory::Severity::notice;
    combined.since = core::from_unix(50);
    combined.limit = 10;
    EXPECT_EQ(times(combined), (std::vector<std::int64_t>{300}));
}

// ---- the file -----------------------------------------------------------------------------

TEST_P(StoreTest, KeepsDataAcrossCloseAndReopen)
{
    auto web = make_account("acc-web", "web");
    web.aliases = {"www.example.com"};
    add_account(web);
    auto u = make_user("u1", "acc-web", "alice");
    u.password_hash = "h1";
    u.password_set_at = t0;
    add_user(u);
    ASSERT_TRUE(ok(store_->set_password("u1", change_to("h2", 1'700'000'100, 5))));
    auto e = make_event(1'700'000'100, directory::Severity::notice, "user.password", "alice");
    ASSERT_TRUE(ok(store_->append_audit(e)));

    open_store();

    EXPECT_EQ(store_->directory().value()->domain, "example.internal");
    const auto a = store_->account_by_domain("www.example.com");
    ASSERT_TRUE(a->has_value());
    EXPECT_EQ((*a)->id, "acc-web");
    EXPECT_EQ(store_->user_by_name("acc-web", "alice").value()->password_hash, "h2");
    EXPECT_EQ(store_->password_history("u1", 5).value(), std::vector<std::string>{"h1"});
    const auto audit = store_->audit({});
    ASSERT_EQ(audit->size(), 1U);
    EXPECT_EQ((*audit)[0].seq, e.seq);
}

TEST_P(StoreTest, SerialisesWritersOnSeveralThreads)
{
    constexpr int threads = 8;
    constexpr int per_thread = 25;
    std::atomic<int> failures{0};
    std::vector<std::thread> workers;
    workers.reserve(threads);
    for (int t = 0; t < threads; ++t) {
        workers.emplace_back([&, t] {
            for (int i = 0; i < per_thread; ++i) {
                const std::string n = std::to_string(t) + "-" + std::to_string(i);
                if (!store_->create_user(make_user("u" + n, "acc-mgmt", "user" + n)))
                    ++failures;
                auto e = make_event(1'700'000'000 + i, directory::Severity::info, "user.create", n);
                if (!store_->append_audit(e))
                    ++failures;
            }
        });
    }
    for (auto& w : workers)
        w.join();
    EXPECT_EQ(failures.load(), 0);
    EXPECT_EQ(store_->count_users("acc-mgmt").value(),
              static_cast<std::uint32_t>(threads * per_thread));
    directory::AuditQuery q;
    q.limit = 1000;
    EXPECT_EQ(store_->audit(q)->size(), static_cast<std::size_t>(threads * per_thread));
}

// ---- the account lifecycle -----------------------------------------------------------------

TEST_P(StoreTest, RoundTripsTheLifecycleFieldsOfAnAccount)
{
    auto web = make_account("acc-web", "web");
    web.phone = "+15550100";
    web.closed_at = core::from_unix(1'700'000'500);
    web.recovery_open_until = core::from_unix(1'700'086'400);
    add_account(web);
    add_account(make_account("acc-db", "db"));

    for (const auto& found : {store_->account_by_id("acc-web"), store_->account_by_name("web"),
                              store_->account_by_domain("web.example.internal")}) {
        ASSERT_TRUE(ok(found));
        ASSERT_TRUE(found->has_value());
        EXPECT_EQ((*found)->phone, "+15550100");
        EXPECT_EQ((*found)->closed_at, core::from_unix(1'700'000'500));
        EXPECT_EQ((*found)->recovery_open_until, core::from_unix(1'700'086'400));
    }
    const auto all = store_->accounts();
    ASSERT_TRUE(ok(all));
    ASSERT_EQ(all->size(), 3U);
    EXPECT_EQ((*all)[0].name, "db");
    EXPECT_FALSE((*all)[0].phone.has_value());
    EXPECT_FALSE((*all)[0].closed_at.has_value());
    EXPECT_FALSE((*all)[0].recovery_open_until.has_value());
    EXPECT_EQ((*all)[2].name, "web");
    EXPECT_EQ((*all)[2].phone, "+15550100");

    open_store();
    EXPECT_EQ(store_->account_by_id("acc-web").value()->recovery_open_until,
              core::from_unix(1'700'086'400));
}

TEST_P(StoreTest, CreatesADirectoryWithCentralizedRootAccessAndSwitchesIt)
{
    EXPECT_FALSE(store_->directory().value()->root_access_centralized);
    ASSERT_TRUE(ok(store_->set_root_access_centralized(true)));
    EXPECT_TRUE(store_->directory().value()->root_access_centralized);
    open_store();
    EXPECT_TRUE(store_->directory().value()->root_access_centralized);
    ASSERT_TRUE(ok(store_->set_root_access_centralized(false)));
    EXPECT_FALSE(store_->directory().value()->root_access_centralized);

    auto fresh = engine_->open_another();
    ASSERT_TRUE(ok(fresh));
    // No directory yet: nothing to switch.
    EXPECT_TRUE(fails_with((*fresh)->set_root_access_centralized(true), Errc::not_found));
    auto d = make_directory();
    d.root_access_centralized = true;
    ASSERT_TRUE(ok((*fresh)->create_directory(
        d, make_account("acc-mgmt", "management", proto::AccountKind::management))));
    EXPECT_TRUE((*fresh)->directory().value()->root_access_centralized);
}

TEST_P(StoreTest, SetsAnAccountsKindPhoneClosingAndRecoveryWindow)
{
    add_account(make_account("acc-web", "web"));
    ASSERT_TRUE(ok(store_->set_account_kind("acc-web", proto::AccountKind::cloud)));
    ASSERT_TRUE(ok(store_->set_phone("acc-web", "+15550100")));
    ASSERT_TRUE(ok(store_->set_closed("acc-web", core::from_unix(1'700'000'900))));
    ASSERT_TRUE(ok(store_->set_recovery_window("acc-web", core::from_unix(1'700'003'600))));
    auto a = store_->account_by_id("acc-web").value();
    ASSERT_TRUE(a.has_value());
    EXPECT_EQ(a->kind, proto::AccountKind::cloud);
    EXPECT_EQ(a->phone, "+15550100");
    EXPECT_EQ(a->closed_at, core::from_unix(1'700'000'900));
    EXPECT_EQ(a->recovery_open_until, core::from_unix(1'700'003'600));
    // Policy, settings and domains are untouched.
    EXPECT_EQ(a->default_domain, "web.example.internal");
    EXPECT_EQ(a->policy.min_length, proto::PasswordPolicy{}.min_length);

    ASSERT_TRUE(ok(store_->set_phone("acc-web", std::nullopt)));
    ASSERT_TRUE(ok(store_->set_recovery_window("acc-web", std::nullopt)));
    a = store_->account_by_id("acc-web").value();
    EXPECT_FALSE(a->phone.has_value());
    EXPECT_FALSE(a->recovery_open_until.has_value());
    EXPECT_EQ(a->closed_at, core::from_unix(1'700'000'900));

    // The directory keeps one management account.
    EXPECT_TRUE(fails_with(store_->set_account_kind("acc-web", proto::AccountKind::management),
                           Errc::already_exists));
    EXPECT_EQ(store_->account_by_id("acc-web").value()->kind, proto::AccountKind::cloud);
    EXPECT_TRUE(fails_with(store_->set_phone("acc-web", std::string()), Errc::invalid_argument));
}

TEST_P(StoreTest, ReportsLifecycleSettersOfAnUnknownAccountAsNotFound)
{
    EXPECT_TRUE(
        fails_with(store_->set_account_kind("nope", proto::AccountKind::cloud), Errc::not_found));
    EXPECT_TRUE(fails_with(store_->set_phone("nope", "+15550100"), Errc::not_found));
    EXPECT_TRUE(fails_with(store_->set_phone("nope", std::nullopt), Errc::not_found));
    EXPECT_TRUE(fails_with(store_->set_closed("nope", t0), Errc::not_found));
    EXPECT_TRUE(fails_with(store_->set_recovery_window("nope", t0), Errc::not_found));
    EXPECT_TRUE(fails_with(store_->set_recovery_window("nope", std::nullopt), Errc::not_found));
}

// ---- verification codes --------------------------------------------------------------------

TEST_P(StoreTest, CountsCodesSentUpToTheDailyLimitAcrossARestart)
{
    add_account(make_account("acc-web", "web"));
    for (int i = 0; i < 60; ++i)
        ASSERT_TRUE(store_->count_code_sent("acc-web", "2026-12-02", 100).value()) << i;
    open_store();
    EXPECT_EQ(store_->codes_sent("acc-web", "2026-12-02").value(), 60U);
    for (int i = 60; i < 100; ++i)
        ASSERT_TRUE(store_->count_code_sent("acc-web", "2026-12-02", 100).value()) << i;
    // The 101st is refused, and not counted.
    EXPECT_FALSE(store_->count_code_sent("acc-web", "2026-12-02", 100).value());
    EXPECT_EQ(store_->codes_sent("acc-web", "2026-12-02").value(), 100U);

    open_store();
    EXPECT_EQ(store_->codes_sent("acc-web", "2026-12-02").value(), 100U);
    EXPECT_FALSE(store_->count_code_sent("acc-web", "2026-12-02", 100).value());
    EXPECT_EQ(store_->codes_sent("acc-web", "2026-12-02").value(), 100U);
    // Other accounts count on their own.
    EXPECT_TRUE(store_->count_code_sent("acc-mgmt", "2026-12-02", 100).value());
    EXPECT_EQ(store_->codes_sent("acc-mgmt", "2026-12-02").value(), 1U);
    // A limit of 0 sends nothing.
    EXPECT_FALSE(store_->count_code_sent("acc-mgmt", "2026-12-02", 0).value());
}

TEST_P(StoreTest, ForgetsTheCodesSentOnDaysBefore)
{
    add_account(make_account("acc-web", "web"));
    for (int i = 0; i < 3; ++i)
        ASSERT_TRUE(store_->count_code_sent("acc-web", "2026-12-01", 3).value());
    EXPECT_FALSE(store_->count_code_sent("acc-web", "2026-12-01", 3).value());
    ASSERT_TRUE(store_->count_code_sent("acc-mgmt", "2026-12-01", 3).value());

    // A new day starts from nothing and forgets the last one (of this account only).
    ASSERT_TRUE(store_->count_code_sent("acc-web", "2026-12-02", 3).value());
    EXPECT_EQ(store_->codes_sent("acc-web", "2026-12-02").value(), 1U);
    EXPECT_EQ(store_->codes_sent("acc-web", "2026-12-01").value(), 0U);
    EXPECT_EQ(store_->codes_sent("acc-mgmt", "2026-12-01").value(), 1U);

    // Forgotten even when nothing is counted on the new day.
    EXPECT_FALSE(store_->count_code_sent("acc-web", "2026-12-03", 0).value());
    EXPECT_EQ(store_->codes_sent("acc-web", "2026-12-02").value(), 0U);
    // Later days stay.
    ASSERT_TRUE(store_->count_code_sent("acc-mgmt", "2027-01-01", 3).value());
    EXPECT_EQ(store_->codes_sent("acc-mgmt", "2026-12-01").value(), 0U);
    EXPECT_FALSE(store_->count_code_sent("acc-mgmt", "2026-12-31", 0).value());
    EXPECT_EQ(store_->codes_sent("acc-mgmt", "2027-01-01").value(), 1U);
    EXPECT_EQ(count("SELECT count(*) FROM codes_sent"), 1);
}

TEST_P(StoreTest, RefusesToCountCodesForAnUnknownAccountOrDay)
{
    EXPECT_TRUE(fails_with(store_->count_code_sent("nope", "2026-12-02", 5), Errc::not_found));
    EXPECT_EQ(store_->codes_sent("nope", "2026-12-02").value(), 0U);
    for (const char* day : {"", "2026-12-2", "02.12.2026", "2026/12/02", "2026-12-02T00"}) {
        EXPECT_TRUE(fails_with(store_->count_code_sent("acc-mgmt", day, 5), Errc::invalid_argument))
            << day;
        EXPECT_TRUE(fails_with(store_->codes_sent("acc-mgmt", day), Errc::invalid_argument)) << day;
    }
}

TEST_P(StoreTest, PutsReplacesAndDeletesThePendingCode)
{
    EXPECT_FALSE(store_->code("acc-mgmt", directory::CodePurpose::phone_bind).value().has_value());
    ASSERT_TRUE(
        ok(store_->put_code(make_code("acc-mgmt", directory::CodePurpose::phone_bind, "c1", 5))));
    auto recovery = make_code("acc-mgmt", directory::CodePurpose::root_recovery, "r1", 3);
    recovery.phone = "+15550199";
    ASSERT_TRUE(ok(store_->put_code(recovery)));

    auto c = store_->code("acc-mgmt", directory::CodePurpose::phone_bind).value();
    ASSERT_TRUE(c.has_value());
    EXPECT_EQ(c->account_id, "acc-mgmt");
    EXPECT_EQ(c->purpose, directory::CodePurpose::phone_bind);
    EXPECT_EQ(c->phone, "+15550100");
    EXPECT_EQ(c->code_hash, "c1");
    EXPECT_EQ(c->created_at, t0);
    EXPECT_EQ(c->expires_at, core::from_unix(1'700'000'600));
    EXPECT_EQ(c->tries_left, 5U);

    // A new code of the same purpose replaces the old one, whatever was left of it.
    auto next = make_code("acc-mgmt", directory::CodePurpose::phone_bind, "c2", 4);
    next.phone = "+15550111";
    next.created_at = core::from_unix(1'700'000'100);
    next.expires_at = core::from_unix(1'700'000'700);
    ASSERT_TRUE(ok(store_->put_code(next)));
    c = store_->code("acc-mgmt", directory::CodePurpose::phone_bind).value();
    ASSERT_TRUE(c.has_value());
    EXPECT_EQ(c->code_hash, "c2");
    EXPECT_EQ(c->phone, "+15550111");
    EXPECT_EQ(c->created_at, core::from_unix(1'700'000'100));
    EXPECT_EQ(c->expires_at, core::from_unix(1'700'000'700));
    EXPECT_EQ(c->tries_left, 4U);
    {
        EXPECT_EQ(count("SELECT count(*) FROM verification_codes"), 2);
    }
    // The other purpose's code is its own.
    const auto r = store_->code("acc-mgmt", directory::CodePurpose::root_recovery).value();
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->purpose, directory::CodePurpose::root_recovery);
    EXPECT_EQ(r->code_hash, "r1");
    EXPECT_EQ(r->phone, "+15550199");

    ASSERT_TRUE(ok(store_->delete_code("acc-mgmt", directory::CodePurpose::phone_bind)));
    EXPECT_FALSE(store_->code("acc-mgmt", directory::CodePurpose::phone_bind).value().has_value());
    EXPECT_TRUE(
        store_->code("acc-mgmt", directory::CodePurpose::root_recovery).value().has_value());
    // Not there is not an error.
    EXPECT_TRUE(ok(store_->delete_code("acc-mgmt", directory::CodePurpose::phone_bind)));
    EXPECT_TRUE(ok(store_->delete_code("nope", directory::CodePurpose::root_recovery)));
}

TEST_P(StoreTest, RefusesACodeOfAnUnknownAccountOrWithoutItsHash)
{
    EXPECT_TRUE(
        fails_with(store_->put_code(make_code("nope", directory::CodePurpose::phone_bind, "c1", 5)),
                   Errc::not_found));
    EXPECT_TRUE(fails_with(
        store_->put_code(make_code("acc-mgmt", directory::CodePurpose::phone_bind, "", 5)),
        Errc::invalid_argument));
    auto no_phone = make_code("acc-mgmt", directory::CodePurpose::phone_bind, "c1", 5);
    no_phone.phone.clear();
    EXPECT_TRUE(fails_with(store_->put_code(no_phone), Errc::invalid_argument));
    EXPECT_FALSE(store_->code("nope", directory::CodePurpose::phone_bind).value().has_value());
}

TEST_P(StoreTest, SpendsTheTriesOfAPendingCodeDownToZero)
{
    ASSERT_TRUE(ok(
        store_->put_code(make_code("acc-mgmt", directory::CodePurpose::root_recovery, "r1", 3))));
    EXPECT_EQ(store_->spend_code_try("acc-mgmt", directory::CodePurpose::root_recovery).value(),
              2U);
    EXPECT_EQ(store_->spend_code_try("acc-mgmt", directory::CodePurpose::root_recovery).value(),
              1U);
    open_store();
    EXPECT_EQ(store_->code("acc-mgmt", directory::CodePurpose::root_recovery).value()->tries_left,
              1U);
    EXPECT_EQ(store_->spend_code_try("acc-mgmt", directory::CodePurpose::root_recovery).value(),
              0U);
    // Never below zero.
    EXPECT_EQ(store_->spend_code_try("acc-mgmt", directory::CodePurpose::root_recovery).value(),
              0U);
    EXPECT_EQ(store_->code("acc-mgmt", directory::CodePurpose::root_recovery).value()->tries_left,
              0U);

    EXPECT_TRUE(fails_with(store_->spend_code_try("acc-mgmt", directory::CodePurpose::phone_bind),
                           Errc::not_found));
    EXPECT_TRUE(fails_with(store_->spend_code_try("nope", directory::CodePurpose::root_recovery),
                           Errc::not_found));
    ASSERT_TRUE(ok(store_->delete_code("acc-mgmt", directory::CodePurpose::root_recovery)));
    EXPECT_TRUE(
        fails_with(store_->spend_code_try("acc-mgmt", directory::CodePurpose::root_recovery),
                   Errc::not_found));
}

// ---- roles ---------------------------------------------------------------------------------

TEST_P(StoreTest, GrantsAndListsRolesByAccountUserAndRole)
{
    add_account(make_account("acc-web", "web"));
    add_user(make_user("u-zed", "acc-mgmt", "zed"));
    add_user(make_user("u-amy", "acc-mgmt", "amy"));
    add_user(make_user("u-bob", "acc-web", "bob"));
    ASSERT_TRUE(ok(
        store_->grant_role(make_role("u-zed", directory::Role::directory_admin, 1'700'000'001))));
    ASSERT_TRUE(ok(store_->grant_role(
        make_role("u-bob", directory::Role::account_admin, 1'700'000'002, "directory-admin:zed"))));
    ASSERT_TRUE(ok(
        store_->grant_role(make_role("u-amy", directory::Role::directory_admin, 1'700'000'003))));
    ASSERT_TRUE(
        ok(store_->grant_role(make_role("u-amy", directory::Role::account_admin, 1'700'000'004))));

    // management before web; amy before zed; account-admin before directory-admin.
    EXPECT_EQ(role_names(store_->roles(std::nullopt)),
              (std::vector<std::string>{"u-amy:account-admin", "u-amy:directory-admin",
                                        "u-zed:directory-admin", "u-bob:account-admin"}));
    EXPECT_EQ(role_names(store_->roles("acc-web")),
              (std::vector<std::string>{"u-bob:account-admin"}));
    EXPECT_TRUE(store_->roles("nope").value().empty());
    EXPECT_EQ(role_names(store_->roles_of("u-amy")),
              (std::vector<std::string>{"u-amy:account-admin", "u-amy:directory-admin"}));
    EXPECT_TRUE(store_->roles_of("nope").value().empty());

    const auto bob = store_->roles_of("u-bob");
    ASSERT_TRUE(ok(bob));
    ASSERT_EQ(bob->size(), 1U);
    EXPECT_EQ((*bob)[0].user_id, "u-bob");
    EXPECT_EQ((*bob)[0].role, directory::Role::account_admin);
    EXPECT_EQ((*bob)[0].granted_at, core::from_unix(1'700'000'002));
    EXPECT_EQ((*bob)[0].granted_by, "directory-admin:zed");
    EXPECT_FALSE((*bob)[0].self_revoked_at.has_value());

    // A user's roles go with the user.
    ASSERT_TRUE(ok(store_->delete_user("u-amy")));
    EXPECT_TRUE(store_->roles_of("u-amy").value().empty());
    EXPECT_EQ(store_->roles(std::nullopt)->size(), 2U);
}

TEST_P(StoreTest, KeepsASelfRevokedRoleInactiveUntilGrantedAgain)
{
    add_user(make_user("u1", "acc-mgmt", "alice"));
    ASSERT_TRUE(
        ok(store_->grant_role(make_role("u1", directory::Role::directory_admin, 1'700'000'001))));
    ASSERT_TRUE(ok(store_->revoke_role("u1", directory::Role::directory_admin,
                                       core::from_unix(1'700'000'050))));
    auto roles = store_->roles_of("u1");
    ASSERT_TRUE(ok(roles));
    ASSERT_EQ(roles->size(), 1U);
    EXPECT_EQ((*roles)[0].self_revoked_at, core::from_unix(1'700'000'050));
    EXPECT_EQ((*roles)[0].granted_at, core::from_unix(1'700'000'001));
    EXPECT_EQ(role_names(store_->roles(std::nullopt)),
              (std::vector<std::string>{"u1:directory-admin (self-revoked)"}));

    // Not held actively any more: neither revocation finds it, and the record stays.
    EXPECT_TRUE(fails_with(store_->revoke_role("u1", directory::Role::directory_admin, t0),
                           Errc::not_found));
    EXPECT_TRUE(
        fails_with(store_->revoke_role("u1", directory::Role::directory_admin, std::nullopt),
                   Errc::not_found));
    EXPECT_EQ(store_->roles_of("u1").value().front().self_revoked_at,
              core::from_unix(1'700'000'050));

    // Granting it again reactivates the record with the new grant.
    ASSERT_TRUE(ok(store_->grant_role(
        make_role("u1", directory::Role::directory_admin, 1'700'000'100, "root@host"))));
    roles = store_->roles_of("u1");
    ASSERT_TRUE(ok(roles));
    ASSERT_EQ(roles->size(), 1U);
    EXPECT_FALSE((*roles)[0].self_revoked_at.has_value());
    EXPECT_EQ((*roles)[0].granted_at, core::from_unix(1'700'000'100));
    EXPECT_EQ((*roles)[0].granted_by, "root@host");

    open_store();
    EXPECT_EQ(role_names(store_->roles_of("u1")), (std::vector<std::string>{"u1:directory-admin"}));
}

TEST_P(StoreTest, DeletesARoleRevokedByAnother)
{
    add_user(make_user("u1", "acc-mgmt", "alice"));
    ASSERT_TRUE(
        ok(store_->grant_role(make_role("u1", directory::Role::directory_admin, 1'700'000'001))));
    ASSERT_TRUE(
        ok(store_->grant_role(make_role("u1", directory::Role::account_admin, 1'700'000'002))));
    ASSERT_TRUE(ok(store_->revoke_role("u1", directory::Role::directory_admin, std::nullopt)));
    EXPECT_EQ(role_names(store_->roles_of("u1")), (std::vector<std::string>{"u1:account-admin"}));
    EXPECT_TRUE(
        fails_with(store_->revoke_role("u1", directory::Role::directory_admin, std::nullopt),
                   Errc::not_found));
    EXPECT_TRUE(fails_with(store_->revoke_role("u1", directory::Role::directory_admin, t0),
                           Errc::not_found));
    EXPECT_EQ(count("SELECT count(*) FROM roles"), 1);
}

TEST_P(StoreTest, ReportsRolesOfUnknownUsersAsNotFound)
{
    EXPECT_TRUE(fails_with(store_->grant_role(make_role("nope", directory::Role::account_admin, 1)),
                           Errc::not_found));
    EXPECT_TRUE(
        fails_with(store_->revoke_role("nope", directory::Role::account_admin, std::nullopt),
                   Errc::not_found));
    EXPECT_TRUE(fails_with(store_->revoke_role("nope", directory::Role::account_admin, t0),
                           Errc::not_found));
    add_user(make_user("u1", "acc-mgmt", "alice"));
    EXPECT_TRUE(fails_with(store_->revoke_role("u1", directory::Role::account_admin, std::nullopt),
                           Errc::not_found));
}

// ---- clearing credentials ------------------------------------------------------------------

TEST_P(StoreTest, ClearsEveryCredentialOfAUserButKeepsTheUser)
{
    for (const char* id : {"u1", "u2"}) {
        auto u = make_user(id, "acc-mgmt", std::string("user-") + id);
        u.password_hash = std::string("h0-") + id;
        u.password_set_at = t0;
        add_user(u);
        ASSERT_TRUE(ok(store_->set_password(
            id, {std::string("h1-") + id, core::from_unix(1'700'000'010), true, 5})));
        directory::MfaDeviceRecord d;
        d.id = std::string("dev-") + id;
        d.user_id = id;
        d.sealed_secret = "sealed";
        d.created_at = t0;
        ASSERT_TRUE(ok(store_->add_mfa_device(d, {"rc1", "rc2", "rc3"})));
        ASSERT_TRUE(store_->use_recovery_code(id, "rc1", t0).value());
        for (const char* k : {"LKA", "LKB"}) {
            directory::AccessKeyRecord key;
            key.id = std::string(k) + id;
            key.user_id = id;
            key.secret_hash = "kh";
            key.created_at = t0;
            ASSERT_TRUE(ok(store_->add_access_key(key)));
        }
    }
    ASSERT_TRUE(
        ok(store_->grant_role(make_role("u1", directory::Role::directory_admin, 1'700'000'001))));
    ASSERT_TRUE(ok(store_->set_email("u1", std::string("alice@example.com"))));

    ASSERT_TRUE(ok(store_->clear_credentials("u1")));

    const auto u = store_->user_by_id("u1");
    ASSERT_TRUE(ok(u));
    ASSERT_TRUE(u->has_value());
    EXPECT_EQ((*u)->password_hash, "");
    EXPECT_FALSE((*u)->password_set_at.has_value());
    EXPECT_FALSE((*u)->require_change);
    EXPECT_EQ((*u)->name, "user-u1");
    EXPECT_EQ((*u)->email, "alice@example.com");
    EXPECT_TRUE(store_->password_history("u1", 10).value().empty());
    EXPECT_FALSE(store_->mfa_device("u1").value().has_value());
    EXPECT_EQ(store_->recovery_codes_left("u1").value(), 0U);
    EXPECT_TRUE(store_->access_keys("u1").value().empty());
    // Roles are not credentials.
    EXPECT_EQ(store_->roles_of("u1")->size(), 1U);
    {
        // Used recovery codes go too.
        EXPECT_EQ(count("SELECT count(*) FROM recovery_codes WHERE user_id = 'u1'"), 0);
    }

    // The other user keeps everything.
    const auto other = store_->user_by_id("u2").value();
    ASSERT_TRUE(other.has_value());
    EXPECT_EQ(other->password_hash, "h1-u2");
    EXPECT_TRUE(other->require_change);
    EXPECT_EQ(store_->password_history("u2", 10).value(), std::vector<std::string>{"h0-u2"});
    EXPECT_TRUE(store_->mfa_device("u2").value().has_value());
    EXPECT_EQ(store_->recovery_codes_left("u2").value(), 2U);
    EXPECT_EQ(store_->access_keys("u2")->size(), 2U);

    // A user without credentials is cleared again without complaint; an unknown one is not.
    EXPECT_TRUE(ok(store_->clear_credentials("u1")));
    EXPECT_TRUE(fails_with(store_->clear_credentials("nope"), Errc::not_found));
}

// ---- OpenID Connect: browser sessions and their tokens ------------------------------------

class StoreTokensTest : public StoreTest {
protected:
    void SetUp() override
    {
        StoreTest::SetUp();
        add_user(make_user("u1", "acc-mgmt", "alice"));
        directory::OidcClientRecord c;
        c.id = "app";
        c.name = "App";
        c.secret_hash = "h";
        c.created_at = t0;
        ASSERT_TRUE(ok(store_->add_oidc_client(c)));
        web_ = make_session("w1", "u1", 1'700'000'000);
        web_.service = "oidc";
        web_.kind = directory::SessionKind::web;
        web_.secret_hash = "cookie-hash";
        web_.expires_at = core::from_unix(1'700'003'600);
        ASSERT_TRUE(ok(store_->create_session(web_)));
    }

    directory::RefreshTokenRecord token(std::string hash, std::string family) const
    {
        return {std::move(hash),
                std::move(family),
                "app",
                "u1",
                "w1",
                {"openid", "offline_access"},
                t0,
                "pwd+otp",
                core::from_unix(1'700'100'000),
                std::nullopt};
    }

    directory::SessionRecord web_;
};

TEST_P(StoreTokensTest, FindsAWebSessionByItsCookieHashUntilItExpires)
{
    const auto found = store_->web_session("cookie-hash", core::from_unix(1'700'000'010));
    ASSERT_TRUE(ok(found));
    ASSERT_TRUE(found->has_value());
    EXPECT_EQ((*found)->kind, directory::SessionKind::web);
    EXPECT_EQ((*found)->expires_at, web_.expires_at);
    EXPECT_FALSE(store_->web_session("other", t0).value().has_value());
    const auto late = core::from_unix(1'700'003'601);
    EXPECT_FALSE(store_->web_session("cookie-hash", late).value().has_value());
    EXPECT_TRUE(session_ids(store_->open_sessions(std::nullopt, late)).empty());
    EXPECT_EQ(session_ids(store_->open_sessions(std::nullopt, t0)), std::vector<std::string>{"w1"});
}

TEST_P(StoreTokensTest, RotatesRefreshTokensAndEndsFamiliesAndSessions)
{
    ASSERT_TRUE(ok(store_->add_refresh_token(token("r1", "f1"))));
    ASSERT_TRUE(
        ok(store_->rotate_refresh_token("r1", core::from_unix(1'700'000'050), token("r2", "f1"))));
    const auto r1 = store_->refresh_token("r1").value();
    ASSERT_TRUE(r1.has_value());
    EXPECT_EQ(r1->rotated_at, core::from_unix(1'700'000'050));
    EXPECT_EQ(r1->scopes, (std::vector<std::string>{"openid", "offline_access"}));
    EXPECT_EQ(r1->method, "pwd+otp");
    // A second rotation keeps the first rotation time.
    ASSERT_TRUE(
        ok(store_->rotate_refresh_token("r1", core::from_unix(1'700'000'060), token("r3", "f1"))));
    EXPECT_EQ(store_->refresh_token("r1").value()->rotated_at, core::from_unix(1'700'000'050));
    ASSERT_TRUE(ok(store_->add_refresh_token(token("other", "f2"))));

    EXPECT_EQ(store_->delete_refresh_family("f1").value(), 3U);
    EXPECT_FALSE(store_->refresh_token("r2").value().has_value());
    EXPECT_TRUE(
        fails_with(store_->rotate_refresh_token("r2", t0, token("r4", "f1")), Errc::not_found));

    // Closing the session takes its remaining tokens; no token is made for a closed session.
    ASSERT_TRUE(store_->close_session("w1", t0).value());
    EXPECT_FALSE(store_->refresh_token("other").value().has_value());
    EXPECT_TRUE(fails_with(store_->add_refresh_token(token("late", "f3")), Errc::not_found));
}

TEST_P(StoreTokensTest, EndingAFamilyRevokesTheAccessTokensIssuedFromIt)
{
    ASSERT_TRUE(ok(store_->add_refresh_token(token("r1", "f1"))));
    ASSERT_TRUE(ok(store_->add_refresh_token(token("r9", "f2"))));
    const auto until = core::from_unix(1'700'000'600);
    ASSERT_TRUE(ok(store_->add_family_access_token("f1", "jti-a", until)));
    ASSERT_TRUE(ok(store_->add_family_access_token("f1", "jti-b", until)));
    ASSERT_TRUE(ok(store_->add_family_access_token("f2", "jti-c", until)));
    EXPECT_FALSE(store_->access_token_revoked("jti-a").value());

    EXPECT_EQ(store_->delete_refresh_family("f1").value(), 1U);
    EXPECT_TRUE(store_->access_token_revoked("jti-a").value());
    EXPECT_TRUE(store_->access_token_revoked("jti-b").value());
    EXPECT_FALSE(store_->access_token_revoked("jti-c").value()); // another family
    EXPECT_TRUE(store_->refresh_token("r9").value().has_value());

    // Kept only until they expire, like every revoked token.
    ASSERT_TRUE(ok(store_->expire_web_state(until + std::chrono::seconds(1))));
    EXPECT_FALSE(store_->access_token_revoked("jti-a").value());
    EXPECT_EQ(count("SELECT count(*) FROM oidc_family_access_tokens"), 0);
}

TEST_P(StoreTokensTest, ExpiresWebSessionsAndForgetsDeadTokens)
{
    ASSERT_TRUE(ok(store_->add_refresh_token(token("r1", "f1"))));
    ASSERT_TRUE(ok(store_->revoke_access_token("jti-1", core::from_unix(1'700'000'600))));
    EXPECT_TRUE(store_->access_token_revoked("jti-1").value());
    EXPECT_FALSE(store_->access_token_revoked("jti-2").value());

    const auto early = store_->expire_web_state(core::from_unix(1'700'000'100));
    ASSERT_TRUE(ok(early));
    EXPECT_TRUE(early->empty());
    const auto ended = store_->expire_web_state(core::from_unix(1'700'003'700));
    ASSERT_TRUE(ok(ended));
    ASSERT_EQ(ended->size(), 1U);
    EXPECT_EQ(ended->front().id, "w1");
    EXPECT_TRUE(store_->session("w1").value()->closed_at.has_value());
    EXPECT_FALSE(store_->refresh_token("r1").value().has_value());
    EXPECT_FALSE(store_->access_token_revoked("jti-1").value());
}

TEST_P(StoreTokensTest, RedeemsAnAuthorizationCodeOnceAndRemembersWhatItIssued)
{
    directory::AuthCodeRecord c;
    c.code_hash = "code-hash";
    c.client_id = "app";
    c.user_id = "u1";
    c.session_id = "w1";
    c.redirect_uri = "https://app.example.com/cb";
    c.scopes = {"openid", "offline_access"};
    c.nonce = "n-1";
    c.code_challenge = "challenge";
    c.auth_time = t0;
    c.method = "pwd+otp";
    c.expires_at = core::from_unix(1'700'000'060);
    c.keep_until = core::from_unix(1'700'000'120);
    ASSERT_TRUE(ok(store_->add_auth_code(c)));
    EXPECT_TRUE(fails_with(store_->add_auth_code(c), Errc::already_exists));

    const auto read = store_->auth_code("code-hash");
    ASSERT_TRUE(ok(read));
    ASSERT_TRUE(read->has_value());
    const auto& r = **read;
    EXPECT_EQ(r.client_id, "app");
    EXPECT_EQ(r.user_id, "u1");
    EXPECT_EQ(r.session_id, "w1");
    EXPECT_EQ(r.redirect_uri, c.redirect_uri);
    EXPECT_EQ(r.scopes, c.scopes);
    EXPECT_EQ(r.nonce, "n-1");
    EXPECT_EQ(r.code_challenge, "challenge");
    EXPECT_EQ(r.auth_time, t0);
    EXPECT_EQ(r.method, "pwd+otp");
    EXPECT_EQ(r.expires_at, c.expires_at);
    EXPECT_EQ(r.keep_until, c.keep_until);
    EXPECT_FALSE(r.used);
    EXPECT_FALSE(r.family.has_value());
    EXPECT_TRUE(r.access_jtis.empty());

    // Used once: the first caller wins, every later one is told it is a replay.
    EXPECT_TRUE(store_->use_auth_code("code-hash", std::string("fam-1")).value());
    EXPECT_FALSE(store_->use_auth_code("code-hash", std::string("fam-2")).value());
    ASSERT_TRUE(ok(store_->add_auth_code_token("code-hash", "jti-1")));
    ASSERT_TRUE(ok(store_->add_auth_code_token("code-hash", "jti-1")));
    ASSERT_TRUE(ok(store_->add_auth_code_token("code-hash", "jti-2")));
    const auto used = store_->auth_code("code-hash").value();
    ASSERT_TRUE(used.has_value());
    EXPECT_TRUE(used->used);
    EXPECT_EQ(used->family, "fam-1");
    EXPECT_EQ(used->access_jtis, (std::vector<std::string>{"jti-1", "jti-2"}));

    EXPECT_FALSE(store_->auth_code("nope").value().has_value());
    EXPECT_FALSE(store_->use_auth_code("nope", std::nullopt).value());
    EXPECT_TRUE(fails_with(store_->add_auth_code_token("nope", "jti-3"), Errc::not_found));
    auto orphan = c;
    orphan.code_hash = "other";
    orphan.session_id = "no-such-session";
    EXPECT_TRUE(fails_with(store_->add_auth_code(orphan), Errc::not_found));

    // Kept until keep_until, for replays; then forgotten with its tokens.
    ASSERT_TRUE(ok(store_->expire_web_state(core::from_unix(1'700'000'100))));
    EXPECT_TRUE(store_->auth_code("code-hash").value().has_value());
    ASSERT_TRUE(ok(store_->expire_web_state(core::from_unix(1'700'000'121))));
    EXPECT_FALSE(store_->auth_code("code-hash").value().has_value());
    EXPECT_EQ(count("SELECT count(*) FROM oidc_code_tokens"), 0);
}

TEST_P(StoreTokensTest, KeepsPendingWorkUntilTakenOnceOrExpired)
{
    using directory::PendingKind;
    const auto later = t0 + std::chrono::seconds(600);
    directory::PendingRecord p{PendingKind::sign_in, "tx-hash", std::string("\0sealed\xff", 8),
                               later};
    ASSERT_TRUE(ok(store_->put_pending(p)));
    // The same key of another kind is another record.
    ASSERT_TRUE(ok(store_->put_pending({PendingKind::app_enrolment, "tx-hash", "enrol", later})));
    EXPECT_EQ(store_->count_pending(PendingKind::sign_in, t0).value(), 1);

    // Put again: replaced, not added.
    p.data = std::string("\x01second", 7);
    ASSERT_TRUE(ok(store_->put_pending(p)));
    EXPECT_EQ(store_->count_pending(PendingKind::sign_in, t0).value(), 1);

    const auto taken = store_->take_pending(PendingKind::sign_in, "tx-hash", t0);
    ASSERT_TRUE(ok(taken));
    ASSERT_TRUE(taken->has_value());
    EXPECT_EQ((*taken)->data, p.data);
    EXPECT_EQ((*taken)->expires_at, later);
    EXPECT_EQ((*taken)->kind, PendingKind::sign_in);
    // Taken once: gone until put back.
    EXPECT_FALSE(store_->take_pending(PendingKind::sign_in, "tx-hash", t0).value().has_value());
    EXPECT_EQ(store_->count_pending(PendingKind::sign_in, t0).value(), 0);
    EXPECT_EQ(store_->take_pending(PendingKind::app_enrolment, "tx-hash", t0).value()->data,
              "enrol");
    EXPECT_FALSE(store_->take_pending(PendingKind::sign_in, "nope", t0).value().has_value());

    // Expired: not counted, not given, and pruned with the other web state.
    ASSERT_TRUE(ok(store_->put_pending(p)));
    const auto after = later + std::chrono::seconds(1);
    EXPECT_EQ(store_->count_pending(PendingKind::sign_in, after).value(), 0);
    EXPECT_FALSE(store_->take_pending(PendingKind::sign_in, "tx-hash", after).value().has_value());
    ASSERT_TRUE(ok(store_->put_pending(p)));
    ASSERT_TRUE(ok(store_->expire_web_state(later)));
    EXPECT_EQ(count("SELECT count(*) FROM web_pending"), 1);
    ASSERT_TRUE(ok(store_->expire_web_state(after)));
    EXPECT_EQ(count("SELECT count(*) FROM web_pending"), 0);
}

TEST_P(StoreTokensTest, KeepsTheClientsOfASessionAndConsents)
{
    ASSERT_TRUE(ok(store_->add_session_client("w1", "app")));
    ASSERT_TRUE(ok(store_->add_session_client("w1", "app")));
    EXPECT_EQ(store_->session_clients("w1").value(), std::vector<std::string>{"app"});
    EXPECT_TRUE(fails_with(store_->add_session_client("w1", "nope"), Errc::not_found));

    EXPECT_FALSE(store_->consent("u1", "app").value().has_value());
    ASSERT_TRUE(ok(store_->set_consent("u1", "app", {"openid"}, t0)));
    ASSERT_TRUE(ok(store_->set_consent("u1", "app", {"openid", "profile"}, t0)));
    EXPECT_EQ(store_->consent("u1", "app").value(),
              (std::vector<std::string>{"openid", "profile"}));
    // Removing the client removes what referred to it.
    ASSERT_TRUE(ok(store_->remove_oidc_client("app")));
    EXPECT_FALSE(store_->consent("u1", "app").value().has_value());
    EXPECT_TRUE(store_->session_clients("w1").value().empty());
}

} // namespace

INSTANTIATE_TEST_SUITE_P(Engines, StoreTest, ::testing::ValuesIn(engines()), engine_name);
INSTANTIATE_TEST_SUITE_P(Engines, StoreTokensTest, ::testing::ValuesIn(engines()), engine_name);

} // namespace latchkey::store_test
