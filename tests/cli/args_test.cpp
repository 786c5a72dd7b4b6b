// SPDX-License-Identifier: Apache-2.0
// Unit tests of latchkeyctl's argument parsing, request building and rendering (no daemon).
#include "cli/args.hpp"

#include <algorithm>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "cli/commands.hpp"
#include "cli/render.hpp"

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

TEST(ResolveSocket, PrefersTheOptionThenTheEnvironmentThenTheDefault)
{
    GlobalOptions g;
    EXPECT_EQ(resolve_socket(g, nullptr), "/run/latchkey/admin.sock");
    EXPECT_EQ(resolve_socket(g, ""), "/run/latchkey/admin.sock");
    EXPECT_EQ(resolve_socket(g, "/env.sock"), "/env.sock");
    g.socket = "/opt.sock";
    EXPECT_EQ(resolve_socket(g, "/env.sock"), "/opt.sock");
}

// ---- requests ---------------------------------------------------------------------------

template <class T>
T request_of(const std::vector<std::string>& args,
             std::optional<core::Secret> password = std::nullopt)
{
    auto request = build_request(parsed(args).command, std::move(password));
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

TEST(RenderHuman, ListsUsersInATable)
{
    const std::string text = human(proto::UserListReply{{alice()}});
    EXPECT_EQ(
        text,
        "LOGON NAME             DISPLAY NAME  CONSOLE LOGON  PASSWORD  CHANGE AT LOGON  CREATED\n"
        "alice@web.ex.internal  Alice         yes            yes       yes              "
        "2020-09-13T12:26:40Z\n");
    EXPECT_EQ(human(proto::UserListReply{}), "No users.\n");
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
              "NAME  KIND      DEFAULT DOMAIN   ALIASES                    USERS  CREATED\n"
              "web   resource  web.ex.internal  shop.example, www.example  3      "
              "1970-01-01T00:00:00Z\n");
    EXPECT_EQ(human(proto::AccountListReply{}), "No accounts.\n");
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
