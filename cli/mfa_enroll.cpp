// SPDX-License-Identifier: Apache-2.0
// `latchkeyctl mfa enroll` and `latchkeyctl passkey add-key`: the enrolments a person takes
// part in, for a user an administrator names (admin socket) or for themselves (PAM socket).
#include "cli/mfa_enroll.hpp"

#include <cstdlib>
#include <iostream>
#include <string>
#include <utility>

#include <unistd.h>

#include "cli/commands.hpp"
#include "cli/password_input.hpp"
#include "cli/render.hpp"
#include "cli/sign_in.hpp"
#include "proto/client.hpp"
#include "proto/key_helper.hpp"
#include "proto/wire.hpp"

namespace latchkey::cli {

namespace {

/// Tries a person gets on a terminal; the daemon gives up on the enrolment after five.
constexpr int max_tries = 3;

template <class T>
core::Result<T> expect(proto::Response reply, bool json, std::ostream& out)
{
    if (json)
        render_json(reply, out);
    if (auto* failure = std::get_if<proto::Failure>(&reply))
        return core::fail(to_error(*failure));
    if (auto* r = std::get_if<T>(&reply))
        return std::move(*r);
    return core::fail(core::Errc::protocol_malformed,
                      "latchkeyd answered with an unexpected '" +
                          std::string(proto::type_name(reply)) + "'");
}

void write(std::ostream& out, std::string_view s)
{
    out.write(s.data(), static_cast<std::streamsize>(s.size()));
}

/// A code from the person (a terminal, echoed) or the next line of standard input.
core::Result<core::Secret> read_code(bool terminal, std::string_view prompt)
{
    if (terminal) {
        LATCHKEY_TRY(typed, ask(prompt));
        core::Secret code(typed);
        core::wipe(typed.data(), typed.size());
        return code;
    }
    auto line = read_secret_line();
    if (!line)
        return core::fail(core::Errc::invalid_argument,
                          "expected two codes on standard input, one a line");
    return line;
}

/// The PAM socket for yourself; for USER the admin socket, signed in first with --as.
core::Result<proto::Client> connect_for(const Invocation& inv, bool self, std::ostream& out)
{
    if (!self)
        return connect_admin(inv, out);
    proto::ClientOptions options;
    options.socket_path = resolve_pam_socket(inv.globals, std::getenv(pam_socket_env.data()));
    options.timeout = inv.globals.timeout;
    options.trusted_server_uids = proto::default_trusted_uids({::getuid()});
    return proto::Client::connect(options);
}

/// Your own password for an enrolment of your own (a terminal, or the first line of standard
/// input); nothing when an administrator names the user.
core::Result<std::optional<core::Secret>> own_password(bool self)
{
    if (!self)
        return std::optional<core::Secret>();
    if (stdin_is_terminal()) {
        LATCHKEY_TRY(typed, read_password("Password: "));
        return std::optional<core::Secret>(std::move(typed));
    }
    LATCHKEY_TRY(line, read_secret_line());
    return std::optional<core::Secret>(std::move(line));
}

/// latchkey-fido: where meson installed it, or $LATCHKEY_FIDO_HELPER.
std::string fido_helper()
{
    const char* given = std::getenv("LATCHKEY_FIDO_HELPER");
    return given != nullptr && given[0] == '/' ? std::string(given)
                                               : std::string(LATCHKEY_FIDO_HELPER);
}

} // namespace

core::Status run_mfa_enroll(const Invocation& inv, std::ostream& out, core::TimePoint now)
{
    const ParsedCommand& cmd = inv.command;
    const bool self = cmd.operands.empty();
    const bool terminal = stdin_is_terminal() && ::isatty(STDOUT_FILENO) == 1 && !inv.globals.json;

    LATCHKEY_TRY(password, own_password(self));
    LATCHKEY_TRY(client, connect_for(inv, self, out));

    LATCHKEY_TRY(sent, client.call(build_request(cmd, now, std::move(password))));
    LATCHKEY_TRY(challenge, expect<proto::MfaChallenge>(std::move(sent), inv.globals.json, out));
    if (terminal) {
        render_human(proto::Response(std::move(challenge)), out);
    } else if (!inv.globals.json) {
        // For scripts: the URI alone on its line; the codes come from standard input.
        write(out, challenge.uri.view());
        out << "\n";
    }
    out << std::flush;

    for (int attempt = 1;; ++attempt) {
        if (terminal)
            out << "Enter the code the app shows now; then wait for it to change and enter the "
                   "next one.\n"
                << std::flush;
        proto::MfaConfirm confirm;
        LATCHKEY_TRY(first, read_code(terminal, "Verification code: "));
        LATCHKEY_TRY(second, read_code(terminal, "Next verification code: "));
        confirm.first_code = std::move(first);
        confirm.second_code = std::move(second);
        client.extend_deadline(); // the person's reading and typing time is not the daemon's
        LATCHKEY_TRY(answered, client.call(proto::Request(std::move(confirm))));
        auto enrolled = expect<proto::MfaEnrolled>(std::move(answered), inv.globals.json, out);
        if (enrolled) {
            if (!inv.globals.json)
                render_human(proto::Response(std::move(*enrolled)), out);
            return {};
        }
        if (!terminal || attempt == max_tries ||
            !enrolled.error().is(core::Errc::invalid_argument))
            return core::fail(std::move(enrolled).error());
        out << "Sorry: " << enrolled.error().message << ". Try again.\n";
    }
}

core::Status run_passkey_add_key(const Invocation& inv, std::ostream& out, core::TimePoint now)
{
    const ParsedCommand& cmd = inv.command;
    const bool self = cmd.operands.empty();
    const bool json = inv.globals.json;
    // What the person needs to read goes to standard output, or with --json to standard error.
    std::ostream& info = json ? std::cerr : out;

    LATCHKEY_TRY(password, own_password(self));
    LATCHKEY_TRY(client, connect_for(inv, self, out));
    LATCHKEY_TRY(sent, client.call(build_request(cmd, now, std::move(password))));
    LATCHKEY_TRY(started, expect<proto::KeyEnrolCeremony>(std::move(sent), json, out));

    info << "Enrolling a security key for " << started.user << ".\n" << std::flush;
    proto::HelperKeys keys(fido_helper(), cmd.value("--device").value_or("usb"));
    proto::KeyPrompts prompts;
    prompts.ask_pin = [](int retries) -> core::Result<core::Secret> {
        const std::string prompt =
            retries > 0 && retries < 4
                ? "PIN for your security key (" + std::to_string(retries) + " tries left): "
                : std::string("PIN for your security key: ");
        if (stdin_is_terminal())
            return read_password(prompt);
        auto line = read_secret_line();
        if (!line)
            return core::fail(core::Errc::invalid_argument,
                              "the security key wants its PIN: give it on standard input");
        return line;
    };
    prompts.touch = [&info]() -> core::Status {
        info << "Touch your security key.\n" << std::flush;
        return {};
    };
    LATCHKEY_TRY(result, keys.run(started.ceremony, prompts));
    client.extend_deadline(); // the person's touch and PIN are not the daemon's time
    if (!result.problem.empty()) {
        const auto problem = proto::problem_named(result.problem);
        return core::fail(core::Error(problem, std::string(proto::problem_message(problem)) +
                                                   " Nothing was enrolled."));
    }
    proto::KeyEnrolFinish finish{std::move(result), cmd.value("--name").value_or("")};
    LATCHKEY_TRY(answered, client.call(proto::Request(std::move(finish))));
    LATCHKEY_TRY(added, expect<proto::PasskeyReply>(std::move(answered), json, out));
    if (!json) {
        out << "Security key enrolled: it logs " << started.user
            << " on at the console and for sudo.\n";
        render_human(proto::Response(std::move(added)), out);
    }
    return {};
}

} // namespace latchkey::cli
