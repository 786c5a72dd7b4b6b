// SPDX-License-Identifier: Apache-2.0
// `latchkeyctl --as USER`: signing an admin-socket connection in as a directory user.
#pragma once

#include <functional>
#include <ostream>
#include <string>

#include "cli/args.hpp"
#include "core/result.hpp"
#include "core/secret.hpp"
#include "proto/client.hpp"
#include "proto/messages.hpp"

namespace latchkey::cli {

/// The service a sign-in names in its AuthBegin.
inline constexpr std::string_view sign_in_service = "latchkeyctl";

/// Where a sign-in meets the person: the lines latchkeyd shows, and the answers to its prompts.
struct SignInIo {
    std::ostream* info = nullptr;  ///< info lines (and the verdict's message on success)
    std::ostream* error = nullptr; ///< error lines
    /// The answer to an echo_off or echo_on prompt.
    std::function<core::Result<core::Secret>(const proto::Prompt&)> answer;
};

/// The person's answer to a prompt: on a terminal typed without echo (echo_off, read_password)
/// or echoed (echo_on, ask); otherwise the next line of standard input.
core::Result<core::Secret> answer_from_person(const proto::Prompt& prompt);

/// Sends AuthBegin{service "latchkeyctl", user} on `client` and drives the dialogue: shows each
/// message (secret ones too: an enrolment's key is for the person), answers each prompt with
/// AuthAnswer (an info or error prompt is shown and answered empty, as PAM does), until the
/// verdict. Success: the requests sent next on this connection run as `user`, with its roles.
/// Any other outcome is a permission_denied error carrying the verdict's message; a Failure
/// reply is its error.
core::Status sign_in(proto::Client& client, const std::string& user, const SignInIo& io);

/// Connects to the admin socket (see resolve_socket) and, with `--as USER`, signs the
/// connection in, answering from the person: info lines go to `out`, or to stderr with --json
/// (stdout then holds only the replies' JSON); error lines to stderr.
core::Result<proto::Client> connect_admin(const Invocation& inv, std::ostream& out);

} // namespace latchkey::cli
