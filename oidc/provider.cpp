// SPDX-License-Identifier: Apache-2.0
// The OpenID Connect provider: construction, the routing of HTTP requests to the endpoint
// families, discovery and JWKS, and `latchkeyctl oidc` on the admin socket.
#include "oidc/provider.hpp"

#include <string>
#include <type_traits>
#include <utility>
#include <variant>

#include <boost/json.hpp>

#include "oidc/pages.hpp"
#include "oidc/provider_state.hpp"
#include "oidc/web.hpp"
#include "proto/wire.hpp"

namespace latchkey::oidc {

namespace {

namespace json = boost::json;

} // namespace

using namespace detail;

json::object Provider::State::discovery() const
{
    const auto& i = cfg.issuer;
    json::object d;
    d["issuer"] = i;
    d["authorization_endpoint"] = i + "/authorize";
    d["token_endpoint"] = i + "/token";
    d["userinfo_endpoint"] = i + "/userinfo";
    d["jwks_uri"] = i + "/jwks";
    d["end_session_endpoint"] = i + "/logout";
    d["revocation_endpoint"] = i + "/revoke";
    d["introspection_endpoint"] = i + "/introspect";
    d["device_authorization_endpoint"] = i + "/device_authorization";
    d["response_types_supported"] = json::array{"code"};
    d["response_modes_supported"] = json::array{"query"};
    d["grant_types_supported"] = json::array{"authorization_code", "refresh_token",
                                             "client_credentials", std::string(device_code_grant)};
    d["subject_types_supported"] = json::array{"public"};
    d["id_token_signing_alg_values_supported"] = json::array{"RS256", "ES256", "EdDSA"};
    d["token_endpoint_auth_methods_supported"] =
        json::array{"client_secret_basic", "client_secret_post", "none"};
    d["revocation_endpoint_auth_methods_supported"] =
        json::array{"client_secret_basic", "client_secret_post", "none"};
    d["introspection_endpoint_auth_methods_supported"] =
        json::array{"client_secret_basic", "client_secret_post"};
    d["code_challenge_methods_supported"] = json::array{"S256"};
    d["scopes_supported"] = json::array{"openid", "profile", "email", "offline_access"};
    d["claims_supported"] = json::array{"sub", "iss", "aud", "exp", "iat", "auth_time",
                                        "nonce", "amr", "acr", "sid", "name",
                                        "preferred_username", "email", "email_verified"};
    d["acr_values_supported"] = json::array{acr_pwd, acr_mfa, acr_phr};
    d["prompt_values_supported"] = json::array{"none", "login", "consent", "select_account"};
    d["authorization_response_iss_parameter_supported"] = true;
    d["request_parameter_supported"] = false;
    d["request_uri_parameter_supported"] = false;
    return d;
}

HttpResponse Provider::State::route(HttpRequest&& req, const HttpPeer& peer)
{
    prune_store();
    auto target = parse_target(req.target());
    if (!target)
        return text_response(req, http::status::bad_request, "text/plain; charset=utf-8",
                             target.error().message + "\n");
    const auto& path = target->path;
    const bool get = req.method() == http::verb::get || req.method() == http::verb::head;
    const bool post = req.method() == http::verb::post;
    if (path == "/.well-known/openid-configuration" && get)
        return json_response(req, http::status::ok, discovery());
    if (path == "/jwks" && get) {
        auto r = json_response(req, http::status::ok, keys.jwks());
        r.set(http::field::content_type, "application/jwk-set+json");
        return r;
    }
    if (path == "/authorize" && (get || post)) {
        if (post) {
            auto form = parse_params(req.body());
            if (!form)
                return html_response(req, http::status::bad_request,
                                     pages::problem("Cannot sign in", form.error().message));
            return authorize(req, *form);
        }
        return authorize(req, target->query);
    }
    if (path == "/authorize/resume" && get)
        return resume(req, target->query);
    if ((path == "/login" || (path.rfind("/d/", 0) == 0 && path.size() > 9 &&
                              path.compare(path.size() - 6, 6, "/login") == 0))) {
        if (get)
            return login_page(req, *target);
        if (post)
            return login_post(req, peer);
    }
    if (path == "/account" && get)
        return account_page(req, *target);
    if (post && (path == "/account/passkeys" || path == "/account/passkeys/options" ||
                 path == "/account/passkeys/rename" || path == "/account/passkeys/remove" ||
                 path == "/account/password" || path == "/account/mfa/start" ||
                 path == "/account/mfa/confirm" || path == "/account/mfa/remove"))
        return account_post(req, peer, path);
    if (path == "/device_authorization")
        return device_authorization(req, peer);
    if (path == "/device" && get)
        return device_page(req, *target);
    if (path == "/device" && post)
        return device_post(req);
    if (path == "/token")
        return token(req);
    if (path == "/userinfo" && (get || post))
        return userinfo(req);
    if (path == "/introspect" && post)
        return introspect(req);
    if (path == "/revoke" && post)
        return revoke(req);
    if (path == "/logout" && (get || post)) {
        if (post) {
            auto form = parse_params(req.body());
            if (!form)
                return html_response(req, http::status::bad_request,
                                     pages::problem("Cannot sign out", form.error().message));
            return logout(req, *form);
        }
        return logout(req, target->query);
    }
    if (path == "/static/latchkey.css" && get) {
        auto r = text_response(req, http::status::ok, "text/css; charset=utf-8",
                               std::string(pages::stylesheet()));
        r.set(http::field::cache_control, "public, max-age=3600");
        return r;
    }
    if (path == "/static/passkey.js" && get) {
        auto r = text_response(req, http::status::ok, "text/javascript; charset=utf-8",
                               std::string(pages::passkey_script()));
        r.set(http::field::cache_control, "public, max-age=3600");
        return r;
    }
    return html_response(req, http::status::not_found,
                         pages::problem("Not found", "There is no such page."));
}

Provider::Provider(ProviderConfig config,
                   directory::Store& store,
                   directory::Directory& directory,
                   credentials::AuthEngine& engine,
                   credentials::AccessKeys& access_keys,
                   const credentials::SecretBox& box,
                   directory::Audit& audit,
                   const core::Clock& clock)
    : state_(std::make_unique<State>(
          std::move(config), store, directory, engine, access_keys, box, audit, clock))
{
    directory.on_session_end(
        [s = state_.get()](const directory::SessionRecord& r, std::string_view reason) {
            s->session_ended(r, reason);
        });
}

Provider::~Provider()
{
    state_->directory.on_session_end(nullptr);
}

core::Status Provider::start()
{
    LATCHKEY_TRY_STATUS(state_->keys.load());
    if (state_->keys.jwks().at("keys").as_array().empty())
        LATCHKEY_TRY_STATUS(state_->keys.rotate("startup"));
    return {};
}

HttpResponse Provider::handle(HttpRequest&& request, const HttpPeer& peer)
{
    return state_->route(std::move(request), peer);
}

proto::Response Provider::handle(proto::Request& request, const directory::Actor& actor)
{
    State& s = *state_;
    return std::visit(
        [&](auto& m) -> proto::Response {
            using T = std::decay_t<decltype(m)>;
            if constexpr (std::is_same_v<T, proto::OidcClientAdd>) {
                auto r = s.clients.add(m.client, actor);
                if (!r)
                    return proto::failure(r.error());
                return std::move(*r);
            } else if constexpr (std::is_same_v<T, proto::OidcClientList>) {
                auto r = s.clients.list();
                if (!r)
                    return proto::failure(r.error());
                return proto::OidcClientListReply{std::move(*r)};
            } else if constexpr (std::is_same_v<T, proto::OidcClientShow>) {
                auto r = s.clients.show(m.id);
                if (!r)
                    return proto::failure(r.error());
                return proto::OidcClientReply{std::move(*r), std::nullopt};
            } else if constexpr (std::is_same_v<T, proto::OidcClientRemove>) {
                if (auto st = s.clients.remove(m.id, actor); !st)
                    return proto::failure(st.error());
                return proto::Done{"removed client " + m.id};
            } else if constexpr (std::is_same_v<T, proto::OidcRotateKeys>) {
                auto r = s.keys.rotate(actor.name);
                if (!r)
                    return proto::failure(r.error());
                std::string kids;
                for (const auto& k : *r)
                    kids += (kids.empty() ? "" : ", ") + k;
                return proto::Done{"new signing keys: " + kids};
            } else {
                return proto::failure({core::Errc::invalid_argument,
                                       "not an OpenID Connect request"});
            }
        },
        request);
}

} // namespace latchkey::oidc
