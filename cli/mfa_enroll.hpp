// SPDX-License-Identifier: Apache-2.0
// `latchkeyctl mfa enroll`: the two-step exchange of a TOTP enrolment.
#pragma once

#include <ostream>

#include "cli/args.hpp"
#include "core/clock.hpp"
#include "core/result.hpp"

namespace latchkey::cli {

/// Asks latchkeyd for a new secret (admin socket with USER, PAM socket for yourself), shows it
/// (QR code, key and URI on a terminal; the URI alone otherwise), reads two consecutive codes
/// and prints the recovery codes. On a terminal a wrong pair of codes may be tried again.
core::Status run_mfa_enroll(const Invocation& inv, std::ostream& out, core::TimePoint now);

} // namespace latchkey::cli
