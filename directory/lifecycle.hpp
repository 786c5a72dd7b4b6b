// SPDX-License-Identifier: Apache-2.0
// Lifecycle: what happens to an account over its life (seeds 000, 002, 003) — switches between
// resource and cloud, its root user's credentials, centralized root access, roles, and the
// root-only and privileged tasks. The codes sent to its bound phone (binding the phone, root
// password recovery) are credentials' PhoneCodes.
//
//   resource ──bind phone (code to the number)──► resource + phone
//      ▲                                              │ switch --to cloud --acknowledge-risk
//      │ switch --to resource: root's password,       ▼
//      │ MFA and access keys deleted, sessions end  cloud: root exists, no password
//      │                                              │ root recover: code to the phone,
//      └──────────────────────────────────────────── cloud: root logs on (password + TOTP)
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "core/result.hpp"
#include "directory/audit.hpp"
#include "directory/authority.hpp"
#include "directory/directory.hpp"
#include "directory/store.hpp"
#include "proto/messages.hpp"

namespace latchkey::directory {

struct LifecycleLimits {
    std::chrono::seconds max_recovery_window{7 * 24 * 3600};
};

class Lifecycle {
public:
    Lifecycle(Store& store, Directory& directory, Authority& authority, Audit& audit,
              const core::Clock& clock, LifecycleLimits limits = {});

    core::Result<proto::AccountInfo> switch_kind(const proto::AccountSwitch& req,
                                                 const Principal& p);

    core::Result<proto::AccountInfo> remove_root_credentials(const std::string& account,
                                                             const Principal& p);
    core::Result<proto::AccountInfo> allow_recovery(const proto::RootAllowRecovery& req,
                                                    const Principal& p);
    core::Result<proto::DirectoryInfo> set_root_access(bool enabled, const Principal& p);
    core::Result<proto::RootAccessReply> root_access();

    core::Result<proto::AccountInfo> close(const std::string& account, const Principal& p);
    core::Result<proto::Done> restore_admin(const proto::AccountRestoreAdmin& req,
                                            const Principal& p);
    core::Result<proto::SettingsReply> clear_logon_networks(const std::string& account,
                                                            const Principal& p);

    core::Result<proto::Done> grant_role(const proto::RoleGrant& req, const Principal& p);
    core::Result<proto::Done> revoke_role(const proto::RoleRevoke& req, const Principal& p);
    core::Result<std::vector<proto::RoleInfo>> roles(const proto::RoleList& req,
                                                     const Principal& p);

    /// The warning `account switch --to cloud` prints without --acknowledge-risk.
    static std::string risk_warning(const AccountRecord& account);

private:
    core::Status remove_credentials(const AccountRecord& account, const Principal& p,
                                    std::string_view reason);
    core::Result<proto::AccountInfo> show(const AccountRecord& account);

    Store& store_;
    Directory& directory_;
    Authority& authority_;
    Audit& audit_;
    const core::Clock& clock_;
    LifecycleLimits limits_;
};

} // namespace latchkey::directory
