// SPDX-License-Identifier: Apache-2.0
// What latchkeyctl commands ask before their request: a confirmation, a password, a code.
#pragma once

#include "cli/args.hpp"
#include "cli/command_table.hpp"
#include "core/result.hpp"

namespace latchkey::cli {

/// Each is an AskPersonFn, named in its command's row; `cmd` comes from parse_args().
namespace questions {

/// `user delete` without --yes: "Delete user alice? [y/N] " on a terminal; without one, or
/// unless the answer is y or yes, failed_precondition (nothing is sent). Asks nothing with --yes.
AskPersonFn confirm_user_delete;

/// `user set-password` in custom mode: the new password, typed twice on a terminal (once, still
/// without echo, with --stdin), or one line of standard input. Asks nothing in the other modes.
AskPersonFn new_user_password;

/// `account phone verify` without CODE: the code, without echo on a terminal, or one line of
/// standard input. Asks nothing when CODE is given.
AskPersonFn phone_code;

} // namespace questions

} // namespace latchkey::cli
