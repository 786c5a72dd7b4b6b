// SPDX-License-Identifier: Apache-2.0
// latchkeyctl's command line: the commands it knows, and parsing argv into a description of one.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace latchkey::cli {

inline constexpr std::string_view default_admin_socket = "/run/latchkey/admin.sock";
inline constexpr std::string_view admin_socket_env = "LATCHKEY_ADMIN_SOCKET";
inline constexpr std::string_view default_pam_socket = "/run/latchkey/pam.sock";
inline constexpr std::string_view pam_socket_env = "LATCHKEY_PAM_SOCKET";
inline constexpr std::chrono::seconds default_timeout{30};
inline constexpr std::chrono::seconds max_timeout{24 * 3600};
/// The most events `audit --limit N` asks for; the daemon clamps to the same bound.
inline constexpr std::uint32_t max_audit_limit = 10'000;
/// The longest window `account root allow-recovery --for DURATION` opens: seven days.
inline constexpr std::int64_t max_recovery_window_s = 7 * 86'400;

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

struct CommandSpec {
    CommandId id;
    std::string_view path; ///< the words naming it: "account alias add"
    std::string_view summary;
    std::vector<OperandSpec> operands;
    std::vector<OptionSpec> options;
};

/// Every command, in the order `latchkeyctl --help` lists them.
const std::vector<CommandSpec>& command_specs();

const CommandSpec& spec_of(CommandId id);

/// Who may run a command on the admin socket (latchkeyd decides; this is what help says).
std::string_view who_may_run(CommandId id) noexcept;

/// Options given before the command (or among its options).
struct GlobalOptions {
    std::optional<std::string> socket;
    bool json = false;
    std::chrono::seconds timeout = default_timeout;
    /// `--as USER`: sign the admin-socket connection in as this directory user first.
    std::optional<std::string> as;
};

/// A command with its operands and options, checked against its spec.
struct ParsedCommand {
    CommandId id = CommandId::directory_show;
    std::vector<std::string> operands;
    /// Options given, by name ("--account"); a flag maps to "".
    std::map<std::string, std::string, std::less<>> options;

    [[nodiscard]] bool has(std::string_view option) const;
    [[nodiscard]] std::optional<std::string> value(std::string_view option) const;
};

enum class Action : std::uint8_t { run, help, version };

struct Invocation {
    GlobalOptions globals;
    Action action = Action::run;
    /// For Action::help: "" (latchkeyctl itself), a group ("user") or a command ("user create").
    std::string help_topic;
    /// For Action::run.
    ParsedCommand command;
};

/// The command line was wrong: exit status 2.
struct UsageError {
    std::string message; ///< names the problem: "missing USER"
    std::string topic;   ///< the help topic that would have helped ("" for latchkeyctl itself)
};

using ParseResult = std::variant<Invocation, UsageError>;

/// Parses the arguments after argv[0]. Never throws for bad input; reports a UsageError.
ParseResult parse_args(const std::vector<std::string>& args);

/// The N of `audit --limit N`: a whole number from 1 to max_audit_limit, else nullopt.
std::optional<std::uint32_t> parse_limit(std::string_view text);

/// The DURATION of `account root allow-recovery --for`, in seconds: 30m, 2h, 1d, more than
/// zero and at most max_recovery_window_s; else nullopt.
std::optional<std::int64_t> parse_recovery_window(std::string_view text);

/// The one-line hint printed after a usage error: "Run 'latchkeyctl user create --help' ...".
std::string usage_hint(const UsageError& e);

/// The help text of a topic (see Invocation::help_topic).
std::string help_text(std::string_view topic);

std::string version_text();

/// `--socket`, else `env` (the value of $LATCHKEY_ADMIN_SOCKET, may be null or empty), else
/// the default admin socket.
std::string resolve_socket(const GlobalOptions& globals, const char* env);

/// The same for the PAM socket (self-service commands): `--socket`, $LATCHKEY_PAM_SOCKET,
/// the default PAM socket.
std::string resolve_pam_socket(const GlobalOptions& globals, const char* env);

} // namespace latchkey::cli
