// SPDX-License-Identifier: Apache-2.0
// COSE_Key (RFC 9052/9053) credential public keys: EC2 P-256/384/521, OKP Ed25519, RSA.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <cbor.h>

#include "core/result.hpp"
#include "webauthn/openssl.hpp"

namespace latchkey::webauthn {

/// COSE algorithm identifiers (IANA "COSE Algorithms") that a credential key may name.
enum class CoseAlgorithm : std::int32_t {
    es256 = -7,
    eddsa = -8,
    es384 = -35,
    es512 = -36,
    ps256 = -37,
    rs256 = -257,
    rs1 = -65535,
};

/// "ES256", "EdDSA", ...; "unknown" for any other value.
std::string_view algorithm_name(std::int64_t alg) noexcept;

/// The known algorithm with this identifier, if any.
std::optional<CoseAlgorithm> to_algorithm(std::int64_t alg) noexcept;

/// How a signature under `alg` is checked.
SignatureScheme scheme_of(CoseAlgorithm alg) noexcept;

/// A credential public key, checked: its kty, crv and sizes fit its alg, and OpenSSL accepts it
/// as a public key. `encoded` keeps the bytes it came from, which is what a caller stores.
struct CoseKey {
    CoseAlgorithm alg = CoseAlgorithm::es256;
    std::int64_t kty = 0; // 1 OKP, 2 EC2, 3 RSA
    std::int64_t crv = 0; // EC2: 1 P-256, 2 P-384, 3 P-521; OKP: 6 Ed25519; RSA: 0
    std::string x, y;     // EC2 coordinates; OKP public key in x
    std::string n, e;     // RSA modulus and exponent
    std::string encoded;
};

/// How much parse_cose_key proves of a key.
enum class KeyCheck : std::uint8_t {
    /// OpenSSL imports it and its full public key check passes (a point on the curve and of
    /// the group's order, a sound RSA modulus): for a key about to be stored.
    full,
    /// Its members have the shapes its algorithm needs, nothing more: for a key read back
    /// from storage, which passed the full check when it was stored, and whose verifier
    /// (libfido2's *_pk_from_ptr, OpenSSL's import) checks it again anyway.
    shape,
};

/// Parses a decoded COSE_Key map. Errors: Reason::malformed_cose_key (missing, duplicate or
/// ill-sized members, a kty or crv that contradicts alg, a point off the curve),
/// Reason::unsupported_algorithm (an alg this library does not verify).
core::Result<CoseKey>
parse_cose_key(const cbor_item_t& map, std::string encoded, KeyCheck check = KeyCheck::full);

/// Decodes and parses COSE_Key bytes (nothing may follow the map).
core::Result<CoseKey> parse_cose_key(std::string_view bytes, KeyCheck check = KeyCheck::full);

/// The key as an OpenSSL public key.
core::Result<EvpPkey> to_evp_pkey(const CoseKey& key);

} // namespace latchkey::webauthn
