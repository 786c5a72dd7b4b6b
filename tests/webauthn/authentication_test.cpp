// SPDX-License-Identifier: Apache-2.0
#include "webauthn/authentication.hpp"

#include <gtest/gtest.h>

#include "tests/webauthn/soft_authenticator.hpp"
#include "webauthn/reason.hpp"

namespace latchkey::webauthn {
namespace {

using namespace testing;

const core::TimePoint now = core::from_unix(1'800'000'000);
const std::string alice_handle = "user-handle-of-alice-32-bytes-xx";

RelyingParty relying_party()
{
    return {"example.org", "Example", {"https://example.org"}, false, {}};
}

struct Credential {
    SoftKey key;
    StoredCredential stored;
};

Credential credential(CoseAlgorithm alg = CoseAlgorithm::es256, std::uint32_t count = 10)
{
    auto key = SoftKey::generate(alg);
    StoredCredential s;
    s.id = "credential-id";
    s.public_key = key.cose();
    s.sign_count = count;
    s.user_handle = alice_handle;
    return {key, s};
}

/// The known-user ceremony (passkey as a second step) unless `discoverable`.
PendingCeremony pending(bool discoverable = false)
{
    AuthenticationRequest request;
    if (!discoverable) {
        request.allow = {{"credential-id", {}}};
        request.user_handle = alice_handle;
    }
    return begin_authentication(relying_party(), request, now).pending;
}

struct Assert {
    std::uint8_t flags = flag::up;
    std::uint32_t counter = 11;
    std::string type = "webauthn.get";
    std::string origin = "https://example.org";
    std::string rp_id = "example.org";
    std::string credential_id = "credential-id";
    std::optional<std::string> user_handle = alice_handle;
    std::optional<std::string> challenge;
    std::string extensions;
    const SoftKey* signer = nullptr; // another key than the credential's
    bool corrupt_signature = false;
};

core::Result<VerifiedAssertion> authenticate(const Credential& c,
                                             const Assert& a,
                                             const PendingCeremony& p,
                                             core::TimePoint at = now)
{
    AuthDataSpec spec;
    spec.rp_id = a.rp_id;
    spec.flags = a.flags;
    spec.counter = a.counter;
    spec.extensions = a.extensions;
    const auto auth_data = make_auth_data(spec);
    const auto client_data = make_client_data(a.type, a.challenge.value_or(p.challenge), a.origin);
    auto sig = (a.signer != nullptr ? *a.signer : c.key).sign(auth_data + sha256(client_data));
    if (a.corrupt_signature)
        sig[sig.size() / 2] = static_cast<char>(sig[sig.size() / 2] ^ 0x55);
    std::optional<std::string_view> handle;
    if (a.user_handle)
        handle = *a.user_handle;
    auto response = parse_authentication_response(
        authentication_json(a.credential_id, client_data, auth_data, sig, handle));
    if (!response)
        return core::fail(response.error());
    return verify_authentication(p, *response, c.stored, at);
}

class EachAlgorithm : public ::testing::TestWithParam<CoseAlgorithm> {};

TEST_P(EachAlgorithm, VerifiesAnAssertionAndRefusesAForgedOne)
{
    const auto c = credential(GetParam());
    auto r = authenticate(c, Assert{}, pending());
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->credential_id, "credential-id");
    EXPECT_EQ(r->sign_count, 11U);
    EXPECT_FALSE(r->user_verified);
    Assert forged;
    forged.corrupt_signature = true;
    EXPECT_EQ(reason(authenticate(c, forged, pending())), Reason::bad_signature);
    const auto other = SoftKey::generate(GetParam());
    Assert wrong_key;
    wrong_key.signer = &other;
    EXPECT_EQ(reason(authenticate(c, wrong_key, pending())), Reason::bad_signature);
}

INSTANTIATE_TEST_SUITE_P(Algorithms,
                         EachAlgorithm,
                         ::testing::Values(CoseAlgorithm::es256,
                                           CoseAlgorithm::eddsa,
                                           CoseAlgorithm::rs256,
                                           CoseAlgorithm::es384,
                                           CoseAlgorithm::ps256,
                                           CoseAlgorithm::es512));

TEST(Authentication, RefusesACounterThatDidNotIncrease)
{
    const auto c = credential(CoseAlgorithm::es256, 10);
    Assert a;
    a.counter = 10;
    EXPECT_EQ(reason(authenticate(c, a, pending())), Reason::counter_regression);
    a.counter = 3;
    EXPECT_EQ(reason(authenticate(c, a, pending())), Reason::counter_regression);
    a.counter = 0; // an authenticator that stopped counting, after it had counted
    EXPECT_EQ(reason(authenticate(c, a, pending())), Reason::counter_regression);
    // A forged response with a low counter is a bad signature, not a clone alarm.
    a.corrupt_signature = true;
    EXPECT_EQ(reason(authenticate(c, a, pending())), Reason::bad_signature);
}

TEST(Authentication, AcceptsAuthenticatorsThatDoNotCount)
{
    const auto c = credential(CoseAlgorithm::es256, 0);
    Assert a;
    a.counter = 0;
    auto r = authenticate(c, a, pending());
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->sign_count, 0U);
}

TEST(Authentication, ChecksTheCredentialIsOfferedAndTheUsers)
{
    const auto c = credential();
    Assert a;
    a.credential_id = "another-id";
    EXPECT_EQ(reason(authenticate(c, a, pending())), Reason::credential_not_allowed);
    auto p = pending(true);
    EXPECT_EQ(reason(authenticate(c, a, p)), Reason::credential_not_allowed);
    a = {};
    a.user_handle = "somebody else";
    EXPECT_EQ(reason(authenticate(c, a, pending())), Reason::user_handle_mismatch);
    // The known user is another than the credential's owner.
    p = pending();
    p.user_handle = "bob";
    EXPECT_EQ(reason(authenticate(c, Assert{}, p)), Reason::user_handle_mismatch);
    // With the user known, the authenticator need not say whose the credential is.
    a = {};
    a.user_handle.reset();
    EXPECT_TRUE(authenticate(c, a, pending()));
}

TEST(Authentication, DiscoverableSignInNeedsTheUserHandle)
{
    const auto c = credential();
    {
        auto r = authenticate(c, Assert{}, pending(true));
        EXPECT_TRUE(r) << r.error().message;
    }
    Assert a;
    a.user_handle.reset();
    EXPECT_EQ(reason(authenticate(c, a, pending(true))), Reason::user_handle_mismatch);
}

TEST(Authentication, ChecksClientDataRpIdAndFlags)
{
    const auto c = credential();
    Assert a;
    a.type = "webauthn.create";
    EXPECT_EQ(reason(authenticate(c, a, pending())), Reason::wrong_type);
    a = {};
    a.challenge = "a challenge from another ceremony";
    EXPECT_EQ(reason(authenticate(c, a, pending())), Reason::challenge_mismatch);
    a = {};
    a.origin = "http://example.org";
    EXPECT_EQ(reason(authenticate(c, a, pending())), Reason::origin_not_allowed);
    a = {};
    a.rp_id = "example.com";
    EXPECT_EQ(reason(authenticate(c, a, pending())), Reason::rp_id_mismatch);
    a = {};
    a.flags = 0;
    EXPECT_EQ(reason(authenticate(c, a, pending())), Reason::user_not_present);
    auto p = pending();
    p.user_verification = UserVerification::required;
    EXPECT_EQ(reason(authenticate(c, Assert{}, p)), Reason::user_not_verified);
    a = {};
    a.flags = flag::up | flag::uv;
    auto r = authenticate(c, a, p);
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_TRUE(r->user_verified);
}

TEST(Authentication, RefusesAttestedDataInAnAssertion)
{
    const auto c = credential();
    const auto key = SoftKey::generate(CoseAlgorithm::es256);
    AuthDataSpec spec;
    spec.flags = flag::up | flag::at;
    spec.counter = 11;
    spec.credential_id = "credential-id";
    spec.cose_key = key.cose();
    const auto p = pending();
    const auto auth_data = make_auth_data(spec);
    const auto client_data = make_client_data("webauthn.get", p.challenge, "https://example.org");
    auto response = parse_authentication_response(
        authentication_json("credential-id", client_data, auth_data,
                            c.key.sign(auth_data + sha256(client_data)), alice_handle));
    ASSERT_TRUE(response);
    EXPECT_EQ(reason(verify_authentication(p, *response, c.stored, now)),
              Reason::attested_data_unexpected);
}

TEST(Authentication, RefusesAChangedBackupEligibility)
{
    auto c = credential();
    c.stored.backup_eligible = false;
    Assert a;
    a.flags = flag::up | flag::be;
    EXPECT_EQ(reason(authenticate(c, a, pending())), Reason::backup_state_invalid);
    c.stored.backup_eligible = true;
    a.flags = flag::up | flag::be | flag::bs;
    auto r = authenticate(c, a, pending());
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_TRUE(r->backed_up);
}

TEST(Authentication, AcceptsExtensionOutputsAndReturnsThem)
{
    const auto c = credential();
    Assert a;
    a.flags = flag::up | flag::ed;
    a.extensions = Cbor::map({{"hmac-secret", Cbor::bytes(std::string(32, 's'))},
                              {"devicePubKey", Cbor::map({{"fmt", "none"}})}})
                       .encode();
    auto r = authenticate(c, a, pending());
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->extensions, a.extensions);
}

TEST(Authentication, RefusesAnExpiredCeremonyOrTheWrongKind)
{
    const auto c = credential();
    const auto p = pending();
    EXPECT_EQ(reason(authenticate(c, Assert{}, p, p.expires_at)), Reason::ceremony_expired);
    auto wrong = p;
    wrong.kind = PendingCeremony::Kind::registration;
    EXPECT_EQ(reason(authenticate(c, Assert{}, wrong)), Reason::internal);
}

TEST(Authentication, RefusesAStoredKeyThatIsNotAKey)
{
    auto c = credential();
    c.stored.public_key = "not cbor";
    EXPECT_EQ(reason(authenticate(c, Assert{}, pending())), Reason::malformed_cose_key);
    // A stored key with a point off the curve: libfido2 refuses to import it.
    auto key = parse_cose_key(credential().key.cose());
    ASSERT_TRUE(key);
    std::string y = key->y;
    y.back() = static_cast<char>(y.back() ^ 1);
    c.stored.public_key =
        Cbor::map({{1, 2}, {3, -7}, {-1, 1}, {-2, Cbor::bytes(key->x)}, {-3, Cbor::bytes(y)}})
            .encode();
    EXPECT_EQ(reason(authenticate(c, Assert{}, pending())), Reason::malformed_cose_key);
}

} // namespace
} // namespace latchkey::webauthn
