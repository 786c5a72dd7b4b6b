// SPDX-License-Identifier: Apache-2.0
// Why a WebAuthn ceremony failed: one stable name per reason, for audit lines and user messages.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <system_error>

#include "core/result.hpp"

namespace latchkey::webauthn {

/// Every way a response can be refused. The names (reason_name) are stable: the product audits
/// them and maps them to plain messages. Never renumber or rename; add at the end of a group.
enum class Reason : std::uint16_t {
    // The bytes themselves.
    malformed_json = 1,
    malformed_cbor = 2,
    malformed_client_data = 3,
    malformed_authenticator_data = 4,
    malformed_attestation = 5,
    malformed_cose_key = 6,
    malformed_response = 7,
    too_large = 8,
    // clientDataJSON (§7.1 steps 7-11, §7.2 steps 10-14).
    wrong_type = 20,
    challenge_mismatch = 21,
    origin_not_allowed = 22,
    cross_origin_not_allowed = 23,
    top_origin_not_allowed = 24,
    token_binding_unsupported = 25,
    // authenticatorData.
    rp_id_mismatch = 40,
    user_not_present = 41,
    user_not_verified = 42,
    backup_state_invalid = 43,
    attested_data_missing = 44,
    attested_data_unexpected = 45,
    counter_regression = 46,
    // Keys and signatures.
    unsupported_algorithm = 60,
    algorithm_mismatch = 61,
    bad_signature = 62,
    // Which credential.
    credential_not_allowed = 80,
    user_handle_mismatch = 81,
    credential_id_too_long = 82,
    // Attestation (§8).
    unsupported_format = 100,
    attestation_invalid = 101,
    attestation_untrusted = 102,
    aaguid_mismatch = 103,
    certificate_invalid = 104,
    // The ceremony.
    ceremony_expired = 120,
    internal = 200,
};

/// The stable snake_case name ("challenge_mismatch").
std::string_view reason_name(Reason r) noexcept;

/// A sentence for the person at the browser or the terminal; it names no internals.
std::string_view reason_message(Reason r) noexcept;

const std::error_category& webauthn_category() noexcept;

std::error_code make_error_code(Reason r) noexcept;

/// The reason carried by an error from this library; Reason::internal for any other error.
Reason reason_of(const core::Error& e) noexcept;

/// `return refuse(Reason::x, "detail")` from any function returning a core::Result.
core::Unexpected refuse(Reason r, std::string detail);

} // namespace latchkey::webauthn

template <>
struct std::is_error_code_enum<latchkey::webauthn::Reason> : std::true_type {
};
