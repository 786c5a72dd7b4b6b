// SPDX-License-Identifier: Apache-2.0
// RP-initiated logout (/logout) and back-channel logout: a browser session that ends, however
// it ends, is announced to every client it signed in to with a logout token.
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include <boost/json.hpp>

#include "core/log.hpp"
#include "core/result.hpp"
#include "oidc/jose.hpp"
#include "oidc/pages.hpp"
#include "oidc/provider_state.hpp"
#include "oidc/web.hpp"

namespace latchkey::oidc {

namespace {

namespace json = boost::json;

} // namespace

using namespace detail;

/// A browser session ended (Directory::end_session): tell every client it signed in to
/// that registered a back-channel logout URI.
void Provider::State::session_ended(const directory::SessionRecord& s, std::string_view /*reason*/)
{
    if (s.kind != directory::SessionKind::web)
        return;
    auto ids = store.session_clients(s.id);
    if (!ids) {
        core::log::error("oidc: back-channel logout of a session: " + ids.error().message);
        return;
    }
    for (const auto& id : *ids) {
        auto c = clients.find(id);
        if (!c || !*c || !(*c)->backchannel_logout_uri)
            continue;
        const auto now = unix_now(clock);
        json::object t;
        t["iss"] = cfg.issuer;
        t["aud"] = id;
        t["iat"] = now;
        t["exp"] = now + 120;
        t["jti"] = random_token();
        t["sub"] = s.user_id;
        t["sid"] = s.id;
        json::object events;
        events["http://schemas.openid.net/event/backchannel-logout"] = json::object{};
        t["events"] = std::move(events);
        const auto alg = jws_alg_from_string((*c)->id_token_alg).value_or(JwsAlg::RS256);
        auto token = keys.sign(alg, t, "logout+jwt");
        if (!token) {
            core::log::error("oidc: signing a logout token: " + token.error().message);
            continue;
        }
        LogoutDelivery d{id, *(*c)->backchannel_logout_uri, std::move(*token), s.id};
        if (!backchannel.send(d))
            delivered(d, core::fail(core::Errc::io_failed, "too many logouts are waiting"));
    }
}

void Provider::State::delivered(const LogoutDelivery& d, const core::Status& st)
{
    if (st)
        record(directory::Severity::info, "oidc.backchannel_logout",
               {{"client_id", d.client_id}, {"sid", d.sid}, {"result", "delivered"}});
    else
        record(directory::Severity::warning, "oidc.backchannel_logout",
               {{"client_id", d.client_id},
                {"sid", d.sid},
                {"result", "failed"},
                {"error", st.error().message}});
}

HttpResponse Provider::State::logout(const HttpRequest& req, Params& p)
{
    std::optional<std::string> client_id;
    if (const auto hint = p.find("id_token_hint"); hint != p.end()) {
        // Expired ID tokens are fine here; the signature is what counts.
        if (auto claims = keys.verify(hint->second))
            if (const auto* aud = claims->if_contains("aud"); aud && aud->is_string())
                client_id = std::string(aud->as_string());
    }
    std::optional<std::string> target;
    if (const auto uri = p.find("post_logout_redirect_uri"); uri != p.end()) {
        if (!client_id)
            return html_response(req, http::status::bad_request,
                                 pages::problem("Cannot sign out",
                                                "A post-logout redirect needs an "
                                                "id_token_hint from this provider."));
        auto c = clients.find(*client_id);
        if (!c || !*c || !contains((*c)->post_logout_redirect_uris, uri->second))
            return html_response(req, http::status::bad_request,
                                 pages::problem("Cannot sign out",
                                                "That post-logout redirect URI is not "
                                                "registered for the client."));
        Params back;
        if (const auto st = p.find("state"); st != p.end())
            back["state"] = st->second;
        target = with_params(uri->second, back);
    }
    if (const auto s = session_of(req)) {
        // The directory closes it with its refresh tokens, audits it, and tells the session's
        // clients through back-channel logout.
        if (auto ended = directory.end_session(*s, "logout", directory::Actor{"oidc"}); !ended)
            return html_response(req, http::status::service_unavailable,
                                 pages::problem("Cannot sign out", "latchkey cannot end the "
                                                                   "session right now."));
    }
    HttpResponse r =
        target ? redirect(req, *target)
               : html_response(req, http::status::ok, pages::signed_out("You are signed out."));
    r.set(http::field::set_cookie,
          std::string(session_cookie) + "=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax");
    return r;
}

} // namespace latchkey::oidc
