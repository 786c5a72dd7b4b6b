// SPDX-License-Identifier: Apache-2.0
// The WebAuthn relying party latchkeyd is: [webauthn] of the config, with the RP id and origins
// taken from the OpenID Connect issuer unless given, checked before the daemon starts.
#pragma once

#include <chrono>
#include <cstdint>
#include <string_view>

#include "core/result.hpp"
#include "credentials/host_keys.hpp"
#include "credentials/passkeys.hpp"
#include "daemon/config.hpp"
#include "webauthn/ceremony.hpp"

namespace latchkey::daemon {

using WebauthnSettings = credentials::PasskeySettings;

/// The relying party for `issuer` ("https://login.example.org"). The RP id defaults to the
/// issuer's host, the origins to the issuer's origin (its scheme, host and port). Errors
/// (config_invalid, naming the key): an origin that is not https (http only for localhost, which
/// browsers treat as secure), has a path, or whose host is not the RP id or below it; an RP id that
/// is an IP address.
core::Result<WebauthnSettings> webauthn_settings(const Config& c, std::string_view issuer);

/// Security keys at the hosts: [webauthn] host_rp_id ("pam:" and a domain name; "" for
/// "pam:<directory domain>"), host_touch_timeout_s, and the user_verification and rp_name the
/// web passkeys use. Errors (config_invalid): an RP id that is not "pam:" and a domain name.
core::Result<credentials::HostKeySettings> host_key_settings(const Config& c);

} // namespace latchkey::daemon
