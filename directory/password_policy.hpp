// SPDX-License-Identifier: Apache-2.0
// Password policy rules: composition, expiry, generation, and validation of the policy itself.
#pragma once

#include <optional>

#include "core/clock.hpp"
#include "core/result.hpp"
#include "core/secret.hpp"
#include "directory/model.hpp"

namespace latchkey::directory {

/// Longest password accepted, in characters; a bound on input, not a policy knob.
inline constexpr std::size_t max_password_length = 128;
inline constexpr std::uint32_t max_history = 24;

/// Checks length and character classes. Fails with policy_violation and a message a user can
/// act on ("the password must contain a digit"); the message never repeats the password.
core::Status check_composition(const PasswordPolicy& policy, const core::Secret& password);

/// The moment a password set at `set_at` expires, or nullopt when the policy has no maximum age.
std::optional<core::TimePoint> password_expires_at(const PasswordPolicy& policy,
                                                   core::TimePoint set_at);

bool password_expired(const PasswordPolicy& policy, std::optional<core::TimePoint> set_at,
                      core::TimePoint now);

/// A random 20-character password that satisfies `policy`.
core::Secret generate_password(const PasswordPolicy& policy);

/// Ranges of the policy's own fields (min_length 8..32, history 0..24, ...).
core::Status validate(const PasswordPolicy& policy);
core::Status validate(const SecuritySettings& settings);

} // namespace latchkey::directory
