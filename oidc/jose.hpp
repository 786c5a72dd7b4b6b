// SPDX-License-Identifier: Apache-2.0
// JOSE for the OpenID Connect provider: base64url, JWK, compact JWS signing and verification.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <openssl/evp.h>

#include <boost/json.hpp>

#include "core/c_handle.hpp"
#include "core/result.hpp"
#include "core/secret.hpp"

namespace latchkey::oidc {

using EvpPkey = std::unique_ptr<EVP_PKEY, core::CFree<EVP_PKEY_free>>;

/// Larger compact tokens are refused before any decoding: ours are a few hundred bytes, and a
/// peer must not make us base64-decode and parse megabytes.
inline constexpr std::size_t max_compact_jws_size = std::size_t{16} * 1024;

/// RFC 4648 §5 base64url without padding (RFC 7515 §2).
std::string base64url(std::string_view bytes);

/// Strict inverse of base64url(): nullopt on '=', '+', '/', whitespace or any other character
/// outside the URL-safe alphabet, on a length that no byte string encodes to (4k+1), and on
/// non-zero unused trailing bits, so that every byte string has exactly one accepted encoding.
std::optional<std::string> base64url_decode(std::string_view text);

/// The JWS algorithms we sign and verify with (RFC 7518 §3.1, RFC 8037 §3.1). "none" and the
/// HMAC algorithms are deliberately absent: they cannot be named, so they cannot be accepted.
enum class JwsAlg : std::uint8_t { RS256, ES256, EdDSA }; // NOLINT(readability-identifier-naming)

/// "RS256", "ES256", "EdDSA".
std::string_view to_string(JwsAlg alg) noexcept;

/// Exact, case-sensitive inverse of to_string(); nullopt for anything else, including "none".
std::optional<JwsAlg> jws_alg_from_string(std::string_view name) noexcept;

/// base64url(SHA-256(data)): PKCE S256 (RFC 7636 §4.2) and JWK thumbprints.
std::string sha256_base64url(std::string_view data);

/// The ID Token "at_hash" (and, with a code, "c_hash") claim: base64url of the left half of the
/// hash of the ASCII token (OIDC Core §3.1.3.6). The hash is the one of the signing algorithm:
/// SHA-256 for RS256 and ES256. EdDSA names no hash; for Ed25519 we use SHA-512, the hash
/// Ed25519 itself uses, as the OpenID Foundation's guidance and common providers do. So the
/// claim is 16 bytes (22 characters) for RS256/ES256 and 32 bytes (43 characters) for EdDSA.
std::string at_hash(std::string_view access_token, JwsAlg alg);

/// A public verification key with its algorithm and key id. Copies share one immutable
/// OpenSSL key (reference counted), so a key set is cheap to copy.
class PublicKey {
public:
    /// Builds a key from a public JWK: {"kty":"RSA","n","e"} (2048 to 8192 bits) for RS256,
    /// {"kty":"EC","crv":"P-256","x","y"} for ES256, {"kty":"OKP","crv":"Ed25519","x"} for
    /// EdDSA. "alg", if present, must be the one that kty implies; "use", if present, must be
    /// "sig"; "kid" is kept as given and defaults to the RFC 7638 thumbprint. Other members are
    /// ignored and not carried into jwk().
    /// Errors: Errc::invalid_argument for a missing, mistyped or malformed member, an
    /// unsupported key type or curve, a private key ("d"), a point not on the curve or an RSA
    /// key that OpenSSL's public-key check rejects; Errc::crypto_failed if OpenSSL fails.
    static core::Result<PublicKey> from_jwk(const boost::json::object& jwk);

    PublicKey(const PublicKey& other);
    PublicKey& operator=(const PublicKey& other);
    PublicKey(PublicKey&&) noexcept = default;
    PublicKey& operator=(PublicKey&&) = default;
    ~PublicKey() = default;

    [[nodiscard]] JwsAlg alg() const noexcept { return alg_; }

    [[nodiscard]] const std::string& kid() const noexcept { return kid_; }

    /// The public JWK: the key members plus "kid", "alg" and "use":"sig"; never private parts.
    [[nodiscard]] const boost::json::object& jwk() const noexcept { return jwk_; }

    /// Checks a raw JWS signature (as sign() makes it) over `signing_input` with alg().
    /// Errors: Errc::permission_denied when the signature does not verify (including a wrong
    /// length: ES256 and EdDSA signatures are exactly 64 bytes, RS256 the modulus size);
    /// Errc::crypto_failed if OpenSSL fails.
    [[nodiscard]] core::Status verify(std::string_view signing_input,
                                      std::string_view signature) const;

private:
    friend class SigningKey;

    PublicKey(EvpPkey pkey, JwsAlg alg, std::string kid, boost::json::object jwk);

    EvpPkey pkey_;
    JwsAlg alg_;
    std::string kid_;
    boost::json::object jwk_;
};

/// A private signing key. Move-only; the key material lives only inside OpenSSL's EVP_PKEY,
/// and leaves it only through to_pem() as a core::Secret.
class SigningKey {
public:
    /// A fresh key: RSA 2048 with e = 65537 (RS256), P-256 (ES256), Ed25519 (EdDSA).
    /// Errors: Errc::crypto_failed if OpenSSL fails.
    static core::Result<SigningKey> generate(JwsAlg alg);

    /// Loads an unencrypted PKCS#8 PEM private key (OpenSSL's traditional RSA and EC PEM forms
    /// are read too) and checks that it fits `alg`: an RSA key of 2048 to 8192 bits, an EC key
    /// on P-256, or an Ed25519 key. An encrypted PEM is refused, never prompted for.
    /// Errors: Errc::invalid_argument if the PEM holds no readable private key or one of the
    /// wrong type, size or curve; Errc::crypto_failed if OpenSSL fails otherwise.
    static core::Result<SigningKey> from_pem(const core::Secret& pkcs8_pem, JwsAlg alg);

    SigningKey(const SigningKey&) = delete;
    SigningKey& operator=(const SigningKey&) = delete;
    SigningKey(SigningKey&&) noexcept = default;
    SigningKey& operator=(SigningKey&&) = default;
    ~SigningKey() = default;

    /// The private key as unencrypted PKCS#8 PEM ("-----BEGIN PRIVATE KEY-----"), for the
    /// caller to seal with daemon::SecretBox. OpenSSL's buffer is wiped when freed.
    /// Errors: Errc::crypto_failed if OpenSSL fails.
    [[nodiscard]] core::Result<core::Secret> to_pem() const;

    [[nodiscard]] JwsAlg alg() const noexcept { return public_.alg(); }

    /// The RFC 7638 JWK thumbprint (SHA-256, base64url) of the public key.
    [[nodiscard]] const std::string& kid() const noexcept { return public_.kid(); }

    /// The public JWK for the JWKS document, with "kid", "alg" and "use":"sig".
    [[nodiscard]] const boost::json::object& public_jwk() const noexcept { return public_.jwk(); }

    /// The public half, for verifying our own tokens. It holds no private key material.
    [[nodiscard]] PublicKey public_key() const { return public_; }

    /// The raw JWS signature of `signing_input` (RFC 7518 §3): RSASSA-PKCS1-v1_5 with SHA-256
    /// for RS256; r || s, each left-padded to 32 bytes, for ES256 (not OpenSSL's DER); pure
    /// Ed25519 for EdDSA.
    /// Errors: Errc::invalid_argument on a moved-from key; Errc::crypto_failed if OpenSSL fails.
    [[nodiscard]] core::Result<std::string> sign(std::string_view signing_input) const;

private:
    SigningKey(EvpPkey pkey, PublicKey pub);

    /// Checks `pkey` against `alg` and derives the public half; used by generate and from_pem.
    static core::Result<SigningKey> adopt(EvpPkey pkey, JwsAlg alg);

    EvpPkey pkey_;
    PublicKey public_;
};

/// A compact JWS (RFC 7515 §7.1) of `payload` with the protected header
/// {"alg": key.alg(), "kid": key.kid(), "typ": typ}; an empty `typ` leaves "typ" out.
/// Errors: those of SigningKey::sign().
core::Result<std::string>
jws_sign(const SigningKey& key, const boost::json::object& payload, std::string_view typ = "JWT");

/// Verifies a compact JWS signed by one of `keys` and returns its payload object.
///
/// Strict: at most max_compact_jws_size bytes; exactly three strict base64url parts; a header
/// that is a JSON object with a known "alg" (never "none" or an HMAC), a string "kid" and no
/// "crit"; the key is found by "kid" and its algorithm must equal the header's, so a token
/// cannot pick how it is checked. When `expected_typ` is given, the header "typ" must equal it
/// (ASCII case-insensitively, RFC 7515 §4.1.9; RFC 8725 §3.11). The signature is checked
/// before the payload is parsed; the payload must be a JSON object.
///
/// Claims ("exp", "iss", "aud", ...) are NOT checked: time and audience are the caller's.
/// Errors: Errc::invalid_argument for a malformed token, an unknown, missing or mismatched
/// algorithm, a missing "kid" or a wrong "typ"; Errc::not_found when no key has the "kid";
/// Errc::permission_denied when the signature does not verify; Errc::crypto_failed if OpenSSL
/// fails. Messages never quote the token.
core::Result<boost::json::object> jws_verify(std::string_view compact,
                                             const std::vector<PublicKey>& keys,
                                             std::optional<std::string_view> expected_typ = {});

namespace detail {

/// OpenSSL's DER ECDSA-Sig-Value to JOSE's fixed-size r || s (each left-padded to `half`
/// bytes). Errors: Errc::crypto_failed if `der` is not one DER signature or r or s is too big.
core::Result<std::string> ecdsa_der_to_jose(std::string_view der, std::size_t half);

/// JOSE r || s (exactly 2 * `half` bytes) back to DER for OpenSSL.
/// Errors: Errc::permission_denied on a wrong length; Errc::crypto_failed if OpenSSL fails.
core::Result<std::string> ecdsa_jose_to_der(std::string_view raw, std::size_t half);

} // namespace detail

} // namespace latchkey::oidc
