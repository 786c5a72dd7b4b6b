// SPDX-License-Identifier: Apache-2.0
// The sign-in pages: a portal or an /authorize request opens a sign-in, whose form POSTs drive
// the AuthEngine dialogue (user name, password, TOTP, a required password change), then ask
// for consent and open the browser session.
#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "core/log.hpp"
#include "core/random.hpp"
#include "core/secret.hpp"
#include "oidc/pages.hpp"
#include "oidc/provider_state.hpp"
#include "oidc/web.hpp"
#include "proto/wire.hpp"

namespace latchkey::oidc {

namespace {

using proto::Outcome;

/// A logon at the pages: any account of the directory, from the browser's address.
credentials::LogonRequest page_logon(std::string user, const HttpPeer& peer)
{
    credentials::LogonRequest r;
    r.service = "oidc";
    r.user = std::move(user);
    r.rhost = peer.address;
    r.directory_wide = true;
    return r;
}

const credentials::Caller pages_caller{std::nullopt, 0, "oidc"};

} // namespace

using namespace detail;

HttpResponse Provider::State::busy(const HttpRequest& req)
{
    return html_response(req, http::status::service_unavailable,
                         pages::problem("Busy", "Too many sign-ins are in progress; try "
                                                "again in a minute."));
}

std::string Provider::State::client_name(const LoginTx& tx) const
{
    return tx.auth ? tx.auth->client.name : std::string("your account");
}

HttpResponse Provider::State::show_username(const HttpRequest& req,
                                            const std::string& id,
                                            LoginTx& tx,
                                            std::string_view prefill,
                                            std::string_view error,
                                            http::status status)
{
    auto offer = offer_passkey(tx, "");
    // After a refusal the autofill does not offer the passkey again by itself: the person
    // reads why first, and may press "Sign in with a passkey" to try again.
    if (offer && !error.empty())
        offer->conditional = false;
    auto r = html_response(req, status,
                           pages::username({id, tx.csrf}, client_name(tx), tx.fixed_domain,
                                           prefill, error, offer));
    if (offer)
        allow_passkey_script(r);
    return r;
}

std::optional<pages::PasskeyOffer>
Provider::State::offer_passkey(LoginTx& tx, const std::string& user, bool second_factor)
{
    tx.passkey.reset();
    if (!passkeys_enabled())
        return std::nullopt;
    // A name typed, or the dedicated portal's domain: offered when that account allows it.
    // The general portal offers a discoverable sign-in; the account is known from the key.
    if (!second_factor &&
        (!user.empty() ? !engine.offers_passkey(user)
                       : tx.fixed_domain && !engine.offers_passkey("-@" + *tx.fixed_domain)))
        return std::nullopt;
    auto options = engine.begin_passkey_logon(user, cfg.passkeys);
    if (!options) {
        core::log::error("oidc: starting a passkey logon: " + options.error().message);
        return std::nullopt;
    }
    tx.passkey = std::move(options->pending);
    return pages::PasskeyOffer{std::move(options->json), user.empty()};
}

HttpResponse Provider::State::show_prompt(const HttpRequest& req,
                                          const std::string& id,
                                          LoginTx& tx,
                                          http::status status)
{
    // The password step offers the user's passkey instead; the second factor's step offers it
    // in place of a code (whatever allow_passkey_logon says: the password was given).
    std::optional<pages::PasskeyOffer> offer;
    if (tx.step.prompt->kind == proto::PromptKind::password && !tx.changing_password)
        offer = offer_passkey(tx, tx.user);
    else if (tx.dialogue && tx.dialogue->accepts_passkey())
        offer = offer_passkey(tx, tx.user, true);
    else
        tx.passkey.reset();
    auto r = html_response(req, status,
                           pages::prompt({id, tx.csrf}, client_name(tx), tx.user,
                                         tx.step.messages, *tx.step.prompt, offer));
    if (offer)
        allow_passkey_script(r);
    return r;
}

HttpResponse Provider::State::login_page(const HttpRequest& req, const Target& t)
{
    std::optional<std::string> domain;
    constexpr std::string_view dedicated = "/d/";
    if (t.path.rfind(dedicated, 0) == 0) {
        const auto end = t.path.find('/', dedicated.size());
        domain = t.path.substr(dedicated.size(), end - dedicated.size());
        if (domain->empty() || domain->size() > 253)
            return html_response(req, http::status::not_found,
                                 pages::problem("Not found", "No such sign-in page."));
    }
    std::string id;
    LoginTx tx;
    if (const auto it = t.query.find("tx"); it != t.query.end()) {
        auto taken = take_tx(it->second);
        if (!taken)
            core::log::error("oidc: reading a sign-in: " + taken.error().message);
        else if (*taken) {
            id = it->second;
            tx = std::move(**taken);
        }
    }
    if (id.empty()) {
        // A portal opened directly (or a sign-in that is over): a sign-in of its own, within
        // the same bound as those /authorize starts.
        tx = LoginTx{};
        auto opened = new_tx(tx);
        if (!opened)
            return busy(req);
        id = std::move(*opened);
    }

    // Whatever the page shows, the sign-in is kept for the form it sends.
    struct Keep {
        State& state;
        const std::string& id;
        LoginTx& tx;

        ~Keep() { state.keep_tx(id, tx); }
    } keep{*this, id, tx};
    if (domain)
        tx.fixed_domain = domain;
    if (const auto back = t.query.find("return"); back != t.query.end() && !tx.auth) {
        if (back->second == "account") {
            tx.then = "/account";
        } else if (back->second == "device") {
            tx.then = "/device";
            const auto code = t.query.find("code");
            if (const auto c = code == t.query.end()
                                   ? std::nullopt
                                   : credentials::canonical_user_code(code->second))
                tx.then += "?code=" + *c;
        }
    }
    if (tx.consent_for && tx.auth)
        return html_response(req, http::status::ok, consent_page(id, tx));
    if (tx.dialogue && tx.step.prompt)
        return show_prompt(req, id, tx);
    std::string prefill;
    if (const auto u = t.query.find("username"); u != t.query.end())
        prefill = u->second;
    else if (tx.auth)
        prefill = tx.auth->login_hint;
    if (tx.fixed_domain) {
        const std::string suffix = "@" + *tx.fixed_domain;
        if (prefill.size() > suffix.size() &&
            prefill.compare(prefill.size() - suffix.size(), suffix.size(), suffix) == 0)
            prefill.resize(prefill.size() - suffix.size());
    }
    return show_username(req, id, tx, prefill, "");
}

HttpResponse Provider::State::login_post(const HttpRequest& req, const HttpPeer& peer)
{
    const auto type = req[http::field::content_type];
    if (type.substr(0, 33) != "application/x-www-form-urlencoded")
        return html_response(req, http::status::unsupported_media_type,
                             pages::problem("Cannot sign in", "Unexpected form encoding."));
    auto form = parse_params(req.body());
    if (!form)
        return html_response(req, http::status::bad_request,
                             pages::problem("Cannot sign in", form.error().message));
    const auto field = [&](std::string_view k) {
        const auto it = form->find(k);
        return it == form->end() ? std::string() : it->second;
    };
    const std::string id = field("tx");
    auto taken = take_tx(id); // taken: no second request can use it meanwhile
    if (!taken) {
        core::log::error("oidc: reading a sign-in: " + taken.error().message);
        return html_response(req, http::status::service_unavailable,
                             pages::problem("Cannot sign in", "latchkey cannot read this "
                                                              "sign-in right now; try again."));
    }
    if (!*taken)
        return html_response(req, http::status::bad_request,
                             pages::problem("Sign-in expired",
                                            "This sign-in page has expired or was "
                                            "already used. Go back to the application "
                                            "and start again."));
    LoginTx tx = std::move(**taken);
    if (!core::constant_time_equal(field("csrf"), tx.csrf)) {
        keep_tx(id, tx); // the sign-in is not this form's to end
        return html_response(
            req, http::status::forbidden,
            pages::problem("Cannot sign in", "The form did not come from this page."));
    }
    HttpResponse out = advance(req, peer, id, tx, *form);
    if (!tx.redirect || tx.auth)
        keep_tx(id, tx);
    return out;
}

std::string Provider::State::consent_page(const std::string& id, const LoginTx& tx)
{
    auto user = store.user_by_id(tx.consent_for->user_id);
    std::string name = "you";
    if (user && *user) {
        auto account = store.account_by_id((*user)->account_id);
        name = (*user)->name +
               (account && *account ? "@" + (*account)->default_domain : std::string());
    }
    return pages::consent({id, tx.csrf}, client_name(tx), name, tx.auth->scopes);
}

/// The consent page's answer, from the browser whose session it asked for.
HttpResponse Provider::State::decide(const HttpRequest& req,
                                     const std::string& id,
                                     LoginTx& tx,
                                     const Params& form)
{
    const auto s = session_of(req);
    if (!s || s->id != tx.consent_for->id)
        return html_response(req, http::status::forbidden,
                             pages::problem("Cannot continue", "You are no longer signed in "
                                                               "here; start again from the "
                                                               "application."));
    const auto it = form.find("decision");
    const std::string decision = it == form.end() ? "" : it->second;
    if (decision == "allow") {
        if (auto st =
                store.set_consent(s->user_id, tx.auth->client.id, tx.auth->scopes, clock.now());
            !st)
            return html_response(req, http::status::service_unavailable,
                                 pages::problem("Cannot continue", "latchkey cannot store "
                                                                   "your answer right now."));
        record(directory::Severity::info, "oidc.consent.grant",
               {{"client_id", tx.auth->client.id},
                {"sub", s->user_id},
                {"scope", join_spaces(tx.auth->scopes)}});
        tx.redirect = code_redirect(*tx.auth, *s);
    } else if (decision == "deny") {
        record(directory::Severity::info, "oidc.consent.deny",
               {{"client_id", tx.auth->client.id}, {"sub", s->user_id}});
        tx.redirect = error_redirect(*tx.auth, "access_denied", "the user denied access");
    } else {
        return html_response(req, http::status::bad_request, consent_page(id, tx));
    }
    tx.consent_for.reset();
    return redirect(req, "/authorize/resume?tx=" + id, http::status::see_other);
}

HttpResponse Provider::State::advance(
    const HttpRequest& req, const HttpPeer& peer, const std::string& id, LoginTx& tx, Params& form)
{
    if (tx.consent_for && tx.auth)
        return decide(req, id, tx, form);
    if (form.contains("pk_id"))
        return passkey_answer(req, peer, id, tx, form);
    credentials::Step step;
    if (!tx.dialogue) {
        std::string user = form["username"];
        if (tx.fixed_domain) {
            if (user.find('@') != std::string::npos)
                return show_username(req, id, tx, user,
                                     "Type only your user name: the domain is fixed here.",
                                     http::status::bad_request);
            user += "@" + *tx.fixed_domain;
        }
        if (user.empty() || user.size() > 320)
            return show_username(req, id, tx, "", "Type your user name as name@domain.",
                                 http::status::bad_request);
        auto started = engine.begin_logon(page_logon(user, peer), pages_caller);
        tx.user = user;
        tx.asked_code = false; // a new logon: what an earlier attempt was asked counts nothing
        tx.changing_password = false;
        tx.dialogue = std::move(started.dialogue);
        step = std::move(started.step);
    } else {
        core::Secret answer(form["answer"]);
        std::string& raw = form["answer"];
        core::wipe(raw.data(), raw.size());
        step = tx.dialogue->answer(std::move(answer));
    }
    return proceed(req, peer, id, tx, std::move(step));
}

/// The dialogue's next step on the page: its prompt, or the end of the logon.
HttpResponse Provider::State::proceed(const HttpRequest& req,
                                      const HttpPeer& peer,
                                      const std::string& id,
                                      LoginTx& tx,
                                      credentials::Step step)
{
    if (step.prompt) {
        if (step.prompt->kind == proto::PromptKind::verification_code)
            tx.asked_code = true;
        tx.step = std::move(step);
        return show_prompt(req, id, tx);
    }
    const proto::Verdict v = step.verdict.value_or(proto::Verdict{});
    const bool changed_password = std::exchange(tx.changing_password, false);
    if (!changed_password) // the logon's, not the password change's that may follow it
        tx.method = tx.dialogue ? tx.dialogue->method() : "pwd";
    tx.dialogue.reset();
    if (v.outcome != Outcome::success) {
        tx.asked_code = false;
        std::string message = v.message.empty() ? "Sign-in failed." : v.message;
        const std::string typed = tx.user;
        tx.user.clear();
        std::string prefill = typed;
        if (tx.fixed_domain && prefill.size() > tx.fixed_domain->size() + 1)
            prefill.resize(prefill.size() - tx.fixed_domain->size() - 1);
        return show_username(req, id, tx, prefill, message, http::status::unauthorized);
    }
    auto who = directory.resolve({tx.user, std::nullopt});
    if (!who)
        return html_response(req, http::status::service_unavailable,
                             pages::problem("Cannot sign in", "latchkey cannot find the "
                                                              "user right now."));
    const auto check = engine.check_user(*who);
    if (check.outcome == Outcome::new_authtok_required && !changed_password) {
        // Expired, or to be changed at next logon: the engine's own change dialogue, which
        // starts at the new password (the current one was just proven).
        auto started = engine.begin_required_change(
            *who, pages_caller, "oidc", check.message);
        tx.changing_password = true;
        tx.dialogue = std::move(started.dialogue);
        tx.step = std::move(started.step);
        return show_prompt(req, id, tx);
    }
    if (check.outcome != Outcome::success)
        return show_username(req, id, tx, "", check.message, http::status::forbidden);
    return signed_in(req, peer, id, tx, *who, tx.method);
}

/// The browser's answer to the page's passkey offer. A refusal for a name typed goes back to
/// its password step (the fallback), with the message and a fresh offer.
HttpResponse Provider::State::passkey_answer(const HttpRequest& req,
                                             const HttpPeer& peer,
                                             const std::string& id,
                                             LoginTx& tx,
                                             const Params& form)
{
    const auto pending = std::exchange(tx.passkey, std::nullopt);
    const bool second_factor = tx.dialogue && tx.dialogue->accepts_passkey();
    const std::string typed = tx.dialogue ? tx.user : std::string();
    if (!second_factor) {
        tx.dialogue.reset();
        tx.asked_code = false;
    }
    const auto bytes = [&](std::string_view k) -> std::optional<std::string> {
        const auto it = form.find(k);
        return it == form.end() ? std::nullopt : core::base64_decode(it->second);
    };
    webauthn::AuthenticationResponse response;
    const auto cred = bytes("pk_id");
    const auto client = bytes("pk_client_data");
    const auto auth_data = bytes("pk_authenticator_data");
    const auto signature = bytes("pk_signature");
    const auto handle = bytes("pk_user_handle");
    std::string message;
    credentials::PasskeyVerdict result;
    if (!pending) {
        message = "This passkey request has expired; try again.";
    } else if (!cred || cred->empty() || !client || !auth_data || !signature || !handle) {
        message = "The browser's passkey answer was malformed; try again.";
    } else {
        response.id = *cred;
        response.client_data_json = *client;
        response.authenticator_data = *auth_data;
        response.signature = *signature;
        if (!handle->empty())
            response.user_handle = *handle;
        if (second_factor) // the dialogue's verdict, as for a code
            return proceed(req, peer, id, tx, tx.dialogue->answer_passkey(*pending, response));
        result = engine.passkey_logon(page_logon(typed, peer), *pending, response, pages_caller);
        message = result.verdict.message;
    }
    if (second_factor) { // no answer to check: the same step again, with why
        tx.step.messages.insert(tx.step.messages.begin(),
                                proto::Message{proto::PromptStyle::error, message, false});
        return show_prompt(req, id, tx, http::status::bad_request);
    }
    if (result.verdict.outcome == Outcome::success && result.who) {
        const auto check = engine.check_user(*result.who);
        // A password to change is no reason to refuse a sign-in that used none.
        if (check.outcome == Outcome::success || check.outcome == Outcome::new_authtok_required) {
            tx.user = result.who->user.name + "@" + result.who->account.default_domain;
            return signed_in(req, peer, id, tx, *result.who, result.method);
        }
        message = check.message;
    }
    if (message.empty())
        message = "Sign-in failed.";
    if (!typed.empty()) {
        auto started = engine.begin_logon(page_logon(typed, peer), pages_caller);
        if (started.dialogue && started.step.prompt) {
            tx.user = typed;
            tx.changing_password = false;
            tx.dialogue = std::move(started.dialogue);
            tx.step = std::move(started.step);
            tx.step.messages.insert(tx.step.messages.begin(),
                                    proto::Message{proto::PromptStyle::error, message, false});
            return show_prompt(req, id, tx, http::status::unauthorized);
        }
    }
    tx.user.clear();
    std::string prefill = typed;
    if (tx.fixed_domain && prefill.size() > tx.fixed_domain->size() + 1)
        prefill.resize(prefill.size() - tx.fixed_domain->size() - 1);
    return show_username(req, id, tx, prefill, message, http::status::unauthorized);
}

HttpResponse Provider::State::signed_in(const HttpRequest& req,
                                        const HttpPeer& peer,
                                        const std::string& id,
                                        LoginTx& tx,
                                        const directory::ResolvedUser& who,
                                        const std::string& method)
{
    auto opened = open_session(who, method, peer);
    if (!opened)
        return html_response(req, http::status::service_unavailable,
                             pages::problem("Cannot sign in", "latchkey cannot keep the "
                                                              "session right now."));
    const directory::SessionRecord& s = opened->record;
    const std::string logon_name = who.user.name + "@" + who.account.default_domain;
    HttpResponse r = html_response(req, http::status::ok,
                                   pages::signed_in(logon_name));
    if (!tx.then.empty() && !tx.auth)
        r = redirect(req, tx.then, http::status::see_other);
    if (tx.auth) {
        auto consent = needs_consent(*tx.auth, s.user_id);
        if (consent && *consent) {
            tx.consent_for = s;
            r = html_response(req, http::status::ok, consent_page(id, tx));
        } else {
            tx.redirect = consent ? code_redirect(*tx.auth, s)
                                  : error_redirect(*tx.auth, "server_error",
                                                   "latchkey cannot read consents right now");
            r = redirect(req, "/authorize/resume?tx=" + id, http::status::see_other);
        }
    }
    r.set(http::field::set_cookie, opened->cookie);
    return r;
}

std::optional<Provider::State::OpenedSession> Provider::State::open_session(
    const directory::ResolvedUser& who, const std::string& method, const HttpPeer& peer)
{
    const auto now = clock.now();
    const std::string cookie_value = random_token();
    OpenedSession out;
    directory::SessionRecord& s = out.record;
    s.id = random_token(); // the public id: ID token `sid`, `session list`
    s.user_id = who.user.id;
    s.service = "oidc";
    s.rhost = peer.address;
    s.method = method;
    s.opened_at = now;
    s.kind = directory::SessionKind::web;
    s.secret_hash = token_key(cookie_value);
    s.expires_at = now + std::chrono::seconds(who.account.settings.session_duration_s);
    if (auto st = store.create_session(s); !st) {
        core::log::error("oidc: storing a session: " + st.error().message);
        return std::nullopt;
    }
    record(directory::Severity::info, "oidc.session.create",
           {{"user", who.user.name},
            {"account", who.account.name},
            {"sid", s.id},
            {"amr", join_spaces(amr_of(method))}});
    out.cookie =
        std::string(session_cookie) + "=" + cookie_value + "; Path=/; HttpOnly; SameSite=Lax";
    if (cfg.secure_cookies)
        out.cookie += "; Secure";
    return out;
}

} // namespace latchkey::oidc
