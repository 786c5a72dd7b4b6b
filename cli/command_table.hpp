// SPDX-License-Identifier: Apache-2.0
// The table of latchkeyctl's commands: one row each, with everything the command line knows of it.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.hpp"
#include "core/result.hpp"
#include "core/secret.hpp"
#include "proto/messages.hpp"

namespace latchkey::cli {

struct GlobalOptions;
struct Invocation;
struct ParsedCommand;

enum class CommandId : std::uint8_t {
    directory_init,
    directory_show,
    directory_root_access_enable,
    directory_root_access_disable,
    directory_root_access_show,
    account_create,
    account_list,
    account_show,
    account_alias_add,
    account_alias_remove,
    account_phone_bind,
    account_phone_verify,
    account_switch,
    account_root_recover,
    account_root_remove_credentials,
    account_root_allow_recovery,
    account_close,
    account_restore_admin,
    account_clear_logon_networks,
    user_create,
    user_list,
    user_show,
    user_delete,
    user_enable_logon,
    user_disable_logon,
    user_set_email,
    user_set_shell,
    user_set_home,
    user_set_password,
    user_unlock,
    role_grant,
    role_revoke,
    role_list,
    policy_show,
    policy_set,
    settings_show,
    settings_set,
    session_list,
    session_end,
    audit,
    mfa_enroll,
    mfa_list,
    mfa_remove,
    mfa_recovery_codes,
    oidc_client_add,
    oidc_client_list,
    oidc_client_show,
    oidc_client_remove,
    oidc_rotate_keys,
    accesskey_create,
    accesskey_list,
    accesskey_enable,
    accesskey_disable,
    accesskey_delete,
    passkey_list,
    passkey_remove,
    passkey_add_key,
};

/// One option of a command. Options sharing a non-zero `group` exclude each other.
struct OptionSpec {
    std::string_view name;    ///< "--account"
    std::string_view metavar; ///< "A"; empty for a flag
    std::string_view help;
    int group = 0;
    bool required = false;
    std::string_view choices; ///< "resource|cloud"; empty accepts any non-empty value
};

/// One operand. A name ending in "..." takes one or more values; a name in brackets ("[USER]")
/// may be left out, and only the last operand may be.
struct OperandSpec {
    std::string_view name; ///< "USER", "KEY=VALUE...", "[USER]"
    std::string_view help;
};

/// Who may run a command on the admin socket (latchkeyd decides; this is what help says). It
/// has no default, so a row of the table that leaves it out does not compile.
struct WhoMayRun {
    explicit constexpr WhoMayRun(std::string_view t) noexcept
        : text(t)
    {
    }

    std::string_view text;
};

/// What the person gives a command before its request goes out: the new password of `user
/// set-password` in custom mode, the caller's password of `mfa enroll` without USER, root's new
/// password and the code of `account root recover`, the code of `account phone verify`.
struct Typed {
    std::optional<core::Secret> password;
    std::optional<core::Secret> code;
};

/// The request a command sends; `now` anchors relative times (`audit --since -1h`). A function
/// type, so that cli/requests.hpp declares each builder in a line.
using BuildRequestFn = proto::Request(const ParsedCommand& cmd, core::TimePoint now, Typed typed);

/// A rule across a command's operands and options: the usage error's message, or nullopt.
using CheckCommandFn = std::optional<std::string>(const ParsedCommand& cmd,
                                                  const GlobalOptions& globals);

/// Asks the person what the command needs before its request (and before connecting).
using AskPersonFn = core::Result<Typed>(const ParsedCommand& cmd);

/// A command whose run is more than one request on the admin socket.
using RunCommandFn = core::Status(const Invocation& inv, std::ostream& out, core::TimePoint now);

/// One row of the table: a command, its help, who may run it, what it takes and the request it
/// sends. `who` and `build` have no default: every row says them. A new command is a new row
/// (and a CommandId, and a builder in cli/requests.cpp unless an existing one fits).
struct CommandSpec {
    CommandId id;
    std::string_view path; ///< the words naming it: "account alias add"
    std::string_view summary;
    WhoMayRun who;
    std::vector<OperandSpec> operands = {};
    std::vector<OptionSpec> options = {};
    BuildRequestFn* build;
    CheckCommandFn* check = nullptr; ///< none: its operand and option specs say it all
    AskPersonFn* ask = nullptr;      ///< none: it asks the person nothing
    RunCommandFn* run = nullptr;     ///< none: ask, send build()'s request, show the reply
};

/// The words before a command's own words, with what they are about.
struct GroupSpec {
    std::string_view path; ///< "account alias"
    std::string_view summary;
};

/// Every command, in the order `latchkeyctl --help` lists them.
const std::vector<CommandSpec>& command_specs();

/// Every group of commands.
std::span<const GroupSpec> group_specs() noexcept;

const CommandSpec& spec_of(CommandId id);

/// The command named by `path` ("user create"), or null.
const CommandSpec* find_command(std::string_view path);

/// Whether `path` names a group of commands ("account root").
bool is_group(std::string_view path) noexcept;

/// Who may run a command on the admin socket (latchkeyd decides; this is what help says).
std::string_view who_may_run(CommandId id);

} // namespace latchkey::cli
