// SPDX-License-Identifier: Apache-2.0
// The authorization endpoint: checks a request (client, redirect URI, PKCE, prompt, max_age,
// hints), answers at once from a good enough SSO session or starts a sign-in, and redirects
// back to the client with a code or an error once the sign-in pages are done.
#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

#include "core/clock.hpp"
#include "core/log.hpp"
#include "core/result.hpp"
#include "oidc/pages.hpp"
#include "oidc/provider_state.hpp"
#include "oidc/web.hpp"

namespace latchkey::oidc {

using namespace detail;

std::variant<AuthRequest, Provider::State::AuthorizeError>
Provider::State::check_authorize(const Params& p)
{
    const auto get = [&](std::string_view k) -> std::optional<std::string> {
        const auto it = p.find(k);
        return it == p.end() ? std::nullopt : std::optional<std::string>(it->second);
    };
    const auto page = [](std::string d) {
        return AuthorizeError{false, "invalid_request", std::move(d)};
    };
    const auto client_id = get("client_id");
    if (!client_id)
        return page("The request names no client (client_id).");
    auto found = clients.find(*client_id);
    if (!found || !*found)
        return page("The client '" + client_id->substr(0, 64) + "' is not registered here.");
    AuthRequest a;
    a.client = std::move(**found);
    const auto redirect = get("redirect_uri");
    if (!redirect || !contains(a.client.redirect_uris, *redirect))
        return page("The redirect URI is not one registered for this client; latchkey "
                    "will not send you there.");
    a.redirect_uri = *redirect;
    // From here on errors go back to the client (RFC 6749 §4.1.2.1).
    const auto to_client = [](std::string e, std::string d) {
        return AuthorizeError{true, std::move(e), std::move(d)};
    };
    a.state = get("state");
    if (get("request") || get("request_uri"))
        return to_client("request_not_supported", "request objects are not supported");
    if (get("response_type") != "code")
        return to_client("unsupported_response_type", "only response_type=code is supported");
    if (const auto mode = get("response_mode"); mode && *mode != "query")
        return to_client("invalid_request", "only response_mode=query is supported");
    for (const auto& s : split_spaces(get("scope").value_or("")))
        if (contains(a.client.scopes, s))
            a.scopes.push_back(s);
    if (!contains(a.scopes, "openid"))
        return to_client("invalid_scope", "the scope must include openid");
    a.nonce = get("nonce");
    const auto challenge = get("code_challenge");
    const auto method = get("code_challenge_method");
    if (challenge) {
        if (method != "S256")
            return to_client("invalid_request", "PKCE needs code_challenge_method=S256; "
                                                "plain is not accepted");
        if (challenge->size() != 43)
            return to_client("invalid_request", "code_challenge is not an S256 challenge");
        a.code_challenge = challenge;
    } else if (method) {
        return to_client("invalid_request", "code_challenge_method without code_challenge");
    } else if (a.client.is_public) {
        return to_client("invalid_request", "a public client must use PKCE (S256)");
    }
    a.prompt = split_spaces(get("prompt").value_or(""));
    for (const auto& v : a.prompt)
        if (v != "none" && v != "login" && v != "consent" && v != "select_account")
            return to_client("invalid_request", "unknown prompt value");
    if (contains(a.prompt, "none") && a.prompt.size() > 1)
        return to_client("invalid_request", "prompt=none goes alone");
    if (const auto m = get("max_age")) {
        std::int64_t v = -1;
        if (m->empty() || m->size() > 10 ||
            !std::all_of(m->begin(), m->end(), [](char c) { return c >= '0' && c <= '9'; }))
            return to_client("invalid_request", "max_age must be a number of seconds");
        v = std::stoll(*m);
        a.max_age = v;
    }
    a.login_hint = get("login_hint").value_or("");
    if (const auto hint = get("id_token_hint")) {
        // An ID token of ours, expired or not: it names the user the client expects.
        auto claims = keys.verify(*hint);
        const auto* iss = claims ? claims->if_contains("iss") : nullptr;
        const auto* sub = claims ? claims->if_contains("sub") : nullptr;
        if (!iss || !iss->is_string() || iss->as_string() != cfg.issuer || !sub ||
            !sub->is_string())
            return to_client("invalid_request", "id_token_hint is not an ID token of this "
                                                "provider");
        a.hinted_sub = std::string(sub->as_string());
    }
    for (const auto& v : split_spaces(get("acr_values").value_or("")))
        if (acr_level(v) > 0)
            a.acr_values.push_back(v);
    return a;
}

std::string Provider::State::error_redirect(const AuthRequest& a,
                                            std::string_view error,
                                            std::string_view description)
{
    Params p{{"error", std::string(error)},
             {"error_description", std::string(description)},
             {"iss", cfg.issuer}};
    if (a.state)
        p["state"] = *a.state;
    return with_params(a.redirect_uri, p);
}

/// Issues a code for `a` to the session's user and returns the redirect to the client.
std::string Provider::State::code_redirect(const AuthRequest& a, const directory::SessionRecord& s)
{
    const std::string code = random_token();
    directory::AuthCodeRecord g;
    g.code_hash = token_key(code);
    g.client_id = a.client.id;
    g.user_id = s.user_id;
    g.session_id = s.id;
    g.redirect_uri = a.redirect_uri;
    g.scopes = a.scopes;
    g.nonce = a.nonce;
    g.code_challenge = a.code_challenge;
    g.auth_time = s.opened_at;
    g.method = s.method.value_or("pwd");
    g.expires_at = clock.now() + cfg.code_lifetime;
    // Remembered a lifetime longer, so that a replay is recognised and what it got revoked.
    g.keep_until = g.expires_at + cfg.code_lifetime;
    // In the store, not in this node's memory: the client may exchange it at any node, once.
    if (auto st = store.add_auth_code(g); !st) {
        core::log::error("oidc: storing an authorization code: " + st.error().message);
        return error_redirect(a, "server_error", "the directory is unavailable; try again");
    }
    Params p{{"code", code}, {"iss", cfg.issuer}};
    if (a.state)
        p["state"] = *a.state;
    return with_params(a.redirect_uri, p);
}

/// Whether the user must be asked before the client gets a code: the client asks for
/// consent and the user has not allowed these scopes yet, or the request says prompt=consent.
core::Result<bool> Provider::State::needs_consent(const AuthRequest& a, const std::string& user_id)
{
    if (contains(a.prompt, "consent"))
        return true;
    if (!a.client.require_consent)
        return false;
    LATCHKEY_TRY(given, store.consent(user_id, a.client.id));
    if (!given)
        return true;
    return !std::all_of(a.scopes.begin(), a.scopes.end(),
                        [&](const std::string& w) { return contains(*given, w); });
}

HttpResponse Provider::State::authorize(const HttpRequest& req, const Params& params)
{
    auto checked = check_authorize(params);
    if (auto* e = std::get_if<AuthorizeError>(&checked)) {
        if (!e->to_client)
            return html_response(req, http::status::bad_request,
                                 pages::problem("Cannot sign in", e->description));
        // to_client errors come after the redirect URI was matched: rebuild it.
        const auto uri = params.find("redirect_uri")->second;
        Params p{{"error", e->error}, {"error_description", e->description}, {"iss", cfg.issuer}};
        if (const auto st = params.find("state"); st != params.end())
            p["state"] = st->second;
        return redirect(req, with_params(uri, p));
    }
    AuthRequest a = std::move(std::get<AuthRequest>(checked));
    const auto s = session_of(req);
    const bool forced = contains(a.prompt, "login") || contains(a.prompt, "select_account");
    // max_age=0 is prompt=login (OpenID Connect Core errata): with whole seconds, a logon
    // in this very second would otherwise count as young enough.
    const bool too_old =
        s && a.max_age &&
        (*a.max_age == 0 || core::to_unix(clock.now()) - core::to_unix(s->opened_at) > *a.max_age);
    // The session is of another user than the client's id_token_hint names, or weaker than
    // every acr it asks for: sign in again (prompt=none: login_required).
    const bool other_user = s && a.hinted_sub && *a.hinted_sub != s->user_id;
    const bool too_weak = s && !a.acr_values.empty() &&
                          std::none_of(a.acr_values.begin(), a.acr_values.end(), [&](auto& v) {
                              return acr_level(acr_of(s->method.value_or("pwd"))) >=
                                     acr_level(v);
                          });
    const bool usable = s && !forced && !too_old && !other_user && !too_weak;
    if (usable) {
        auto consent = needs_consent(a, s->user_id);
        if (!consent)
            return redirect(req, error_redirect(a, "server_error",
                                                "latchkey cannot read "
                                                "consents right now"));
        if (!*consent)
            return redirect(req, code_redirect(a, *s));
        if (contains(a.prompt, "none"))
            return redirect(req, error_redirect(a, "consent_required",
                                                "the user has not allowed this client yet"));
    } else if (contains(a.prompt, "none")) {
        return redirect(req, error_redirect(a, "login_required", "the user is not signed in"));
    }
    LoginTx tx;
    tx.auth = std::move(a);
    if (usable)
        tx.consent_for = *s; // signed in already: only the consent page is left
    const auto id = new_tx(tx);
    if (!id || !keep_tx(*id, tx))
        return busy(req);
    return redirect(req, "/login?tx=" + *id, http::status::see_other);
}

HttpResponse Provider::State::resume(const HttpRequest& req, const Params& q)
{
    const auto it = q.find("tx");
    auto taken =
        it == q.end() ? core::Result<std::optional<LoginTx>>(std::nullopt) : take_tx(it->second);
    if (!taken)
        core::log::error("oidc: reading a sign-in: " + taken.error().message);
    if (!taken || !*taken || !(*taken)->redirect) {
        if (taken && *taken) // not done yet: still the sign-in's
            keep_tx(it->second, **taken);
        return html_response(req, http::status::bad_request,
                             pages::problem("Sign-in expired", "Start again from the "
                                                               "application."));
    }
    return redirect(req, *(*taken)->redirect);
}

} // namespace latchkey::oidc
