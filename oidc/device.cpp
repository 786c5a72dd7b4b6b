// SPDX-License-Identifier: Apache-2.0
// The OAuth 2.0 Device Authorization Grant (RFC 8628): a command-line client asks for a code at
// /device_authorization, a person approves it on the /device page, and the client's polls of
// the token endpoint get tokens of the person who approved.
//
//   POST /device_authorization  client_id [client_secret] scope
//     ──► {device_code, user_code, verification_uri, verification_uri_complete, expires_in,
//          interval}
//   POST /token  grant_type=urn:ietf:params:oauth:grant-type:device_code device_code client_id
//     ──► authorization_pending | slow_down | expired_token | access_denied | invalid_grant
//         | the tokens, once
#include "credentials/device_approvals.hpp"
#include "oidc/provider_state.hpp"
#include "oidc/web.hpp"

namespace latchkey::oidc {

namespace {

namespace json = boost::json;

/// The scopes a device grant may ask for: those the provider knows.
bool known_scope(std::string_view s)
{
    return s == "openid" || s == "profile" || s == "email" || s == "offline_access";
}

} // namespace

using namespace detail;

HttpResponse Provider::State::device_authorization(const HttpRequest& req, const HttpPeer& peer)
{
    if (req.method() != http::verb::post)
        return oauth_error(req, http::status::method_not_allowed, "invalid_request", "use POST");
    auto form = parse_params(req.body());
    if (!form)
        return oauth_error(req, http::status::bad_request, "invalid_request", form.error().message);
    auto who = token_client(req, *form);
    if (auto* r = std::get_if<HttpResponse>(&who))
        return std::move(*r);
    const auto& client = std::get<directory::OidcClientRecord>(who);
    std::vector<std::string> scopes;
    for (const auto& s : split_spaces((*form)["scope"])) {
        if (!known_scope(s))
            return oauth_error(req, http::status::bad_request, "invalid_scope",
                               "unknown scope " + s.substr(0, 64));
        if (!contains(scopes, s))
            scopes.push_back(s);
    }
    credentials::DeviceRequest r;
    r.kind = credentials::DeviceRequest::Kind::device_grant;
    r.source = client.id + "@" + peer.address;
    r.client_id = client.id;
    r.client_name = client.name.empty() ? client.id : client.name;
    r.scopes = std::move(scopes);
    auto issued = engine.device_approvals().issue(r, clock.now());
    if (!issued)
        return oauth_error(req, http::status::too_many_requests, "slow_down",
                           issued.error().message);
    record(directory::Severity::info, "oidc.device.start",
           {{"client_id", client.id}, {"user_code", issued->user_code}});
    const std::string page = cfg.issuer + "/device";
    json::object body;
    body["device_code"] = issued->device_code;
    body["user_code"] = issued->user_code;
    body["verification_uri"] = page;
    body["verification_uri_complete"] = page + "?code=" + issued->user_code;
    body["expires_in"] =
        std::chrono::duration_cast<std::chrono::seconds>(issued->expires - clock.now()).count();
    body["interval"] = issued->interval.count();
    auto response = json_response(req, http::status::ok, body);
    return response;
}

HttpResponse Provider::State::device_grant(const HttpRequest& req,
                                           const directory::OidcClientRecord& client,
                                           Params& form)
{
    const auto error = [&](std::string_view code, std::string_view why) {
        return oauth_error(req, http::status::bad_request, code, why);
    };
    using Poll = credentials::DevicePoll::State;
    auto polled = engine.device_approvals().poll(form["device_code"], clock.now());
    switch (polled.state) {
    case Poll::pending: return error("authorization_pending", "nobody has approved this code yet");
    case Poll::slow_down:
        return error("slow_down", "poll less often: wait the interval, and five seconds more");
    case Poll::expired: return error("expired_token", "the code expired; ask for a new one");
    case Poll::denied:
        record(directory::Severity::info, "oidc.device.deny", {{"client_id", client.id}});
        return error("access_denied", "the person denied the request");
    case Poll::unknown: return error("invalid_grant", "the device code is not valid");
    case Poll::approved: break;
    }
    const auto& asked = *polled.request;
    const auto& approver = *polled.approver;
    if (asked.kind != credentials::DeviceRequest::Kind::device_grant ||
        asked.client_id != client.id)
        return error("invalid_grant", "the device code was issued to another client");
    auto session = store.session(approver.session_id);
    if (!session)
        return oauth_error(req, http::status::internal_server_error, "server_error",
                           "latchkey cannot read sessions right now");
    if (!*session || (*session)->closed_at || !session_alive(approver.session_id))
        return error("invalid_grant", "the session that approved this code has ended");
    if (auto st = store.add_session_client(approver.session_id, client.id); !st)
        return error("invalid_grant", st.error().message);
    std::optional<RefreshIssue> refresh;
    if (contains(asked.scopes, "offline_access")) {
        RefreshIssue r{random_token(), random_token()};
        directory::RefreshTokenRecord t{token_key(r.token),
                                        r.family,
                                        client.id,
                                        approver.user_id,
                                        approver.session_id,
                                        asked.scopes,
                                        (*session)->opened_at,
                                        approver.method,
                                        clock.now() + cfg.refresh_token_lifetime,
                                        std::nullopt};
        if (auto st = store.add_refresh_token(t); !st)
            return error("invalid_grant", st.error().message);
        refresh = std::move(r);
    }
    auto issued = issue(client, approver.user_id, asked.scopes, approver.session_id,
                        (*session)->opened_at, approver.method, std::nullopt, refresh);
    if (!issued)
        return error("invalid_grant", issued.error().message);
    record(directory::Severity::info, "oidc.token.issue",
           {{"client_id", client.id}, {"sub", approver.user_id}, {"grant", "device_code"}});
    return json_response(req, http::status::ok, issued->body);
}

} // namespace latchkey::oidc
