// SPDX-License-Identifier: Apache-2.0
// What a client does with the tokens it holds: userinfo, introspection (RFC 7662) and
// revocation (RFC 7009), each checking the token against revocations and its session.
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

#include <boost/json.hpp>

#include "core/clock.hpp"
#include "oidc/provider_state.hpp"
#include "oidc/web.hpp"

namespace latchkey::oidc {

namespace {

namespace json = boost::json;

} // namespace

using namespace detail;

/// The claims of a valid access token of ours, or nullopt.
std::optional<json::object> Provider::State::access_claims(std::string_view token)
{
    auto claims = keys.verify(token);
    if (!claims)
        return std::nullopt;
    const auto* exp = claims->if_contains("exp");
    const auto* jti = claims->if_contains("jti");
    if (exp == nullptr || !exp->is_int64() || exp->as_int64() <= unix_now(clock) ||
        jti == nullptr || !jti->is_string() || claims->if_contains("client_id") == nullptr)
        return std::nullopt;
    auto revoked = store.access_token_revoked(std::string(jti->as_string()));
    if (!revoked || *revoked)
        return std::nullopt;
    // A token of a browser session is good only while the session is (session end,
    // sign-out, a password change).
    if (const auto* sid = claims->if_contains("sid"))
        if (!sid->is_string() || !session_alive(std::string(sid->as_string())))
            return std::nullopt;
    return std::move(*claims);
}

HttpResponse Provider::State::userinfo(const HttpRequest& req)
{
    const auto token = bearer_token(req);
    const auto claims = token ? access_claims(*token) : std::nullopt;
    if (!claims) {
        auto r = json_response(req, http::status::unauthorized, json::object{});
        r.set(http::field::www_authenticate,
              "Bearer error=\"invalid_token\", error_description=\"the access token is not "
              "valid\"");
        return r;
    }
    const std::string sub(claims->at("sub").as_string());
    json::object out;
    out["sub"] = sub;
    auto user = store.user_by_id(sub);
    if (user && *user) {
        auto account = store.account_by_id((*user)->account_id);
        if (account && *account)
            add_claims(out, split_spaces(claims->at("scope").as_string()), **user, **account);
    }
    return json_response(req, http::status::ok, out);
}

std::variant<Provider::State::ClientForm, HttpResponse>
Provider::State::client_form(const HttpRequest& req)
{
    auto form = parse_params(req.body());
    if (!form)
        return oauth_error(req, http::status::bad_request, "invalid_request", form.error().message);
    auto who = token_client(req, *form);
    if (auto* r = std::get_if<HttpResponse>(&who))
        return std::move(*r);
    return ClientForm{std::move(*form), std::move(std::get<directory::OidcClientRecord>(who))};
}

HttpResponse Provider::State::introspect(const HttpRequest& req)
{
    auto in = client_form(req);
    if (auto* r = std::get_if<HttpResponse>(&in))
        return std::move(*r);
    auto& [form, client] = std::get<ClientForm>(in);
    if (client.is_public)
        return oauth_error(req, http::status::unauthorized, "invalid_client",
                           "introspection is for confidential clients");
    const std::string token = form["token"];
    json::object out;
    out["active"] = false;
    if (auto claims = access_claims(token)) {
        out = std::move(*claims);
        out["active"] = true;
        out["token_type"] = "Bearer";
        return json_response(req, http::status::ok, out);
    }
    if (auto found = store.refresh_token(token_key(token)); found && *found) {
        const auto& t = **found;
        if (!t.rotated_at && t.expires_at > clock.now() && t.client_id == client.id &&
            session_alive(t.session_id)) {
            out["active"] = true;
            out["client_id"] = t.client_id;
            out["sub"] = t.user_id;
            out["scope"] = join_spaces(t.scopes);
            out["exp"] = core::to_unix(t.expires_at);
            out["token_type"] = "refresh_token";
        }
    }
    return json_response(req, http::status::ok, out);
}

HttpResponse Provider::State::revoke(const HttpRequest& req)
{
    auto in = client_form(req);
    if (auto* r = std::get_if<HttpResponse>(&in))
        return std::move(*r);
    auto& [form, client] = std::get<ClientForm>(in);
    const std::string token = form["token"];
    if (auto claims = keys.verify(token)) {
        const auto* jti = claims->if_contains("jti");
        const auto* cid = claims->if_contains("client_id");
        const auto* exp = claims->if_contains("exp");
        if (jti && jti->is_string() && cid && cid->is_string() && cid->as_string() == client.id &&
            exp && exp->is_int64())
            if (auto st = store.revoke_access_token(std::string(jti->as_string()),
                                                    core::from_unix(exp->as_int64()));
                !st)
                return oauth_error(req, http::status::service_unavailable,
                                   "temporarily_unavailable",
                                   "latchkey cannot revoke tokens right now");
    } else if (auto found = store.refresh_token(token_key(token));
               found && *found && (*found)->client_id == client.id) {
        if (auto st = store.delete_refresh_family((*found)->family); !st)
            return oauth_error(req, http::status::service_unavailable, "temporarily_unavailable",
                               "latchkey cannot revoke tokens right now");
    }
    // RFC 7009 §2.2: 200 whether or not the token was valid.
    return text_response(req, http::status::ok, "application/json", "{}");
}

} // namespace latchkey::oidc
