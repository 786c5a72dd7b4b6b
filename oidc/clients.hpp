// SPDX-License-Identifier: Apache-2.0
// Clients: the relying parties registered with `latchkeyctl oidc client`, and how they prove
// who they are at the token endpoint.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.hpp"
#include "core/result.hpp"
#include "core/secret.hpp"
#include "directory/audit.hpp"
#include "directory/directory.hpp"
#include "credentials/secret_box.hpp"
#include "directory/store.hpp"
#include "proto/messages.hpp"

namespace latchkey::oidc {

/// Scopes the provider knows; a client may be limited to some of them.
inline constexpr std::string_view known_scopes[] = {"openid", "profile", "email",
                                                    "offline_access"};

/// Whether `uri` may be a redirect URI: absolute, no fragment, https — or http on a loopback
/// host (RFC 8252 §7.3 native apps, and development). nullopt when fine, else the reason.
std::optional<std::string> redirect_uri_problem(std::string_view uri);

class ClientRegistry {
public:
    ClientRegistry(directory::Store& store,
                   const credentials::SecretBox& box,
                   directory::Audit& audit,
                   const core::Clock& clock);

    /// Validates and stores a client; a confidential client gets a fresh secret, returned once.
    core::Result<proto::OidcClientReply> add(const proto::OidcClientInfo& client,
                                             const directory::Actor& actor);
    core::Result<std::vector<proto::OidcClientInfo>> list();
    core::Result<proto::OidcClientInfo> show(const std::string& id);
    core::Status remove(const std::string& id, const directory::Actor& actor);

    /// The client, or nullopt when there is none with that id.
    core::Result<std::optional<directory::OidcClientRecord>> find(const std::string& id);

    /// Whether `secret` is the client's secret (constant time; false for public clients).
    bool secret_matches(const directory::OidcClientRecord& client,
                        const core::Secret& secret) const;

    static proto::OidcClientInfo info(const directory::OidcClientRecord& r);

private:
    core::Result<std::string> secret_hash(const std::string& id, const core::Secret& s) const;

    directory::Store& store_;
    const credentials::SecretBox& box_;
    directory::Audit& audit_;
    const core::Clock& clock_;
};

} // namespace latchkey::oidc
