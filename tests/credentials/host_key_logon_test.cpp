// SPDX-License-Identifier: Apache-2.0
// Unit tests of security keys at the hosts in the PAM logon dialogue: the ceremony the daemon
// asks the module to run, and its answer checked as a browser's would be. The key is a software
// authenticator (tests/webauthn/soft_authenticator); the directory a real SQLite file.
#include <gtest/gtest.h>

#include "core/random.hpp"
#include "credentials/auth_engine.hpp"
#include "credentials/totp.hpp"
#include "tests/directory/directory_fixture.hpp"
#include "tests/webauthn/soft_authenticator.hpp"
#include "webauthn/client_data.hpp"
#include "webauthn/openssl.hpp"

namespace latchkey::credentials {
namespace {

namespace wa = webauthn;
using core::Secret;
using proto::KeyProblem;
using proto::Outcome;
using proto::PromptKind;

constexpr std::string_view host_rp = "pam:example.internal";
constexpr std::string_view host_origin = "pam://example.internal";
constexpr std::string_view password = "Alice-Passw0rd";

/// A security key holding one credential for the hosts' relying party.
struct Key {
    wa::testing::SoftKey key = wa::testing::SoftKey::generate(wa::CoseAlgorithm::es256);
    std::string id = core::random_string(32);
    std::uint32_t counter = 0;
    bool verifies_user = false; ///< answers with UV set (a PIN was given)
    std::string rp_id{host_rp};
    std::string origin{host_origin};

    /// What latchkey-fido sends back for `c`: the assertion as a browser's toJSON() writes it.
    proto::SecurityKeyResult answer(const proto::SecurityKeyCeremony& c)
    {
        const auto challenge = wa::decode_base64url_strict(c.challenge);
        EXPECT_TRUE(challenge);
        wa::testing::AuthDataSpec a;
        a.rp_id = rp_id;
        a.flags = static_cast<std::uint8_t>(wa::flag::up | (verifies_user ? wa::flag::uv : 0U));
        a.counter = ++counter;
        const std::string client =
            wa::testing::make_client_data("webauthn.get", challenge.value_or(""), origin);
        const std::string data = wa::testing::make_auth_data(a);
        const std::string signature = key.sign(data + wa::sha256(client));
        return {wa::testing::authentication_json(id, client, data, signature, std::nullopt), {}};
    }
};

/// What a logon showed and decided.
struct KeyRun {
    proto::Verdict verdict;
    std::vector<PromptKind> prompts;
    std::vector<proto::Prompt> key_prompts;
    std::vector<std::string> messages;
};

class HostKeyLogonTest : public directory::DirectoryFixture {
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
        ASSERT_TRUE(directory_->create_user({{"alice", "web"}, std::nullopt, true}, admin_));
        proto::UserSetPassword req;
        req.ref = {"alice", "web"};
        req.password = Secret(password);
        ASSERT_TRUE(passwords_->reset(req, admin_));
        settings({{"allow_passkey_logon", "yes"}});
    }

    void settings(std::vector<proto::Assignment> changes)
    {
        ASSERT_TRUE(directory_->set_settings({"web", std::move(changes)}, admin_));
    }

    std::string alice_id() { return directory_->resolve({"alice", "web"}).value().user.id; }

    /// Stores `k` as one of alice's host keys, as an enrolment would.
    void add(const Key& k, directory::PasskeyParty party = directory::PasskeyParty::host)
    {
        directory::PasskeyRecord p;
        p.id = core::uuid_v4();
        p.user_id = alice_id();
        p.relying_party = party;
        p.credential_id = k.id;
        p.public_key = k.key.cose();
        p.aaguid = std::string(16, '\0');
        p.transports = {"usb"};
        p.attestation = "packed";
        p.name = "Security key";
        p.created_at = clock_.now();
        ASSERT_TRUE(store_->add_passkey(p, 10));
    }

    /// Enrols an authenticator app for alice; returns its secret.
    Secret enrol_app()
    {
        const auto who = directory_->resolve({"alice", "web"}).value();
        auto pending = mfa_->start(who);
        EXPECT_TRUE(pending);
        Secret secret = pending->secret.clone();
        const auto code = [&] { return Secret(totp_code(secret, clock_.now(), TotpParams{})); };
        EXPECT_TRUE(mfa_->accept_first(*pending, code(), "uid:0"));
        clock_.advance(std::chrono::seconds(30));
        EXPECT_TRUE(mfa_->accept_second(*pending, code(), "uid:0"));
        clock_.advance(std::chrono::seconds(30));
        return secret;
    }

    std::string code(const Secret& secret) const
    {
        return totp_code(secret, clock_.now(), TotpParams{});
    }

    /// A PAM logon of alice at the console; `key` answers security_key prompts, `typed` the rest.
    KeyRun
    logon(const std::function<proto::SecurityKeyResult(const proto::SecurityKeyCeremony&)>& key,
          std::vector<std::string> typed,
          bool module_has_keys = true)
    {
        KeyRun run;
        LogonRequest req{"login", "alice", std::nullopt, std::string("tty1"), false, false};
        req.security_key = module_has_keys;
        auto started = engine_->begin_logon(req, {0, 1, "pam"});
        Step s = std::move(started.step);
        std::size_t next = 0;
        for (int i = 0; s.prompt && i < 10; ++i) {
            for (const auto& m : s.messages)
                run.messages.push_back(m.text);
            run.prompts.push_back(s.prompt->kind);
            if (s.prompt->kind == PromptKind::security_key) {
                run.key_prompts.push_back(*s.prompt);
                EXPECT_TRUE(s.prompt->security_key);
                s = started.dialogue->answer_security_key(key(*s.prompt->security_key));
            } else {
                s = started.dialogue->answer(Secret(next < typed.size() ? typed[next++] : ""));
            }
        }
        for (const auto& m : s.messages)
            run.messages.push_back(m.text);
        EXPECT_TRUE(s.verdict);
        if (s.verdict)
            run.verdict = *s.verdict;
        return run;
    }

    static auto problem(KeyProblem p)
    {
        return [p](const proto::SecurityKeyCeremony&) {
            return proto::SecurityKeyResult{{}, std::string(proto::problem_name(p))};
        };
    }

    static auto with(Key& k)
    {
        return [&k](const proto::SecurityKeyCeremony& c) { return k.answer(c); };
    }

    std::unique_ptr<SecretBox> box_;
    std::unique_ptr<Mfa> mfa_;
    std::unique_ptr<AuthEngine> engine_;
};

TEST_F(HostKeyLogonTest, TheKeyAloneLogsOnWhenTheAccountAllowsPasskeyLogon)
{
    Key k;
    add(k);
    const auto r = logon(with(k), {});
    EXPECT_EQ(r.verdict.outcome, Outcome::success) << r.verdict.message;
    EXPECT_TRUE(r.verdict.logon_id);
    EXPECT_EQ(r.prompts, std::vector<PromptKind>{PromptKind::security_key});
    // The ceremony names the hosts' relying party and alice's key, and wants no PIN.
    const auto& c = *r.key_prompts.at(0).security_key;
    EXPECT_EQ(r.key_prompts.at(0).text, "Touch your security key.");
    EXPECT_EQ(c.kind, "get");
    EXPECT_EQ(c.rp_id, host_rp);
    EXPECT_EQ(c.origin, host_origin);
    EXPECT_EQ(c.allow, std::vector<std::string>{wa::testing::base64url(k.id)});
    EXPECT_FALSE(c.user_verification);
    EXPECT_EQ(c.timeout_s, 30U);
    EXPECT_EQ(last("auth.allow")["method"], "hwk");
    EXPECT_EQ(last("auth.allow")["passkey"], store_->passkeys(alice_id()).value().at(0).id);
    // The counter is stored: the same answer again is a clone's.
    const auto stored = store_->passkeys(alice_id()).value();
    ASSERT_EQ(stored.size(), 1U);
    EXPECT_EQ(stored[0].sign_count, 1U);
    EXPECT_TRUE(stored[0].last_used_at);
}

TEST_F(HostKeyLogonTest, WhenMfaIsRequiredTheKeyMustVerifyItsUser)
{
    settings({{"mfa_required", "yes"}});
    Key k;
    add(k);
    const auto without_pin = logon(with(k), {});
    EXPECT_EQ(without_pin.verdict.outcome, Outcome::denied);
    EXPECT_TRUE(without_pin.key_prompts.at(0).security_key->user_verification);
    EXPECT_EQ(last("auth.deny")["reason"], "user_not_verified");

    k.verifies_user = true;
    const auto with_pin = logon(with(k), {});
    EXPECT_EQ(with_pin.verdict.outcome, Outcome::success) << with_pin.verdict.message;
    EXPECT_EQ(last("auth.allow")["method"], "hwk+uv");
}

TEST_F(HostKeyLogonTest, WithoutPasskeyLogonTheKeyFollowsThePassword)
{
    settings({{"allow_passkey_logon", "no"}});
    Key k;
    add(k);
    const auto r = logon(with(k), {std::string(password)});
    EXPECT_EQ(r.verdict.outcome, Outcome::success) << r.verdict.message;
    EXPECT_EQ(r.prompts, (std::vector<PromptKind>{PromptKind::password, PromptKind::security_key}));
    EXPECT_FALSE(r.key_prompts.at(0).security_key->user_verification);
    EXPECT_EQ(last("auth.allow")["method"], "pwd+hwk");
    // A wrong password is refused before any key is asked.
    const auto wrong = logon(with(k), {"nope"});
    EXPECT_EQ(wrong.verdict.outcome, Outcome::denied);
    EXPECT_EQ(wrong.prompts, std::vector<PromptKind>{PromptKind::password});
}

TEST_F(HostKeyLogonTest, TheKeyTakesTheCodesPlaceAndTheCodeIsTheFallback)
{
    settings({{"allow_passkey_logon", "no"}});
    Key k;
    add(k);
    const Secret app = enrol_app();
    const auto by_key = logon(with(k), {std::string(password)});
    EXPECT_EQ(by_key.verdict.outcome, Outcome::success) << by_key.verdict.message;
    EXPECT_EQ(by_key.prompts,
              (std::vector<PromptKind>{PromptKind::password, PromptKind::security_key}));

    const auto fallback = logon(problem(KeyProblem::no_device), {std::string(password), code(app)});
    EXPECT_EQ(fallback.verdict.outcome, Outcome::success) << fallback.verdict.message;
    EXPECT_EQ(fallback.prompts,
              (std::vector<PromptKind>{PromptKind::password, PromptKind::security_key,
                                       PromptKind::verification_code}));
    EXPECT_EQ(fallback.messages, (std::vector<std::string>{"No security key was found.",
                                                           "Enter a verification code instead."}));
    EXPECT_EQ(last("auth.allow")["method"], "pwd+otp");
}

TEST_F(HostKeyLogonTest, AKeyThatCannotAnswerFallsBackToThePassword)
{
    Key k;
    add(k);
    for (const auto p : {KeyProblem::no_device, KeyProblem::timeout, KeyProblem::removed,
                         KeyProblem::pin_invalid, KeyProblem::pin_blocked}) {
        const auto r = logon(problem(p), {std::string(password)});
        EXPECT_EQ(r.verdict.outcome, Outcome::success) << proto::problem_name(p);
        // The key is not asked again after the password: it could not answer.
        EXPECT_EQ(r.prompts,
                  (std::vector<PromptKind>{PromptKind::security_key, PromptKind::password}));
        EXPECT_EQ(r.messages, (std::vector<std::string>{std::string(proto::problem_message(p)),
                                                        "Log on with your password instead."}));
        EXPECT_EQ(last("auth.allow")["method"], "pwd");
    }
}

TEST_F(HostKeyLogonTest, AKeyThatCannotVerifyItsUserIsAskedAgainAfterThePassword)
{
    settings({{"mfa_required", "yes"}});
    Key k;
    add(k);
    auto first = true;
    const auto r = logon(
        [&](const proto::SecurityKeyCeremony& c) {
            // Asked with user verification first, which this key cannot do; then without.
            EXPECT_EQ(c.user_verification, first);
            if (std::exchange(first, false))
                return proto::SecurityKeyResult{{}, "not_supported"};
            return k.answer(c);
        },
        {std::string(password)});
    EXPECT_EQ(r.verdict.outcome, Outcome::success) << r.verdict.message;
    EXPECT_EQ(r.prompts, (std::vector<PromptKind>{PromptKind::security_key, PromptKind::password,
                                                  PromptKind::security_key}));
    EXPECT_EQ(last("auth.allow")["method"], "pwd+hwk");
}

TEST_F(HostKeyLogonTest, WithMfaRequiredAndNoAppAMissingKeyRefusesTheLogon)
{
    settings({{"mfa_required", "yes"}, {"allow_passkey_logon", "no"}});
    Key k;
    add(k);
    const auto second = logon(problem(KeyProblem::timeout), {std::string(password)});
    EXPECT_EQ(second.verdict.outcome, Outcome::denied);
    EXPECT_EQ(second.verdict.message,
              "The security key was not touched in time. Multi-factor authentication is "
              "required: log on with your security key.");
    EXPECT_EQ(last("auth.deny")["reason"], "security_key_timeout");

    settings({{"allow_passkey_logon", "yes"}});
    const auto first = logon(problem(KeyProblem::no_device), {std::string(password)});
    EXPECT_EQ(first.verdict.outcome, Outcome::denied);
    EXPECT_EQ(last("auth.deny")["reason"], "security_key_unavailable");
}

TEST_F(HostKeyLogonTest, AClonedKeyIsRefusedAndCountsTowardTheLock)
{
    Key k;
    add(k);
    const Key copied = k; // the same private key and counter, before the original is used
    ASSERT_EQ(logon(with(k), {}).verdict.outcome, Outcome::success);
    Key clone = copied;
    const auto r = logon(with(clone), {});
    EXPECT_EQ(r.verdict.outcome, Outcome::denied);
    EXPECT_EQ(r.verdict.message, "Authentication failed: the security key was not accepted.");
    EXPECT_EQ(last("auth.deny")["reason"], "counter_regression");
    EXPECT_EQ(last("auth.deny")["method"], "hwk");
    // Five refused answers lock alice (the policy's default), as five wrong passwords would.
    for (int i = 0; i < 4; ++i) {
        clone = copied;
        EXPECT_EQ(logon(with(clone), {}).verdict.outcome, Outcome::denied);
    }
    EXPECT_TRUE(directory_->show_user({"alice", std::nullopt})->locked_until);
    EXPECT_EQ(logon(with(k), {}).verdict.outcome, Outcome::denied);
    EXPECT_EQ(last("auth.deny")["reason"], "locked");
}

TEST_F(HostKeyLogonTest, AnAnswerFromAnotherRelyingPartyOrKeyIsRefused)
{
    Key k;
    add(k);
    Key web = k; // a page's assertion, as a browser would make it
    web.rp_id = "example.internal";
    web.origin = "https://example.internal";
    EXPECT_EQ(logon(with(web), {}).verdict.outcome, Outcome::denied);
    EXPECT_EQ(last("auth.deny")["reason"], "origin_not_allowed");
    web.origin = host_origin; // a helper that signed for the wrong relying party
    EXPECT_EQ(logon(with(web), {}).verdict.outcome, Outcome::denied);
    EXPECT_EQ(last("auth.deny")["reason"], "rp_id_mismatch");

    Key stranger;
    EXPECT_EQ(logon(with(stranger), {}).verdict.outcome, Outcome::denied);
    EXPECT_EQ(last("auth.deny")["reason"], "unknown_credential");

    const auto garbage = logon(
        [](const proto::SecurityKeyCeremony&) {
            return proto::SecurityKeyResult{"{", {}};
        },
        {});
    EXPECT_EQ(garbage.verdict.outcome, Outcome::denied);
    EXPECT_EQ(last("auth.deny")["reason"], "malformed_response");
}

TEST_F(HostKeyLogonTest, WebPasskeysAreNeverAskedAtTheHosts)
{
    Key k;
    add(k, directory::PasskeyParty::web);
    const auto r = logon(with(k), {std::string(password)});
    EXPECT_EQ(r.verdict.outcome, Outcome::success);
    EXPECT_EQ(r.prompts, std::vector<PromptKind>{PromptKind::password});
}

TEST_F(HostKeyLogonTest, WhereTheModuleCannotRunAKeyThePasswordIsAsked)
{
    Key k;
    add(k);
    const auto r = logon(with(k), {std::string(password)}, false);
    EXPECT_EQ(r.verdict.outcome, Outcome::success);
    EXPECT_EQ(r.prompts, std::vector<PromptKind>{PromptKind::password});
}

TEST_F(HostKeyLogonTest, ATypedAnswerToAKeyPromptAndAKeyAnswerToAPasswordPromptAreRefused)
{
    Key k;
    add(k);
    LogonRequest req{"login", "alice", std::nullopt, std::nullopt, false, false};
    req.security_key = true;
    auto started = engine_->begin_logon(req, {0, 1, "pam"});
    ASSERT_TRUE(started.step.prompt);
    EXPECT_EQ(started.dialogue->answer(Secret(password)).verdict->outcome, Outcome::denied);
    EXPECT_EQ(last("auth.deny")["reason"], "security_key_expected");

    req.security_key = false;
    started = engine_->begin_logon(req, {0, 1, "pam"});
    ASSERT_TRUE(started.step.prompt);
    const auto step = started.dialogue->answer_security_key(k.answer(proto::SecurityKeyCeremony{}));
    EXPECT_EQ(step.verdict->outcome, Outcome::denied);
    EXPECT_EQ(last("auth.deny")["reason"], "security_key_unexpected");
}

TEST(HostRelyingParty, IsPamAndTheDirectoryDomainUnlessConfigured)
{
    HostKeySettings s;
    auto rp = host_relying_party(s, "example.internal");
    EXPECT_EQ(rp.id, "pam:example.internal");
    EXPECT_EQ(rp.origins, std::vector<std::string>{"pam://example.internal"});
    s.rp_id = "pam:corp.example";
    rp = host_relying_party(s, "example.internal");
    EXPECT_EQ(rp.id, "pam:corp.example");
    EXPECT_EQ(rp.origins, std::vector<std::string>{"pam://corp.example"});
}

} // namespace
} // namespace latchkey::credentials
