// SPDX-License-Identifier: Apache-2.0
// Unit tests of passkeys a user registers and signs in with: a software authenticator
// (tests/webauthn/soft_authenticator), a real SQLite file and a controlled clock.
#include <algorithm>

#include <gtest/gtest.h>

#include "core/random.hpp"
#include "credentials/auth_engine.hpp"
#include "credentials/passkeys.hpp"
#include "tests/directory/directory_fixture.hpp"
#include "tests/webauthn/soft_authenticator.hpp"
#include "webauthn/openssl.hpp"
#include "webauthn/reason.hpp"
#include "webauthn/response.hpp"

namespace latchkey::credentials {
namespace {

namespace wa = webauthn;
using proto::Outcome;
using wa::testing::Cbor;
using wa::testing::SoftKey;

const std::string origin = "https://login.example.org";

/// A passkey as an authenticator holds it: the key, its id, its counter, its user handle.
struct Authenticator {
    SoftKey key = SoftKey::generate(wa::CoseAlgorithm::es256);
    std::string id = core::random_string(16);
    std::uint32_t counter = 0;
    std::string user_handle;
    bool synced = false;
    bool verify_user = true;

    std::uint8_t flags() const
    {
        return static_cast<std::uint8_t>(wa::flag::up | (verify_user ? wa::flag::uv : 0U) |
                                         (synced ? wa::flag::be | wa::flag::bs : 0U));
    }

    /// navigator.credentials.create() answered for `options`.
    std::string create(const wa::Options& options)
    {
        user_handle = options.pending.user_handle;
        wa::testing::AuthDataSpec a;
        a.rp_id = "example.org";
        a.flags = static_cast<std::uint8_t>(flags() | wa::flag::at);
        a.counter = counter;
        a.credential_id = id;
        a.cose_key = key.cose();
        const std::string object =
            Cbor::map({{"fmt", "none"},
                       {"attStmt", Cbor::map({})},
                       {"authData", Cbor::bytes(wa::testing::make_auth_data(a))}})
                .encode();
        const std::string client =
            wa::testing::make_client_data("webauthn.create", options.pending.challenge, origin);
        return wa::testing::registration_json(id, client, object);
    }

    /// navigator.credentials.get() answered for `pending`, with the counter moved on.
    wa::AuthenticationResponse get(const wa::PendingCeremony& pending, std::string_view at = origin)
    {
        wa::testing::AuthDataSpec a;
        a.rp_id = "example.org";
        a.flags = flags();
        a.counter = ++counter;
        wa::AuthenticationResponse r;
        r.id = id;
        r.client_data_json = wa::testing::make_client_data("webauthn.get", pending.challenge, at);
        r.authenticator_data = wa::testing::make_auth_data(a);
        r.signature = key.sign(r.authenticator_data + wa::sha256(r.client_data_json));
        r.user_handle = user_handle;
        return r;
    }
};

class PasskeyLogonTest : public directory::DirectoryFixture {
protected:
    void SetUp() override
    {
        DirectoryFixture::SetUp();
        auto box = SecretBox::from_key(core::Secret(std::string(SecretBox::key_size, 'k')));
        ASSERT_TRUE(box);
        box_ = std::make_unique<SecretBox>(std::move(*box));
        mfa_ = std::make_unique<Mfa>(*store_, *box_, *audit_, clock_, TotpParams{});
        engine_ =
            std::make_unique<AuthEngine>(*store_, *directory_, hasher_, *mfa_, *audit_, clock_);
        passkeys_ = std::make_unique<Passkeys>(*store_, *directory_, *audit_);
        settings_.rp = {"example.org", "Example", {origin}, false, {}};
        settings_.max_passkeys_per_user = 3;
        for (const std::string name : {"alice", "bob"}) {
            ASSERT_TRUE(directory_->create_user({{name, "web"}, std::nullopt, true}, admin_));
            proto::UserSetPassword req;
            req.ref = {name, "web"};
            req.password = core::Secret(name + "-Passw0rd!");
            ASSERT_TRUE(passwords_->reset(req, admin_));
        }
    }

    directory::ResolvedUser user(const std::string& name)
    {
        return directory_->resolve({name, "web"}).value();
    }

    /// Registers `a` for the user; the stored passkey.
    proto::PasskeyInfo enrol(const std::string& name, Authenticator& a, std::string label = "")
    {
        const auto who = user(name);
        auto options = passkeys_->begin_registration(who, settings_, clock_.now());
        EXPECT_TRUE(options) << options.error().message;
        auto info = passkeys_->finish_registration(who, options->pending, a.create(*options), label,
                                                   settings_, clock_.now());
        EXPECT_TRUE(info) << info.error().message;
        return info ? *info : proto::PasskeyInfo{};
    }

    /// A passkey logon as `typed` (empty: discoverable) answered by `a`.
    PasskeyVerdict sign_in(const std::string& typed, Authenticator& a)
    {
        auto options = engine_->begin_passkey_logon(typed, settings_);
        EXPECT_TRUE(options);
        return sign_in_with(typed, options->pending, a.get(options->pending));
    }

    PasskeyVerdict sign_in_with(const std::string& typed,
                                const wa::PendingCeremony& pending,
                                const wa::AuthenticationResponse& response)
    {
        LogonRequest r;
        r.service = "oidc";
        r.user = typed;
        r.rhost = "192.0.2." + std::to_string(++source_);
        r.directory_wide = true;
        return engine_->passkey_logon(r, pending, response, {std::nullopt, 0, "oidc"});
    }

    std::unique_ptr<SecretBox> box_;
    std::unique_ptr<Mfa> mfa_;
    std::unique_ptr<AuthEngine> engine_;
    std::unique_ptr<Passkeys> passkeys_;
    PasskeySettings settings_;
    int source_ = 0;
};

TEST_F(PasskeyLogonTest, RegistersAPasskeyAndAuditsIt)
{
    Authenticator a;
    const auto info = enrol("alice", a, "  Work laptop ");
    EXPECT_EQ(info.name, "Work laptop");
    EXPECT_EQ(info.algorithm, "ES256");
    EXPECT_FALSE(info.synced);
    const auto audited = last("passkey.register");
    EXPECT_EQ(audited.at("user"), "alice@web.example.internal");
    EXPECT_EQ(audited.at("name"), "Work laptop");
    EXPECT_EQ(audited.at("user_verified"), "true");
    // The same authenticator cannot register twice: excluded in the options, refused if sent.
    const auto who = user("alice");
    auto options = passkeys_->begin_registration(who, settings_, clock_.now()).value();
    EXPECT_NE(options.json.find("excludeCredentials"), std::string::npos);
    auto again = passkeys_->finish_registration(who, options.pending, a.create(options), "",
                                                settings_, clock_.now());
    ASSERT_FALSE(again);
    EXPECT_TRUE(again.error().is(core::Errc::already_exists));
    EXPECT_EQ(last("passkey.register.deny").at("reason"), "already_exists");
}

TEST_F(PasskeyLogonTest, RegistrationNamesKeysAndKeepsToTheLimit)
{
    Authenticator synced;
    synced.synced = true;
    EXPECT_EQ(enrol("alice", synced).name, "Passkey");
    Authenticator key;
    EXPECT_EQ(enrol("alice", key).name, "Security key");
    Authenticator third;
    enrol("alice", third);
    auto fourth = passkeys_->begin_registration(user("alice"), settings_, clock_.now());
    ASSERT_FALSE(fourth);
    EXPECT_TRUE(fourth.error().is(core::Errc::policy_violation));
    EXPECT_FALSE(Passkeys::clean_name(std::string(65, 'x')));
    EXPECT_FALSE(Passkeys::clean_name("tab\tinside"));
    EXPECT_FALSE(Passkeys::clean_name("\xc3\x28"));
    EXPECT_FALSE(Passkeys::clean_name("   "));
    EXPECT_EQ(Passkeys::clean_name(" Clé USB ").value(), "Clé USB");
}

TEST_F(PasskeyLogonTest, ARegistrationMadeForAnotherOriginIsRefused)
{
    const auto who = user("alice");
    auto options = passkeys_->begin_registration(who, settings_, clock_.now()).value();
    Authenticator a;
    std::string json = a.create(options);
    auto other = options;
    other.pending.origins = {"https://evil.example"};
    auto r = passkeys_->finish_registration(who, other.pending, json, "", settings_, clock_.now());
    ASSERT_FALSE(r);
    EXPECT_EQ(wa::reason_of(r.error()), wa::Reason::origin_not_allowed);
    EXPECT_EQ(last("passkey.register.deny").at("reason"), "origin_not_allowed");
}

TEST_F(PasskeyLogonTest, SignsInWithAPasskeyForTheNameTyped)
{
    Authenticator a;
    enrol("alice", a);
    const auto v = sign_in("alice@web.example.internal", a);
    ASSERT_EQ(v.verdict.outcome, Outcome::success) << v.verdict.message;
    EXPECT_EQ(v.method, "hwk+uv");
    ASSERT_TRUE(v.who);
    EXPECT_EQ(v.who->user.name, "alice");
    const auto allowed = last("auth.allow");
    EXPECT_EQ(allowed.at("method"), "passkey");
    EXPECT_EQ(allowed.at("key"), "hwk+uv");
    const auto stored = store_->passkeys(user("alice").user.id).value();
    EXPECT_EQ(stored.front().sign_count, a.counter);
    EXPECT_TRUE(stored.front().last_used_at);
}

TEST_F(PasskeyLogonTest, SignsInWithoutAName)
{
    Authenticator a;
    a.synced = true;
    a.verify_user = false;
    enrol("alice", a);
    const auto v = sign_in("", a);
    ASSERT_EQ(v.verdict.outcome, Outcome::success) << v.verdict.message;
    EXPECT_EQ(v.method, "swk");
    EXPECT_EQ(v.who->user.name, "alice");
    // Without a user handle a discoverable sign-in cannot tell whose key it is.
    auto options = engine_->begin_passkey_logon("", settings_).value();
    auto response = a.get(options.pending);
    response.user_handle.reset();
    EXPECT_EQ(sign_in_with("", options.pending, response).verdict.outcome, Outcome::denied);
}

TEST_F(PasskeyLogonTest, TheOptionsOfANameWithoutPasskeysLookLikeAnyOthers)
{
    Authenticator a;
    enrol("alice", a);
    const auto known = engine_->begin_passkey_logon("alice@web.example.internal", settings_);
    const auto none = engine_->begin_passkey_logon("bob@web.example.internal", settings_);
    const auto unknown = engine_->begin_passkey_logon("zoe@web.example.internal", settings_);
    ASSERT_TRUE(known && none && unknown);
    for (const auto* o : {&*known, &*none, &*unknown}) {
        EXPECT_EQ(o->pending.allowed_credentials.size(), 1U);
        EXPECT_NE(o->json.find("allowCredentials"), std::string::npos);
    }
    // The same made-up credential for the same name, every time, whatever its case.
    const auto unknown_again = engine_->begin_passkey_logon("ZOE@web.example.internal", settings_);
    EXPECT_EQ(unknown->pending.allowed_credentials, unknown_again->pending.allowed_credentials);
    EXPECT_NE(unknown->pending.allowed_credentials, none->pending.allowed_credentials);
}

TEST_F(PasskeyLogonTest, AnotherUsersKeyIsRefused)
{
    Authenticator a;
    enrol("alice", a);
    auto options = engine_->begin_passkey_logon("bob@web.example.internal", settings_).value();
    const auto v =
        sign_in_with("bob@web.example.internal", options.pending, a.get(options.pending));
    EXPECT_EQ(v.verdict.outcome, Outcome::denied);
    EXPECT_EQ(last("auth.deny").at("reason"), "credential_of_another_user");
}

TEST_F(PasskeyLogonTest, AFailedCheckIsAuditedWithItsReasonAndCountsTowardTheLock)
{
    Authenticator a;
    enrol("alice", a);
    // Another origin's assertion.
    auto options = engine_->begin_passkey_logon("alice@web.example.internal", settings_).value();
    auto v = sign_in_with("alice@web.example.internal", options.pending,
                          a.get(options.pending, "https://evil.example"));
    EXPECT_EQ(v.verdict.outcome, Outcome::denied);
    EXPECT_EQ(v.verdict.message.find("origin"), std::string::npos); // one plain message
    EXPECT_EQ(last("auth.deny").at("reason"), "origin_not_allowed");
    // A replay: the same answer for the next ceremony.
    auto first = engine_->begin_passkey_logon("alice@web.example.internal", settings_).value();
    const auto answer = a.get(first.pending);
    ASSERT_EQ(sign_in_with("alice@web.example.internal", first.pending, answer).verdict.outcome,
              Outcome::success);
    auto second = engine_->begin_passkey_logon("alice@web.example.internal", settings_).value();
    EXPECT_EQ(sign_in_with("alice@web.example.internal", second.pending, answer).verdict.outcome,
              Outcome::denied);
    EXPECT_EQ(last("auth.deny").at("reason"), "challenge_mismatch");
    // A counter that went back: a cloned authenticator.
    a.counter = 0;
    v = sign_in("alice@web.example.internal", a);
    EXPECT_EQ(v.verdict.outcome, Outcome::denied);
    EXPECT_EQ(last("auth.deny").at("reason"), "counter_regression");
    EXPECT_EQ(last("auth.deny").at("method"), "passkey");
    // Each refusal counts like a wrong password: two so far (the success cleared the first);
    // three more reach the policy's five, and the user is locked, the right key or not.
    for (int i = 0; i < 3; ++i) {
        a.counter = 0;
        EXPECT_EQ(sign_in("alice@web.example.internal", a).verdict.outcome, Outcome::denied);
    }
    EXPECT_TRUE(directory_->show_user({"alice", "web"})->locked_until);
    a.counter = 100;
    EXPECT_EQ(sign_in("alice@web.example.internal", a).verdict.outcome, Outcome::denied);
    EXPECT_EQ(last("auth.deny").at("reason"), "locked");
}

TEST_F(PasskeyLogonTest, ThePolicySwitchesAndTheUsersLogonRights)
{
    Authenticator a;
    enrol("alice", a);
    ASSERT_TRUE(directory_->set_settings({"web", {{"allow_passkey_logon", "no"}}}, admin_));
    EXPECT_FALSE(engine_->offers_passkey("alice@web.example.internal"));
    auto v = sign_in("alice@web.example.internal", a);
    EXPECT_EQ(v.verdict.outcome, Outcome::denied);
    EXPECT_NE(v.verdict.message.find("not allowed"), std::string::npos);
    ASSERT_TRUE(directory_->set_settings({"web", {{"allow_passkey_logon", "yes"}}}, admin_));
    EXPECT_TRUE(engine_->offers_passkey("alice@web.example.internal"));
    ASSERT_TRUE(directory_->set_console_logon({"alice", "web"}, false, admin_));
    v = sign_in("alice@web.example.internal", a);
    EXPECT_EQ(v.verdict.outcome, Outcome::denied);
    EXPECT_EQ(v.verdict.message, "Console logon is disabled for this user.");
    ASSERT_TRUE(directory_->set_console_logon({"alice", "web"}, true, admin_));
    // MFA required: a passkey that verified its user is two factors; one that did not is one.
    ASSERT_TRUE(directory_->set_settings({"web", {{"mfa_required", "yes"}}}, admin_));
    EXPECT_EQ(sign_in("alice@web.example.internal", a).verdict.outcome, Outcome::success);
    a.verify_user = false;
    v = sign_in("alice@web.example.internal", a);
    EXPECT_EQ(v.verdict.outcome, Outcome::denied);
    EXPECT_EQ(last("auth.deny").at("reason"), "mfa_required");
}

TEST_F(PasskeyLogonTest, TheLastWayInCannotBeRemoved)
{
    Authenticator a;
    const auto info = enrol("alice", a);
    EXPECT_TRUE(passkeys_->rename(user("alice"), info.id, "Renamed"));
    EXPECT_TRUE(
        passkeys_->rename(user("alice"), info.id, "").error().is(core::Errc::invalid_argument));
    EXPECT_EQ(last("passkey.rename").at("name"), "Renamed");
    EXPECT_TRUE(passkeys_->remove_own(user("bob"), info.id).error().is(core::Errc::not_found));
    // alice has a password: her only passkey may go.
    ASSERT_TRUE(passkeys_->remove_own(user("alice"), info.id));
    // Without a password, the last passkey stays; with two, one may go.
    ASSERT_TRUE(directory_->create_user({{"carol", "web"}, std::nullopt, true}, admin_));
    Authenticator b;
    Authenticator c;
    const auto first = enrol("carol", b);
    const auto second = enrol("carol", c);
    ASSERT_TRUE(passkeys_->remove_own(user("carol"), first.id));
    const auto refused = passkeys_->remove_own(user("carol"), second.id);
    ASSERT_FALSE(refused);
    EXPECT_TRUE(refused.error().is(core::Errc::failed_precondition));
    EXPECT_EQ(passkeys_->list({"carol", "web"})->size(), 1U);
}

} // namespace
} // namespace latchkey::credentials

namespace latchkey::credentials {
namespace {

/// The password logon at the OIDC pages (or another front door), up to its second step.
struct Logon {
    Started started;
    Step step;
};

class PasskeySecondFactorTest : public PasskeyLogonTest {
protected:
    Logon password_step(const std::string& user, const std::string& front_door = "oidc")
    {
        LogonRequest r;
        r.service = front_door;
        r.user = user + "@web.example.internal";
        r.rhost = "192.0.2.200";
        r.directory_wide = true;
        Logon l{engine_->begin_logon(r, {std::nullopt, 0, front_door}), {}};
        EXPECT_TRUE(l.started.dialogue);
        l.step = l.started.dialogue->answer(core::Secret(user + "-Passw0rd!"));
        return l;
    }

    Step answer(Logon& l, Authenticator& a)
    {
        auto options = engine_->begin_passkey_logon("alice@web.example.internal", settings_);
        EXPECT_TRUE(options);
        return l.started.dialogue->answer_passkey(options->pending, a.get(options->pending));
    }
};

TEST_F(PasskeySecondFactorTest, APasskeyIsTheSecondFactorWhereMfaIsRequired)
{
    Authenticator a;
    a.verify_user = false; // presence is enough after a password
    enrol("alice", a);
    ASSERT_TRUE(directory_->set_settings({"web", {{"mfa_required", "yes"}}}, admin_));
    auto l = password_step("alice");
    ASSERT_TRUE(l.step.prompt);
    EXPECT_EQ(l.step.prompt->kind, proto::PromptKind::passkey);
    EXPECT_TRUE(l.started.dialogue->accepts_passkey());
    // Typing something is no passkey.
    auto typed = password_step("alice");
    EXPECT_EQ(typed.started.dialogue->answer(core::Secret("123456")).verdict->outcome,
              Outcome::denied);
    const auto done = answer(l, a);
    ASSERT_TRUE(done.verdict);
    EXPECT_EQ(done.verdict->outcome, Outcome::success) << done.verdict->message;
    EXPECT_EQ(l.started.dialogue->method(), "pwd+hwk");
    EXPECT_EQ(last("auth.allow").at("method"), "pwd+hwk");
}

TEST_F(PasskeySecondFactorTest, ATerminalIsNotAskedForAPasskey)
{
    Authenticator a;
    enrol("alice", a);
    ASSERT_TRUE(directory_->set_settings({"web", {{"mfa_required", "yes"}}}, admin_));
    auto l = password_step("alice", "pam");
    ASSERT_TRUE(l.step.verdict); // no device, no enrolment at logon: refused with how to enrol
    EXPECT_EQ(l.step.verdict->outcome, Outcome::denied);
    EXPECT_FALSE(l.started.dialogue->accepts_passkey());
}

TEST_F(PasskeySecondFactorTest, ItStandsInForACodeAndAnotherUsersKeyDoesNot)
{
    Authenticator mine;
    enrol("alice", mine);
    Authenticator bobs;
    enrol("bob", bobs);
    // An enrolled TOTP device: the code is asked, and a passkey may answer instead.
    directory::MfaDeviceRecord d;
    d.id = core::uuid_v4();
    d.user_id = user("alice").user.id;
    d.sealed_secret = box_->seal(generate_totp_secret(), "totp:" + d.user_id).value();
    d.created_at = clock_.now();
    ASSERT_TRUE(store_->add_mfa_device(d, {"h1"}));
    auto first = password_step("alice");
    ASSERT_TRUE(first.step.prompt);
    EXPECT_EQ(first.step.prompt->kind, proto::PromptKind::verification_code);
    EXPECT_TRUE(first.started.dialogue->accepts_passkey());
    const auto done = answer(first, mine);
    EXPECT_EQ(done.verdict->outcome, Outcome::success) << done.verdict->message;
    EXPECT_EQ(first.started.dialogue->method(), "pwd+hwk");
    auto l = password_step("alice");
    ASSERT_TRUE(l.step.prompt);
    auto options = engine_->begin_passkey_logon("alice@web.example.internal", settings_).value();
    const auto refused =
        l.started.dialogue->answer_passkey(options.pending, bobs.get(options.pending));
    EXPECT_EQ(refused.verdict->outcome, Outcome::denied);
    EXPECT_EQ(refused.verdict->message,
              "Authentication failed: the passkey was not accepted. Try again, or use your "
              "password.");
    EXPECT_EQ(last("auth.deny").at("reason"), "credential_of_another_user");
}

} // namespace
} // namespace latchkey::credentials
