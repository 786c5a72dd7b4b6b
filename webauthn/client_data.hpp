// SPDX-License-Identifier: Apache-2.0
// CollectedClientData (WebAuthn §5.8.1): the JSON the browser signs over, decoded and bounded.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "core/result.hpp"

namespace latchkey::webauthn {

inline constexpr std::size_t max_client_data_size = 8 * 1024;

/// The members a relying party checks. Members it does not know are allowed and ignored
/// (§5.8.1: clientDataJSON may gain members), but each known one must have its type.
struct ClientData {
    std::string type;      // "webauthn.create" or "webauthn.get"
    std::string challenge; // decoded bytes of the base64url member
    std::string origin;
    bool cross_origin = false;
    std::optional<std::string> top_origin;
};

/// Parses clientDataJSON. The challenge must be canonical unpadded base64url, as browsers
/// write it. A tokenBinding member is allowed only with status "supported": latchkey does
/// not do Token Binding, so "present" is refused (Reason::token_binding_unsupported) and any
/// other status is malformed. Errors: Reason::too_large, Reason::malformed_client_data.
core::Result<ClientData> parse_client_data(std::string_view json);

/// Canonical unpadded base64url only; nullopt otherwise.
std::optional<std::string> decode_base64url_strict(std::string_view text);

} // namespace latchkey::webauthn
