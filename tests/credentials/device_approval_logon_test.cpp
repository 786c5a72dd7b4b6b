// SPDX-License-Identifier: Apache-2.0
// Unit tests of remote PAM logons approved on the /device page: the account's device_approval
// setting, the code and QR the dialogue shows, and what each decision of the page does to the
// logon waiting for it. The page's side is the engine's DeviceApprovals, as the provider calls
// it; the directory is a real SQLite file and the clock a manual one.
#include <algorithm>

#include <gtest/gtest.h>

#include "credentials/auth_engine.hpp"
#include "credentials/totp.hpp"
#include "tests/directory/directory_fixture.hpp"

namespace latchkey::credentials {
namespace {

using core::Secret;
using proto::Outcome;
using proto::PromptKind;
using proto::PromptStyle;

constexpr std::string_view password = "Alice-Passw0rd";
constexpr std::string_view page = "https://login.example.internal/device";

/// What a logon showed and decided.
struct Logon {
    proto::Verdict verdict;
    std::vector<proto::Prompt> prompts;
    std::vector<std::string> messages;
    std::vector<std::string> codes; ///< the user codes shown, in order
    std::vector<bool> instructing;  ///< each message's `instructs`
};

class DeviceApprovalLogonTest : public directory::DirectoryFixture {
protected:
    void SetUp() override
    {
        DirectoryFixture::SetUp();
        auto box = SecretBox::from_key(Secret(std::string(SecretBox::key_size, 'k')));
        ASSERT_TRUE(box);
        box_ = std::make_unique<SecretBox>(std::move(*box));
        mfa_ = std::make_unique<Mfa>(*store_, *box_, *audit_, clock_, TotpParams{});
        engine_ =
            std::make_unique<AuthEngine>(*store_, *directory_, hasher_, *mfa_, *audit_, clock_);
        engine_->set_device_page({std::string(page), "host1"});
        for (const char* name : {"alice", "bob"}) {
            ASSERT_TRUE(directory_->create_user({{name, "web"}, std::nullopt, true}, admin_));
            proto::UserSetPassword req;
            req.ref = {name, "web"};
            req.password = Secret(password);
            ASSERT_TRUE(passwords_->reset(req, admin_));
        }
    }

    void approval(std::string_view mode)
    {
        ASSERT_TRUE(
            directory_->set_settings({"web", {{"device_approval", std::string(mode)}}}, admin_));
    }

    std::string id_of(const std::string& name)
    {
        return directory_->resolve({name, "web"}).value().user.id;
    }

    /// What the /device page does when `name` signs in and decides the code.
    core::Result<PendingApproval>
    decide(const std::string& code, const std::string& name, bool approve)
    {
        return engine_->device_approvals().decide(
            code, DeviceApprover{id_of(name), "session-of-" + name, "hwk+uv"}, approve,
            "browser-of-" + name, clock_.now());
    }

    /// A PAM logon of `user` over ssh from 192.0.2.7. Each prompt is answered by the next of
    /// `typed`; before each answer, `between` runs with the codes shown so far (the person at
    /// the page).
    Logon logon(std::vector<std::string> typed,
                const std::function<void(const std::vector<std::string>&)>& between = {},
                const std::string& user = "alice",
                std::optional<std::string> rhost = std::string("192.0.2.7"),
                const std::string& front_door = "pam")
    {
        Logon run;
        LogonRequest req{"sshd", user, std::move(rhost), std::string("ssh"), false, false};
        auto started = engine_->begin_logon(req, {0, 1, front_door});
        Step s = std::move(started.step);
        std::size_t next = 0;
        for (int i = 0; s.prompt && i < 12; ++i) {
            for (const auto& m : s.messages) {
                run.messages.push_back(m.text);
                run.instructing.push_back(m.instructs.value_or(false));
                constexpr std::string_view cue = "and enter code  ";
                if (const auto at = m.text.find(cue); at != std::string::npos)
                    run.codes.push_back(m.text.substr(at + cue.size()));
            }
            run.prompts.push_back(*s.prompt);
            if (between)
                between(run.codes);
            s = started.dialogue->answer(Secret(next < typed.size() ? typed[next++] : ""));
        }
        for (const auto& m : s.messages)
            run.messages.push_back(m.text);
        EXPECT_TRUE(s.verdict);
        if (s.verdict)
            run.verdict = *s.verdict;
        return run;
    }

    static bool shown(const Logon& r, std::string_view text)
    {
        return std::ranges::any_of(
            r.messages, [&](const auto& m) { return m.find(text) != std::string::npos; });
    }

    std::unique_ptr<SecretBox> box_;
    std::unique_ptr<Mfa> mfa_;
    std::unique_ptr<AuthEngine> engine_;
    int shown_count_ = 0; ///< prompts seen by the person at the page
};

TEST_F(DeviceApprovalLogonTest, OffByDefault)
{
    const auto r = logon({std::string(password)});
    EXPECT_EQ(r.verdict.outcome, Outcome::success) << r.verdict.message;
    ASSERT_EQ(r.prompts.size(), 1U);
    EXPECT_EQ(r.prompts[0].kind, PromptKind::password);
    EXPECT_TRUE(r.codes.empty());
    EXPECT_EQ(last("auth.allow").at("method"), "pwd");
}

TEST_F(DeviceApprovalLogonTest, InsteadOfPasswordShowsTheCodeAndWaitsForTheApproval)
{
    approval("instead_of_password");
    bool approved = false;
    const auto r = logon({"", ""}, [&](const std::vector<std::string>& codes) {
        // The first Enter comes before the approval; the second after it.
        if (codes.size() == 1 && !approved && shown_count_ == 1) {
            ASSERT_TRUE(decide(codes[0], "alice", true));
            approved = true;
        }
        ++shown_count_;
    });
    EXPECT_EQ(r.verdict.outcome, Outcome::success) << r.verdict.message;
    ASSERT_EQ(r.codes.size(), 1U);
    EXPECT_EQ(r.codes[0].size(), 9U);
    EXPECT_EQ(r.codes[0][4], '-');
    ASSERT_EQ(r.prompts.size(), 2U);
    EXPECT_EQ(r.prompts[0].kind, PromptKind::other);
    EXPECT_EQ(r.prompts[0].style, PromptStyle::echo_on);
    EXPECT_EQ(r.prompts[0].text, "Press Enter when you have approved.");
    EXPECT_EQ(r.messages.at(0), "To sign in to host1 as alice, open");
    EXPECT_EQ(r.messages.at(1), "  " + std::string(page) + "   and enter code  " + r.codes[0]);
    EXPECT_EQ(r.messages.at(2), "or scan:");
    for (std::size_t i = 0; i < r.messages.size(); ++i)
        EXPECT_EQ(r.instructing[i], r.messages[i] != "Not approved yet.")
            << "the code and where to type it are shown even under PAM_SILENT: " << r.messages[i];
    EXPECT_GT(r.messages.size(), 10U); // the QR code's lines
    EXPECT_TRUE(shown(r, "Not approved yet."));
    const auto allow = last("auth.allow");
    EXPECT_EQ(allow.at("method"), "device_approval");
    EXPECT_EQ(allow.at("approved_by_session"), "session-of-alice");
    EXPECT_EQ(allow.at("approver_method"), "hwk+uv");
    EXPECT_EQ(allow.at("rhost"), "192.0.2.7");
    // Single use: the code is gone once its logon has heard the approval.
    const auto again = decide(r.codes[0], "alice", true);
    ASSERT_FALSE(again);
    EXPECT_TRUE(again.error().is(core::Errc::not_found));
}

TEST_F(DeviceApprovalLogonTest, AfterPasswordAsksThePasswordFirst)
{
    approval("after_password");
    const auto r = logon({std::string(password), ""}, [&](const std::vector<std::string>& codes) {
        if (codes.size() == 1)
            (void)decide(codes[0], "alice", true);
    });
    EXPECT_EQ(r.verdict.outcome, Outcome::success) << r.verdict.message;
    ASSERT_EQ(r.prompts.size(), 2U);
    EXPECT_EQ(r.prompts[0].kind, PromptKind::password);
    EXPECT_EQ(r.prompts[1].text, "Press Enter when you have approved.");
    EXPECT_EQ(last("auth.allow").at("method"), "pwd+device_approval");
}

TEST_F(DeviceApprovalLogonTest, AfterPasswordAWrongPasswordIssuesNoCode)
{
    approval("after_password");
    const auto r = logon({"wrong-password"});
    EXPECT_EQ(r.verdict.outcome, Outcome::denied);
    EXPECT_TRUE(r.codes.empty());
    EXPECT_EQ(engine_->device_approvals().size(), 0U);
}

TEST_F(DeviceApprovalLogonTest, AfterPasswordAVerificationCodeServesInstead)
{
    approval("after_password");
    const auto who = directory_->resolve({"alice", "web"}).value();
    auto pending = mfa_->start(who);
    ASSERT_TRUE(pending);
    const Secret secret = pending->secret.clone();
    const auto code = [&] { return Secret(totp_code(secret, clock_.now(), TotpParams{})); };
    ASSERT_TRUE(mfa_->accept_first(*pending, code(), "uid:0"));
    clock_.advance(std::chrono::seconds(30));
    ASSERT_TRUE(mfa_->accept_second(*pending, code(), "uid:0"));
    clock_.advance(std::chrono::seconds(30));

    const auto r = logon({std::string(password), std::string(code().view())});
    EXPECT_EQ(r.verdict.outcome, Outcome::success) << r.verdict.message;
    ASSERT_EQ(r.prompts.size(), 2U);
    EXPECT_EQ(r.prompts[1].text,
              "Press Enter when you have approved, or type a verification code: ");
    EXPECT_EQ(last("auth.allow").at("method"), "pwd+otp");
    // The code that was not used is withdrawn.
    EXPECT_EQ(engine_->device_approvals().size(), 0U);
}

TEST_F(DeviceApprovalLogonTest, ADenialRefuses)
{
    approval("instead_of_password");
    const auto r = logon({""}, [&](const std::vector<std::string>& codes) {
        ASSERT_TRUE(decide(codes.at(0), "alice", false));
    });
    EXPECT_EQ(r.verdict.outcome, Outcome::denied);
    EXPECT_EQ(r.verdict.message, "Authentication failed: the logon was denied.");
    EXPECT_EQ(last("auth.deny").at("reason"), "approval_denied");
}

TEST_F(DeviceApprovalLogonTest, AnExpiredCodeRefuses)
{
    approval("instead_of_password");
    const auto r = logon(
        {""}, [&](const std::vector<std::string>&) { clock_.advance(std::chrono::seconds(301)); });
    EXPECT_EQ(r.verdict.outcome, Outcome::denied);
    EXPECT_EQ(r.verdict.message, "Authentication failed: the code expired before it was approved.");
    EXPECT_EQ(last("auth.deny").at("reason"), "approval_expired");
}

TEST_F(DeviceApprovalLogonTest, AnotherUserCannotApproveAndSpendsTheCode)
{
    approval("instead_of_password");
    const auto r = logon({"", ""}, [&](const std::vector<std::string>& codes) {
        if (shown_count_++ > 0)
            return;
        const auto st = decide(codes.at(0), "bob", true);
        ASSERT_FALSE(st);
        EXPECT_TRUE(st.error().is(core::Errc::permission_denied));
        // alice's own approval comes too late: the code is spent.
        EXPECT_FALSE(decide(codes.at(0), "alice", true));
    });
    EXPECT_EQ(r.verdict.outcome, Outcome::denied);
    EXPECT_EQ(last("auth.deny").at("reason"), "approval_denied");
    EXPECT_TRUE(last("auth.allow").empty());
}

TEST_F(DeviceApprovalLogonTest, AnUnknownNameSeesACodeNobodyCanApprove)
{
    approval("instead_of_password");
    const auto r = logon(
        {""},
        [&](const std::vector<std::string>& codes) {
            EXPECT_FALSE(decide(codes.at(0), "alice", true));
        },
        "mallory");
    EXPECT_EQ(r.verdict.outcome, Outcome::denied);
    ASSERT_EQ(r.codes.size(), 1U);
    EXPECT_EQ(r.messages.at(0), "To sign in to host1 as mallory, open");
    EXPECT_EQ(r.prompts.at(0).text, "Press Enter when you have approved.");
}

TEST_F(DeviceApprovalLogonTest, OnlyRemotePamLogonsWaitForAnApproval)
{
    approval("instead_of_password");
    // At the console (no remote address), and at the web pages, the password is asked.
    for (const auto& r :
         {logon({std::string(password)}, {}, "alice", std::nullopt),
          logon({std::string(password)}, {}, "alice@web.example.internal", "192.0.2.7", "oidc")}) {
        EXPECT_EQ(r.verdict.outcome, Outcome::success) << r.verdict.message;
        EXPECT_EQ(r.prompts.at(0).kind, PromptKind::password);
        EXPECT_TRUE(r.codes.empty());
    }
    // sudo names this host as the remote one: that is not a remote logon either.
    for (const char* self : {"host1", "HOST1.example.internal", "localhost"}) {
        const auto r = logon({std::string(password)}, {}, "alice", std::string(self));
        EXPECT_EQ(r.prompts.at(0).kind, PromptKind::password) << self;
        EXPECT_TRUE(r.codes.empty()) << self;
    }
    // Without a page to approve on (no provider), neither does a remote logon.
    engine_->set_device_page({});
    const auto r = logon({std::string(password)});
    EXPECT_EQ(r.verdict.outcome, Outcome::success) << r.verdict.message;
    EXPECT_TRUE(r.codes.empty());
}

TEST_F(DeviceApprovalLogonTest, RootOfAResourceAccountIsRefusedBeforeAnyCode)
{
    approval("instead_of_password");
    const auto r = logon({""}, {}, "root");
    EXPECT_EQ(r.verdict.outcome, Outcome::denied);
    EXPECT_TRUE(r.prompts.empty());
    EXPECT_EQ(engine_->device_approvals().size(), 0U);
}

TEST_F(DeviceApprovalLogonTest, TheAccountsRulesStillApplyAfterTheApproval)
{
    approval("instead_of_password");
    const auto r = logon({""}, [&](const std::vector<std::string>& codes) {
        ASSERT_TRUE(decide(codes.at(0), "alice", true));
        ASSERT_TRUE(
            directory_->set_settings({"web", {{"allowed_networks", "10.0.0.0/8"}}}, admin_));
    });
    EXPECT_EQ(r.verdict.outcome, Outcome::denied);
    EXPECT_EQ(last("auth.deny").at("reason"), "network_not_allowed");
}

TEST_F(DeviceApprovalLogonTest, CodesPerUserAreRateLimited)
{
    approval("instead_of_password");
    const LogonRequest req{"sshd", "alice", std::string("192.0.2.7"), std::string("ssh"),
                           false,  false};
    for (int i = 0; i < 5; ++i) {
        const auto started = engine_->begin_logon(req, {0, 1, "pam"});
        ASSERT_TRUE(started.step.prompt);
        EXPECT_EQ(started.step.prompt->kind, PromptKind::other);
    }
    const auto started = engine_->begin_logon(req, {0, 1, "pam"});
    ASSERT_TRUE(started.step.verdict);
    EXPECT_EQ(started.step.verdict->outcome, Outcome::denied);
    EXPECT_EQ(started.step.verdict->message,
              "Too many logons are waiting for an approval; try again in a few minutes.");
    EXPECT_EQ(last("auth.deny").at("reason"), "approval_rate_limited");
}

} // namespace
} // namespace latchkey::credentials
