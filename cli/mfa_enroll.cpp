// SPDX-License-Identifier: Apache-2.0
// `latchkeyctl mfa enroll`.
#include "cli/mfa_enroll.hpp"

#include <unistd.h>

#include <cstdlib>
#include <string>
#include <utility>

#include "cli/commands.hpp"
#include "cli/password_input.hpp"
#include "cli/render.hpp"
#include "cli/sign_in.hpp"
#include "proto/client.hpp"
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

} // namespace

core::Status run_mfa_enroll(const Invocation& inv, std::ostream& out, core::TimePoint now)
{
    const ParsedCommand& cmd = inv.command;
    const bool self = cmd.operands.empty();
    const bool terminal = stdin_is_terminal() && ::isatty(STDOUT_FILENO) == 1 && !inv.globals.json;

    std::optional<core::Secret> password;
    if (self) {
        if (stdin_is_terminal()) {
            LATCHKEY_TRY(typed, read_password("Password: "));
            password = std::move(typed);
        } else {
            LATCHKEY_TRY(line, read_secret_line());
            password = std::move(line);
        }
    }

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

} // namespace latchkey::cli
