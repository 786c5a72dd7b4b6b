// SPDX-License-Identifier: Apache-2.0
// The directory's records as the daemon keeps them (see shared/DESIGN.md, "The directory").
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.hpp"
#include "proto/messages.hpp"

namespace latchkey::directory {

using proto::AccountKind;
using proto::PasswordPolicy;
using proto::SecuritySettings;

struct DirectoryRecord {
    std::string id;
    std::string domain;                ///< e.g. "example.internal"
    std::string management_account_id;
    core::TimePoint created_at;
    /// Centralized root access (seed 003): member accounts get no root credentials, and the
    /// management account's directory administrators run root-only tasks on them.
    bool root_access_centralized = false;
};

struct AccountRecord {
    std::string id;
    std::string directory_id;
    std::string name;                  ///< DNS label, unique in the directory
    AccountKind kind = AccountKind::resource;
    std::string default_domain;        ///< "<name>.<directory domain>"
    std::vector<std::string> aliases;  ///< further logon domains
    PasswordPolicy policy;
    SecuritySettings settings;
    core::TimePoint created_at;
    std::optional<std::string> phone;  ///< the bound mobile phone (E.164), once verified
    std::optional<core::TimePoint> closed_at; ///< closed: nobody logs on, nothing changes
    /// Under centralized root access: root's password may be recovered until then.
    std::optional<core::TimePoint> recovery_open_until;
};

struct UserRecord {
    std::string id;
    std::string account_id;
    std::string name;                  ///< unique in its account
    std::string display_name;
    std::optional<std::string> email;  ///< for the OIDC `email` scope
    bool console_logon = true;
    std::string password_hash;         ///< Argon2id PHC string; empty = no password
    std::optional<core::TimePoint> password_set_at;
    bool require_change = false;
    std::optional<core::TimePoint> locked_until; ///< logons refused until then
    core::TimePoint created_at;
    /// The user's Unix uid, and the gid of its own primary group: allocated once from the
    /// directory's range (Store::assign_uid), never changed, never given to anyone else.
    std::optional<std::uint32_t> uid;
    /// The user's own home directory and login shell; nullopt: the configured default.
    std::optional<std::string> home;
    std::optional<std::string> shell;
};

/// The Unix ids a directory hands out: [min, max], both included.
struct UidRange {
    std::uint32_t min = 0;
    std::uint32_t max = 0;
};

/// How directory users appear as Unix users of the hosts ([unix] in the configuration).
struct UnixSettings {
    UidRange ids;
    std::string home = "/home/%u"; ///< a user's home directory unless it has its own; %u: name
    std::string shell = "/bin/bash";
    /// The group of the host account's administrators (sudo rights in etc/sudoers.d).
    std::string sudo_group = "latchkey-sudo";
};

/// A group of the hosts that is not a user's own (the administrators' group): its gid comes
/// from the users' range, so that it never equals a user's uid, and is kept once given.
struct UnixGroupRecord {
    std::string name;
    std::uint32_t gid = 0;
};

/// A uid whose user was deleted: kept, so that the number never names anyone else.
struct RetiredUid {
    std::uint32_t uid = 0;
    std::string user_name; ///< who had it
    core::TimePoint retired_at;
};

/// What a failed verdict left behind (Store::record_failure).
struct FailureTally {
    std::uint32_t failures = 0;                  ///< in the window, this one included
    std::optional<core::TimePoint> locked_until; ///< the lock in force after it
    bool locked_now = false;                     ///< this failure set that lock
};

enum class SessionKind : std::uint8_t { pam, web };

std::string_view to_string(SessionKind k) noexcept;

/// A console session: opened through PAM, or a browser's single sign-on session on the OIDC
/// sign-in pages (kind web: service "oidc", no pid, found by the hash of its cookie).
struct SessionRecord {
    std::string id;
    std::string user_id;
    std::string service;               ///< "sshd", "login", "sudo", ...
    std::optional<std::string> tty;
    std::optional<std::string> rhost;
    std::int64_t pid = 0;              ///< of the process that opened it (SO_PEERCRED)
    std::optional<std::string> logind_session;
    std::optional<std::string> logon_id;
    std::optional<std::string> method; ///< "pwd", "pwd+otp", "pwd+recovery"
    core::TimePoint opened_at;         ///< for a web session, also its auth_time
    std::optional<core::TimePoint> closed_at;
    SessionKind kind = SessionKind::pam;
    std::optional<std::string> secret_hash;     ///< web: hash of the cookie
    std::optional<core::TimePoint> expires_at;  ///< web: when it ends by itself
};

/// An OIDC refresh token, by the hash of the token.
struct RefreshTokenRecord {
    std::string token_hash;
    std::string family;                ///< the chain of rotations it belongs to
    std::string client_id;
    std::string user_id;
    std::string session_id;            ///< the browser session it came from
    std::vector<std::string> scopes;
    core::TimePoint auth_time;
    std::string method;                ///< of the logon, as in SessionRecord
    core::TimePoint expires_at;
    std::optional<core::TimePoint> rotated_at;
};

/// An OAuth authorization code (RFC 6749 §4.1) waiting to be exchanged, by the hash of the
/// code. Kept in the store, so that a browser may be sent to one node and the client exchange
/// the code at another, and a code is redeemable once across all of them.
struct AuthCodeRecord {
    std::string code_hash;
    std::string client_id;
    std::string user_id;
    std::string session_id; ///< the browser session that signed the user in
    std::string redirect_uri;
    std::vector<std::string> scopes;
    std::optional<std::string> nonce;
    std::optional<std::string> code_challenge; ///< PKCE S256
    core::TimePoint auth_time;
    std::string method;         ///< of the logon, as in SessionRecord
    core::TimePoint expires_at; ///< not exchangeable after this
    core::TimePoint keep_until; ///< remembered until then, to recognise a replay
    bool used = false;
    std::optional<std::string> family;    ///< the refresh token family its exchange started
    std::vector<std::string> access_jtis; ///< the access tokens its exchange issued
};

/// What a browser leaves half done between two of its requests, kept in the store so that the
/// next request may come to any node: a sign-in on the pages, an authenticator app or a passkey
/// being added on the account page.
enum class PendingKind : std::uint8_t { sign_in, app_enrolment, passkey_registration };

std::string_view to_string(PendingKind k) noexcept;

/// One such piece of work, by the hash of the token the browser holds for it (never the token).
/// The data is the front door's own, sealed by it: it may hold a secret being set up.
struct PendingRecord {
    PendingKind kind = PendingKind::sign_in;
    std::string key;
    std::string data;           ///< binary
    core::TimePoint expires_at; ///< gone after this
};

/// A user's TOTP device (one per user). The secret is sealed by the SecretBox under the context
/// "totp:<user id>", so a database copy alone does not reveal it.
struct MfaDeviceRecord {
    std::string id;
    std::string user_id;
    std::string sealed_secret;         ///< SecretBox::seal() output (binary)
    std::uint32_t digits = 6;
    std::uint32_t period_s = 30;
    core::TimePoint created_at;
    std::optional<std::int64_t> last_used_step; ///< highest time step accepted; never again
};

/// A user's passkey: a WebAuthn credential registered through webauthn::verify_registration().
/// Nothing here is secret (the private key never leaves the authenticator); the sign count and
/// backup state change at every sign-in. A user has several; credential ids are unique in the
/// directory.
/// Which relying party a passkey was registered for: the web pages (the OIDC provider's RP id)
/// or this directory's hosts (a security key at a console or for sudo, "pam:<domain>").
enum class PasskeyParty : std::uint8_t { web, host };

std::string_view to_string(PasskeyParty p) noexcept;
std::optional<PasskeyParty> passkey_party_named(std::string_view name) noexcept;

struct PasskeyRecord {
    std::string id; ///< ours (a UUID): what administrators and the user name it by
    std::string user_id;
    PasskeyParty relying_party = PasskeyParty::web;
    std::string credential_id;   ///< raw bytes, 1 to 1023
    std::string public_key;      ///< the COSE_Key bytes as registered
    std::int32_t algorithm = -7; ///< COSE algorithm (-7 ES256, -8 EdDSA, -257 RS256, ...)
    std::uint32_t sign_count = 0;
    std::string aaguid;                  ///< the authenticator model, 16 raw bytes
    std::vector<std::string> transports; ///< as the browser reported them ("usb", "internal", ...)
    bool backup_eligible = false;        ///< a synced passkey rather than a device-bound key
    bool backed_up = false;
    bool user_verified = false; ///< at registration
    std::string attestation;    ///< the attestation format ("none", "packed", ...)
    std::string name;           ///< given by the user
    core::TimePoint created_at;
    std::optional<core::TimePoint> last_used_at;
};

/// A signing key of the OpenID Connect provider. The private key never leaves latchkeyd.
struct OidcKeyRecord {
    std::string kid;                   ///< RFC 7638 thumbprint
    std::string alg;                   ///< "RS256", "ES256", "EdDSA"
    std::string sealed_pem;            ///< SecretBox::seal() of the PKCS#8 PEM, context "oidc-key:<kid>"
    core::TimePoint created_at;
    std::optional<core::TimePoint> retired_at;   ///< no longer signs from then on
    std::optional<core::TimePoint> unpublish_at; ///< dropped from the JWKS from then on
};

/// A relying party registered with `latchkeyctl oidc client add`.
struct OidcClientRecord {
    std::string id;                    ///< the client_id
    std::string name;
    std::string secret_hash;           ///< keyed hash of the secret; empty for a public client
    bool is_public = false;            ///< no secret: PKCE is required
    std::vector<std::string> redirect_uris;
    std::vector<std::string> post_logout_redirect_uris;
    std::optional<std::string> backchannel_logout_uri;
    std::vector<std::string> scopes;   ///< allowed scopes ("openid" always)
    std::string id_token_alg = "RS256";
    bool claims_in_id_token = false;   ///< profile/email claims in the ID token too
    bool require_consent = false;
    core::TimePoint created_at;
};

/// An access key (seed 004): a user's credential for programs, separate from the password.
struct AccessKeyRecord {
    std::string id;                    ///< public: "LK" + 20 base32 characters
    std::string user_id;
    std::string secret_hash;           ///< keyed hash of the secret
    bool enabled = true;
    core::TimePoint created_at;
    std::optional<core::TimePoint> last_used_at;
};

/// What replaces a user's password, written atomically with the history entry of the old one.
struct PasswordChange {
    std::string new_hash;
    core::TimePoint set_at;
    bool require_change = false;
    std::uint32_t history_keep = 0;    ///< previous hashes to keep (the policy's history)
};

/// The roles of the directory model's administrators: a user of the management account holding
/// `directory_admin` administers the directory and every member; a user holding
/// `account_admin` administers its own account.
enum class Role : std::uint8_t { directory_admin, account_admin };

std::string_view to_string(Role r) noexcept;
std::optional<Role> role_from_string(std::string_view s) noexcept;

/// A role held by a user. A role its holder revoked from itself stays on record with
/// `self_revoked_at`, inactive: restoring it is a root-only task (seed 003).
struct RoleRecord {
    std::string user_id;
    Role role = Role::account_admin;
    core::TimePoint granted_at;
    std::string granted_by;            ///< the actor, as in the audit
    std::optional<core::TimePoint> self_revoked_at;
};

/// What a verification code sent to a phone is for; one pending code per account and purpose.
enum class CodePurpose : std::uint8_t { phone_bind, root_recovery };

std::string_view to_string(CodePurpose p) noexcept;

/// The calendar day (UTC) of `t`, "2026-12-02": the unit of the daily limit of codes.
std::string utc_day(core::TimePoint t);

/// A verification code waiting to be entered: only its keyed hash is kept.
struct VerificationCodeRecord {
    std::string account_id;
    CodePurpose purpose = CodePurpose::phone_bind;
    std::string phone;                 ///< where it was sent (the number to bind, for phone_bind)
    std::string code_hash;
    core::TimePoint created_at;
    core::TimePoint expires_at;
    std::uint32_t tries_left = 5;
};

enum class Severity : std::uint8_t { info, notice, warning, alert };

std::string_view to_string(Severity s) noexcept;
std::optional<Severity> severity_from_string(std::string_view s) noexcept;

/// One audit record: `event` is a stable name ("user.create"), `fields` key=value, no secret.
struct AuditEvent {
    std::int64_t seq = 0;              ///< assigned by the store
    core::TimePoint at;
    Severity severity = Severity::info;
    std::string event;
    std::map<std::string, std::string> fields;
};

struct AuditQuery {
    std::optional<Severity> min_severity;
    std::optional<core::TimePoint> since;
    std::optional<std::string> user;   ///< matches the `user` field
    std::uint32_t limit = 100;
};

} // namespace latchkey::directory
