// SPDX-License-Identifier: Apache-2.0
// `latchkeyctl account root recover`.
#include "cli/root_recover.hpp"

#include <string>
#include <utility>

#include "cli/commands.hpp"
#include "cli/password_input.hpp"
#include "cli/sign_in.hpp"
#include "proto/client.hpp"

namespace latchkey::cli {

core::Status run_root_recover(const Invocation& inv, std::ostream& out, core::TimePoint now)
{
    const ParsedCommand& cmd = inv.command;
    LATCHKEY_TRY(client, connect_admin(inv, out));
    const bool send = !cmd.has("--code");
    if (send) {
        LATCHKEY_TRY(sent, client.call(build_request(cmd, now)));
        LATCHKEY_TRY_STATUS(show_reply(sent, inv.globals.json, out));
        out << std::flush;
        if (cmd.has("--send-only"))
            return {};
    }

    LATCHKEY_TRY(code, read_verification_code());
    auto password = read_new_password(true);
    if (!password) {
        core::Error e = std::move(password).error();
        if (send && e.is(core::Errc::invalid_argument))
            e.message += " (to use the code sent, run 'latchkeyctl account root recover " +
                         cmd.operands.at(0) + " --code')";
        return core::fail(std::move(e));
    }
    client.extend_deadline(); // waiting for the code and typing are the person's time
    LATCHKEY_TRY(reply,
                 client.call(build_request(cmd, now, std::move(*password), std::move(code))));
    return show_reply(reply, inv.globals.json, out);
}

} // namespace latchkey::cli
