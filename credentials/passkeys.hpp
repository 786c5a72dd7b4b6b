// SPDX-License-Identifier: Apache-2.0
// Passkeys in the directory: what administrators see of them and may do with them. (The
// ceremonies that register and use them are webauthn/'s; the sign-in pages call them.)
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "core/result.hpp"
#include "directory/audit.hpp"
#include "directory/directory.hpp"
#include "directory/store.hpp"
#include "proto/messages.hpp"

namespace latchkey::credentials {

class Passkeys {
public:
    Passkeys(directory::Store& store, directory::Directory& directory, directory::Audit& audit);

    /// The user's passkeys, oldest first. Errors: not_found (no such user).
    core::Result<std::vector<proto::PasskeyInfo>> list(const proto::UserRef& ref);

    /// Removes one of the user's passkeys and audits `passkey.remove`. Errors: not_found (no such
    /// user, or no such passkey of this user).
    core::Status
    remove(const proto::UserRef& ref, const std::string& id, const directory::Actor& actor);

    /// What administrators see of a stored passkey.
    static proto::PasskeyInfo info(const directory::PasskeyRecord& p,
                                   const std::string& logon_name);

private:
    directory::Store& store_;
    directory::Directory& directory_;
    directory::Audit& audit_;
};

} // namespace latchkey::credentials
