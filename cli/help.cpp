// SPDX-License-Identifier: Apache-2.0
// latchkeyctl's help, generated from the command table: general, group and command help.
#include "cli/help.hpp"

#include <algorithm>
#include <array>
#include <utility>
#include <vector>

#include "cli/args.hpp"
#include "cli/command_table.hpp"
#include "proto/messages.hpp"

#ifndef LATCHKEY_VERSION
#define LATCHKEY_VERSION "0.1.0"
#endif

namespace latchkey::cli {

namespace {

constexpr std::string_view program = "latchkeyctl";

struct GlobalSpec {
    std::string_view names;
    std::string_view help;
};

constexpr std::array global_specs{
    GlobalSpec{"--socket PATH", "the admin socket (default: $LATCHKEY_ADMIN_SOCKET, else "
                                "/run/latchkey/admin.sock)"},
    GlobalSpec{"--json", "print the daemon's reply as one line of JSON"},
    GlobalSpec{"--timeout SECONDS", "give up on latchkeyd after SECONDS (default: 30)"},
    GlobalSpec{"--as USER@DOMAIN", "sign in as this directory user (password, MFA code) and run "
                                   "the command with its roles only"},
    GlobalSpec{"-h, --help", "show this help; 'COMMAND --help' shows a command's"},
    GlobalSpec{"--version", "show the version"},
};

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
    for (const auto& g : group_specs())
        if (g.path == path)
            summary = g.summary;
    return "Usage: " + std::string(program) + " " + std::string(path) +
           " SUBCOMMAND [ARGUMENTS...]\n\n" + std::string(summary) + "\n\nCommands:\n" +
           command_list(path) + "\nRun '" + std::string(program) + " " + std::string(path) +
           " SUBCOMMAND --help' for a command's arguments and options.\n";
}

} // namespace

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

} // namespace latchkey::cli
