// SPDX-License-Identifier: Apache-2.0
// Passwords: setting a user's password — an administrator's reset (seed 004) or a change the
// user or root recovery asked for — checked against the account's policy and its history.
#pragma once

#include "core/clock.hpp"
#include "core/result.hpp"
#include "core/secret.hpp"
#include "directory/audit.hpp"
#include "directory/directory.hpp"
#include "credentials/password_hasher.hpp"
#include "directory/store.hpp"
#include "proto/messages.hpp"

namespace latchkey::credentials {

class Passwords {
public:
    Passwords(directory::Store& store,
              directory::Directory& directory,
              const PasswordHasher& hasher,
              directory::Audit& audit,
              const core::Clock& clock);

    /// An administrator's reset (seed 004): keep, generate (returned once) or custom.
    core::Result<proto::UserReply> reset(const proto::UserSetPassword& req,
                                         const directory::Actor& actor);

    /// Checks a new password against the account's policy, including its history, hashes it,
    /// stores it and ends the user's sessions. The caller has already decided the change is
    /// allowed.
    core::Status
    replace(const directory::ResolvedUser& who, const core::Secret& password, bool require_change);

private:
    directory::Store& store_;
    directory::Directory& directory_;
    const PasswordHasher& hasher_;
    directory::Audit& audit_;
    const core::Clock& clock_;
};

} // namespace latchkey::credentials
