// SPDX-License-Identifier: Apache-2.0
// Provider: the OpenID Connect endpoints over the daemon's one AuthEngine.
//
//   /account ──► the signed-in user's own passkeys (add, rename, remove)
//   /authorize ──► checks the client, redirect URI, PKCE, prompt/max_age
//       │ SSO session good enough? ──yes──► code ──► 302 redirect_uri?code&state
//       ▼ no (prompt=none: login_required)
//   /login pages ──► AuthEngine dialogue (password, TOTP, enrolment) or a passkey
//                    ──► SSO session ──► code
//   /token ──► code (single use, PKCE) or refresh token (rotated, reuse kills the family),
//              or client_credentials with an access key (seed 004)
//              ──► ID token (client's alg), access token (JWT, RFC 9068), refresh token
//   /userinfo, /introspect, /revoke, /logout, /.well-known/openid-configuration, /jwks
//
// The logon rules are the engine's: the pages only show its prompts and messages.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "core/clock.hpp"
#include "credentials/access_keys.hpp"
#include "credentials/passkeys.hpp"
#include "directory/audit.hpp"
#include "credentials/auth_engine.hpp"
#include "directory/directory.hpp"
#include "credentials/secret_box.hpp"
#include "directory/store.hpp"
#include "oidc/admin.hpp"
#include "oidc/http_server.hpp"

namespace latchkey::oidc {

struct ProviderConfig {
    std::string issuer;                   ///< "http://localhost:8080", no trailing slash
    bool secure_cookies = false;          ///< under TLS (or an https issuer)
    std::chrono::hours key_rotation{30 * 24};
    std::chrono::seconds access_token_lifetime{600};
    std::chrono::seconds id_token_lifetime{600};
    std::chrono::seconds refresh_token_lifetime{30 * 24 * 3600};
    std::chrono::seconds code_lifetime{60};
    std::chrono::seconds refresh_grace{10};
    std::chrono::seconds logon_lifetime{600}; ///< a logon page left open this long expires
    std::chrono::milliseconds backchannel_timeout{5000}; ///< per back-channel logout POST
    /// The WebAuthn relying party of the pages; passkeys are offered only when its id is set.
    credentials::PasskeySettings passkeys;
};

class Provider final : public Admin {
public:
    Provider(ProviderConfig config,
             directory::Store& store,
             directory::Directory& directory,
             credentials::AuthEngine& engine,
             credentials::AccessKeys& access_keys,
             const credentials::SecretBox& box,
             directory::Audit& audit,
             const core::Clock& clock);
    ~Provider() override;

    /// Loads the signing keys (making the first one when there is none).
    core::Status start();

    /// One HTTP request; runs on a worker thread and never throws.
    HttpResponse handle(HttpRequest&& request, const HttpPeer& peer);

    /// `latchkeyctl oidc ...` on the admin socket.
    proto::Response handle(proto::Request& request, const directory::Actor& actor) override;

    struct State;

private:
    std::unique_ptr<State> state_;
};

} // namespace latchkey::oidc
