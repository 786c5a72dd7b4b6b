// SPDX-License-Identifier: Apache-2.0
// Lifecycle: what happens to an account over its life (seeds 000, 002, 003) — its bound phone
// and the codes sent to it, switches between resource and cloud, its root user, centralized root
// access, roles, and the root-only and privileged tasks.
//
//   resource ──bind phone (code to the number)──► resource + phone
//      ▲                                              │ switch --to cloud --acknowledge-risk
//      │ switch --to resource: root's password,       ▼
//      │ MFA and access keys deleted, sessions end  cloud: root exists, no password
//      │                                              │ root recover: code to the phone,
//      └──────────────────────────────────────────── cloud: root logs on (password + TOTP)
//
// Codes: 6 digits, valid 10 minutes, 5 tries, at most 100 a day (UTC) for each account, counted
// in the store so a restart forgets nothing. Only a keyed hash of a code is kept; the code
// itself travels only in the notification.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "core/result.hpp"
#include "daemon/audit.hpp"
#include "daemon/authority.hpp"
#include "daemon/directory.hpp"
#include "daemon/notifier.hpp"
#include "daemon/secret_box.hpp"
#include "daemon/store.hpp"
#include "proto/messages.hpp"

namespace latchkey::daemon {

struct LifecycleLimits {
    std::uint32_t codes_per_day = 100;
    std::chrono::seconds code_lifetime{10 * 60};
    std::uint32_t code_tries = 5;
    std::chrono::seconds max_recovery_window{7 * 24 * 3600};
};

class Lifecycle {
public:
    Lifecycle(Store& store, Directory& directory, Authority& authority, Notifier& notifier,
              const SecretBox& box, Audit& audit, const core::Clock& clock,
              LifecycleLimits limits = {});

    /// Sends a code to the number; the reply says where it went and for how long it is valid.
    core::Result<proto::Done> phone_bind(const proto::PhoneBind& req, const Principal& p);
    core::Result<proto::AccountInfo> phone_verify(const proto::PhoneVerify& req,
                                                  const Principal& p);

    core::Result<proto::AccountInfo> switch_kind(const proto::AccountSwitch& req,
                                                 const Principal& p);

    /// Without a code: sends one to the bound phone. With code and password: sets root's.
    core::Result<proto::Response> root_recover(const proto::RootRecover& req, const Principal& p);
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
    core::Result<AccountRecord> open_account(const std::string& name);
    core::Result<std::string> code_hash(const std::string& account_id, CodePurpose purpose,
                                        const core::Secret& code) const;
    /// Counts, stores and sends a fresh code; the reply's text for the caller.
    core::Result<std::string> send_code(const AccountRecord& account, CodePurpose purpose,
                                        const std::string& phone, const Principal& p);
    /// Checks a code the caller typed; it is spent when right, void after its last wrong try.
    core::Result<VerificationCodeRecord> check_code(const AccountRecord& account,
                                                    CodePurpose purpose,
                                                    const core::Secret& code, const Principal& p);
    core::Result<ResolvedUser> root_of(const AccountRecord& account);
    core::Status remove_credentials(const AccountRecord& account, const Principal& p,
                                    std::string_view reason);
    core::Result<proto::AccountInfo> show(const AccountRecord& account);
    std::string day() const;

    Store& store_;
    Directory& directory_;
    Authority& authority_;
    Notifier& notifier_;
    const SecretBox& box_;
    Audit& audit_;
    const core::Clock& clock_;
    LifecycleLimits limits_;
};

/// A mobile number in E.164: "+", a country code not starting with 0, 8 to 15 digits in all.
core::Status check_phone(std::string_view number);

} // namespace latchkey::daemon
