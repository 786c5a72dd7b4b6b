// SPDX-License-Identifier: Apache-2.0
// The tpm attestation format (§8.3): a TPM 2.0 signs a TPMS_ATTEST (certInfo) that certifies
// the TPMT_PUBLIC (pubArea) of the credential key, with an attestation identity key whose
// certificate (aikCert) follows §8.3.1. The TPM structures are big-endian binary (TPM 2.0
// Library, Part 2), read here with every length checked; the rest is OpenSSL and libfido2.
#include <array>
#include <optional>

#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509v3.h>

#include "webauthn/cbor.hpp"
#include "webauthn/certificates.hpp"
#include "webauthn/fido.hpp"
#include "webauthn/formats.hpp"
#include "webauthn/reason.hpp"

namespace latchkey::webauthn {

namespace {

constexpr std::uint16_t tpm_alg_rsa = 0x0001;
constexpr std::uint16_t tpm_alg_sha1 = 0x0004;
constexpr std::uint16_t tpm_alg_sha256 = 0x000b;
constexpr std::uint16_t tpm_alg_sha384 = 0x000c;
constexpr std::uint16_t tpm_alg_sha512 = 0x000d;
constexpr std::uint16_t tpm_alg_null = 0x0010;
constexpr std::uint16_t tpm_alg_ecc = 0x0023;
constexpr std::uint32_t tpm_generated_value = 0xff544347;
constexpr std::uint16_t tpm_st_attest_certify = 0x8017;
constexpr std::uint32_t rsa_default_exponent = 65537;

/// tcg-kp-AIKCertificate (TPMv2 EK profile): the extended key usage an AIK certificate has.
constexpr const char* oid_tcg_kp_aik_certificate = "2.23.133.8.3";
/// tcg-at-tpmManufacturer, tpmModel, tpmVersion: the subject alternative name's attributes.
constexpr std::array<const char*, 3> oid_tpm_san_attributes{"2.23.133.2.1", "2.23.133.2.2",
                                                            "2.23.133.2.3"};

core::Unexpected invalid(std::string what)
{
    return refuse(Reason::attestation_invalid, std::move(what));
}

/// Reads big-endian integers and sized buffers; any overrun sets `failed` and yields zeros.
class Reader {
public:
    explicit Reader(std::string_view bytes)
        : rest_(bytes)
    {
    }

    std::uint64_t uint(std::size_t n)
    {
        if (rest_.size() < n) {
            failed_ = true;
            rest_ = {};
            return 0;
        }
        std::uint64_t v = 0;
        for (std::size_t i = 0; i < n; ++i)
            v = (v << 8) | static_cast<std::uint8_t>(rest_[i]);
        rest_.remove_prefix(n);
        return v;
    }

    std::uint16_t u16() { return static_cast<std::uint16_t>(uint(2)); }

    std::uint32_t u32() { return static_cast<std::uint32_t>(uint(4)); }

    /// A TPM2B: a u16 size and that many bytes.
    std::string_view sized()
    {
        const std::size_t n = u16();
        if (rest_.size() < n) {
            failed_ = true;
            rest_ = {};
            return {};
        }
        const auto out = rest_.substr(0, n);
        rest_.remove_prefix(n);
        return out;
    }

    [[nodiscard]] bool ok_and_done() const { return !failed_ && rest_.empty(); }

    [[nodiscard]] bool ok() const { return !failed_; }

private:
    std::string_view rest_;
    bool failed_ = false;
};

struct PubArea {
    std::uint16_t type = 0;
    std::uint16_t name_alg = 0;
    std::uint16_t curve = 0;    // ECC
    std::uint32_t exponent = 0; // RSA
    std::string_view n, x, y;   // RSA modulus; ECC point
};

/// TPMT_PUBLIC with an RSA or ECC key (TPM 2.0 Part 2, 12.2.4).
core::Result<PubArea> parse_pub_area(std::string_view bytes)
{
    Reader r(bytes);
    PubArea p;
    p.type = r.u16();
    p.name_alg = r.u16();
    r.u32();   // objectAttributes
    r.sized(); // authPolicy
    if (p.type == tpm_alg_rsa) {
        if (r.u16() != tpm_alg_null) // symmetric: a signing key has none
            return invalid("pubArea has a symmetric algorithm");
        if (const auto scheme = r.u16(); scheme != tpm_alg_null)
            r.u16(); // the scheme's hash
        r.u16();     // keyBits
        p.exponent = r.u32();
        p.n = r.sized();
    } else if (p.type == tpm_alg_ecc) {
        if (r.u16() != tpm_alg_null)
            return invalid("pubArea has a symmetric algorithm");
        if (const auto scheme = r.u16(); scheme != tpm_alg_null)
            r.u16();
        p.curve = r.u16();
        if (const auto kdf = r.u16(); kdf != tpm_alg_null)
            r.u16();
        p.x = r.sized();
        p.y = r.sized();
    } else {
        return invalid("pubArea holds neither an RSA nor an ECC key");
    }
    if (!r.ok_and_done())
        return invalid("pubArea is truncated or has trailing bytes");
    return p;
}

/// The credential public key and the pubArea's are the same key.
bool same_key(const PubArea& p, const CoseKey& key)
{
    if (p.type == tpm_alg_rsa) {
        const std::uint32_t e = p.exponent == 0 ? rsa_default_exponent : p.exponent;
        std::uint64_t cose_e = 0;
        for (const char c : key.e)
            cose_e = (cose_e << 8) | static_cast<std::uint8_t>(c);
        return key.kty == 3 && p.n == key.n && cose_e == e;
    }
    // TPM_ECC_NIST_P256/P384/P521 are 3/4/5; COSE crv P-256/384/521 are 1/2/3.
    return key.kty == 2 && p.curve == key.crv + 2 && p.x == key.x && p.y == key.y;
}

const EVP_MD* digest_of(std::uint16_t tpm_alg)
{
    switch (tpm_alg) {
    case tpm_alg_sha1: return EVP_sha1();
    case tpm_alg_sha256: return EVP_sha256();
    case tpm_alg_sha384: return EVP_sha384();
    case tpm_alg_sha512: return EVP_sha512();
    default: return nullptr;
    }
}

std::optional<std::string> digest(const EVP_MD* md, std::string_view data)
{
    std::string out(EVP_MAX_MD_SIZE, '\0');
    unsigned int n = 0;
    if (md == nullptr ||
        EVP_Digest(data.data(), data.size(), reinterpret_cast<unsigned char*>(out.data()), &n, md,
                   nullptr) != 1)
        return std::nullopt;
    out.resize(n);
    return out;
}

/// The hash the statement's alg uses (for certInfo.extraData).
const EVP_MD* hash_of(CoseAlgorithm alg)
{
    switch (alg) {
    case CoseAlgorithm::rs1: return EVP_sha1();
    case CoseAlgorithm::es384: return EVP_sha384();
    case CoseAlgorithm::es512: return EVP_sha512();
    case CoseAlgorithm::eddsa: return nullptr;
    default: return EVP_sha256();
    }
}

/// TPMS_ATTEST of type TPM_ST_ATTEST_CERTIFY (Part 2, 10.12.12): generated by a TPM, over
/// the attToBeSigned hash, certifying the object named by pubArea.
core::Status check_cert_info(std::string_view cert_info,
                             std::string_view pub_area,
                             const PubArea& p,
                             const std::string& expected_extra)
{
    Reader r(cert_info);
    if (r.u32() != tpm_generated_value)
        return invalid("certInfo was not generated by a TPM");
    if (r.u16() != tpm_st_attest_certify)
        return invalid("certInfo is not a certification");
    r.sized();                    // qualifiedSigner
    const auto extra = r.sized(); // extraData
    r.uint(8 + 4 + 4 + 1);        // clockInfo
    r.uint(8);                    // firmwareVersion
    const auto name = r.sized();  // attested.name
    r.sized();                    // attested.qualifiedName
    if (!r.ok_and_done())
        return invalid("certInfo is truncated or has trailing bytes");
    if (extra != expected_extra)
        return invalid("certInfo does not cover this registration");
    // The name of an object is its nameAlg followed by the nameAlg hash of its pubArea.
    const auto hash = digest(digest_of(p.name_alg), pub_area);
    if (!hash || name.size() != 2 + hash->size() ||
        static_cast<std::uint16_t>((static_cast<std::uint8_t>(name[0]) << 8) |
                                   static_cast<std::uint8_t>(name[1])) != p.name_alg ||
        name.substr(2) != *hash)
        return invalid("certInfo certifies another key than pubArea");
    return {};
}

using Asn1Object = std::unique_ptr<ASN1_OBJECT, core::CFree<ASN1_OBJECT_free>>;

bool has_tpm_subject_alt_name(X509* cert)
{
    std::array<Asn1Object, 3> wanted;
    for (std::size_t k = 0; k < wanted.size(); ++k)
        wanted[k].reset(OBJ_txt2obj(oid_tpm_san_attributes[k], 1));
    auto* names =
        static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
    if (names == nullptr)
        return false;
    std::array<bool, 3> seen{};
    for (int i = 0; i < sk_GENERAL_NAME_num(names); ++i) {
        const GENERAL_NAME* n = sk_GENERAL_NAME_value(names, i);
        if (n->type != GEN_DIRNAME)
            continue;
        for (int j = 0; j < X509_NAME_entry_count(n->d.dirn); ++j) {
            const ASN1_OBJECT* oid = X509_NAME_ENTRY_get_object(X509_NAME_get_entry(n->d.dirn, j));
            for (std::size_t k = 0; k < oid_tpm_san_attributes.size(); ++k)
                if (wanted[k] && OBJ_cmp(oid, wanted[k].get()) == 0)
                    seen[k] = true;
        }
    }
    GENERAL_NAMES_free(names);
    return seen[0] && seen[1] && seen[2];
}

bool has_aik_key_usage(X509* cert)
{
    auto* usages = static_cast<EXTENDED_KEY_USAGE*>(
        X509_get_ext_d2i(cert, NID_ext_key_usage, nullptr, nullptr));
    if (usages == nullptr)
        return false;
    bool found = false;
    const Asn1Object aik(OBJ_txt2obj(oid_tcg_kp_aik_certificate, 1));
    for (int i = 0; aik && i < sk_ASN1_OBJECT_num(usages); ++i)
        found = found || OBJ_cmp(sk_ASN1_OBJECT_value(usages, i), aik.get()) == 0;
    EXTENDED_KEY_USAGE_free(usages);
    return found;
}

/// §8.3.1: version 3, an empty subject, the TPM subject alternative name, the AIK extended key
/// usage, not a CA.
core::Status check_aik_certificate(X509* cert)
{
    if (X509_get_version(cert) != 2 || X509_NAME_entry_count(X509_get_subject_name(cert)) != 0 ||
        !has_tpm_subject_alt_name(cert) || !has_aik_key_usage(cert) || is_ca(cert))
        return refuse(Reason::certificate_invalid, "the AIK certificate is not as §8.3.1 requires");
    return {};
}

} // namespace

core::Result<VerifiedStatement> verify_tpm(const Statement& s)
{
    const auto& cred = s.credential();
    if (as_text(s.member("ver")) != "2.0")
        return invalid("a tpm statement must be version 2.0");
    if (s.member("ecdaaKeyId") != nullptr)
        return refuse(Reason::unsupported_format, "ECDAA attestation is not supported");
    if (!s.has_only({"ver", "alg", "x5c", "sig", "certInfo", "pubArea"}))
        return invalid("a tpm statement has ver, alg, x5c, sig, certInfo and pubArea");
    LATCHKEY_TRY(alg, s.alg());
    LATCHKEY_TRY(sig, s.sig());
    const auto cert_info = as_bytes(s.member("certInfo"));
    const auto pub_area_bytes = as_bytes(s.member("pubArea"));
    if (!cert_info || !pub_area_bytes)
        return invalid("certInfo and pubArea must be byte strings");

    LATCHKEY_TRY(pub_area, parse_pub_area(*pub_area_bytes));
    if (!same_key(pub_area, cred.public_key))
        return invalid("pubArea holds another key than the credential's");
    const auto extra = digest(hash_of(alg), s.to_be_signed());
    if (!extra)
        return refuse(Reason::unsupported_algorithm, "the statement's alg has no TPM hash");
    LATCHKEY_TRY_STATUS(check_cert_info(*cert_info, *pub_area_bytes, pub_area, *extra));

    LATCHKEY_TRY(chain, chain_of(s.member("x5c")));
    LATCHKEY_TRY_STATUS(check_aik_certificate(chain.leaf()));
    LATCHKEY_TRY_STATUS(check_aaguid_extension(chain.leaf(), cred.aaguid));
    LATCHKEY_TRY_STATUS(check_validity(chain, s.now));
    if (fido_supports(s.object))
        LATCHKEY_TRY_STATUS(
            fido_verify_attestation(s.object, s.rp_id, s.client_data_json, s.require_uv));
    else if (!verify_signature(X509_get0_pubkey(chain.leaf()), scheme_of(alg), *cert_info, sig))
        return refuse(Reason::bad_signature, "the TPM's signature over certInfo does not verify");

    VerifiedStatement out;
    out.type = AttestationType::attca;
    out.chain = std::move(chain.der);
    return out;
}

} // namespace latchkey::webauthn
