// SPDX-License-Identifier: Apache-2.0
// Attestation formats none (§8.7), packed (§8.2) and fido-u2f (§8.6). Signatures go through
// libfido2 where it covers the statement (fido.hpp) and through OpenSSL otherwise; the
// certificate rules libfido2 does not check (§8.2.1, validity) are here.
#include <openssl/x509.h>

#include "webauthn/cbor.hpp"
#include "webauthn/certificates.hpp"
#include "webauthn/fido.hpp"
#include "webauthn/formats.hpp"
#include "webauthn/reason.hpp"

namespace latchkey::webauthn {

namespace {

/// §8.2.1: version 3; subject C, O, OU "Authenticator Attestation", CN; not a CA.
core::Status check_packed_certificate(X509* cert)
{
    if (X509_get_version(cert) != 2)
        return refuse(Reason::certificate_invalid, "the attestation certificate is not X.509 v3");
    const X509_NAME* subject = X509_get_subject_name(cert);
    const auto text = [&](int nid) {
        std::string out(256, '\0');
        const int n =
            X509_NAME_get_text_by_NID(subject, nid, out.data(), static_cast<int>(out.size()));
        out.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
        return out;
    };
    if (text(NID_countryName).empty() || text(NID_organizationName).empty() ||
        text(NID_commonName).empty() ||
        text(NID_organizationalUnitName) != "Authenticator Attestation")
        return refuse(Reason::certificate_invalid,
                      "the attestation certificate's subject is not as §8.2.1 requires");
    if (is_ca(cert))
        return refuse(Reason::certificate_invalid, "the attestation certificate is a CA");
    return {};
}

/// The signature over the statement: libfido2 when it covers it, OpenSSL with `key` otherwise.
core::Status check_signature(const Statement& s,
                             EVP_PKEY* key,
                             SignatureScheme scheme,
                             std::string_view signed_data,
                             std::string_view sig)
{
    if (fido_supports(s.object))
        return fido_verify_attestation(s.object, s.rp_id, s.client_data_json, s.require_uv);
    if (!verify_signature(key, scheme, signed_data, sig))
        return refuse(Reason::bad_signature, "the attestation signature does not verify");
    return {};
}

} // namespace

core::Result<VerifiedStatement> verify_none(const Statement& s)
{
    if (!s.has_only({}))
        return refuse(Reason::attestation_invalid, "a none statement must be empty");
    return VerifiedStatement{};
}

core::Result<VerifiedStatement> verify_packed(const Statement& s)
{
    LATCHKEY_TRY(alg, s.alg());
    LATCHKEY_TRY(sig, s.sig());
    const cbor_item_t* x5c = s.member("x5c");
    if (!(x5c != nullptr ? s.has_only({"alg", "sig", "x5c"}) : s.has_only({"alg", "sig"})))
        return refuse(Reason::attestation_invalid, "a packed statement has alg, sig and x5c only");

    VerifiedStatement out;
    if (x5c == nullptr) {
        // Self attestation: signed by the credential key itself, with its algorithm.
        if (alg != s.credential().public_key.alg)
            return refuse(Reason::algorithm_mismatch,
                          "a self attestation's alg is not the credential key's");
        LATCHKEY_TRY(key, to_evp_pkey(s.credential().public_key));
        LATCHKEY_TRY_STATUS(check_signature(s, key.get(), scheme_of(alg), s.to_be_signed(), sig));
        out.type = AttestationType::self;
        return out;
    }
    LATCHKEY_TRY(chain, chain_of(x5c));
    LATCHKEY_TRY_STATUS(check_packed_certificate(chain.leaf()));
    LATCHKEY_TRY_STATUS(check_aaguid_extension(chain.leaf(), s.credential().aaguid));
    LATCHKEY_TRY_STATUS(check_validity(chain, s.now));
    LATCHKEY_TRY_STATUS(
        check_signature(s, X509_get0_pubkey(chain.leaf()), scheme_of(alg), s.to_be_signed(), sig));
    out.type = AttestationType::basic;
    out.chain = std::move(chain.der);
    return out;
}

core::Result<VerifiedStatement> verify_fido_u2f(const Statement& s)
{
    const auto& cred = s.credential();
    LATCHKEY_TRY(sig, s.sig());
    const cbor_item_t* x5c = s.member("x5c");
    if (!s.has_only({"sig", "x5c"}) || cbor_array_size(const_cast<cbor_item_t*>(x5c)) != 1)
        return refuse(Reason::attestation_invalid,
                      "a fido-u2f statement has sig and exactly one certificate");
    LATCHKEY_TRY(chain, chain_of(x5c));
    EVP_PKEY* cert_key = X509_get0_pubkey(chain.leaf());
    char group[32] = {};
    std::size_t group_length = 0;
    if (cert_key == nullptr || EVP_PKEY_get_base_id(cert_key) != EVP_PKEY_EC ||
        EVP_PKEY_get_group_name(cert_key, group, sizeof group, &group_length) != 1 ||
        std::string_view(group, group_length) != "prime256v1")
        return refuse(Reason::attestation_invalid, "the U2F certificate's key is not P-256");
    if (cred.public_key.alg != CoseAlgorithm::es256)
        return refuse(Reason::attestation_invalid, "a U2F credential key must be ES256");
    LATCHKEY_TRY_STATUS(check_validity(chain, s.now));
    // §8.6 verificationData: 0x00 || rpIdHash || clientDataHash || credentialId || 0x04 || x || y
    std::string data(1, '\0');
    data.append(s.object.auth_data.rp_id_hash).append(sha256(s.client_data_json)).append(cred.id);
    data.append(1, '\x04').append(cred.public_key.x).append(cred.public_key.y);
    LATCHKEY_TRY_STATUS(check_signature(s, cert_key, SignatureScheme::ecdsa_sha256, data, sig));
    VerifiedStatement out;
    out.type = AttestationType::basic;
    out.chain = std::move(chain.der);
    return out;
}

} // namespace latchkey::webauthn
