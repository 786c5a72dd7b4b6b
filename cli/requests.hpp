// SPDX-License-Identifier: Apache-2.0
// The request each latchkeyctl command sends, built from its parsed command line: one builder a
// command (or a pair of commands that differ in one flag), named in the command's table row.
#pragma once

#include "cli/args.hpp"
#include "cli/command_table.hpp"
#include "core/clock.hpp"
#include "proto/messages.hpp"

namespace latchkey::cli {

/// `user set-password`'s mode: --keep, --generate, else a custom (typed) password.
proto::PasswordMode password_mode(const ParsedCommand& cmd);

/// Each is a BuildRequestFn: `cmd` comes from parse_args(), so its operands and option values
/// have the forms its row asks for; `typed` is used by the commands that ask for something.
namespace requests {

BuildRequestFn directory_init;
BuildRequestFn directory_show;
BuildRequestFn root_access_enable;
BuildRequestFn root_access_disable;
BuildRequestFn root_access_show;
BuildRequestFn account_create;
BuildRequestFn account_list;
BuildRequestFn account_show;
BuildRequestFn alias_add;
BuildRequestFn alias_remove;
BuildRequestFn phone_bind;
BuildRequestFn phone_verify;
BuildRequestFn account_switch;
BuildRequestFn root_recover;
BuildRequestFn root_remove_credentials;
BuildRequestFn root_allow_recovery;
BuildRequestFn account_close;
BuildRequestFn account_restore_admin;
BuildRequestFn account_clear_networks;
BuildRequestFn user_create;
BuildRequestFn user_list;
BuildRequestFn user_show;
BuildRequestFn user_delete;
BuildRequestFn user_enable_logon;
BuildRequestFn user_disable_logon;
BuildRequestFn user_set_email;
BuildRequestFn user_set_shell;
BuildRequestFn user_set_home;
BuildRequestFn user_set_password;
BuildRequestFn user_unlock;
BuildRequestFn role_grant;
BuildRequestFn role_revoke;
BuildRequestFn role_list;
BuildRequestFn policy_show;
BuildRequestFn policy_set;
BuildRequestFn settings_show;
BuildRequestFn settings_set;
BuildRequestFn session_list;
BuildRequestFn session_end;
BuildRequestFn audit;
BuildRequestFn mfa_enroll;
BuildRequestFn mfa_list;
BuildRequestFn mfa_remove;
BuildRequestFn mfa_recovery_codes;
BuildRequestFn oidc_client_add;
BuildRequestFn oidc_client_list;
BuildRequestFn oidc_client_show;
BuildRequestFn oidc_client_remove;
BuildRequestFn oidc_rotate_keys;
BuildRequestFn accesskey_create;
BuildRequestFn accesskey_list;
BuildRequestFn accesskey_enable;
BuildRequestFn accesskey_disable;
BuildRequestFn accesskey_delete;
BuildRequestFn passkey_list;
BuildRequestFn passkey_remove;
BuildRequestFn passkey_add_key;

} // namespace requests

} // namespace latchkey::cli
