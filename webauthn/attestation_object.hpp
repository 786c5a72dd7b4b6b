// SPDX-License-Identifier: Apache-2.0
// The attestation object (WebAuthn §6.5.4): fmt, attStmt and authData from one CBOR map.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "core/result.hpp"
#include "webauthn/authenticator_data.hpp"
#include "webauthn/cbor.hpp"

namespace latchkey::webauthn {

inline constexpr std::size_t max_attestation_object_size = 32 * 1024;

struct AttestationObject {
    std::string fmt;
    CborItem statement;            // attStmt, a map whose contents depend on fmt
    std::string statement_encoded; // attStmt re-encoded with its keys in CTAP2 canonical order
    AuthenticatorData auth_data;
};

/// Decodes an attestation object: a map of exactly "fmt" (text), "attStmt" (map) and "authData"
/// (bytes, parsed), nothing after it. It checks structure only; the ceremony checks the
/// statement. Errors: Reason::too_large, Reason::malformed_attestation, and authData's reasons.
core::Result<AttestationObject> parse_attestation_object(std::string_view bytes);

} // namespace latchkey::webauthn
