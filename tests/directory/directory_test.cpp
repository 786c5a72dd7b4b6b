// SPDX-License-Identifier: Apache-2.0
// Unit tests of the directory model's rules, over a real SQLite file and a controlled clock.
#include <gtest/gtest.h>

#include "tests/directory/directory_fixture.hpp"

namespace latchkey::directory {
namespace {

using core::Errc;
using core::Secret;

class DirectoryTest : public DirectoryFixture {
protected:
    proto::UserRef ref(std::string user) { return {std::move(user), std::nullopt}; }

    core::Result<proto::UserReply> set_custom(const std::string& user, std::string_view pw,
                                              std::optional<bool> require = std::nullopt)
    {
        proto::UserSetPassword req;
        req.ref = ref(user);
        req.mode = proto::PasswordMode::custom;
        req.password = Secret(pw);
        req.require_change = require;
        return passwords_->reset(req, admin_);
    }

};

TEST_F(DirectoryTest, HasExactlyOneManagementAccount)
{
    const auto d = directory_->show();
    ASSERT_TRUE(d);
    EXPECT_EQ(d->domain, "example.internal");
    EXPECT_EQ(d->management_account, "management");
    EXPECT_EQ(d->accounts, 2u);
    const auto again = directory_->init({"other.internal", "mgmt"}, admin_);
    ASSERT_FALSE(again);
    EXPECT_TRUE(again.error().is(Errc::already_exists));
    const auto second = directory_->create_account({"boss", AccountKind::management}, admin_);
    ASSERT_FALSE(second);
    EXPECT_TRUE(second.error().is(Errc::invalid_argument));
}

TEST_F(DirectoryTest, GivesAccountsTheirDefaultDomain)
{
    const auto a = directory_->show_account("web");
    ASSERT_TRUE(a);
    EXPECT_EQ(a->kind, AccountKind::resource);
    EXPECT_EQ(a->default_domain, "web.example.internal");
    const auto cloud = directory_->create_account({"lab", AccountKind::cloud}, admin_);
    ASSERT_TRUE(cloud);
    EXPECT_EQ(cloud->default_domain, "lab.example.internal");
    EXPECT_FALSE(directory_->create_account({"web", AccountKind::resource}, admin_));
    EXPECT_FALSE(directory_->create_account({"Bad_Name", AccountKind::resource}, admin_));
}

TEST_F(DirectoryTest, ResolvesUsersByDefaultDomainAliasOrHostAccount)
{
    ASSERT_TRUE(directory_->create_user({ref("alice"), "Alice", true}, admin_));
    ASSERT_TRUE(directory_->alias({"web", "corp.example", true}, admin_));
    for (const auto* name : {"alice", "alice@web.example.internal", "alice@corp.example",
                             "alice@CORP.example"}) {
        const auto u = directory_->show_user(ref(name));
        ASSERT_TRUE(u) << name << ": " << u.error().message;
        EXPECT_EQ(u->logon_name, "alice@web.example.internal");
        EXPECT_EQ(u->display_name, "Alice");
    }
    EXPECT_TRUE(directory_->show_user(ref("alice@nowhere.example")).error().is(Errc::not_found));
    EXPECT_TRUE(directory_->show_user(ref("bob")).error().is(Errc::not_found));
    // The same name can exist in another account.
    ASSERT_TRUE(directory_->create_account({"db", AccountKind::resource}, admin_));
    ASSERT_TRUE(directory_->create_user({{"alice", "db"}, std::nullopt, true}, admin_));
    EXPECT_EQ(directory_->show_user({"alice", "db"})->logon_name, "alice@db.example.internal");
}

TEST_F(DirectoryTest, AliasesAreUniqueAndTheDefaultDomainStays)
{
    ASSERT_TRUE(directory_->create_account({"db", AccountKind::resource}, admin_));
    ASSERT_TRUE(directory_->alias({"web", "corp.example", true}, admin_));
    EXPECT_TRUE(
        directory_->alias({"db", "corp.example", true}, admin_).error().is(Errc::already_exists));
    EXPECT_FALSE(directory_->alias({"db", "web.example.internal", true}, admin_));
    EXPECT_FALSE(directory_->alias({"web", "web.example.internal", false}, admin_));
    const auto removed = directory_->alias({"web", "corp.example", false}, admin_);
    ASSERT_TRUE(removed);
    EXPECT_TRUE(removed->aliases.empty());
    EXPECT_TRUE(
        directory_->alias({"web", "corp.example", false}, admin_).error().is(Errc::not_found));
}

TEST_F(DirectoryTest, RefusesReservedAndDuplicateUserNames)
{
    EXPECT_FALSE(directory_->create_user({ref("root"), std::nullopt, true}, admin_));
    ASSERT_TRUE(directory_->create_user({ref("bob"), std::nullopt, true}, admin_));
    EXPECT_TRUE(directory_->create_user({ref("bob"), std::nullopt, true}, admin_)
                    .error()
                    .is(Errc::already_exists));
}

TEST_F(DirectoryTest, UsersGetUidsFromTheRangeOnceItIsSet)
{
    // Made before the range was configured: no uid, until the next start gives one.
    const auto early = directory_->create_user({ref("early"), std::nullopt, true}, admin_);
    ASSERT_TRUE(early);
    EXPECT_FALSE(early->uid);
    // A root user (as a cloud account's is stored) never gets one.
    UserRecord root;
    root.id = "u-root";
    root.account_id = directory_->resolve(ref("early")).value().account.id;
    root.name = "root";
    root.created_at = clock_.now();
    ASSERT_TRUE(store_->create_user(root));

    directory_->set_unix({{200000, 200099}});
    EXPECT_EQ(directory_->assign_missing_uids().value(), 1U);
    EXPECT_EQ(directory_->resolve(ref("early")).value().user.uid, 200000U);
    EXPECT_FALSE(store_->user_by_id("u-root").value()->uid);
    EXPECT_EQ(directory_->assign_missing_uids().value(), 0U) << "once only";

    const auto bob = directory_->create_user({ref("bob"), std::nullopt, true}, admin_);
    ASSERT_TRUE(bob);
    EXPECT_EQ(bob->uid, 200001U);
    EXPECT_EQ(directory_->show_user(ref("bob")).value().uid, 200001U);
}

TEST_F(DirectoryTest, GivesUsersAHomeAndShellOfTheirOwnOrTheDefaults)
{
    directory_->set_unix({{200000, 200099}, "/srv/home/%u", "/bin/bash", "latchkey-sudo"});
    const auto alice = directory_->create_user({ref("alice"), std::nullopt, true}, admin_);
    ASSERT_TRUE(alice);
    EXPECT_EQ(alice->home, "/srv/home/alice");
    EXPECT_EQ(alice->shell, "/bin/bash");

    proto::UserSetUnix set{ref("alice"), proto::UnixAttribute::shell, std::string("/bin/zsh")};
    auto changed = directory_->set_unix(set, admin_);
    ASSERT_TRUE(changed) << changed.error().message;
    EXPECT_EQ(changed->shell, "/bin/zsh");
    EXPECT_EQ(last("user.shell").at("shell"), "/bin/zsh");
    set = {ref("alice"), proto::UnixAttribute::home, std::string("/home/a/alice")};
    ASSERT_TRUE(directory_->set_unix(set, admin_));
    EXPECT_EQ(directory_->show_user(ref("alice")).value().home, "/home/a/alice");
    set.value.reset(); // back to the default
    ASSERT_TRUE(directory_->set_unix(set, admin_));
    EXPECT_EQ(directory_->show_user(ref("alice")).value().home, "/srv/home/alice");
    EXPECT_EQ(last("user.home").at("home"), "/srv/home/alice");

    for (const char* bad : {"bin/zsh", "/", "/home/../etc", "/home//alice", "/a:b", "/a\nb",
                            "/home/alice/"}) {
        set = {ref("alice"), proto::UnixAttribute::home, std::string(bad)};
        const auto r = directory_->set_unix(set, admin_);
        ASSERT_FALSE(r) << bad;
        EXPECT_TRUE(r.error().is(Errc::invalid_argument)) << bad;
    }
    EXPECT_EQ(directory_->show_user(ref("alice")).value().home, "/srv/home/alice");

    // The administrators' group owns its name.
    const auto clash = directory_->create_user({ref("latchkey-sudo"), std::nullopt, true}, admin_);
    ASSERT_FALSE(clash);
    EXPECT_TRUE(clash.error().is(Errc::invalid_argument));
}

TEST_F(DirectoryTest, SetsPasswordsInTheThreeModesOfSeed004)
{
    ASSERT_TRUE(directory_->create_user({ref("alice"), std::nullopt, true}, admin_));
    // keep: there is nothing to keep yet
    proto::UserSetPassword keep;
    keep.ref = ref("alice");
    keep.mode = proto::PasswordMode::keep;
    keep.require_change = true;
    EXPECT_TRUE(passwords_->reset(keep, admin_).error().is(Errc::failed_precondition));

    // custom, checked against the policy with its own message
    const auto weak = set_custom("alice", "password");
    ASSERT_FALSE(weak);
    EXPECT_EQ(weak.error().message, "the password must contain an uppercase letter");
    const auto set = set_custom("alice", "Correct-Horse-9");
    ASSERT_TRUE(set) << set.error().message;
    EXPECT_TRUE(set->user.has_password);
    EXPECT_FALSE(set->generated_password);
    EXPECT_EQ(set->user.password_set_at, core::to_unix(clock_.now()));

    // keep + required at next logon
    const auto kept = passwords_->reset(keep, admin_);
    ASSERT_TRUE(kept);
    EXPECT_TRUE(kept->user.require_change);
    EXPECT_EQ(kept->user.password_set_at, set->user.password_set_at);

    // generate: returned once, meets the policy, and is the password now
    proto::UserSetPassword gen;
    gen.ref = ref("alice");
    gen.mode = proto::PasswordMode::generate;
    gen.require_change = false;
    const auto generated = passwords_->reset(gen, admin_);
    ASSERT_TRUE(generated);
    ASSERT_TRUE(generated->generated_password);
    EXPECT_FALSE(generated->user.require_change);
    const auto who = directory_->resolve(ref("alice"));
    EXPECT_TRUE(*hasher_.verify(who->user.password_hash, *generated->generated_password));
}

TEST_F(DirectoryTest, EnforcesPasswordHistory)
{
    ASSERT_TRUE(directory_->create_user({ref("alice"), std::nullopt, true}, admin_));
    ASSERT_TRUE(directory_->set_policy({std::nullopt, {{"history", "2"}}}, admin_));
    ASSERT_TRUE(set_custom("alice", "First-Pass-1"));
    const auto same = set_custom("alice", "First-Pass-1");
    ASSERT_FALSE(same);
    EXPECT_EQ(same.error().message, "the password must not be one of the last 2 passwords");
    ASSERT_TRUE(set_custom("alice", "Second-Pass-2"));
    EXPECT_FALSE(set_custom("alice", "First-Pass-1"));
    ASSERT_TRUE(set_custom("alice", "Third-Pass-3"));
    // Now "First" is three passwords back: allowed again under a history of 2.
    EXPECT_TRUE(set_custom("alice", "First-Pass-1"));
}

TEST_F(DirectoryTest, ReportsExpiryFromThePolicy)
{
    ASSERT_TRUE(directory_->create_user({ref("alice"), std::nullopt, true}, admin_));
    ASSERT_TRUE(set_custom("alice", "Correct-Horse-9"));
    EXPECT_FALSE(directory_->show_user(ref("alice"))->password_expires_at);
    ASSERT_TRUE(directory_->set_policy({std::nullopt, {{"max_age_days", "30"}}}, admin_));
    EXPECT_EQ(directory_->show_user(ref("alice"))->password_expires_at,
              core::to_unix(clock_.now()) + 30 * 86400);
}

TEST_F(DirectoryTest, ValidatesPolicyAndSettingsChanges)
{
    const auto bad = directory_->set_policy({std::nullopt, {{"min_length", "4"}}}, admin_);
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error().message, "min_length must be between 8 and 32");
    EXPECT_EQ(directory_->policy(std::nullopt)->policy.min_length, 8u); // unchanged
    const auto ok = directory_->set_settings(
        {"web", {{"mfa_required", "yes"}, {"allowed_networks", "10.0.0.0/8"}}}, admin_);
    ASSERT_TRUE(ok) << ok.error().message;
    EXPECT_TRUE(directory_->settings("web")->settings.mfa_required);
    EXPECT_FALSE(directory_->set_settings({"web", {{"allowed_networks", "nope"}}}, admin_));
    EXPECT_FALSE(directory_->set_settings({"web", {}}, admin_));
}

TEST_F(DirectoryTest, ConsoleLogonCanBeDisabledAndUsersDeleted)
{
    ASSERT_TRUE(directory_->create_user({ref("alice"), std::nullopt, true}, admin_));
    EXPECT_FALSE(directory_->set_console_logon(ref("alice"), false, admin_)->console_logon);
    EXPECT_TRUE(directory_->set_console_logon(ref("alice"), true, admin_)->console_logon);
    ASSERT_TRUE(directory_->delete_user(ref("alice"), admin_));
    EXPECT_TRUE(directory_->show_user(ref("alice")).error().is(Errc::not_found));
}

TEST_F(DirectoryTest, AuditsChangesWithoutSecrets)
{
    ASSERT_TRUE(directory_->create_user({ref("alice"), std::nullopt, true}, admin_));
    ASSERT_TRUE(set_custom("alice", "Correct-Horse-9"));
    const auto events = store_->audit({});
    ASSERT_TRUE(events);
    ASSERT_GE(events->size(), 4u);
    EXPECT_EQ(events->front().event, "user.password.reset");
    EXPECT_EQ(events->front().fields.at("mode"), "custom");
    for (const auto& e : *events)
        for (const auto& [k, v] : e.fields)
            EXPECT_EQ(v.find("Correct-Horse"), std::string::npos);
}

TEST_F(DirectoryTest, WithoutAHostAccountNamesNeedADomain)
{
    directory_->set_host_account("");
    const auto r = directory_->show_user(ref("alice"));
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().message.find("bound to no account"), std::string::npos);
}

TEST_F(DirectoryTest, KeepsAValidEmailAddressAndRemovesIt)
{
    proto::UserCreate c{{"erin", std::string("web")}, std::nullopt, true};
    c.email = "erin@example.com";
    const auto made = directory_->create_user(c, admin_);
    ASSERT_TRUE(made) << made.error().message;
    EXPECT_EQ(made->email, std::optional<std::string>("erin@example.com"));
    for (const char* bad : {"erin", "@example.com", "erin@", "erin@localhost", "a b@example.com",
                            "erin@example.com.", "<erin@example.com>"}) {
        const auto r = directory_->set_email({{"erin", std::string("web")}, std::string(bad)},
                                             admin_);
        ASSERT_FALSE(r) << bad;
        EXPECT_TRUE(r.error().is(core::Errc::invalid_argument)) << bad;
    }
    const auto changed =
        directory_->set_email({{"erin", std::string("web")}, std::string("e@web.example")}, admin_);
    ASSERT_TRUE(changed) << changed.error().message;
    EXPECT_EQ(directory_->show_user({"erin", std::string("web")})->email,
              std::optional<std::string>("e@web.example"));
    ASSERT_TRUE(directory_->set_email({{"erin", std::string("web")}, std::nullopt}, admin_));
    EXPECT_FALSE(directory_->show_user({"erin", std::string("web")})->email.has_value());
}

} // namespace
} // namespace latchkey::directory
