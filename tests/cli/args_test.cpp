// SPDX-License-Identifier: Apache-2.0
// Unit tests of latchkeyctl's argument parsing, TIME arguments, request building and rendering
// (no daemon).
#include "cli/args.hpp"

#include <algorithm>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "cli/commands.hpp"
#include "cli/render.hpp"
#include "cli/time_arg.hpp"

namespace latchkey::cli {
namespace {

Invocation parsed(const std::vector<std::string>& args)
{
    auto r = parse_args(args);
    if (const auto* e = std::get_if<UsageError>(&r)) {
        ADD_FAILURE() << "usage error: " << e->message;
        return {};
    }
    return std::get<Invocation>(std::move(r));
}

UsageError usage_error(const std::vector<std::string>& args)
{
    auto r = parse_args(args);
    if (!std::holds_alternative<UsageError>(r)) {
        ADD_FAILURE() << "expected a usage error";
        return {};
    }
    return std::get<UsageError>(std::move(r));
}

std::size_t count(std::string_view haystack, std::string_view needle)
{
    std::size_t n = 0;
    for (auto pos = haystack.find(needle); pos != std::string_view::npos;
         pos = haystack.find(needle, pos + 1))
        ++n;
    return n;
}

// ---- parsing ----------------------------------------------------------------------------

TEST(ParseArgs, ReadsGlobalOptionsBeforeTheCommand)
{
    const auto inv =
        parsed({"--socket", "/tmp/a.sock", "--json", "--timeout", "5", "account", "list"});
    EXPECT_EQ(inv.action, Action::run);
    EXPECT_EQ(inv.command.id, CommandId::account_list);
    EXPECT_EQ(inv.globals.socket, "/tmp/a.sock");
    EXPECT_TRUE(inv.globals.json);
    EXPECT_EQ(inv.globals.timeout, std::chrono::seconds{5});
}

TEST(ParseArgs, DefaultsToThirtySecondsAndHumanOutput)
{
    const auto inv = parsed({"directory", "show"});
    EXPECT_EQ(inv.command.id, CommandId::directory_show);
    EXPECT_EQ(inv.globals.timeout, std::chrono::seconds{30});
    EXPECT_FALSE(inv.globals.json);
    EXPECT_FALSE(inv.globals.socket.has_value());
}

TEST(ParseArgs, AcceptsGlobalOptionsAmongACommandsOptions)
{
    const auto inv = parsed({"user", "list", "--json", "--socket=/s"});
    EXPECT_TRUE(inv.globals.json);
    EXPECT_EQ(inv.globals.socket, "/s");
}

TEST(ParseArgs, TakesOptionValuesFromTheNextArgumentOrAfterAnEqualsSign)
{
    EXPECT_EQ(parsed({"user", "show", "alice", "--account", "web"}).command.value("--account"),
              "web");
    EXPECT_EQ(parsed({"user", "show", "alice", "--account=web"}).command.value("--account"), "web");
}

TEST(ParseArgs, AcceptsOptionsBeforeAndAfterOperands)
{
    const auto inv = parsed({"user", "create", "--account", "web", "alice", "--no-console-logon"});
    EXPECT_EQ(inv.command.id, CommandId::user_create);
    EXPECT_EQ(inv.command.operands, std::vector<std::string>{"alice"});
    EXPECT_TRUE(inv.command.has("--no-console-logon"));
}

TEST(ParseArgs, FindsThreeWordCommands)
{
    const auto add = parsed({"account", "alias", "add", "web", "shop.example.com"});
    EXPECT_EQ(add.command.id, CommandId::account_alias_add);
    EXPECT_EQ(add.command.operands, (std::vector<std::string>{"web", "shop.example.com"}));
    EXPECT_EQ(parsed({"account", "alias", "remove", "web", "x.example"}).command.id,
              CommandId::account_alias_remove);
}

TEST(ParseArgs, TreatsEverythingAfterDoubleDashAsOperands)
{
    const auto inv = parsed({"account", "show", "--", "-odd"});
    EXPECT_EQ(inv.command.operands, std::vector<std::string>{"-odd"});
}

TEST(ParseArgs, NamesAnUnknownOptionAndItsCommand)
{
    const auto e = usage_error({"account", "create", "web", "--kindd", "cloud"});
    EXPECT_EQ(e.message, "unknown option '--kindd' for 'account create'");
    EXPECT_EQ(usage_error({"session", "end", "-XcIy8Q2"}).message,
              "unknown option '-XcIy8Q2' for 'session end'; an operand that begins with '-' goes "
              "after '--'");
    EXPECT_EQ(e.topic, "account create");
}

TEST(ParseArgs, NamesAMissingOperand)
{
    EXPECT_EQ(usage_error({"user", "show"}).message, "missing USER");
    EXPECT_EQ(usage_error({"account", "alias", "add", "web"}).message, "missing DOMAIN");
    EXPECT_EQ(usage_error({"policy", "set"}).message, "missing KEY=VALUE");
}

TEST(ParseArgs, RejectsAnUnexpectedOperand)
{
    EXPECT_EQ(usage_error({"account", "show", "web", "extra"}).message,
              "unexpected argument 'extra' for 'account show'");
}

TEST(ParseArgs, RejectsMissingAndUnknownCommands)
{
    EXPECT_EQ(usage_error({}).message, "missing COMMAND");
    EXPECT_EQ(usage_error({"frob"}).message, "unknown command 'frob'");
    const auto sub = usage_error({"user"});
    EXPECT_EQ(sub.message, "missing subcommand for 'user'");
    EXPECT_EQ(sub.topic, "user");
    EXPECT_EQ(usage_error({"user", "frob"}).message, "unknown command 'user frob'");
    EXPECT_EQ(usage_error({"--frob", "user", "list"}).message, "unknown option '--frob'");
}

TEST(ParseArgs, RejectsATimeoutThatIsNotWholePositiveSeconds)
{
    for (const char* bad : {"0", "-1", "5s", "abc", "1.5", "86401"})
        EXPECT_NE(usage_error({"--timeout", bad, "account", "list"}).message.find("'--timeout'"),
                  std::string::npos)
            << bad;
    EXPECT_EQ(usage_error({"account", "list", "--timeout"}).message,
              "missing value for '--timeout'");
}

TEST(ParseArgs, RejectsAKindOutsideItsChoices)
{
    EXPECT_EQ(usage_error({"account", "create", "web", "--kind", "root"}).message,
              "invalid value 'root' for '--kind': expected resource or cloud");
}

TEST(ParseArgs, RejectsAValueGivenToAFlagAndAnEmptyValue)
{
    EXPECT_EQ(usage_error({"user", "delete", "alice", "--yes=1"}).message,
              "option '--yes' takes no value");
    EXPECT_EQ(usage_error({"user", "list", "--account="}).message, "empty value for '--account'");
}

TEST(ParseArgs, RejectsPasswordModesTogether)
{
    EXPECT_EQ(usage_error({"user", "set-password", "alice", "--generate", "--stdin"}).message,
              "options '--generate' and '--stdin' exclude each other");
    EXPECT_EQ(
        usage_error({"user", "set-password", "alice", "--require-change", "--no-require-change"})
            .message,
        "options '--require-change' and '--no-require-change' exclude each other");
}

TEST(ParseArgs, RejectsKeepWithoutARequireChangeFlagBecauseItWouldChangeNothing)
{
    EXPECT_NE(usage_error({"user", "set-password", "alice", "--keep"}).message.find("'--keep'"),
              std::string::npos);
    EXPECT_EQ(parsed({"user", "set-password", "alice", "--keep", "--require-change"}).command.id,
              CommandId::user_set_password);
}

TEST(ParseArgs, RequiresTheDomainOfDirectoryInit)
{
    EXPECT_EQ(usage_error({"directory", "init"}).message, "missing option '--domain'");
    EXPECT_EQ(parsed({"directory", "init", "--domain", "example.internal"}).command.id,
              CommandId::directory_init);
}

TEST(ParseArgs, AcceptsAUserAsNameOrNameAtDomainOnly)
{
    EXPECT_EQ(parsed({"user", "show", "alice"}).command.operands.at(0), "alice");
    EXPECT_EQ(parsed({"user", "show", "alice@web.example.internal"}).command.operands.at(0),
              "alice@web.example.internal");
    for (const char* bad : {"alice@", "@web.example.internal", "a@b@c"})
        EXPECT_EQ(usage_error({"user", "show", bad}).message,
                  "invalid USER '" + std::string(bad) + "': expected NAME or NAME@DOMAIN");
}

TEST(ParseArgs, RequiresKeyEqualsValueAssignments)
{
    EXPECT_EQ(usage_error({"policy", "set", "min_length"}).message,
              "invalid assignment 'min_length': expected KEY=VALUE");
    EXPECT_EQ(usage_error({"settings", "set", "=yes"}).message,
              "invalid assignment '=yes': expected KEY=VALUE");
    EXPECT_EQ(parsed({"settings", "set", "allowed_networks="}).command.operands.size(), 1U);
}

TEST(ParseArgs, TakesAnOptionalUserForSessionList)
{
    EXPECT_TRUE(parsed({"session", "list"}).command.operands.empty());
    EXPECT_EQ(parsed({"session", "list", "alice"}).command.operands,
              std::vector<std::string>{"alice"});
    EXPECT_EQ(usage_error({"session", "list", "alice", "bob"}).message,
              "unexpected argument 'bob' for 'session list'");
    EXPECT_EQ(usage_error({"session", "list", "alice@"}).message,
              "invalid USER 'alice@': expected NAME or NAME@DOMAIN");
    EXPECT_EQ(usage_error({"session"}).message, "missing subcommand for 'session'");
}

TEST(ParseArgs, RequiresTheUserOfUserUnlock)
{
    EXPECT_EQ(usage_error({"user", "unlock"}).message, "missing USER");
    const auto inv = parsed({"user", "unlock", "alice", "--account", "web"});
    EXPECT_EQ(inv.command.id, CommandId::user_unlock);
    EXPECT_EQ(inv.command.value("--account"), "web");
}

TEST(ParseArgs, ReadsAuditAsAOneWordCommandWithOnlyOptions)
{
    const auto inv = parsed({"audit", "--severity", "alert", "--since=-1h", "--user", "root",
                             "--limit", "20", "--json"});
    EXPECT_EQ(inv.command.id, CommandId::audit);
    EXPECT_EQ(inv.command.value("--severity"), "alert");
    EXPECT_EQ(inv.command.value("--since"), "-1h");
    EXPECT_EQ(inv.command.value("--user"), "root");
    EXPECT_EQ(inv.command.value("--limit"), "20");
    EXPECT_TRUE(inv.globals.json);
    EXPECT_EQ(parsed({"audit"}).command.id, CommandId::audit);
    EXPECT_EQ(usage_error({"audit", "root"}).message, "unexpected argument 'root' for 'audit'");
}

TEST(ParseArgs, AcceptsEveryFormOfSince)
{
    // A relative time starts with '-' and is still taken as the option's value.
    for (const char* since :
         {"2026-11-23T10:00:00Z", "2026-11-23", "1795428000", "0", "-30m", "-1h", "-2d"}) {
        EXPECT_EQ(parsed({"audit", "--since", since}).command.value("--since"), since);
        EXPECT_EQ(parsed({"audit", std::string("--since=") + since}).command.value("--since"),
                  since);
    }
}

TEST(ParseArgs, RejectsASinceInNoKnownFormAsAUsageError)
{
    for (const char* bad : {"yesterday", "now", "1h", "-1", "-1w", "-1H", "-1.5h", "--1h",
                            "2026-11-23T10:00:00", "2026-02-30", "2026-11-23 10:00:00Z"}) {
        const auto e = usage_error({"audit", "--since", bad});
        EXPECT_EQ(e.message, "invalid value '" + std::string(bad) + "' for '--since': expected " +
                                 std::string(time_arg_forms))
            << bad;
        EXPECT_EQ(e.topic, "audit");
    }
    EXPECT_EQ(usage_error({"audit", "--since"}).message, "missing value for '--since'");
    EXPECT_EQ(usage_error({"audit", "--since="}).message, "empty value for '--since'");
}

TEST(ParseArgs, RejectsALimitOutsideOneToTenThousand)
{
    for (const char* bad : {"0", "10001", "-1", "+5", "abc", "1.5", "20x", "99999999999"})
        EXPECT_EQ(usage_error({"audit", "--limit", bad}).message,
                  "invalid value '" + std::string(bad) +
                      "' for '--limit': expected a whole number from 1 to 10000")
            << bad;
    EXPECT_EQ(parsed({"audit", "--limit", "1"}).command.value("--limit"), "1");
    EXPECT_EQ(parsed({"audit", "--limit", "10000"}).command.value("--limit"), "10000");
    EXPECT_EQ(parse_limit("250"), 250U);
    EXPECT_FALSE(parse_limit("").has_value());
}

TEST(ParseArgs, RejectsASeverityOutsideItsChoices)
{
    EXPECT_EQ(usage_error({"audit", "--severity", "debug"}).message,
              "invalid value 'debug' for '--severity': expected info, notice, warning or alert");
    EXPECT_EQ(usage_error({"audit", "--severity", "Alert"}).topic, "audit");
    for (const char* level : {"info", "notice", "warning", "alert"})
        EXPECT_EQ(parsed({"audit", "--severity", level}).command.value("--severity"), level);
}

TEST(ParseArgs, ShowsHelpForTheDeepestTopicNamed)
{
    const auto topic = [](const std::vector<std::string>& args) {
        const auto inv = parsed(args);
        EXPECT_EQ(inv.action, Action::help);
        return inv.help_topic;
    };
    EXPECT_EQ(topic({"--help"}), "");
    EXPECT_EQ(topic({"-h"}), "");
    EXPECT_EQ(topic({"user", "--help"}), "user");
    EXPECT_EQ(topic({"account", "alias", "-h"}), "account alias");
    EXPECT_EQ(topic({"user", "create", "--help"}), "user create");
    EXPECT_EQ(topic({"--help", "user", "create"}), "user create");
    EXPECT_EQ(topic({"user", "create", "--kindd", "--help"}), "user create");
    EXPECT_EQ(topic({"user", "frob", "--help"}), "user");
    EXPECT_EQ(topic({"audit", "--help"}), "audit");
    EXPECT_EQ(topic({"session", "list", "-h"}), "session list");
    EXPECT_EQ(topic({"user", "unlock", "--help"}), "user unlock");
}

TEST(ParseArgs, ShowsTheVersion)
{
    EXPECT_EQ(parsed({"--version"}).action, Action::version);
    EXPECT_NE(version_text().find("latchkeyctl "), std::string::npos);
}

TEST(UsageHint, PointsAtTheHelpOfTheCommandConcerned)
{
    EXPECT_EQ(usage_hint({"x", "user create"}), "Run 'latchkeyctl user create --help' for usage.");
    EXPECT_EQ(usage_hint({"x", ""}), "Run 'latchkeyctl --help' for usage.");
}

TEST(HelpText, ListsEveryCommandAndEveryOptionOfACommand)
{
    const std::string general = help_text("");
    for (const auto& c : command_specs()) {
        EXPECT_NE(general.find(c.path), std::string::npos) << c.path;
        const std::string own = help_text(c.path);
        EXPECT_EQ(own.rfind("Usage: latchkeyctl " + std::string(c.path), 0), 0U) << own;
        for (const auto& o : c.options)
            EXPECT_NE(own.find(o.name), std::string::npos) << c.path << " " << o.name;
        for (const auto& o : c.operands)
            EXPECT_NE(own.find(o.name), std::string::npos) << c.path << " " << o.name;
    }
    for (const char* global : {"--socket", "--json", "--timeout", "--help", "--version"})
        EXPECT_NE(general.find(global), std::string::npos) << global;
}

TEST(HelpText, ShowsAnOptionalOperandInBracketsAndTheSeverityChoices)
{
    EXPECT_EQ(help_text("session list").rfind("Usage: latchkeyctl session list [USER]\n", 0), 0U);
    EXPECT_EQ(help_text("audit").rfind("Usage: latchkeyctl audit [--severity "
                                       "info|notice|warning|alert] [--since TIME]\n",
                                       0),
              0U)
        << help_text("audit");
}

// ---- TIME arguments ---------------------------------------------------------------------

constexpr std::int64_t nov23_10h = 1'795'428'000; // 2026-11-23T10:00:00Z

std::int64_t at(std::string_view text)
{
    const auto t = parse_time_arg(text);
    EXPECT_TRUE(t.has_value()) << text;
    if (!t)
        return -1;
    EXPECT_EQ(t->kind, TimeArg::Kind::at) << text;
    return t->seconds;
}

TEST(ParseTimeArg, ReadsIso8601UtcToTheSecond)
{
    EXPECT_EQ(at("2026-11-23T10:00:00Z"), nov23_10h);
    EXPECT_EQ(at("1970-01-01T00:00:00Z"), 0);
    EXPECT_EQ(at("2024-02-29T23:59:59Z"), 1'709'251'199);
    EXPECT_EQ(format_time(at("2026-11-23T11:50:59Z")), "2026-11-23T11:50:59Z");
}

TEST(ParseTimeArg, ReadsADateAsItsMidnightUtc)
{
    EXPECT_EQ(at("2026-11-23"), nov23_10h - 10 * 3600);
    EXPECT_EQ(at("1970-01-01"), 0);
}

TEST(ParseTimeArg, ReadsUnixSeconds)
{
    EXPECT_EQ(at("1795428000"), nov23_10h);
    EXPECT_EQ(at("0"), 0);
}

TEST(ParseTimeArg, ReadsMinutesHoursAndDaysAgoAndCountsBackFromNow)
{
    const auto now = core::from_unix(nov23_10h);
    const std::vector<std::pair<std::string, std::int64_t>> cases{
        {"-30m", 30 * 60}, {"-1h", 3600}, {"-2d", 2 * 86'400}, {"-0m", 0},
        {"-36500d", max_time_ago_s}};
    for (const auto& [text, seconds] : cases) {
        const auto t = parse_time_arg(text);
        ASSERT_TRUE(t.has_value()) << text;
        EXPECT_EQ(t->kind, TimeArg::Kind::ago) << text;
        EXPECT_EQ(t->seconds, seconds) << text;
        EXPECT_EQ(t->unix_seconds(now), nov23_10h - seconds) << text;
    }
    EXPECT_EQ(parse_time_arg("2026-11-23")->unix_seconds(now), nov23_10h - 10 * 3600);
}

TEST(ParseTimeArg, RejectsOtherFormsImpossibleDatesAndOverflow)
{
    for (const char* bad : {"", "-", "-h", "-1", "-1s", "-1w", "--1h", "-+1h", "-1.5h", "-1 h",
                            "1h", "+1h", "-1H", "now", "yesterday", " 1795428000", "1795428000 ",
                            "+1795428000", "1e9", "99999999999999999999", "-36501d",
                            "-99999999999999999999d", "2026-11-23T10:00:00", "2026-11-23T10:00Z",
                            "2026-11-23 10:00:00Z", "2026-11-23t10:00:00z",
                            "2026-11-23T10:00:00+01:00", "2026-11-23T10:00:00.5Z", "2026-02-30",
                            "2025-02-29", "2026-13-01", "2026-00-10", "2026-11-00", "26-11-23",
                            "2026-1-23", "2026/11/23", "2026-11-23T24:00:00Z",
                            "2026-11-23T10:60:00Z", "2026-11-23T10:00:60Z", "2026-11-2aT10:00:00Z",
                            "2026-11-23T1a:00:00Z", "-2026-11-23"})
        EXPECT_FALSE(parse_time_arg(bad).has_value()) << "'" << bad << "'";
}

TEST(ResolveSocket, PrefersTheOptionThenTheEnvironmentThenTheDefault)
{
    GlobalOptions g;
    EXPECT_EQ(resolve_socket(g, nullptr), "/run/latchkey/admin.sock");
    EXPECT_EQ(resolve_socket(g, ""), "/run/latchkey/admin.sock");
    EXPECT_EQ(resolve_socket(g, "/env.sock"), "/env.sock");
    g.socket = "/opt.sock";
    EXPECT_EQ(resolve_socket(g, "/env.sock"), "/opt.sock");
}

TEST(ResolveSocket, SelfServiceUsesThePamSocket)
{
    GlobalOptions g;
    EXPECT_EQ(resolve_pam_socket(g, nullptr), "/run/latchkey/pam.sock");
    EXPECT_EQ(resolve_pam_socket(g, "/env.sock"), "/env.sock");
    g.socket = "/opt.sock";
    EXPECT_EQ(resolve_pam_socket(g, "/env.sock"), "/opt.sock");
}

TEST(ParseArgs, MfaCommandsNeedAUserExceptEnrolAndList)
{
    EXPECT_EQ(parsed({"mfa", "enroll"}).command.id, CommandId::mfa_enroll);
    EXPECT_EQ(parsed({"mfa", "list"}).command.id, CommandId::mfa_list);
    EXPECT_EQ(usage_error({"mfa", "remove"}).message, "missing USER");
    EXPECT_EQ(usage_error({"mfa", "recovery-codes"}).message, "missing USER");
    EXPECT_EQ(parsed({"mfa", "recovery-codes", "alice", "--account", "web"}).command.id,
              CommandId::mfa_recovery_codes);
}

// ---- the account lifecycle, roles and --as ----------------------------------------------

TEST(ParseDuration, ReadsMinutesHoursAndDaysUpToTheBound)
{
    EXPECT_EQ(parse_duration("30m", max_recovery_window_s), 30 * 60);
    EXPECT_EQ(parse_duration("2h", max_recovery_window_s), 2 * 3600);
    EXPECT_EQ(parse_duration("1d", max_recovery_window_s), 86'400);
    EXPECT_EQ(parse_duration("0m", max_recovery_window_s), 0);
    EXPECT_EQ(parse_duration("7d", max_recovery_window_s), max_recovery_window_s);
    EXPECT_EQ(parse_duration("168h", max_recovery_window_s), max_recovery_window_s);
    EXPECT_EQ(parse_duration("10080m", max_recovery_window_s), max_recovery_window_s);
    for (const char* bad : {"", "m", "30", "30s", "1w", "-1h", "+1h", "1.5h", "1 h", " 1h", "1H",
                            "8d", "169h", "10081m", "99999999999999999999d"})
        EXPECT_FALSE(parse_duration(bad, max_recovery_window_s).has_value()) << "'" << bad << "'";
}

TEST(ParseArgs, ReadsTheRoleCommands)
{
    const auto grant = parsed({"role", "grant", "alice", "account-admin", "--account", "web"});
    EXPECT_EQ(grant.command.id, CommandId::role_grant);
    EXPECT_EQ(grant.command.operands, (std::vector<std::string>{"alice", "account-admin"}));
    EXPECT_EQ(grant.command.value("--account"), "web");
    EXPECT_EQ(
        parsed({"role", "revoke", "bob@management.ex.internal", "directory-admin"}).command.id,
        CommandId::role_revoke);
    EXPECT_EQ(parsed({"role", "list"}).command.id, CommandId::role_list);
    EXPECT_EQ(parsed({"role", "list", "--account", "web"}).command.value("--account"), "web");
    EXPECT_EQ(usage_error({"role"}).message, "missing subcommand for 'role'");
    EXPECT_EQ(usage_error({"role", "list", "alice"}).message,
              "unexpected argument 'alice' for 'role list'");
}

TEST(ParseArgs, RequiresAUserAndOneOfTheTwoRoles)
{
    EXPECT_EQ(usage_error({"role", "grant"}).message, "missing USER");
    EXPECT_EQ(usage_error({"role", "grant", "alice"}).message, "missing ROLE");
    EXPECT_EQ(usage_error({"role", "revoke", "alice"}).message, "missing ROLE");
    for (const char* bad : {"admin", "Directory-Admin", "root", "account_admin"}) {
        const auto e = usage_error({"role", "grant", "alice", bad});
        EXPECT_EQ(e.message, "invalid ROLE '" + std::string(bad) +
                                 "': expected directory-admin or account-admin");
        EXPECT_EQ(e.topic, "role grant");
    }
    EXPECT_EQ(usage_error({"role", "revoke", "alice@", "account-admin"}).message,
              "invalid USER 'alice@': expected NAME or NAME@DOMAIN");
}

TEST(ParseArgs, ReadsThePhoneCommands)
{
    const auto bind = parsed({"account", "phone", "bind", "web", "+15551234567"});
    EXPECT_EQ(bind.command.id, CommandId::account_phone_bind);
    EXPECT_EQ(bind.command.operands, (std::vector<std::string>{"web", "+15551234567"}));
    EXPECT_EQ(usage_error({"account", "phone", "bind", "web"}).message, "missing NUMBER");
    EXPECT_EQ(usage_error({"account", "phone", "bind"}).message, "missing ACCOUNT");

    const auto typed = parsed({"account", "phone", "verify", "web"});
    EXPECT_EQ(typed.command.id, CommandId::account_phone_verify);
    EXPECT_EQ(typed.command.operands, std::vector<std::string>{"web"});
    EXPECT_EQ(parsed({"account", "phone", "verify", "web", "123456"}).command.operands.size(), 2U);
    EXPECT_EQ(usage_error({"account", "phone", "verify"}).message, "missing ACCOUNT");
    EXPECT_EQ(usage_error({"account", "phone", "verify", "web", "1", "2"}).message,
              "unexpected argument '2' for 'account phone verify'");
    EXPECT_EQ(usage_error({"account", "phone"}).message, "missing subcommand for 'account phone'");
}

TEST(ParseArgs, RequiresTheKindToSwitchTo)
{
    const auto inv = parsed({"account", "switch", "web", "--to", "cloud", "--acknowledge-risk"});
    EXPECT_EQ(inv.command.id, CommandId::account_switch);
    EXPECT_EQ(inv.command.value("--to"), "cloud");
    EXPECT_TRUE(inv.command.has("--acknowledge-risk"));
    EXPECT_FALSE(parsed({"account", "switch", "lab", "--to=resource"}).command.has(
        "--acknowledge-risk"));
    EXPECT_EQ(usage_error({"account", "switch", "web"}).message, "missing option '--to'");
    EXPECT_EQ(usage_error({"account", "switch", "web", "--to", "management"}).message,
              "invalid value 'management' for '--to': expected cloud or resource");
    EXPECT_EQ(usage_error({"account", "switch", "web", "--to"}).message,
              "missing value for '--to'");
    EXPECT_EQ(usage_error({"account", "switch", "--to", "cloud"}).message, "missing ACCOUNT");
}

TEST(ParseArgs, ReadsTheRootCommands)
{
    const auto recover = parsed({"account", "root", "recover", "lab"});
    EXPECT_EQ(recover.command.id, CommandId::account_root_recover);
    EXPECT_EQ(recover.command.operands, std::vector<std::string>{"lab"});
    EXPECT_TRUE(parsed({"account", "root", "recover", "lab", "--send-only"}).command.has(
        "--send-only"));
    EXPECT_TRUE(parsed({"account", "root", "recover", "lab", "--code"}).command.has("--code"));
    EXPECT_EQ(usage_error({"account", "root", "recover", "lab", "--send-only", "--code"}).message,
              "options '--send-only' and '--code' exclude each other");
    EXPECT_EQ(usage_error({"account", "root", "recover", "lab", "--code=123456"}).message,
              "option '--code' takes no value");
    EXPECT_EQ(usage_error({"account", "root", "recover"}).message, "missing ACCOUNT");

    EXPECT_EQ(parsed({"account", "root", "remove-credentials", "lab"}).command.id,
              CommandId::account_root_remove_credentials);
    EXPECT_EQ(usage_error({"account", "root", "remove-credentials"}).message, "missing ACCOUNT");
    EXPECT_EQ(usage_error({"account", "root"}).message, "missing subcommand for 'account root'");
}

TEST(ParseArgs, AllowsRecoveryForMoreThanNothingAndAtMostSevenDays)
{
    const auto inv = parsed({"account", "root", "allow-recovery", "lab", "--for", "2h"});
    EXPECT_EQ(inv.command.id, CommandId::account_root_allow_recovery);
    EXPECT_EQ(inv.command.value("--for"), "2h");
    for (const char* ok : {"1m", "30m", "2h", "1d", "7d", "168h"})
        EXPECT_EQ(parsed({"account", "root", "allow-recovery", "lab", "--for", ok})
                      .command.value("--for"),
                  ok);
    for (const char* bad : {"0m", "0d", "8d", "169h", "30", "30s", "1w", "-1h", "soon"}) {
        const auto e = usage_error({"account", "root", "allow-recovery", "lab", "--for", bad});
        EXPECT_EQ(e.message, "invalid value '" + std::string(bad) +
                                 "' for '--for': expected minutes, hours or days (30m, 2h, 1d), "
                                 "more than 0 and at most 7 days")
            << bad;
        EXPECT_EQ(e.topic, "account root allow-recovery");
    }
    EXPECT_EQ(usage_error({"account", "root", "allow-recovery", "lab"}).message,
              "missing option '--for'");
    EXPECT_EQ(parse_recovery_window("1d"), 86'400);
    EXPECT_FALSE(parse_recovery_window("0h").has_value());
}

TEST(ParseArgs, ReadsTheRootAccessCommandsOfTheDirectory)
{
    EXPECT_EQ(parsed({"directory", "root-access", "enable"}).command.id,
              CommandId::directory_root_access_enable);
    EXPECT_EQ(parsed({"directory", "root-access", "disable"}).command.id,
              CommandId::directory_root_access_disable);
    EXPECT_EQ(parsed({"directory", "root-access", "show"}).command.id,
              CommandId::directory_root_access_show);
    EXPECT_EQ(usage_error({"directory", "root-access"}).message,
              "missing subcommand for 'directory root-access'");
    EXPECT_EQ(usage_error({"directory", "root-access", "on"}).message,
              "unknown command 'directory root-access on'");
    EXPECT_EQ(usage_error({"directory", "root-access", "enable", "web"}).message,
              "unexpected argument 'web' for 'directory root-access enable'");
}

TEST(ParseArgs, ClosesAnAccountOnlyWithYesBecauseClosingIsFinal)
{
    const auto e = usage_error({"account", "close", "web"});
    EXPECT_EQ(e.message, "closing account 'web' is final: nobody logs on to it again; add '--yes' "
                         "to close it");
    EXPECT_EQ(e.topic, "account close");
    const auto inv = parsed({"account", "close", "web", "--yes"});
    EXPECT_EQ(inv.command.id, CommandId::account_close);
    EXPECT_EQ(inv.command.operands, std::vector<std::string>{"web"});
    EXPECT_EQ(usage_error({"account", "close", "--yes"}).message, "missing ACCOUNT");
}

TEST(ParseArgs, ReadsTheOtherRootOnlyTasks)
{
    const auto restore = parsed({"account", "restore-admin", "web", "alice"});
    EXPECT_EQ(restore.command.id, CommandId::account_restore_admin);
    EXPECT_EQ(restore.command.operands, (std::vector<std::string>{"web", "alice"}));
    EXPECT_EQ(usage_error({"account", "restore-admin", "web"}).message, "missing USER");
    EXPECT_EQ(usage_error({"account", "restore-admin", "web", "@x"}).message,
              "invalid USER '@x': expected NAME or NAME@DOMAIN");
    EXPECT_EQ(parsed({"account", "clear-logon-networks", "web"}).command.id,
              CommandId::account_clear_logon_networks);
    EXPECT_EQ(usage_error({"account", "clear-logon-networks"}).message, "missing ACCOUNT");
}

TEST(ParseArgs, ReadsAsBeforeTheCommandOrAmongItsOptions)
{
    const auto before = parsed({"--as", "alice@management.ex.internal", "role", "list"});
    EXPECT_EQ(before.globals.as, "alice@management.ex.internal");
    EXPECT_EQ(before.command.id, CommandId::role_list);
    EXPECT_EQ(parsed({"--as=root@lab.ex.internal", "account", "close", "lab", "--yes"}).globals.as,
              "root@lab.ex.internal");
    EXPECT_EQ(parsed({"account", "show", "web", "--as", "alice@web.ex.internal"}).globals.as,
              "alice@web.ex.internal");
    EXPECT_FALSE(parsed({"account", "show", "web"}).globals.as.has_value());
    // mfa enroll signs in for USER on the admin socket.
    EXPECT_EQ(parsed({"--as", "alice@web.ex.internal", "mfa", "enroll", "bob"}).globals.as,
              "alice@web.ex.internal");
}

TEST(ParseArgs, RejectsAsWithoutAUser)
{
    EXPECT_EQ(usage_error({"--as"}).message, "missing value for '--as'");
    EXPECT_EQ(usage_error({"role", "list", "--as"}).message, "missing value for '--as'");
    EXPECT_EQ(usage_error({"--as=", "role", "list"}).message, "empty value for '--as'");
    for (const char* bad : {"alice", "alice@", "@ex.internal", "a@b@c"})
        EXPECT_EQ(usage_error({"--as", bad, "role", "list"}).message,
                  "invalid value '" + std::string(bad) +
                      "' for '--as': expected a logon name, NAME@DOMAIN");
    const auto self = usage_error({"--as", "alice@web.ex.internal", "mfa", "enroll"});
    EXPECT_EQ(self.message, "'--as' signs in on the admin socket: give USER (without USER, "
                            "'mfa enroll' enrols yourself over the PAM socket)");
    EXPECT_EQ(self.topic, "mfa enroll");
    EXPECT_EQ(usage_error({"--as", "alice@web.ex.internal", "passkey", "add-key"}).message,
              "'--as' signs in on the admin socket: give USER (without USER, 'passkey add-key' "
              "enrols yourself over the PAM socket)");
}

TEST(HelpText, ListsAsAndTheNewGroups)
{
    EXPECT_NE(help_text("").find("--as USER"), std::string::npos);
    EXPECT_NE(help_text("role grant").find("--as"), std::string::npos);
    for (const char* group : {"role", "account phone", "account root", "directory root-access"})
        EXPECT_EQ(help_text(group).rfind("Usage: latchkeyctl " + std::string(group) +
                                             " SUBCOMMAND",
                                         0),
                  0U)
            << group;
    EXPECT_EQ(parsed({"account", "root", "--help"}).help_topic, "account root");
    EXPECT_EQ(parsed({"directory", "root-access", "show", "-h"}).help_topic,
              "directory root-access show");
    EXPECT_EQ(help_text("account switch")
                  .rfind("Usage: latchkeyctl account switch ACCOUNT --to cloud|resource\n", 0),
              0U)
        << help_text("account switch");
    EXPECT_EQ(help_text("account root recover")
                  .rfind("Usage: latchkeyctl account root recover ACCOUNT [--send-only | "
                         "--code]\n",
                         0),
              0U);
    EXPECT_EQ(help_text("account phone verify")
                  .rfind("Usage: latchkeyctl account phone verify ACCOUNT [CODE]\n", 0),
              0U);
}

// ---- requests ---------------------------------------------------------------------------

const core::TimePoint test_now = core::from_unix(nov23_10h);

template <class T>
T request_of(const std::vector<std::string>& args,
             std::optional<core::Secret> password = std::nullopt)
{
    auto request = build_request(parsed(args).command, test_now, std::move(password));
    EXPECT_TRUE(std::holds_alternative<T>(request));
    return std::holds_alternative<T>(request) ? std::get<T>(std::move(request)) : T{};
}

TEST(BuildRequest, InitsTheDirectoryWithTheDefaultManagementAccountName)
{
    const auto r =
        request_of<proto::DirectoryInit>({"directory", "init", "--domain", "ex.internal"});
    EXPECT_EQ(r.domain, "ex.internal");
    EXPECT_EQ(r.management_account, "management");
    EXPECT_EQ(request_of<proto::DirectoryInit>(
                  {"directory", "init", "--domain", "d", "--management-account", "mgmt"})
                  .management_account,
              "mgmt");
}

TEST(BuildRequest, CreatesResourceAccountsUnlessCloudIsAsked)
{
    EXPECT_EQ(request_of<proto::AccountCreate>({"account", "create", "web"}).kind,
              proto::AccountKind::resource);
    EXPECT_EQ(
        request_of<proto::AccountCreate>({"account", "create", "web", "--kind", "cloud"}).kind,
        proto::AccountKind::cloud);
}

TEST(BuildRequest, AddsAndRemovesAliases)
{
    const auto add =
        request_of<proto::AccountAlias>({"account", "alias", "add", "web", "a.example"});
    EXPECT_EQ(add.account, "web");
    EXPECT_EQ(add.domain, "a.example");
    EXPECT_TRUE(add.add);
    EXPECT_FALSE(
        request_of<proto::AccountAlias>({"account", "alias", "remove", "web", "a.example"}).add);
}

TEST(BuildRequest, NamesUsersWithAnOptionalAccount)
{
    const auto r =
        request_of<proto::UserCreate>({"user", "create", "alice", "--account", "web",
                                       "--display-name", "Alice L", "--no-console-logon"});
    EXPECT_EQ(r.ref.user, "alice");
    EXPECT_EQ(r.ref.account, "web");
    EXPECT_EQ(r.display_name, "Alice L");
    EXPECT_FALSE(r.console_logon);

    const auto plain = request_of<proto::UserShow>({"user", "show", "bob@web.ex.internal"});
    EXPECT_EQ(plain.ref.user, "bob@web.ex.internal");
    EXPECT_FALSE(plain.ref.account.has_value());
    EXPECT_TRUE(request_of<proto::UserCreate>({"user", "create", "carol"}).console_logon);
}

TEST(BuildRequest, ListsUsersOfEveryAccountUnlessOneIsNamed)
{
    EXPECT_FALSE(request_of<proto::UserList>({"user", "list"}).account.has_value());
    EXPECT_EQ(request_of<proto::UserList>({"user", "list", "--account", "web"}).account, "web");
}

TEST(BuildRequest, EnablesAndDisablesConsoleLogon)
{
    EXPECT_TRUE(request_of<proto::UserSetLogon>({"user", "enable-logon", "alice"}).enabled);
    EXPECT_FALSE(request_of<proto::UserSetLogon>({"user", "disable-logon", "alice"}).enabled);
}

TEST(BuildRequest, SendsATypedPasswordInCustomMode)
{
    const auto r = request_of<proto::UserSetPassword>({"user", "set-password", "alice"},
                                                      core::Secret("N3w-Passw0rd!"));
    EXPECT_EQ(r.mode, proto::PasswordMode::custom);
    ASSERT_TRUE(r.password.has_value());
    EXPECT_TRUE(r.password->equals("N3w-Passw0rd!"));
    EXPECT_FALSE(r.require_change.has_value());
}

TEST(BuildRequest, SendsNoPasswordWhenGeneratingOrKeeping)
{
    const auto gen = request_of<proto::UserSetPassword>(
        {"user", "set-password", "alice", "--generate", "--require-change"},
        core::Secret("ignored"));
    EXPECT_EQ(gen.mode, proto::PasswordMode::generate);
    EXPECT_FALSE(gen.password.has_value());
    EXPECT_EQ(gen.require_change, true);

    const auto keep = request_of<proto::UserSetPassword>(
        {"user", "set-password", "alice", "--keep", "--no-require-change"});
    EXPECT_EQ(keep.mode, proto::PasswordMode::keep);
    EXPECT_EQ(keep.require_change, false);
}

TEST(BuildRequest, SplitsAssignmentsAtTheFirstEqualsSign)
{
    const auto r = request_of<proto::SettingsSet>({"settings", "set", "--account", "web",
                                                   "allowed_networks=10.0.0.0/8,192.168.0.0/16",
                                                   "note=a=b", "mfa_required=yes"});
    EXPECT_EQ(r.account, "web");
    ASSERT_EQ(r.changes.size(), 3U);
    EXPECT_EQ(r.changes[0].key, "allowed_networks");
    EXPECT_EQ(r.changes[0].value, "10.0.0.0/8,192.168.0.0/16");
    EXPECT_EQ(r.changes[1].key, "note");
    EXPECT_EQ(r.changes[1].value, "a=b");
    EXPECT_EQ(request_of<proto::PolicySet>({"policy", "set", "min_length=12"}).changes.at(0).value,
              "12");
}

TEST(BuildRequest, UnlocksAUserWithAnOptionalAccount)
{
    const auto r = request_of<proto::UserUnlock>({"user", "unlock", "alice", "--account", "web"});
    EXPECT_EQ(r.ref.user, "alice");
    EXPECT_EQ(r.ref.account, "web");
    EXPECT_FALSE(request_of<proto::UserUnlock>({"user", "unlock", "a@b"}).ref.account.has_value());
}

TEST(BuildRequest, ListsTheSessionsOfEveryoneUnlessAUserIsNamed)
{
    EXPECT_FALSE(request_of<proto::SessionList>({"session", "list"}).user.has_value());
    EXPECT_EQ(request_of<proto::SessionList>({"session", "list", "alice"}).user, "alice");
}

TEST(BuildRequest, SetsOrRemovesAnEmailAddress)
{
    EXPECT_EQ(request_of<proto::UserSetEmail>({"user", "set-email", "alice", "a@example.com"}).email,
              "a@example.com");
    EXPECT_FALSE(request_of<proto::UserSetEmail>({"user", "set-email", "alice"}).email.has_value());
    EXPECT_EQ(request_of<proto::UserCreate>({"user", "create", "bob", "--email", "b@example.com"})
                  .email,
              "b@example.com");
}

TEST(BuildRequest, SetsOrResetsAShellAndAHomeDirectory)
{
    const auto shell = request_of<proto::UserSetUnix>({"user", "set-shell", "alice", "/bin/zsh"});
    EXPECT_EQ(shell.attribute, proto::UnixAttribute::shell);
    EXPECT_EQ(shell.value, "/bin/zsh");
    const auto home = request_of<proto::UserSetUnix>({"user", "set-home", "alice"});
    EXPECT_EQ(home.attribute, proto::UnixAttribute::home);
    EXPECT_EQ(home.ref.user, "alice");
    EXPECT_FALSE(home.value.has_value());
}

TEST(BuildRequest, EndsASessionByIdOrEveryOneOfAUser)
{
    const auto by_id = request_of<proto::SessionEnd>({"session", "end", "b92fc4a4"});
    EXPECT_EQ(by_id.id, "b92fc4a4");
    EXPECT_FALSE(by_id.user.has_value());
    const auto by_user = request_of<proto::SessionEnd>({"session", "end", "--user", "alice"});
    EXPECT_FALSE(by_user.id.has_value());
    EXPECT_EQ(by_user.user, "alice");
    EXPECT_EQ(usage_error({"session", "end"}).message,
              "give a session ID or '--user USER', not both");
    EXPECT_EQ(usage_error({"session", "end", "b92fc4a4", "--user", "alice"}).message,
              "give a session ID or '--user USER', not both");
}

TEST(BuildRequest, EnrolsANamedUserOrTheCallerWithItsPassword)
{
    const auto admin = request_of<proto::MfaEnroll>({"mfa", "enroll", "alice", "--account", "web"});
    ASSERT_TRUE(admin.ref.has_value());
    EXPECT_EQ(admin.ref->user, "alice");
    EXPECT_EQ(admin.ref->account, "web");
    EXPECT_FALSE(admin.password.has_value());
    const auto self =
        request_of<proto::MfaEnroll>({"mfa", "enroll"}, core::Secret("Own-Passw0rd"));
    EXPECT_FALSE(self.ref.has_value());
    ASSERT_TRUE(self.password.has_value());
    EXPECT_TRUE(self.password->equals("Own-Passw0rd"));
}

TEST(BuildRequest, ListsRemovesAndRenewsMfa)
{
    EXPECT_FALSE(request_of<proto::MfaList>({"mfa", "list"}).ref.has_value());
    EXPECT_EQ(request_of<proto::MfaList>({"mfa", "list", "bob"}).ref->user, "bob");
    EXPECT_EQ(request_of<proto::MfaRemove>({"mfa", "remove", "bob@x.example"}).ref.user,
              "bob@x.example");
    EXPECT_EQ(request_of<proto::MfaRecoveryCodes>({"mfa", "recovery-codes", "bob"}).ref.user,
              "bob");
}

TEST(BuildRequest, AsksForTheWholeAuditTrailUnlessFiltered)
{
    const auto r = request_of<proto::AuditList>({"audit"});
    EXPECT_FALSE(r.severity.has_value());
    EXPECT_FALSE(r.since.has_value());
    EXPECT_FALSE(r.user.has_value());
    EXPECT_EQ(r.limit, 100U);
}

TEST(BuildRequest, SendsTheAuditFiltersGiven)
{
    const auto r = request_of<proto::AuditList>(
        {"audit", "--severity", "warning", "--user", "root", "--limit", "10000"});
    EXPECT_EQ(r.severity, "warning");
    EXPECT_EQ(r.user, "root");
    EXPECT_EQ(r.limit, 10000U);
}

TEST(BuildRequest, TurnsEveryFormOfSinceIntoUnixSecondsCountingBackFromNow)
{
    const std::vector<std::pair<std::string, std::int64_t>> cases{
        {"2026-11-23T09:15:00Z", nov23_10h - 45 * 60},
        {"2026-11-23", nov23_10h - 10 * 3600},
        {"1700000000", 1'700'000'000},
        {"-30m", nov23_10h - 30 * 60},
        {"-1h", nov23_10h - 3600},
        {"-2d", nov23_10h - 2 * 86'400},
    };
    for (const auto& [since, expected] : cases)
        EXPECT_EQ(request_of<proto::AuditList>({"audit", "--since", since}).since, expected)
            << since;
}

TEST(BuildRequest, GrantsRevokesAndListsRoles)
{
    const auto grant = request_of<proto::RoleGrant>(
        {"role", "grant", "alice", "account-admin", "--account", "web"});
    EXPECT_EQ(grant.ref.user, "alice");
    EXPECT_EQ(grant.ref.account, "web");
    EXPECT_EQ(grant.role, "account-admin");
    const auto revoke = request_of<proto::RoleRevoke>(
        {"role", "revoke", "bob@management.ex.internal", "directory-admin"});
    EXPECT_EQ(revoke.ref.user, "bob@management.ex.internal");
    EXPECT_FALSE(revoke.ref.account.has_value());
    EXPECT_EQ(revoke.role, "directory-admin");
    EXPECT_FALSE(request_of<proto::RoleList>({"role", "list"}).account.has_value());
    EXPECT_EQ(request_of<proto::RoleList>({"role", "list", "--account", "web"}).account, "web");
}

TEST(BuildRequest, BindsAPhoneWithTheCodeGivenOrTyped)
{
    const auto bind =
        request_of<proto::PhoneBind>({"account", "phone", "bind", "web", "+15551234567"});
    EXPECT_EQ(bind.account, "web");
    EXPECT_EQ(bind.number, "+15551234567");

    const auto given =
        request_of<proto::PhoneVerify>({"account", "phone", "verify", "web", "123456"});
    EXPECT_EQ(given.account, "web");
    EXPECT_TRUE(given.code.equals("123456"));
    auto typed = build_request(parsed({"account", "phone", "verify", "web"}).command, test_now,
                               std::nullopt, core::Secret("654321"));
    ASSERT_TRUE(std::holds_alternative<proto::PhoneVerify>(typed));
    EXPECT_TRUE(std::get<proto::PhoneVerify>(typed).code.equals("654321"));
}

TEST(BuildRequest, SwitchesToTheKindAskedWithTheRiskAcknowledgedOnlyWhenSaid)
{
    const auto to_cloud = request_of<proto::AccountSwitch>(
        {"account", "switch", "web", "--to", "cloud", "--acknowledge-risk"});
    EXPECT_EQ(to_cloud.account, "web");
    EXPECT_EQ(to_cloud.to, proto::AccountKind::cloud);
    EXPECT_TRUE(to_cloud.acknowledge_risk);
    const auto to_resource =
        request_of<proto::AccountSwitch>({"account", "switch", "lab", "--to", "resource"});
    EXPECT_EQ(to_resource.to, proto::AccountKind::resource);
    EXPECT_FALSE(to_resource.acknowledge_risk);
    EXPECT_FALSE(
        request_of<proto::AccountSwitch>({"account", "switch", "web", "--to", "cloud"})
            .acknowledge_risk);
}

TEST(BuildRequest, AsksForARecoveryCodeThenSendsItWithTheNewPassword)
{
    const auto send = request_of<proto::RootRecover>({"account", "root", "recover", "lab"});
    EXPECT_EQ(send.account, "lab");
    EXPECT_FALSE(send.code.has_value());
    EXPECT_FALSE(send.password.has_value());

    auto with = build_request(parsed({"account", "root", "recover", "lab"}).command, test_now,
                              core::Secret("N3w-Root-Pass!"), core::Secret("123456"));
    ASSERT_TRUE(std::holds_alternative<proto::RootRecover>(with));
    const auto& r = std::get<proto::RootRecover>(with);
    EXPECT_EQ(r.account, "lab");
    ASSERT_TRUE(r.code.has_value());
    ASSERT_TRUE(r.password.has_value());
    EXPECT_TRUE(r.code->equals("123456"));
    EXPECT_TRUE(r.password->equals("N3w-Root-Pass!"));

    // --send-only never sends a code, whatever was read.
    auto only = build_request(parsed({"account", "root", "recover", "lab", "--send-only"}).command,
                              test_now, core::Secret("x"), core::Secret("1"));
    EXPECT_FALSE(std::get<proto::RootRecover>(only).code.has_value());
    EXPECT_FALSE(std::get<proto::RootRecover>(only).password.has_value());
}

TEST(BuildRequest, RemovesRootCredentialsAndOpensARecoveryWindowInSeconds)
{
    EXPECT_EQ(request_of<proto::RootRemoveCredentials>(
                  {"account", "root", "remove-credentials", "lab"})
                  .account,
              "lab");
    const std::vector<std::pair<std::string, std::int64_t>> cases{
        {"30m", 1800}, {"2h", 7200}, {"1d", 86'400}, {"7d", 604'800}};
    for (const auto& [text, seconds] : cases) {
        const auto r = request_of<proto::RootAllowRecovery>(
            {"account", "root", "allow-recovery", "lab", "--for", text});
        EXPECT_EQ(r.account, "lab");
        EXPECT_EQ(r.duration_s, seconds) << text;
    }
}

TEST(BuildRequest, SetsAndShowsCentralizedRootAccess)
{
    EXPECT_TRUE(request_of<proto::RootAccessSet>({"directory", "root-access", "enable"}).enabled);
    EXPECT_FALSE(
        request_of<proto::RootAccessSet>({"directory", "root-access", "disable"}).enabled);
    request_of<proto::RootAccessShow>({"directory", "root-access", "show"});
}

TEST(BuildRequest, NamesTheAccountOfEachRootOnlyTask)
{
    EXPECT_EQ(request_of<proto::AccountClose>({"account", "close", "web", "--yes"}).account, "web");
    const auto restore =
        request_of<proto::AccountRestoreAdmin>({"account", "restore-admin", "web", "alice"});
    EXPECT_EQ(restore.account, "web");
    EXPECT_EQ(restore.user, "alice");
    EXPECT_EQ(
        request_of<proto::AccountClearNetworks>({"account", "clear-logon-networks", "web"}).account,
        "web");
}

TEST(BuildRequest, LeavesTheSignInOutOfTheCommandsRequest)
{
    // --as is a dialogue of its own before the request; the request is the same.
    const auto r =
        request_of<proto::RoleList>({"--as", "alice@management.ex.internal", "role", "list"});
    EXPECT_FALSE(r.account.has_value());
}

TEST(ToError, UsesTheDaemonsMessageAndCode)
{
    proto::Failure f{0, "permission_denied", "only administrators may create users"};
    f.code = static_cast<std::uint16_t>(core::Errc::permission_denied);
    const auto e = to_error(f);
    EXPECT_EQ(e.message, "only administrators may create users");
    EXPECT_TRUE(e.is(core::Errc::permission_denied));
    EXPECT_EQ(to_error(proto::Failure{604, "policy_violation", ""}).message,
              "latchkeyd refused the request: policy_violation");
}

// ---- rendering --------------------------------------------------------------------------

TEST(FormatTable, AlignsColumnsUnderAHeaderWithoutTrailingBlanks)
{
    EXPECT_EQ(format_table({"NAME", "KIND", "USERS"},
                           {{"web", "resource", "2"}, {"mgmt", "management", "10"}}),
              "NAME  KIND        USERS\n"
              "web   resource    2\n"
              "mgmt  management  10\n");
}

TEST(FormatTable, CountsUtf8CharactersNotBytes)
{
    EXPECT_EQ(format_table({"NAME", "X"}, {{"Zoë", "1"}, {"Al", "2"}}), "NAME  X\n"
                                                                        "Zoë   1\n"
                                                                        "Al    2\n");
}

TEST(FormatBlock, AlignsValuesAfterTheLongestKey)
{
    EXPECT_EQ(format_block({{"name", "web"}, {"default domain", "web.ex.internal"}, {"empty", ""}}),
              "name:           web\n"
              "default domain: web.ex.internal\n"
              "empty:\n");
}

TEST(FormatTime, WritesIso8601Utc)
{
    EXPECT_EQ(format_time(0), "1970-01-01T00:00:00Z");
    EXPECT_EQ(format_time(1'700'000'000), "2023-11-14T22:13:20Z");
}

TEST(YesNo, WritesBooleansForPeople)
{
    EXPECT_EQ(yes_no(true), "yes");
    EXPECT_EQ(yes_no(false), "no");
}

proto::UserInfo alice()
{
    proto::UserInfo u;
    u.id = "u-1";
    u.account = "web";
    u.name = "alice";
    u.logon_name = "alice@web.ex.internal";
    u.display_name = "Alice";
    u.has_password = true;
    u.password_set_at = 1'700'000'000;
    u.require_change = true;
    u.created_at = 1'600'000'000;
    return u;
}

std::string human(const proto::Response& r)
{
    std::ostringstream out;
    render_human(r, out);
    return out.str();
}

std::string as_json(const proto::Response& r)
{
    std::ostringstream out;
    render_json(r, out);
    return out.str();
}

TEST(RenderHuman, ShowsAUserAsABlockWithTimesAndBooleansForPeople)
{
    const std::string text = human(proto::UserReply{alice(), std::nullopt});
    EXPECT_NE(text.find("logon name:           alice@web.ex.internal\n"), std::string::npos)
        << text;
    EXPECT_NE(text.find("password set:         2023-11-14T22:13:20Z\n"), std::string::npos);
    EXPECT_NE(text.find("password expires:     never\n"), std::string::npos);
    EXPECT_NE(text.find("change at next logon: yes\n"), std::string::npos);
    EXPECT_NE(text.find("console logon:        yes\n"), std::string::npos);
    EXPECT_EQ(text.find("Generated password"), std::string::npos);
}

TEST(RenderHuman, PrintsAGeneratedPasswordExactlyOnceOnItsOwnLine)
{
    const std::string text = human(proto::UserReply{alice(), core::Secret("q7R#t2mV9pLx")});
    EXPECT_EQ(count(text, "q7R#t2mV9pLx"), 1U);
    EXPECT_NE(text.find("\nq7R#t2mV9pLx\n"), std::string::npos) << text;
    EXPECT_NE(text.find("shown only once"), std::string::npos);
}

TEST(RenderHuman, ShowsTheUidOnceTheUserHasOne)
{
    auto u = alice();
    u.uid = 200000;
    const std::string text = human(proto::UserReply{u, std::nullopt});
    EXPECT_NE(text.find("\nuid:                  200000\ncreated:"), std::string::npos) << text;
}

TEST(RenderHuman, ShowsTheEndOfALockOnlyWhileThereIsOne)
{
    EXPECT_EQ(human(proto::UserReply{alice(), std::nullopt}).find("locked"), std::string::npos);
    auto locked = alice();
    locked.locked_until = 1'795'434'730;
    const std::string text = human(proto::UserReply{locked, std::nullopt});
    EXPECT_NE(text.find("change at next logon: yes\n"
                        "locked until:         2026-11-23T11:52:10Z\n"
                        "uid:                  -\n"),
              std::string::npos)
        << text;
}

TEST(RenderHuman, ListsUsersInATableThatMarksLockedOnes)
{
    auto bob = alice();
    bob.logon_name = "bob@web.ex.internal";
    bob.display_name = "";
    bob.require_change = false;
    bob.locked_until = 1'795'434'730;
    const std::string text = human(proto::UserListReply{{alice(), bob}});
    EXPECT_EQ(text,
              "LOGON NAME             DISPLAY NAME  CONSOLE LOGON  PASSWORD  CHANGE AT LOGON  "
              "LOCKED  CREATED\n"
              "alice@web.ex.internal  Alice         yes            yes       yes              "
              "no      2020-09-13T12:26:40Z\n"
              "bob@web.ex.internal    -             yes            yes       no               "
              "yes     2020-09-13T12:26:40Z\n");
    EXPECT_EQ(human(proto::UserListReply{}), "No users.\n");
}

proto::SessionInfo ssh_session()
{
    proto::SessionInfo s;
    s.id = "3f2a9c41-77d0-4f1e-9b1a-0c5e2d8f6a13";
    s.user = "alice@web.ex.internal";
    s.service = "sshd";
    s.tty = "ssh";
    s.rhost = "192.0.2.10";
    s.pid = 4242;
    s.logind_session = "7";
    s.logon_id = "l-1";
    s.method = "pwd";
    s.opened_at = 1'795'434'659;
    return s;
}

TEST(RenderHuman, ListsSessionsWithShortIdsAndADashForWhatIsUnknown)
{
    proto::SessionInfo console;
    console.id = "b71c";
    console.user = "bob@web.ex.internal";
    console.service = "login";
    console.tty = "tty1";
    console.opened_at = 1'795'428'000;
    EXPECT_EQ(human(proto::SessionListReply{{ssh_session(), console}}),
              "ID        USER                   SERVICE  TTY   RHOST       PID   METHOD  OPENED\n"
              "3f2a9c41  alice@web.ex.internal  sshd     ssh   192.0.2.10  4242  pwd     "
              "2026-11-23T11:50:59Z\n"
              "b71c      bob@web.ex.internal    login    tty1  -           -     -       "
              "2026-11-23T10:00:00Z\n");
    EXPECT_EQ(human(proto::SessionListReply{}), "No open sessions.\n");
}

TEST(RenderHuman, EscapesControlCharactersInSessionsSoTheyCannotDriveTheTerminal)
{
    auto s = ssh_session();
    s.rhost = "evil\x1b[2J\nhost";
    const std::string text = human(proto::SessionListReply{{s}});
    EXPECT_NE(text.find("evil\\x1b[2J\\nhost"), std::string::npos) << text;
    EXPECT_EQ(count(text, "\n"), 2U);
}

TEST(RenderJson, KeepsTheWholeSessionId)
{
    const std::string line = as_json(proto::SessionListReply{{ssh_session()}});
    EXPECT_NE(line.find("\"id\":\"3f2a9c41-77d0-4f1e-9b1a-0c5e2d8f6a13\""), std::string::npos)
        << line;
    EXPECT_NE(line.find("\"opened_at\":1795434659"), std::string::npos);
}

proto::AuditInfo audit_event(std::int64_t seq,
                             std::int64_t at,
                             std::string severity,
                             std::string event,
                             std::vector<proto::Assignment> fields)
{
    return proto::AuditInfo{seq, at, std::move(severity), std::move(event), std::move(fields)};
}

TEST(RenderHuman, PrintsAuditEventsOneALineNewestFirstWithFieldsInTheOrderReceived)
{
    const proto::AuditListReply r{{
        audit_event(41, 1'795'434'600, "notice", "user.password.reset",
                    {{"actor", "uid:0"}, {"account", "web"}, {"user", "alice"}}),
        audit_event(42, 1'795'434'659, "alert", "auth.deny",
                    {{"service", "sshd"},
                     {"user", "root"},
                     {"rhost", "127.0.0.1"},
                     {"reason", "root_disabled"}}),
        audit_event(40, 1'795'434'000, "info", "session.close", {}),
    }};
    EXPECT_EQ(human(r),
              "2026-11-23T11:50:59Z  alert    auth.deny            service=sshd user=root "
              "rhost=127.0.0.1 reason=root_disabled\n"
              "2026-11-23T11:50:00Z  notice   user.password.reset  actor=uid:0 account=web "
              "user=alice\n"
              "2026-11-23T11:40:00Z  info     session.close\n");
    EXPECT_EQ(human(proto::AuditListReply{}), "No audit events.\n");
}

TEST(FormatAuditLine, MatchesTheDocumentedShapeForOneEvent)
{
    EXPECT_EQ(format_audit_line(audit_event(1, 1'795'434'659, "alert", "auth.deny",
                                            {{"service", "sshd"},
                                             {"user", "root"},
                                             {"rhost", "127.0.0.1"},
                                             {"reason", "root_disabled"}})),
              "2026-11-23T11:50:59Z  alert    auth.deny  service=sshd user=root rhost=127.0.0.1 "
              "reason=root_disabled");
    EXPECT_EQ(format_audit_line(audit_event(2, 0, "warning", "user.lock", {{"user", "bob"}}), 12),
              "1970-01-01T00:00:00Z  warning  user.lock     user=bob");
}

TEST(FormatAuditLine, QuotesValuesThatWouldSplitWrongly)
{
    const auto line = format_audit_line(audit_event(
        1, 0, "notice", "settings.set",
        {{"empty", ""}, {"blank", "a b"}, {"eq", "k=v"}, {"quote", "say \"hi\""},
         {"slash", "a\\b"}, {"plain", "10.0.0.0/8,192.168.0.0/16"}}));
    EXPECT_EQ(line, "1970-01-01T00:00:00Z  notice   settings.set  empty=\"\" blank=\"a b\" "
                    "eq=\"k=v\" quote=\"say \\\"hi\\\"\" slash=\"a\\\\b\" "
                    "plain=10.0.0.0/8,192.168.0.0/16");
}

TEST(FormatAuditLine, EscapesControlCharactersSoNoValueCanForgeALine)
{
    // A user name as typed at an ssh login prompt by anyone at all.
    const std::string forged = "x\n2026-11-23T11:50:59Z  info     auth.allow  user=root";
    const auto line = format_audit_line(audit_event(
        1, 0, "warning", "auth.deny",
        {{"user", forged}, {"tty", "\x1b]0;owned\x07"}, {"rhost", "a\xc2\x9b" "31mb"}}));
    EXPECT_EQ(line.find('\n'), std::string::npos) << line;
    EXPECT_EQ(line.find('\x1b'), std::string::npos) << line;
    EXPECT_NE(line.find("user=\"x\\n2026-11-23T11:50:59Z  info     auth.allow  user=root\""),
              std::string::npos)
        << line;
    EXPECT_NE(line.find("tty=\"\\x1b]0;owned\\x07\""), std::string::npos) << line;
    EXPECT_NE(line.find("rhost=\"a\\u009b31mb\""), std::string::npos) << line;
}

TEST(Printable, LeavesUtf8TextAloneAndEscapesControls)
{
    EXPECT_EQ(printable("Zoë Ĳssel"), "Zoë Ĳssel");
    EXPECT_EQ(printable("a\tb\rc\x7f"), "a\\tb\\x0dc\\x7f");
    EXPECT_EQ(printable(std::string("nul\0!", 5)), "nul\\x00!");
}

TEST(RenderJson, PrintsTheAuditReplyAsOnTheWire)
{
    const std::string line = as_json(proto::AuditListReply{{audit_event(
        7, 1'795'434'659, "alert", "auth.deny", {{"service", "sshd"}, {"user", "root"}})}});
    EXPECT_EQ(line, "{\"events\":[{\"seq\":7,\"at\":1795434659,\"severity\":\"alert\","
                    "\"event\":\"auth.deny\",\"fields\":[{\"key\":\"service\",\"value\":"
                    "\"sshd\"},{\"key\":\"user\",\"value\":\"root\"}]}]}\n");
}

TEST(RenderHuman, ListsAccountsInATable)
{
    proto::AccountInfo a;
    a.name = "web";
    a.kind = proto::AccountKind::resource;
    a.default_domain = "web.ex.internal";
    a.aliases = {"shop.example", "www.example"};
    a.users = 3;
    a.created_at = 0;
    EXPECT_EQ(human(proto::AccountListReply{{a}}),
              "NAME  KIND      DEFAULT DOMAIN   ALIASES                    USERS  PHONE  CREATED\n"
              "web   resource  web.ex.internal  shop.example, www.example  3      -      "
              "1970-01-01T00:00:00Z\n");
    EXPECT_EQ(human(proto::AccountListReply{}), "No accounts.\n");
}

proto::AccountInfo web_account()
{
    proto::AccountInfo a;
    a.id = "a-1";
    a.name = "web";
    a.kind = proto::AccountKind::resource;
    a.default_domain = "web.ex.internal";
    a.users = 2;
    a.created_at = 0;
    return a;
}

proto::AccountInfo lab_account()
{
    proto::AccountInfo a;
    a.id = "a-2";
    a.name = "lab";
    a.kind = proto::AccountKind::cloud;
    a.default_domain = "lab.ex.internal";
    a.users = 1;
    a.created_at = 0;
    a.phone = "+15551234567";
    a.codes_sent_today = 3;
    proto::RootInfo root;
    root.exists = true;
    root.has_password = true;
    root.access_keys = 1;
    root.recovery_open = true;
    root.recovery_open_until = nov23_10h;
    a.root = root;
    return a;
}

TEST(RenderHuman, ShowsAnAccountsPhoneAndVerificationCodesAndNoRootWithoutOne)
{
    EXPECT_EQ(human(proto::AccountReply{web_account()}),
              "name:                     web\n"
              "kind:                     resource\n"
              "default domain:           web.ex.internal\n"
              "aliases:                  -\n"
              "users:                    2\n"
              "phone:                    -\n"
              "verification codes today: 0 of 100\n"
              "created:                  1970-01-01T00:00:00Z\n"
              "id:                       a-1\n");
}

TEST(RenderHuman, ShowsTheRootOfACloudAccountAndWhenAnAccountWasClosed)
{
    auto lab = lab_account();
    lab.closed_at = nov23_10h + 60;
    EXPECT_EQ(human(proto::AccountReply{lab}),
              "name:                     lab\n"
              "kind:                     cloud\n"
              "default domain:           lab.ex.internal\n"
              "aliases:                  -\n"
              "users:                    1\n"
              "phone:                    +15551234567\n"
              "verification codes today: 3 of 100\n"
              "closed:                   2026-11-23T10:01:00Z\n"
              "created:                  1970-01-01T00:00:00Z\n"
              "id:                       a-2\n"
              "root:\n"
              "  exists:        yes\n"
              "  password:      yes\n"
              "  mfa:           no\n"
              "  access keys:   1\n"
              "  recovery open: yes (window until 2026-11-23T10:00:00Z)\n");

    proto::AccountInfo bare = lab_account();
    bare.root = proto::RootInfo{};
    const std::string text = human(proto::AccountReply{bare});
    EXPECT_NE(text.find("  exists:        no\n"), std::string::npos) << text;
    EXPECT_NE(text.find("  recovery open: no\n"), std::string::npos) << text;
}

TEST(RenderHuman, ListsAccountsWithTheirPhoneAndAClosedColumnOnlyWhenOneIsClosed)
{
    auto lab = lab_account();
    lab.closed_at = nov23_10h;
    EXPECT_EQ(human(proto::AccountListReply{{lab, web_account()}}),
              "NAME  KIND      DEFAULT DOMAIN   ALIASES  USERS  PHONE         CREATED             "
              "  CLOSED\n"
              "lab   cloud     lab.ex.internal  -        1      +15551234567  1970-01-01T00:00:00Z "
              " 2026-11-23T10:00:00Z\n"
              "web   resource  web.ex.internal  -        2      -             1970-01-01T00:00:00Z "
              " -\n");
    EXPECT_EQ(human(proto::AccountListReply{{web_account()}}).find("CLOSED"), std::string::npos);
}

TEST(RenderHuman, ShowsWhetherTheDirectoryCentralizesRootAccess)
{
    proto::DirectoryInfo d;
    d.id = "d-1";
    d.domain = "ex.internal";
    d.management_account = "management";
    d.accounts = 3;
    d.root_access_centralized = true;
    EXPECT_EQ(human(proto::DirectoryReply{d}),
              "domain:                  ex.internal\n"
              "management account:      management\n"
              "accounts:                3\n"
              "centralized root access: enabled\n"
              "created:                 1970-01-01T00:00:00Z\n"
              "id:                      d-1\n");
    d.root_access_centralized = false;
    EXPECT_NE(human(proto::DirectoryReply{d}).find("centralized root access: disabled\n"),
              std::string::npos);
}

TEST(RenderHuman, ShowsRootAccessAndTheRootUserOfEveryMemberAccount)
{
    auto idle = lab_account();
    idle.name = "lab2";
    idle.root->recovery_open = false;
    idle.root->recovery_open_until.reset();
    idle.root->has_mfa = true;
    auto open = lab_account();
    open.root->recovery_open_until.reset();
    open.name = "lab3";
    EXPECT_EQ(human(proto::RootAccessReply{true, {lab_account(), idle, open, web_account()}}),
              "centralized root access: enabled\n"
              "\n"
              "ACCOUNT  KIND      ROOT  PASSWORD  MFA  RECOVERY\n"
              "lab      cloud     yes   yes       no   open until 2026-11-23T10:00:00Z\n"
              "lab2     cloud     yes   yes       yes  no\n"
              "lab3     cloud     yes   yes       no   open\n"
              "web      resource  -     -         -    -\n");
    EXPECT_EQ(human(proto::RootAccessReply{false, {}}),
              "centralized root access: disabled\n"
              "\n"
              "No member accounts.\n");
}

TEST(RenderHuman, ListsRolesActiveAndSelfRevoked)
{
    const proto::RoleListReply r{{
        proto::RoleInfo{"alice@management.ex.internal", "management", "directory-admin",
                        nov23_10h, "uid:0", std::nullopt},
        proto::RoleInfo{"bob@web.ex.internal", "web", "account-admin", nov23_10h + 3600,
                        "alice@management.ex.internal", nov23_10h + 7200},
    }};
    EXPECT_EQ(human(r),
              "USER                          ROLE             STATE         GRANTED BY           "
              "         GRANTED\n"
              "alice@management.ex.internal  directory-admin  active        uid:0                "
              "         2026-11-23T10:00:00Z\n"
              "bob@web.ex.internal           account-admin    self-revoked  "
              "alice@management.ex.internal  2026-11-23T11:00:00Z\n");
    EXPECT_EQ(human(proto::RoleListReply{}), "No roles.\n");
}

TEST(RenderJson, PrintsRolesRootAccessAndTheNewAccountFieldsAsOnTheWire)
{
    const std::string roles = as_json(proto::RoleListReply{{proto::RoleInfo{
        "bob@web.ex.internal", "web", "account-admin", 5, "uid:0", 9}}});
    EXPECT_EQ(roles, "{\"roles\":[{\"user\":\"bob@web.ex.internal\",\"account\":\"web\","
                     "\"role\":\"account-admin\",\"granted_at\":5,\"granted_by\":\"uid:0\","
                     "\"self_revoked_at\":9}]}\n");
    const std::string access = as_json(proto::RootAccessReply{true, {lab_account()}});
    EXPECT_EQ(access.rfind("{\"enabled\":true,\"members\":[{", 0), 0U) << access;
    EXPECT_NE(access.find("\"phone\":\"+15551234567\""), std::string::npos) << access;
    EXPECT_NE(access.find("\"root\":{\"exists\":true,\"has_password\":true,\"has_mfa\":false,"
                          "\"access_keys\":1,\"recovery_open\":true,\"recovery_open_until\":"
                          "1795428000}"),
              std::string::npos)
        << access;
    EXPECT_NE(access.find("\"codes_sent_today\":3,\"codes_per_day\":100"), std::string::npos);
}

TEST(RenderHuman, ShowsPolicyAndSettingsUnderTheKeysThatSetAccepts)
{
    const std::string policy = human(proto::PolicyReply{"web", proto::PasswordPolicy{}});
    EXPECT_NE(policy.find("account:             web\n"), std::string::npos) << policy;
    EXPECT_NE(policy.find("min_length:          8\n"), std::string::npos);
    EXPECT_NE(policy.find("require_symbol:      yes\n"), std::string::npos);
    EXPECT_NE(policy.find("max_age_days:        0 (passwords do not expire)\n"), std::string::npos);
    EXPECT_NE(policy.find("hard_expiry:         no\n"), std::string::npos);

    const std::string settings = human(proto::SettingsReply{"web", proto::SecuritySettings{}});
    EXPECT_NE(settings.find("session_duration_s:    21600 (6h)\n"), std::string::npos) << settings;
    EXPECT_NE(settings.find("allowed_networks:      anywhere\n"), std::string::npos);
    EXPECT_NE(settings.find("mfa_required:          no\n"), std::string::npos);
}

TEST(RenderHuman, PrintsTheMessageOfDone)
{
    EXPECT_EQ(human(proto::Done{"user alice deleted"}), "user alice deleted\n");
    EXPECT_EQ(human(proto::Done{}), "Done.\n");
}

TEST(RenderJson, PrintsTheReplyOnOneLineWithoutItsType)
{
    const std::string line = as_json(proto::UserReply{alice(), core::Secret("q7R#t2mV9pLx")});
    EXPECT_EQ(count(line, "\n"), 1U);
    EXPECT_EQ(line.back(), '\n');
    EXPECT_EQ(line.find("\"type\""), std::string::npos);
    EXPECT_NE(line.find("\"generated_password\":\"q7R#t2mV9pLx\""), std::string::npos) << line;
    EXPECT_NE(line.find("\"created_at\":1600000000"), std::string::npos);
    EXPECT_EQ(as_json(proto::Done{"ok"}), "{\"message\":\"ok\"}\n");
}

} // namespace
} // namespace latchkey::cli

namespace latchkey::cli {
namespace {

TEST(HelpText, SaysWhoMayRunEveryCommand)
{
    for (const auto& c : command_specs()) {
        const std::string help = help_text(c.path);
        EXPECT_NE(help.find("\nWho may run it: " + std::string(who_may_run(c.id)) + ".\n"),
                  std::string::npos)
            << c.path;
    }
    EXPECT_NE(help_text("account close").find("root user (--as root@DOMAIN)"), std::string::npos);
    EXPECT_NE(help_text("account switch").find("directory administrators"), std::string::npos);
}

} // namespace
} // namespace latchkey::cli
