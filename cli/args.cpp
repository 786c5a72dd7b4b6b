// SPDX-License-Identifier: Apache-2.0
// The command table of latchkeyctl, argv parsing against it, and the help generated from it.
#include "cli/args.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <utility>

#include "cli/time_arg.hpp"
#include "proto/messages.hpp"

#ifndef LATCHKEY_VERSION
#define LATCHKEY_VERSION "0.1.0"
#endif

namespace latchkey::cli {

namespace {

constexpr std::string_view program = "latchkeyctl";

// Exclusive option groups of `user set-password`, and the steps of `account root recover`.
constexpr int password_mode_group = 1;
constexpr int require_change_group = 2;
constexpr int recover_step_group = 3;

/// The table below names options through these, so every field is set on purpose.
constexpr OptionSpec flag(std::string_view name, std::string_view help, int group = 0)
{
    return {name, "", help, group, false, ""};
}

constexpr OptionSpec valued(std::string_view name, std::string_view metavar, std::string_view help)
{
    return {name, metavar, help, 0, false, ""};
}

constexpr OptionSpec
required(std::string_view name, std::string_view metavar, std::string_view help)
{
    return {name, metavar, help, 0, true, ""};
}

constexpr OptionSpec choice(std::string_view name,
                            std::string_view metavar,
                            std::string_view help,
                            std::string_view choices)
{
    return {name, metavar, help, 0, false, choices};
}

constexpr OptionSpec required_choice(std::string_view name,
                                     std::string_view metavar,
                                     std::string_view help,
                                     std::string_view choices)
{
    return {name, metavar, help, 0, true, choices};
}

/// The two roles `role grant` and `role revoke` take.
constexpr std::string_view role_choices = "directory-admin|account-admin";

constexpr OptionSpec account_option =
    valued("--account", "A", "the user's account (default: the host's account)");
constexpr OptionSpec policy_account_option =
    valued("--account", "A", "the account (default: the host's account)");

/// The words before a command's own words, with what they are about.
struct Group {
    std::string_view path;
    std::string_view summary;
};

constexpr std::array groups{
    Group{"directory", "The directory and its management account."},
    Group{"directory root-access",
          "Centralized root access: directory administrators run the root-only tasks of member "
          "accounts."},
    Group{"account", "Member accounts of the directory: logon domains, phone, kind, root user, "
                     "root-only tasks."},
    Group{"account alias", "Domain aliases of an account: further domains its users log on with."},
    Group{"account phone",
          "The mobile phone bound to an account: verification codes for root recovery are sent "
          "to it."},
    Group{"account root", "The root user of a cloud account: recovery and credentials."},
    Group{"user", "Users of an account: creation, console logon and passwords."},
    Group{"role", "Administrators: the directory-admin and account-admin roles of users."},
    Group{"policy", "An account's password policy."},
    Group{"settings", "An account's security settings."},
    Group{"session", "Open sessions: logons through PAM, and browser sessions of the sign-in pages."},
    Group{"mfa", "Multi-factor authentication: TOTP devices and recovery codes."},
    Group{"oidc", "The OpenID Connect provider: its signing keys."},
    Group{"oidc client", "Relying parties of the OpenID Connect provider."},
    Group{"accesskey", "Access keys: a user's credentials for programs (client_credentials)."},
};

struct GlobalSpec {
    std::string_view names;
    std::string_view help;
};

constexpr std::array global_specs{
    GlobalSpec{"--socket PATH", "the admin socket (default: $LATCHKEY_ADMIN_SOCKET, else "
                                "/run/latchkey/admin.sock)"},
    GlobalSpec{"--json", "print the daemon's reply as one line of JSON"},
    GlobalSpec{"--timeout SECONDS", "give up on latchkeyd after SECONDS (default: 30)"},
    GlobalSpec{"--as USER@DOMAIN", "sign in as this directory user (password, MFA code) and run the "
                            "command with its roles only"},
    GlobalSpec{"-h, --help", "show this help; 'COMMAND --help' shows a command's"},
    GlobalSpec{"--version", "show the version"},
};

bool is_option(std::string_view a)
{
    return a.size() > 1 && a.front() == '-';
}

bool is_help(std::string_view a)
{
    return a == "--help" || a == "-h";
}

/// "--name=value" → {"--name", "value"}; "--name" → {"--name", nullopt}.
std::pair<std::string, std::optional<std::string>> split_option(std::string_view a)
{
    if (a.starts_with("--")) {
        const auto eq = a.find('=');
        if (eq != std::string_view::npos)
            return {std::string(a.substr(0, eq)), std::string(a.substr(eq + 1))};
    }
    return {std::string(a), std::nullopt};
}

std::string quoted(std::string_view s)
{
    return "'" + std::string(s) + "'";
}

/// "a|b|c" → "a, b or c".
std::string spoken_choices(std::string_view choices)
{
    std::vector<std::string_view> parts;
    for (std::size_t start = 0;;) {
        const auto bar = choices.find('|', start);
        parts.push_back(choices.substr(start, bar - start));
        if (bar == std::string_view::npos)
            break;
        start = bar + 1;
    }
    std::string out;
    for (std::size_t k = 0; k < parts.size(); ++k) {
        if (k > 0)
            out += k + 1 == parts.size() ? " or " : ", ";
        out += parts[k];
    }
    return out;
}

bool in_choices(std::string_view choices, std::string_view v)
{
    for (std::size_t start = 0;;) {
        const auto bar = choices.find('|', start);
        if (choices.substr(start, bar - start) == v)
            return true;
        if (bar == std::string_view::npos)
            return false;
        start = bar + 1;
    }
}

bool is_variadic(const OperandSpec& o)
{
    return o.name.ends_with("...");
}

bool is_optional(const OperandSpec& o)
{
    return o.name.starts_with('[') && o.name.ends_with(']');
}

/// "USER" for "USER", "USER..." and "[USER]".
std::string_view base_name(const OperandSpec& o)
{
    std::string_view name = o.name;
    if (is_optional(o))
        name = name.substr(1, name.size() - 2);
    if (name.ends_with("..."))
        name.remove_suffix(3);
    return name;
}

const CommandSpec* find_command(std::string_view path)
{
    for (const auto& c : command_specs())
        if (c.path == path)
            return &c;
    return nullptr;
}

bool is_group(std::string_view path)
{
    return std::any_of(groups.begin(), groups.end(),
                       [&](const Group& g) { return g.path == path; });
}

/// Two aligned columns, as help lists them.
std::string two_columns(const std::vector<std::pair<std::string, std::string>>& rows)
{
    std::size_t width = 0;
    for (const auto& [left, right] : rows)
        width = std::max(width, left.size());
    std::string out;
    for (const auto& [left, right] : rows) {
        out += "  " + left;
        out.append(width - left.size() + 2, ' ');
        out += right + "\n";
    }
    return out;
}

/// "latchkeyctl user set-password USER [--account A] ...", wrapped at 80 columns.
std::string synopsis(const CommandSpec& c)
{
    std::vector<std::string> items;
    for (const auto& o : c.operands)
        items.emplace_back(o.name);
    for (std::size_t k = 0; k < c.options.size(); ++k) {
        const auto& o = c.options[k];
        auto one = [](const OptionSpec& s) {
            std::string t(s.name);
            if (!s.choices.empty())
                t += " " + std::string(s.choices);
            else if (!s.metavar.empty())
                t += " " + std::string(s.metavar);
            return t;
        };
        if (o.group != 0) {
            if (k > 0 && c.options[k - 1].group == o.group)
                continue; // already part of the bracket
            std::string t = "[" + one(o);
            for (std::size_t m = k + 1; m < c.options.size() && c.options[m].group == o.group; ++m)
                t += " | " + one(c.options[m]);
            items.push_back(t + "]");
        } else if (o.required) {
            items.push_back(one(o));
        } else {
            items.push_back("[" + one(o) + "]");
        }
    }
    const std::string head = "Usage: " + std::string(program) + " " + std::string(c.path);
    std::string out = head;
    std::size_t line = out.size();
    for (const auto& item : items) {
        if (line + 1 + item.size() > 80) {
            out += "\n" + std::string(head.size(), ' ');
            line = head.size();
        }
        out += " " + item;
        line += 1 + item.size();
    }
    return out + "\n";
}

constexpr std::string_view dir_admins = "directory administrators (users of the management account "
                                        "with the directory-admin role, and root on the admin socket)";
constexpr std::string_view account_admins =
    "the account's administrators (its account-admin users, and root of a cloud account) and "
    "directory administrators";
constexpr std::string_view root_task =
    "the account's root user (--as root@DOMAIN); directory administrators too while centralized "
    "root access is enabled";

} // namespace

std::string_view who_may_run(CommandId id) noexcept
{
    // A switch with no default: a new command does not build until it says who may run it.
    switch (id) {
    case CommandId::directory_init: return "root on the admin socket, once";
    case CommandId::directory_show:
    case CommandId::account_list:
    case CommandId::directory_root_access_show: return "any administrator";
    case CommandId::role_list:
        return "any administrator; an account administrator sees its own account's roles";
    case CommandId::directory_root_access_enable:
    case CommandId::directory_root_access_disable:
    case CommandId::account_create:
    case CommandId::account_alias_add:
    case CommandId::account_alias_remove:
    case CommandId::account_switch:
    case CommandId::account_root_remove_credentials:
    case CommandId::account_root_allow_recovery:
    case CommandId::audit:
    case CommandId::oidc_client_add:
    case CommandId::oidc_client_list:
    case CommandId::oidc_client_show:
    case CommandId::oidc_client_remove:
    case CommandId::oidc_rotate_keys: return dir_admins;
    case CommandId::account_phone_bind:
    case CommandId::account_phone_verify:
        return "directory administrators; for a cloud account also its root user";
    case CommandId::account_close:
    case CommandId::account_restore_admin:
    case CommandId::account_clear_logon_networks: return root_task;
    case CommandId::role_grant:
    case CommandId::role_revoke:
        return "directory-admin: directory administrators; account-admin: the account's "
               "administrators and directory administrators";
    case CommandId::account_show:
    case CommandId::account_root_recover:
    case CommandId::user_create:
    case CommandId::user_list:
    case CommandId::user_show:
    case CommandId::policy_show:
    case CommandId::policy_set:
    case CommandId::settings_show:
    case CommandId::settings_set:
    case CommandId::session_list:
    case CommandId::session_end:
    case CommandId::mfa_list:
    case CommandId::accesskey_list: return account_admins;
    case CommandId::user_delete:
    case CommandId::user_enable_logon:
    case CommandId::user_disable_logon:
    case CommandId::user_set_email:
    case CommandId::user_set_password:
    case CommandId::user_unlock:
    case CommandId::mfa_enroll:
    case CommandId::mfa_remove:
    case CommandId::mfa_recovery_codes:
    case CommandId::accesskey_create:
    case CommandId::accesskey_enable:
    case CommandId::accesskey_disable:
    case CommandId::accesskey_delete:
        return "the user's account administrators and directory administrators; for the root "
               "user, root itself";
    }
    return "directory administrators";
}

namespace {

std::string command_help(const CommandSpec& c)
{
    std::string out = synopsis(c) + "\n" + std::string(c.summary) + "\n" + "\nWho may run it: " +
                      std::string(who_may_run(c.id)) + ".\n";
    if (!c.operands.empty()) {
        std::vector<std::pair<std::string, std::string>> rows;
        for (const auto& o : c.operands)
            rows.emplace_back(o.name, o.help);
        out += "\nArguments:\n" + two_columns(rows);
    }
    std::vector<std::pair<std::string, std::string>> rows;
    for (const auto& o : c.options) {
        std::string left(o.name);
        if (!o.metavar.empty())
            left += " " + std::string(o.metavar);
        rows.emplace_back(left, o.help);
    }
    rows.emplace_back("-h, --help", "show this help");
    out += "\nOptions:\n" + two_columns(rows);
    out += "\nGlobal options (--socket, --json, --timeout, --as): see '" + std::string(program) +
           " --help'.\n";
    return out;
}

std::string command_list(std::string_view prefix)
{
    std::vector<std::pair<std::string, std::string>> rows;
    for (const auto& c : command_specs())
        if (prefix.empty() || c.path.starts_with(std::string(prefix) + " "))
            rows.emplace_back(c.path, c.summary);
    return two_columns(rows);
}

std::string general_help()
{
    std::string out = "Usage: " + std::string(program) + " [OPTIONS] COMMAND [ARGUMENTS...]\n\n" +
                      "Administers latchkeyd, the latchkey authentication daemon, over its admin "
                      "socket.\n\nOptions:\n";
    std::vector<std::pair<std::string, std::string>> rows;
    rows.reserve(global_specs.size());
    for (const auto& g : global_specs)
        rows.emplace_back(g.names, g.help);
    out += two_columns(rows);
    out += "\nCommands:\n" + command_list("");
    out += "\nRun '" + std::string(program) + " COMMAND --help' for its arguments and options.\n";
    return out;
}

std::string group_help(std::string_view path)
{
    std::string_view summary;
    for (const auto& g : groups)
        if (g.path == path)
            summary = g.summary;
    return "Usage: " + std::string(program) + " " + std::string(path) +
           " SUBCOMMAND [ARGUMENTS...]\n\n" + std::string(summary) + "\n\nCommands:\n" +
           command_list(path) + "\nRun '" + std::string(program) + " " + std::string(path) +
           " SUBCOMMAND --help' for a command's arguments and options.\n";
}

/// NAME or NAME@DOMAIN: not empty, at most one '@', with something on both sides of it.
bool is_user_name(std::string_view u)
{
    const auto at = u.find('@');
    return !u.empty() && at != 0 && at + 1 != u.size() &&
           (at == std::string_view::npos || u.find('@', at + 1) == std::string_view::npos);
}

enum class GlobalTake : std::uint8_t { taken, not_global };

/// Applies a global option at args[i] (advancing i past its value). Errors are usage errors.
std::variant<GlobalTake, UsageError> take_global(const std::string& name,
                                                 const std::optional<std::string>& inline_value,
                                                 const std::vector<std::string>& args,
                                                 std::size_t& i,
                                                 GlobalOptions& globals,
                                                 std::string_view topic)
{
    if (name == "--json") {
        if (inline_value)
            return UsageError{"option '--json' takes no value", std::string(topic)};
        globals.json = true;
        return GlobalTake::taken;
    }
    if (name != "--socket" && name != "--timeout" && name != "--as")
        return GlobalTake::not_global;

    std::string value;
    if (inline_value) {
        value = *inline_value;
    } else if (i + 1 < args.size()) {
        value = args[++i];
    } else {
        return UsageError{"missing value for " + quoted(name), std::string(topic)};
    }
    if (value.empty())
        return UsageError{"empty value for " + quoted(name), std::string(topic)};

    if (name == "--socket") {
        globals.socket = value;
        return GlobalTake::taken;
    }
    if (name == "--as") {
        if (!is_user_name(value) || value.find('@') == std::string_view::npos)
            return UsageError{"invalid value " + quoted(value) +
                                  " for '--as': expected a logon name, NAME@DOMAIN",
                              std::string(topic)};
        globals.as = value;
        return GlobalTake::taken;
    }
    long long seconds = 0;
    const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
    if (ec != std::errc{} || end != value.data() + value.size() || seconds < 1 ||
        seconds > max_timeout.count())
        return UsageError{"invalid value " + quoted(value) +
                              " for '--timeout': expected whole seconds from 1 to " +
                              std::to_string(max_timeout.count()),
                          std::string(topic)};
    globals.timeout = std::chrono::seconds{seconds};
    return GlobalTake::taken;
}

std::optional<std::string> check_user(std::string_view u)
{
    if (!is_user_name(u))
        return "invalid USER " + quoted(u) + ": expected NAME or NAME@DOMAIN";
    return std::nullopt;
}

std::optional<std::string> check_operand(const OperandSpec& spec, std::string_view v)
{
    const auto name = base_name(spec);
    if (name == "USER")
        return check_user(v);
    if (name == "ROLE" && !in_choices(role_choices, v))
        return "invalid ROLE " + quoted(v) + ": expected " + spoken_choices(role_choices);
    if (name == "KEY=VALUE") {
        const auto eq = v.find('=');
        if (eq == std::string_view::npos || eq == 0)
            return "invalid assignment " + quoted(v) + ": expected KEY=VALUE";
        return std::nullopt;
    }
    if (v.empty())
        return "empty " + std::string(name);
    return std::nullopt;
}

/// Option values with a form of their own, checked here so that a typo is a usage error rather
/// than a refusal from latchkeyd.
std::optional<std::string> check_option_value(const OptionSpec& spec, std::string_view v)
{
    const std::string problem = "invalid value " + quoted(v) + " for " + quoted(spec.name);
    if (spec.name == "--since" && !parse_time_arg(v))
        return problem + ": expected " + std::string(time_arg_forms);
    if (spec.name == "--limit" && !parse_limit(v))
        return problem + ": expected a whole number from 1 to " + std::to_string(max_audit_limit);
    if (spec.name == "--for" && !parse_recovery_window(v))
        return problem + ": expected minutes, hours or days (30m, 2h, 1d), more than 0 and at "
                         "most 7 days";
    return std::nullopt;
}

/// Parses a command's own arguments, args[i...], into inv.command.
std::optional<UsageError> parse_command(const CommandSpec& c,
                                        const std::vector<std::string>& args,
                                        std::size_t i,
                                        Invocation& inv)
{
    const std::string topic(c.path);
    auto error = [&](std::string message) { return UsageError{std::move(message), topic}; };
    ParsedCommand& cmd = inv.command;
    cmd.id = c.id;

    bool only_operands = false;
    for (; i < args.size(); ++i) {
        const std::string& a = args[i];
        if (only_operands || !is_option(a)) {
            cmd.operands.push_back(a);
            continue;
        }
        if (a == "--") {
            only_operands = true;
            continue;
        }
        const auto [name, inline_value] = split_option(a);
        const auto spec =
            std::find_if(c.options.begin(), c.options.end(),
                         [&name = name](const OptionSpec& o) { return o.name == name; });
        if (spec == c.options.end()) {
            auto taken = take_global(name, inline_value, args, i, inv.globals, topic);
            if (auto* e = std::get_if<UsageError>(&taken))
                return std::move(*e);
            if (std::get<GlobalTake>(taken) == GlobalTake::taken)
                continue;
            return error("unknown option " + quoted(name) + " for " + quoted(c.path));
        }
        if (spec->metavar.empty()) {
            if (inline_value)
                return error("option " + quoted(name) + " takes no value");
            cmd.options[name] = "";
            continue;
        }
        std::string value;
        if (inline_value)
            value = *inline_value;
        else if (i + 1 < args.size())
            value = args[++i];
        else
            return error("missing value for " + quoted(name));
        if (value.empty())
            return error("empty value for " + quoted(name));
        if (!spec->choices.empty() && !in_choices(spec->choices, value))
            return error("invalid value " + quoted(value) + " for " + quoted(name) + ": expected " +
                         spoken_choices(spec->choices));
        if (auto problem = check_option_value(*spec, value))
            return error(std::move(*problem));
        cmd.options[name] = value;
    }

    for (const auto& o : c.options) {
        if (o.required && !cmd.has(o.name))
            return error("missing option " + quoted(o.name));
        if (o.group == 0 || !cmd.has(o.name))
            continue;
        for (const auto& other : c.options)
            if (&other != &o && other.group == o.group && cmd.has(other.name))
                return error("options " + quoted(o.name) + " and " + quoted(other.name) +
                             " exclude each other");
    }

    std::size_t k = 0;
    for (const auto& spec : c.operands) {
        if (k >= cmd.operands.size()) {
            if (is_optional(spec))
                break;
            return error("missing " + std::string(base_name(spec)));
        }
        const std::size_t n = is_variadic(spec) ? cmd.operands.size() - k : 1;
        for (std::size_t m = 0; m < n; ++m, ++k)
            if (auto problem = check_operand(spec, cmd.operands[k]))
                return error(std::move(*problem));
    }
    if (k < cmd.operands.size())
        return error("unexpected argument " + quoted(cmd.operands[k]) + " for " + quoted(c.path));

    if (c.id == CommandId::session_end && cmd.operands.empty() == !cmd.has("--user"))
        return error("give a session ID or '--user USER', not both");
    if (c.id == CommandId::user_set_password && cmd.has("--keep") && !cmd.has("--require-change") &&
        !cmd.has("--no-require-change"))
        return error("'--keep' changes nothing without '--require-change' or "
                     "'--no-require-change'");
    if (c.id == CommandId::account_close && !cmd.has("--yes"))
        return error("closing account " + quoted(cmd.operands.at(0)) +
                     " is final: nobody logs on to it again; add '--yes' to close it");
    if (c.id == CommandId::mfa_enroll && cmd.operands.empty() && inv.globals.as)
        return error("'--as' signs in on the admin socket: give USER ('mfa enroll' without USER "
                     "enrols yourself over the PAM socket)");
    return std::nullopt;
}

/// The deepest help topic that the words at args[i...] name; advances i past them.
std::string match_topic(const std::vector<std::string>& args, std::size_t& i)
{
    std::string topic;
    while (i < args.size() && !is_option(args[i])) {
        const std::string candidate = topic.empty() ? args[i] : topic + " " + args[i];
        if (find_command(candidate) == nullptr && !is_group(candidate))
            break;
        topic = candidate;
        ++i;
        if (find_command(topic) != nullptr)
            break;
    }
    return topic;
}

} // namespace

const std::vector<CommandSpec>& command_specs()
{
    static const std::vector<CommandSpec> specs{
        {CommandId::directory_init,
         "directory init",
         "Create the directory with its domain and management account.",
         {},
         {required("--domain", "D", "the directory's domain, e.g. example.internal"),
          valued("--management-account", "NAME",
                 "name of the management account (default: management)")}},
        {CommandId::directory_show, "directory show", "Show the directory.", {}, {}},
        {CommandId::directory_root_access_enable,
         "directory root-access enable",
         "Centralize root access: directory administrators run the root-only tasks of member "
         "accounts (close, restore-admin, clear-logon-networks) and may open a window for a "
         "root password recovery.",
         {},
         {}},
        {CommandId::directory_root_access_disable,
         "directory root-access disable",
         "Stop centralized root access: root-only tasks are the root user's again.",
         {},
         {}},
        {CommandId::directory_root_access_show,
         "directory root-access show",
         "Show whether root access is centralized, and the root user of each member account.",
         {},
         {}},
        {CommandId::account_create,
         "account create",
         "Create a member account of the directory.",
         {{"NAME", "the account's name; its default domain is NAME.<directory domain>"}},
         {choice("--kind", "KIND", "resource (default: no root user) or cloud (root user enabled)",
                 "resource|cloud")}},
        {CommandId::account_list, "account list", "List the accounts of the directory.", {}, {}},
        {CommandId::account_show,
         "account show",
         "Show an account.",
         {{"NAME", "the account's name"}},
         {}},
        {CommandId::account_alias_add,
         "account alias add",
         "Add a domain alias to an account.",
         {{"NAME", "the account's name"}, {"DOMAIN", "the alias, e.g. web.example.com"}},
         {}},
        {CommandId::account_alias_remove,
         "account alias remove",
         "Remove a domain alias from an account.",
         {{"NAME", "the account's name"}, {"DOMAIN", "the alias to remove"}},
         {}},
        {CommandId::account_phone_bind,
         "account phone bind",
         "Send a verification code to a mobile phone, to bind it to an account with 'account "
         "phone verify' (at most 100 codes an account a day).",
         {{"ACCOUNT", "the account's name"},
          {"NUMBER", "the mobile phone number in E.164 form, e.g. +15551234567"}},
         {}},
        {CommandId::account_phone_verify,
         "account phone verify",
         "Bind the phone a code was sent to: asks for the code (without echo on a terminal, "
         "else one line of standard input) unless CODE is given.",
         {{"ACCOUNT", "the account's name"}, {"[CODE]", "the verification code sent"}},
         {}},
        {CommandId::account_switch,
         "account switch",
         "Switch an account between resource (no root user) and cloud (root user enabled). To "
         "cloud needs a bound phone and --acknowledge-risk; to resource deletes root's "
         "credentials and ends its sessions.",
         {{"ACCOUNT", "the account's name"}},
         {required_choice("--to", "KIND", "the kind to switch to: cloud or resource",
                          "cloud|resource"),
          flag("--acknowledge-risk", "accept that an enabled root user raises the account's risk "
                                     "(needed to switch to cloud)")}},
        {CommandId::account_root_recover,
         "account root recover",
         "Set the password of a cloud account's root user with a verification code sent to the "
         "bound phone: sends the code, asks for it and the new password (twice on a terminal; "
         "else the code and the password on two lines of standard input).",
         {{"ACCOUNT", "the account's name"}},
         {flag("--send-only", "only send the code", recover_step_group),
          flag("--code", "do not send a code: use one sent before", recover_step_group)}},
        {CommandId::account_root_remove_credentials,
         "account root remove-credentials",
         "Delete every credential of a cloud account's root user: password, MFA device, access "
         "keys.",
         {{"ACCOUNT", "the account's name"}},
         {}},
        {CommandId::account_root_allow_recovery,
         "account root allow-recovery",
         "Under centralized root access: let a cloud account's root password be recovered "
         "(account root recover) for a while.",
         {{"ACCOUNT", "the account's name"}},
         {required("--for", "DURATION",
                   "how long: minutes, hours or days (30m, 2h, 1d), at most 7 days")}},
        {CommandId::account_close,
         "account close",
         "Close an account, for good: nobody logs on to it again. "
         "A root-only task: the account's root user (--as root@DOMAIN), or directory "
         "administrators under centralized root access.",
         {{"ACCOUNT", "the account's name"}},
         {flag("--yes", "confirm that closing is final (required)")}},
        {CommandId::account_restore_admin,
         "account restore-admin",
         "Give back the account-admin role a user revoked from itself. "
         "A root-only task: the account's root user (--as root@DOMAIN), or directory "
         "administrators under centralized root access.",
         {{"ACCOUNT", "the account's name"}, {"USER", "the user: NAME in the account, or "
                                                     "NAME@DOMAIN"}},
         {}},
        {CommandId::account_clear_logon_networks,
         "account clear-logon-networks",
         "Empty an account's allowed_networks setting, when it locks everyone out. "
         "A root-only task: the account's root user (--as root@DOMAIN), or directory "
         "administrators under centralized root access.",
         {{"ACCOUNT", "the account's name"}},
         {}},
        {CommandId::user_create,
         "user create",
         "Create a user.",
         {{"USER", "NAME in the account, or NAME@DOMAIN"}},
         {account_option, valued("--display-name", "TEXT", "the name people see (default: the user name)"),
          valued("--email", "EMAIL", "the address the OpenID Connect email scope gives"),
          flag("--no-console-logon", "do not allow interactive logon (PAM, the OIDC page)")}},
        {CommandId::user_list,
         "user list",
         "List users.",
         {},
         {valued("--account", "A", "only the users of this account (default: every account)")}},
        {CommandId::user_show,
         "user show",
         "Show a user.",
         {{"USER", "NAME in the account, or NAME@DOMAIN"}},
         {account_option}},
        {CommandId::user_delete,
         "user delete",
         "Delete a user; asks for confirmation unless --yes is given.",
         {{"USER", "NAME in the account, or NAME@DOMAIN"}},
         {account_option, flag("--yes", "do not ask for confirmation")}},
        {CommandId::user_enable_logon,
         "user enable-logon",
         "Allow a user's console logon (PAM and the OIDC page).",
         {{"USER", "NAME in the account, or NAME@DOMAIN"}},
         {account_option}},
        {CommandId::user_disable_logon,
         "user disable-logon",
         "Refuse a user's console logon; access keys keep working.",
         {{"USER", "NAME in the account, or NAME@DOMAIN"}},
         {account_option}},
        {CommandId::user_set_email,
         "user set-email",
         "Set the address the OpenID Connect email scope gives; without EMAIL, remove it.",
         {{"USER", "NAME in the account, or NAME@DOMAIN"}, {"[EMAIL]", "name@example.com"}},
         {account_option}},
        {CommandId::user_set_password,
         "user set-password",
         "Reset a user's password: typed (default), generated, or kept.",
         {{"USER", "NAME in the account, or NAME@DOMAIN"}},
         {account_option,
          flag("--keep", "keep the current password (to change only --require-change)",
               password_mode_group),
          flag("--generate", "let the daemon generate a password; it is shown only once",
               password_mode_group),
          flag("--stdin", "read the new password as one line from standard input",
               password_mode_group),
          flag("--require-change", "the user must change the password at next logon",
               require_change_group),
          flag("--no-require-change", "the user need not change it at next logon",
               require_change_group)}},
        {CommandId::user_unlock,
         "user unlock",
         "Unlock a user locked out after too many failed logons.",
         {{"USER", "NAME in the account, or NAME@DOMAIN"}},
         {account_option}},
        {CommandId::role_grant,
         "role grant",
         "Grant a user a role: directory-admin (users of the management account) administers "
         "the directory and every member account; account-admin administers the user's own "
         "account.",
         {{"USER", "NAME in the account, or NAME@DOMAIN"},
          {"ROLE", "directory-admin or account-admin"}},
         {account_option}},
        {CommandId::role_revoke,
         "role revoke",
         "Revoke a role from a user.",
         {{"USER", "NAME in the account, or NAME@DOMAIN"},
          {"ROLE", "directory-admin or account-admin"}},
         {account_option}},
        {CommandId::role_list,
         "role list",
         "List the roles users hold, active or revoked by their holder (self-revoked).",
         {},
         {valued("--account", "A", "only the roles of this account's users (default: every "
                                   "account)")}},
        {CommandId::policy_show,
         "policy show",
         "Show an account's password policy.",
         {},
         {policy_account_option}},
        {CommandId::policy_set,
         "policy set",
         "Change an account's password policy.",
         {{"KEY=VALUE...",
           "one or more changes, e.g. min_length=12; the keys are those 'policy show' prints"}},
         {policy_account_option}},
        {CommandId::settings_show,
         "settings show",
         "Show an account's security settings.",
         {},
         {policy_account_option}},
        {CommandId::settings_set,
         "settings set",
         "Change an account's security settings.",
         {{"KEY=VALUE...", "one or more changes, e.g. mfa_required=yes; the keys are those "
                           "'settings show' prints"}},
         {policy_account_option}},
        {CommandId::session_list,
         "session list",
         "List open sessions: logons through PAM that have not ended, and browser sessions "
         "(service oidc) of the sign-in pages.",
         {{"[USER]", "only this user's sessions: NAME in the host's account, or NAME@DOMAIN"}},
         {}},
        {CommandId::session_end,
         "session end",
         "End a session: a browser session signs out (its refresh tokens die, back-channel "
         "logout tells its clients); a PAM session is marked ended.",
         {{"[ID]", "the session's id, or the first 8 or more characters of it"}},
         {valued("--user", "USER", "end every open session of this user instead")}},
        {CommandId::audit,
         "audit",
         "Show the audit trail, newest event first.",
         {},
         {choice("--severity", "LEVEL",
                 "only events at least this severe: info, notice, warning or alert",
                 "info|notice|warning|alert"),
          valued("--since", "TIME",
                 "only events from TIME on: ISO-8601 UTC, a date, Unix seconds, or -30m, -1h, -2d"),
          valued("--user", "USER", "only events whose user field is USER"),
          valued("--limit", "N", "at most N events, 1 to 10000 (default: 100)")}},
        {CommandId::mfa_enroll,
         "mfa enroll",
         "Enrol a TOTP authenticator app: shows a QR code, its key and otpauth URI, then asks "
         "for two consecutive codes and prints 10 single-use recovery codes. Without USER, "
         "enrols yourself over the PAM socket (asks your password; the account must allow "
         "users to manage their MFA devices). Without a terminal, prints the URI and reads the "
         "codes (and your password) from standard input, one a line.",
         {{"[USER]", "NAME in the account, or NAME@DOMAIN; leave out to enrol yourself"}},
         {account_option}},
        {CommandId::mfa_list,
         "mfa list",
         "List MFA devices, with the recovery codes left.",
         {{"[USER]", "only this user's device: NAME in the account, or NAME@DOMAIN"}},
         {account_option}},
        {CommandId::mfa_remove,
         "mfa remove",
         "Remove a user's MFA device and its recovery codes.",
         {{"USER", "NAME in the account, or NAME@DOMAIN"}},
         {account_option}},
        {CommandId::mfa_recovery_codes,
         "mfa recovery-codes",
         "Make 10 new recovery codes for a user's MFA device (shown once); the old ones stop "
         "working.",
         {{"USER", "NAME in the account, or NAME@DOMAIN"}},
         {account_option}},
        {CommandId::oidc_client_add,
         "oidc client add",
         "Register a web application. A confidential client gets a secret, printed once.",
         {{"ID", "the client_id: letters, digits, '-', '_', '.'"}},
         {{"--redirect-uris", "URI,...", "where sign-ins return: https, or http on localhost",
           0, true, ""},
          flag("--public", "no secret (a browser or native app); PKCE is then required"),
          valued("--name", "NAME", "shown on the sign-in page (default: the id)"),
          valued("--post-logout-uris", "URI,...", "where RP-initiated logout may return"),
          valued("--backchannel-logout-uri", "URI", "receives logout tokens"),
          valued("--scopes", "SCOPE,...",
                 "allowed scopes (default: openid,profile,email,offline_access)"),
          choice("--id-token-alg", "ALG", "ID-token signature (default RS256)",
                 "RS256|ES256|EdDSA"),
          flag("--claims-in-id-token", "put the profile claims in the ID token too"),
          flag("--consent", "ask the user's consent before the first sign-in")}},
        {CommandId::oidc_client_list, "oidc client list", "List the registered clients.", {}, {}},
        {CommandId::oidc_client_show,
         "oidc client show",
         "Show a client.",
         {{"ID", "the client_id"}},
         {}},
        {CommandId::oidc_client_remove,
         "oidc client remove",
         "Remove a client; its tokens stop working.",
         {{"ID", "the client_id"}},
         {}},
        {CommandId::accesskey_create,
         "accesskey create",
         "Make an access key for a user; its secret is printed once. Password changes leave "
         "it working.",
         {{"USER", "NAME in the account, or NAME@DOMAIN"}},
         {account_option}},
        {CommandId::accesskey_list,
         "accesskey list",
         "List access keys.",
         {{"[USER]", "only this user's keys"}},
         {account_option}},
        {CommandId::accesskey_enable, "accesskey enable", "Enable an access key.",
         {{"KEY_ID", "the key's id (LK...)"}}, {}},
        {CommandId::accesskey_disable, "accesskey disable",
         "Disable an access key: the token endpoint refuses it until it is enabled again.",
         {{"KEY_ID", "the key's id (LK...)"}}, {}},
        {CommandId::accesskey_delete, "accesskey delete", "Delete an access key for good.",
         {{"KEY_ID", "the key's id (LK...)"}}, {}},
        {CommandId::oidc_rotate_keys,
         "oidc rotate-keys",
         "Make new signing keys now; the old ones stay published until their tokens expire.",
         {},
         {}},
    };
    return specs;
}

const CommandSpec& spec_of(CommandId id)
{
    for (const auto& c : command_specs())
        if (c.id == id)
            return c;
    // Every CommandId has a row; reaching this is a bug in the table above.
    return command_specs().front();
}

std::optional<std::int64_t> parse_recovery_window(std::string_view text)
{
    const auto seconds = parse_duration(text, max_recovery_window_s);
    if (!seconds || *seconds <= 0)
        return std::nullopt;
    return seconds;
}

std::optional<std::uint32_t> parse_limit(std::string_view text)
{
    std::uint32_t n = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
    if (text.empty() || ec != std::errc{} || end != text.data() + text.size() || n < 1 ||
        n > max_audit_limit)
        return std::nullopt;
    return n;
}

bool ParsedCommand::has(std::string_view option) const
{
    return options.find(option) != options.end();
}

std::optional<std::string> ParsedCommand::value(std::string_view option) const
{
    const auto it = options.find(option);
    if (it == options.end())
        return std::nullopt;
    return it->second;
}

ParseResult parse_args(const std::vector<std::string>& args)
{
    Invocation inv;

    // --help anywhere (before a "--") asks for help on the deepest topic named.
    bool help = false;
    for (const auto& a : args) {
        if (a == "--")
            break;
        help = help || is_help(a);
    }

    bool version = false;
    std::size_t i = 0;
    for (; i < args.size() && is_option(args[i]) && args[i] != "--"; ++i) {
        auto [name, inline_value] = split_option(args[i]);
        if (is_help(name))
            continue;
        if (name == "--version") {
            version = true;
            continue;
        }
        auto taken = take_global(name, inline_value, args, i, inv.globals, "");
        if (auto* e = std::get_if<UsageError>(&taken)) {
            if (help)
                break;
            return std::move(*e);
        }
        if (std::get<GlobalTake>(taken) == GlobalTake::not_global && !help)
            return UsageError{"unknown option " + quoted(name), ""};
    }
    if (i < args.size() && args[i] == "--")
        ++i;

    if (version && !help) {
        inv.action = Action::version;
        return inv;
    }

    std::string topic = match_topic(args, i);
    const CommandSpec* command = find_command(topic);
    if (help) {
        inv.action = Action::help;
        inv.help_topic = topic;
        return inv;
    }
    if (command == nullptr) {
        if (i < args.size() && !is_option(args[i]))
            return UsageError{"unknown command " +
                                  quoted(topic.empty() ? args[i] : topic + " " + args[i]),
                              topic};
        if (topic.empty())
            return UsageError{"missing COMMAND", ""};
        return UsageError{"missing subcommand for " + quoted(topic), topic};
    }

    if (auto e = parse_command(*command, args, i, inv))
        return std::move(*e);
    inv.action = Action::run;
    return inv;
}

std::string usage_hint(const UsageError& e)
{
    const std::string what =
        e.topic.empty() ? std::string(program) : std::string(program) + " " + e.topic;
    return "Run '" + what + " --help' for usage.";
}

std::string help_text(std::string_view topic)
{
    if (const auto* c = find_command(topic))
        return command_help(*c);
    if (is_group(topic))
        return group_help(topic);
    return general_help();
}

std::string version_text()
{
    return std::string(program) + " " + LATCHKEY_VERSION + " (protocol " +
           std::to_string(proto::protocol_version) + ")\n";
}

namespace {

std::string socket_from(const GlobalOptions& globals, const char* env, std::string_view fallback)
{
    if (globals.socket)
        return *globals.socket;
    if (env != nullptr && *env != '\0')
        return env;
    return std::string(fallback);
}

} // namespace

std::string resolve_socket(const GlobalOptions& globals, const char* env)
{
    return socket_from(globals, env, default_admin_socket);
}

std::string resolve_pam_socket(const GlobalOptions& globals, const char* env)
{
    return socket_from(globals, env, default_pam_socket);
}

} // namespace latchkey::cli
