// SPDX-License-Identifier: Apache-2.0
// The browser's answer as JSON (PublicKeyCredential.toJSON(): RegistrationResponseJSON and
// AuthenticationResponseJSON), decoded to bytes and bounded.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"

namespace latchkey::webauthn {

inline constexpr std::size_t max_response_json_size = 64 * 1024;

struct RegistrationResponse {
    std::string id; // raw credential id as the browser reported it
    std::string client_data_json;
    std::string attestation_object;
    std::vector<std::string> transports;
    std::optional<std::string> authenticator_attachment;
};

struct AuthenticationResponse {
    std::string id; // raw credential id
    std::string client_data_json;
    std::string authenticator_data;
    std::string signature;
    std::optional<std::string> user_handle; // raw bytes; absent or null: none given
    std::optional<std::string> authenticator_attachment;
};

/// Parses RegistrationResponseJSON. Binary members may use either base64 alphabet, padded or
/// not (some clients send standard base64); what counts is the bytes, which the signatures
/// cover. `id` and `rawId` must agree. Errors: Reason::too_large, Reason::malformed_json,
/// Reason::malformed_response.
core::Result<RegistrationResponse> parse_registration_response(std::string_view json);

/// Parses AuthenticationResponseJSON, with the same rules.
core::Result<AuthenticationResponse> parse_authentication_response(std::string_view json);

} // namespace latchkey::webauthn
