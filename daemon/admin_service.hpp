// SPDX-License-Identifier: Apache-2.0
// The admin socket: who may use it, and how each admin request maps onto the Directory.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "credentials/access_keys.hpp"
#include "credentials/auth_engine.hpp"
#include "directory/authority.hpp"
#include "directory/directory.hpp"
#include "directory/lifecycle.hpp"
#include "credentials/mfa.hpp"
#include "credentials/passkeys.hpp"
#include "credentials/passwords.hpp"
#include "credentials/phone_codes.hpp"
#include "daemon/unix_server.hpp"
#include "oidc/admin.hpp"

namespace latchkey::daemon {

struct AdminAccess {
    uid_t daemon_uid = 0;               ///< the daemon's own user may administer it
    std::optional<gid_t> admin_gid;     ///< members of the admin group may
    std::string admin_group = "latchkey-admin";
    std::chrono::seconds answer_timeout{300}; ///< idle limit while an enrolment waits for codes

    /// Root, the daemon's own uid and members of the admin group: the host's administrator.
    [[nodiscard]] bool admits(const Peer& peer) const
    {
        return peer.uid == 0 || peer.uid == daemon_uid || (admin_gid && peer.in_group(*admin_gid));
    }
};

/// What the admin socket's requests are answered by. `oidc` may be null: the provider is off,
/// and its requests are refused saying so.
struct AdminServices {
    directory::Store& store;
    directory::Directory& directory;
    directory::Authority& authority;
    directory::Lifecycle& lifecycle;
    credentials::PhoneCodes& codes;
    credentials::Passwords& passwords;
    credentials::AuthEngine& engine;
    credentials::Mfa& mfa;
    credentials::AccessKeys& keys;
    credentials::Passkeys& passkeys;
    oidc::Admin* oidc = nullptr;
};

/// Root, the daemon's own uid and members of the admin group are admitted, as the host's
/// administrator (a directory administrator); anyone else gets one permission_denied Failure
/// naming who may use the socket. A connection may sign in as a directory user (auth.begin,
/// service "latchkeyctl"): from then on it has that user's roles only.
ConnectionFactory admin_connections(AdminServices services, AdminAccess access);

} // namespace latchkey::daemon
