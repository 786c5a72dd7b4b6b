// SPDX-License-Identifier: Apache-2.0
// latchkeyctl's command line: argv parsed against the command table into a description of a run.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "cli/command_table.hpp"
// A parse ends in help or a usage error: whoever parses renders them too.
#include "cli/help.hpp"

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

/// `--socket`, else `env` (the value of $LATCHKEY_ADMIN_SOCKET, may be null or empty), else
/// the default admin socket.
std::string resolve_socket(const GlobalOptions& globals, const char* env);

/// The same for the PAM socket (self-service commands): `--socket`, $LATCHKEY_PAM_SOCKET,
/// the default PAM socket.
std::string resolve_pam_socket(const GlobalOptions& globals, const char* env);

} // namespace latchkey::cli
