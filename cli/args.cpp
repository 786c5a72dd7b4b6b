// SPDX-License-Identifier: Apache-2.0
// Parsing latchkeyctl's argv against the command table into the description of one run.
#include "cli/args.hpp"

#include <algorithm>
#include <charconv>
#include <utility>

#include "cli/time_arg.hpp"

namespace latchkey::cli {

namespace {

/// The two roles `role grant` and `role revoke` take.
constexpr std::string_view role_choices = "directory-admin|account-admin";

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
            // An id copied from a listing may begin with '-' (base64url): say how to pass it.
            const bool option_like =
                name.starts_with("--") && std::all_of(name.begin() + 2, name.end(), [](char ch) {
                    return (ch >= 'a' && ch <= 'z') || ch == '-';
                });
            return error("unknown option " + quoted(name) + " for " + quoted(c.path) +
                         (option_like ? "" : "; an operand that begins with '-' goes after '--'"));
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

    if (c.check != nullptr)
        if (auto problem = c.check(cmd, inv.globals))
            return error(std::move(*problem));
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

