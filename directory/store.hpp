// SPDX-License-Identifier: Apache-2.0
// Store: the one interface between the directory logic and its storage.
//
// SQLite is the embedded implementation (sqlite_store.hpp); PostgreSQL will be a second class
// behind this interface. Every method is atomic (one transaction); implementations are safe to
// call from several threads. Lookups return nullopt for "not there"; errors are store failures.
// Uniqueness (account names, logon domains, user names in an account) is enforced by the
// store and reported as Errc::already_exists.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/result.hpp"
#include "directory/model.hpp"

namespace latchkey::directory {

class Store {
public:
    virtual ~Store() = default;

    // directory
    virtual core::Result<std::optional<DirectoryRecord>> directory() = 0;
    /// Creates the directory together with its management account.
    virtual core::Status create_directory(const DirectoryRecord& directory,
                                          const AccountRecord& management) = 0;

    // accounts
    virtual core::Status create_account(const AccountRecord& account) = 0;
    virtual core::Result<std::vector<AccountRecord>> accounts() = 0;
    virtual core::Result<std::optional<AccountRecord>> account_by_id(const std::string& id) = 0;
    virtual core::Result<std::optional<AccountRecord>> account_by_name(const std::string& name) = 0;
    /// The account whose default domain or one of whose aliases is `domain`.
    virtual core::Result<std::optional<AccountRecord>> account_by_domain(
        const std::string& domain) = 0;
    virtual core::Status add_alias(const std::string& account_id, const std::string& domain) = 0;
    /// not_found if the account has no such alias.
    virtual core::Status remove_alias(const std::string& account_id,
                                      const std::string& domain) = 0;
    virtual core::Status set_policy(const std::string& account_id,
                                    const PasswordPolicy& policy) = 0;
    virtual core::Status set_settings(const std::string& account_id,
                                      const SecuritySettings& settings) = 0;
    /// not_found when there is no such account (likewise the setters below).
    virtual core::Status set_account_kind(const std::string& account_id, AccountKind kind) = 0;
    /// nullopt unbinds.
    virtual core::Status set_phone(const std::string& account_id,
                                   const std::optional<std::string>& phone) = 0;
    virtual core::Status set_closed(const std::string& account_id, core::TimePoint at) = 0;
    /// nullopt closes the window.
    virtual core::Status set_recovery_window(const std::string& account_id,
                                             std::optional<core::TimePoint> until) = 0;
    virtual core::Status set_root_access_centralized(bool enabled) = 0;

    // verification codes sent to an account's phone
    /// Counts one more code sent to the account on `day` ("2026-12-02", UTC) when fewer than
    /// `limit` were sent that day: true then, false (and nothing counted) at the limit. Days
    /// before `day` are forgotten. Durable: the count survives a restart.
    virtual core::Result<bool> count_code_sent(const std::string& account_id,
                                               const std::string& day, std::uint32_t limit) = 0;
    virtual core::Result<std::uint32_t> codes_sent(const std::string& account_id,
                                                   const std::string& day) = 0;
    /// Replaces the pending code of the same account and purpose.
    virtual core::Status put_code(const VerificationCodeRecord& code) = 0;
    virtual core::Result<std::optional<VerificationCodeRecord>> code(const std::string& account_id,
                                                                     CodePurpose purpose) = 0;
    /// Takes one try off the pending code and returns the tries left; not_found when none.
    virtual core::Result<std::uint32_t> spend_code_try(const std::string& account_id,
                                                       CodePurpose purpose) = 0;
    /// Forgets the pending code (used, void or expired); not there is not an error.
    virtual core::Status delete_code(const std::string& account_id, CodePurpose purpose) = 0;

    // administrators' roles
    /// Grants the role (again): a self-revoked record of it becomes active. not_found when the
    /// user is gone.
    virtual core::Status grant_role(const RoleRecord& role) = 0;
    /// With `self_at`, marks the active role revoked by its holder; without, deletes it.
    /// not_found when the user does not hold it actively.
    virtual core::Status revoke_role(const std::string& user_id, Role role,
                                     std::optional<core::TimePoint> self_at) = 0;
    /// The roles (active and self-revoked) of one user.
    virtual core::Result<std::vector<RoleRecord>> roles_of(const std::string& user_id) = 0;
    /// Every role record, or those of the users of one account; ordered by account name, user
    /// name, role.
    virtual core::Result<std::vector<RoleRecord>> roles(
        const std::optional<std::string>& account_id) = 0;

    // users
    /// not_found when the user's account does not exist (likewise add_alias).
    virtual core::Status create_user(const UserRecord& user) = 0;
    virtual core::Result<std::optional<UserRecord>> user_by_id(const std::string& id) = 0;
    virtual core::Result<std::optional<UserRecord>> user_by_name(const std::string& account_id,
                                                                 const std::string& name) = 0;
    /// Every user, or those of one account; ordered by account name, then user name.
    virtual core::Result<std::vector<UserRecord>> users(
        const std::optional<std::string>& account_id) = 0;
    virtual core::Result<std::uint32_t> count_users(const std::string& account_id) = 0;
    /// not_found if there is no such user. Deletes its password history too; its uid, if it
    /// had one, is retired (never allocated again).
    virtual core::Status delete_user(const std::string& user_id) = 0;
    /// The user's uid, allocated now if it has none: one above the highest number in `range`
    /// ever given (to a user, present or deleted, or to a group), or range.min. not_found for an unknown user;
    /// failed_precondition when the range has no uid left.
    virtual core::Result<std::uint32_t> assign_uid(const std::string& user_id,
                                                   directory::UidRange range) = 0;
    virtual core::Result<std::optional<UserRecord>> user_by_uid(std::uint32_t uid) = 0;
    /// The users that have no uid yet, root users left out (they never get one).
    virtual core::Result<std::vector<UserRecord>> users_without_uid() = 0;
    /// The uids of deleted users, lowest first.
    virtual core::Result<std::vector<RetiredUid>> retired_uids() = 0;
    /// The gid of the hosts' group `name`, allocated now if it has none, from the same numbers
    /// as assign_uid (so a group's gid is never a user's uid). failed_precondition when the
    /// range has no number left.
    virtual core::Result<std::uint32_t> assign_gid(const std::string& group_name,
                                                   directory::UidRange range) = 0;
    /// The hosts' groups given a gid so far, by name.
    virtual core::Result<std::vector<UnixGroupRecord>> unix_groups() = 0;
    /// nullopt: back to the configured default.
    virtual core::Status set_home(const std::string& user_id,
                                  const std::optional<std::string>& home) = 0;
    virtual core::Status set_shell(const std::string& user_id,
                                   const std::optional<std::string>& shell) = 0;
    virtual core::Status set_console_logon(const std::string& user_id, bool enabled) = 0;
    virtual core::Status set_require_change(const std::string& user_id, bool required) = 0;
    /// nullopt removes the address.
    virtual core::Status set_email(const std::string& user_id,
                                   const std::optional<std::string>& email) = 0;
    /// Replaces the password; the old hash (if any) goes into the history, which is then
    /// trimmed to the newest `history_keep` entries.
    virtual core::Status set_password(const std::string& user_id,
                                      const PasswordChange& change) = 0;
    /// Deletes every credential of the user at once: password (and its history), MFA device
    /// and recovery codes, access keys, passkeys. not_found if there is no such user.
    virtual core::Status clear_credentials(const std::string& user_id) = 0;
    /// Previous password hashes, newest first, at most `limit` (0 gives none).
    virtual core::Result<std::vector<std::string>> password_history(const std::string& user_id,
                                                                    std::uint32_t limit) = 0;

    /// Replaces the stored hash of the *same* password (an upgrade to new Argon2 parameters
    /// at logon): set time, history and flags stay as they are. Writes only while the stored
    /// hash is still `old_hash`, so a password changed meanwhile is never undone; not_found
    /// when the user is gone or its hash changed.
    virtual core::Status rehash_password(const std::string& user_id, const std::string& old_hash,
                                         const std::string& new_hash) = 0;

    // logon failures and lockout: each verdict checks the lock and counts in one transaction,
    // so dialogues opened before a lock cannot go on guessing past it.
    /// A failed verdict: records it at `at`, and when it is the `limit`-th failure at or after
    /// `window_start` (limit 0: never) locks the user until `lock_until`.
    virtual core::Result<FailureTally> record_failure(const std::string& user_id,
                                                      core::TimePoint at,
                                                      core::TimePoint window_start,
                                                      std::uint32_t limit,
                                                      core::TimePoint lock_until) = 0;
    /// A successful verdict: unless the user is locked at `now`, forgets its failures. Returns
    /// the lock in force (nullopt: none, and the success stands).
    virtual core::Result<std::optional<core::TimePoint>> settle_success(const std::string& user_id,
                                                                        core::TimePoint now) = 0;
    /// The lock in force on the user at `now`, read afresh (nullopt: none).
    virtual core::Result<std::optional<core::TimePoint>> lock_in_force(const std::string& user_id,
                                                                       core::TimePoint now) = 0;
    /// Forgets the user's failures (an unlock).
    virtual core::Status clear_failures(const std::string& user_id) = 0;
    /// nullopt unlocks.
    virtual core::Status set_locked_until(const std::string& user_id,
                                          std::optional<core::TimePoint> until) = 0;

    // second factors
    virtual core::Result<std::optional<MfaDeviceRecord>> mfa_device(const std::string& user_id) = 0;
    /// Every device, ordered by account name, then user name.
    virtual core::Result<std::vector<MfaDeviceRecord>> mfa_devices() = 0;
    /// Adds the user's device together with its recovery codes (replacing any old codes).
    /// already_exists when the user has a device; not_found when the user is gone.
    virtual core::Status add_mfa_device(const MfaDeviceRecord& device,
                                        const std::vector<std::string>& recovery_hashes) = 0;
    /// Records `step` as used when it is above the device's last used step: true then; false
    /// for a replay (or a device removed meanwhile). Atomic, so two logons racing with the same
    /// code cannot both win.
    virtual core::Result<bool> use_totp_step(const std::string& device_id, std::int64_t step) = 0;
    /// Removes the user's device and recovery codes; not_found when there is no device.
    virtual core::Status remove_mfa_device(const std::string& user_id) = 0;
    /// Voids every recovery code of the user and stores the new ones.
    virtual core::Status replace_recovery_codes(const std::string& user_id,
                                                const std::vector<std::string>& hashes) = 0;
    /// Marks the unused code with this hash used: true then, false when there is none.
    virtual core::Result<bool> use_recovery_code(const std::string& user_id,
                                                 const std::string& hash, core::TimePoint at) = 0;
    virtual core::Result<std::uint32_t> recovery_codes_left(const std::string& user_id) = 0;

    // passkeys (WebAuthn credentials)
    /// The user's WebAuthn user handle: stored from `candidate` (random, 32 bytes) the first
    /// time, the stored one ever after. not_found when the user is gone.
    virtual core::Result<std::string> user_handle(const std::string& user_id,
                                                  const std::string& candidate) = 0;
    /// The id of the user whose handle this is.
    virtual core::Result<std::optional<std::string>> user_by_handle(const std::string& handle) = 0;
    /// already_exists when the credential id is registered (to anyone); policy_violation when
    /// the user has `max_per_user` passkeys already; not_found when the user is gone.
    virtual core::Status add_passkey(const PasskeyRecord& passkey, std::uint32_t max_per_user) = 0;
    /// The user's passkeys, oldest first.
    virtual core::Result<std::vector<PasskeyRecord>> passkeys(const std::string& user_id) = 0;
    virtual core::Result<std::optional<PasskeyRecord>> passkey_by_credential(
        const std::string& credential_id) = 0;
    /// not_found when the user has no passkey with that id (likewise remove_passkey).
    virtual core::Status rename_passkey(const std::string& user_id, const std::string& id,
                                        const std::string& name) = 0;
    virtual core::Status remove_passkey(const std::string& user_id, const std::string& id) = 0;
    /// After a verified assertion: stores the new counter, backup state and time, but only while
    /// the stored counter is still `seen_count`, so two sign-ins racing with copies of one
    /// authenticator cannot both win. false when it changed meanwhile (or the passkey is gone).
    virtual core::Result<bool> use_passkey(const std::string& id, std::uint32_t seen_count,
                                           std::uint32_t new_count, bool backed_up,
                                           core::TimePoint at) = 0;

    // OpenID Connect provider
    virtual core::Status add_oidc_key(const OidcKeyRecord& key) = 0;
    /// Every key not yet unpublished at `now`, newest first.
    virtual core::Result<std::vector<OidcKeyRecord>> oidc_keys(core::TimePoint now) = 0;
    /// Stops a key signing at `at`; it stays published until `unpublish_at`. not_found if none.
    virtual core::Status retire_oidc_key(const std::string& kid, core::TimePoint at,
                                         core::TimePoint unpublish_at) = 0;
    /// already_exists when the id is taken.
    virtual core::Status add_oidc_client(const OidcClientRecord& client) = 0;
    virtual core::Result<std::optional<OidcClientRecord>> oidc_client(const std::string& id) = 0;
    /// Ordered by id.
    virtual core::Result<std::vector<OidcClientRecord>> oidc_clients() = 0;
    /// not_found if there is no such client.
    virtual core::Status remove_oidc_client(const std::string& id) = 0;

    // access keys
    virtual core::Status add_access_key(const AccessKeyRecord& key) = 0;
    virtual core::Result<std::optional<AccessKeyRecord>> access_key(const std::string& id) = 0;
    /// Of one user, or every key; ordered by creation.
    virtual core::Result<std::vector<AccessKeyRecord>> access_keys(
        const std::optional<std::string>& user_id) = 0;
    /// not_found when there is no such key.
    virtual core::Status set_access_key_enabled(const std::string& id, bool enabled) = 0;
    virtual core::Status delete_access_key(const std::string& id) = 0;
    virtual core::Status touch_access_key(const std::string& id, core::TimePoint at) = 0;

    // sessions (PAM's, and the OIDC pages' browser sessions)
    virtual core::Status create_session(const SessionRecord& session) = 0;
    /// Marks an open session closed and deletes its refresh tokens; false when there is no
    /// open session with that id.
    virtual core::Result<bool> close_session(const std::string& session_id,
                                             core::TimePoint at) = 0;
    /// Open sessions (closed_at unset), of one user or of everyone; oldest first. Web sessions
    /// past their expiry are not open.
    virtual core::Result<std::vector<SessionRecord>> open_sessions(
        const std::optional<std::string>& user_id, core::TimePoint now) = 0;
    virtual core::Result<std::optional<SessionRecord>> session(const std::string& id) = 0;
    /// The open, unexpired web session whose cookie hashes to `secret_hash`.
    virtual core::Result<std::optional<SessionRecord>> web_session(const std::string& secret_hash,
                                                                   core::TimePoint now) = 0;
    /// Closes the web sessions past their expiry (and deletes their refresh tokens), and
    /// forgets refresh tokens, revoked access tokens, authorization codes (past keep_until)
    /// and pending work past theirs. Returns the sessions closed.
    virtual core::Result<std::vector<SessionRecord>> expire_web_state(core::TimePoint now) = 0;

    // work a browser leaves half done between requests (PendingRecord)
    /// Adds the record, or replaces the one of the same kind and key.
    virtual core::Status put_pending(const PendingRecord& record) = 0;
    /// Takes the record out of the store, if it is there and not expired at `now`: of two
    /// requests (on two nodes) taking it at once, exactly one gets it.
    virtual core::Result<std::optional<PendingRecord>>
    take_pending(PendingKind kind, const std::string& key, core::TimePoint now) = 0;
    /// How many records of the kind are there and not expired at `now`.
    virtual core::Result<std::int64_t> count_pending(PendingKind kind, core::TimePoint now) = 0;

    // OpenID Connect tokens and consents
    /// Records that the web session signed the user in to the client (for back-channel logout).
    virtual core::Status add_session_client(const std::string& session_id,
                                            const std::string& client_id) = 0;
    virtual core::Result<std::vector<std::string>> session_clients(
        const std::string& session_id) = 0;
    /// not_found when the session is closed or gone (a token outliving it is never made).
    virtual core::Status add_refresh_token(const RefreshTokenRecord& token) = 0;
    virtual core::Result<std::optional<RefreshTokenRecord>> refresh_token(
        const std::string& token_hash) = 0;
    /// Marks `old_hash` rotated at `at` (if it was not already) and adds `next`, atomically.
    virtual core::Status rotate_refresh_token(const std::string& old_hash, core::TimePoint at,
                                              const RefreshTokenRecord& next) = 0;
    /// Deletes every refresh token of the family and revokes every access token issued from it
    /// (add_family_access_token), in one transaction; returns how many refresh tokens.
    virtual core::Result<std::uint32_t> delete_refresh_family(const std::string& family) = 0;
    /// Records that the access token `jti` (valid until `expires_at`) was issued from `family`.
    virtual core::Status add_family_access_token(const std::string& family,
                                                 const std::string& jti,
                                                 core::TimePoint expires_at) = 0;
    virtual core::Status revoke_access_token(const std::string& jti, core::TimePoint expires_at) = 0;
    virtual core::Result<bool> access_token_revoked(const std::string& jti) = 0;
    /// already_exists if the hash is taken; not_found if the client, user or session is gone.
    virtual core::Status add_auth_code(const AuthCodeRecord& code) = 0;
    /// The code with the access tokens its exchange issued, or nullopt.
    virtual core::Result<std::optional<AuthCodeRecord>> auth_code(const std::string& code_hash) = 0;
    /// Marks the code used, with the refresh token family its exchange starts, if no one has:
    /// true for the one caller that redeems it, on whichever node; false for everyone after.
    virtual core::Result<bool> use_auth_code(const std::string& code_hash,
                                             const std::optional<std::string>& family) = 0;
    /// Records an access token the code's exchange issued (revoked if the code is replayed).
    virtual core::Status add_auth_code_token(const std::string& code_hash,
                                             const std::string& jti) = 0;
    /// The scopes the user allowed the client, or nullopt.
    virtual core::Result<std::optional<std::vector<std::string>>> consent(
        const std::string& user_id, const std::string& client_id) = 0;
    virtual core::Status set_consent(const std::string& user_id, const std::string& client_id,
                                     const std::vector<std::string>& scopes,
                                     core::TimePoint at) = 0;

    // audit (append-only)
    virtual core::Status append_audit(AuditEvent& event) = 0; ///< sets event.seq
    /// Newest first.
    virtual core::Result<std::vector<AuditEvent>> audit(const AuditQuery& query) = 0;
};

} // namespace latchkey::directory
