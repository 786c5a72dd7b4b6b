// SPDX-License-Identifier: Apache-2.0
// Unit tests of the logon rules: a real SQLite file, a controlled clock, no sockets.
#include <gtest/gtest.h>

#include "credentials/auth_engine.hpp"
#include "tests/directory/directory_fixture.hpp"

namespace latchkey::credentials {
namespace {

using core::Secret;
using proto::Outcome;
using proto::PromptKind;

class AuthEngineTest : public directory::DirectoryFixture {
protected:
    void SetUp() override
    {
        directory::DirectoryFixture::SetUp();
        auto box = SecretBox::from_key(Secret(std::string(SecretBox::key_size, 'k')));
        ASSERT_TRUE(box);
        box_ = std::make_unique<SecretBox>(std::move(*box));
        mfa_ = std::make_unique<Mfa>(*store_, *box_, *audit_, clock_, TotpParams{});
        engine_ = std::make_unique<AuthEngine>(*store_, *directory_, hasher_, *mfa_, *audit_,
                                               clock_);
        ASSERT_TRUE(directory_->create_account({"db", proto::AccountKind::resource}, admin_));
        add_user("alice", "Alice-Passw0rd");
    }

    void add_user(const std::string& name, const std::string& pw, const std::string& account = "web")
    {
        ASSERT_TRUE(directory_->create_user({{name, account}, std::nullopt, true}, admin_));
        proto::UserSetPassword req;
        req.ref = {name, account};
        req.password = Secret(pw);
        ASSERT_TRUE(passwords_->reset(req, admin_));
    }

    /// Runs a logon to its verdict, answering each prompt from `answers`; records the prompts.
    proto::Verdict logon(const std::string& user, std::vector<std::string> answers,
                         Caller caller = {0, 1, "pam"}, bool ignore_unknown = false)
    {
        prompts_.clear();
        // From `rhost_`, or else from an address of its own each time, as from many hosts.
        LogonRequest req{"sshd", user, rhost_ ? *rhost_ : "2001:db8::" + std::to_string(++sources_),
                         std::nullopt, ignore_unknown, false};
        auto started = engine_->begin_logon(req, caller);
        Step step = std::move(started.step);
        std::size_t next = 0;
        while (step.prompt) {
            prompts_.push_back(step.prompt->kind);
            EXPECT_TRUE(started.dialogue);
            const std::string a = next < answers.size() ? answers[next++] : "";
            step = started.dialogue->answer(Secret(a));
        }
        EXPECT_TRUE(step.verdict);
        return *step.verdict;
    }

    proto::Verdict change(const std::string& user, std::vector<std::string> answers,
                          bool only_if_expired = false, std::vector<std::string>* messages = nullptr)
    {
        prompts_.clear();
        auto started = engine_->begin_password_change({"passwd", user, only_if_expired}, {0, 1});
        Step step = std::move(started.step);
        std::size_t next = 0;
        for (;;) {
            if (messages)
                for (const auto& m : step.messages)
                    messages->push_back(m.text);
            if (!step.prompt)
                break;
            prompts_.push_back(step.prompt->kind);
            const std::string a = next < answers.size() ? answers[next++] : "";
            step = started.dialogue->answer(Secret(a));
        }
        return *step.verdict;
    }

    std::unique_ptr<SecretBox> box_;
    std::unique_ptr<Mfa> mfa_;
    std::unique_ptr<AuthEngine> engine_;
    std::vector<PromptKind> prompts_;
    std::optional<std::string> rhost_;
    int sources_ = 0;
};

constexpr std::string_view generic = "Authentication failed: wrong user name or password.";

TEST_F(AuthEngineTest, AcceptsTheRightPasswordWithALogonId)
{
    const auto v = logon("alice", {"Alice-Passw0rd"});
    EXPECT_EQ(v.outcome, Outcome::success);
    ASSERT_TRUE(v.logon_id);
    EXPECT_EQ(prompts_, std::vector<PromptKind>{PromptKind::password});
    EXPECT_EQ(logon("alice@web.example.internal", {"Alice-Passw0rd"}).outcome, Outcome::success);
}

TEST_F(AuthEngineTest, AnswersUnknownUsersExactlyLikeWrongPasswords)
{
    const auto wrong = logon("alice", {"nope"});
    const auto unknown = logon("mallory", {"nope"});
    EXPECT_EQ(wrong.outcome, Outcome::denied);
    EXPECT_EQ(unknown.outcome, wrong.outcome);
    EXPECT_EQ(unknown.message, wrong.message);
    EXPECT_EQ(prompts_, std::vector<PromptKind>{PromptKind::password}); // asked all the same
}

TEST_F(AuthEngineTest, IgnoresUnknownUsersOnlyWhenAsked)
{
    EXPECT_EQ(logon("mallory", {}, {0, 1}, true).outcome, Outcome::ignore);
    EXPECT_TRUE(prompts_.empty());
    EXPECT_EQ(logon("alice", {"Alice-Passw0rd"}, {0, 1}, true).outcome, Outcome::success);
}

TEST_F(AuthEngineTest, UsersOfOtherAccountsAreNotUsersOfThisHost)
{
    add_user("bob", "Bob-Passw0rd!", "db");
    EXPECT_EQ(logon("bob@db.example.internal", {"Bob-Passw0rd!"}).outcome, Outcome::denied);
}

TEST_F(AuthEngineTest, RefusesRootOnAResourceAccountWithoutAsking)
{
    const auto v = logon("root", {"anything"});
    EXPECT_EQ(v.outcome, Outcome::denied);
    EXPECT_EQ(v.message.rfind("root logon is disabled on resource accounts", 0), 0u) << v.message;
    EXPECT_NE(v.message.find("switch it to a cloud account"), std::string::npos);
    EXPECT_TRUE(prompts_.empty());
    const auto alerts = store_->audit({directory::Severity::alert, std::nullopt, std::nullopt, 10});
    ASSERT_TRUE(alerts);
    ASSERT_EQ(alerts->size(), 1u);
    EXPECT_EQ(alerts->front().event, "auth.deny");
    EXPECT_EQ(alerts->front().fields.at("reason"), "root_disabled");
}

TEST_F(AuthEngineTest, ConsoleLogonDisabledIsToldOnlyAfterTheRightPassword)
{
    ASSERT_TRUE(directory_->set_console_logon({"alice", std::nullopt}, false, admin_));
    EXPECT_EQ(logon("alice", {"wrong"}).message, logon("mallory", {"wrong"}).message);
    const auto v = logon("alice", {"Alice-Passw0rd"});
    EXPECT_EQ(v.outcome, Outcome::denied);
    EXPECT_EQ(v.message, "Console logon is disabled for this user.");
}

TEST_F(AuthEngineTest, LocksAfterThePolicysFailuresAndUnlocksAfterAnHour)
{
    for (int i = 0; i < 4; ++i)
        EXPECT_EQ(logon("alice", {"wrong"}).outcome, Outcome::denied);
    const auto fifth = logon("alice", {"wrong"});
    EXPECT_EQ(fifth.message, generic); // the lock is not news for a stranger
    EXPECT_TRUE(directory_->show_user({"alice", std::nullopt})->locked_until);
    // Locked: asked for the password like anyone, which is not even checked, and refused in the
    // same words as a wrong password, the right one included.
    const auto locked = logon("alice", {"Alice-Passw0rd"});
    EXPECT_EQ(locked.outcome, Outcome::denied);
    EXPECT_EQ(prompts_, std::vector<PromptKind>{PromptKind::password});
    EXPECT_EQ(locked.message, generic);
    clock_.advance(std::chrono::minutes(59));
    EXPECT_EQ(logon("alice", {"Alice-Passw0rd"}).outcome, Outcome::denied);
    clock_.advance(std::chrono::minutes(2));
    EXPECT_EQ(logon("alice", {"Alice-Passw0rd"}).outcome, Outcome::success);
    const auto events = store_->audit({directory::Severity::info, std::nullopt, std::nullopt, 50});
    ASSERT_TRUE(events);
    int locks = 0, refused_locked = 0;
    for (const auto& e : *events) {
        locks += e.event == "user.lock";
        refused_locked += e.event == "auth.deny" && e.fields.at("reason") == "locked";
    }
    EXPECT_EQ(locks, 1);
    EXPECT_EQ(refused_locked, 2);
}

TEST_F(AuthEngineTest, DialoguesOpenedBeforeTheLockCannotGuessPastIt)
{
    // Finding 2 of issue 24: the lock was checked when a logon began, not at its verdict.
    std::vector<Started> open;
    for (int i = 0; i < 60; ++i) {
        LogonRequest req{"sshd", "alice", "2001:db8::1:" + std::to_string(i), std::nullopt, false,
                         false};
        open.push_back(engine_->begin_logon(req, {0, 1, "pam"}));
        ASSERT_TRUE(open.back().dialogue);
    }
    int denied = 0;
    for (int i = 0; i < 59; ++i) {
        const Step s = open[static_cast<std::size_t>(i)].dialogue->answer(Secret("guess-" + std::to_string(i)));
        ASSERT_TRUE(s.verdict);
        denied += s.verdict->outcome == Outcome::denied;
    }
    EXPECT_EQ(denied, 59);
    const Step right = open.back().dialogue->answer(Secret("Alice-Passw0rd"));
    ASSERT_TRUE(right.verdict);
    EXPECT_EQ(right.verdict->outcome, Outcome::denied);
    EXPECT_FALSE(right.verdict->logon_id);
    // Only the five before the lock were checked; the rest were refused unchecked.
    const auto events = store_->audit({directory::Severity::info, std::nullopt, std::nullopt, 100});
    ASSERT_TRUE(events);
    int checked = 0;
    for (const auto& e : *events)
        checked += e.event == "auth.deny" && e.fields.at("reason") == "bad_password";
    EXPECT_EQ(checked, 5);
}

TEST_F(AuthEngineTest, ASourceIsThrottledBeforeItCanLockTheUser)
{
    rhost_ = "203.0.113.9";
    for (int i = 0; i < 3; ++i)
        EXPECT_EQ(logon("alice", {"wrong"}).message, generic);
    // The fourth try from that address is not checked at all, the right password included.
    const auto throttled = logon("alice", {"Alice-Passw0rd"});
    EXPECT_EQ(throttled.outcome, Outcome::denied);
    EXPECT_EQ(throttled.message.rfind("Too many failed logons from your address", 0), 0u)
        << throttled.message;
    EXPECT_FALSE(directory_->show_user({"alice", std::nullopt})->locked_until);
    // Other addresses still log on; the same one after its failures leave the hour.
    rhost_ = "203.0.113.10";
    EXPECT_EQ(logon("alice", {"Alice-Passw0rd"}).outcome, Outcome::success);
    rhost_ = "203.0.113.9";
    clock_.advance(std::chrono::minutes(61));
    EXPECT_EQ(logon("alice", {"Alice-Passw0rd"}).outcome, Outcome::success);
}

TEST_F(AuthEngineTest, TheThrottleAnswersAlikeForRealAndUnknownNames)
{
    const auto run = [&](const std::string& source, const std::string& user) {
        rhost_ = source;
        std::vector<std::string> answers;
        for (int i = 0; i < 4; ++i) {
            auto m = logon(user, {"wrong"}).message;
            if (const auto after = m.find(" after "); after != std::string::npos)
                m.resize(after); // the time differs only by the clock
            answers.push_back(m);
        }
        return answers;
    };
    EXPECT_EQ(run("203.0.113.1", "alice"), run("203.0.113.2", "mallory"));
    // Names count as typed, in one canonical form: a bare name and its user@domain are one.
    rhost_ = "203.0.113.3";
    logon("alice", {"wrong"});
    logon("ALICE@web.example.internal", {"wrong"});
    logon("alice@web.example.internal", {"wrong"});
    EXPECT_EQ(logon("alice", {"wrong"}).message.rfind("Too many failed logons from", 0), 0u);
}

TEST_F(AuthEngineTest, ASourceSprayingManyNamesIsThrottledToo)
{
    rhost_ = "203.0.113.50";
    for (int i = 0; i < 30; ++i)
        logon("user" + std::to_string(i), {"Spray-1234"});
    EXPECT_EQ(logon("alice", {"Alice-Passw0rd"}).message.rfind("Too many failed logons from", 0),
              0u);
}

TEST_F(AuthEngineTest, LocalLogonsHaveNoSourceToThrottle)
{
    rhost_ = "";
    for (int i = 0; i < 4; ++i)
        logon("alice", {"wrong"});
    EXPECT_EQ(logon("alice", {"Alice-Passw0rd"}).outcome, Outcome::success);
}

TEST_F(AuthEngineTest, OnlyFailuresWithinTheHourCount)
{
    for (int i = 0; i < 4; ++i)
        logon("alice", {"wrong"});
    clock_.advance(std::chrono::minutes(61));
    for (int i = 0; i < 4; ++i)
        logon("alice", {"wrong"});
    EXPECT_EQ(logon("alice", {"Alice-Passw0rd"}).outcome, Outcome::success);
}

TEST_F(AuthEngineTest, AnAdministratorCanUnlock)
{
    for (int i = 0; i < 5; ++i)
        logon("alice", {"wrong"});
    EXPECT_TRUE(directory_->show_user({"alice", std::nullopt})->locked_until);
    ASSERT_TRUE(directory_->unlock({"alice", std::nullopt}, admin_));
    EXPECT_FALSE(directory_->show_user({"alice", std::nullopt})->locked_until);
    EXPECT_EQ(logon("alice", {"Alice-Passw0rd"}).outcome, Outcome::success);
}

TEST_F(AuthEngineTest, AnUnprivilegedCallerMayOnlyAskAboutItself)
{
    // uid 65534 is "nobody" on Debian; it is not alice.
    const auto v = logon("alice", {"Alice-Passw0rd"}, {65534, 1, "pam"});
    EXPECT_EQ(v.outcome, Outcome::permission_denied);
    EXPECT_TRUE(prompts_.empty());
    const auto c = engine_->check_account({"sshd", "alice", std::nullopt, false}, {65534, 1});
    EXPECT_EQ(c.outcome, Outcome::permission_denied);
}

TEST_F(AuthEngineTest, AccountCheckAsksForANewPasswordWhenExpiredOrRequired)
{
    EXPECT_EQ(engine_->check_account({"sshd", "alice", std::nullopt, false}, {0, 1}).outcome,
              Outcome::success);
    ASSERT_TRUE(directory_->set_policy({std::nullopt, {{"max_age_days", "30"}}}, admin_));
    clock_.advance(std::chrono::hours(24 * 31));
    EXPECT_EQ(engine_->check_account({"sshd", "alice", std::nullopt, false}, {0, 1}).outcome,
              Outcome::new_authtok_required);
    ASSERT_TRUE(directory_->set_policy({std::nullopt, {{"hard_expiry", "yes"}}}, admin_));
    EXPECT_EQ(engine_->check_account({"sshd", "alice", std::nullopt, false}, {0, 1}).outcome,
              Outcome::account_expired);
    EXPECT_EQ(engine_->check_account({"sshd", "mallory", std::nullopt, true}, {0, 1}).outcome,
              Outcome::ignore);
}

TEST_F(AuthEngineTest, PasswordChangeAsksCurrentNewRepeatAndEnforcesThePolicy)
{
    ASSERT_TRUE(directory_->set_policy({std::nullopt, {{"history", "2"}}}, admin_));
    std::vector<std::string> messages;
    const auto v = change("alice", {"Alice-Passw0rd", "short", "Alice-Passw0rd", "Alice-Passw0rd",
                                    "Better-Passw0rd", "Better-Passw0rd"},
                          false, &messages);
    EXPECT_EQ(v.outcome, Outcome::success) << v.message;
    EXPECT_EQ(prompts_, (std::vector<PromptKind>{PromptKind::current_password,
                                                 PromptKind::new_password,
                                                 PromptKind::new_password,
                                                 PromptKind::repeat_password,
                                                 PromptKind::new_password,
                                                 PromptKind::repeat_password}));
    const auto has = [&](std::string_view s) {
        return std::any_of(messages.begin(), messages.end(),
                           [&](const std::string& m) { return m.find(s) != std::string::npos; });
    };
    EXPECT_TRUE(has("the password must be at least 8 characters long."));
    EXPECT_TRUE(has("the password must not be one of the last 2 passwords."));
    EXPECT_EQ(logon("alice", {"Better-Passw0rd"}).outcome, Outcome::success);
    EXPECT_EQ(logon("alice", {"Alice-Passw0rd"}).outcome, Outcome::denied);
}

TEST_F(AuthEngineTest, APasswordChangeResumedByAnotherEngineAtEveryStepChangesIt)
{
    AuthEngine other(*store_, *directory_, hasher_, *mfa_, *audit_, clock_);
    auto started = engine_->begin_password_change({"passwd", "alice", false}, {0, 1});
    Step step = std::move(started.step);
    std::unique_ptr<Dialogue> dialogue = std::move(started.dialogue);
    const std::vector<std::string> answers{"Alice-Passw0rd", "N3w-Passw0rd!x", "N3w-Passw0rd!x"};
    for (std::size_t i = 0; step.prompt && i < answers.size(); ++i) {
        const auto saved = dialogue->save();
        ASSERT_TRUE(saved) << step.prompt->text;
        auto resumed = (i % 2 == 0 ? other : *engine_).resume(*saved);
        ASSERT_TRUE(resumed) << resumed.error().message;
        dialogue = std::move(*resumed);
        step = dialogue->answer(Secret(answers[i]));
    }
    ASSERT_TRUE(step.verdict);
    EXPECT_EQ(step.verdict->outcome, Outcome::success) << step.verdict->message;
    EXPECT_EQ(logon("alice", {"N3w-Passw0rd!x"}).outcome, Outcome::success);
    EXPECT_FALSE(dialogue->save()) << "an ended dialogue has nothing to go on with";
}

TEST_F(AuthEngineTest, PasswordChangeGivesUpAfterThreeTries)
{
    const auto v = change("alice", {"Alice-Passw0rd", "a", "b", "c"});
    EXPECT_EQ(v.outcome, Outcome::authtok_error);
    EXPECT_EQ(logon("alice", {"Alice-Passw0rd"}).outcome, Outcome::success);
}

TEST_F(AuthEngineTest, PasswordChangeHonoursTheAccountSetting)
{
    ASSERT_TRUE(directory_->set_settings({std::nullopt, {{"allow_change_password", "no"}}}, admin_));
    EXPECT_EQ(change("alice", {}).outcome, Outcome::permission_denied);
    // A change the administrator required is still allowed.
    proto::UserSetPassword keep;
    keep.ref = {"alice", std::nullopt};
    keep.mode = proto::PasswordMode::keep;
    keep.require_change = true;
    ASSERT_TRUE(passwords_->reset(keep, admin_));
    EXPECT_EQ(change("alice", {"Alice-Passw0rd", "Newer-Passw0rd", "Newer-Passw0rd"}, true).outcome,
              Outcome::success);
    EXPECT_FALSE(directory_->show_user({"alice", std::nullopt})->require_change);
}

TEST_F(AuthEngineTest, OnlyIfExpiredDoesNothingForACurrentPassword)
{
    EXPECT_EQ(change("alice", {}, true).outcome, Outcome::success);
    EXPECT_TRUE(prompts_.empty());
    EXPECT_EQ(change("mallory", {}).outcome, Outcome::ignore);
}

TEST_F(AuthEngineTest, SessionsFindTheirLogonByIdOrByUserAndService)
{
    const auto v = logon("alice", {"Alice-Passw0rd"});
    const auto s1 = engine_->open_session({"sshd", "alice", "pts/1", "192.0.2.1", v.logon_id,
                                           std::nullopt},
                                          {0, 42});
    ASSERT_TRUE(s1);
    // Another process opens the session without the id (sshd's authentication child).
    logon("alice", {"Alice-Passw0rd"});
    const auto s2 = engine_->open_session({"sshd", "alice", "pts/2", std::nullopt, std::nullopt,
                                           std::string("7")},
                                          {0, 43});
    ASSERT_TRUE(s2);
    const auto list = directory_->sessions(std::nullopt);
    ASSERT_TRUE(list);
    ASSERT_EQ(list->size(), 2u);
    EXPECT_EQ(list->at(0).logon_id, v.logon_id);
    EXPECT_EQ(list->at(0).method, "pwd");
    EXPECT_EQ(list->at(0).pid, 42);
    EXPECT_TRUE(list->at(1).logon_id);
    EXPECT_EQ(list->at(1).logind_session, "7");
    ASSERT_TRUE(engine_->close_session({"sshd", "alice", *s1, std::nullopt}, {0, 42}));
    ASSERT_TRUE(engine_->close_session({"sshd", "alice", std::nullopt, "pts/2"}, {0, 43}));
    EXPECT_TRUE(directory_->sessions(std::nullopt)->empty());
    EXPECT_FALSE(engine_->close_session({"sshd", "alice", *s1, std::nullopt}, {0, 42}));
}

TEST_F(AuthEngineTest, NoHostAccountMeansLatchkeyCannotDecide)
{
    directory_->set_host_account("");
    EXPECT_EQ(logon("alice", {}).outcome, Outcome::unavailable);
}

TEST_F(AuthEngineTest, UpgradesOldHashesOnLogon)
{
    hasher_.set_params({2048, 1, 1});
    EXPECT_EQ(logon("alice", {"Alice-Passw0rd"}).outcome, Outcome::success);
    const auto who = directory_->resolve({"alice", std::nullopt});
    EXPECT_EQ(who->user.password_hash.rfind("$argon2id$v=19$m=2048,t=1,p=1$", 0), 0u);
    EXPECT_EQ(logon("alice", {"Alice-Passw0rd"}).outcome, Outcome::success);
}

TEST_F(AuthEngineTest, RootOfACloudAccountLogsOnOnlyWithAPasswordAndThenEnrolsMfa)
{
    ASSERT_TRUE(directory_->create_account({"lab", proto::AccountKind::cloud}, admin_));
    directory_->set_host_account("lab"); // a host of the cloud account
    // Root exists but has no password yet: refused at once, pointing at the recovery.
    auto v = logon("root@lab.example.internal", {"anything"});
    EXPECT_EQ(v.outcome, Outcome::denied);
    EXPECT_NE(v.message.find("account root recover lab"), std::string::npos) << v.message;
    EXPECT_TRUE(prompts_.empty());

    auto lab = directory_->account(std::string("lab"));
    ASSERT_TRUE(lab);
    auto root = store_->user_by_name(lab->id, "root");
    ASSERT_TRUE(root && *root);
    ASSERT_TRUE(passwords_->replace({*lab, **root}, Secret("Root-Passw0rd!"), false));
    // With a password, the first logon must enrol MFA (the account does not ask for it).
    ASSERT_FALSE(lab->settings.mfa_enrol_at_logon);
    v = logon("root", {"Root-Passw0rd!", "000000"});
    EXPECT_NE(v.outcome, Outcome::success);
    ASSERT_GE(prompts_.size(), 2u);
    EXPECT_EQ(prompts_[1], PromptKind::verification_code);
    // Every attempt is an alert.
    auto alerts = store_->audit({directory::Severity::alert, std::nullopt, std::nullopt, 100});
    ASSERT_TRUE(alerts);
    EXPECT_GE(alerts->size(), 2u);
    for (const auto& e : *alerts) {
        if (e.event.rfind("auth.", 0) == 0) {
            EXPECT_EQ(e.fields.at("account"), "lab");
        }
    }
}

TEST_F(AuthEngineTest, NobodyLogsOnToAClosedAccount)
{
    auto web = directory_->account(std::string("web"));
    ASSERT_TRUE(web);
    ASSERT_TRUE(store_->set_closed(web->id, clock_.now()));
    // Told apart from a wrong password by nothing: the same prompt, the same words.
    const auto v = logon("alice", {"Alice-Passw0rd"});
    EXPECT_EQ(v.outcome, Outcome::denied);
    EXPECT_EQ(v.message, generic);
    EXPECT_EQ(prompts_, std::vector<PromptKind>{PromptKind::password});
    EXPECT_EQ(logon("alice", {"wrong"}).message, generic);
}

} // namespace
} // namespace latchkey::credentials
