// SPDX-License-Identifier: Apache-2.0
// The account lifecycle (seeds 000, 002, 003) on a real SQLite file, a controlled clock and the
// spool notifier in a temporary directory: phone codes, switches, root recovery, centralized
// root access, roles and the root-only tasks.
#include "directory/lifecycle.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>

#include <boost/json.hpp>

#include <gtest/gtest.h>

#include "credentials/phone_codes.hpp"
#include "credentials/secret_box.hpp"
#include "directory/authority.hpp"
#include "notify/alerts.hpp"
#include "notify/notifier.hpp"
#include "tests/directory/directory_fixture.hpp"

namespace latchkey::directory {

namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using core::Errc;
using core::Secret;

const std::string phone = "+4915112345678";
const std::string root_password = "Root-Pass-w0rd!";

Secret copy(const Secret& s)
{
    return Secret(s.view());
}

class LifecycleTest : public DirectoryFixture {
protected:
    void SetUp() override
    {
        DirectoryFixture::SetUp();
        auto box = credentials::SecretBox::from_key(
            Secret(std::string(credentials::SecretBox::key_size, 'k')));
        ASSERT_TRUE(box);
        box_ = std::make_unique<credentials::SecretBox>(std::move(*box));
        spool_ = std::make_unique<notify::SpoolNotifier>(tmp_.file("spool"), clock_);
        make_lifecycle();
    }

    void make_lifecycle()
    {
        authority_ = std::make_unique<Authority>(*store_, *directory_);
        lifecycle_ = std::make_unique<Lifecycle>(*store_, *directory_, *authority_, *audit_,
                                                 clock_);
        codes_ = std::make_unique<credentials::PhoneCodes>(
            *store_, *directory_, *authority_, *passwords_, *spool_, *box_, *audit_, clock_);
    }

    /// The spool's messages, oldest first.
    std::vector<json::object> spooled() const
    {
        std::vector<fs::path> files;
        if (fs::exists(tmp_.file("spool")))
            for (const auto& e : fs::directory_iterator(tmp_.file("spool")))
                if (e.path().extension() == ".json")
                    files.push_back(e.path());
        // Written in order; names share the second of the controlled clock, so order by the
        // time the file system gave each.
        std::sort(files.begin(), files.end(), [](const fs::path& a, const fs::path& b) {
            return fs::last_write_time(a) < fs::last_write_time(b);
        });
        std::vector<json::object> out;
        for (const auto& f : files) {
            std::ifstream in(f);
            const std::string text((std::istreambuf_iterator<char>(in)), {});
            out.push_back(json::parse(text).as_object());
        }
        return out;
    }

    /// The code of the newest verification message.
    Secret last_code() const
    {
        const auto all = spooled();
        for (auto it = all.rbegin(); it != all.rend(); ++it)
            if (it->at("kind").as_string() == "verification_code")
                return Secret(std::string_view(it->at("code").as_string()));
        ADD_FAILURE() << "no verification code in the spool";
        return Secret(std::string_view("none"));
    }

    void bind_phone(const std::string& account = "web")
    {
        ASSERT_TRUE(codes_->phone_bind({account, phone}, host_));
        auto bound = codes_->phone_verify({account, last_code()}, host_);
        ASSERT_TRUE(bound) << bound.error().message;
        ASSERT_EQ(bound->phone, phone);
    }

    void switch_to_cloud(const std::string& account = "web")
    {
        auto r = lifecycle_->switch_kind({account, AccountKind::cloud, true}, host_);
        ASSERT_TRUE(r) << r.error().message;
    }

    /// Every audit event, oldest first, as one text: no code or password may appear in it.
    std::string audit_text()
    {
        AuditQuery q;
        q.limit = 10000;
        auto events = store_->audit(q);
        EXPECT_TRUE(events);
        std::string text;
        for (const auto& e : *events)
            text += format_audit_line(e) + "\n";
        return text;
    }

    Principal user_principal(const std::string& logon)
    {
        auto r = directory_->resolve({logon, std::nullopt});
        EXPECT_TRUE(r) << r.error().message;
        return Principal{logon, std::move(*r), false};
    }

    Principal make_user(const std::string& name, const std::string& account)
    {
        proto::UserCreate req;
        req.ref = {name, account};
        EXPECT_TRUE(directory_->create_user(req, admin_));
        return user_principal(name + "@" + account + ".example.internal");
    }

    std::unique_ptr<credentials::SecretBox> box_;
    std::unique_ptr<notify::SpoolNotifier> spool_;
    std::unique_ptr<Authority> authority_;
    std::unique_ptr<Lifecycle> lifecycle_;
    std::unique_ptr<credentials::PhoneCodes> codes_;
    const Principal host_{"uid:0", std::nullopt, false};
};

TEST(CheckPhone, AcceptsE164Only)
{
    EXPECT_TRUE(credentials::check_phone("+4915112345678"));
    EXPECT_TRUE(credentials::check_phone("+12025550123"));
    for (const char* bad : {"", "+", "4915112345678", "+0915112345678", "+49 151 1234567",
                            "+49-151-1234567", "+1234567", "+1234567890123456", "+49151abc"})
        EXPECT_FALSE(credentials::check_phone(bad)) << bad;
}

TEST_F(LifecycleTest, BindingSendsASixDigitCodeThatBindsTheNumber)
{
    auto sent = codes_->phone_bind({"web", phone}, host_);
    ASSERT_TRUE(sent) << sent.error().message;
    EXPECT_NE(sent->message.find(phone), std::string::npos);
    const auto msgs = spooled();
    ASSERT_EQ(msgs.size(), 1u);
    EXPECT_EQ(msgs[0].at("kind").as_string(), "verification_code");
    EXPECT_EQ(msgs[0].at("phone").as_string(), phone);
    EXPECT_EQ(msgs[0].at("account").as_string(), "web");
    const std::string code(msgs[0].at("code").as_string());
    EXPECT_EQ(code.size(), 6u);
    EXPECT_TRUE(std::all_of(code.begin(), code.end(), [](char c) { return c >= '0' && c <= '9'; }));
    EXPECT_EQ(std::string(msgs[0].at("text").as_string()).find(code), std::string::npos);

    auto bound = codes_->phone_verify({"web", Secret(code)}, host_);
    ASSERT_TRUE(bound) << bound.error().message;
    EXPECT_EQ(bound->phone, phone);
    EXPECT_EQ(bound->codes_sent_today, 1u);
    // Used up: the same code does nothing again.
    EXPECT_FALSE(codes_->phone_verify({"web", Secret(code)}, host_));
    EXPECT_EQ(audit_text().find(code), std::string::npos);
}

TEST_F(LifecycleTest, RefusesANumberThatIsNotE164)
{
    auto r = codes_->phone_bind({"web", "0151 1234567"}, host_);
    ASSERT_FALSE(r);
    EXPECT_TRUE(r.error().is(Errc::invalid_argument));
    EXPECT_NE(r.error().message.find("E.164"), std::string::npos);
    EXPECT_TRUE(spooled().empty());
}

TEST_F(LifecycleTest, ACodeExpiresAfterTenMinutes)
{
    ASSERT_TRUE(codes_->phone_bind({"web", phone}, host_));
    const Secret code = last_code();
    clock_.advance(core::Seconds(600));
    auto r = codes_->phone_verify({"web", copy(code)}, host_);
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().message.find("expired"), std::string::npos) << r.error().message;
    // A fresh code still works at 9:59.
    auto again = codes_->phone_bind({"web", phone}, host_);
    ASSERT_TRUE(again);
    clock_.advance(core::Seconds(599));
    EXPECT_TRUE(codes_->phone_verify({"web", last_code()}, host_));
}

TEST_F(LifecycleTest, FiveWrongTriesVoidTheCode)
{
    ASSERT_TRUE(codes_->phone_bind({"web", phone}, host_));
    const Secret right = last_code();
    const Secret wrong(std::string_view(right.view() == "000000" ? "111111" : "000000"));
    for (int i = 1; i <= 4; ++i) {
        auto r = codes_->phone_verify({"web", copy(wrong)}, host_);
        ASSERT_FALSE(r);
        EXPECT_NE(r.error().message.find(std::to_string(5 - i) + (i == 4 ? " try" : " tries")),
                  std::string::npos)
            << r.error().message;
    }
    auto last = codes_->phone_verify({"web", copy(wrong)}, host_);
    ASSERT_FALSE(last);
    EXPECT_NE(last.error().message.find("last try"), std::string::npos);
    auto late = codes_->phone_verify({"web", copy(right)}, host_);
    ASSERT_FALSE(late);
    EXPECT_NE(late.error().message.find("no verification code is waiting"), std::string::npos);
    auto show = directory_->show_account("web");
    ASSERT_TRUE(show);
    EXPECT_FALSE(show->phone);
}

TEST_F(LifecycleTest, AtMostOneHundredCodesADayAlsoAfterARestart)
{
    for (int i = 0; i < 100; ++i)
        ASSERT_TRUE(codes_->phone_bind({"web", phone}, host_)) << i;
    auto refused = codes_->phone_bind({"web", phone}, host_);
    ASSERT_FALSE(refused);
    EXPECT_NE(refused.error().message.find("100 verification codes today"), std::string::npos)
        << refused.error().message;
    EXPECT_EQ(spooled().size(), 100u);

    // A restart: a new store on the same file, new components.
    codes_.reset();
    lifecycle_.reset();
    authority_.reset();
    passwords_.reset();
    directory_.reset();
    audit_.reset();
    store_.reset();
    auto reopened = sqlite::SqliteStore::open(tmp_.file("test.db"));
    ASSERT_TRUE(reopened);
    store_ = std::move(*reopened);
    audit_ = std::make_unique<Audit>(*store_, clock_);
    directory_ = std::make_unique<Directory>(*store_, *audit_, clock_);
    passwords_ =
        std::make_unique<credentials::Passwords>(*store_, *directory_, hasher_, *audit_, clock_);
    directory_->set_host_account("web");
    make_lifecycle();
    EXPECT_FALSE(codes_->phone_bind({"web", phone}, host_));
    auto shown = directory_->show_account("web");
    ASSERT_TRUE(shown);
    EXPECT_EQ(shown->codes_sent_today, 100u);

    // The next UTC day counts afresh; other accounts were never limited.
    ASSERT_TRUE(directory_->create_account({"db", AccountKind::resource}, admin_));
    EXPECT_TRUE(codes_->phone_bind({"db", phone}, host_));
    clock_.advance(core::Seconds(24 * 3600));
    EXPECT_TRUE(codes_->phone_bind({"web", phone}, host_));
}

TEST_F(LifecycleTest, AResourceAccountsPhoneCannotBeChangedInPlace)
{
    bind_phone();
    auto r = codes_->phone_bind({"web", "+4915199999999"}, host_);
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().message.find("switch the account to a cloud account first"),
              std::string::npos)
        << r.error().message;
}

TEST_F(LifecycleTest, ACloudAccountChangesItsPhoneWithACodeToTheNewNumber)
{
    bind_phone();
    switch_to_cloud();
    const std::string next = "+4915199999999";
    ASSERT_TRUE(codes_->phone_bind({"web", next}, host_));
    EXPECT_EQ(spooled().back().at("phone").as_string(), next);
    auto changed = codes_->phone_verify({"web", last_code()}, host_);
    ASSERT_TRUE(changed) << changed.error().message;
    EXPECT_EQ(changed->phone, next);
    // An account administrator is neither root nor a directory administrator.
    const Principal carol = make_user("carol", "web");
    ASSERT_TRUE(store_->grant_role({carol.user->user.id, Role::account_admin, clock_.now(),
                                    "uid:0", std::nullopt}));
    auto refused = codes_->phone_bind({"web", phone}, carol);
    ASSERT_FALSE(refused);
    EXPECT_NE(refused.error().message.find("its root user or a directory administrator"),
              std::string::npos);
}

TEST_F(LifecycleTest, SwitchingToCloudNeedsAPhoneAndTheAcknowledgement)
{
    auto no_phone = lifecycle_->switch_kind({"web", AccountKind::cloud, true}, host_);
    ASSERT_FALSE(no_phone);
    EXPECT_NE(no_phone.error().message.find("no bound phone"), std::string::npos);
    bind_phone();
    auto no_ack = lifecycle_->switch_kind({"web", AccountKind::cloud, false}, host_);
    ASSERT_FALSE(no_ack);
    EXPECT_NE(no_ack.error().message.find("--acknowledge-risk"), std::string::npos);
    EXPECT_NE(no_ack.error().message.find("Nothing was changed"), std::string::npos);
    auto still = directory_->show_account("web");
    ASSERT_TRUE(still);
    EXPECT_EQ(still->kind, AccountKind::resource);
    EXPECT_FALSE(still->root);
}

TEST_F(LifecycleTest, RootOfACloudAccountIsRecoveredByACodeToThePhone)
{
    bind_phone();
    switch_to_cloud();
    auto shown = directory_->show_account("web");
    ASSERT_TRUE(shown);
    ASSERT_TRUE(shown->root);
    EXPECT_TRUE(shown->root->exists);
    EXPECT_FALSE(shown->root->has_password);
    EXPECT_TRUE(shown->root->recovery_open);

    auto sent = codes_->root_recover({"web", std::nullopt, std::nullopt}, host_);
    ASSERT_TRUE(sent) << sent.error().message;
    const Secret code = last_code();
    EXPECT_EQ(spooled().back().at("phone").as_string(), phone);
    // The account's policy decides the password; a refusal keeps the code.
    auto weak = codes_->root_recover({"web", copy(code), Secret(std::string_view("short"))}, host_);
    ASSERT_FALSE(weak);
    EXPECT_TRUE(weak.error().is(Errc::policy_violation)) << weak.error().message;
    ASSERT_TRUE(codes_->root_recover({"web", std::nullopt, std::nullopt}, host_));
    auto set = codes_->root_recover({"web", last_code(), Secret(root_password)}, host_);
    ASSERT_TRUE(set) << set.error().message;
    shown = directory_->show_account("web");
    ASSERT_TRUE(shown);
    EXPECT_TRUE(shown->root->has_password);
    const std::string audit = audit_text();
    EXPECT_EQ(audit.find(root_password), std::string::npos);
    EXPECT_EQ(audit.find(std::string(code.view())), std::string::npos);
}

TEST_F(LifecycleTest, SwitchingBackDeletesRootsCredentialsAndEndsItsSessions)
{
    bind_phone();
    switch_to_cloud();
    ASSERT_TRUE(codes_->root_recover({"web", std::nullopt, std::nullopt}, host_));
    ASSERT_TRUE(codes_->root_recover({"web", last_code(), Secret(root_password)}, host_));
    auto root = store_->user_by_name(store_->account_by_name("web").value()->id, "root");
    ASSERT_TRUE(root && *root);
    SessionRecord s;
    s.id = "session-of-root";
    s.user_id = (*root)->id;
    s.service = "sshd";
    s.opened_at = clock_.now();
    ASSERT_TRUE(store_->create_session(s));

    auto back = lifecycle_->switch_kind({"web", AccountKind::resource, false}, host_);
    ASSERT_TRUE(back) << back.error().message;
    EXPECT_EQ(back->kind, AccountKind::resource);
    EXPECT_FALSE(back->root);
    auto after = store_->user_by_id((*root)->id);
    ASSERT_TRUE(after && *after);
    EXPECT_TRUE((*after)->password_hash.empty());
    auto open = store_->open_sessions((*root)->id, clock_.now());
    ASSERT_TRUE(open);
    EXPECT_TRUE(open->empty());
    EXPECT_NE(audit_text().find("audit account.switch severity=alert"), std::string::npos);
}

TEST_F(LifecycleTest, CentralizedRootAccessOpensRecoveryOnlyInsideItsWindow)
{
    bind_phone();
    switch_to_cloud();
    ASSERT_TRUE(lifecycle_->set_root_access(true, host_));
    auto shown = directory_->show_account("web");
    ASSERT_TRUE(shown);
    EXPECT_FALSE(shown->root->recovery_open);
    auto closed = codes_->root_recover({"web", std::nullopt, std::nullopt}, host_);
    ASSERT_FALSE(closed);
    EXPECT_NE(closed.error().message.find("allow-recovery"), std::string::npos);

    auto window = lifecycle_->allow_recovery({"web", 3600}, host_);
    ASSERT_TRUE(window) << window.error().message;
    EXPECT_TRUE(window->root->recovery_open);
    ASSERT_TRUE(window->root->recovery_open_until);
    ASSERT_TRUE(codes_->root_recover({"web", std::nullopt, std::nullopt}, host_));
    ASSERT_TRUE(codes_->root_recover({"web", last_code(), Secret(root_password)}, host_));

    clock_.advance(core::Seconds(3601));
    EXPECT_FALSE(codes_->root_recover({"web", std::nullopt, std::nullopt}, host_));

    // Remove the credentials: the password goes, root stays.
    auto removed = lifecycle_->remove_root_credentials("web", host_);
    ASSERT_TRUE(removed) << removed.error().message;
    EXPECT_TRUE(removed->root->exists);
    EXPECT_FALSE(removed->root->has_password);
    EXPECT_FALSE(lifecycle_->allow_recovery({"web", 0}, host_));
    EXPECT_FALSE(lifecycle_->allow_recovery({"web", 8 * 24 * 3600}, host_));
}

TEST_F(LifecycleTest, RemovingRootCredentialsNeedsCentralizedRootAccess)
{
    bind_phone();
    switch_to_cloud();
    auto r = lifecycle_->remove_root_credentials("web", host_);
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().message.find("directory root-access enable"), std::string::npos);
}

TEST_F(LifecycleTest, RootOnlyTasksAreRefusedToEveryoneButRootAndCentralizedAdmins)
{
    bind_phone();
    switch_to_cloud();
    auto refused = lifecycle_->close("web", host_);
    ASSERT_FALSE(refused);
    EXPECT_TRUE(refused.error().is(Errc::permission_denied));
    EXPECT_NE(refused.error().message.find("root-only task"), std::string::npos);
    EXPECT_NE(refused.error().message.find("--as root@web.example.internal"), std::string::npos);

    // Root itself may.
    ASSERT_TRUE(codes_->root_recover({"web", std::nullopt, std::nullopt}, host_));
    ASSERT_TRUE(codes_->root_recover({"web", last_code(), Secret(root_password)}, host_));
    const Principal root = user_principal("root@web.example.internal");
    auto cleared = lifecycle_->clear_logon_networks("web", root);
    ASSERT_FALSE(cleared); // nothing to clear: but it was allowed to ask
    EXPECT_TRUE(cleared.error().is(Errc::failed_precondition));

    // Under centralized root access, a directory administrator may too.
    ASSERT_TRUE(directory_->create_account({"db", AccountKind::resource}, admin_));
    ASSERT_TRUE(lifecycle_->set_root_access(true, host_));
    auto closed = lifecycle_->close("db", host_);
    ASSERT_TRUE(closed) << closed.error().message;
    EXPECT_TRUE(closed->closed_at);
    EXPECT_FALSE(codes_->phone_bind({"db", phone}, host_));
    EXPECT_NE(audit_text().find("audit account.close severity=alert"), std::string::npos);
}

TEST_F(LifecycleTest, AnAdministratorWhoRemovedTheirOwnRoleIsRestoredByRootOnly)
{
    bind_phone();
    switch_to_cloud();
    const Principal dana = make_user("dana", "web");
    ASSERT_TRUE(lifecycle_->grant_role({{"dana@web.example.internal", std::nullopt},
                                        "account-admin"}, host_));
    auto self = lifecycle_->revoke_role({{"dana@web.example.internal", std::nullopt},
                                         "account-admin"}, dana);
    ASSERT_TRUE(self) << self.error().message;
    EXPECT_NE(self->message.find("root"), std::string::npos);

    auto regrant = lifecycle_->grant_role({{"dana@web.example.internal", std::nullopt},
                                           "account-admin"}, host_);
    ASSERT_FALSE(regrant);
    EXPECT_NE(regrant.error().message.find("account restore-admin web dana"), std::string::npos);
    EXPECT_FALSE(lifecycle_->restore_admin({"web", "dana"}, host_));

    ASSERT_TRUE(codes_->root_recover({"web", std::nullopt, std::nullopt}, host_));
    ASSERT_TRUE(codes_->root_recover({"web", last_code(), Secret(root_password)}, host_));
    const Principal root = user_principal("root@web.example.internal");
    auto restored = lifecycle_->restore_admin({"web", "dana"}, root);
    ASSERT_TRUE(restored) << restored.error().message;
    auto roles = lifecycle_->roles({"web"}, host_);
    ASSERT_TRUE(roles);
    ASSERT_EQ(roles->size(), 1u);
    EXPECT_EQ((*roles)[0].role, "account-admin");
    EXPECT_FALSE((*roles)[0].self_revoked_at);
}

TEST_F(LifecycleTest, RolesAreGrantedByWhoMayAndNamedInRefusals)
{
    const Principal mallory = make_user("mallory", "web");
    auto refused = lifecycle_->grant_role({{"mallory@web.example.internal", std::nullopt},
                                           "account-admin"}, mallory);
    ASSERT_FALSE(refused);
    EXPECT_NE(refused.error().message.find("account-admin role"), std::string::npos);
    EXPECT_NE(refused.error().message.find("directory administrators"), std::string::npos);

    auto wrong_account = lifecycle_->grant_role({{"mallory@web.example.internal", std::nullopt},
                                                 "directory-admin"}, host_);
    ASSERT_FALSE(wrong_account);
    EXPECT_NE(wrong_account.error().message.find("management account"), std::string::npos);

    const Principal ops = make_user("ops", "management");
    EXPECT_FALSE(authority_->need_directory_admin(ops, "creating an account"));
    ASSERT_TRUE(lifecycle_->grant_role({{"ops@management.example.internal", std::nullopt},
                                        "directory-admin"}, host_));
    EXPECT_TRUE(authority_->need_directory_admin(ops, "creating an account"));
    EXPECT_TRUE(lifecycle_->grant_role({{"mallory@web.example.internal", std::nullopt},
                                        "account-admin"}, ops));
    EXPECT_FALSE(lifecycle_->grant_role({{"mallory@web.example.internal", std::nullopt},
                                         "root"}, ops));
}

TEST_F(LifecycleTest, NoAdministratorTouchesRootsCredentialsNotEvenOnAResourceAccount)
{
    bind_phone();
    switch_to_cloud();
    ASSERT_TRUE(lifecycle_->switch_kind({"web", AccountKind::resource, false}, host_));
    // The disabled root keeps its record, which no user command may give a password: it would
    // be root's password after the next switch.
    auto root = directory_->resolve({"root", std::string("web")});
    ASSERT_TRUE(root) << root.error().message;
    auto refused = authority_->need_user_admin(host_, *root, "resetting the password");
    ASSERT_FALSE(refused);
    EXPECT_NE(refused.error().message.find("account root recover web"), std::string::npos);
    auto users = directory_->list_users(std::string("web"));
    ASSERT_TRUE(users);
    EXPECT_TRUE(users->empty());
    auto shown = directory_->show_account("web");
    ASSERT_TRUE(shown);
    EXPECT_EQ(shown->users, 0u);
}

TEST_F(LifecycleTest, TheAlertSenderDeliversEveryAlertBeforeItStops)
{
    {
        notify::AlertSender sender(*spool_, *audit_);
        audit_->on_alert([&](const AuditEvent& e) { sender.post(e); });
        bind_phone();
        switch_to_cloud();
        ASSERT_TRUE(codes_->root_recover({"web", std::nullopt, std::nullopt}, host_));
        audit_->on_alert({});
    }
    std::vector<std::string> events;
    for (const auto& m : spooled())
        if (m.at("kind").as_string() == "alert")
            events.emplace_back(m.at("fields").as_object().at("event").as_string());
    EXPECT_EQ(events, (std::vector<std::string>{"account.switch", "root.recover.start"}));
    const std::string audit = audit_text();
    EXPECT_NE(audit.find("audit notify.sent severity=info account=web kind=alert sink=spool"),
              std::string::npos)
        << audit;
}

TEST_F(LifecycleTest, AlertsReachTheHook)
{
    std::vector<std::string> alerts;
    audit_->on_alert([&](const AuditEvent& e) { alerts.push_back(e.event); });
    bind_phone();
    switch_to_cloud();
    EXPECT_NE(std::find(alerts.begin(), alerts.end(), "account.switch"), alerts.end());
    EXPECT_EQ(std::find(alerts.begin(), alerts.end(), "account.phone.bind"), alerts.end());
}

} // namespace

} // namespace latchkey::directory
