// SPDX-License-Identifier: Apache-2.0
// SecretBox: AES-256-GCM encryption of secrets at rest (TOTP secrets, later OIDC signing keys).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include "core/result.hpp"
#include "core/secret.hpp"

namespace latchkey::credentials {

/// Seals small secrets under one 32-byte key so that a copy of the database alone reveals none.
///
/// Sealed format (raw bytes, stored as a BLOB):
///
///     version (1 byte, = 1) || nonce (12 bytes) || ciphertext (= plaintext length) || tag (16)
///
/// The version byte and the caller's `context` are authenticated (GCM additional data), so a
/// sealed value cannot be moved to another record or reinterpreted under another version.
class SecretBox {
public:
    static constexpr std::size_t key_size = 32;
    static constexpr std::size_t nonce_size = 12;
    static constexpr std::size_t tag_size = 16;
    static constexpr std::uint8_t format_version = 1;
    /// Bytes added to the plaintext by seal(): version + nonce + tag.
    static constexpr std::size_t overhead = 1 + nonce_size + tag_size;

    /// Loads the 32-byte key from `key_path`, creating it when missing (mode 0600, written to a
    /// temporary file, fsynced and renamed into place without replacing anything; the parent
    /// directory must exist). If another process creates the key first, that key is used.
    /// Errors: Errc::config_invalid when the path is not a regular file, has the wrong size or
    /// is accessible by group or others (the message names the path and the fix);
    /// Errc::io_failed when the file cannot be read or created.
    static core::Result<SecretBox> open(const std::string& key_path);

    /// A box with the given key, for tests and for keys delivered by other means.
    /// Errors: Errc::invalid_argument unless `key` is exactly 32 bytes.
    static core::Result<SecretBox> from_key(const core::Secret& key);

    /// Encrypts `plaintext` with a fresh random nonce, binding `context` (e.g. "totp:<user id>").
    /// Errors: Errc::invalid_argument if the plaintext is too large for one EVP call;
    /// Errc::crypto_failed if OpenSSL fails.
    [[nodiscard]] core::Result<std::string> seal(const core::Secret& plaintext,
                                                 std::string_view context) const;

    /// Decrypts what seal() produced under the same key and context.
    /// Errors: Errc::crypto_failed on a bad version, a short input, or any failed
    /// authentication (tampering, wrong key, wrong context); no plaintext is ever returned then.
    [[nodiscard]] core::Result<core::Secret> open_sealed(std::string_view sealed,
                                                         std::string_view context) const;

    /// A keyed hash (HMAC-SHA256, 32 raw bytes) of `data` under a subkey derived from the box
    /// key for `context`: for values that are checked but never read back, such as recovery
    /// codes. Without the key file, the stored hashes cannot be brute-forced offline.
    /// Errors: Errc::crypto_failed if OpenSSL fails.
    [[nodiscard]] core::Result<std::string> mac(const core::Secret& data,
                                                std::string_view context) const;

private:
    explicit SecretBox(core::Secret key) noexcept
        : key_(std::move(key))
    {
    }

    core::Secret key_;
};

} // namespace latchkey::credentials
