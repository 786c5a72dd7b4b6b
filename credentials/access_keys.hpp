// SPDX-License-Identifier: Apache-2.0
// AccessKeys: a user's credentials for programs (seed 004). A key is an id and a secret; the
// secret is shown once and kept as a keyed hash. Keys are separate from the password: a
// password change or reset leaves them working, and console logon settings do not apply.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "core/result.hpp"
#include "core/secret.hpp"
#include "directory/audit.hpp"
#include "directory/directory.hpp"
#include "credentials/secret_box.hpp"
#include "directory/store.hpp"
#include "proto/messages.hpp"

namespace latchkey::credentials {

/// At most this many keys per user, as in the seeds' consoles.
inline constexpr std::size_t max_access_keys_per_user = 2;

class AccessKeys {
public:
    AccessKeys(directory::Store& store,
               directory::Directory& directory,
               const SecretBox& box,
               directory::Audit& audit,
               const core::Clock& clock);

    core::Result<proto::AccessKeyReply> create(const proto::UserRef& ref,
                                               const directory::Actor& actor);
    core::Result<std::vector<proto::AccessKeyInfo>> list(const std::optional<proto::UserRef>& ref);
    core::Result<proto::AccessKeyInfo>
    set_enabled(const std::string& id, bool enabled, const directory::Actor& actor);
    core::Status remove(const std::string& id, const directory::Actor& actor);

    /// The key's owner when `secret` is the secret of an enabled key, else nullopt (constant
    /// time in the secret). Records the use.
    core::Result<std::optional<directory::ResolvedUser>> authenticate(const std::string& id,
                                                                      const core::Secret& secret);

private:
    core::Result<std::string> hash(const std::string& id, const core::Secret& secret) const;
    core::Result<proto::AccessKeyInfo> info(const directory::AccessKeyRecord& k);

    directory::Store& store_;
    directory::Directory& directory_;
    const SecretBox& box_;
    directory::Audit& audit_;
    const core::Clock& clock_;
};

} // namespace latchkey::credentials
