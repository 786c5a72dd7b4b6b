// SPDX-License-Identifier: Apache-2.0
// Unit tests of latchkeyctl's command table: every row is whole and names one command.
#include "cli/command_table.hpp"

#include <set>
#include <string>
#include <string_view>
#include <variant>

#include <gtest/gtest.h>

#include "cli/args.hpp"

namespace latchkey::cli {
namespace {

TEST(CommandTable, HasOneRowForEachCommandIdAndPath)
{
    std::set<CommandId> ids;
    std::set<std::string_view> paths;
    for (const auto& c : command_specs()) {
        EXPECT_TRUE(ids.insert(c.id).second) << c.path;
        EXPECT_TRUE(paths.insert(c.path).second) << c.path;
        EXPECT_EQ(&spec_of(c.id), &c) << c.path;
    }
}

TEST(CommandTable, SaysWhoMayRunEveryCommand)
{
    for (const auto& c : command_specs()) {
        EXPECT_FALSE(who_may_run(c.id).empty()) << c.path;
        EXPECT_EQ(who_may_run(c.id), c.who.text) << c.path;
    }
}

TEST(CommandTable, NamesTheBuilderOfEveryCommandsRequest)
{
    for (const auto& c : command_specs())
        EXPECT_NE(c.build, nullptr) << c.path;
}

TEST(CommandTable, BuildsTheRequestOfAParsedCommandThroughItsRow)
{
    const auto parsed = parse_args({"account", "alias", "remove", "web", "shop.example.com"});
    ASSERT_TRUE(std::holds_alternative<Invocation>(parsed));
    const ParsedCommand& cmd = std::get<Invocation>(parsed).command;
    const auto request = spec_of(cmd.id).build(cmd, core::TimePoint{}, Typed{});
    const auto* alias = std::get_if<proto::AccountAlias>(&request);
    ASSERT_NE(alias, nullptr);
    EXPECT_EQ(alias->domain, "shop.example.com");
    EXPECT_FALSE(alias->add);
}

TEST(CommandTable, GivesItsOwnRunOnlyToTheCommandsOfMoreThanOneRequest)
{
    for (const auto& c : command_specs())
        EXPECT_EQ(c.run != nullptr, c.id == CommandId::mfa_enroll ||
                                        c.id == CommandId::account_root_recover ||
                                        c.id == CommandId::passkey_add_key)
            << c.path;
}

TEST(CommandTable, NamesEveryGroupACommandIsIn)
{
    // Help for "account root" lists its commands; a command outside every group would be lost.
    for (const auto& c : command_specs()) {
        const std::string_view path = c.path;
        for (auto space = path.find(' '); space != std::string_view::npos;
             space = path.find(' ', space + 1)) {
            const std::string group(path.substr(0, space));
            EXPECT_EQ(help_text(group).rfind("Usage: latchkeyctl " + group + " SUBCOMMAND", 0), 0U)
                << group;
        }
    }
}

TEST(CommandTable, ListsOnlyOptionalOperandsLast)
{
    for (const auto& c : command_specs())
        for (std::size_t k = 0; k + 1 < c.operands.size(); ++k)
            EXPECT_FALSE(c.operands[k].name.starts_with('[')) << c.path;
}

} // namespace
} // namespace latchkey::cli
