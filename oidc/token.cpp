// SPDX-License-Identifier: Apache-2.0
// The token endpoint: authorization code with PKCE, refresh with rotation and reuse detection,
// and client_credentials with an access key; and the tokens it issues.
#include <algorithm>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include <boost/json.hpp>

#include "core/clock.hpp"
#include "core/log.hpp"
#include "core/secret.hpp"
#include "oidc/jose.hpp"
#include "oidc/provider_state.hpp"
#include "oidc/web.hpp"

namespace latchkey::oidc {

namespace {

namespace json = boost::json;

/// RFC 7636 §4.1: 43 to 128 characters of [A-Z] / [a-z] / [0-9] / "-" / "." / "_" / "~".
bool valid_verifier(std::string_view v)
{
    return v.size() >= 43 && v.size() <= 128 && std::all_of(v.begin(), v.end(), [](char c) {
               return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '-' || c == '.' || c == '_' || c == '~';
           });
}

json::array string_array(const std::vector<std::string>& v)
{
    json::array a;
    for (const auto& s : v)
        a.emplace_back(s);
    return a;
}

} // namespace

using namespace detail;

core::Result<Provider::State::Issued>
Provider::State::issue(const directory::OidcClientRecord& client,
                       const std::string& user_id,
                       const std::vector<std::string>& scopes,
                       const std::string& sid,
                       core::TimePoint auth_time,
                       const std::string& method,
                       const std::optional<std::string>& nonce,
                       const std::optional<RefreshIssue>& refresh)
{
    LATCHKEY_TRY(user, store.user_by_id(user_id));
    if (!user)
        return core::fail(core::Errc::not_found, "the user no longer exists");
    LATCHKEY_TRY(account, store.account_by_id(user->account_id));
    if (!account)
        return core::fail(core::Errc::not_found, "the user's account no longer exists");
    const auto now = unix_now(clock);
    Issued out;
    out.jti = random_token();
    json::object at;
    at["iss"] = cfg.issuer;
    at["sub"] = user_id;
    at["aud"] = client.id;
    at["client_id"] = client.id;
    at["scope"] = join_spaces(scopes);
    at["iat"] = now;
    at["exp"] = now + cfg.access_token_lifetime.count();
    at["auth_time"] = core::to_unix(auth_time);
    at["jti"] = out.jti;
    at["sid"] = sid;
    LATCHKEY_TRY(access, keys.sign(JwsAlg::RS256, at, "at+jwt"));
    const auto alg = jws_alg_from_string(client.id_token_alg).value_or(JwsAlg::RS256);
    json::object id;
    id["iss"] = cfg.issuer;
    id["sub"] = user_id;
    id["aud"] = client.id;
    id["azp"] = client.id;
    id["iat"] = now;
    id["exp"] = now + cfg.id_token_lifetime.count();
    id["auth_time"] = core::to_unix(auth_time);
    if (nonce)
        id["nonce"] = *nonce;
    const auto amr = amr_of(method);
    id["amr"] = string_array(amr);
    id["acr"] = acr_of(method);
    id["sid"] = sid;
    id["at_hash"] = at_hash(access, alg);
    if (client.claims_in_id_token)
        add_claims(id, scopes, *user, *account);
    LATCHKEY_TRY(id_token, keys.sign(alg, id));
    if (refresh) // before the token leaves: a family revoked later must find it
        LATCHKEY_TRY_STATUS(store.add_family_access_token(
            refresh->family, out.jti, clock.now() + cfg.access_token_lifetime));
    out.body["access_token"] = access;
    out.body["token_type"] = "Bearer";
    out.body["expires_in"] = cfg.access_token_lifetime.count();
    out.body["id_token"] = id_token;
    out.body["scope"] = join_spaces(scopes);
    if (refresh)
        out.body["refresh_token"] = refresh->token;
    return out;
}

void Provider::State::add_claims(json::object& o,
                                 const std::vector<std::string>& scopes,
                                 const directory::UserRecord& u,
                                 const directory::AccountRecord& a)
{
    if (contains(scopes, "profile")) {
        o["name"] = u.display_name.empty() ? u.name : u.display_name;
        o["preferred_username"] = u.name + "@" + a.default_domain;
    }
    if (contains(scopes, "email") && u.email) {
        o["email"] = *u.email;
        o["email_verified"] = false; // an administrator typed it; nobody proved it
    }
}

/// The client of a token request: authenticated by secret (Basic or form), or public.
std::variant<directory::OidcClientRecord, HttpResponse>
Provider::State::token_client(const HttpRequest& req, Params& form)
{
    const auto basic = basic_credentials(req);
    const bool in_form = form.count("client_secret") > 0;
    if (basic && in_form)
        return oauth_error(req, http::status::bad_request, "invalid_request",
                           "use one client authentication method");
    std::string id = basic ? basic->user : form["client_id"];
    if (basic && form.count("client_id") && form["client_id"] != basic->user)
        return oauth_error(req, http::status::bad_request, "invalid_request",
                           "client_id does not match the Authorization header");
    auto found = clients.find(id);
    if (!found)
        return oauth_error(req, http::status::internal_server_error, "server_error",
                           "latchkey cannot read its clients right now");
    const auto refuse = [&] {
        record(directory::Severity::warning, "oidc.client.auth_fail",
               {{"client_id", id.substr(0, 64)}});
        return oauth_error(req, http::status::unauthorized, "invalid_client",
                           "client authentication failed");
    };
    if (!*found)
        return refuse();
    directory::OidcClientRecord client = std::move(**found);
    if (client.is_public) {
        if (basic || in_form)
            return refuse();
        return client;
    }
    core::Secret secret(basic ? basic->password : form["client_secret"]);
    if (!clients.secret_matches(client, secret))
        return refuse();
    return client;
}

HttpResponse Provider::State::token(const HttpRequest& req)
{
    if (req.method() != http::verb::post)
        return oauth_error(req, http::status::method_not_allowed, "invalid_request", "use POST");
    auto form = parse_params(req.body());
    if (!form)
        return oauth_error(req, http::status::bad_request, "invalid_request", form.error().message);
    if ((*form)["grant_type"] == "client_credentials")
        return client_credentials(req, *form);
    auto who = token_client(req, *form);
    if (auto* r = std::get_if<HttpResponse>(&who))
        return std::move(*r);
    const auto& client = std::get<directory::OidcClientRecord>(who);
    const std::string grant = (*form)["grant_type"];
    if (grant == "authorization_code")
        return code_grant(req, client, *form);
    if (grant == "refresh_token")
        return refresh_grant(req, client, *form);
    if (grant == device_code_grant)
        return device_grant(req, client, *form);
    return oauth_error(req, http::status::bad_request, "unsupported_grant_type",
                       "grant_type must be authorization_code, refresh_token, "
                       "client_credentials or " +
                           std::string(device_code_grant));
}

/// An access key (seed 004) at the token endpoint: key id and secret as client_id and
/// client_secret. The token acts as the key's user; passwords play no part.
HttpResponse Provider::State::client_credentials(const HttpRequest& req, Params& form)
{
    const auto basic = basic_credentials(req);
    if (basic && form.count("client_secret"))
        return oauth_error(req, http::status::bad_request, "invalid_request",
                           "use one client authentication method");
    const std::string id = basic ? basic->user : form["client_id"];
    const core::Secret secret(basic ? basic->password : form["client_secret"]);
    auto who = access_keys.authenticate(id, secret);
    if (!who)
        return oauth_error(req, http::status::internal_server_error, "server_error",
                           "latchkey cannot check access keys right now");
    if (!*who) {
        record(directory::Severity::warning, "accesskey.auth_fail", {{"key_id", id.substr(0, 32)}});
        return oauth_error(req, http::status::unauthorized, "invalid_client",
                           "the access key is unknown, disabled or its secret is wrong");
    }
    const auto& u = (*who)->user;
    std::vector<std::string> scopes;
    for (const auto& w : split_spaces(form["scope"]))
        if (w == "profile" || w == "email")
            scopes.push_back(w);
    const auto now = unix_now(clock);
    json::object at;
    at["iss"] = cfg.issuer;
    at["sub"] = u.id;
    at["aud"] = id;
    at["client_id"] = id;
    at["scope"] = join_spaces(scopes);
    at["iat"] = now;
    at["exp"] = now + cfg.access_token_lifetime.count();
    at["jti"] = random_token();
    auto token = keys.sign(JwsAlg::RS256, at, "at+jwt");
    if (!token)
        return oauth_error(req, http::status::internal_server_error, "server_error",
                           "latchkey cannot sign tokens right now");
    record(directory::Severity::info, "oidc.token.issue",
           {{"client_id", id}, {"sub", u.id}, {"user", u.name}, {"grant", "client_credentials"}});
    json::object body;
    body["access_token"] = *token;
    body["token_type"] = "Bearer";
    body["expires_in"] = cfg.access_token_lifetime.count();
    body["scope"] = join_spaces(scopes);
    return json_response(req, http::status::ok, body);
}

HttpResponse Provider::State::code_grant(const HttpRequest& req,
                                         const directory::OidcClientRecord& client,
                                         Params& form)
{
    const auto invalid = [&](std::string_view why) {
        return oauth_error(req, http::status::bad_request, "invalid_grant", why);
    };
    const auto unavailable = [&] {
        return oauth_error(req, http::status::internal_server_error, "server_error",
                           "the directory is unavailable; try again");
    };
    // A replayed code: whatever the first exchange issued is revoked (RFC 6749 §4.1.2).
    const auto replayed = [&](const directory::AuthCodeRecord& first) {
        const auto until = clock.now() + cfg.access_token_lifetime;
        for (const auto& j : first.access_jtis)
            if (auto st = store.revoke_access_token(j, until); !st)
                core::log::error("oidc: revoking a token: " + st.error().message);
        if (first.family)
            if (auto st = store.delete_refresh_family(*first.family); !st)
                core::log::error("oidc: revoking refresh tokens: " + st.error().message);
        record(directory::Severity::warning, "oidc.code.replay",
               {{"client_id", client.id}, {"sub", first.user_id}});
        return invalid("the code was used already; what it issued is revoked");
    };
    const std::string key = token_key(form["code"]);
    const auto found = store.auth_code(key);
    if (!found)
        return unavailable();
    if (!found->has_value())
        return invalid("the code is not valid");
    directory::AuthCodeRecord copy = **found;
    if (copy.used)
        return replayed(copy);
    if (copy.client_id != client.id)
        return invalid("the code was issued to another client");
    if (copy.expires_at < clock.now())
        return invalid("the code has expired");
    if (form["redirect_uri"] != copy.redirect_uri)
        return invalid("redirect_uri does not match the authorization request");
    const auto verifier = form.find("code_verifier");
    if (copy.code_challenge) {
        if (verifier == form.end() || !valid_verifier(verifier->second) ||
            !core::constant_time_equal(sha256_base64url(verifier->second), *copy.code_challenge))
            return invalid("the PKCE code_verifier does not match");
    } else if (verifier != form.end()) {
        return invalid("no code_challenge was sent with the authorization request");
    }
    if (contains(copy.scopes, "offline_access"))
        copy.family = random_token();
    // Exactly one exchange wins, on whichever node: the others are replays.
    const auto won = store.use_auth_code(key, copy.family);
    if (!won)
        return unavailable();
    if (!*won) {
        const auto first = store.auth_code(key);
        if (!first || !first->has_value())
            return invalid("the code is not valid");
        return replayed(**first);
    }
    if (!session_alive(copy.session_id))
        return invalid("the session this code came from has ended");
    if (auto st = store.add_session_client(copy.session_id, client.id); !st)
        return invalid(st.error().message);
    std::optional<std::string> refresh_token;
    if (copy.family) {
        refresh_token = random_token();
        directory::RefreshTokenRecord t{token_key(*refresh_token),
                                        *copy.family,
                                        client.id,
                                        copy.user_id,
                                        copy.session_id,
                                        copy.scopes,
                                        copy.auth_time,
                                        copy.method,
                                        clock.now() + cfg.refresh_token_lifetime,
                                        std::nullopt};
        if (auto st = store.add_refresh_token(t); !st)
            return invalid(st.error().message);
    }
    std::optional<RefreshIssue> refresh;
    if (refresh_token)
        refresh = RefreshIssue{*refresh_token, *copy.family};
    auto issued = issue(client, copy.user_id, copy.scopes, copy.session_id, copy.auth_time,
                        copy.method, copy.nonce, refresh);
    if (!issued)
        return oauth_error(req, http::status::bad_request, "invalid_grant", issued.error().message);
    if (auto st = store.add_auth_code_token(key, issued->jti); !st)
        core::log::error("oidc: recording a code's token: " + st.error().message);
    record(directory::Severity::info, "oidc.token.issue",
           {{"client_id", client.id}, {"sub", copy.user_id}, {"grant", "authorization_code"}});
    return json_response(req, http::status::ok, issued->body);
}

HttpResponse Provider::State::refresh_grant(const HttpRequest& req,
                                            const directory::OidcClientRecord& client,
                                            Params& form)
{
    const auto invalid = [&](std::string_view why) {
        return oauth_error(req, http::status::bad_request, "invalid_grant", why);
    };
    auto found = store.refresh_token(token_key(form["refresh_token"]));
    if (!found)
        return oauth_error(req, http::status::internal_server_error, "server_error",
                           "latchkey cannot read refresh tokens right now");
    if (!*found)
        return invalid("the refresh token is not valid");
    const directory::RefreshTokenRecord t = std::move(**found);
    if (t.client_id != client.id)
        return invalid("the refresh token was issued to another client");
    const auto now = clock.now();
    if (t.expires_at < now)
        return invalid("the refresh token has expired");
    const auto kill = [&] {
        if (auto st = store.delete_refresh_family(t.family); !st)
            core::log::error("oidc: revoking refresh tokens: " + st.error().message);
    };
    if (t.rotated_at && *t.rotated_at + cfg.refresh_grace < now) {
        // Reuse of a rotated token: someone else has the family. End it.
        kill();
        record(directory::Severity::warning, "oidc.refresh.reuse",
               {{"client_id", client.id}, {"sub", t.user_id}});
        return invalid("the refresh token was used already; its family is revoked");
    }
    if (!session_alive(t.session_id)) {
        kill();
        return invalid("the session of this refresh token has ended");
    }
    std::vector<std::string> scopes = t.scopes;
    if (const auto s = form.find("scope"); s != form.end()) {
        scopes.clear();
        for (const auto& w : split_spaces(s->second)) {
            if (!contains(t.scopes, w))
                return oauth_error(req, http::status::bad_request, "invalid_scope",
                                   "a refresh cannot widen the scope");
            scopes.push_back(w);
        }
    }
    const std::string next = random_token();
    directory::RefreshTokenRecord fresh = t;
    fresh.token_hash = token_key(next);
    fresh.rotated_at.reset();
    fresh.scopes = scopes;
    if (auto st = store.rotate_refresh_token(t.token_hash, now, fresh); !st)
        return invalid(st.error().message);
    auto issued = issue(client, fresh.user_id, scopes, fresh.session_id, fresh.auth_time,
                        fresh.method, std::nullopt, RefreshIssue{next, fresh.family});
    if (!issued)
        return invalid(issued.error().message);
    record(directory::Severity::info, "oidc.token.issue",
           {{"client_id", client.id}, {"sub", fresh.user_id}, {"grant", "refresh_token"}});
    return json_response(req, http::status::ok, issued->body);
}

} // namespace latchkey::oidc
