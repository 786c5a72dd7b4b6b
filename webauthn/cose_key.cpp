// SPDX-License-Identifier: Apache-2.0
// COSE_Key parsing: every member checked against the algorithm before OpenSSL sees the key.
#include "webauthn/cose_key.hpp"

#include "webauthn/cbor.hpp"
#include "webauthn/reason.hpp"

namespace latchkey::webauthn {

namespace {

// COSE key labels (RFC 9052 §7.1, RFC 9053 §7).
constexpr std::int64_t label_kty = 1;
constexpr std::int64_t label_alg = 3;
constexpr std::int64_t label_crv = -1; // EC2, OKP
constexpr std::int64_t label_x = -2;
constexpr std::int64_t label_y = -3;
constexpr std::int64_t label_n = -1; // RSA
constexpr std::int64_t label_e = -2;

constexpr std::int64_t kty_okp = 1;
constexpr std::int64_t kty_ec2 = 2;
constexpr std::int64_t kty_rsa = 3;

constexpr std::int64_t crv_p256 = 1;
constexpr std::int64_t crv_p384 = 2;
constexpr std::int64_t crv_p521 = 3;
constexpr std::int64_t crv_ed25519 = 6;

// Credential keys are small; an RSA modulus over 4096 bits is no authenticator's.
constexpr std::size_t rsa_min_bytes = 2048 / 8;
constexpr std::size_t rsa_max_bytes = 4096 / 8;
constexpr std::size_t max_cose_key_size = 1024;

core::Unexpected malformed(std::string what)
{
    return core::fail(core::Error{Reason::malformed_cose_key, std::move(what)});
}

core::Result<std::string>
bytes_member(const cbor_item_t& map, std::int64_t label, std::size_t min, std::size_t max)
{
    const auto bytes = as_bytes(map_find(&map, label));
    if (!bytes || bytes->size() < min || bytes->size() > max)
        return malformed("COSE key member " + std::to_string(label) +
                         " is missing or of the wrong size");
    return std::string(*bytes);
}

struct CurveShape {
    std::int64_t crv;
    std::size_t coordinate;
    const char* group;
};

std::optional<CurveShape> ec_curve_of(CoseAlgorithm alg) noexcept
{
    switch (alg) {
    case CoseAlgorithm::es256: return CurveShape{crv_p256, 32, "prime256v1"};
    case CoseAlgorithm::es384: return CurveShape{crv_p384, 48, "secp384r1"};
    case CoseAlgorithm::es512: return CurveShape{crv_p521, 66, "secp521r1"};
    default: return std::nullopt;
    }
}

std::int64_t kty_of(CoseAlgorithm alg) noexcept
{
    switch (alg) {
    case CoseAlgorithm::es256:
    case CoseAlgorithm::es384:
    case CoseAlgorithm::es512: return kty_ec2;
    case CoseAlgorithm::eddsa: return kty_okp;
    default: return kty_rsa;
    }
}

} // namespace

std::string_view algorithm_name(std::int64_t alg) noexcept
{
    const auto a = to_algorithm(alg);
    if (!a)
        return "unknown";
    switch (*a) {
    case CoseAlgorithm::es256: return "ES256";
    case CoseAlgorithm::eddsa: return "EdDSA";
    case CoseAlgorithm::es384: return "ES384";
    case CoseAlgorithm::es512: return "ES512";
    case CoseAlgorithm::ps256: return "PS256";
    case CoseAlgorithm::rs256: return "RS256";
    case CoseAlgorithm::rs1: return "RS1";
    }
    return "unknown";
}

std::optional<CoseAlgorithm> to_algorithm(std::int64_t alg) noexcept
{
    switch (alg) {
    case -7: return CoseAlgorithm::es256;
    case -8: return CoseAlgorithm::eddsa;
    case -35: return CoseAlgorithm::es384;
    case -36: return CoseAlgorithm::es512;
    case -37: return CoseAlgorithm::ps256;
    case -257: return CoseAlgorithm::rs256;
    case -65535: return CoseAlgorithm::rs1;
    default: return std::nullopt;
    }
}

SignatureScheme scheme_of(CoseAlgorithm alg) noexcept
{
    switch (alg) {
    case CoseAlgorithm::es256: return SignatureScheme::ecdsa_sha256;
    case CoseAlgorithm::eddsa: return SignatureScheme::ed25519;
    case CoseAlgorithm::es384: return SignatureScheme::ecdsa_sha384;
    case CoseAlgorithm::es512: return SignatureScheme::ecdsa_sha512;
    case CoseAlgorithm::ps256: return SignatureScheme::rsa_pss_sha256;
    case CoseAlgorithm::rs256: return SignatureScheme::rsa_pkcs1_sha256;
    case CoseAlgorithm::rs1: return SignatureScheme::rsa_pkcs1_sha1;
    }
    return SignatureScheme::ecdsa_sha256;
}

core::Result<CoseKey> parse_cose_key(const cbor_item_t& map, std::string encoded, KeyCheck check)
{
    if (!cbor_isa_map(const_cast<cbor_item_t*>(&map)))
        return malformed("COSE key is not a map");
    if (!has_unique_keys(map))
        return malformed("COSE key repeats a member");
    const auto kty = as_int(map_find(&map, label_kty));
    const auto alg_id = as_int(map_find(&map, label_alg));
    if (!kty || !alg_id)
        return malformed("COSE key lacks kty or alg");
    const auto alg = to_algorithm(*alg_id);
    if (!alg)
        return core::fail(
            core::Error{Reason::unsupported_algorithm,
                        "COSE algorithm " + std::to_string(*alg_id) + " is not supported"});
    if (*kty != kty_of(*alg))
        return malformed("COSE key type does not fit its algorithm");

    CoseKey key;
    key.alg = *alg;
    key.kty = *kty;
    key.encoded = std::move(encoded);
    if (*kty == kty_rsa) {
        LATCHKEY_TRY(n, bytes_member(map, label_n, rsa_min_bytes, rsa_max_bytes));
        LATCHKEY_TRY(e, bytes_member(map, label_e, 1, 8));
        key.n = std::move(n);
        key.e = std::move(e);
    } else {
        const auto crv = as_int(map_find(&map, label_crv));
        if (*kty == kty_okp) {
            if (crv != crv_ed25519)
                return malformed("OKP key is not on Ed25519");
            LATCHKEY_TRY(x, bytes_member(map, label_x, 32, 32));
            key.x = std::move(x);
        } else {
            const auto shape = ec_curve_of(*alg);
            if (crv != shape->crv)
                return malformed("EC2 key curve does not fit its algorithm");
            // Compressed points (y as a bool) are allowed by COSE but never sent by
            // authenticators; WebAuthn §5.8.5 requires the uncompressed form.
            LATCHKEY_TRY(x, bytes_member(map, label_x, shape->coordinate, shape->coordinate));
            LATCHKEY_TRY(y, bytes_member(map, label_y, shape->coordinate, shape->coordinate));
            key.x = std::move(x);
            key.y = std::move(y);
        }
        key.crv = *crv;
    }
    if (check == KeyCheck::full) {
        // The key must be one OpenSSL accepts as a public key (a point on the curve, ...).
        LATCHKEY_TRY(pkey, to_evp_pkey(key));
        (void)pkey;
    }
    return key;
}

core::Result<CoseKey> parse_cose_key(std::string_view bytes, KeyCheck check)
{
    CborLimits limits;
    limits.max_size = max_cose_key_size;
    auto item = decode_cbor(bytes, limits);
    if (!item)
        return malformed("COSE key is not well-formed CBOR");
    return parse_cose_key(**item, std::string(bytes), check);
}

core::Result<EvpPkey> to_evp_pkey(const CoseKey& key)
{
    switch (key.kty) {
    case kty_rsa: return rsa_public_key(key.n, key.e);
    case kty_okp: return ed25519_public_key(key.x);
    case kty_ec2:
        if (const auto shape = ec_curve_of(key.alg))
            return ec_public_key(shape->group, key.x, key.y);
        return malformed("COSE key type does not fit its algorithm");
    default: return malformed("COSE key type is not supported");
    }
}

} // namespace latchkey::webauthn
