// SPDX-License-Identifier: Apache-2.0
// `latchkeyctl mfa enroll` and `latchkeyctl passkey add-key`: the enrolments a person takes
// part in.
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

/// Enrols a security key for the hosts: asks latchkeyd for a ceremony (admin socket with USER,
/// PAM socket for yourself after your password), runs it on the key through latchkey-fido
/// (--device: "usb", the default, or "unix:PATH"; its PIN asked on the terminal, or read from
/// standard input), and sends the key's answer back, which latchkeyd verifies and stores.
core::Status run_passkey_add_key(const Invocation& inv, std::ostream& out, core::TimePoint now);

} // namespace latchkey::cli
