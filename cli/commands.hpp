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
/// `password` is the new password of `user set-password` in custom mode and is ignored
/// otherwise. `cmd` must come from parse_args().
proto::Request build_request(const ParsedCommand& cmd,
                             core::TimePoint now,
                             std::optional<core::Secret> password = std::nullopt);

/// The daemon's Failure as an error, for the one line main prints.
core::Error to_error(const proto::Failure& f);

/// Runs an invocation: writes help or the version, or performs the command: asks what it must
/// ask (confirmation, a new password) before connecting, calls latchkeyd on the admin socket and
/// renders the reply on `out`. `now` is the time relative arguments count back from. Returns the
/// failure to report; with --json a Failure reply is also written to `out` as JSON.
core::Status run(const Invocation& inv, std::ostream& out, core::TimePoint now);

} // namespace latchkey::cli
