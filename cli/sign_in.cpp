// SPDX-License-Identifier: Apache-2.0
// `latchkeyctl --as USER`: the logon dialogue on the admin socket, relayed to the person.
#include "cli/sign_in.hpp"

#include <unistd.h>

#include <cstdlib>
#include <iostream>
#include <utility>

#include "cli/commands.hpp"
#include "cli/password_input.hpp"
#include "cli/render.hpp"
#include "proto/wire.hpp"

namespace latchkey::cli {

namespace {

using proto::PromptStyle;

/// A daemon that keeps asking is broken, not a person who keeps typing (as pam_latchkey).
constexpr int max_steps = 64;

void show(const SignInIo& io, PromptStyle style, std::string_view text)
{
    if (text.empty())
        return;
    std::ostream* to = style == PromptStyle::error ? io.error : io.info;
    if (to == nullptr)
        return;
    to->write(text.data(), static_cast<std::streamsize>(text.size()));
    *to << "\n" << std::flush;
}

core::Result<proto::AuthReply> step(proto::Client& client, proto::Request request)
{
    const std::string type(proto::type_name(request));
    LATCHKEY_TRY(response, client.call(request));
    if (auto* reply = std::get_if<proto::AuthReply>(&response))
        return std::move(*reply);
    if (const auto* failure = std::get_if<proto::Failure>(&response))
        return core::fail(to_error(*failure));
    return core::fail(core::Errc::protocol_malformed,
                      "latchkeyd answered " + type + " with an unexpected '" +
                          std::string(proto::type_name(response)) + "'");
}

std::string outcome_name(proto::Outcome o)
{
    return boost::describe::enum_to_string(o, "unknown");
}

} // namespace

core::Result<core::Secret> answer_from_person(const proto::Prompt& prompt)
{
    if (!stdin_is_terminal()) {
        auto line = read_secret_line();
        if (!line && line.error().is(core::Errc::io_failed))
            return core::fail(core::Errc::io_failed, "no answer on standard input to '" +
                                                         printable(prompt.text) + "'");
        return line;
    }
    if (prompt.style == PromptStyle::echo_off)
        return read_password(prompt.text);
    LATCHKEY_TRY(typed, ask(prompt.text));
    core::Secret answer(typed);
    core::wipe(typed.data(), typed.size());
    return answer;
}

core::Status sign_in(proto::Client& client, const std::string& user, const SignInIo& io)
{
    proto::AuthBegin begin;
    begin.service = std::string(sign_in_service);
    begin.user = user;
    proto::Request request = std::move(begin);
    for (int n = 0; n < max_steps; ++n) {
        LATCHKEY_TRY(reply, step(client, std::move(request)));
        for (const auto& m : reply.messages)
            show(io, m.style, m.text);
        if (reply.prompt && reply.verdict)
            return core::fail(core::Errc::protocol_malformed,
                              "latchkeyd answered the sign-in with both a prompt and a verdict");
        if (reply.verdict) {
            const proto::Verdict& v = *reply.verdict;
            if (v.outcome == proto::Outcome::success) {
                show(io, PromptStyle::info, v.message);
                return {};
            }
            return core::fail(core::Errc::permission_denied,
                              "signing in as '" + printable(user) + "' failed: " +
                                  (v.message.empty() ? outcome_name(v.outcome)
                                                     : printable(v.message)));
        }
        if (!reply.prompt)
            return core::fail(core::Errc::protocol_malformed,
                              "latchkeyd answered the sign-in with neither prompt nor verdict");
        const proto::Prompt& p = *reply.prompt;
        core::Secret answer;
        if (p.style == PromptStyle::info || p.style == PromptStyle::error) {
            // Nothing to type ("Touch your security key"): the daemon waits for the empty answer.
            show(io, p.style, p.text);
        } else {
            LATCHKEY_TRY(given, io.answer(p));
            answer = std::move(given);
        }
        client.extend_deadline(); // the person's typing time is not the daemon's
        request = proto::AuthAnswer{std::move(answer), std::nullopt};
    }
    return core::fail(core::Errc::protocol_malformed,
                      "latchkeyd asked more than " + std::to_string(max_steps) +
                          " questions while signing in");
}

core::Result<proto::Client> connect_admin(const Invocation& inv, std::ostream& out)
{
    proto::ClientOptions options;
    options.socket_path = resolve_socket(inv.globals, std::getenv(admin_socket_env.data()));
    options.timeout = inv.globals.timeout;
    options.trusted_server_uids = proto::default_trusted_uids({::getuid()});
    LATCHKEY_TRY(client, proto::Client::connect(options));
    if (inv.globals.as) {
        const SignInIo io{inv.globals.json ? &std::cerr : &out, &std::cerr, answer_from_person};
        LATCHKEY_TRY_STATUS(sign_in(client, *inv.globals.as, io));
        client.extend_deadline();
    }
    return client;
}

} // namespace latchkey::cli
