// SPDX-License-Identifier: Apache-2.0
// SqlStore: the Store in SQL, on any engine that provides a Pool of Connections.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "core/result.hpp"
#include "directory/store.hpp"
#include "storage/sql/sql.hpp"

namespace latchkey::sql {

/// The Store over a pool of SQL connections: every method is one unit of work on one
/// connection (a transaction where it reads or writes more than one statement), run again from
/// the start when the pool says nothing of it can have been committed (PostgreSQL: a
/// serialisation failure, a connection lost before COMMIT). An engine's store (SqliteStore,
/// PgStore) only opens the database and makes the pool.
class SqlStore : public directory::Store {
public:
    core::Result<std::optional<directory::DirectoryRecord>> directory() override;
    core::Status create_directory(const directory::DirectoryRecord& directory,
                                  const directory::AccountRecord& management) override;

    core::Status create_account(const directory::AccountRecord& account) override;
    core::Result<std::vector<directory::AccountRecord>> accounts() override;
    core::Result<std::optional<directory::AccountRecord>>
    account_by_id(const std::string& id) override;
    core::Result<std::optional<directory::AccountRecord>>
    account_by_name(const std::string& name) override;
    core::Result<std::optional<directory::AccountRecord>>
    account_by_domain(const std::string& domain) override;
    core::Status add_alias(const std::string& account_id, const std::string& domain) override;
    core::Status remove_alias(const std::string& account_id, const std::string& domain) override;
    core::Status set_policy(const std::string& account_id,
                            const proto::PasswordPolicy& policy) override;
    core::Status set_settings(const std::string& account_id,
                              const proto::SecuritySettings& settings) override;

    // store_lifecycle.cpp: the account lifecycle, verification codes, roles
    core::Status set_account_kind(const std::string& account_id, proto::AccountKind kind) override;
    core::Status set_phone(const std::string& account_id,
                           const std::optional<std::string>& phone) override;
    core::Status set_closed(const std::string& account_id, core::TimePoint at) override;
    core::Status set_recovery_window(const std::string& account_id,
                                     std::optional<core::TimePoint> until) override;
    core::Status set_root_access_centralized(bool enabled) override;
    core::Result<bool> count_code_sent(const std::string& account_id,
                                       const std::string& day,
                                       std::uint32_t limit) override;
    core::Result<std::uint32_t> codes_sent(const std::string& account_id,
                                           const std::string& day) override;
    core::Status put_code(const directory::VerificationCodeRecord& code) override;
    core::Result<std::optional<directory::VerificationCodeRecord>>
    code(const std::string& account_id, directory::CodePurpose purpose) override;
    core::Result<std::uint32_t> spend_code_try(const std::string& account_id,
                                               directory::CodePurpose purpose) override;
    core::Status delete_code(const std::string& account_id,
                             directory::CodePurpose purpose) override;
    core::Status grant_role(const directory::RoleRecord& role) override;
    core::Status revoke_role(const std::string& user_id,
                             directory::Role role,
                             std::optional<core::TimePoint> self_at) override;
    core::Result<std::vector<directory::RoleRecord>> roles_of(const std::string& user_id) override;
    core::Result<std::vector<directory::RoleRecord>>
    roles(const std::optional<std::string>& account_id) override;
    core::Status clear_credentials(const std::string& user_id) override;

    core::Status create_user(const directory::UserRecord& user) override;
    core::Result<std::optional<directory::UserRecord>> user_by_id(const std::string& id) override;
    core::Result<std::optional<directory::UserRecord>>
    user_by_name(const std::string& account_id, const std::string& name) override;
    core::Result<std::vector<directory::UserRecord>>
    users(const std::optional<std::string>& account_id) override;
    core::Result<std::uint32_t> count_users(const std::string& account_id) override;
    core::Status delete_user(const std::string& user_id) override;
    core::Result<std::uint32_t> assign_uid(const std::string& user_id,
                                           directory::UidRange range) override;
    core::Result<std::optional<directory::UserRecord>> user_by_uid(std::uint32_t uid) override;
    core::Result<std::vector<directory::UserRecord>> users_without_uid() override;
    core::Result<std::vector<directory::RetiredUid>> retired_uids() override;
    core::Result<std::uint32_t> assign_gid(const std::string& group_name,
                                           directory::UidRange range) override;
    core::Result<std::vector<directory::UnixGroupRecord>> unix_groups() override;
    core::Status set_home(const std::string& user_id,
                          const std::optional<std::string>& home) override;
    core::Status set_shell(const std::string& user_id,
                           const std::optional<std::string>& shell) override;
    core::Status set_console_logon(const std::string& user_id, bool enabled) override;
    core::Status set_require_change(const std::string& user_id, bool required) override;
    core::Status set_email(const std::string& user_id,
                           const std::optional<std::string>& email) override;
    core::Status set_password(const std::string& user_id,
                              const directory::PasswordChange& change) override;
    core::Result<std::vector<std::string>> password_history(const std::string& user_id,
                                                            std::uint32_t limit) override;

    // store_sessions.cpp
    core::Status rehash_password(const std::string& user_id,
                                 const std::string& old_hash,
                                 const std::string& new_hash) override;
    core::Result<directory::FailureTally> record_failure(const std::string& user_id,
                                                         core::TimePoint at,
                                                         core::TimePoint window_start,
                                                         std::uint32_t limit,
                                                         core::TimePoint lock_until) override;
    core::Result<std::optional<core::TimePoint>> settle_success(const std::string& user_id,
                                                                core::TimePoint now) override;
    core::Result<std::optional<core::TimePoint>> lock_in_force(const std::string& user_id,
                                                               core::TimePoint now) override;
    core::Status clear_failures(const std::string& user_id) override;
    core::Status set_locked_until(const std::string& user_id,
                                  std::optional<core::TimePoint> until) override;
    core::Status create_session(const directory::SessionRecord& session) override;
    core::Result<bool> close_session(const std::string& session_id, core::TimePoint at) override;
    core::Result<std::vector<directory::SessionRecord>>
    open_sessions(const std::optional<std::string>& user_id, core::TimePoint now) override;
    core::Result<std::optional<directory::SessionRecord>> session(const std::string& id) override;
    core::Result<std::optional<directory::SessionRecord>>
    web_session(const std::string& secret_hash, core::TimePoint now) override;
    core::Result<std::vector<directory::SessionRecord>>
    expire_web_state(core::TimePoint now) override;

    core::Status put_pending(const directory::PendingRecord& record) override;
    core::Result<std::optional<directory::PendingRecord>>
    take_pending(directory::PendingKind kind, const std::string& key, core::TimePoint now) override;
    core::Result<std::int64_t> count_pending(directory::PendingKind kind,
                                             core::TimePoint now) override;

    // store_tokens.cpp
    core::Status add_session_client(const std::string& session_id,
                                    const std::string& client_id) override;
    core::Result<std::vector<std::string>> session_clients(const std::string& session_id) override;
    core::Status add_refresh_token(const directory::RefreshTokenRecord& token) override;
    core::Result<std::optional<directory::RefreshTokenRecord>>
    refresh_token(const std::string& token_hash) override;
    core::Status rotate_refresh_token(const std::string& old_hash,
                                      core::TimePoint at,
                                      const directory::RefreshTokenRecord& next) override;
    core::Result<std::uint32_t> delete_refresh_family(const std::string& family) override;
    core::Status add_family_access_token(const std::string& family,
                                         const std::string& jti,
                                         core::TimePoint expires_at) override;
    core::Status revoke_access_token(const std::string& jti, core::TimePoint expires_at) override;
    core::Result<bool> access_token_revoked(const std::string& jti) override;
    core::Status add_auth_code(const directory::AuthCodeRecord& code) override;
    core::Result<std::optional<directory::AuthCodeRecord>>
    auth_code(const std::string& code_hash) override;
    core::Result<bool> use_auth_code(const std::string& code_hash,
                                     const std::optional<std::string>& family) override;
    core::Status add_auth_code_token(const std::string& code_hash, const std::string& jti) override;
    core::Result<std::optional<std::vector<std::string>>>
    consent(const std::string& user_id, const std::string& client_id) override;
    core::Status set_consent(const std::string& user_id,
                             const std::string& client_id,
                             const std::vector<std::string>& scopes,
                             core::TimePoint at) override;

    // store_mfa.cpp
    core::Result<std::optional<directory::MfaDeviceRecord>>
    mfa_device(const std::string& user_id) override;
    core::Result<std::vector<directory::MfaDeviceRecord>> mfa_devices() override;
    core::Status add_mfa_device(const directory::MfaDeviceRecord& device,
                                const std::vector<std::string>& recovery_hashes) override;
    core::Result<bool> use_totp_step(const std::string& device_id, std::int64_t step) override;
    core::Status remove_mfa_device(const std::string& user_id) override;
    core::Status replace_recovery_codes(const std::string& user_id,
                                        const std::vector<std::string>& hashes) override;
    core::Result<bool> use_recovery_code(const std::string& user_id,
                                         const std::string& hash,
                                         core::TimePoint at) override;
    core::Result<std::uint32_t> recovery_codes_left(const std::string& user_id) override;

    // store_passkeys.cpp
    core::Result<std::string> user_handle(const std::string& user_id,
                                          const std::string& candidate) override;
    core::Result<std::optional<std::string>> user_by_handle(const std::string& handle) override;
    core::Status add_passkey(const directory::PasskeyRecord& passkey,
                             std::uint32_t max_per_user) override;
    core::Result<std::vector<directory::PasskeyRecord>>
    passkeys(const std::string& user_id) override;
    core::Result<std::optional<directory::PasskeyRecord>>
    passkey_by_credential(const std::string& credential_id) override;
    core::Status rename_passkey(const std::string& user_id,
                                const std::string& id,
                                const std::string& name) override;
    core::Status remove_passkey(const std::string& user_id, const std::string& id) override;
    core::Result<bool> use_passkey(const std::string& id,
                                   std::uint32_t seen_count,
                                   std::uint32_t new_count,
                                   bool backed_up,
                                   core::TimePoint at) override;

    // store_oidc.cpp
    core::Status add_oidc_key(const directory::OidcKeyRecord& key) override;
    core::Result<std::vector<directory::OidcKeyRecord>> oidc_keys(core::TimePoint now) override;
    core::Status retire_oidc_key(const std::string& kid,
                                 core::TimePoint at,
                                 core::TimePoint unpublish_at) override;
    core::Status add_oidc_client(const directory::OidcClientRecord& client) override;
    core::Result<std::optional<directory::OidcClientRecord>>
    oidc_client(const std::string& id) override;
    core::Result<std::vector<directory::OidcClientRecord>> oidc_clients() override;
    core::Status remove_oidc_client(const std::string& id) override;

    core::Status add_access_key(const directory::AccessKeyRecord& key) override;
    core::Result<std::optional<directory::AccessKeyRecord>>
    access_key(const std::string& id) override;
    core::Result<std::vector<directory::AccessKeyRecord>>
    access_keys(const std::optional<std::string>& user_id) override;
    core::Status set_access_key_enabled(const std::string& id, bool enabled) override;
    core::Status delete_access_key(const std::string& id) override;
    core::Status touch_access_key(const std::string& id, core::TimePoint at) override;

    core::Status append_audit(directory::AuditEvent& event) override;
    core::Result<std::vector<directory::AuditEvent>>
    audit(const directory::AuditQuery& query) override;

protected:
    explicit SqlStore(std::unique_ptr<Pool> pool) noexcept
        : pool_(std::move(pool))
    {
    }

private:
    std::unique_ptr<Pool> pool_;
};

} // namespace latchkey::sql
