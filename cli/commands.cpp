// SPDX-License-Identifier: Apache-2.0
// Running a latchkeyctl command: asking the person what it needs, calling latchkeyd, rendering.
#include "cli/commands.hpp"

#include <cctype>
#include <string>
#include <utility>
#include <vector>

#include "cli/mfa_enroll.hpp"
#include "cli/password_input.hpp"
#include "cli/render.hpp"
#include "cli/requests.hpp"
#include "cli/root_recover.hpp"
#include "cli/sign_in.hpp"
#include "proto/client.hpp"

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

core::Status confirm_delete(const ParsedCommand& cmd)
{
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
        return {};
    return core::fail(core::Errc::failed_precondition,
                      "user " + user_phrase(cmd) + " was not deleted");
}

/// The new password of a custom reset: typed twice on a terminal (once, still without echo,
/// with --stdin), or one line from stdin.
core::Result<core::Secret> new_password(const ParsedCommand& cmd)
{
    return read_new_password(!cmd.has("--stdin"));
}

/// Asks what the command needs: confirmation of `user delete`, the new password of a custom
/// reset, the code of `account phone verify` without CODE.
core::Result<Typed> ask_for(const ParsedCommand& cmd)
{
    Typed typed;
    if (cmd.id == CommandId::user_delete && !cmd.has("--yes"))
        LATCHKEY_TRY_STATUS(confirm_delete(cmd));
    if (cmd.id == CommandId::user_set_password &&
        password_mode(cmd) == proto::PasswordMode::custom) {
        LATCHKEY_TRY(password, new_password(cmd));
        typed.password = std::move(password);
    }
    if (cmd.id == CommandId::account_phone_verify && cmd.operands.size() < 2) {
        LATCHKEY_TRY(code, read_verification_code());
        typed.code = std::move(code);
    }
    return typed;
}

} // namespace

proto::Request build_request(const ParsedCommand& cmd,
                             core::TimePoint now,
                             std::optional<core::Secret> password,
                             std::optional<core::Secret> code)
{
    return spec_of(cmd.id).build(cmd, now, Typed{std::move(password), std::move(code)});
}

core::Error to_error(const proto::Failure& f)
{
    std::string message = f.message;
    if (message.empty())
        message = f.error.empty()
                      ? "latchkeyd refused the request (code " + std::to_string(f.code) + ")"
                      : "latchkeyd refused the request: " + f.error;
    return core::Error{std::error_code(f.code, core::latchkey_category()), std::move(message)};
}

core::Status show_reply(const proto::Response& reply, bool json, std::ostream& out)
{
    if (json)
        render_json(reply, out);
    if (const auto* failure = std::get_if<proto::Failure>(&reply))
        return core::fail(to_error(*failure));
    if (!json)
        render_human(reply, out);
    return {};
}

core::Status run(const Invocation& inv, std::ostream& out, core::TimePoint now)
{
    switch (inv.action) {
    case Action::help:
        out << help_text(inv.help_topic);
        return {};
    case Action::version:
        out << version_text();
        return {};
    case Action::run:
        break;
    }

    const ParsedCommand& cmd = inv.command;
    if (cmd.id == CommandId::mfa_enroll)
        return run_mfa_enroll(inv, out, now);
    if (cmd.id == CommandId::account_root_recover)
        return run_root_recover(inv, out, now);

    // Everything asked of the person comes before the request, and before connecting (the
    // client's deadline starts then) unless --as signs in first: its answers come first, on the
    // terminal and on standard input, and the deadline restarts after the command's own.
    std::optional<proto::Client> client;
    if (inv.globals.as) {
        LATCHKEY_TRY(connected, connect_admin(inv, out));
        client.emplace(std::move(connected));
    }
    LATCHKEY_TRY(typed, ask_for(cmd));
    const proto::Request request =
        build_request(cmd, now, std::move(typed.password), std::move(typed.code));
    if (client) {
        client->extend_deadline();
    } else {
        LATCHKEY_TRY(connected, connect_admin(inv, out));
        client.emplace(std::move(connected));
    }
    LATCHKEY_TRY(reply, client->call(request));
    return show_reply(reply, inv.globals.json, out);
}

} // namespace latchkey::cli
