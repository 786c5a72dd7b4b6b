// SPDX-License-Identifier: Apache-2.0
// The questions latchkeyctl commands ask before their request goes out.
#include "cli/questions.hpp"

#include <cctype>
#include <string>
#include <utility>

#include "cli/password_input.hpp"
#include "cli/requests.hpp"

namespace latchkey::cli {

namespace {

/// "alice", or "alice of account web" when --account names it.
std::string user_phrase(const ParsedCommand& cmd)
{
    std::string s = "'" + cmd.operands.at(0) + "'";
    if (const auto account = cmd.value("--account"))
        s += " of account '" + *account + "'";
    return s;
}

} // namespace

namespace questions {

core::Result<Typed> confirm_user_delete(const ParsedCommand& cmd)
{
    if (cmd.has("--yes"))
        return Typed{};
    if (!stdin_is_terminal())
        return core::fail(core::Errc::failed_precondition,
                          "refusing to delete user " + user_phrase(cmd) +
                              " without confirmation: standard input is not a terminal "
                              "(add --yes to delete it)");
    std::string prompt = "Delete user " + cmd.operands.at(0);
    if (const auto account = cmd.value("--account"))
        prompt += " of account " + *account;
    LATCHKEY_TRY(answer, ask(prompt + "? [y/N] "));
    for (auto& c : answer)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    while (!answer.empty() && std::isspace(static_cast<unsigned char>(answer.back())) != 0)
        answer.pop_back();
    if (answer == "y" || answer == "yes")
        return Typed{};
    return core::fail(core::Errc::failed_precondition,
                      "user " + user_phrase(cmd) + " was not deleted");
}

core::Result<Typed> new_user_password(const ParsedCommand& cmd)
{
    Typed typed;
    if (password_mode(cmd) != proto::PasswordMode::custom)
        return typed;
    LATCHKEY_TRY(password, read_new_password(!cmd.has("--stdin")));
    typed.password = std::move(password);
    return typed;
}

core::Result<Typed> phone_code(const ParsedCommand& cmd)
{
    Typed typed;
    if (cmd.operands.size() >= 2)
        return typed;
    LATCHKEY_TRY(code, read_verification_code());
    typed.code = std::move(code);
    return typed;
}

} // namespace questions

} // namespace latchkey::cli
