// SPDX-License-Identifier: Apache-2.0
// The hooks' logic. latchkeyd drives every dialogue; the module only relays:
//
//   begin (AuthBegin / PasswordChangeBegin / AccountCheck)
//     │
//     ▼
//   AuthReply ──► show each message (info is dropped under PAM_SILENT)
//     │
//     ├─ prompt ──► answer it: from PAM_AUTHTOK / PAM_OLDAUTHTOK when the options say so,
//     │             else from the person (then the daemon's deadline restarts)
//     │             ──► AuthAnswer ──► next AuthReply (at most max_steps)
//     │
//     └─ verdict ──► show its message ──► Outcome ──► to_pam()
//
// A Failure reply, a broken connection or a failed conversation ends the dialogue with an
// error, which to_pam() maps and finish() logs once.
#include "pam_module/dialogue.hpp"

#include <security/pam_appl.h>
#include <security/pam_modules.h>
#include <syslog.h>

#include <chrono>
#include <string>
#include <utility>

#include "pam_module/conversation.hpp"
#include "pam_module/handle.hpp"
#include "pam_module/to_pam.hpp"
#include "proto/wire.hpp"

#ifndef LATCHKEY_VERSION
#error "LATCHKEY_VERSION comes from meson (version_arg): -DLATCHKEY_VERSION='\"x.y.z\"'"
#endif

namespace latchkey::pam {

namespace {

using proto::Outcome;
using proto::PromptKind;
using proto::PromptStyle;

/// A daemon that keeps asking is broken, not a person who keeps typing.
constexpr int max_steps = 64;

using Ending = core::Result<Outcome>;

std::string str(std::string_view s)
{
    return std::string(s);
}

void debug(const Call& c, const std::string& line)
{
    if (c.options.debug)
        c.host.log(LOG_DEBUG, line);
}

/// The hook's PAM code; a failure is logged here and nowhere else.
int finish(const Call& c, Hook hook, const Ending& ending, std::string_view hook_name)
{
    const int code = to_pam(ending, hook);
    if (!ending)
        c.host.log(LOG_ERR, ending.error().message);
    debug(c, str(hook_name) + " returns " + pam_code_name(code));
    return code;
}

core::Error from_failure(const proto::Failure& f, std::string_view request)
{
    std::string message = "latchkeyd refused " + str(request) + ": " +
                          (f.error.empty() ? "code " + std::to_string(f.code) : f.error);
    if (!f.message.empty())
        message += ": " + f.message;
    return core::Error{std::error_code(f.code, core::latchkey_category()), std::move(message)};
}

/// Sends `request` and expects a `T` back; a Failure becomes its error.
template <class T>
core::Result<T> exchange(const Call& c, const proto::Request& request)
{
    const auto type = proto::type_name(request);
    if (c.options.debug)
        debug(c, "to latchkeyd: " + proto::to_log_string(request));
    LATCHKEY_TRY(response, c.daemon.call(request));
    if (c.options.debug)
        debug(c, "from latchkeyd: " + proto::to_log_string(response));
    if (auto* reply = std::get_if<T>(&response))
        return std::move(*reply);
    if (const auto* failure = std::get_if<proto::Failure>(&response))
        return core::fail(from_failure(*failure, type));
    return core::fail(core::Errc::protocol_malformed,
                      "latchkeyd answered " + str(type) + " with '" +
                          str(proto::type_name(response)) + "'");
}

/// Shows a line to the person. Info lines are dropped under PAM_SILENT, unless they instruct
/// the person for the next prompt; error lines are not.
core::Status show(const Call& c, PromptStyle style, std::string_view text, bool instructs = false)
{
    if (text.empty())
        return {};
    const auto as = style == PromptStyle::error ? PromptStyle::error : PromptStyle::info;
    if (as == PromptStyle::info && !instructs && (c.flags & PAM_SILENT) != 0)
        return {};
    LATCHKEY_TRY_STATUS(c.person.show(as, text));
    c.daemon.extend_deadline();
    return {};
}

/// The verdict's message: information on success or when a new password is due, an error
/// otherwise, nothing when latchkey steps aside. Best effort: the decision stands either way.
void show_verdict(const Call& c, const proto::Verdict& v)
{
    if (v.outcome == Outcome::ignore)
        return;
    const bool good = v.outcome == Outcome::success || v.outcome == Outcome::new_authtok_required;
    if (const auto shown = show(c, good ? PromptStyle::info : PromptStyle::error, v.message);
        !shown)
        debug(c, "could not show the verdict's message: " + shown.error().message);
}

/// Answers that earlier modules left in PAM_AUTHTOK / PAM_OLDAUTHTOK, each used at most once.
struct Tokens {
    std::optional<core::Secret> authtok;     ///< for the first `password` prompt
    std::optional<core::Secret> old_authtok; ///< for the first `current_password` prompt
    bool must_use_authtok = false;           ///< use_first_pass: never ask for `password`
};

Tokens tokens_for(const Call& c)
{
    Tokens t;
    if (c.options.use_first_pass || c.options.try_first_pass) {
        t.authtok = c.host.authtok();
        t.old_authtok = c.host.old_authtok();
    }
    t.must_use_authtok = c.options.use_first_pass;
    return t;
}

core::Result<core::Secret> ask_person(const Call& c, const proto::Prompt& p)
{
    const auto style =
        p.style == PromptStyle::echo_on ? PromptStyle::echo_on : PromptStyle::echo_off;
    LATCHKEY_TRY(answer, c.person.ask(style, p.text));
    c.daemon.extend_deadline(); // the person's typing time is not the daemon's
    return answer;
}

/// The answer to one prompt; nullopt when it must not be asked (use_first_pass without a
/// PAM_AUTHTOK), which refuses the logon.
core::Result<std::optional<core::Secret>> answer(const Call& c, const proto::Prompt& p,
                                                 Tokens& tokens)
{
    if (p.style == PromptStyle::info || p.style == PromptStyle::error) {
        // "Touch your security key": nothing to type, the daemon waits for the empty answer.
        LATCHKEY_TRY_STATUS(show(c, p.style, p.text));
        return std::optional<core::Secret>(core::Secret{});
    }
    switch (p.kind) {
    case PromptKind::password: {
        if (tokens.authtok) {
            auto token = std::exchange(tokens.authtok, std::nullopt);
            debug(c, "answering '" + p.text + "' with PAM_AUTHTOK");
            return std::optional<core::Secret>(std::move(*token));
        }
        if (tokens.must_use_authtok) {
            debug(c, "use_first_pass, and no earlier module set PAM_AUTHTOK");
            return std::optional<core::Secret>();
        }
        LATCHKEY_TRY(typed, ask_person(c, p));
        LATCHKEY_TRY_STATUS(c.host.set_authtok(typed)); // for later modules' use_first_pass
        return std::optional<core::Secret>(std::move(typed));
    }
    case PromptKind::current_password: {
        if (tokens.old_authtok) {
            auto token = std::exchange(tokens.old_authtok, std::nullopt);
            debug(c, "answering '" + p.text + "' with PAM_OLDAUTHTOK");
            return std::optional<core::Secret>(std::move(*token));
        }
        LATCHKEY_TRY(typed, ask_person(c, p));
        LATCHKEY_TRY_STATUS(c.host.set_old_authtok(typed));
        return std::optional<core::Secret>(std::move(typed));
    }
    case PromptKind::new_password: {
        // Like pam_unix: later password modules (a keyring) get old and new token.
        LATCHKEY_TRY(typed, ask_person(c, p));
        LATCHKEY_TRY_STATUS(c.host.set_authtok(typed));
        return std::optional<core::Secret>(std::move(typed));
    }
    case PromptKind::passkey:
        // Only the daemon's web pages ask for a passkey; a terminal cannot answer it.
        debug(c, "the daemon asked for a passkey, which PAM cannot give");
        return std::optional<core::Secret>();
    case PromptKind::security_key: // converse() runs it: its answer is no typed text
        break;
    case PromptKind::verification_code:
    case PromptKind::repeat_password:
    case PromptKind::other:
        break;
    }
    LATCHKEY_TRY(typed, ask_person(c, p));
    return std::optional<core::Secret>(std::move(typed));
}

/// The answer to a security_key prompt: the key's result, or the problem that stopped it. The
/// helper's own failure is logged and answered as "failed", so the daemon moves on to the next
/// method the policy allows rather than the logon failing with it.
core::Result<proto::AuthAnswer> run_security_key(const Call& c, const proto::Prompt& p)
{
    if (!p.security_key)
        return core::fail(core::Errc::protocol_malformed,
                          "latchkeyd asked for a security key without a ceremony");
    proto::AuthAnswer a;
    if (c.keys == nullptr) {
        a.security_key = proto::SecurityKeyResult{{}, "no_device"};
        return a;
    }
    proto::KeyPrompts prompts;
    prompts.ask_pin = [&c](int retries) {
        const std::string text =
            retries > 0 && retries < 4
                ? "PIN for your security key (" + std::to_string(retries) + " tries left): "
                : std::string("PIN for your security key: ");
        return ask_person(
            c, proto::Prompt{PromptKind::other, PromptStyle::echo_off, text, std::nullopt});
    };
    // The cue to touch the key is shown even under PAM_SILENT (sudo always passes it): like a
    // prompt, it asks the person to act, and without it they would wait on a silent key.
    prompts.touch = [&c, &p]() -> core::Status {
        if (p.text.empty())
            return {};
        LATCHKEY_TRY_STATUS(c.person.show(PromptStyle::info, p.text));
        c.daemon.extend_deadline();
        return {};
    };
    auto result = c.keys->run(*p.security_key, prompts);
    c.daemon.extend_deadline();
    if (!result) {
        c.host.log(LOG_ERR, result.error().message);
        a.security_key = proto::SecurityKeyResult{{}, "failed"};
        return a;
    }
    debug(c, "security key: " + (result->problem.empty() ? std::string("answered")
                                                         : "no answer: " + result->problem));
    a.security_key = std::move(*result);
    return a;
}

/// Runs a dialogue from its first request to the daemon's verdict.
core::Result<proto::Verdict> converse(const Call& c, proto::Request request, Tokens tokens)
{
    for (int step = 0; step < max_steps; ++step) {
        const auto type = str(proto::type_name(request));
        LATCHKEY_TRY(reply, exchange<proto::AuthReply>(c, request));
        for (const auto& m : reply.messages)
            LATCHKEY_TRY_STATUS(show(c, m.style, m.text, m.instructs.value_or(false)));
        if (reply.prompt && reply.verdict)
            return core::fail(core::Errc::protocol_malformed,
                              "latchkeyd answered " + type + " with both a prompt and a verdict");
        if (reply.verdict)
            return std::move(*reply.verdict);
        if (!reply.prompt)
            return core::fail(core::Errc::protocol_malformed,
                              "latchkeyd answered " + type + " with neither prompt nor verdict");
        if (reply.prompt->kind == PromptKind::security_key) {
            LATCHKEY_TRY(key_answer, run_security_key(c, *reply.prompt));
            request = std::move(key_answer);
            continue;
        }
        LATCHKEY_TRY(given, answer(c, *reply.prompt, tokens));
        if (!given)
            return proto::Verdict{Outcome::denied, {}, std::nullopt};
        request = proto::AuthAnswer{std::move(*given), std::nullopt};
    }
    return core::fail(core::Errc::protocol_malformed,
                      "latchkeyd asked more than " + std::to_string(max_steps) + " questions");
}

Ending run_authenticate(const Call& c)
{
    LATCHKEY_TRY(user, c.host.user());
    proto::AuthBegin begin;
    begin.service = c.host.service().value_or("");
    begin.user = std::move(user);
    begin.rhost = c.host.rhost();
    begin.tty = c.host.tty();
    begin.ignore_unknown_user = c.options.ignore_unknown_user;
    begin.single_prompt = c.options.single_prompt;
    if (c.keys != nullptr && c.options.security_key != "off")
        begin.security_key = true;
    LATCHKEY_TRY(verdict, converse(c, std::move(begin), tokens_for(c)));
    show_verdict(c, verdict);
    if (verdict.outcome == Outcome::success && verdict.logon_id && !verdict.logon_id->empty()) {
        LATCHKEY_TRY_STATUS(c.host.set_data(str(logon_id_data), *verdict.logon_id));
        LATCHKEY_TRY_STATUS(c.host.putenv(str(logon_id_env), *verdict.logon_id));
    }
    return verdict.outcome;
}

Ending run_check_account(const Call& c)
{
    LATCHKEY_TRY(user, c.host.user());
    proto::AccountCheck check;
    check.service = c.host.service().value_or("");
    check.user = std::move(user);
    check.rhost = c.host.rhost();
    check.ignore_unknown_user = c.options.ignore_unknown_user;
    LATCHKEY_TRY(verdict, converse(c, std::move(check), Tokens{}));
    show_verdict(c, verdict);
    return verdict.outcome;
}

Ending run_password_prelim(const Call& c)
{
    proto::Hello hello;
    hello.client = "pam_latchkey " LATCHKEY_VERSION;
    if (auto reply = exchange<proto::HelloReply>(c, std::move(hello)); !reply)
        return core::fail(std::move(reply).error());
    if (!c.options.ignore_unknown_user)
        return Outcome::success;
    // libpam chooses the update phase's actions from this phase's codes, so a user latchkey
    // does not know must get PAM_IGNORE now for pam_unix to change a local password. The
    // protocol has no question for that but AccountCheck, and only its `ignore` counts here:
    // whether the account may log in is acct_mgmt's business.
    LATCHKEY_TRY(user, c.host.user());
    proto::AccountCheck check;
    check.service = c.host.service().value_or("");
    check.user = std::move(user);
    check.rhost = c.host.rhost();
    check.ignore_unknown_user = true;
    LATCHKEY_TRY(probe, exchange<proto::AuthReply>(c, std::move(check)));
    const bool unknown = probe.verdict && probe.verdict->outcome == Outcome::ignore;
    return unknown ? Outcome::ignore : Outcome::success;
}

Ending run_password_update(const Call& c)
{
    LATCHKEY_TRY(user, c.host.user());
    proto::PasswordChangeBegin begin;
    begin.service = c.host.service().value_or("");
    begin.user = std::move(user);
    begin.only_if_expired = (c.flags & PAM_CHANGE_EXPIRED_AUTHTOK) != 0;
    Tokens tokens = tokens_for(c);
    tokens.authtok.reset(); // PAM_AUTHTOK is the new password here, and the daemon asks for it
    LATCHKEY_TRY(verdict, converse(c, std::move(begin), std::move(tokens)));
    show_verdict(c, verdict);
    return verdict.outcome;
}

/// A user latchkey does not know has no latchkey session: with ignore_unknown_user that is
/// PAM_IGNORE rather than an error (SessionOpen/SessionClose carry no such flag).
Ending unless_unknown(const Call& c, core::Error error)
{
    if (c.options.ignore_unknown_user && error.is(core::Errc::not_found)) {
        debug(c, error.message + "; ignoring");
        return Outcome::ignore;
    }
    return core::fail(std::move(error));
}

Ending run_open_session(const Call& c)
{
    LATCHKEY_TRY(user, c.host.user());
    proto::SessionOpen open;
    open.service = c.host.service().value_or("");
    open.user = std::move(user);
    open.tty = c.host.tty();
    open.rhost = c.host.rhost();
    open.logon_id = c.host.data(str(logon_id_data));
    if (!open.logon_id)
        open.logon_id = c.host.getenv(str(logon_id_env));
    open.logind_session = c.host.getenv(str(logind_session_env));
    // Whatever happens next, the logon id is no business of the session's environment.
    LATCHKEY_TRY_STATUS(c.host.unset_env(str(logon_id_env)));
    auto reply = exchange<proto::SessionReply>(c, std::move(open));
    if (!reply)
        return unless_unknown(c, std::move(reply).error());
    LATCHKEY_TRY_STATUS(c.host.set_data(str(session_id_data), reply->session_id));
    return Outcome::success;
}

Ending run_close_session(const Call& c)
{
    LATCHKEY_TRY(user, c.host.user());
    proto::SessionClose close;
    close.service = c.host.service().value_or("");
    close.user = std::move(user);
    close.session_id = c.host.data(str(session_id_data));
    close.tty = c.host.tty();
    auto reply = exchange<proto::Done>(c, std::move(close));
    if (!reply)
        return unless_unknown(c, std::move(reply).error());
    return Outcome::success;
}

} // namespace

SocketChannel::SocketChannel(const Options& options)
{
    options_.socket_path = options.socket_path;
    options_.timeout = std::chrono::duration_cast<std::chrono::milliseconds>(options.timeout);
    options_.trusted_server_uids = proto::default_trusted_uids();
}

core::Result<proto::Response> SocketChannel::call(const proto::Request& request)
{
    if (!client_) {
        LATCHKEY_TRY(client, proto::Client::connect(options_));
        client_.emplace(std::move(client));
    }
    return client_->call(request);
}

void SocketChannel::extend_deadline()
{
    if (client_)
        client_->extend_deadline();
}

int authenticate(const Call& call)
{
    return finish(call, Hook::authenticate, run_authenticate(call), "authenticate");
}

int check_account(const Call& call)
{
    return finish(call, Hook::account, run_check_account(call), "acct_mgmt");
}

int change_authtok(const Call& call)
{
    if ((call.flags & PAM_PRELIM_CHECK) != 0)
        return finish(call, Hook::password_prelim, run_password_prelim(call), "chauthtok prelim");
    if ((call.flags & PAM_UPDATE_AUTHTOK) != 0)
        return finish(call, Hook::password, run_password_update(call), "chauthtok");
    return finish(call, Hook::password,
                  core::fail(core::Errc::invalid_argument,
                             "pam_sm_chauthtok called with neither PAM_PRELIM_CHECK nor "
                             "PAM_UPDATE_AUTHTOK"),
                  "chauthtok");
}

int open_session(const Call& call)
{
    return finish(call, Hook::open_session, run_open_session(call), "open_session");
}

int close_session(const Call& call)
{
    return finish(call, Hook::close_session, run_close_session(call), "close_session");
}

} // namespace latchkey::pam
