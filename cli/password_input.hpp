// SPDX-License-Identifier: Apache-2.0
// Reading a password, a code (or a yes/no answer) from the person at the terminal, or a line
// from stdin.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "core/result.hpp"
#include "core/secret.hpp"

namespace latchkey::cli {

/// Longest password (or answer) accepted, in bytes.
inline constexpr std::size_t max_input_size = 1024;

/// Whether standard input is a terminal.
bool stdin_is_terminal() noexcept;

/// Writes `prompt` to the terminal and reads one line from standard input (a terminal) with echo
/// off. The terminal's settings are restored before this returns, whatever happens: on error, on
/// SIGINT, SIGTERM, SIGHUP or SIGQUIT (which then take their usual effect), and while suspended
/// by Ctrl-Z (the prompt is repeated on resume). Errors: io_failed (not a terminal, end of input,
/// a read error), invalid_argument (longer than max_input_size), failed_precondition
/// (interrupted by a signal the process ignores).
core::Result<core::Secret> read_password(std::string_view prompt);

/// Reads one line from standard input without prompting, for scripts: the line ends at a newline
/// or at end of input, and a trailing "\r" is dropped. Errors: io_failed (no input at all, a read
/// error), invalid_argument (longer than max_input_size).
core::Result<core::Secret> read_secret_line();

/// Writes `prompt` to the terminal and reads one line of answer from standard input, echoed.
core::Result<std::string> ask(std::string_view prompt);

/// A new password: on a terminal typed without echo at "New password: " and, with `retype`,
/// again at "Retype new password: " (the two must match); otherwise one line of standard
/// input. Errors: those of the reads, and invalid_argument for two passwords that differ or
/// an empty one ("...; nothing was changed").
core::Result<core::Secret> read_new_password(bool retype);

/// A verification code: on a terminal typed without echo at "Verification code: ", otherwise
/// one line of standard input. Errors: those of the reads ("no verification code on standard
/// input" when it has ended), and invalid_argument for an empty code.
core::Result<core::Secret> read_verification_code();

} // namespace latchkey::cli
