// SPDX-License-Identifier: Apache-2.0
// The android-key attestation format (§8.4): Android Keystore signs with the credential's own
// hardware key and certifies it; the leaf certificate's key description extension
// (1.3.6.1.4.1.11129.2.1.17) binds the attestation to this registration's client data.
#include <openssl/asn1.h>
#include <openssl/x509.h>

#include "webauthn/certificates.hpp"
#include "webauthn/der.hpp"
#include "webauthn/formats.hpp"
#include "webauthn/reason.hpp"

namespace latchkey::webauthn {

namespace {

constexpr const char* oid_key_description = "1.3.6.1.4.1.11129.2.1.17";
// Keymaster tags (AuthorizationList field numbers) and values.
constexpr int km_tag_purpose = 1;
constexpr int km_tag_all_applications = 600;
constexpr int km_tag_origin = 702;
constexpr long km_purpose_sign = 2;
constexpr long km_origin_generated = 0;

core::Unexpected invalid(std::string what)
{
    return refuse(Reason::attestation_invalid, std::move(what));
}

struct Authorizations {
    bool all_applications = false;
    bool generated = false; // origin KM_ORIGIN_GENERATED
    bool can_sign = false;  // purpose holds KM_PURPOSE_SIGN
};

/// Folds one AuthorizationList (a SEQUENCE of [tag] EXPLICIT fields) into `out`.
bool read_authorizations(const Der& list, Authorizations& out)
{
    if (!list.constructed || list.tag != V_ASN1_SEQUENCE)
        return false;
    DerReader fields(list.contents);
    while (auto field = fields.next()) {
        if (field->cls != V_ASN1_CONTEXT_SPECIFIC)
            continue;
        if (field->tag == km_tag_all_applications)
            out.all_applications = true;
        if (field->tag == km_tag_origin) {
            const auto value = only(field->contents);
            if (value && small_integer(*value) == km_origin_generated)
                out.generated = true;
        }
        if (field->tag == km_tag_purpose) {
            const auto set = only(field->contents);
            if (!set || set->tag != V_ASN1_SET)
                return false;
            DerReader purposes(set->contents);
            while (auto purpose = purposes.next())
                if (small_integer(*purpose) == km_purpose_sign)
                    out.can_sign = true;
            if (purposes.failed())
                return false;
        }
    }
    return !fields.failed();
}

/// KeyDescription ::= SEQUENCE { attestationVersion, attestationSecurityLevel,
///   keymasterVersion, keymasterSecurityLevel, attestationChallenge OCTET STRING,
///   uniqueId OCTET STRING, softwareEnforced AuthorizationList, teeEnforced AuthorizationList }
core::Status check_key_description(X509* leaf, std::string_view client_data_hash)
{
    const auto ext = extension_der(leaf, oid_key_description);
    if (!ext)
        return invalid("the certificate has no Android key description");
    const auto description = only(*ext);
    if (!description || description->tag != V_ASN1_SEQUENCE)
        return invalid("the Android key description is malformed");
    DerReader fields(description->contents);
    std::optional<Der> field;
    for (int i = 0; i < 5; ++i)
        field = fields.next();
    if (!field || field->tag != V_ASN1_OCTET_STRING || field->contents != client_data_hash)
        return invalid("the Android key attestation is for another challenge");
    fields.next(); // uniqueId
    const auto software = fields.next();
    const auto tee = fields.next();
    Authorizations auth;
    if (!software || !tee || !read_authorizations(*software, auth) ||
        !read_authorizations(*tee, auth))
        return invalid("the Android key description is malformed");
    // The key must be bound to this application (no allApplications), generated in the
    // keystore, and for signing. Software- and TEE-enforced lists count together.
    if (auth.all_applications || !auth.generated || !auth.can_sign)
        return invalid("the Android key is not a generated signing key for this application");
    return {};
}

} // namespace

core::Result<VerifiedStatement> verify_android_key(const Statement& s)
{
    LATCHKEY_TRY(alg, s.alg());
    LATCHKEY_TRY(sig, s.sig());
    if (!s.has_only({"alg", "sig", "x5c"}))
        return invalid("an android-key statement has alg, sig and x5c");
    LATCHKEY_TRY(chain, chain_of(s.member("x5c")));
    EVP_PKEY* key = X509_get0_pubkey(chain.leaf());
    if (!verify_signature(key, scheme_of(alg), s.to_be_signed(), sig))
        return refuse(Reason::bad_signature, "the Android key signature does not verify");
    if (!same_public_key(key, s.credential().public_key))
        return invalid("the certificate is for another key than the credential's");
    LATCHKEY_TRY_STATUS(check_key_description(chain.leaf(), sha256(s.client_data_json)));
    LATCHKEY_TRY_STATUS(check_validity(chain, s.now));
    VerifiedStatement out;
    out.type = AttestationType::basic;
    out.chain = std::move(chain.der);
    return out;
}

} // namespace latchkey::webauthn
