// SPDX-License-Identifier: Apache-2.0
// latchkeyctl's commands: the request each one sends, and one run from arguments to output.
#pragma once

#include <optional>
#include <ostream>

#include "cli/args.hpp"
#include "core/clock.hpp"
#include "core/result.hpp"
#include "core/secret.hpp"
#include "proto/messages.hpp"

namespace latchkey::cli {

/// The request a parsed command sends. `now` anchors relative times (`audit --since -1h`).
/// `password` is what the person typed for the command: the new password of `user
/// set-password` in custom mode, the caller's password of `mfa enroll` without USER, root's new
/// password of `account root recover`. `code` is a verification code read for `account phone
/// verify` without CODE and for `account root recover`; a RootRecover carries code and password
/// only when both are given (and never with --send-only), so without them it asks for a code
/// to be sent. Both are ignored by the other commands. `cmd` must come from parse_args().
proto::Request build_request(const ParsedCommand& cmd,
                             core::TimePoint now,
                             std::optional<core::Secret> password = std::nullopt,
                             std::optional<core::Secret> code = std::nullopt);

/// The daemon's Failure as an error, for the one line main prints.
core::Error to_error(const proto::Failure& f);

/// Writes a reply: as JSON with --json (a Failure too), else for people; a Failure is then the
/// error returned.
core::Status show_reply(const proto::Response& reply, bool json, std::ostream& out);

/// Runs an invocation: writes help or the version, or performs the command: asks what it must
/// ask (confirmation, a new password, a code) before sending its request (before connecting,
/// unless --as signs in first: its answers come first), calls latchkeyd on the admin socket and
/// renders the reply on `out`. `now` is the time relative arguments count back from. Returns the
/// failure to report; with --json a Failure reply is also written to `out` as JSON.
core::Status run(const Invocation& inv, std::ostream& out, core::TimePoint now);

} // namespace latchkey::cli
