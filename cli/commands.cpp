// SPDX-License-Identifier: Apache-2.0
// Running a latchkeyctl command: asking the person what it needs, calling latchkeyd, rendering.
#include "cli/commands.hpp"

#include <string>
#include <utility>

#include "cli/render.hpp"
#include "cli/sign_in.hpp"
#include "proto/client.hpp"

namespace latchkey::cli {

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
    const CommandSpec& spec = spec_of(cmd.id);
    if (spec.run != nullptr)
        return spec.run(inv, out, now);

    // Everything asked of the person comes before the request, and before connecting (the
    // client's deadline starts then) unless --as signs in first: its answers come first, on the
    // terminal and on standard input, and the deadline restarts after the command's own.
    std::optional<proto::Client> client;
    if (inv.globals.as) {
        LATCHKEY_TRY(connected, connect_admin(inv, out));
        client.emplace(std::move(connected));
    }
    Typed typed;
    if (spec.ask != nullptr) {
        LATCHKEY_TRY(answers, spec.ask(cmd));
        typed = std::move(answers);
    }
    const proto::Request request = spec.build(cmd, now, std::move(typed));
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
