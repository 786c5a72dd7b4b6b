// SPDX-License-Identifier: Apache-2.0
// The apple attestation format (§8.8): anonymous attestation by Apple's CA. No signature: the
// leaf certificate is for the credential key and carries, in extension 1.2.840.113635.100.8.2,
// the nonce SHA-256(authenticatorData || SHA-256(clientDataJSON)).
#include <openssl/asn1.h>
#include <openssl/x509.h>

#include "webauthn/certificates.hpp"
#include "webauthn/der.hpp"
#include "webauthn/formats.hpp"
#include "webauthn/reason.hpp"

namespace latchkey::webauthn {

namespace {

constexpr const char* oid_apple_nonce = "1.2.840.113635.100.8.2";

core::Unexpected invalid(std::string what)
{
    return refuse(Reason::attestation_invalid, std::move(what));
}

/// The extension holds SEQUENCE { [1] EXPLICIT OCTET STRING nonce }.
std::optional<std::string_view> nonce_of(X509* leaf)
{
    const auto ext = extension_der(leaf, oid_apple_nonce);
    const auto sequence = ext ? only(*ext) : std::nullopt;
    if (!sequence || sequence->tag != V_ASN1_SEQUENCE)
        return std::nullopt;
    const auto tagged = only(sequence->contents);
    if (!tagged || tagged->cls != V_ASN1_CONTEXT_SPECIFIC || tagged->tag != 1)
        return std::nullopt;
    const auto nonce = only(tagged->contents);
    if (!nonce || nonce->tag != V_ASN1_OCTET_STRING)
        return std::nullopt;
    return nonce->contents;
}

} // namespace

core::Result<VerifiedStatement> verify_apple(const Statement& s)
{
    if (!s.has_only({"x5c"}))
        return invalid("an apple statement has x5c only");
    LATCHKEY_TRY(chain, chain_of(s.member("x5c")));
    const auto nonce = nonce_of(chain.leaf());
    if (!nonce)
        return invalid("the certificate has no Apple nonce");
    if (*nonce != sha256(s.to_be_signed()))
        return invalid("the Apple attestation is for another registration");
    if (!same_public_key(X509_get0_pubkey(chain.leaf()), s.credential().public_key))
        return invalid("the certificate is for another key than the credential's");
    LATCHKEY_TRY_STATUS(check_validity(chain, s.now));
    VerifiedStatement out;
    out.type = AttestationType::anonca;
    out.chain = std::move(chain.der);
    return out;
}

} // namespace latchkey::webauthn
