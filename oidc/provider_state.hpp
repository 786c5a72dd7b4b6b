// SPDX-License-Identifier: Apache-2.0
// Provider::State, internal to oidc/: what the endpoint families share (sign-ins and codes in
// progress, the store, keys and clients) and the helpers more than one family uses.
//
// The endpoints are members of State, each family in a file of its own: provider_state.cpp
// (upkeep), authorize.cpp, login.cpp (the sign-in pages), token.cpp, introspection.cpp
// (userinfo, introspection, revocation), logout.cpp, and provider.cpp (discovery, routing).
// Those files say `using namespace detail;`: the helpers were file-local before the split, and
// the endpoint bodies read as they did.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <boost/json.hpp>

#include "core/clock.hpp"
#include "core/result.hpp"
#include "credentials/passkeys.hpp"
#include "oidc/backchannel.hpp"
#include "oidc/clients.hpp"
#include "oidc/http_server.hpp"
#include "oidc/keyring.hpp"
#include "oidc/pages.hpp"
#include "oidc/provider.hpp"
#include "oidc/web.hpp"

namespace latchkey::oidc {

namespace detail {

inline constexpr std::string_view session_cookie = "lk_session";
inline constexpr std::string_view acr_pwd = "urn:latchkey:acr:pwd";
inline constexpr std::string_view acr_mfa = "urn:latchkey:acr:mfa";
/// Phishing-resistant (OpenID EAP ACR Values): a passkey that verified its user.
inline constexpr std::string_view acr_phr = "phr";
inline constexpr std::size_t max_logons_in_progress = 10'000;

/// 32 random bytes, base64url: codes, tokens, cookies and sign-in ids.
std::string random_token();

/// Tokens, codes and cookies are looked up by their hash: a map lookup then reveals nothing
/// through timing, and a dump of memory holds no usable token.
std::string token_key(std::string_view token);

std::int64_t unix_now(const core::Clock& clock);

/// The words of a space-separated list (scope, prompt), each once, in their first order.
std::vector<std::string> split_spaces(std::string_view s);
std::string join_spaces(const std::vector<std::string>& v);
bool contains(const std::vector<std::string>& v, std::string_view w);

/// The amr (RFC 8176) of a logon method as sessions record it ("pwd", "pwd+otp").
std::vector<std::string> amr_of(std::string_view method);

/// The acr of a logon method: a passkey that verified its user, a second factor, or one
/// factor alone.
std::string_view acr_of(std::string_view method);

/// How strong an acr is: 1 pwd, 2 mfa, 3 phr; 0 for one we do not know. A session meets an
/// acr_values request when its own is as strong as one of those asked for.
int acr_level(std::string_view acr);

} // namespace detail

/// RFC 8628's grant type at the token endpoint.
inline constexpr std::string_view device_code_grant =
    "urn:ietf:params:oauth:grant-type:device_code";

/// A checked authorization request, waiting for a logon or answered at once.
struct AuthRequest {
    directory::OidcClientRecord client;
    std::string redirect_uri;
    std::vector<std::string> scopes;
    std::optional<std::string> state;
    std::optional<std::string> nonce;
    std::optional<std::string> code_challenge;
    std::vector<std::string> prompt;
    std::optional<std::int64_t> max_age;
    std::string login_hint;
    std::optional<std::string> hinted_sub; ///< the `sub` of a valid id_token_hint
    std::vector<std::string> acr_values;   ///< those we know, in the client's order
};

/// A logon in progress on the pages.
struct LoginTx {
    std::optional<AuthRequest> auth; ///< absent: someone signing in at a portal directly
    std::string csrf;
    std::optional<std::string> fixed_domain;
    std::string user; ///< as typed, with the domain
    std::unique_ptr<credentials::Dialogue> dialogue;
    credentials::Step step; ///< the prompt being shown
    bool asked_code = false;
    bool changing_password = false; ///< the dialogue is the required password change
    std::optional<directory::SessionRecord> consent_for; ///< signed in, asking for consent
    /// The passkey ceremony the page offers (single use: taken by the answer), and its options.
    std::optional<webauthn::PendingCeremony> passkey;
    std::string passkey_options;
    /// Where to go once signed in, for a sign-in opened by a page of ours: "/account", or
    /// "/device?code=WDJBMJHT"; empty: the signed-in page.
    std::string then;
    std::string method = "pwd"; ///< how the logon proved the user ("pwd+otp", "pwd+hwk", ...)
    core::TimePoint created;
    std::optional<std::string> redirect; ///< set when done: where /authorize/resume goes
};

struct Provider::State {
    State(ProviderConfig c,
          directory::Store& s,
          directory::Directory& d,
          credentials::AuthEngine& e,
          credentials::AccessKeys& ak,
          const credentials::SecretBox& b,
          directory::Audit& a,
          const core::Clock& k);

    ProviderConfig cfg;
    directory::Store& store;
    directory::Directory& directory;
    credentials::AuthEngine& engine;
    credentials::AccessKeys& access_keys;
    directory::Audit& audit;
    const core::Clock& clock;
    const credentials::SecretBox& box; ///< seals the sign-ins kept in the store
    KeyRing keys;
    ClientRegistry clients;

    BackchannelSender backchannel;

    // Sessions, sign-ins in progress, set-ups on the account page, authorization codes,
    // refresh tokens, revocations and consents are in the store: no browser's state is here.
    credentials::Passkeys passkeys;
    std::atomic<std::int64_t> next_prune{0}; ///< unix time of the next store prune

    // ---- upkeep and sessions (provider_state.cpp) -------------------------------------------

    void prune_store();
    bool session_alive(const std::string& sid);
    std::optional<directory::SessionRecord> session_of(const HttpRequest& req);
    void record(directory::Severity s,
                const std::string& event,
                std::map<std::string, std::string> fields);

    // ---- back-channel logout and /logout (logout.cpp) ---------------------------------------

    void session_ended(const directory::SessionRecord& s, std::string_view reason);
    void delivered(const LogoutDelivery& d, const core::Status& st);
    HttpResponse logout(const HttpRequest& req, Params& p);

    // ---- /authorize (authorize.cpp) ---------------------------------------------------------

    struct AuthorizeError {
        bool to_client = false; ///< the redirect URI is trusted: send the error there
        std::string error;
        std::string description;
    };

    std::variant<AuthRequest, AuthorizeError> check_authorize(const Params& p);
    std::string
    error_redirect(const AuthRequest& a, std::string_view error, std::string_view description);
    std::string code_redirect(const AuthRequest& a, const directory::SessionRecord& s);
    core::Result<bool> needs_consent(const AuthRequest& a, const std::string& user_id);
    HttpResponse authorize(const HttpRequest& req, const Params& params);
    HttpResponse resume(const HttpRequest& req, const Params& q);

    // ---- the sign-in pages (login.cpp) ------------------------------------------------------

    // Sign-ins in progress (sign_ins.cpp), in the store between the browser's requests.

    /// A new sign-in's id, its CSRF token and time set (keep_tx() stores it); nullopt when too
    /// many are in progress or the store cannot count them (the page says busy).
    std::optional<std::string> new_tx(LoginTx& tx);
    /// Keeps the sign-in for its next request (on any node); false when it cannot (logged).
    bool keep_tx(const std::string& id, const LoginTx& tx);
    /// Takes the sign-in out of the store for this request: nullopt when there is none (never
    /// was, expired, taken by another request meanwhile, or its client or user is gone).
    core::Result<std::optional<LoginTx>> take_tx(const std::string& id);
    /// A sign-in from its saved form; errors other than the store's mean it cannot go on.
    core::Result<std::optional<LoginTx>> restore_tx(const core::Secret& plain);
    /// Pending work of any kind in the store, sealed under its kind and key (a hash), kept
    /// until `until`; false when it cannot be kept (logged).
    bool keep_sealed(directory::PendingKind kind,
                     const std::string& key,
                     const core::Secret& plain,
                     core::TimePoint until);
    /// Takes it out: nullopt when there is none, it expired, or it does not open (logged).
    core::Result<std::optional<core::Secret>> take_sealed(directory::PendingKind kind,
                                                          const std::string& key);
    HttpResponse busy(const HttpRequest& req);
    std::string client_name(const LoginTx& tx) const;
    HttpResponse show_username(const HttpRequest& req,
                               const std::string& id,
                               LoginTx& tx,
                               std::string_view prefill,
                               std::string_view error,
                               http::status status = http::status::ok);
    HttpResponse login_page(const HttpRequest& req, const Target& t);
    HttpResponse login_post(const HttpRequest& req, const HttpPeer& peer);
    std::string consent_page(const std::string& id, const LoginTx& tx);
    HttpResponse
    decide(const HttpRequest& req, const std::string& id, LoginTx& tx, const Params& form);
    HttpResponse advance(const HttpRequest& req,
                         const HttpPeer& peer,
                         const std::string& id,
                         LoginTx& tx,
                         Params& form);
    HttpResponse signed_in(const HttpRequest& req,
                           const HttpPeer& peer,
                           const std::string& id,
                           LoginTx& tx,
                           const directory::ResolvedUser& who,
                           const std::string& method);
    /// A browser session: stored, audited, and its Set-Cookie value.
    struct OpenedSession {
        directory::SessionRecord record;
        std::string cookie;
    };
    std::optional<OpenedSession>
    open_session(const directory::ResolvedUser& who, const std::string& method,
                 const HttpPeer& peer);
    bool passkeys_enabled() const { return !cfg.passkeys.rp.id.empty(); }
    /// A fresh passkey ceremony for the page of `tx` (`user` typed, or empty: discoverable);
    /// nullopt when passkeys are not offered there.
    std::optional<pages::PasskeyOffer>
    offer_passkey(LoginTx& tx, const std::string& user, bool second_factor = false);
    HttpResponse proceed(const HttpRequest& req,
                         const HttpPeer& peer,
                         const std::string& id,
                         LoginTx& tx,
                         credentials::Step step);
    HttpResponse show_prompt(const HttpRequest& req, const std::string& id, LoginTx& tx,
                             http::status status = http::status::ok);
    HttpResponse passkey_answer(const HttpRequest& req,
                                const HttpPeer& peer,
                                const std::string& id,
                                LoginTx& tx,
                                const Params& form);

    // ---- the account page (account.cpp) ----------------------------------------------------

    /// The signed-in user of the request's session, or nullopt (no session, or the user gone).
    std::optional<directory::ResolvedUser> account_user(const HttpRequest& req);
    /// The token the account page's forms carry: bound to the session cookie.
    std::string account_csrf(const HttpRequest& req) const;
    HttpResponse account_page(const HttpRequest& req, const Target& t);
    HttpResponse account_post(const HttpRequest& req, const HttpPeer& peer, const std::string& path);
    HttpResponse change_password(const HttpRequest& req,
                                 const HttpPeer& peer,
                                 const directory::ResolvedUser& who,
                                 Params& form);
    pages::AccountView account_view(const HttpRequest& req, const directory::ResolvedUser& who);
    /// An authenticator app being set up on /account, kept in the store by the browser
    /// session's id (sign_ins.cpp); false when it cannot be kept (logged).
    bool keep_enrolment(const std::string& session_id,
                        const credentials::PendingEnrolment& pending);
    /// A passkey being added on /account, kept in the store for its user (sign_ins.cpp): one
    /// at a time, a newer one replaces it. Returns the ceremony's id for the page, or nullopt
    /// when it cannot be kept (logged).
    std::optional<std::string> keep_registration(const std::string& user_id,
                                                 const webauthn::PendingCeremony& pending);
    /// The user's ceremony of that id, taken out: nullopt when there is none, it expired, or a
    /// newer one replaced it (which is then left for its own page).
    core::Result<std::optional<webauthn::PendingCeremony>>
    take_registration(const std::string& user_id, const std::string& ceremony_id);
    HttpResponse manage_mfa(const HttpRequest& req,
                            const std::string& path,
                            const directory::ResolvedUser& who,
                            Params& form);

    // ---- /token (token.cpp) -----------------------------------------------------------------

    struct Issued {
        boost::json::object body;
        std::string jti;
    };

    /// A refresh token to hand out with the access token, and the family both belong to: the
    /// access token is recorded with the family, so that revoking the family revokes it.
    struct RefreshIssue {
        std::string token;
        std::string family;
    };

    core::Result<Issued> issue(const directory::OidcClientRecord& client,
                               const std::string& user_id,
                               const std::vector<std::string>& scopes,
                               const std::string& sid,
                               core::TimePoint auth_time,
                               const std::string& method,
                               const std::optional<std::string>& nonce,
                               const std::optional<RefreshIssue>& refresh);
    static void add_claims(boost::json::object& o,
                           const std::vector<std::string>& scopes,
                           const directory::UserRecord& u,
                           const directory::AccountRecord& a);
    std::variant<directory::OidcClientRecord, HttpResponse> token_client(const HttpRequest& req,
                                                                         Params& form);
    HttpResponse token(const HttpRequest& req);
    HttpResponse client_credentials(const HttpRequest& req, Params& form);
    HttpResponse
    code_grant(const HttpRequest& req, const directory::OidcClientRecord& client, Params& form);
    HttpResponse
    refresh_grant(const HttpRequest& req, const directory::OidcClientRecord& client, Params& form);

    // ---- the device authorization grant, RFC 8628 (device.cpp) ------------------------------

    HttpResponse device_authorization(const HttpRequest& req, const HttpPeer& peer);
    HttpResponse device_page(const HttpRequest& req, const Target& t);
    HttpResponse device_post(const HttpRequest& req);
    HttpResponse
    device_grant(const HttpRequest& req, const directory::OidcClientRecord& client, Params& form);

    // ---- /userinfo, /introspect, /revoke (introspection.cpp) --------------------------------

    std::optional<boost::json::object> access_claims(std::string_view token);
    HttpResponse userinfo(const HttpRequest& req);

    /// The form of a client-authenticated endpoint and its client, or the error to answer.
    struct ClientForm {
        Params form;
        directory::OidcClientRecord client;
    };

    std::variant<ClientForm, HttpResponse> client_form(const HttpRequest& req);
    HttpResponse introspect(const HttpRequest& req);
    HttpResponse revoke(const HttpRequest& req);

    // ---- discovery and routing (provider.cpp) -----------------------------------------------

    boost::json::object discovery() const;
    HttpResponse route(HttpRequest&& req, const HttpPeer& peer);
};

} // namespace latchkey::oidc
