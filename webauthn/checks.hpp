// SPDX-License-Identifier: Apache-2.0
// The steps both ceremonies share (§7.1 steps 5-17, §7.2 steps 8-18): the pending ceremony,
// clientDataJSON against it, and authenticatorData's rpIdHash and flags.
#pragma once

#include <string>
#include <string_view>

#include "core/clock.hpp"
#include "core/result.hpp"
#include "webauthn/authenticator_data.hpp"
#include "webauthn/ceremony.hpp"
#include "webauthn/client_data.hpp"

namespace latchkey::webauthn {

/// The pending ceremony is of `kind` and not expired at `now`. Errors: Reason::ceremony_expired,
/// Reason::internal (a pending ceremony of the other kind: the caller's bug).
core::Status
check_pending(const PendingCeremony& pending, PendingCeremony::Kind kind, core::TimePoint now);

/// Parses clientDataJSON and checks type, challenge (constant time), origin, crossOrigin and
/// topOrigin against the pending ceremony.
core::Result<ClientData> check_client_data(const PendingCeremony& pending,
                                           std::string_view client_data_json);

/// Checks rpIdHash against the ceremony's RP ids, UP and UV against its policy. Returns the RP
/// id that matched.
core::Result<std::string> check_authenticator_data(const PendingCeremony& pending,
                                                   const AuthenticatorData& data);

} // namespace latchkey::webauthn
