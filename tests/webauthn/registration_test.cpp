// SPDX-License-Identifier: Apache-2.0
#include "webauthn/registration.hpp"

#include <gtest/gtest.h>

#include "tests/webauthn/soft_authenticator.hpp"
#include "webauthn/reason.hpp"

namespace latchkey::webauthn {
namespace {

using namespace testing;

const core::TimePoint now = std::chrono::system_clock::now();

RelyingParty relying_party()
{
    return {"example.org", "Example", {"https://example.org"}, false, {}};
}

PendingCeremony pending()
{
    RegistrationRequest request;
    request.user_name = "alice";
    return begin_registration(relying_party(), request, now).pending;
}

constexpr Aaguid test_aaguid{0xcb, 0x69, 0x48, 0x1e, 0x8f, 0xf7, 0x40, 0x39,
                             0x93, 0xec, 0x0a, 0x27, 0x29, 0xa1, 0x54, 0xa8};

/// What the authenticator and browser do in a test: every part can be bent.
struct MakeCredential {
    CoseAlgorithm alg = CoseAlgorithm::es256;
    std::string fmt = "none";
    std::uint8_t flags = flag::up | flag::at;
    std::string type = "webauthn.create";
    std::string origin = "https://example.org";
    std::string rp_id = "example.org";
    std::string client_extra = R"(,"crossOrigin":false)";
    std::optional<std::string> challenge;
    Aaguid aaguid = test_aaguid;
    std::string extensions;
    // Attestation: the key that signs (packed full, fido-u2f) and the x5c it sends.
    std::optional<SoftKey> attester;
    std::vector<std::string> x5c;
    std::optional<std::int64_t> statement_alg; // packed: defaults to the signer's
    bool corrupt_signature = false;
    std::optional<Cbor> statement; // replaces the statement made for fmt
};

struct Made {
    std::string json;
    std::string credential_id;
    SoftKey key;
};

Made make(const MakeCredential& m, const PendingCeremony& p)
{
    const auto key = SoftKey::generate(m.alg);
    const std::string id = "credential-" + std::to_string(static_cast<int>(m.alg));
    AuthDataSpec spec;
    spec.rp_id = m.rp_id;
    spec.flags = m.flags;
    spec.counter = 0;
    spec.aaguid = m.aaguid;
    spec.credential_id = id;
    spec.cose_key = key.cose();
    spec.extensions = m.extensions;
    const std::string auth_data = make_auth_data(spec);
    const std::string client_data =
        make_client_data(m.type, m.challenge.value_or(p.challenge), m.origin, m.client_extra);

    Cbor statement = Cbor::map({});
    const auto maybe_corrupt = [&](std::string sig) {
        if (m.corrupt_signature)
            sig[sig.size() / 2] = static_cast<char>(sig[sig.size() / 2] ^ 0x55);
        return sig;
    };
    if (m.fmt == "packed") {
        const SoftKey& signer = m.attester ? *m.attester : key;
        const auto sig = maybe_corrupt(signer.sign(auth_data + sha256(client_data)));
        const std::int64_t alg = m.statement_alg.value_or(static_cast<std::int64_t>(signer.alg()));
        if (m.x5c.empty()) {
            statement = Cbor::map({{"alg", alg}, {"sig", Cbor::bytes(sig)}});
        } else {
            std::vector<Cbor> chain;
            for (const auto& der : m.x5c)
                chain.push_back(Cbor::bytes(der));
            statement =
                Cbor::map({{"alg", alg}, {"sig", Cbor::bytes(sig)}, {"x5c", Cbor::array(chain)}});
        }
    } else if (m.fmt == "fido-u2f") {
        auto parsed = parse_cose_key(key.cose());
        const std::string data = std::string(1, '\0') + sha256(m.rp_id) + sha256(client_data) + id +
                                 "\x04" + parsed->x + parsed->y;
        const auto sig = maybe_corrupt(m.attester->sign(data));
        statement = Cbor::map(
            {{"sig", Cbor::bytes(sig)}, {"x5c", Cbor::array({Cbor::bytes(m.x5c.at(0))})}});
    } else if (m.fmt != "none") {
        statement = Cbor::map({{"alg", -7}});
    }
    if (m.statement)
        statement = *m.statement;
    const auto object =
        Cbor::map(
            {{"fmt", m.fmt.c_str()}, {"attStmt", statement}, {"authData", Cbor::bytes(auth_data)}})
            .encode();
    return {registration_json(id, client_data, object), id, key};
}

core::Result<RegisteredCredential> register_with(const MakeCredential& m,
                                                 const PendingCeremony& p = pending(),
                                                 const TrustPolicy& policy = {},
                                                 core::TimePoint at = now)
{
    const auto made = make(m, p);
    auto response = parse_registration_response(made.json);
    if (!response)
        return core::fail(response.error());
    return verify_registration(p, *response, policy, at);
}

// An attestation CA and a leaf it signed, as a security key vendor has.
struct Vendor {
    SoftKey root = SoftKey::generate(CoseAlgorithm::es256);
    SoftKey leaf = SoftKey::generate(CoseAlgorithm::es256);
    std::string root_der;
    std::string leaf_der;

    explicit Vendor(CertSpec leaf_spec = {})
    {
        CertSpec root_spec;
        root_spec.subject = "C=SE,O=Latchkey Test,CN=Test Attestation Root";
        root_spec.ca = true;
        root_der = make_certificate(root, nullptr, root_spec);
        leaf_spec.issuer = root_spec.subject;
        leaf_der = make_certificate(leaf, &root, leaf_spec);
    }

    MakeCredential packed() const
    {
        MakeCredential m;
        m.fmt = "packed";
        m.attester = leaf;
        m.x5c = {leaf_der};
        return m;
    }
};

class NoneAttestation : public ::testing::TestWithParam<CoseAlgorithm> {};

TEST_P(NoneAttestation, RegistersACredentialOfEachOfferedAlgorithm)
{
    MakeCredential m;
    m.alg = GetParam();
    auto p = pending();
    auto r = register_with(m, p);
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->id, "credential-" + std::to_string(static_cast<int>(m.alg)));
    EXPECT_EQ(r->alg, GetParam());
    EXPECT_EQ(r->aaguid, test_aaguid);
    EXPECT_EQ(r->user_handle, p.user_handle);
    EXPECT_EQ(r->fmt, "none");
    EXPECT_EQ(r->attestation, AttestationType::none);
    EXPECT_FALSE(r->attestation_trusted);
    EXPECT_EQ(r->transports, std::vector<std::string>{"usb"});
    EXPECT_TRUE(parse_cose_key(r->public_key));
}

INSTANTIATE_TEST_SUITE_P(Offered,
                         NoneAttestation,
                         ::testing::Values(CoseAlgorithm::es256,
                                           CoseAlgorithm::eddsa,
                                           CoseAlgorithm::rs256));

TEST(Registration, RefusesAnAlgorithmThatWasNotOffered)
{
    MakeCredential m;
    m.alg = CoseAlgorithm::es384;
    EXPECT_EQ(reason(register_with(m)), Reason::unsupported_algorithm);
    auto p = pending();
    p.algorithms.push_back(CoseAlgorithm::es384);
    EXPECT_TRUE(register_with(m, p));
}

TEST(Registration, ChecksClientDataAgainstTheCeremony)
{
    MakeCredential m;
    m.type = "webauthn.get";
    EXPECT_EQ(reason(register_with(m)), Reason::wrong_type);
    m = {};
    m.challenge = std::string(32, 'x');
    EXPECT_EQ(reason(register_with(m)), Reason::challenge_mismatch);
    m = {};
    m.origin = "https://example.org.evil.test";
    EXPECT_EQ(reason(register_with(m)), Reason::origin_not_allowed);
    m = {};
    m.client_extra = R"(,"crossOrigin":true)";
    EXPECT_EQ(reason(register_with(m)), Reason::cross_origin_not_allowed);
    m = {};
    m.client_extra = R"(,"topOrigin":"https://embedder.test")";
    EXPECT_EQ(reason(register_with(m)), Reason::top_origin_not_allowed);
}

TEST(Registration, AllowsAnEmbeddingOnlyWhereTheRelyingPartySaysSo)
{
    MakeCredential m;
    m.client_extra = R"(,"crossOrigin":true,"topOrigin":"https://portal.example.com")";
    auto p = pending();
    p.allow_cross_origin = true;
    p.top_origins = {"https://portal.example.com"};
    EXPECT_TRUE(register_with(m, p));
    p.top_origins = {"https://other.example.com"};
    EXPECT_EQ(reason(register_with(m, p)), Reason::top_origin_not_allowed);
}

TEST(Registration, ChecksTheAuthenticatorsRpIdAndFlags)
{
    MakeCredential m;
    m.rp_id = "evil.test";
    EXPECT_EQ(reason(register_with(m)), Reason::rp_id_mismatch);
    m = {};
    m.flags = flag::at;
    EXPECT_EQ(reason(register_with(m)), Reason::user_not_present);
    auto p = pending();
    p.user_verification = UserVerification::required;
    EXPECT_EQ(reason(register_with(MakeCredential{}, p)), Reason::user_not_verified);
    m = {};
    m.flags = flag::up | flag::uv | flag::at | flag::be | flag::bs;
    auto r = register_with(m, p);
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_TRUE(r->user_verified);
    EXPECT_TRUE(r->backup_eligible);
    EXPECT_TRUE(r->backed_up);
}

TEST(Registration, ChecksTheCeremonyItself)
{
    auto p = pending();
    EXPECT_EQ(reason(register_with(MakeCredential{}, p, {}, p.expires_at)),
              Reason::ceremony_expired);
    auto wrong_kind = p;
    wrong_kind.kind = PendingCeremony::Kind::authentication;
    EXPECT_EQ(reason(register_with(MakeCredential{}, wrong_kind)), Reason::internal);
}

TEST(Registration, NoneMeansAnEmptyStatementAndUnknownFormatsAreRefused)
{
    MakeCredential m;
    m.statement = Cbor::map({{"alg", -7}, {"sig", Cbor::bytes("s")}});
    EXPECT_EQ(reason(register_with(m)), Reason::attestation_invalid);
    m.fmt = "vendor-special";
    EXPECT_EQ(reason(register_with(m)), Reason::unsupported_format);
}

TEST(Registration, AcceptsPackedSelfAttestationThroughLibfido2AndOpenssl)
{
    for (const auto alg :
         {CoseAlgorithm::es256, CoseAlgorithm::eddsa, CoseAlgorithm::rs256, CoseAlgorithm::ps256}) {
        MakeCredential m;
        m.fmt = "packed";
        m.alg = alg;
        auto p = pending();
        p.algorithms.push_back(CoseAlgorithm::ps256);
        auto r = register_with(m, p);
        ASSERT_TRUE(r) << algorithm_name(static_cast<int>(alg)) << ": " << r.error().message;
        EXPECT_EQ(r->attestation, AttestationType::self);
        m.corrupt_signature = true;
        EXPECT_EQ(reason(register_with(m, p)), Reason::bad_signature)
            << algorithm_name(static_cast<int>(alg));
    }
}

TEST(Registration, RefusesSelfAttestationUnderAnotherAlgorithm)
{
    MakeCredential m;
    m.fmt = "packed";
    m.statement_alg = -257;
    EXPECT_EQ(reason(register_with(m)), Reason::algorithm_mismatch);
}

TEST(Registration, AcceptsPackedFullAttestationAndTrustsItsChainWhenAsked)
{
    const Vendor vendor;
    auto r = register_with(vendor.packed());
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->attestation, AttestationType::basic);
    EXPECT_FALSE(r->attestation_trusted);

    TrustPolicy policy;
    policy.require_trusted = true;
    EXPECT_EQ(reason(register_with(vendor.packed(), pending(), policy)),
              Reason::attestation_untrusted);
    policy.anchors["packed"] = {vendor.root_der};
    r = register_with(vendor.packed(), pending(), policy);
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_TRUE(r->attestation_trusted);
    // Anchored for another format only.
    policy.anchors.clear();
    policy.anchors["fido-u2f"] = {vendor.root_der};
    EXPECT_EQ(reason(register_with(vendor.packed(), pending(), policy)),
              Reason::attestation_untrusted);
    // Another vendor's root.
    policy.anchors.clear();
    policy.anchors["packed"] = {Vendor{}.root_der};
    EXPECT_EQ(reason(register_with(vendor.packed(), pending(), policy)),
              Reason::attestation_untrusted);
}

TEST(Registration, TrustPolicyCanListAuthenticatorModels)
{
    const Vendor vendor;
    TrustPolicy policy;
    policy.require_trusted = true;
    policy.anchors["packed"] = {vendor.root_der};
    policy.aaguids = {Aaguid{}};
    EXPECT_EQ(reason(register_with(vendor.packed(), pending(), policy)),
              Reason::attestation_untrusted);
    policy.aaguids.push_back(test_aaguid);
    EXPECT_TRUE(register_with(vendor.packed(), pending(), policy));
    // Self and none attestation are never trusted.
    MakeCredential self;
    self.fmt = "packed";
    EXPECT_EQ(reason(register_with(self, pending(), policy)), Reason::attestation_untrusted);
    EXPECT_EQ(reason(register_with(MakeCredential{}, pending(), policy)),
              Reason::attestation_untrusted);
}

TEST(Registration, ChecksTheChainAtTheCallersTime)
{
    const Vendor vendor;
    TrustPolicy policy;
    policy.require_trusted = true;
    policy.anchors["packed"] = {vendor.root_der};
    const auto later = now + std::chrono::hours(24 * 400);
    auto p = pending();
    p.expires_at = later + std::chrono::minutes(1);
    EXPECT_EQ(reason(register_with(vendor.packed(), p, policy, later)),
              Reason::certificate_invalid);
}

TEST(Registration, RefusesAPackedCertificateThatBreaksSection821)
{
    CertSpec spec;
    spec.aaguid_extension = test_aaguid;
    EXPECT_TRUE(register_with(Vendor(spec).packed()));
    spec.aaguid_extension = Aaguid{1};
    EXPECT_EQ(reason(register_with(Vendor(spec).packed())), Reason::aaguid_mismatch);
    spec.aaguid_extension = test_aaguid;
    spec.aaguid_critical = true;
    EXPECT_EQ(reason(register_with(Vendor(spec).packed())), Reason::attestation_invalid);
    spec = {};
    spec.subject = "C=SE,O=Latchkey Test,OU=Something Else,CN=Test Key";
    EXPECT_EQ(reason(register_with(Vendor(spec).packed())), Reason::certificate_invalid);
    spec = {};
    spec.ca = true;
    EXPECT_EQ(reason(register_with(Vendor(spec).packed())), Reason::certificate_invalid);
    spec = {};
    spec.not_after_days = -1;
    spec.not_before_days = -30;
    EXPECT_EQ(reason(register_with(Vendor(spec).packed())), Reason::certificate_invalid);
}

TEST(Registration, RefusesAPackedSignatureThatDoesNotVerify)
{
    const Vendor vendor;
    auto m = vendor.packed();
    m.corrupt_signature = true;
    EXPECT_EQ(reason(register_with(m)), Reason::bad_signature);
    // Signed by a key other than the certificate's.
    m = vendor.packed();
    m.attester = SoftKey::generate(CoseAlgorithm::es256);
    EXPECT_EQ(reason(register_with(m)), Reason::bad_signature);
}

TEST(Registration, AcceptsFidoU2fAndRefusesItsForgeries)
{
    const Vendor vendor;
    MakeCredential m;
    m.fmt = "fido-u2f";
    m.aaguid = Aaguid{};
    m.attester = vendor.leaf;
    m.x5c = {vendor.leaf_der};
    auto r = register_with(m);
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->attestation, AttestationType::basic);
    m.corrupt_signature = true;
    EXPECT_EQ(reason(register_with(m)), Reason::bad_signature);
    // U2F keys are P-256 only.
    m.corrupt_signature = false;
    m.alg = CoseAlgorithm::eddsa;
    EXPECT_EQ(reason(register_with(m)), Reason::attestation_invalid);
}

TEST(Registration, PassesExtensionsTheAuthenticatorReportedThroughLibfido2)
{
    const Vendor vendor;
    auto m = vendor.packed();
    m.flags = flag::up | flag::at | flag::ed;
    m.extensions = Cbor::map({{"credProtect", 2}, {"hmac-secret", Cbor::boolean(true)}}).encode();
    auto r = register_with(m);
    EXPECT_TRUE(r) << r.error().message;
}

} // namespace
} // namespace latchkey::webauthn
