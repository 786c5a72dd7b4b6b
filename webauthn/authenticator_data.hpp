// SPDX-License-Identifier: Apache-2.0
// authenticatorData (WebAuthn §6.1): rpIdHash, flags, signCount, attested credential data,
// extensions, decoded with every length checked and nothing allowed after it.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/result.hpp"
#include "webauthn/cose_key.hpp"

namespace latchkey::webauthn {

inline constexpr std::size_t max_authenticator_data_size = 8 * 1024;
/// §5.8.3: credential ids longer than this are refused.
inline constexpr std::size_t max_credential_id_size = 1023;

/// The flag bits of §6.1.
namespace flag {
inline constexpr std::uint8_t up = 0x01;
inline constexpr std::uint8_t uv = 0x04;
inline constexpr std::uint8_t be = 0x08;
inline constexpr std::uint8_t bs = 0x10;
inline constexpr std::uint8_t at = 0x40;
inline constexpr std::uint8_t ed = 0x80;
} // namespace flag

using Aaguid = std::array<std::uint8_t, 16>;

/// §6.5.1 attested credential data.
struct AttestedCredential {
    Aaguid aaguid{};
    std::string id;
    CoseKey public_key;
};

struct AuthenticatorData {
    std::string rp_id_hash; // 32 bytes: SHA-256 of the RP id the authenticator used
    std::uint8_t flags = 0;
    std::uint32_t sign_count = 0;
    std::optional<AttestedCredential> credential; // present exactly when flag::at is set
    std::string extensions;                       // the encoded CBOR map when flag::ed is set
    std::string raw;                              // the bytes parsed, which signatures cover

    [[nodiscard]] bool user_present() const noexcept { return (flags & flag::up) != 0; }

    [[nodiscard]] bool user_verified() const noexcept { return (flags & flag::uv) != 0; }

    [[nodiscard]] bool backup_eligible() const noexcept { return (flags & flag::be) != 0; }

    [[nodiscard]] bool backed_up() const noexcept { return (flags & flag::bs) != 0; }
};

/// Parses authenticatorData. AT and ED must say truly what follows the fixed 37 bytes; BS
/// without BE is refused (§6.1.3). Errors: Reason::too_large, Reason::malformed_authenticator_data,
/// Reason::backup_state_invalid, Reason::credential_id_too_long, and the COSE key's reasons.
core::Result<AuthenticatorData> parse_authenticator_data(std::string_view bytes);

/// The AAGUID in its 8-4-4-4-12 lower-case form.
std::string aaguid_string(const Aaguid& aaguid);

} // namespace latchkey::webauthn
