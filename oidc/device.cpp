// SPDX-License-Identifier: Apache-2.0
// The OAuth 2.0 Device Authorization Grant (RFC 8628): a command-line client asks for a code at
// /device_authorization, a person approves it on the /device page, and the client's polls of
// the token endpoint get tokens of the person who approved. The same page approves the ssh
// logons that wait for a code (credentials/device_approvals.hpp).
//
//   GET  /device[?code=]   signed in: the code's request and Approve / Deny (else sign in first,
//                          then back here); without a code, a field to type it
//   POST /device           csrf, code, decision=approve|deny
//
//   POST /device_authorization  client_id [client_secret] scope
//     ──► {device_code, user_code, verification_uri, verification_uri_complete, expires_in,
//          interval}
//   POST /token  grant_type=urn:ietf:params:oauth:grant-type:device_code device_code client_id
//     ──► authorization_pending | slow_down | expired_token | access_denied | invalid_grant
//         | the tokens, once
#include "core/random.hpp"
#include "credentials/device_approvals.hpp"
#include "oidc/pages.hpp"
#include "oidc/provider_state.hpp"
#include "oidc/web.hpp"

namespace latchkey::oidc {

namespace {

namespace json = boost::json;

/// The guesser a wrong code counts against: the browser session.
std::string guesser_of(const directory::SessionRecord& s)
{
    return "session:" + s.id;
}

} // namespace

using namespace detail;

HttpResponse Provider::State::device_page(const HttpRequest& req, const Target& t)
{
    const auto code_param = t.query.find("code");
    const std::string typed = code_param == t.query.end() ? std::string() : code_param->second;
    const auto session = session_of(req);
    if (!session) {
        std::string back = "/login?return=device";
        if (const auto c = credentials::canonical_user_code(typed))
            back += "&code=" + *c;
        return redirect(req, back, http::status::see_other);
    }
    auto who = directory.resolve_id(session->user_id);
    if (!who)
        return html_response(
            req, http::status::service_unavailable,
            pages::problem("Approve a sign-in", "latchkey cannot read your account right now."));
    pages::DeviceView v;
    v.csrf = account_csrf(req);
    v.logon_name = who->user.name + "@" + who->account.default_domain;
    if (typed.empty())
        return html_response(req, http::status::ok, pages::device(v));
    auto& approvals = engine.device_approvals();
    const auto now = clock.now();
    auto waiting = approvals.pending(typed, guesser_of(*session), now);
    if (!waiting) {
        v.error = waiting.error().message;
        v.error[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(v.error[0])));
        return html_response(req, http::status::ok, pages::device(v));
    }
    const credentials::DeviceRequest& r = waiting->request;
    if (r.kind == credentials::DeviceRequest::Kind::host_logon && r.user_id != session->user_id) {
        // Shown to the wrong person: spent, so that it cannot be approved by anyone.
        (void)approvals.decide(typed, {session->user_id, session->id, session->method.value_or("")},
                               false, guesser_of(*session), now);
        record(directory::Severity::warning, "device.deny",
               {{"user", v.logon_name},
                {"reason", "another_users_logon"},
                {"user_code", waiting->user_code}});
        return html_response(req, http::status::forbidden,
                             pages::problem("Not your sign-in",
                                            "This code is for another user's logon, so it no "
                                            "longer works. Whoever is signing in has to start "
                                            "again."));
    }
    v.user_code = waiting->user_code;
    const std::string asked = core::to_iso8601(waiting->created);
    if (r.kind == credentials::DeviceRequest::Kind::host_logon) {
        v.title = "Sign in to " + r.host + "?";
        v.details = {{"As", r.user_name},    {"Host", r.host},
                     {"Service", r.service}, {"From", r.rhost.value_or("this machine")},
                     {"Asked at", asked},    {"Code", waiting->user_code}};
    } else {
        v.title = "Allow " + r.client_name + " to sign in as you?";
        v.details = {{"Application", r.client_name},
                     {"Access", join_spaces(r.scopes)},
                     {"Asked at", asked},
                     {"Code", waiting->user_code}};
    }
    return html_response(req, http::status::ok, pages::device(v));
}

HttpResponse Provider::State::device_post(const HttpRequest& req)
{
    const auto session = session_of(req);
    if (!session)
        return redirect(req, "/login?return=device", http::status::see_other);
    auto form = parse_params(req.body());
    if (!form)
        return html_response(req, http::status::bad_request,
                             pages::problem("Approve a sign-in", form.error().message));
    const std::string expected = account_csrf(req);
    if (expected.empty() || !core::constant_time_equal((*form)["csrf"], expected))
        return html_response(req, http::status::forbidden,
                             pages::problem("Approve a sign-in",
                                            "The request did not come from the approval page."));
    const std::string decision = (*form)["decision"];
    if (decision != "approve" && decision != "deny")
        return html_response(req, http::status::bad_request,
                             pages::problem("Approve a sign-in", "Choose Approve or Deny."));
    const bool approve = decision == "approve";
    const std::string code = (*form)["code"];
    const credentials::DeviceApprover approver{session->user_id, session->id,
                                               session->method.value_or("pwd")};
    const auto decided = engine.device_approvals().decide(code, approver, approve,
                                                          guesser_of(*session), clock.now());
    if (!decided) {
        pages::DeviceView v;
        v.csrf = expected;
        if (auto who = directory.resolve_id(session->user_id))
            v.logon_name = who->user.name + "@" + who->account.default_domain;
        v.error = decided.error().message;
        v.error[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(v.error[0])));
        return html_response(req,
                             decided.error().is(core::Errc::permission_denied)
                                 ? http::status::forbidden
                                 : http::status::ok,
                             pages::device(v));
    }
    std::map<std::string, std::string> fields{{"user_id", session->user_id},
                                              {"session", session->id}};
    fields["user_code"] = decided->user_code;
    fields["for"] = decided->request.kind == credentials::DeviceRequest::Kind::host_logon
                        ? "host_logon"
                        : "client " + decided->request.client_id;
    record(approve ? directory::Severity::info : directory::Severity::notice,
           approve ? "device.approve" : "device.deny", std::move(fields));
    return html_response(req, http::status::ok,
                         approve
                             ? pages::device_done("Approved", "You can go back to where you were "
                                                              "signing in: it goes on there.")
                             : pages::device_done("Denied", "Nothing was signed in."));
}

HttpResponse Provider::State::device_authorization(const HttpRequest& req, const HttpPeer& peer)
{
    if (req.method() != http::verb::post)
        return oauth_error(req, http::status::method_not_allowed, "invalid_request", "use POST");
    auto checked = client_form(req);
    if (auto* r = std::get_if<HttpResponse>(&checked))
        return std::move(*r);
    auto& [form, client] = std::get<ClientForm>(checked);
    std::vector<std::string> scopes;
    for (const auto& s : split_spaces(form["scope"])) {
        // As at /authorize: only scopes the client is registered for.
        if (!contains(client.scopes, s))
            return oauth_error(req, http::status::bad_request, "invalid_scope",
                               "the client may not ask for scope " + s.substr(0, 64));
        if (!contains(scopes, s))
            scopes.push_back(s);
    }
    credentials::DeviceRequest r;
    r.kind = credentials::DeviceRequest::Kind::device_grant;
    r.source = client.id + "@" + peer.address;
    r.client_id = client.id;
    r.client_name = client.name.empty() ? client.id : client.name;
    r.scopes = std::move(scopes);
    const auto now = clock.now();
    auto issued = engine.device_approvals().issue(r, now);
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
    body["verification_uri_complete"] = credentials::page_with_code(page, issued->user_code);
    body["expires_in"] =
        std::chrono::duration_cast<std::chrono::seconds>(issued->expires - now).count();
    body["interval"] = issued->interval.count();
    return json_response(req, http::status::ok, body);
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
