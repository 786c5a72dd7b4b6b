// SPDX-License-Identifier: Apache-2.0
// Unit tests of pam_module/: every hook against a scripted person and a scripted latchkeyd,
// the option parser, to_pam(), and Handle/Conversation over a real (module-less) pam_handle_t.
#include "pam_module/dialogue.hpp"

#include <array>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include <syslog.h>
#include <unistd.h>

#include <security/pam_appl.h>
#include <security/pam_modules.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/random.hpp"
#include "hostkey/ceremony.hpp"
#include "pam_module/conversation.hpp"
#include "pam_module/handle.hpp"
#include "pam_module/options.hpp"
#include "pam_module/to_pam.hpp"
#include "proto/key_helper.hpp"
#include "proto/wire.hpp"
#include "tests/hostkey/key_server.hpp"
#include "tests/temp_dir.hpp"
#include "webauthn/response.hpp"

namespace latchkey::pam {
namespace {

using proto::Outcome;
using proto::PromptKind;
using proto::PromptStyle;
using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::Pair;

// ---- fakes ------------------------------------------------------------------------------

/// libpam's state as plain values.
class FakeHost final : public Host {
public:
    std::optional<std::string> user_name = "alice";
    int user_error = PAM_SUCCESS; ///< what pam_get_user fails with, if not PAM_SUCCESS
    std::optional<std::string> service_item = "sshd";
    std::optional<std::string> rhost_item;
    std::optional<std::string> tty_item;
    std::optional<std::string> authtok_item;
    std::optional<std::string> old_authtok_item;
    std::map<std::string, std::string> module_data;
    std::map<std::string, std::string> env;
    std::vector<std::pair<int, std::string>> logs;

    core::Result<std::string> user() override
    {
        if (user_error != PAM_SUCCESS)
            return core::fail(pam_code_error(user_error, "pam_get_user failed"));
        return *user_name;
    }

    [[nodiscard]] std::optional<std::string> service() const override { return service_item; }

    [[nodiscard]] std::optional<std::string> rhost() const override { return rhost_item; }

    [[nodiscard]] std::optional<std::string> tty() const override { return tty_item; }

    [[nodiscard]] std::optional<core::Secret> authtok() const override
    {
        return secret(authtok_item);
    }

    [[nodiscard]] std::optional<core::Secret> old_authtok() const override
    {
        return secret(old_authtok_item);
    }

    core::Status set_authtok(const core::Secret& token) override
    {
        authtok_item = std::string(token.view());
        return {};
    }

    core::Status set_old_authtok(const core::Secret& token) override
    {
        old_authtok_item = std::string(token.view());
        return {};
    }

    [[nodiscard]] std::optional<std::string> data(const std::string& name) const override
    {
        return lookup(module_data, name);
    }

    core::Status set_data(const std::string& name, std::string_view value) override
    {
        module_data[name] = value;
        return {};
    }

    [[nodiscard]] std::optional<std::string> getenv(const std::string& name) const override
    {
        return lookup(env, name);
    }

    core::Status putenv(const std::string& name, std::string_view value) override
    {
        env[name] = value;
        return {};
    }

    core::Status unset_env(const std::string& name) override
    {
        env.erase(name);
        return {};
    }

    void log(int priority, std::string_view message) override
    {
        logs.emplace_back(priority, message);
    }

    /// The log lines at `priority`.
    [[nodiscard]] std::vector<std::string> lines(int priority) const
    {
        std::vector<std::string> out;
        for (const auto& [p, m] : logs)
            if (p == priority)
                out.push_back(m);
        return out;
    }

private:
    static std::optional<core::Secret> secret(const std::optional<std::string>& s)
    {
        if (!s)
            return std::nullopt;
        return core::Secret(*s);
    }

    static std::optional<std::string> lookup(const std::map<std::string, std::string>& m,
                                             const std::string& key)
    {
        const auto it = m.find(key);
        if (it == m.end())
            return std::nullopt;
        return it->second;
    }
};

/// A person who types the scripted answers in order and sees everything.
class ScriptedPerson final : public Prompter {
public:
    std::deque<std::string> answers;
    int fail_with = PAM_SUCCESS; ///< every conversation fails with this code, if set
    std::vector<std::pair<PromptStyle, std::string>> seen;

    core::Result<core::Secret> ask(PromptStyle style, std::string_view text) override
    {
        seen.emplace_back(style, text);
        if (fail_with != PAM_SUCCESS)
            return core::fail(pam_code_error(fail_with, "the conversation failed"));
        if (answers.empty()) {
            ADD_FAILURE() << "unexpected prompt: " << text;
            return core::fail(pam_code_error(PAM_CONV_ERR, "no answer scripted"));
        }
        core::Secret answer(answers.front());
        answers.pop_front();
        return answer;
    }

    core::Status show(PromptStyle style, std::string_view text) override
    {
        seen.emplace_back(style, text);
        if (fail_with != PAM_SUCCESS)
            return core::fail(pam_code_error(fail_with, "the conversation failed"));
        return {};
    }
};

/// latchkeyd as a list of replies; it keeps a decoded copy of every request.
class ScriptedDaemon final : public Channel {
public:
    std::deque<core::Result<proto::Response>> replies;
    std::vector<proto::Request> requests;
    int extended = 0;

    void reply(proto::Response r) { replies.emplace_back(std::move(r)); }

    void fail(core::Errc e, std::string message)
    {
        replies.emplace_back(core::fail(e, std::move(message)));
    }

    core::Result<proto::Response> call(const proto::Request& request) override
    {
        auto copy = proto::decode_request(proto::encode(request));
        EXPECT_TRUE(copy) << "the module sent a request that does not decode";
        if (copy)
            requests.push_back(std::move(copy).value());
        if (replies.empty()) {
            ADD_FAILURE() << "unexpected request " << proto::to_log_string(request);
            return core::fail(core::Errc::daemon_unreachable, "no reply scripted");
        }
        auto r = std::move(replies.front());
        replies.pop_front();
        return r;
    }

    void extend_deadline() override { ++extended; }

    template <class T>
    [[nodiscard]] const T& sent(std::size_t i) const
    {
        EXPECT_LT(i, requests.size());
        EXPECT_TRUE(std::holds_alternative<T>(requests.at(i)))
            << "request " << i << " is " << proto::type_name(requests.at(i));
        return std::get<T>(requests.at(i));
    }

    [[nodiscard]] std::string answer(std::size_t i) const
    {
        return std::string(sent<proto::AuthAnswer>(i).answer.view());
    }
};

proto::Response ask(PromptKind kind,
                    PromptStyle style,
                    std::string text,
                    std::vector<proto::Message> messages = {})
{
    proto::AuthReply r;
    r.messages = std::move(messages);
    r.prompt = proto::Prompt{kind, style, std::move(text), std::nullopt};
    return r;
}

proto::Response password_prompt()
{
    return ask(PromptKind::password, PromptStyle::echo_off, "Password: ");
}

proto::Response decide(Outcome outcome,
                       std::string message = {},
                       std::optional<std::string> logon_id = std::nullopt,
                       std::vector<proto::Message> messages = {})
{
    proto::AuthReply r;
    r.messages = std::move(messages);
    r.verdict = proto::Verdict{outcome, std::move(message), std::move(logon_id)};
    return r;
}

proto::Response refuse(core::Errc e, std::string message)
{
    return proto::failure(core::Error{e, std::move(message)});
}

class Hooks : public ::testing::Test {
protected:
    Call call(int flags = 0) { return Call{options, flags, host, person, daemon}; }

    Options options;
    FakeHost host;
    ScriptedPerson person;
    ScriptedDaemon daemon;
};

// ---- pam_sm_authenticate ----------------------------------------------------------------

TEST_F(Hooks, AuthenticateSendsTheLogonAndRelaysThePasswordPrompt)
{
    host.rhost_item = "203.0.113.7";
    host.tty_item = "ssh";
    person.answers = {"hunter2"};
    daemon.reply(password_prompt());
    daemon.reply(decide(Outcome::success, "", "logon-1"));

    EXPECT_EQ(authenticate(call()), PAM_SUCCESS);

    const auto& begin = daemon.sent<proto::AuthBegin>(0);
    EXPECT_EQ(begin.service, "sshd");
    EXPECT_EQ(begin.user, "alice");
    EXPECT_EQ(begin.rhost, "203.0.113.7");
    EXPECT_EQ(begin.tty, "ssh");
    EXPECT_FALSE(begin.ignore_unknown_user);
    EXPECT_FALSE(begin.single_prompt);
    EXPECT_EQ(daemon.answer(1), "hunter2");
    EXPECT_THAT(person.seen, ElementsAre(Pair(PromptStyle::echo_off, "Password: ")));
    EXPECT_GE(daemon.extended, 1) << "the person's typing time must not count against latchkeyd";
    EXPECT_THAT(host.lines(LOG_ERR), IsEmpty());
}

TEST_F(Hooks, AuthenticateKeepsTheLogonIdInModuleDataAndThePamEnvironment)
{
    person.answers = {"hunter2"};
    daemon.reply(password_prompt());
    daemon.reply(decide(Outcome::success, "", "logon-1"));

    ASSERT_EQ(authenticate(call()), PAM_SUCCESS);

    EXPECT_EQ(host.module_data["latchkey_logon_id"], "logon-1");
    EXPECT_EQ(host.env["LATCHKEY_LOGON_ID"], "logon-1");
}

TEST_F(Hooks, AuthenticateSetsPamAuthtokFromThePersonsPassword)
{
    person.answers = {"hunter2"};
    daemon.reply(password_prompt());
    daemon.reply(decide(Outcome::denied, "Wrong password."));

    EXPECT_EQ(authenticate(call()), PAM_AUTH_ERR);
    EXPECT_EQ(host.authtok_item, "hunter2") << "later modules may use_first_pass";
}

TEST_F(Hooks, AuthenticatePassesItsFlagsOptions)
{
    options.ignore_unknown_user = true;
    options.single_prompt = true;
    daemon.reply(decide(Outcome::ignore));

    EXPECT_EQ(authenticate(call()), PAM_IGNORE);
    const auto& begin = daemon.sent<proto::AuthBegin>(0);
    EXPECT_TRUE(begin.ignore_unknown_user);
    EXPECT_TRUE(begin.single_prompt);
    EXPECT_THAT(person.seen, IsEmpty());
    EXPECT_THAT(host.module_data, IsEmpty());
    EXPECT_THAT(host.env, IsEmpty());
}

TEST_F(Hooks, AuthenticateRelaysAVerificationCodeWithEcho)
{
    person.answers = {"hunter2", "123456"};
    daemon.reply(password_prompt());
    daemon.reply(ask(PromptKind::verification_code, PromptStyle::echo_on, "Verification code: "));
    daemon.reply(decide(Outcome::success, "", "logon-2"));

    EXPECT_EQ(authenticate(call()), PAM_SUCCESS);
    EXPECT_EQ(daemon.answer(1), "hunter2");
    EXPECT_EQ(daemon.answer(2), "123456");
    EXPECT_THAT(person.seen, ElementsAre(Pair(PromptStyle::echo_off, "Password: "),
                                         Pair(PromptStyle::echo_on, "Verification code: ")));
    EXPECT_EQ(host.authtok_item, "hunter2") << "a code is not an authtok";
    EXPECT_GE(daemon.extended, 2);
}

TEST_F(Hooks, AuthenticateShowsMessagesBeforeThePrompt)
{
    person.answers = {"hunter2"};
    daemon.reply(ask(PromptKind::password, PromptStyle::echo_off, "Password: ",
                     {{PromptStyle::info, "Welcome to web."},
                      {PromptStyle::error, "Your last logon failed."}}));
    daemon.reply(decide(Outcome::success, "", "logon-1"));

    EXPECT_EQ(authenticate(call()), PAM_SUCCESS);
    EXPECT_THAT(person.seen, ElementsAre(Pair(PromptStyle::info, "Welcome to web."),
                                         Pair(PromptStyle::error, "Your last logon failed."),
                                         Pair(PromptStyle::echo_off, "Password: ")));
}

TEST_F(Hooks, AuthenticateUnderPamSilentDropsInformationButNotErrors)
{
    person.answers = {"hunter2"};
    daemon.reply(ask(PromptKind::password, PromptStyle::echo_off, "Password: ",
                     {{PromptStyle::info, "Welcome to web."},
                      {PromptStyle::error, "Your last logon failed."}}));
    daemon.reply(decide(Outcome::denied, "Wrong password."));

    EXPECT_EQ(authenticate(call(PAM_SILENT)), PAM_AUTH_ERR);
    EXPECT_THAT(person.seen, ElementsAre(Pair(PromptStyle::error, "Your last logon failed."),
                                         Pair(PromptStyle::echo_off, "Password: "),
                                         Pair(PromptStyle::error, "Wrong password.")));
}

TEST_F(Hooks, UnderPamSilentLinesThatInstructForThePromptAreStillShown)
{
    person.answers = {""};
    proto::Message where{PromptStyle::info, "open https://login.example.org/device", false, true};
    daemon.reply(ask(PromptKind::other, PromptStyle::echo_on, "Press Enter when you have approved.",
                     {{PromptStyle::info, "Your last logon was yesterday."}, where}));
    daemon.reply(decide(Outcome::success, "", "logon-2"));

    EXPECT_EQ(authenticate(call(PAM_SILENT)), PAM_SUCCESS);
    EXPECT_THAT(person.seen,
                ElementsAre(Pair(PromptStyle::info, "open https://login.example.org/device"),
                            Pair(PromptStyle::echo_on, "Press Enter when you have approved.")));
}

TEST_F(Hooks, AuthenticateShowsAnInfoPromptAndAnswersItEmpty)
{
    person.answers = {"hunter2"};
    daemon.reply(password_prompt());
    daemon.reply(ask(PromptKind::other, PromptStyle::info, "Touch your security key"));
    daemon.reply(decide(Outcome::success, "", "logon-3"));

    EXPECT_EQ(authenticate(call()), PAM_SUCCESS);
    EXPECT_EQ(daemon.answer(2), "");
    EXPECT_THAT(person.seen, ElementsAre(Pair(PromptStyle::echo_off, "Password: "),
                                         Pair(PromptStyle::info, "Touch your security key")));
}

TEST_F(Hooks, AuthenticateShowsTheReasonOfARefusalAsAnError)
{
    daemon.reply(decide(Outcome::denied, "root cannot log on to a resource account"));

    EXPECT_EQ(authenticate(call()), PAM_AUTH_ERR);
    EXPECT_THAT(person.seen,
                ElementsAre(Pair(PromptStyle::error, "root cannot log on to a resource account")));
    EXPECT_THAT(host.module_data, IsEmpty());
    EXPECT_THAT(host.lines(LOG_ERR), IsEmpty()) << "a refusal is a decision, not an error";
}

TEST_F(Hooks, AuthenticateMapsEveryOutcome)
{
    const std::vector<std::pair<Outcome, int>> cases = {
        {Outcome::success, PAM_SUCCESS},
        {Outcome::denied, PAM_AUTH_ERR},
        {Outcome::ignore, PAM_IGNORE},
        {Outcome::unavailable, PAM_AUTHINFO_UNAVAIL},
        {Outcome::permission_denied, PAM_PERM_DENIED},
        {Outcome::new_authtok_required, PAM_NEW_AUTHTOK_REQD},
        {Outcome::authtok_error, PAM_AUTHTOK_ERR},
        {Outcome::account_expired, PAM_ACCT_EXPIRED},
    };
    for (const auto& [outcome, code] : cases) {
        ScriptedDaemon d;
        d.reply(decide(outcome));
        FakeHost h;
        ScriptedPerson p;
        EXPECT_EQ(authenticate(Call{options, 0, h, p, d}), code) << pam_code_name(code);
    }
}

TEST_F(Hooks, UseFirstPassAnswersThePasswordFromPamAuthtok)
{
    options.use_first_pass = true;
    host.authtok_item = "from-pam_unix";
    person.answers = {"123456"};
    daemon.reply(password_prompt());
    daemon.reply(ask(PromptKind::verification_code, PromptStyle::echo_on, "Verification code: "));
    daemon.reply(decide(Outcome::success, "", "logon-4"));

    EXPECT_EQ(authenticate(call()), PAM_SUCCESS);
    EXPECT_EQ(daemon.answer(1), "from-pam_unix");
    EXPECT_EQ(daemon.answer(2), "123456");
    EXPECT_THAT(person.seen, ElementsAre(Pair(PromptStyle::echo_on, "Verification code: ")));
}

TEST_F(Hooks, UseFirstPassWithoutPamAuthtokFailsWithoutPrompting)
{
    options.use_first_pass = true;
    daemon.reply(password_prompt());

    EXPECT_EQ(authenticate(call()), PAM_AUTH_ERR);
    EXPECT_THAT(person.seen, IsEmpty());
    EXPECT_EQ(daemon.requests.size(), 1U) << "no answer may be sent";
}

TEST_F(Hooks, UseFirstPassNeverPromptsForASecondPassword)
{
    options.use_first_pass = true;
    host.authtok_item = "wrong";
    daemon.reply(password_prompt());
    daemon.reply(password_prompt());

    EXPECT_EQ(authenticate(call()), PAM_AUTH_ERR);
    EXPECT_THAT(person.seen, IsEmpty());
}

TEST_F(Hooks, TryFirstPassPromptsWhenNoPamAuthtokIsSet)
{
    options.try_first_pass = true;
    person.answers = {"hunter2"};
    daemon.reply(password_prompt());
    daemon.reply(decide(Outcome::success, "", "logon-5"));

    EXPECT_EQ(authenticate(call()), PAM_SUCCESS);
    EXPECT_EQ(daemon.answer(1), "hunter2");
    EXPECT_THAT(person.seen, ElementsAre(Pair(PromptStyle::echo_off, "Password: ")));
}

TEST_F(Hooks, TryFirstPassUsesPamAuthtokOnceThenAsksThePerson)
{
    options.try_first_pass = true;
    host.authtok_item = "stale";
    person.answers = {"hunter2"};
    daemon.reply(password_prompt());
    daemon.reply(ask(PromptKind::password, PromptStyle::echo_off, "Password: ",
                     {{PromptStyle::error, "Wrong password."}}));
    daemon.reply(decide(Outcome::success, "", "logon-6"));

    EXPECT_EQ(authenticate(call()), PAM_SUCCESS);
    EXPECT_EQ(daemon.answer(1), "stale");
    EXPECT_EQ(daemon.answer(2), "hunter2");
    EXPECT_EQ(host.authtok_item, "hunter2");
}

TEST_F(Hooks, UnreachableDaemonIsAuthinfoUnavailLoggedOnce)
{
    daemon.fail(core::Errc::daemon_unreachable,
                "cannot reach latchkeyd at /run/latchkey/pam.sock: No such file or directory");

    EXPECT_EQ(authenticate(call()), PAM_AUTHINFO_UNAVAIL);
    EXPECT_THAT(host.lines(LOG_ERR),
                ElementsAre("cannot reach latchkeyd at /run/latchkey/pam.sock: No such file or "
                            "directory"));
    EXPECT_THAT(person.seen, IsEmpty());
}

TEST_F(Hooks, SilentOrUntrustedDaemonIsAuthinfoUnavail)
{
    for (const auto e : {core::Errc::daemon_timeout, core::Errc::daemon_untrusted,
                         core::Errc::daemon_busy}) {
        ScriptedDaemon d;
        FakeHost h;
        d.fail(e, "because");
        EXPECT_EQ(authenticate(Call{options, 0, h, person, d}), PAM_AUTHINFO_UNAVAIL);
        EXPECT_EQ(h.lines(LOG_ERR).size(), 1U);
    }
}

TEST_F(Hooks, DaemonTimingOutAfterThePasswordIsAuthinfoUnavail)
{
    person.answers = {"hunter2"};
    daemon.reply(password_prompt());
    daemon.fail(core::Errc::daemon_timeout, "latchkeyd did not answer in time");

    EXPECT_EQ(authenticate(call()), PAM_AUTHINFO_UNAVAIL);
    EXPECT_THAT(host.lines(LOG_ERR), ElementsAre("latchkeyd did not answer in time"));
}

TEST_F(Hooks, FailureRepliesAreMappedByCodeAndLoggedOnce)
{
    const std::vector<std::pair<core::Errc, int>> cases = {
        {core::Errc::daemon_busy, PAM_AUTHINFO_UNAVAIL},
        {core::Errc::permission_denied, PAM_PERM_DENIED},
        {core::Errc::store_failed, PAM_SERVICE_ERR},
        {core::Errc::protocol_malformed, PAM_SERVICE_ERR},
    };
    for (const auto& [errc, code] : cases) {
        ScriptedDaemon d;
        FakeHost h;
        d.reply(refuse(errc, "no"));
        EXPECT_EQ(authenticate(Call{options, 0, h, person, d}), code) << core::errc_name(errc);
        ASSERT_EQ(h.lines(LOG_ERR).size(), 1U);
        EXPECT_THAT(h.lines(LOG_ERR)[0], ::testing::HasSubstr("auth.begin"));
        EXPECT_THAT(h.lines(LOG_ERR)[0], ::testing::HasSubstr(core::errc_name(errc)));
    }
}

TEST_F(Hooks, AnUnexpectedReplyIsAServiceError)
{
    daemon.reply(proto::Done{"?"});

    EXPECT_EQ(authenticate(call()), PAM_SERVICE_ERR);
    EXPECT_EQ(host.lines(LOG_ERR).size(), 1U);
}

TEST_F(Hooks, AReplyWithBothPromptAndVerdictIsRefused)
{
    proto::AuthReply both;
    both.prompt = proto::Prompt{};
    both.verdict = proto::Verdict{Outcome::success, "", "logon-7"};
    daemon.reply(both);

    EXPECT_EQ(authenticate(call()), PAM_SERVICE_ERR);
    EXPECT_THAT(host.module_data, IsEmpty());
}

TEST_F(Hooks, AReplyWithNeitherPromptNorVerdictIsRefused)
{
    daemon.reply(proto::AuthReply{});

    EXPECT_EQ(authenticate(call()), PAM_SERVICE_ERR);
}

TEST_F(Hooks, ADaemonThatNeverStopsAskingIsCutOff)
{
    for (int i = 0; i < 100; ++i)
        daemon.reply(ask(PromptKind::other, PromptStyle::info, "Still there?"));

    EXPECT_EQ(authenticate(call()), PAM_SERVICE_ERR);
    EXPECT_LT(daemon.requests.size(), 100U);
}

TEST_F(Hooks, AFailedConversationEndsTheDialogueWithItsCode)
{
    person.fail_with = PAM_CONV_ERR;
    daemon.reply(password_prompt());

    EXPECT_EQ(authenticate(call()), PAM_CONV_ERR);
    EXPECT_EQ(daemon.requests.size(), 1U);
    EXPECT_EQ(host.lines(LOG_ERR).size(), 1U);
}

TEST_F(Hooks, AConversationToBeResumedIsIncomplete)
{
    person.fail_with = PAM_CONV_AGAIN;
    daemon.reply(password_prompt());

    EXPECT_EQ(authenticate(call()), PAM_INCOMPLETE);
}

TEST_F(Hooks, AFailedPamGetUserIsReturnedAsIs)
{
    host.user_error = PAM_SYSTEM_ERR;

    EXPECT_EQ(authenticate(call()), PAM_SYSTEM_ERR);
    EXPECT_THAT(daemon.requests, IsEmpty());
}

// ---- security keys, through the real latchkey-fido and a software key -------------------

/// A software key behind a socket with one credential for `rp`, and the module's options that
/// reach it through the helper meson built.
class SecurityKeyHooks : public Hooks {
protected:
    explicit SecurityKeyHooks(hostkey::testing::SoftwareKey::Options o = {})
        : key(std::move(o))
        , server(key, (dir.path() / "key.sock").string())
    {
        const char* build = std::getenv("LATCHKEY_BUILD_DIR");
        EXPECT_NE(build, nullptr) << "meson sets LATCHKEY_BUILD_DIR";
        options.fido_helper = std::string(build ? build : "") + "/hostkey/latchkey-fido";
        options.security_key = server.where();
        auto dev = hostkey::Device::open(server.where());
        EXPECT_TRUE(dev.has_value());
        hostkey::CredentialRequest req;
        req.rp_id = "pam:example.internal";
        req.rp_name = "latchkey";
        req.user_id = "alice's handle";
        req.user_name = "alice";
        req.client_data_hash = std::string(32, 'c');
        req.user_verification = key.options().pin.has_value();
        const core::Secret pin(key.options().pin.value_or(""));
        req.pin = &pin;
        auto made = hostkey::make_credential(*dev, req);
        EXPECT_TRUE(made.has_value()) << made.error().message;
        credential_id = made ? made->credential_id : std::string();
    }

    /// A call whose security keys are the helper's, with the options as the test left them.
    Call keyed_call(int flags = 0)
    {
        keys.emplace(options.fido_helper, options.security_key);
        Call c = call(flags);
        c.keys = &*keys;
        return c;
    }

    proto::Response key_prompt(bool uv = false) const
    {
        proto::SecurityKeyCeremony c;
        c.rp_id = "pam:example.internal";
        c.origin = "pam://example.internal";
        c.challenge = core::base64_encode(std::string(32, 'x'), true, false);
        c.allow = {core::base64_encode(credential_id, true, false)};
        c.user_verification = uv;
        proto::AuthReply r;
        r.prompt = proto::Prompt{PromptKind::security_key, PromptStyle::info,
                                 "Touch your security key", c};
        return r;
    }

    const proto::SecurityKeyResult& key_answer(std::size_t i) const
    {
        static const proto::SecurityKeyResult none{{}, "no security_key in the answer"};
        const auto& a = daemon.sent<proto::AuthAnswer>(i);
        return a.security_key ? *a.security_key : none;
    }

    test_support::TempDir dir;
    hostkey::testing::SoftwareKey key;
    hostkey::testing::KeyServer server;
    std::optional<proto::HelperKeys> keys;
    std::string credential_id;
};

TEST_F(SecurityKeyHooks, AuthenticateRunsTheHelperAndAnswersWithTheKeysResponse)
{
    daemon.reply(key_prompt());
    daemon.reply(decide(Outcome::success, "", "logon-1"));
    EXPECT_EQ(authenticate(keyed_call()), PAM_SUCCESS);
    const auto& r = key_answer(1);
    EXPECT_EQ(r.problem, "");
    auto parsed = webauthn::parse_authentication_response(r.response);
    ASSERT_TRUE(parsed.has_value()) << r.response;
    EXPECT_EQ(parsed->id, credential_id);
    EXPECT_THAT(person.seen, ElementsAre(Pair(PromptStyle::info, "Touch your security key")));
    EXPECT_THAT(host.lines(LOG_ERR), IsEmpty());
}

TEST_F(SecurityKeyHooks, UnderPamSilentTheKeyIsStillAskedWithItsTouchCueAlone)
{
    proto::AuthReply r = std::get<proto::AuthReply>(key_prompt());
    r.messages.push_back({PromptStyle::info, "Your last logon was yesterday."});
    daemon.reply(r);
    daemon.reply(decide(Outcome::success, "Welcome.", "logon-1"));
    EXPECT_EQ(authenticate(keyed_call(PAM_SILENT)), PAM_SUCCESS);
    EXPECT_EQ(key_answer(1).problem, "");
    // sudo passes PAM_SILENT: the cue asks the person to act, as a prompt does; the rest stays
    // unsaid.
    EXPECT_THAT(person.seen, ElementsAre(Pair(PromptStyle::info, "Touch your security key")));
}

TEST_F(SecurityKeyHooks, AKeyThatIsNotThereIsAnsweredNoDeviceAndTheDialogueGoesOn)
{
    options.security_key = "unix:" + (dir.path() / "unplugged.sock").string();
    person.answers = {"hunter2"};
    daemon.reply(key_prompt());
    daemon.reply(password_prompt()); // the daemon's fallback
    daemon.reply(decide(Outcome::success, "", "logon-1"));
    EXPECT_EQ(authenticate(keyed_call()), PAM_SUCCESS);
    EXPECT_EQ(key_answer(1).problem, "no_device");
    EXPECT_EQ(daemon.answer(2), "hunter2");
}

TEST_F(SecurityKeyHooks, AHelperThatCannotStartIsLoggedAndAnsweredFailed)
{
    options.fido_helper = (dir.path() / "no-such-helper").string();
    daemon.reply(key_prompt());
    daemon.reply(decide(Outcome::denied, "Authentication failed."));
    EXPECT_EQ(authenticate(keyed_call()), PAM_AUTH_ERR);
    EXPECT_EQ(key_answer(1).problem, "failed");
    ASSERT_EQ(host.lines(LOG_ERR).size(), 1U);
    EXPECT_THAT(host.lines(LOG_ERR)[0],
                ::testing::HasSubstr("cannot start the security key helper"));
}

TEST_F(SecurityKeyHooks, AuthBeginSaysAKeyCanBeAskedUnlessTheStackTurnedKeysOff)
{
    daemon.reply(decide(Outcome::denied));
    EXPECT_EQ(authenticate(keyed_call()), PAM_AUTH_ERR);
    EXPECT_EQ(daemon.sent<proto::AuthBegin>(0).security_key, std::optional<bool>(true));

    options.security_key = "off";
    daemon.reply(decide(Outcome::denied));
    EXPECT_EQ(authenticate(keyed_call()), PAM_AUTH_ERR);
    EXPECT_EQ(daemon.sent<proto::AuthBegin>(1).security_key, std::nullopt);
}

TEST_F(Hooks, WithoutAHelperAuthBeginOffersNoKey)
{
    daemon.reply(decide(Outcome::denied));
    EXPECT_EQ(authenticate(call()), PAM_AUTH_ERR);
    EXPECT_EQ(daemon.sent<proto::AuthBegin>(0).security_key, std::nullopt);
}

TEST_F(Hooks, ASecurityKeyPromptWithoutKeysIsAnsweredNoDevice)
{
    proto::AuthReply r;
    r.prompt = proto::Prompt{PromptKind::security_key, PromptStyle::info, "Touch your key",
                             proto::SecurityKeyCeremony{}};
    daemon.reply(r);
    daemon.reply(decide(Outcome::denied));
    EXPECT_EQ(authenticate(call()), PAM_AUTH_ERR);
    const auto& a = daemon.sent<proto::AuthAnswer>(1);
    ASSERT_TRUE(a.security_key.has_value());
    EXPECT_EQ(a.security_key->problem, "no_device");
}

class PinSecurityKeyHooks : public SecurityKeyHooks {
protected:
    PinSecurityKeyHooks()
        : SecurityKeyHooks(hostkey::testing::SoftwareKey::Options::with_pin("5150"))
    {
    }
};

TEST_F(PinSecurityKeyHooks, ThePinIsAskedOfThePersonHiddenThenTheTouch)
{
    person.answers = {"5150"};
    daemon.reply(key_prompt(true));
    daemon.reply(decide(Outcome::success, "", "logon-1"));
    EXPECT_EQ(authenticate(keyed_call()), PAM_SUCCESS);
    EXPECT_EQ(key_answer(1).problem, "");
    EXPECT_THAT(person.seen, ElementsAre(Pair(PromptStyle::echo_off, "PIN for your security key: "),
                                         Pair(PromptStyle::info, "Touch your security key")));
}

TEST_F(PinSecurityKeyHooks, AWrongPinIsAnsweredPinInvalid)
{
    person.answers = {"0000"};
    daemon.reply(key_prompt(true));
    daemon.reply(decide(Outcome::denied));
    EXPECT_EQ(authenticate(keyed_call()), PAM_AUTH_ERR);
    EXPECT_EQ(key_answer(1).problem, "pin_invalid");
}

// ---- pam_sm_acct_mgmt -------------------------------------------------------------------

TEST_F(Hooks, AccountCheckAsksAboutTheUser)
{
    options.ignore_unknown_user = true;
    host.rhost_item = "203.0.113.7";
    daemon.reply(decide(Outcome::success));

    EXPECT_EQ(check_account(call()), PAM_SUCCESS);
    const auto& check = daemon.sent<proto::AccountCheck>(0);
    EXPECT_EQ(check.service, "sshd");
    EXPECT_EQ(check.user, "alice");
    EXPECT_EQ(check.rhost, "203.0.113.7");
    EXPECT_TRUE(check.ignore_unknown_user);
    EXPECT_THAT(person.seen, IsEmpty());
}

TEST_F(Hooks, AccountCheckTellsThePersonAboutAPasswordChange)
{
    daemon.reply(decide(Outcome::new_authtok_required, "You are required to change your password"));

    EXPECT_EQ(check_account(call()), PAM_NEW_AUTHTOK_REQD);
    EXPECT_THAT(person.seen,
                ElementsAre(Pair(PromptStyle::info, "You are required to change your password")));
}

TEST_F(Hooks, AccountCheckShowsAnExpiredAccountAsAnError)
{
    daemon.reply(decide(Outcome::account_expired, "Your password has expired"));

    EXPECT_EQ(check_account(call()), PAM_ACCT_EXPIRED);
    EXPECT_THAT(person.seen, ElementsAre(Pair(PromptStyle::error, "Your password has expired")));
}

TEST_F(Hooks, AccountCheckIgnoresUnknownUsersWhenAsked)
{
    options.ignore_unknown_user = true;
    daemon.reply(decide(Outcome::ignore));

    EXPECT_EQ(check_account(call()), PAM_IGNORE);
}

TEST_F(Hooks, AccountCheckWithoutDaemonIsAuthinfoUnavail)
{
    daemon.fail(core::Errc::daemon_unreachable, "cannot reach latchkeyd");

    EXPECT_EQ(check_account(call()), PAM_AUTHINFO_UNAVAIL);
    EXPECT_EQ(host.lines(LOG_ERR).size(), 1U);
}

// ---- pam_sm_chauthtok -------------------------------------------------------------------

TEST_F(Hooks, PrelimCheckOnlySaysHello)
{
    daemon.reply(proto::HelloReply{});

    EXPECT_EQ(change_authtok(call(PAM_PRELIM_CHECK)), PAM_SUCCESS);
    ASSERT_EQ(daemon.requests.size(), 1U);
    EXPECT_EQ(daemon.sent<proto::Hello>(0).version, proto::protocol_version);
    EXPECT_THAT(daemon.sent<proto::Hello>(0).client, ::testing::StartsWith("pam_latchkey"));
    EXPECT_THAT(person.seen, IsEmpty());
}

TEST_F(Hooks, PrelimCheckWithoutDaemonIsTryAgain)
{
    daemon.fail(core::Errc::daemon_unreachable, "cannot reach latchkeyd");

    EXPECT_EQ(change_authtok(call(PAM_PRELIM_CHECK)), PAM_TRY_AGAIN);
    EXPECT_EQ(host.lines(LOG_ERR).size(), 1U);
}

TEST_F(Hooks, PrelimCheckRefusedIsTryAgain)
{
    daemon.reply(refuse(core::Errc::protocol_version, "protocol version 1 is not supported"));

    EXPECT_EQ(change_authtok(call(PAM_PRELIM_CHECK)), PAM_TRY_AGAIN);
}

TEST_F(Hooks, PrelimCheckIgnoresUsersLatchkeyDoesNotKnowWhenAsked)
{
    options.ignore_unknown_user = true;
    daemon.reply(proto::HelloReply{});
    daemon.reply(decide(Outcome::ignore));

    EXPECT_EQ(change_authtok(call(PAM_PRELIM_CHECK)), PAM_IGNORE);
    EXPECT_TRUE(daemon.sent<proto::AccountCheck>(1).ignore_unknown_user);
}

TEST_F(Hooks, PrelimCheckLeavesAnAccountsStateToTheUpdate)
{
    options.ignore_unknown_user = true;
    daemon.reply(proto::HelloReply{});
    daemon.reply(decide(Outcome::new_authtok_required, "You must change your password"));

    EXPECT_EQ(change_authtok(call(PAM_PRELIM_CHECK)), PAM_SUCCESS);
    EXPECT_THAT(person.seen, IsEmpty());
}

TEST_F(Hooks, PasswordChangeRelaysTheDaemonsDialogue)
{
    person.answers = {"old", "N3w-password!", "N3w-password!"};
    daemon.reply(ask(PromptKind::current_password, PromptStyle::echo_off, "Current password: ",
                     {{PromptStyle::info, "Changing password for alice."}}));
    daemon.reply(ask(PromptKind::new_password, PromptStyle::echo_off, "New password: "));
    daemon.reply(ask(PromptKind::repeat_password, PromptStyle::echo_off, "Repeat: "));
    daemon.reply(decide(Outcome::success, "Password changed."));

    EXPECT_EQ(change_authtok(call(PAM_UPDATE_AUTHTOK | PAM_CHANGE_EXPIRED_AUTHTOK)), PAM_SUCCESS);
    const auto& begin = daemon.sent<proto::PasswordChangeBegin>(0);
    EXPECT_EQ(begin.service, "sshd");
    EXPECT_EQ(begin.user, "alice");
    EXPECT_TRUE(begin.only_if_expired);
    EXPECT_EQ(daemon.answer(1), "old");
    EXPECT_EQ(daemon.answer(2), "N3w-password!");
    EXPECT_EQ(daemon.answer(3), "N3w-password!");
    EXPECT_THAT(person.seen, ElementsAre(Pair(PromptStyle::info, "Changing password for alice."),
                                         Pair(PromptStyle::echo_off, "Current password: "),
                                         Pair(PromptStyle::echo_off, "New password: "),
                                         Pair(PromptStyle::echo_off, "Repeat: "),
                                         Pair(PromptStyle::info, "Password changed.")));
    EXPECT_EQ(host.old_authtok_item, "old");
    EXPECT_EQ(host.authtok_item, "N3w-password!");
}

TEST_F(Hooks, PasswordChangeAsksOnlyIfExpiredWithPamChangeExpiredAuthtok)
{
    daemon.reply(decide(Outcome::success));

    EXPECT_EQ(change_authtok(call(PAM_UPDATE_AUTHTOK)), PAM_SUCCESS);
    EXPECT_FALSE(daemon.sent<proto::PasswordChangeBegin>(0).only_if_expired);
}

TEST_F(Hooks, PasswordChangeAnswersTheCurrentPasswordFromPamOldauthtok)
{
    options.use_first_pass = true;
    host.old_authtok_item = "old";
    host.authtok_item = "not-the-current-one";
    person.answers = {"N3w-password!", "N3w-password!"};
    daemon.reply(ask(PromptKind::current_password, PromptStyle::echo_off, "Current password: "));
    daemon.reply(ask(PromptKind::new_password, PromptStyle::echo_off, "New password: "));
    daemon.reply(ask(PromptKind::repeat_password, PromptStyle::echo_off, "Repeat: "));
    daemon.reply(decide(Outcome::success));

    EXPECT_EQ(change_authtok(call(PAM_UPDATE_AUTHTOK)), PAM_SUCCESS);
    EXPECT_EQ(daemon.answer(1), "old");
    EXPECT_THAT(person.seen, ElementsAre(Pair(PromptStyle::echo_off, "New password: "),
                                         Pair(PromptStyle::echo_off, "Repeat: ")));
}

TEST_F(Hooks, PasswordChangeRefusedByPolicyIsAuthtokErr)
{
    person.answers = {"old", "short", "short"};
    daemon.reply(ask(PromptKind::current_password, PromptStyle::echo_off, "Current password: "));
    daemon.reply(ask(PromptKind::new_password, PromptStyle::echo_off, "New password: "));
    daemon.reply(ask(PromptKind::repeat_password, PromptStyle::echo_off, "Repeat: "));
    daemon.reply(decide(Outcome::authtok_error, "The password must have at least 8 characters."));

    EXPECT_EQ(change_authtok(call(PAM_UPDATE_AUTHTOK)), PAM_AUTHTOK_ERR);
    EXPECT_EQ(person.seen.back(),
              std::make_pair(PromptStyle::error,
                             std::string("The password must have at least 8 characters.")));
}

TEST_F(Hooks, PasswordChangeOfAUserLatchkeyDoesNotKnowIsIgnored)
{
    daemon.reply(decide(Outcome::ignore));

    EXPECT_EQ(change_authtok(call(PAM_UPDATE_AUTHTOK)), PAM_IGNORE);
}

TEST_F(Hooks, PasswordChangeWithoutAPhaseIsAServiceError)
{
    EXPECT_EQ(change_authtok(call()), PAM_SERVICE_ERR);
    EXPECT_THAT(daemon.requests, IsEmpty());
}

// ---- pam_sm_open_session / pam_sm_close_session -----------------------------------------

TEST_F(Hooks, OpenSessionLinksTheLogonAndKeepsTheSessionId)
{
    host.tty_item = "pts/3";
    host.rhost_item = "203.0.113.7";
    host.module_data["latchkey_logon_id"] = "logon-1";
    host.env["LATCHKEY_LOGON_ID"] = "logon-1";
    host.env["XDG_SESSION_ID"] = "c7";
    daemon.reply(proto::SessionReply{"session-1"});

    EXPECT_EQ(open_session(call()), PAM_SUCCESS);
    const auto& open = daemon.sent<proto::SessionOpen>(0);
    EXPECT_EQ(open.service, "sshd");
    EXPECT_EQ(open.user, "alice");
    EXPECT_EQ(open.tty, "pts/3");
    EXPECT_EQ(open.rhost, "203.0.113.7");
    EXPECT_EQ(open.logon_id, "logon-1");
    EXPECT_EQ(open.logind_session, "c7");
    EXPECT_EQ(host.module_data["latchkey_session_id"], "session-1");
    EXPECT_FALSE(host.env.contains("LATCHKEY_LOGON_ID")) << "must not leak into the session";
}

TEST_F(Hooks, OpenSessionFindsTheLogonInThePamEnvironmentAfterSshdsChild)
{
    host.env["LATCHKEY_LOGON_ID"] = "logon-from-child";
    daemon.reply(proto::SessionReply{"session-2"});

    EXPECT_EQ(open_session(call()), PAM_SUCCESS);
    EXPECT_EQ(daemon.sent<proto::SessionOpen>(0).logon_id, "logon-from-child");
    EXPECT_FALSE(daemon.sent<proto::SessionOpen>(0).logind_session.has_value());
    EXPECT_FALSE(host.env.contains("LATCHKEY_LOGON_ID"));
}

TEST_F(Hooks, OpenSessionWithoutDaemonIsSessionErr)
{
    host.env["LATCHKEY_LOGON_ID"] = "logon-1";
    daemon.fail(core::Errc::daemon_unreachable, "cannot reach latchkeyd");

    EXPECT_EQ(open_session(call()), PAM_SESSION_ERR);
    EXPECT_EQ(host.lines(LOG_ERR).size(), 1U);
    EXPECT_FALSE(host.env.contains("LATCHKEY_LOGON_ID"));
}

TEST_F(Hooks, OpenSessionRefusedIsSessionErr)
{
    daemon.reply(refuse(core::Errc::permission_denied, "only root may open a session"));

    EXPECT_EQ(open_session(call()), PAM_SESSION_ERR);
}

TEST_F(Hooks, OpenSessionOfAUserLatchkeyDoesNotKnow)
{
    daemon.reply(refuse(core::Errc::not_found, "latchkey does not know this user"));
    EXPECT_EQ(open_session(call()), PAM_SESSION_ERR);

    options.ignore_unknown_user = true;
    FakeHost h;
    daemon.reply(refuse(core::Errc::not_found, "latchkey does not know this user"));
    EXPECT_EQ(open_session(Call{options, 0, h, person, daemon}), PAM_IGNORE);
    EXPECT_THAT(h.lines(LOG_ERR), IsEmpty());
}

TEST_F(Hooks, CloseSessionNamesTheSession)
{
    host.tty_item = "pts/3";
    host.module_data["latchkey_session_id"] = "session-1";
    daemon.reply(proto::Done{"session closed"});

    EXPECT_EQ(close_session(call()), PAM_SUCCESS);
    const auto& close = daemon.sent<proto::SessionClose>(0);
    EXPECT_EQ(close.service, "sshd");
    EXPECT_EQ(close.user, "alice");
    EXPECT_EQ(close.session_id, "session-1");
    EXPECT_EQ(close.tty, "pts/3");
}

TEST_F(Hooks, CloseSessionWithoutAKnownIdLetsTheDaemonMatchTheTty)
{
    daemon.reply(proto::Done{"session closed"});

    EXPECT_EQ(close_session(call()), PAM_SUCCESS);
    EXPECT_FALSE(daemon.sent<proto::SessionClose>(0).session_id.has_value());
}

TEST_F(Hooks, CloseSessionWithoutDaemonIsSessionErr)
{
    daemon.fail(core::Errc::daemon_timeout, "latchkeyd did not answer in time");

    EXPECT_EQ(close_session(call()), PAM_SESSION_ERR);
    EXPECT_EQ(host.lines(LOG_ERR).size(), 1U);
}

TEST_F(Hooks, DebugLogsEachStepButNeverAnAnswer)
{
    options.debug = true;
    person.answers = {"hunter2"};
    daemon.reply(password_prompt());
    daemon.reply(decide(Outcome::success, "", "logon-1"));

    EXPECT_EQ(authenticate(call()), PAM_SUCCESS);
    const auto lines = host.lines(LOG_DEBUG);
    EXPECT_GE(lines.size(), 4U);
    for (const auto& line : lines)
        EXPECT_THAT(line, ::testing::Not(::testing::HasSubstr("hunter2")));
}

TEST_F(Hooks, NothingIsLoggedAtDebugWithoutTheOption)
{
    person.answers = {"hunter2"};
    daemon.reply(password_prompt());
    daemon.reply(decide(Outcome::success, "", "logon-1"));

    EXPECT_EQ(authenticate(call()), PAM_SUCCESS);
    EXPECT_THAT(host.logs, IsEmpty());
}

// ---- options ----------------------------------------------------------------------------

ParsedOptions parse(std::vector<const char*> args)
{
    return parse_options(std::span<const char* const>(args.data(), args.size()));
}

TEST(Options, DefaultsToTheSystemSocketAndTenSeconds)
{
    const auto p = parse({});
    EXPECT_EQ(p.options.socket_path, "/run/latchkey/pam.sock");
    EXPECT_EQ(p.options.timeout, std::chrono::seconds(10));
    EXPECT_FALSE(p.options.use_first_pass);
    EXPECT_FALSE(p.options.try_first_pass);
    EXPECT_FALSE(p.options.ignore_unknown_user);
    EXPECT_FALSE(p.options.single_prompt);
    EXPECT_FALSE(p.options.debug);
    EXPECT_THAT(p.warnings, IsEmpty());
}

TEST(Options, ReadsEveryOption)
{
    const auto p = parse({"socket=/tmp/l.sock", "timeout=30", "try_first_pass",
                          "ignore_unknown_user", "single_prompt", "debug"});
    EXPECT_EQ(p.options.socket_path, "/tmp/l.sock");
    EXPECT_EQ(p.options.timeout, std::chrono::seconds(30));
    EXPECT_TRUE(p.options.try_first_pass);
    EXPECT_TRUE(p.options.ignore_unknown_user);
    EXPECT_TRUE(p.options.single_prompt);
    EXPECT_TRUE(p.options.debug);
    EXPECT_THAT(p.warnings, IsEmpty());
}

TEST(Options, UseFirstPassWinsOverTryFirstPass)
{
    const auto p = parse({"try_first_pass", "use_first_pass"});
    EXPECT_TRUE(p.options.use_first_pass);
    EXPECT_FALSE(p.options.try_first_pass);
}

TEST(Options, WarnsAboutUnknownOptionsAndIgnoresThem)
{
    const auto p = parse({"nullok", "debug", nullptr, "socket"});
    EXPECT_TRUE(p.options.debug);
    EXPECT_THAT(p.warnings, ElementsAre("unknown option 'nullok', ignoring",
                                        "unknown option 'socket', ignoring"));
}

TEST(Options, KeepsTheDefaultForABadValue)
{
    const auto p = parse({"timeout=0", "timeout=301", "timeout=5s", "timeout=", "socket=",
                          "socket=relative.sock", "timeout=-1"});
    EXPECT_EQ(p.options.timeout, std::chrono::seconds(10));
    EXPECT_EQ(p.options.socket_path, "/run/latchkey/pam.sock");
    EXPECT_EQ(p.warnings.size(), 7U);
}

TEST(Options, SecurityKeyIsUsbAnAbsoluteSocketOrOff)
{
    EXPECT_EQ(parse({}).options.security_key, "usb");
    EXPECT_EQ(parse({"security_key=off"}).options.security_key, "off");
    EXPECT_EQ(parse({"security_key=unix:/run/key.sock"}).options.security_key,
              "unix:/run/key.sock");
    const auto p = parse({"security_key=nfc", "security_key=unix:relative", "fido_helper=x"});
    EXPECT_EQ(p.options.security_key, "usb");
    EXPECT_EQ(p.warnings.size(), 3U);
}

TEST(Options, AcceptsTheTimeoutBounds)
{
    EXPECT_EQ(parse({"timeout=1"}).options.timeout, std::chrono::seconds(1));
    EXPECT_EQ(parse({"timeout=300"}).options.timeout, std::chrono::seconds(300));
}

TEST(Options, LogsEachWarningThroughPam)
{
    FakeHost host;
    std::array<const char*, 2> argv{"bogus", "debug"};
    const auto o = parse_options(host, static_cast<int>(argv.size()), argv.data());
    EXPECT_TRUE(o.debug);
    EXPECT_THAT(host.lines(LOG_WARNING), ElementsAre("unknown option 'bogus', ignoring"));
}

TEST(Options, SurvivesANegativeArgc)
{
    FakeHost host;
    const auto o = parse_options(host, -1, nullptr);
    EXPECT_EQ(o.socket_path, "/run/latchkey/pam.sock");
}

// ---- to_pam -----------------------------------------------------------------------------

TEST(ToPam, MapsDaemonErrorsByHook)
{
    const core::Error down{core::Errc::daemon_unreachable, "down"};
    EXPECT_EQ(to_pam(down, Hook::authenticate), PAM_AUTHINFO_UNAVAIL);
    EXPECT_EQ(to_pam(down, Hook::account), PAM_AUTHINFO_UNAVAIL);
    EXPECT_EQ(to_pam(down, Hook::password), PAM_AUTHINFO_UNAVAIL);
    EXPECT_EQ(to_pam(down, Hook::password_prelim), PAM_TRY_AGAIN);
    EXPECT_EQ(to_pam(down, Hook::open_session), PAM_SESSION_ERR);
    EXPECT_EQ(to_pam(down, Hook::close_session), PAM_SESSION_ERR);
}

TEST(ToPam, PassesPamCodesThrough)
{
    EXPECT_EQ(to_pam(pam_code_error(PAM_CONV_ERR, "x"), Hook::authenticate), PAM_CONV_ERR);
    EXPECT_EQ(to_pam(pam_code_error(PAM_BUF_ERR, "x"), Hook::open_session), PAM_BUF_ERR);
    EXPECT_EQ(to_pam(pam_code_error(PAM_CONV_ERR, "x"), Hook::open_session), PAM_SESSION_ERR);
    EXPECT_EQ(to_pam(pam_code_error(PAM_SUCCESS, "x"), Hook::authenticate), PAM_SERVICE_ERR)
        << "an error is never a success";
}

TEST(ToPam, MapsAnUnknownOutcomeToAServiceError)
{
    EXPECT_EQ(to_pam(static_cast<Outcome>(200)), PAM_SERVICE_ERR);
}

TEST(ToPam, NamesCodes)
{
    EXPECT_STREQ(pam_code_name(PAM_AUTHINFO_UNAVAIL), "PAM_AUTHINFO_UNAVAIL");
    EXPECT_EQ(pam_code_error(PAM_CONV_ERR, "x").code.message(), "PAM_CONV_ERR");
}

// ---- Handle and Conversation over a real pam_handle_t ------------------------------------

/// The test's pam_conv: answers from a list (malloc()ed, as libpam's callers must).
struct ConvScript {
    std::vector<std::string> answers;
    std::vector<std::pair<int, std::string>> seen;
    int result = PAM_SUCCESS;
};

int scripted_conv(int n, const pam_message** msg, pam_response** resp, void* data)
{
    auto* script = static_cast<ConvScript*>(data);
    *resp = static_cast<pam_response*>(
        std::calloc(static_cast<std::size_t>(n), sizeof(pam_response)));
    for (int i = 0; i < n; ++i) {
        script->seen.emplace_back(msg[i]->msg_style, msg[i]->msg);
        const bool asks =
            msg[i]->msg_style == PAM_PROMPT_ECHO_OFF || msg[i]->msg_style == PAM_PROMPT_ECHO_ON;
        if (asks && !script->answers.empty()) {
            (*resp)[i].resp = strdup(script->answers.front().c_str());
            script->answers.erase(script->answers.begin());
        }
    }
    return script->result;
}

/// A pam_handle_t from pam_start_confdir() on a throwaway configuration: no module is loaded,
/// but items, environment and the conversation are libpam's own. (libpam refuses PAM_AUTHTOK
/// and module data outside a module: exports_test covers those through the built module.)
class RealPam : public ::testing::Test {
protected:
    void SetUp() override
    {
        std::string dir = (std::filesystem::temp_directory_path() / "latchkey-pam-XXXXXX").string();
        ASSERT_NE(::mkdtemp(dir.data()), nullptr);
        confdir_ = dir;
        std::ofstream(confdir_ / "latchkey-test") << "auth required pam_deny.so\n";
        conv_ = pam_conv{scripted_conv, &script};
        ASSERT_EQ(pam_start_confdir("latchkey-test", "alice", &conv_, confdir_.c_str(), &pamh),
                  PAM_SUCCESS);
    }

    void TearDown() override
    {
        if (pamh != nullptr)
            pam_end(pamh, PAM_SUCCESS);
        std::filesystem::remove_all(confdir_);
    }

    ConvScript script;
    pam_handle_t* pamh = nullptr;

private:
    std::filesystem::path confdir_;
    pam_conv conv_{};
};

TEST_F(RealPam, HandleReadsItems)
{
    ASSERT_EQ(pam_set_item(pamh, PAM_RHOST, "203.0.113.7"), PAM_SUCCESS);
    Handle h{pamh};
    EXPECT_EQ(*h.user(), "alice");
    EXPECT_EQ(h.service(), "latchkey-test");
    EXPECT_EQ(h.rhost(), "203.0.113.7");
    EXPECT_EQ(h.tty(), std::nullopt);
    EXPECT_FALSE(h.authtok().has_value());
}

TEST_F(RealPam, HandleEditsThePamEnvironment)
{
    Handle h{pamh};
    ASSERT_TRUE(h.putenv("LATCHKEY_LOGON_ID", "logon-1"));
    EXPECT_EQ(h.getenv("LATCHKEY_LOGON_ID"), "logon-1");
    ASSERT_TRUE(h.unset_env("LATCHKEY_LOGON_ID"));
    EXPECT_FALSE(h.getenv("LATCHKEY_LOGON_ID").has_value());
    EXPECT_TRUE(h.unset_env("LATCHKEY_LOGON_ID")) << "removing what is not there is fine";
}

TEST_F(RealPam, ConversationAsksAndShows)
{
    script.answers = {"hunter2"};
    Conversation c{pamh};
    const auto answer = c.ask(PromptStyle::echo_off, "Password: ");
    ASSERT_TRUE(answer) << answer.error().message;
    EXPECT_EQ(answer->view(), "hunter2");
    EXPECT_TRUE(c.show(PromptStyle::info, "Welcome"));
    EXPECT_TRUE(c.show(PromptStyle::error, "Careful"));
    EXPECT_THAT(script.seen, ElementsAre(Pair(PAM_PROMPT_ECHO_OFF, "Password: "),
                                         Pair(PAM_TEXT_INFO, "Welcome"),
                                         Pair(PAM_ERROR_MSG, "Careful")));
}

TEST_F(RealPam, ConversationReportsTheApplicationsFailure)
{
    script.result = PAM_CONV_ERR;
    script.answers = {"ignored"}; // allocated anyway: must still be freed
    Conversation c{pamh};
    const auto answer = c.ask(PromptStyle::echo_on, "Code: ");
    ASSERT_FALSE(answer);
    EXPECT_EQ(to_pam(answer.error(), Hook::authenticate), PAM_CONV_ERR);
}

TEST_F(RealPam, ConversationWithoutAnAnswerIsAnError)
{
    Conversation c{pamh};
    const auto answer = c.ask(PromptStyle::echo_off, "Password: ");
    ASSERT_FALSE(answer);
    EXPECT_EQ(to_pam(answer.error(), Hook::authenticate), PAM_CONV_ERR);
}

} // namespace
} // namespace latchkey::pam
