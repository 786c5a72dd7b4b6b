// SPDX-License-Identifier: Apache-2.0
// `latchkeyctl account root recover`: a code to the bound phone, then root's new password.
#pragma once

#include <ostream>

#include "cli/args.hpp"
#include "core/clock.hpp"
#include "core/result.hpp"

namespace latchkey::cli {

/// On one admin-socket connection (signed in first with --as): asks latchkeyd to send a
/// verification code to the account's bound phone and prints its answer (not with --code);
/// then (not with --send-only) reads the code and root's new password, the code at
/// "Verification code: " and the password at "New password: " and "Retype new password: "
/// without echo on a terminal, or as two lines of standard input, and sends them.
core::Status run_root_recover(const Invocation& inv, std::ostream& out, core::TimePoint now);

} // namespace latchkey::cli
