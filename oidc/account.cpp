// SPDX-License-Identifier: Apache-2.0
// The self-service account page: a signed-in user's own passkeys, through the browser session
// the sign-in pages opened.
//
//   GET  /account                      the page (no session: sign in first, then back here)
//   POST /account/passkeys/options     {ceremony, options} for navigator.credentials.create()
//   POST /account/passkeys             the new credential (JSON) ──► verified, stored, audited
//   POST /account/passkeys/rename      a form: id, name
//   POST /account/passkeys/remove      a form: id (never the last way in)
//   POST /account/mfa/start            a form: password ──► the QR code and key of a new TOTP app
//   POST /account/mfa/confirm          a form: two consecutive codes ──► the recovery codes, once
//   POST /account/mfa/remove           a form: password (never the last second factor)
//   POST /account/password             a form: current, new, repeat (the engine's change, which
//                                      ends every session of the user; this browser gets a new one)
//
// Every POST carries the page's token, which is bound to the session cookie (and the cookie is
// SameSite=Lax): another site can neither read it nor post without it.
#include <algorithm>
#include <cctype>
#include <string>
#include <string_view>

#include <boost/json.hpp>

#include "core/log.hpp"
#include "core/secret.hpp"
#include "oidc/pages.hpp"
#include "oidc/provider_state.hpp"
#include "oidc/web.hpp"

namespace latchkey::oidc {

namespace {

/// A secret field of a form, taken out: the form's copy is wiped.
core::Secret take(Params& form, const char* key)
{
    std::string& raw = form[key];
    core::Secret s(raw);
    core::wipe(raw.data(), raw.size());
    return s;
}

namespace json = boost::json;

HttpResponse json_error(const HttpRequest& req, http::status status, std::string_view message)
{
    json::object o;
    o["error"] = message;
    return json_response(req, status, o);
}

/// What the account page says after a change it redirected from (`?done=`); nothing else is
/// echoed from the address.
std::string_view notice_of(std::string_view done)
{
    if (done == "added")
        return "Passkey added.";
    if (done == "renamed")
        return "Passkey renamed.";
    if (done == "removed")
        return "Passkey removed.";
    if (done == "password")
        return "Password changed. Your other sessions have ended.";
    if (done == "mfa-removed")
        return "Authenticator app removed.";
    return {};
}

} // namespace

using namespace detail;

std::optional<directory::ResolvedUser> Provider::State::account_user(const HttpRequest& req)
{
    const auto s = session_of(req);
    if (!s)
        return std::nullopt;
    auto who = directory.resolve_id(s->user_id);
    if (!who)
        return std::nullopt;
    return std::move(*who);
}

std::string Provider::State::account_csrf(const HttpRequest& req) const
{
    const auto c = cookie(req, session_cookie);
    return c ? token_key("account-form:" + *c) : std::string();
}

pages::AccountView Provider::State::account_view(const HttpRequest& req,
                                                 const directory::ResolvedUser& who)
{
    pages::AccountView v;
    v.logon_name = who.user.name + "@" + who.account.default_domain;
    v.csrf = account_csrf(req);
    v.passkeys_enabled = passkeys_enabled();
    v.passkey_logon_allowed = who.account.settings.allow_passkey_logon;
    v.may_change_password = who.account.settings.allow_change_password;
    v.has_password = !who.user.password_hash.empty();
    v.may_manage_mfa = who.account.settings.allow_manage_mfa;
    if (auto device = store.mfa_device(who.user.id))
        v.has_mfa_device = device->has_value();
    auto stored = store.passkeys(who.user.id);
    if (!stored) {
        v.error = "latchkey cannot read your passkeys right now.";
        return v;
    }
    for (const auto& p : *stored)
        v.passkeys.push_back(credentials::Passkeys::info(p, v.logon_name));
    return v;
}

HttpResponse Provider::State::account_page(const HttpRequest& req, const Target& t)
{
    const auto who = account_user(req);
    if (!who) {
        // Sign in at the general portal, which comes back here.
        return redirect(req, "/login?return=account", http::status::see_other);
    }
    pages::AccountView v = account_view(req, *who);
    if (const auto done = t.query.find("done"); done != t.query.end())
        v.notice = std::string(notice_of(done->second));
    if (!v.error.empty())
        return html_response(req, http::status::service_unavailable,
                             pages::problem("Your account", v.error));
    auto r = html_response(req, http::status::ok, pages::account(v));
    allow_passkey_script(r);
    return r;
}

HttpResponse
Provider::State::account_post(const HttpRequest& req, const HttpPeer& peer, const std::string& path)
{
    const auto who = account_user(req);
    const bool json_body = path == "/account/passkeys";
    if (!who)
        return json_body ? json_error(req, http::status::unauthorized,
                                      "You are no longer signed in; sign in again.")
                         : redirect(req, "/login?return=account", http::status::see_other);
    const std::string expected = account_csrf(req);
    const auto now = clock.now();

    if (json_body) {
        if (req[http::field::content_type].substr(0, 16) != "application/json")
            return json_error(req, http::status::unsupported_media_type, "Expected JSON.");
        json::error_code ec;
        json::value body = json::parse(req.body(), ec);
        if (ec || !body.is_object())
            return json_error(req, http::status::bad_request, "Expected a JSON object.");
        const auto& o = body.as_object();
        const auto text = [&](std::string_view k) -> std::string {
            const auto* v = o.if_contains(k);
            return v && v->is_string() ? std::string(v->as_string()) : std::string();
        };
        if (expected.empty() || !core::constant_time_equal(text("csrf"), expected))
            return json_error(req, http::status::forbidden,
                              "The request did not come from your account page.");
        const auto* credential = o.if_contains("credential");
        if (credential == nullptr || !credential->is_object())
            return json_error(req, http::status::bad_request, "No credential was sent.");
        auto pending = take_registration(who->user.id, text("ceremony"));
        if (!pending)
            return json_error(req, http::status::service_unavailable,
                              "latchkey cannot add a passkey right now.");
        if (!*pending)
            return json_error(req, http::status::bad_request,
                              "This request to add a passkey has expired; try again.");
        auto added = passkeys.finish_registration(*who, **pending, json::serialize(*credential),
                                                  text("name"), cfg.passkeys, now);
        if (!added) {
            const auto& e = added.error();
            // What went wrong in words for the person; the precise reason is in the audit.
            std::string message = "The passkey was not added: it did not pass the checks.";
            if (e.is(core::Errc::already_exists))
                message = "This passkey is registered already.";
            else if (e.is(core::Errc::invalid_argument) || e.is(core::Errc::policy_violation))
                message = e.message;
            else if (e.is(core::Errc::store_failed))
                message = "latchkey cannot store the passkey right now.";
            return json_error(req, http::status::bad_request, message);
        }
        json::object ok;
        ok["id"] = added->id;
        ok["name"] = added->name;
        return json_response(req, http::status::ok, ok);
    }

    const bool options = path == "/account/passkeys/options";
    if (req[http::field::content_type].substr(0, 33) != "application/x-www-form-urlencoded")
        return html_response(req, http::status::unsupported_media_type,
                             pages::problem("Your account", "Unexpected form encoding."));
    auto form = parse_params(req.body());
    if (!form)
        return options ? json_error(req, http::status::bad_request, form.error().message)
                       : html_response(req, http::status::bad_request,
                                       pages::problem("Your account", form.error().message));
    const auto field = [&](std::string_view k) {
        const auto it = form->find(k);
        return it == form->end() ? std::string() : it->second;
    };
    if (expected.empty() || !core::constant_time_equal(field("csrf"), expected))
        return options ? json_error(req, http::status::forbidden,
                                    "The request did not come from your account page.")
                       : html_response(req, http::status::forbidden,
                                       pages::problem("Your account", "The form did not come "
                                                                      "from your account page."));
    if (options) {
        if (!passkeys_enabled())
            return json_error(req, http::status::not_found,
                              "Passkeys are not set up on this server.");
        auto begun = passkeys.begin_registration(*who, cfg.passkeys, now);
        if (!begun)
            return json_error(req,
                              begun.error().is(core::Errc::policy_violation)
                                  ? http::status::conflict
                                  : http::status::service_unavailable,
                              begun.error().is(core::Errc::policy_violation)
                                  ? begun.error().message
                                  : "latchkey cannot start a passkey right now.");
        const auto ceremony = keep_registration(who->user.id, begun->pending);
        if (!ceremony)
            return json_error(req, http::status::service_unavailable,
                              "latchkey cannot start a passkey right now.");
        json::object o;
        o["ceremony"] = *ceremony;
        o["options"] = json::parse(begun->json);
        return json_response(req, http::status::ok, o);
    }

    if (path == "/account/password")
        return change_password(req, peer, *who, *form);
    if (path.rfind("/account/mfa/", 0) == 0)
        return manage_mfa(req, path, *who, *form);
    core::Status st;
    std::string done;
    if (path == "/account/passkeys/rename") {
        st = passkeys.rename(*who, field("id"), field("name"));
        done = "renamed";
    } else {
        st = passkeys.remove_own(*who, field("id"));
        done = "removed";
    }
    if (st)
        return redirect(req, "/account?done=" + done, http::status::see_other);
    // The page again, with why.
    pages::AccountView v = account_view(req, *who);
    v.error = st.error().is(core::Errc::store_failed)
                  ? "latchkey cannot change your passkeys right now."
                  : st.error().message;
    if (!v.error.empty())
        v.error[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(v.error[0])));
    auto r =
        html_response(req,
                      st.error().is(core::Errc::failed_precondition) ? http::status::conflict
                                                                     : http::status::bad_request,
                      pages::account(v));
    allow_passkey_script(r);
    return r;
}

/// The user's own authenticator app: set up with the password and two codes, or removed.
HttpResponse Provider::State::manage_mfa(const HttpRequest& req,
                                         const std::string& path,
                                         const directory::ResolvedUser& who,
                                         Params& form)
{
    const auto session = session_of(req);
    if (!session)
        return redirect(req, "/login?return=account", http::status::see_other);
    const credentials::Caller caller{std::nullopt, 0, "oidc"};
    pages::AccountView v = account_view(req, who);
    std::optional<proto::MfaChallenge> challenge;
    std::optional<proto::MfaEnrolled> enrolled;
    const auto page = [&](http::status status) {
        v.enrolling = challenge ? &*challenge : nullptr;
        v.recovery_codes = enrolled ? &enrolled->recovery_codes : nullptr;
        auto r = html_response(req, status, pages::account(v));
        allow_passkey_script(r);
        return r;
    };
    const auto refused = [&](const core::Error& e) {
        v.mfa_error = e.is_store() || e.is(core::Errc::crypto_failed)
                          ? "latchkey cannot change your authenticator app right now."
                          : e.message;
        if (!v.mfa_error.empty())
            v.mfa_error[0] =
                static_cast<char>(std::toupper(static_cast<unsigned char>(v.mfa_error[0])));
        return page(http::status::bad_request);
    };

    if (path == "/account/mfa/remove") {
        // A web passkey takes the code's place at the sign-in pages; a host key does not.
        const bool has_passkeys =
            std::any_of(v.passkeys.begin(), v.passkeys.end(),
                        [](const proto::PasskeyInfo& p) { return p.relying_party == "web"; });
        if (auto st = engine.remove_own_mfa(who, take(form, "password"), caller, has_passkeys); !st)
            return refused(st.error());
        return redirect(req, "/account?done=mfa-removed", http::status::see_other);
    }
    if (path == "/account/mfa/start") {
        auto pending = engine.begin_own_enrolment(who, take(form, "password"), caller);
        if (!pending)
            return refused(pending.error());
        auto shown = engine.enrolment_challenge(*pending);
        if (!shown)
            return refused(shown.error());
        // Kept in the store for the confirmation, which may come to another node.
        const auto live = store.count_pending(directory::PendingKind::app_enrolment, clock.now());
        if (!live || *live >= static_cast<std::int64_t>(max_logons_in_progress) ||
            !keep_enrolment(session->id, *pending))
            return busy(req);
        challenge = std::move(*shown);
        return page(http::status::ok);
    }
    // /account/mfa/confirm: the enrolment this session started, taken whatever happens next
    // but a wrong code, which may be typed again.
    std::optional<credentials::PendingEnrolment> pending;
    auto kept = take_sealed(directory::PendingKind::app_enrolment, token_key(session->id));
    if (!kept)
        return refused(kept.error());
    if (*kept) {
        auto resumed = credentials::resume_enrolment(**kept, who);
        if (resumed)
            pending = std::move(*resumed);
    }
    if (!pending)
        return refused(
            core::Error(core::Errc::failed_precondition, "this set-up has expired; start again"));
    auto done = engine.finish_own_enrolment(*pending, take(form, "first"), take(form, "second"));
    if (!done) {
        if (done.error().is(core::Errc::invalid_argument)) {
            auto shown = engine.enrolment_challenge(*pending);
            if (shown)
                challenge = std::move(*shown);
            keep_enrolment(session->id, *pending);
        }
        return refused(done.error());
    }
    enrolled = std::move(*done);
    v.has_mfa_device = true;
    return page(http::status::ok);
}

/// The user's own password change: the engine's dialogue, answered from the form's three
/// fields. The change ends every session of the user (seed 004); this browser, which has just
/// proven the current password, gets a new one.
HttpResponse Provider::State::change_password(const HttpRequest& req,
                                              const HttpPeer& peer,
                                              const directory::ResolvedUser& who,
                                              Params& form)
{
    core::Secret current = take(form, "current");
    core::Secret fresh = take(form, "new");
    core::Secret repeat = take(form, "repeat");
    auto started =
        engine.begin_own_password_change(who, credentials::Caller{std::nullopt, 0, "oidc"}, "oidc");
    credentials::Step step = std::move(started.step);
    std::string error;
    if (started.dialogue) {
        // current ──► new ──► repeat; a prompt that comes back asks again, with why.
        for (core::Secret* answer : {&current, &fresh, &repeat}) {
            if (!step.prompt)
                break;
            step = started.dialogue->answer(std::move(*answer));
        }
        if (step.prompt) {
            for (const auto& m : step.messages)
                if (m.style == proto::PromptStyle::error)
                    error = m.text;
            if (error.empty())
                error = "The password was not changed.";
        }
    }
    if (!step.prompt && step.verdict && step.verdict->outcome == proto::Outcome::success) {
        auto again = directory.resolve_id(who.user.id);
        auto opened = again ? open_session(*again, "pwd", peer) : std::nullopt;
        HttpResponse r = redirect(req, opened ? "/account?done=password" : "/login?return=account",
                                  http::status::see_other);
        if (opened)
            r.set(http::field::set_cookie, opened->cookie);
        return r;
    }
    if (error.empty())
        error = step.verdict && !step.verdict->message.empty() ? step.verdict->message
                                                               : "The password was not changed.";
    const auto after = directory.resolve_id(who.user.id); // a wrong password may have locked
    pages::AccountView v = account_view(req, after ? *after : who);
    v.password_error = error;
    auto r = html_response(req, http::status::bad_request, pages::account(v));
    allow_passkey_script(r);
    return r;
}

} // namespace latchkey::oidc
