// SPDX-License-Identifier: Apache-2.0
// JOSE for the OpenID Connect provider: base64url, JWK, compact JWS through OpenSSL 3 EVP.
#include "oidc/jose.hpp"

#include <array>
#include <climits>
#include <cstring>
#include <utility>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/param_build.h>
#include <openssl/params.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/sha.h>

#include "core/random.hpp"

namespace latchkey::oidc {

namespace {

namespace json = boost::json;
using core::Errc;

using Bignum = std::unique_ptr<BIGNUM, core::CFree<BN_free>>;
using Bio = std::unique_ptr<BIO, core::CFree<BIO_free>>;
using EcdsaSig = std::unique_ptr<ECDSA_SIG, core::CFree<ECDSA_SIG_free>>;
using EvpMdCtx = std::unique_ptr<EVP_MD_CTX, core::CFree<EVP_MD_CTX_free>>;
using EvpPkeyCtx = std::unique_ptr<EVP_PKEY_CTX, core::CFree<EVP_PKEY_CTX_free>>;
using OsslParamBld = std::unique_ptr<OSSL_PARAM_BLD, core::CFree<OSSL_PARAM_BLD_free>>;
using OsslParams = std::unique_ptr<OSSL_PARAM, core::CFree<OSSL_PARAM_free>>;

constexpr int rsa_min_bits = 2048;
constexpr int rsa_max_bits = 8192;
constexpr std::size_t p256_coordinate_size = 32;
constexpr std::size_t ed25519_key_size = 32;
constexpr std::size_t ed25519_signature_size = 64;
/// An 8192-bit RSA key is about 6.4 kB of PKCS#8 PEM.
constexpr std::size_t max_pem_size = std::size_t{64} * 1024;

/// Removes whatever OpenSSL queued on this thread's error stack while the scope ran. Our
/// failures are reported as Results; stale entries would otherwise confuse the next caller
/// that reads the queue (Asio's SSL streams do).
class OpensslErrorScope {
public:
    OpensslErrorScope() noexcept { ERR_set_mark(); }

    OpensslErrorScope(const OpensslErrorScope&) = delete;
    OpensslErrorScope& operator=(const OpensslErrorScope&) = delete;

    ~OpensslErrorScope() { ERR_pop_to_mark(); }
};

const unsigned char* bytes_of(std::string_view s) noexcept
{
    return reinterpret_cast<const unsigned char*>(s.data());
}

unsigned char* bytes_of(std::string& s) noexcept
{
    return reinterpret_cast<unsigned char*>(s.data());
}

int base64url_value(char c) noexcept
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '-')
        return 62;
    if (c == '_')
        return 63;
    return -1;
}

bool ascii_iequals(std::string_view a, std::string_view b) noexcept
{
    const auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; };
    if (a.size() != b.size())
        return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (lower(a[i]) != lower(b[i]))
            return false;
    return true;
}

/// Never supplies a passphrase: without this, OpenSSL would prompt on the terminal.
int refuse_passphrase(char* /*buf*/, int /*size*/, int /*rwflag*/, void* /*u*/)
{
    return -1;
}

std::optional<JwsAlg> alg_for_kty(std::string_view kty) noexcept
{
    if (kty == "RSA")
        return JwsAlg::RS256;
    if (kty == "EC")
        return JwsAlg::ES256;
    if (kty == "OKP")
        return JwsAlg::EdDSA;
    return std::nullopt;
}

bool is_p256(const EVP_PKEY* pkey)
{
    std::array<char, 64> name{};
    std::size_t len = 0;
    if (EVP_PKEY_get_group_name(pkey, name.data(), name.size(), &len) != 1)
        return false;
    const std::string_view group(name.data(), len);
    return group == SN_X9_62_prime256v1 || group == "P-256";
}

/// Whether `pkey` is of the type, size and curve that `alg` requires.
core::Status check_key_type(const EVP_PKEY* pkey, JwsAlg alg)
{
    switch (alg) {
    case JwsAlg::RS256: {
        // EVP_PKEY_is_a(…, "RSA") is false for RSA-PSS keys, which RS256 must not use.
        if (EVP_PKEY_is_a(pkey, "RSA") != 1)
            return core::fail(Errc::invalid_argument, "RS256 needs an RSA key");
        const int bits = EVP_PKEY_get_bits(pkey);
        if (bits < rsa_min_bits || bits > rsa_max_bits)
            return core::fail(Errc::invalid_argument, "RSA key has " + std::to_string(bits) +
                                                          " bits; RS256 needs " +
                                                          std::to_string(rsa_min_bits) + " to " +
                                                          std::to_string(rsa_max_bits));
        return {};
    }
    case JwsAlg::ES256:
        if (EVP_PKEY_is_a(pkey, "EC") != 1)
            return core::fail(Errc::invalid_argument, "ES256 needs an EC key");
        if (!is_p256(pkey))
            return core::fail(Errc::invalid_argument, "ES256 needs an EC key on curve P-256");
        return {};
    case JwsAlg::EdDSA:
        if (EVP_PKEY_is_a(pkey, "ED25519") != 1)
            return core::fail(Errc::invalid_argument, "EdDSA needs an Ed25519 key");
        return {};
    }
    return core::fail(Errc::internal, "unknown JWS algorithm");
}

core::Result<Bignum> get_bn_param(const EVP_PKEY* pkey, const char* name)
{
    BIGNUM* bn = nullptr;
    if (EVP_PKEY_get_bn_param(pkey, name, &bn) != 1)
        return core::fail(Errc::crypto_failed, std::string("cannot read key parameter ") + name);
    return Bignum(bn);
}

std::string bn_to_bytes(const BIGNUM* bn)
{
    std::string out(static_cast<std::size_t>(BN_num_bytes(bn)), '\0');
    BN_bn2bin(bn, bytes_of(out));
    return out;
}

core::Result<std::string> bn_to_padded(const BIGNUM* bn, std::size_t size)
{
    std::string out(size, '\0');
    if (BN_bn2binpad(bn, bytes_of(out), static_cast<int>(size)) != static_cast<int>(size))
        return core::fail(Errc::crypto_failed, "key coordinate does not fit its curve");
    return out;
}

/// The JWK members that define the public key, in lexicographic order, so that serializing
/// the object gives the RFC 7638 §3.2 thumbprint input (Boost.JSON keeps insertion order and
/// adds no whitespace; the values are base64url or fixed names, which need no escaping).
core::Result<json::object> required_members(const EVP_PKEY* pkey, JwsAlg alg)
{
    json::object jwk;
    switch (alg) {
    case JwsAlg::RS256: {
        LATCHKEY_TRY(n, get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_N));
        LATCHKEY_TRY(e, get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_E));
        jwk["e"] = base64url(bn_to_bytes(e.get()));
        jwk["kty"] = "RSA";
        jwk["n"] = base64url(bn_to_bytes(n.get()));
        return jwk;
    }
    case JwsAlg::ES256: {
        LATCHKEY_TRY(x, get_bn_param(pkey, OSSL_PKEY_PARAM_EC_PUB_X));
        LATCHKEY_TRY(y, get_bn_param(pkey, OSSL_PKEY_PARAM_EC_PUB_Y));
        LATCHKEY_TRY(x_bytes, bn_to_padded(x.get(), p256_coordinate_size));
        LATCHKEY_TRY(y_bytes, bn_to_padded(y.get(), p256_coordinate_size));
        jwk["crv"] = "P-256";
        jwk["kty"] = "EC";
        jwk["x"] = base64url(x_bytes);
        jwk["y"] = base64url(y_bytes);
        return jwk;
    }
    case JwsAlg::EdDSA: {
        std::string x(ed25519_key_size, '\0');
        std::size_t len = x.size();
        if (EVP_PKEY_get_raw_public_key(pkey, bytes_of(x), &len) != 1 || len != x.size())
            return core::fail(Errc::crypto_failed, "cannot read the Ed25519 public key");
        jwk["crv"] = "Ed25519";
        jwk["kty"] = "OKP";
        jwk["x"] = base64url(x);
        return jwk;
    }
    }
    return core::fail(Errc::internal, "unknown JWS algorithm");
}

core::Result<std::string_view> string_member(const json::object& jwk, std::string_view name)
{
    const json::value* v = jwk.if_contains(name);
    if (v == nullptr || !v->is_string())
        return core::fail(Errc::invalid_argument,
                          "JWK member \"" + std::string(name) + "\" is missing or not a string");
    return std::string_view(v->get_string());
}

/// A base64url member decoded; `size` (if not 0) is the exact length required.
core::Result<std::string>
bytes_member(const json::object& jwk, std::string_view name, std::size_t size = 0)
{
    LATCHKEY_TRY(text, string_member(jwk, name));
    auto bytes = base64url_decode(text);
    if (!bytes || bytes->empty())
        return core::fail(Errc::invalid_argument,
                          "JWK member \"" + std::string(name) + "\" is not base64url");
    if (size != 0 && bytes->size() != size)
        return core::fail(Errc::invalid_argument, "JWK member \"" + std::string(name) +
                                                      "\" must be " + std::to_string(size) +
                                                      " bytes");
    return std::move(*bytes);
}

core::Result<EvpPkey> public_from_params(const char* type, const OSSL_PARAM* params)
{
    const EvpPkeyCtx ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
    if (!ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1)
        return core::fail(Errc::crypto_failed, "cannot set up OpenSSL key import");
    EVP_PKEY* pkey = nullptr;
    // EVP_PKEY_fromdata takes a non-const array but does not modify it.
    if (EVP_PKEY_fromdata(ctx.get(), &pkey, EVP_PKEY_PUBLIC_KEY, const_cast<OSSL_PARAM*>(params)) !=
        1)
        return core::fail(Errc::invalid_argument,
                          std::string("JWK is not a valid ") + type + " public key");
    return EvpPkey(pkey);
}

core::Result<EvpPkey> rsa_public_from_jwk(const json::object& jwk)
{
    LATCHKEY_TRY(n, bytes_member(jwk, "n"));
    LATCHKEY_TRY(e, bytes_member(jwk, "e"));
    // RFC 7518 §6.3.1: minimal big-endian integers. A leading zero would also change the
    // thumbprint of what is the same key.
    if (n.front() == '\0' || e.front() == '\0')
        return core::fail(Errc::invalid_argument, "RSA JWK has a zero-prefixed integer");
    if (n.size() * 8 > static_cast<std::size_t>(rsa_max_bits) || e.size() > n.size())
        return core::fail(Errc::invalid_argument,
                          "RSA JWK is larger than " + std::to_string(rsa_max_bits) + " bits");
    const Bignum bn_n(BN_bin2bn(bytes_of(n), static_cast<int>(n.size()), nullptr));
    const Bignum bn_e(BN_bin2bn(bytes_of(e), static_cast<int>(e.size()), nullptr));
    const OsslParamBld bld(OSSL_PARAM_BLD_new());
    if (!bn_n || !bn_e || !bld ||
        OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, bn_n.get()) != 1 ||
        OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, bn_e.get()) != 1)
        return core::fail(Errc::crypto_failed, "cannot build RSA key parameters");
    const OsslParams params(OSSL_PARAM_BLD_to_param(bld.get()));
    if (!params)
        return core::fail(Errc::crypto_failed, "cannot build RSA key parameters");
    return public_from_params("RSA", params.get());
}

core::Result<EvpPkey> ec_public_from_jwk(const json::object& jwk)
{
    LATCHKEY_TRY(crv, string_member(jwk, "crv"));
    if (crv != "P-256")
        return core::fail(Errc::invalid_argument, "EC JWK must be on curve P-256");
    LATCHKEY_TRY(x, bytes_member(jwk, "x", p256_coordinate_size));
    LATCHKEY_TRY(y, bytes_member(jwk, "y", p256_coordinate_size));
    // SEC 1 uncompressed point; OpenSSL refuses a point that is not on the curve.
    std::string point = "\x04" + x + y;
    std::array<char, sizeof SN_X9_62_prime256v1> group{};
    std::memcpy(group.data(), SN_X9_62_prime256v1, group.size());
    const std::array<OSSL_PARAM, 3> params{
        OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, group.data(), 0),
        OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size()),
        OSSL_PARAM_construct_end(),
    };
    return public_from_params("EC", params.data());
}

core::Result<EvpPkey> okp_public_from_jwk(const json::object& jwk)
{
    LATCHKEY_TRY(crv, string_member(jwk, "crv"));
    if (crv != "Ed25519")
        return core::fail(Errc::invalid_argument, "OKP JWK must be on curve Ed25519");
    LATCHKEY_TRY(x, bytes_member(jwk, "x", ed25519_key_size));
    EvpPkey pkey(EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, bytes_of(x), x.size()));
    if (!pkey)
        return core::fail(Errc::invalid_argument, "JWK is not a valid Ed25519 public key");
    return pkey;
}

core::Result<EvpPkey> public_from_jwk(const json::object& jwk, JwsAlg alg)
{
    switch (alg) {
    case JwsAlg::RS256:
        return rsa_public_from_jwk(jwk);
    case JwsAlg::ES256:
        return ec_public_from_jwk(jwk);
    case JwsAlg::EdDSA:
        return okp_public_from_jwk(jwk);
    }
    return core::fail(Errc::internal, "unknown JWS algorithm");
}

/// `what` names the part in the message: "header" or "payload".
core::Result<json::object> parse_object(std::string_view text, const char* what)
{
    boost::system::error_code ec;
    json::value v = json::parse(text, ec);
    if (ec || !v.is_object())
        return core::fail(Errc::invalid_argument,
                          std::string("JWS ") + what + " is not a JSON object");
    return std::move(v.get_object());
}

} // namespace

std::string base64url(std::string_view bytes)
{
    return core::base64_encode(bytes, true, false);
}

std::optional<std::string> base64url_decode(std::string_view text)
{
    // 4k+1 characters would leave 6 bits: no byte string encodes to that.
    if (text.size() % 4 == 1)
        return std::nullopt;
    std::string out;
    out.reserve(text.size() / 4 * 3 + 2);
    std::uint32_t acc = 0;
    int bits = 0;
    for (const char c : text) {
        const int v = base64url_value(c);
        if (v < 0)
            return std::nullopt;
        acc = ((acc << 6) | static_cast<std::uint32_t>(v)) & 0xfffU;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out.push_back(static_cast<char>((acc >> bits) & 0xffU));
        }
    }
    // The 2 or 4 bits left over must be zero (RFC 4648 §3.5), or "Zg" and "Zh" would both
    // decode to "f" and a token could be re-encoded without breaking its signature.
    if ((acc & ((1U << bits) - 1U)) != 0)
        return std::nullopt;
    return out;
}

std::string_view to_string(JwsAlg alg) noexcept
{
    switch (alg) {
    case JwsAlg::RS256:
        return "RS256";
    case JwsAlg::ES256:
        return "ES256";
    case JwsAlg::EdDSA:
        return "EdDSA";
    }
    return "unknown";
}

std::optional<JwsAlg> jws_alg_from_string(std::string_view name) noexcept
{
    for (const JwsAlg alg : {JwsAlg::RS256, JwsAlg::ES256, JwsAlg::EdDSA})
        if (name == to_string(alg))
            return alg;
    return std::nullopt;
}

std::string sha256_base64url(std::string_view data)
{
    std::array<unsigned char, SHA256_DIGEST_LENGTH> md{};
    SHA256(bytes_of(data), data.size(), md.data());
    return base64url(std::string_view(reinterpret_cast<const char*>(md.data()), md.size()));
}

std::string at_hash(std::string_view access_token, JwsAlg alg)
{
    if (alg == JwsAlg::EdDSA) {
        std::array<unsigned char, SHA512_DIGEST_LENGTH> md{};
        SHA512(bytes_of(access_token), access_token.size(), md.data());
        return base64url(std::string_view(reinterpret_cast<const char*>(md.data()), md.size() / 2));
    }
    std::array<unsigned char, SHA256_DIGEST_LENGTH> md{};
    SHA256(bytes_of(access_token), access_token.size(), md.data());
    return base64url(std::string_view(reinterpret_cast<const char*>(md.data()), md.size() / 2));
}

// ---- PublicKey ----

PublicKey::PublicKey(EvpPkey pkey, JwsAlg alg, std::string kid, boost::json::object jwk)
    : pkey_(std::move(pkey))
    , alg_(alg)
    , kid_(std::move(kid))
    , jwk_(std::move(jwk))
{
}

PublicKey::PublicKey(const PublicKey& other)
    : alg_(other.alg_)
    , kid_(other.kid_)
    , jwk_(other.jwk_)
{
    // The key is immutable once built, so copies can share it. If the reference cannot be
    // taken, this copy holds no key and verify() fails instead of crashing.
    if (other.pkey_ && EVP_PKEY_up_ref(other.pkey_.get()) == 1)
        pkey_.reset(other.pkey_.get());
}

PublicKey& PublicKey::operator=(const PublicKey& other)
{
    if (this != &other)
        *this = PublicKey(other);
    return *this;
}

core::Result<PublicKey> PublicKey::from_jwk(const boost::json::object& jwk)
{
    const OpensslErrorScope errors;
    LATCHKEY_TRY(kty, string_member(jwk, "kty"));
    const auto alg = alg_for_kty(kty);
    if (!alg)
        return core::fail(Errc::invalid_argument, "JWK has an unsupported \"kty\"");
    // "d" is present in every private JWK (RFC 7518 §6.2.2.1, §6.3.2.1; RFC 8037 §2): a key
    // set that carries one is a leak waiting to be published, so refuse it outright.
    if (jwk.contains("d"))
        return core::fail(Errc::invalid_argument,
                          "JWK holds a private key where a public key is expected");
    if (const auto* a = jwk.if_contains("alg")) {
        if (!a->is_string() || a->get_string() != to_string(*alg))
            return core::fail(Errc::invalid_argument,
                              "JWK \"alg\" does not match its key type (expected " +
                                  std::string(to_string(*alg)) + ")");
    }
    if (const auto* use = jwk.if_contains("use")) {
        if (!use->is_string() || use->get_string() != "sig")
            return core::fail(Errc::invalid_argument, R"(JWK "use" is not "sig")");
    }
    std::optional<std::string> kid;
    if (const auto* k = jwk.if_contains("kid")) {
        if (!k->is_string() || k->get_string().empty())
            return core::fail(Errc::invalid_argument, "JWK \"kid\" is not a non-empty string");
        kid.emplace(k->get_string());
    }

    LATCHKEY_TRY(pkey, public_from_jwk(jwk, *alg));
    LATCHKEY_TRY_STATUS(check_key_type(pkey.get(), *alg));
    // RSA: n odd and composite, 65537 <= e < 2^256 odd (SP 800-56B); EC: point on the curve
    // and of the right order; Ed25519: a key is present.
    const EvpPkeyCtx check(EVP_PKEY_CTX_new_from_pkey(nullptr, pkey.get(), nullptr));
    if (!check)
        return core::fail(Errc::crypto_failed, "cannot allocate a key context");
    if (EVP_PKEY_public_check(check.get()) != 1)
        return core::fail(Errc::invalid_argument, "JWK fails the public key check");

    // Rebuilt from the OpenSSL key, not copied from the input: jwk() and the thumbprint only
    // ever hold what the key actually is.
    LATCHKEY_TRY(members, required_members(pkey.get(), *alg));
    std::string thumbprint = sha256_base64url(json::serialize(members));
    json::object out = std::move(members);
    std::string key_id = kid ? std::move(*kid) : std::move(thumbprint);
    out["kid"] = key_id;
    out["alg"] = to_string(*alg);
    out["use"] = "sig";
    return PublicKey(std::move(pkey), *alg, std::move(key_id), std::move(out));
}

core::Status PublicKey::verify(std::string_view signing_input, std::string_view signature) const
{
    const OpensslErrorScope errors;
    if (!pkey_)
        return core::fail(Errc::crypto_failed, "public key is empty (moved from)");

    std::string der;
    switch (alg_) {
    case JwsAlg::RS256:
        if (signature.size() != static_cast<std::size_t>(EVP_PKEY_get_size(pkey_.get())))
            return core::fail(Errc::permission_denied, "RS256 signature has the wrong length");
        break;
    case JwsAlg::ES256: {
        LATCHKEY_TRY(converted, detail::ecdsa_jose_to_der(signature, p256_coordinate_size));
        der = std::move(converted);
        signature = der;
        break;
    }
    case JwsAlg::EdDSA:
        if (signature.size() != ed25519_signature_size)
            return core::fail(Errc::permission_denied, "EdDSA signature has the wrong length");
        break;
    }

    const EvpMdCtx ctx(EVP_MD_CTX_new());
    EVP_PKEY_CTX* pctx = nullptr;
    // Ed25519 hashes internally and takes no digest (RFC 8032 "pure" mode).
    const EVP_MD* md = alg_ == JwsAlg::EdDSA ? nullptr : EVP_sha256();
    if (!ctx || EVP_DigestVerifyInit(ctx.get(), &pctx, md, nullptr, pkey_.get()) != 1)
        return core::fail(Errc::crypto_failed, "cannot initialise signature verification");
    if (alg_ == JwsAlg::RS256 && EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) != 1)
        return core::fail(Errc::crypto_failed, "cannot select RSASSA-PKCS1-v1_5");
    const int rc = EVP_DigestVerify(ctx.get(), bytes_of(signature), signature.size(),
                                    bytes_of(signing_input), signing_input.size());
    if (rc == 1)
        return {};
    if (rc == 0)
        return core::fail(Errc::permission_denied, "JWS signature does not verify");
    return core::fail(Errc::crypto_failed, "signature verification failed in OpenSSL");
}

// ---- SigningKey ----

SigningKey::SigningKey(EvpPkey pkey, PublicKey pub)
    : pkey_(std::move(pkey))
    , public_(std::move(pub))
{
}

core::Result<SigningKey> SigningKey::adopt(EvpPkey pkey, JwsAlg alg)
{
    LATCHKEY_TRY_STATUS(check_key_type(pkey.get(), alg));
    LATCHKEY_TRY(members, required_members(pkey.get(), alg));
    LATCHKEY_TRY(pub, PublicKey::from_jwk(members));
    SigningKey key(std::move(pkey), std::move(pub));
    // One signature checked against the derived public key: catches a corrupted or
    // inconsistent private key (and RSA-CRT faults) at load time, not at a client.
    constexpr std::string_view probe = "latchkey signing key self-test";
    LATCHKEY_TRY(signature, key.sign(probe));
    if (!key.public_.verify(probe, signature))
        return core::fail(Errc::invalid_argument,
                          "private key does not match its own public key (corrupted key?)");
    return key;
}

core::Result<SigningKey> SigningKey::generate(JwsAlg alg)
{
    const OpensslErrorScope errors;
    EvpPkeyCtx ctx;
    switch (alg) {
    case JwsAlg::RS256: {
        ctx.reset(EVP_PKEY_CTX_new_from_name(nullptr, "RSA", nullptr));
        const Bignum e(BN_new());
        if (!ctx || !e || BN_set_word(e.get(), RSA_F4) != 1 ||
            EVP_PKEY_keygen_init(ctx.get()) != 1 ||
            EVP_PKEY_CTX_set_rsa_keygen_bits(ctx.get(), rsa_min_bits) != 1 ||
            EVP_PKEY_CTX_set1_rsa_keygen_pubexp(ctx.get(), e.get()) != 1)
            return core::fail(Errc::crypto_failed, "cannot set up RSA key generation");
        break;
    }
    case JwsAlg::ES256:
        ctx.reset(EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr));
        if (!ctx || EVP_PKEY_keygen_init(ctx.get()) != 1 ||
            EVP_PKEY_CTX_set_group_name(ctx.get(), SN_X9_62_prime256v1) != 1)
            return core::fail(Errc::crypto_failed, "cannot set up P-256 key generation");
        break;
    case JwsAlg::EdDSA:
        ctx.reset(EVP_PKEY_CTX_new_from_name(nullptr, "ED25519", nullptr));
        if (!ctx || EVP_PKEY_keygen_init(ctx.get()) != 1)
            return core::fail(Errc::crypto_failed, "cannot set up Ed25519 key generation");
        break;
    }
    EVP_PKEY* pkey = nullptr;
    if (!ctx || EVP_PKEY_generate(ctx.get(), &pkey) != 1)
        return core::fail(Errc::crypto_failed,
                          "cannot generate a " + std::string(to_string(alg)) + " key");
    return adopt(EvpPkey(pkey), alg);
}

core::Result<SigningKey> SigningKey::from_pem(const core::Secret& pkcs8_pem, JwsAlg alg)
{
    const OpensslErrorScope errors;
    if (pkcs8_pem.empty() || pkcs8_pem.size() > max_pem_size)
        return core::fail(Errc::invalid_argument, "PEM private key is empty or too large");
    const Bio bio(BIO_new_mem_buf(pkcs8_pem.view().data(), static_cast<int>(pkcs8_pem.size())));
    if (!bio)
        return core::fail(Errc::crypto_failed, "cannot allocate a memory BIO");
    EVP_PKEY* pkey = PEM_read_bio_PrivateKey(bio.get(), nullptr, &refuse_passphrase, nullptr);
    if (pkey == nullptr)
        return core::fail(Errc::invalid_argument,
                          "no unencrypted PEM private key found (expected PKCS#8 "
                          "\"BEGIN PRIVATE KEY\")");
    return adopt(EvpPkey(pkey), alg);
}

core::Result<core::Secret> SigningKey::to_pem() const
{
    const OpensslErrorScope errors;
    if (!pkey_)
        return core::fail(Errc::invalid_argument, "signing key is empty (moved from)");
    // A secure-memory BIO clears its buffer when it grows and when it is freed.
    const Bio bio(BIO_new(BIO_s_secmem()));
    if (!bio)
        return core::fail(Errc::crypto_failed, "cannot allocate a memory BIO");
    if (PEM_write_bio_PKCS8PrivateKey(bio.get(), pkey_.get(), nullptr, nullptr, 0, nullptr,
                                      nullptr) != 1)
        return core::fail(Errc::crypto_failed, "cannot write the private key as PKCS#8 PEM");
    char* data = nullptr;
    const long len = BIO_get_mem_data(bio.get(), &data);
    if (len <= 0 || data == nullptr)
        return core::fail(Errc::crypto_failed, "cannot write the private key as PKCS#8 PEM");
    return core::Secret(std::string_view(data, static_cast<std::size_t>(len)));
}

core::Result<std::string> SigningKey::sign(std::string_view signing_input) const
{
    const OpensslErrorScope errors;
    if (!pkey_)
        return core::fail(Errc::invalid_argument, "signing key is empty (moved from)");
    const JwsAlg alg = public_.alg();
    const EvpMdCtx ctx(EVP_MD_CTX_new());
    EVP_PKEY_CTX* pctx = nullptr;
    const EVP_MD* md = alg == JwsAlg::EdDSA ? nullptr : EVP_sha256();
    if (!ctx || EVP_DigestSignInit(ctx.get(), &pctx, md, nullptr, pkey_.get()) != 1)
        return core::fail(Errc::crypto_failed, "cannot initialise signing");
    if (alg == JwsAlg::RS256 && EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) != 1)
        return core::fail(Errc::crypto_failed, "cannot select RSASSA-PKCS1-v1_5");
    std::size_t len = 0;
    if (EVP_DigestSign(ctx.get(), nullptr, &len, bytes_of(signing_input), signing_input.size()) !=
        1)
        return core::fail(Errc::crypto_failed, "cannot size the signature");
    std::string signature(len, '\0');
    if (EVP_DigestSign(ctx.get(), bytes_of(signature), &len, bytes_of(signing_input),
                       signing_input.size()) != 1)
        return core::fail(Errc::crypto_failed, "signing failed");
    signature.resize(len);
    if (alg == JwsAlg::ES256)
        return detail::ecdsa_der_to_jose(signature, p256_coordinate_size);
    return signature;
}

// ---- compact JWS ----

core::Result<std::string>
jws_sign(const SigningKey& key, const boost::json::object& payload, std::string_view typ)
{
    json::object header;
    header["alg"] = to_string(key.alg());
    header["kid"] = key.kid();
    if (!typ.empty())
        header["typ"] = typ;
    std::string token =
        base64url(json::serialize(header)) + '.' + base64url(json::serialize(payload));
    LATCHKEY_TRY(signature, key.sign(token));
    token += '.';
    token += base64url(signature);
    return token;
}

core::Result<boost::json::object> jws_verify(std::string_view compact,
                                             const std::vector<PublicKey>& keys,
                                             std::optional<std::string_view> expected_typ)
{
    if (compact.size() > max_compact_jws_size)
        return core::fail(Errc::invalid_argument, "JWS is too large");
    const std::size_t first = compact.find('.');
    const std::size_t second =
        first == std::string_view::npos ? first : compact.find('.', first + 1);
    if (second == std::string_view::npos || compact.find('.', second + 1) != std::string_view::npos)
        return core::fail(Errc::invalid_argument, "JWS must have exactly three parts");

    const auto header_json = base64url_decode(compact.substr(0, first));
    const auto payload_json = base64url_decode(compact.substr(first + 1, second - first - 1));
    const auto signature = base64url_decode(compact.substr(second + 1));
    if (!header_json || !payload_json || !signature)
        return core::fail(Errc::invalid_argument, "JWS part is not base64url");

    LATCHKEY_TRY(header, parse_object(*header_json, "header"));
    const json::value* alg_value = header.if_contains("alg");
    if (alg_value == nullptr || !alg_value->is_string())
        return core::fail(Errc::invalid_argument, "JWS header has no \"alg\"");
    // Only our three names parse: "none", "HS256" and anything else end here.
    const auto alg = jws_alg_from_string(alg_value->get_string());
    if (!alg)
        return core::fail(Errc::invalid_argument, "JWS \"alg\" is not supported");
    // RFC 7515 §4.1.11: extensions we do not implement must be refused, not ignored.
    if (header.contains("crit"))
        return core::fail(Errc::invalid_argument, "JWS header has unsupported \"crit\"");
    const json::value* kid = header.if_contains("kid");
    if (kid == nullptr || !kid->is_string())
        return core::fail(Errc::invalid_argument, "JWS header has no \"kid\"");
    if (expected_typ) {
        const json::value* typ = header.if_contains("typ");
        if (typ == nullptr || !typ->is_string() || !ascii_iequals(typ->get_string(), *expected_typ))
            return core::fail(Errc::invalid_argument,
                              "JWS \"typ\" is not " + std::string(*expected_typ));
    }

    const PublicKey* key = nullptr;
    for (const PublicKey& candidate : keys) {
        if (candidate.kid() == std::string_view(kid->get_string())) {
            key = &candidate;
            break;
        }
    }
    if (key == nullptr)
        return core::fail(Errc::not_found, "no key matches the JWS \"kid\"");
    // The key decides the algorithm; the token only has to agree (RFC 8725 §3.1).
    if (key->alg() != *alg)
        return core::fail(Errc::invalid_argument, "JWS \"alg\" does not match the key's " +
                                                      std::string(to_string(key->alg())));
    LATCHKEY_TRY_STATUS(key->verify(compact.substr(0, second), *signature));
    return parse_object(*payload_json, "payload");
}

// ---- ECDSA signature formats ----

namespace detail {

core::Result<std::string> ecdsa_der_to_jose(std::string_view der, std::size_t half)
{
    const OpensslErrorScope errors;
    const unsigned char* p = bytes_of(der);
    const EcdsaSig sig(d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size())));
    if (!sig || p != bytes_of(der) + der.size())
        return core::fail(Errc::crypto_failed, "not one DER ECDSA signature");
    const BIGNUM* r = nullptr;
    const BIGNUM* s = nullptr;
    ECDSA_SIG_get0(sig.get(), &r, &s);
    if (BN_is_negative(r) != 0 || BN_is_negative(s) != 0)
        return core::fail(Errc::crypto_failed, "ECDSA signature has a negative integer");
    // JOSE wants fixed-width r || s: a short r or s (1 time in 256 each) is left-padded.
    std::string out(2 * half, '\0');
    const int width = static_cast<int>(half);
    if (BN_bn2binpad(r, bytes_of(out), width) != width ||
        BN_bn2binpad(s, bytes_of(out) + half, width) != width)
        return core::fail(Errc::crypto_failed, "ECDSA signature integer is too large");
    return out;
}

core::Result<std::string> ecdsa_jose_to_der(std::string_view raw, std::size_t half)
{
    const OpensslErrorScope errors;
    if (raw.size() != 2 * half)
        return core::fail(Errc::permission_denied,
                          "ECDSA signature must be " + std::to_string(2 * half) + " bytes");
    const int width = static_cast<int>(half);
    Bignum r(BN_bin2bn(bytes_of(raw), width, nullptr));
    Bignum s(BN_bin2bn(bytes_of(raw) + half, width, nullptr));
    const EcdsaSig sig(ECDSA_SIG_new());
    if (!r || !s || !sig || ECDSA_SIG_set0(sig.get(), r.get(), s.get()) != 1)
        return core::fail(Errc::crypto_failed, "cannot build an ECDSA signature");
    // ECDSA_SIG_set0 took ownership of r and s.
    static_cast<void>(r.release());
    static_cast<void>(s.release());
    const int len = i2d_ECDSA_SIG(sig.get(), nullptr);
    if (len <= 0)
        return core::fail(Errc::crypto_failed, "cannot encode an ECDSA signature");
    std::string der(static_cast<std::size_t>(len), '\0');
    unsigned char* q = bytes_of(der);
    if (i2d_ECDSA_SIG(sig.get(), &q) != len)
        return core::fail(Errc::crypto_failed, "cannot encode an ECDSA signature");
    return der;
}

} // namespace detail

} // namespace latchkey::oidc
