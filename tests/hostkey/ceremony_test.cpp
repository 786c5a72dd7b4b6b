// SPDX-License-Identifier: Apache-2.0
// The host side of security keys against a software key behind a Unix socket: libfido2 talks
// CTAP2 to it through hostkey's socket transport, and what comes back passes the same
// webauthn/ verification a browser's answer does. Each way a key can fail has its Problem.
#include "hostkey/ceremony.hpp"

#include <gtest/gtest.h>

#include "core/clock.hpp"
#include "tests/hostkey/key_server.hpp"
#include "tests/temp_dir.hpp"
#include "webauthn/authentication.hpp"
#include "webauthn/ceremony.hpp"
#include "webauthn/openssl.hpp"
#include "webauthn/reason.hpp"
#include "webauthn/registration.hpp"
#include "webauthn/response.hpp"

namespace latchkey::hostkey {
namespace {

using test_support::TempDir;
using testing::KeyServer;
using testing::SoftwareKey;
namespace wt = webauthn::testing;

const std::string user_handle = "alice's handle, 16";
const webauthn::RelyingParty rp{
    "example.internal", "latchkey", {"pam://example.internal"}, false, {}};

class HostKeyTest : public ::testing::Test {
protected:
    explicit HostKeyTest(SoftwareKey::Options options = {})
        : key(std::move(options))
        , server(key, (dir.path() / "key.sock").string())
    {
    }

    core::TimePoint now() const { return core::TimePoint(std::chrono::seconds(1'800'000'000)); }

    /// A credential made through hostkey and verified by webauthn/ as a registration.
    webauthn::RegisteredCredential enrol(const core::Secret* pin = nullptr, bool uv = false)
    {
        webauthn::RegistrationRequest req;
        req.user_name = "alice@example.internal";
        req.user_handle = user_handle;
        const auto options = webauthn::begin_registration(rp, req, now());
        const std::string client_data =
            wt::make_client_data("webauthn.create", options.pending.challenge, rp.origins[0]);
        auto dev = Device::open(server.where());
        EXPECT_TRUE(dev.has_value()) << dev.error().message;
        CredentialRequest cr{rp.id,
                             rp.name,
                             options.pending.user_handle,
                             req.user_name,
                             "alice",
                             webauthn::sha256(client_data),
                             {},
                             false,
                             uv,
                             pin};
        auto made = make_credential(*dev, cr);
        EXPECT_TRUE(made.has_value()) << made.error().message;
        if (!made)
            return {};
        auto response = webauthn::parse_registration_response(
            wt::registration_json(made->credential_id, client_data, made->attestation_object));
        EXPECT_TRUE(response.has_value()) << response.error().message;
        auto registered = webauthn::verify_registration(options.pending, *response, {}, now());
        EXPECT_TRUE(registered.has_value()) << registered.error().message;
        return registered ? *registered : webauthn::RegisteredCredential{};
    }

    /// A sign-in with `credential` through hostkey, verified by webauthn/.
    core::Result<webauthn::VerifiedAssertion> sign_in(const webauthn::RegisteredCredential& c,
                                                      std::uint32_t stored_count,
                                                      const core::Secret* pin = nullptr,
                                                      bool uv = false)
    {
        webauthn::AuthenticationRequest req;
        req.allow.push_back({c.id, {"usb"}});
        req.user_handle = user_handle;
        const auto options = webauthn::begin_authentication(rp, req, now());
        const std::string client_data =
            wt::make_client_data("webauthn.get", options.pending.challenge, rp.origins[0]);
        auto dev = Device::open(server.where());
        if (!dev)
            return core::fail(dev.error());
        auto a = get_assertion(*dev, {rp.id, webauthn::sha256(client_data), {c.id}, uv, pin});
        if (!a)
            return core::fail(a.error());
        auto response = webauthn::parse_authentication_response(wt::authentication_json(
            a->credential_id, client_data, a->authenticator_data, a->signature, std::nullopt));
        if (!response)
            return core::fail(response.error());
        return webauthn::verify_authentication(
            options.pending, *response, {c.id, c.public_key, stored_count, user_handle, {}}, now());
    }

    TempDir dir;
    SoftwareKey key;
    KeyServer server;
};

TEST(HostKeyDevice, NoKeyListeningIsNoDevice)
{
    TempDir dir;
    auto dev = Device::open("unix:" + (dir.path() / "nothing").string());
    ASSERT_FALSE(dev.has_value());
    EXPECT_EQ(problem_of(dev.error()), Problem::no_device);
    EXPECT_EQ(problem_message(Problem::no_device), "No security key was found.");
}

TEST(HostKeyDevice, OnlyUsbAndUnixSocketsAreKnown)
{
    auto dev = Device::open("bluetooth:aa:bb");
    ASSERT_FALSE(dev.has_value());
    EXPECT_TRUE(dev.error().is(core::Errc::invalid_argument)) << dev.error().message;
}

TEST(HostKeyDevice, ProblemNamesRoundTrip)
{
    for (const Problem p : {Problem::no_device, Problem::timeout, Problem::removed,
                            Problem::pin_required, Problem::pin_invalid, Problem::pin_blocked,
                            Problem::no_credentials, Problem::not_supported, Problem::failed})
        EXPECT_EQ(problem_named(problem_name(p)), p);
    EXPECT_EQ(problem_named("something else"), Problem::failed);
}

TEST_F(HostKeyTest, ACredentialItMakesRegistersAndSignsInWithARisingCounter)
{
    const auto c = enrol();
    ASSERT_FALSE(c.id.empty());
    EXPECT_EQ(c.attestation, webauthn::AttestationType::self);
    auto first = sign_in(c, 0);
    ASSERT_TRUE(first.has_value()) << first.error().message << " " << first.error().code.message();
    EXPECT_FALSE(first->user_verified);
    auto second = sign_in(c, first->sign_count);
    ASSERT_TRUE(second.has_value()) << second.error().message;
    EXPECT_GT(second->sign_count, first->sign_count);
}

TEST_F(HostKeyTest, AnotherKeysCredentialIsNoCredential)
{
    SoftwareKey other({});
    KeyServer other_server(other, (dir.path() / "other.sock").string());
    auto dev = Device::open(other_server.where());
    ASSERT_TRUE(dev.has_value());
    const auto c = enrol();
    auto a = get_assertion(*dev, {rp.id, std::string(32, 'h'), {c.id}, false, nullptr});
    ASSERT_FALSE(a.has_value());
    EXPECT_EQ(problem_of(a.error()), Problem::no_credentials) << a.error().message;
}

TEST_F(HostKeyTest, NobodyTouchingItIsATimeout)
{
    const auto c = enrol();
    server.with_key([](SoftwareKey& k) { k.options().touched = false; });
    auto r = sign_in(c, 0);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(problem_of(r.error()), Problem::timeout) << r.error().message;
}

TEST_F(HostKeyTest, PullingItOutMidwayIsRemoved)
{
    const auto c = enrol();
    auto dev = Device::open(server.where());
    ASSERT_TRUE(dev.has_value());
    server.remove_after(0);
    auto a = get_assertion(*dev, {rp.id, std::string(32, 'h'), {c.id}, false, nullptr});
    ASSERT_FALSE(a.has_value());
    EXPECT_EQ(problem_of(a.error()), Problem::removed) << a.error().message;
}

TEST_F(HostKeyTest, AClonesAnswerIsACounterRegression)
{
    const auto c = enrol();
    SoftwareKey clone = server.with_key([](SoftwareKey& k) { return k; });
    auto original = sign_in(c, 0);
    ASSERT_TRUE(original.has_value());
    auto again = sign_in(c, original->sign_count);
    ASSERT_TRUE(again.has_value());
    KeyServer clone_server(clone, (dir.path() / "clone.sock").string());
    webauthn::AuthenticationRequest req;
    req.allow.push_back({c.id, {}});
    req.user_handle = user_handle;
    const auto options = webauthn::begin_authentication(rp, req, now());
    const std::string client_data =
        wt::make_client_data("webauthn.get", options.pending.challenge, rp.origins[0]);
    auto dev = Device::open(clone_server.where());
    ASSERT_TRUE(dev.has_value());
    auto a = get_assertion(*dev, {rp.id, webauthn::sha256(client_data), {c.id}, false, nullptr});
    ASSERT_TRUE(a.has_value()) << a.error().message;
    auto response = webauthn::parse_authentication_response(wt::authentication_json(
        a->credential_id, client_data, a->authenticator_data, a->signature, std::nullopt));
    ASSERT_TRUE(response.has_value());
    auto v = webauthn::verify_authentication(
        options.pending, *response, {c.id, c.public_key, again->sign_count, user_handle, {}},
        now());
    ASSERT_FALSE(v.has_value());
    EXPECT_EQ(webauthn::reason_of(v.error()), webauthn::Reason::counter_regression);
}

class PinKeyTest : public HostKeyTest {
protected:
    PinKeyTest()
        : HostKeyTest(SoftwareKey::Options::with_pin("271828"))
    {
    }

    const core::Secret pin{"271828"};
};

TEST_F(PinKeyTest, TheRightPinVerifiesTheUser)
{
    const auto c = enrol(&pin, true);
    EXPECT_TRUE(c.user_verified);
    auto r = sign_in(c, 0, &pin, true);
    ASSERT_TRUE(r.has_value()) << r.error().message;
    EXPECT_TRUE(r->user_verified);
}

TEST_F(PinKeyTest, NoPinIsAskedForBeforeTheKeyIsTouched)
{
    const auto c = enrol(&pin, true);
    const int touches = server.with_key([](SoftwareKey& k) { return k.touches(); });
    auto r = sign_in(c, 0, nullptr, true);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(problem_of(r.error()), Problem::pin_required);
    EXPECT_EQ(server.with_key([](SoftwareKey& k) { return k.touches(); }), touches);
}

TEST_F(PinKeyTest, AWrongPinIsPinInvalidAndEightOfThemBlockIt)
{
    const auto c = enrol(&pin, true);
    const core::Secret wrong("000000");
    for (int i = 0; i < 7; ++i) {
        auto r = sign_in(c, 0, &wrong, true);
        ASSERT_FALSE(r.has_value());
        EXPECT_EQ(problem_of(r.error()), Problem::pin_invalid) << i << ": " << r.error().message;
    }
    auto last = sign_in(c, 0, &wrong, true);
    ASSERT_FALSE(last.has_value());
    EXPECT_EQ(problem_of(last.error()), Problem::pin_blocked) << last.error().message;
    auto right = sign_in(c, 0, &pin, true);
    ASSERT_FALSE(right.has_value());
    EXPECT_EQ(problem_of(right.error()), Problem::pin_blocked) << right.error().message;
}

TEST_F(HostKeyTest, AKeyThatCannotVerifyItsUserSaysSo)
{
    const auto c = enrol();
    auto r = sign_in(c, 0, nullptr, true);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(problem_of(r.error()), Problem::not_supported);
}

} // namespace
} // namespace latchkey::hostkey
