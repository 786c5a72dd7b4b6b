// SPDX-License-Identifier: Apache-2.0
// OpenSSL 3 for the webauthn library: RAII aliases, public keys from raw parts, signature checks.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "core/c_handle.hpp"
#include "core/result.hpp"

namespace latchkey::webauthn {

using EvpPkey = std::unique_ptr<EVP_PKEY, core::CFree<EVP_PKEY_free>>;
using X509Ptr = std::unique_ptr<X509, core::CFree<X509_free>>;

/// Clears what OpenSSL queued on this thread's error stack while the scope ran: failures are
/// reported as Results, and stale entries would confuse the next reader of the queue.
class OpensslErrorScope {
public:
    OpensslErrorScope() noexcept;
    OpensslErrorScope(const OpensslErrorScope&) = delete;
    OpensslErrorScope& operator=(const OpensslErrorScope&) = delete;
    ~OpensslErrorScope();
};

/// A public key from its big-endian parts. Each refuses what OpenSSL's public key check
/// refuses (a point off the curve, an even or tiny modulus). Errors: Reason::malformed_cose_key.
core::Result<EvpPkey> rsa_public_key(std::string_view n, std::string_view e);

/// `curve` is an OpenSSL group name ("prime256v1", "secp384r1", "secp521r1").
core::Result<EvpPkey> ec_public_key(const char* curve, std::string_view x, std::string_view y);

core::Result<EvpPkey> ed25519_public_key(std::string_view x);

/// The ways a signature can be made over a message.
enum class SignatureScheme {
    ecdsa_sha256,
    ecdsa_sha384,
    ecdsa_sha512,
    ed25519,
    rsa_pkcs1_sha256,
    rsa_pkcs1_sha1,
    rsa_pss_sha256,
    rsa_pkcs1_sha384,
    rsa_pkcs1_sha512
};

/// True if `sig` is a valid signature by `key` over `message` under `scheme` (and the key's type
/// fits the scheme). Never fails otherwise: any error counts as an invalid signature.
bool verify_signature(EVP_PKEY* key,
                      SignatureScheme scheme,
                      std::string_view message,
                      std::string_view sig) noexcept;

/// SHA-256 of `data` as 32 raw bytes.
std::string sha256(std::string_view data);

/// An X.509 certificate from DER, with nothing after it. Errors: Reason::certificate_invalid.
core::Result<X509Ptr> parse_certificate(std::string_view der);

} // namespace latchkey::webauthn
