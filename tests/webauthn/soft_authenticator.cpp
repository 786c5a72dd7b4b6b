// SPDX-License-Identifier: Apache-2.0
// Test support: the software authenticator's keys, CBOR and byte layouts.
#include "tests/webauthn/soft_authenticator.hpp"

#include <sstream>
#include <stdexcept>
#include <vector>

#include <openssl/core_names.h>
#include <openssl/rsa.h>
#include <openssl/x509v3.h>

#include "core/random.hpp"
#include "webauthn/cbor.hpp"

namespace latchkey::webauthn::testing {

namespace {

void check(bool ok, const char* what)
{
    if (!ok)
        throw std::runtime_error(what);
}

std::string bn_param(EVP_PKEY* pkey, const char* name)
{
    BIGNUM* bn = nullptr;
    check(EVP_PKEY_get_bn_param(pkey, name, &bn) == 1, "EVP_PKEY_get_bn_param");
    std::string out(static_cast<std::size_t>(BN_num_bytes(bn)), '\0');
    BN_bn2bin(bn, reinterpret_cast<unsigned char*>(out.data()));
    BN_free(bn);
    return out;
}

std::string be(std::uint32_t v, int n)
{
    std::string out;
    for (int i = n - 1; i >= 0; --i)
        out += static_cast<char>((v >> (8 * i)) & 0xff);
    return out;
}

} // namespace

Cbor::Cbor(cbor_item_t* owned)
    : item_(owned)
{
    check(owned != nullptr, "libcbor allocation");
}

namespace {

// The shortest encoding, as CTAP2 canonical CBOR wants (libfido2 ignores map keys in any other).
cbor_item_t* build_int(std::int64_t v)
{
    const bool negative = v < 0;
    const auto magnitude =
        negative ? static_cast<std::uint64_t>(-1 - v) : static_cast<std::uint64_t>(v);
    if (magnitude <= 0xff)
        return negative ? cbor_build_negint8(static_cast<std::uint8_t>(magnitude))
                        : cbor_build_uint8(static_cast<std::uint8_t>(magnitude));
    if (magnitude <= 0xffff)
        return negative ? cbor_build_negint16(static_cast<std::uint16_t>(magnitude))
                        : cbor_build_uint16(static_cast<std::uint16_t>(magnitude));
    if (magnitude <= 0xffffffff)
        return negative ? cbor_build_negint32(static_cast<std::uint32_t>(magnitude))
                        : cbor_build_uint32(static_cast<std::uint32_t>(magnitude));
    return negative ? cbor_build_negint64(magnitude) : cbor_build_uint64(magnitude);
}

} // namespace

Cbor::Cbor(std::int64_t v)
    : Cbor(build_int(v))
{
}

Cbor::Cbor(const char* text)
    : Cbor(cbor_build_string(text))
{
}

Cbor Cbor::bytes(std::string_view b)
{
    return Cbor(cbor_build_bytestring(reinterpret_cast<cbor_data>(b.data()), b.size()));
}

Cbor Cbor::boolean(bool b)
{
    return Cbor(cbor_build_bool(b));
}

Cbor Cbor::map(std::initializer_list<std::pair<Cbor, Cbor>> entries)
{
    Cbor m(cbor_new_definite_map(entries.size()));
    for (const auto& [k, v] : entries)
        check(cbor_map_add(m.get(), cbor_pair{k.get(), v.get()}), "cbor_map_add");
    return m;
}

Cbor Cbor::array(const std::vector<Cbor>& items)
{
    Cbor a(cbor_new_definite_array(items.size()));
    for (const auto& i : items)
        check(cbor_array_push(a.get(), i.get()), "cbor_array_push");
    return a;
}

Cbor::Cbor(const Cbor& o)
    : item_(cbor_incref(o.item_.get()))
{
}

Cbor& Cbor::operator=(const Cbor& o)
{
    if (this != &o)
        item_.reset(cbor_incref(o.item_.get()));
    return *this;
}

std::string Cbor::encode() const
{
    auto encoded = encode_cbor(*item_);
    check(encoded.has_value(), "encode_cbor");
    return *encoded;
}

SoftKey::SoftKey(CoseAlgorithm alg, EvpPkey pkey)
    : alg_(alg)
    , pkey_(pkey.release(), EVP_PKEY_free)
{
}

SoftKey SoftKey::generate(CoseAlgorithm alg)
{
    EVP_PKEY* k = nullptr;
    switch (alg) {
    case CoseAlgorithm::es256: k = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"); break;
    case CoseAlgorithm::es384: k = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-384"); break;
    case CoseAlgorithm::es512: k = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-521"); break;
    case CoseAlgorithm::eddsa: k = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"); break;
    case CoseAlgorithm::rs256:
    case CoseAlgorithm::ps256:
    case CoseAlgorithm::rs1:
        k = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", std::size_t{2048});
        break;
    }
    check(k != nullptr, "EVP_PKEY_Q_keygen");
    return SoftKey(alg, EvpPkey(k));
}

std::string SoftKey::cose() const
{
    EVP_PKEY* k = pkey_.get();
    const auto alg = static_cast<std::int64_t>(alg_);
    switch (alg_) {
    case CoseAlgorithm::eddsa: {
        std::string raw(32, '\0');
        std::size_t len = raw.size();
        check(EVP_PKEY_get_raw_public_key(k, reinterpret_cast<unsigned char*>(raw.data()), &len) ==
                  1,
              "raw public key");
        return Cbor::map({{1, 1}, {3, alg}, {-1, 6}, {-2, Cbor::bytes(raw)}}).encode();
    }
    case CoseAlgorithm::es256:
    case CoseAlgorithm::es384:
    case CoseAlgorithm::es512: {
        const std::size_t size = alg_ == CoseAlgorithm::es256   ? 32
                                 : alg_ == CoseAlgorithm::es384 ? 48
                                                                : 66;
        const int crv = alg_ == CoseAlgorithm::es256 ? 1 : alg_ == CoseAlgorithm::es384 ? 2 : 3;
        std::string x = bn_param(k, OSSL_PKEY_PARAM_EC_PUB_X);
        std::string y = bn_param(k, OSSL_PKEY_PARAM_EC_PUB_Y);
        x.insert(0, size - x.size(), '\0');
        y.insert(0, size - y.size(), '\0');
        return Cbor::map({{1, 2}, {3, alg}, {-1, crv}, {-2, Cbor::bytes(x)}, {-3, Cbor::bytes(y)}})
            .encode();
    }
    default:
        return Cbor::map({{1, 3},
                          {3, alg},
                          {-1, Cbor::bytes(bn_param(k, OSSL_PKEY_PARAM_RSA_N))},
                          {-2, Cbor::bytes(bn_param(k, OSSL_PKEY_PARAM_RSA_E))}})
            .encode();
    }
}

std::string SoftKey::sign(std::string_view message) const
{
    const EVP_MD* md = nullptr;
    switch (alg_) {
    case CoseAlgorithm::eddsa: md = nullptr; break;
    case CoseAlgorithm::es384: md = EVP_sha384(); break;
    case CoseAlgorithm::es512: md = EVP_sha512(); break;
    case CoseAlgorithm::rs1: md = EVP_sha1(); break;
    default: md = EVP_sha256(); break;
    }
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
    EVP_PKEY_CTX* pctx = nullptr;
    check(EVP_DigestSignInit(ctx.get(), &pctx, md, nullptr, pkey_.get()) == 1, "sign init");
    if (alg_ == CoseAlgorithm::ps256) {
        check(EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1, "pss");
        check(EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) == 1, "pss salt");
    }
    std::size_t len = 0;
    const auto* m = reinterpret_cast<const unsigned char*>(message.data());
    check(EVP_DigestSign(ctx.get(), nullptr, &len, m, message.size()) == 1, "sign size");
    std::string sig(len, '\0');
    check(EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len, m,
                         message.size()) == 1,
          "sign");
    sig.resize(len);
    return sig;
}

namespace {

X509_NAME* name_of(const std::string& fields)
{
    X509_NAME* name = X509_NAME_new();
    std::stringstream in(fields);
    std::string field;
    while (std::getline(in, field, ',')) {
        const auto eq = field.find('=');
        check(X509_NAME_add_entry_by_txt(
                  name, field.substr(0, eq).c_str(), MBSTRING_UTF8,
                  reinterpret_cast<const unsigned char*>(field.c_str() + eq + 1), -1, -1, 0) == 1,
              "X509_NAME_add_entry_by_txt");
    }
    return name;
}

} // namespace

std::string make_certificate(const SoftKey& key, const SoftKey* issuer_key, const CertSpec& spec)
{
    X509Ptr cert(X509_new());
    check(cert != nullptr, "X509_new");
    X509_set_version(cert.get(), spec.version - 1);
    static long serial = 1;
    ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), serial++);
    X509_gmtime_adj(X509_getm_notBefore(cert.get()), spec.not_before_days * 86400);
    X509_gmtime_adj(X509_getm_notAfter(cert.get()), spec.not_after_days * 86400);
    X509_NAME* subject = name_of(spec.subject);
    X509_NAME* issuer = name_of(spec.issuer.empty() ? spec.subject : spec.issuer);
    X509_set_subject_name(cert.get(), subject);
    X509_set_issuer_name(cert.get(), issuer);
    X509_NAME_free(subject);
    X509_NAME_free(issuer);
    check(X509_set_pubkey(cert.get(), key.pkey()) == 1, "X509_set_pubkey");
    if (spec.version == 3) {
        X509V3_CTX ctx;
        X509V3_set_ctx_nodb(&ctx);
        X509V3_set_ctx(&ctx, cert.get(), cert.get(), nullptr, nullptr, 0);
        X509_EXTENSION* bc = X509V3_EXT_conf_nid(nullptr, &ctx, NID_basic_constraints,
                                                 spec.ca ? "critical,CA:TRUE" : "CA:FALSE");
        check(bc != nullptr && X509_add_ext(cert.get(), bc, -1) == 1, "basicConstraints");
        X509_EXTENSION_free(bc);
        if (spec.aaguid_extension) {
            ASN1_OBJECT* oid = OBJ_txt2obj("1.3.6.1.4.1.45724.1.1.4", 1);
            // The extension's value is the DER of an OCTET STRING holding the 16 bytes.
            ASN1_OCTET_STRING* inner = ASN1_OCTET_STRING_new();
            ASN1_OCTET_STRING_set(inner, spec.aaguid_extension->data(), 16);
            unsigned char* der = nullptr;
            const int der_length = i2d_ASN1_OCTET_STRING(inner, &der);
            ASN1_OCTET_STRING* value = ASN1_OCTET_STRING_new();
            ASN1_OCTET_STRING_set(value, der, der_length);
            X509_EXTENSION* ext =
                X509_EXTENSION_create_by_OBJ(nullptr, oid, spec.aaguid_critical ? 1 : 0, value);
            check(ext != nullptr && X509_add_ext(cert.get(), ext, -1) == 1, "aaguid extension");
            X509_EXTENSION_free(ext);
            ASN1_OCTET_STRING_free(value);
            OPENSSL_free(der);
            ASN1_OCTET_STRING_free(inner);
            ASN1_OBJECT_free(oid);
        }
    }
    const SoftKey& signer = issuer_key != nullptr ? *issuer_key : key;
    const EVP_MD* md = signer.alg() == CoseAlgorithm::eddsa ? nullptr : EVP_sha256();
    check(X509_sign(cert.get(), signer.pkey(), md) > 0, "X509_sign");
    unsigned char* der = nullptr;
    const int length = i2d_X509(cert.get(), &der);
    check(length > 0, "i2d_X509");
    std::string out(reinterpret_cast<const char*>(der), static_cast<std::size_t>(length));
    OPENSSL_free(der);
    return out;
}

std::string make_auth_data(const AuthDataSpec& spec)
{
    std::string out = sha256(spec.rp_id);
    out += static_cast<char>(spec.flags);
    out += be(spec.counter, 4);
    if (!spec.cose_key.empty()) {
        out.append(reinterpret_cast<const char*>(spec.aaguid.data()), spec.aaguid.size());
        out += be(static_cast<std::uint32_t>(spec.credential_id.size()), 2);
        out += spec.credential_id;
        out += spec.cose_key;
    }
    out += spec.extensions;
    return out;
}

std::string make_client_data(std::string_view type,
                             std::string_view challenge,
                             std::string_view origin,
                             std::string_view extra)
{
    std::string out = R"({"type":")";
    out.append(type).append(R"(","challenge":")").append(base64url(challenge));
    out.append(R"(","origin":")").append(origin).append("\"").append(extra).append("}");
    return out;
}

std::string base64url(std::string_view bytes)
{
    return core::base64_encode(bytes, true, false);
}

std::string registration_json(std::string_view credential_id,
                              std::string_view client_data,
                              std::string_view attestation_object)
{
    const auto id = base64url(credential_id);
    return R"({"id":")" + id + R"(","rawId":")" + id +
           R"(","type":"public-key","response":{"clientDataJSON":")" + base64url(client_data) +
           R"(","attestationObject":")" + base64url(attestation_object) +
           R"(","transports":["usb"]},"authenticatorAttachment":"cross-platform","clientExtensionResults":{}})";
}

std::string authentication_json(std::string_view credential_id,
                                std::string_view client_data,
                                std::string_view auth_data,
                                std::string_view signature,
                                std::optional<std::string_view> user_handle)
{
    const auto id = base64url(credential_id);
    std::string out = R"({"id":")" + id + R"(","rawId":")" + id +
                      R"(","type":"public-key","response":{"clientDataJSON":")" +
                      base64url(client_data) + R"(","authenticatorData":")" + base64url(auth_data) +
                      R"(","signature":")" + base64url(signature) + "\"";
    if (user_handle)
        out += R"(,"userHandle":")" + base64url(*user_handle) + "\"";
    out += R"(},"clientExtensionResults":{}})";
    return out;
}

} // namespace latchkey::webauthn::testing
