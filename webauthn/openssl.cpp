// SPDX-License-Identifier: Apache-2.0
// OpenSSL 3 EVP helpers: key import from raw parts and one signature check for every scheme.
#include "webauthn/openssl.hpp"

#include <array>
#include <climits>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/param_build.h>
#include <openssl/params.h>
#include <openssl/rsa.h>
#include <openssl/sha.h>

#include "webauthn/reason.hpp"

namespace latchkey::webauthn {

namespace {

using Bignum = std::unique_ptr<BIGNUM, core::CFree<BN_free>>;
using EvpMdCtx = std::unique_ptr<EVP_MD_CTX, core::CFree<EVP_MD_CTX_free>>;
using EvpPkeyCtx = std::unique_ptr<EVP_PKEY_CTX, core::CFree<EVP_PKEY_CTX_free>>;
using OsslParamBld = std::unique_ptr<OSSL_PARAM_BLD, core::CFree<OSSL_PARAM_BLD_free>>;
using OsslParams = std::unique_ptr<OSSL_PARAM, core::CFree<OSSL_PARAM_free>>;

constexpr int rsa_max_bits = 8192;

const unsigned char* bytes_of(std::string_view s) noexcept
{
    return reinterpret_cast<const unsigned char*>(s.data());
}

core::Unexpected bad_key(const char* what)
{
    return core::fail(core::Error{Reason::malformed_cose_key, what});
}

core::Result<EvpPkey> checked(EvpPkey pkey, const char* what)
{
    if (!pkey)
        return bad_key(what);
    const EvpPkeyCtx check(EVP_PKEY_CTX_new_from_pkey(nullptr, pkey.get(), nullptr));
    if (!check || EVP_PKEY_public_check(check.get()) != 1)
        return bad_key(what);
    return pkey;
}

core::Result<EvpPkey> from_params(const char* type, const OSSL_PARAM* params, const char* what)
{
    const EvpPkeyCtx ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
    if (!ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1)
        return core::fail(core::Error{Reason::internal, "cannot set up OpenSSL key import"});
    EVP_PKEY* pkey = nullptr;
    // EVP_PKEY_fromdata takes a non-const array but does not modify it.
    if (EVP_PKEY_fromdata(ctx.get(), &pkey, EVP_PKEY_PUBLIC_KEY, const_cast<OSSL_PARAM*>(params)) !=
        1)
        return bad_key(what);
    return checked(EvpPkey(pkey), what);
}

const EVP_MD* digest_of(SignatureScheme s) noexcept
{
    switch (s) {
    case SignatureScheme::ecdsa_sha256:
    case SignatureScheme::rsa_pkcs1_sha256:
    case SignatureScheme::rsa_pss_sha256: return EVP_sha256();
    case SignatureScheme::ecdsa_sha384:
    case SignatureScheme::rsa_pkcs1_sha384: return EVP_sha384();
    case SignatureScheme::ecdsa_sha512:
    case SignatureScheme::rsa_pkcs1_sha512: return EVP_sha512();
    case SignatureScheme::rsa_pkcs1_sha1: return EVP_sha1();
    case SignatureScheme::ed25519: return nullptr;
    }
    return nullptr;
}

int key_type_of(SignatureScheme s) noexcept
{
    switch (s) {
    case SignatureScheme::ecdsa_sha256:
    case SignatureScheme::ecdsa_sha384:
    case SignatureScheme::ecdsa_sha512: return EVP_PKEY_EC;
    case SignatureScheme::ed25519: return EVP_PKEY_ED25519;
    default: return EVP_PKEY_RSA;
    }
}

} // namespace

OpensslErrorScope::OpensslErrorScope() noexcept
{
    ERR_set_mark();
}

OpensslErrorScope::~OpensslErrorScope()
{
    ERR_pop_to_mark();
}

core::Result<EvpPkey> rsa_public_key(std::string_view n, std::string_view e)
{
    const OpensslErrorScope errors;
    if (n.empty() || e.empty() || n.front() == '\0' || e.front() == '\0' ||
        n.size() * CHAR_BIT > static_cast<std::size_t>(rsa_max_bits) || e.size() > n.size())
        return bad_key("RSA key parts are not minimal integers of a supported size");
    const Bignum bn_n(BN_bin2bn(bytes_of(n), static_cast<int>(n.size()), nullptr));
    const Bignum bn_e(BN_bin2bn(bytes_of(e), static_cast<int>(e.size()), nullptr));
    const OsslParamBld bld(OSSL_PARAM_BLD_new());
    if (!bn_n || !bn_e || !bld ||
        OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, bn_n.get()) != 1 ||
        OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, bn_e.get()) != 1)
        return core::fail(core::Error{Reason::internal, "cannot build RSA key parameters"});
    const OsslParams params(OSSL_PARAM_BLD_to_param(bld.get()));
    if (!params)
        return core::fail(core::Error{Reason::internal, "cannot build RSA key parameters"});
    return from_params("RSA", params.get(), "RSA key is not a valid public key");
}

core::Result<EvpPkey> ec_public_key(const char* curve, std::string_view x, std::string_view y)
{
    const OpensslErrorScope errors;
    // SEC 1 uncompressed point.
    std::string point = "\x04";
    point.append(x).append(y);
    std::string group(curve);
    const std::array<OSSL_PARAM, 3> params{
        OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, group.data(), 0),
        OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size()),
        OSSL_PARAM_construct_end(),
    };
    return from_params("EC", params.data(), "EC key is not a point on its curve");
}

core::Result<EvpPkey> ed25519_public_key(std::string_view x)
{
    const OpensslErrorScope errors;
    return checked(
        EvpPkey(EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, bytes_of(x), x.size())),
        "Ed25519 key is not 32 bytes");
}

bool verify_signature(EVP_PKEY* key,
                      SignatureScheme scheme,
                      std::string_view message,
                      std::string_view sig) noexcept
{
    const OpensslErrorScope errors;
    if (key == nullptr || EVP_PKEY_get_base_id(key) != key_type_of(scheme))
        return false;
    const EvpMdCtx ctx(EVP_MD_CTX_new());
    EVP_PKEY_CTX* pctx = nullptr; // owned by ctx
    if (!ctx || EVP_DigestVerifyInit(ctx.get(), &pctx, digest_of(scheme), nullptr, key) != 1)
        return false;
    if (scheme == SignatureScheme::rsa_pss_sha256 &&
        (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
         EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_AUTO) != 1))
        return false;
    return EVP_DigestVerify(ctx.get(), bytes_of(sig), sig.size(), bytes_of(message),
                            message.size()) == 1;
}

std::string sha256(std::string_view data)
{
    // Fetched once: SHA256() and EVP_sha256() look the implementation up on every call.
    static EVP_MD* const md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
    std::string out(SHA256_DIGEST_LENGTH, '\0');
    if (md == nullptr ||
        EVP_Digest(data.data(), data.size(), reinterpret_cast<unsigned char*>(out.data()), nullptr,
                   md, nullptr) != 1)
        SHA256(bytes_of(data), data.size(), reinterpret_cast<unsigned char*>(out.data()));
    return out;
}

core::Result<X509Ptr> parse_certificate(std::string_view der)
{
    const OpensslErrorScope errors;
    if (der.size() > static_cast<std::size_t>(INT_MAX))
        return core::fail(core::Error{Reason::certificate_invalid, "certificate is too large"});
    const unsigned char* p = bytes_of(der);
    X509Ptr cert(d2i_X509(nullptr, &p, static_cast<long>(der.size())));
    if (!cert || p != bytes_of(der) + der.size())
        return core::fail(core::Error{Reason::certificate_invalid, "certificate is not DER"});
    return cert;
}

} // namespace latchkey::webauthn
