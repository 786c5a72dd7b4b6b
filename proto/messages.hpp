// SPDX-License-Identifier: Apache-2.0
// The only definition of the daemon <-> client contract (admin socket and PAM socket).
//
// Every request and response is a described struct with a `type` name; proto/wire.hpp turns
// them into frames. Add a field as std::optional to stay compatible with older peers; a change
// that breaks the format bumps protocol_version and freezes the old codec in proto/v1/.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <boost/describe.hpp>

#include "core/secret.hpp"
#include "proto/security_key.hpp"

namespace latchkey::proto {

inline constexpr std::uint32_t protocol_version = 1;

/// Largest request frame the daemon reads; checked before allocating.
inline constexpr std::size_t max_request_size = 64 * 1024;
/// Largest response frame a client reads (listings can be long).
inline constexpr std::size_t max_response_size = 8 * 1024 * 1024;

// ---- values shared by requests and responses --------------------------------------------

enum class AccountKind : std::uint8_t { management, resource, cloud };
BOOST_DESCRIBE_ENUM(AccountKind, management, resource, cloud)

/// An account's password policy (seed 004 / RAM password policy). Defaults are the seeds'.
struct PasswordPolicy {
    std::uint32_t min_length = 8;        ///< 8..32
    bool require_lowercase = true;
    bool require_uppercase = true;
    bool require_digit = true;
    bool require_symbol = true;
    std::uint32_t max_age_days = 0;      ///< 0 = passwords never expire
    std::uint32_t history = 0;           ///< previous passwords that may not be reused, 0..24
    std::uint32_t max_failed_per_hour = 5; ///< then the user is locked for an hour; 0 = never
    bool hard_expiry = false;            ///< an expired password can only be reset by an admin
};
BOOST_DESCRIBE_STRUCT(PasswordPolicy, (),
                      (min_length, require_lowercase, require_uppercase, require_digit,
                       require_symbol, max_age_days, history, max_failed_per_hour, hard_expiry))

/// Whether a remote logon through PAM (ssh) may be approved on the provider's /device page, and
/// whether the password is still asked first (docs/pam.md "Approving an ssh logon").
enum class DeviceApproval : std::uint8_t {
    off,                ///< never: password and second factor as usual
    after_password,     ///< the password, then the approval in place of the second factor
    instead_of_password ///< the approval alone (the person signs in to the page)
};
BOOST_DESCRIBE_ENUM(DeviceApproval, off, after_password, instead_of_password)

/// An account's security settings (seeds 001, 004).
struct SecuritySettings {
    bool allow_change_password = true;
    bool allow_passkey_logon = true;
    bool allow_manage_mfa = true;
    bool mfa_required = false;           ///< every user needs a second factor to log on
    bool mfa_enrol_at_logon = false;     ///< a user who needs MFA and has none enrols while logging on
    std::uint32_t session_duration_s = 6 * 3600;
    std::vector<std::string> allowed_networks; ///< CIDRs; empty = anywhere
    DeviceApproval device_approval = DeviceApproval::off; ///< remote PAM logons
};
BOOST_DESCRIBE_STRUCT(SecuritySettings, (),
                      (allow_change_password, allow_passkey_logon, allow_manage_mfa, mfa_required,
                       mfa_enrol_at_logon, session_duration_s, allowed_networks, device_approval))

/// One `key=value` assignment of `policy set` / `settings set`.
struct Assignment {
    std::string key;
    std::string value;
};
BOOST_DESCRIBE_STRUCT(Assignment, (), (key, value))

struct DirectoryInfo {
    std::string id;
    std::string domain;
    std::string management_account;
    std::int64_t created_at = 0;
    std::uint32_t accounts = 0;
    bool root_access_centralized = false; ///< seed 003: see `directory root-access`
};
BOOST_DESCRIBE_STRUCT(DirectoryInfo, (), (id, domain, management_account, created_at, accounts,
                                          root_access_centralized))

/// The root user of a cloud account, as `account show` reports it. Absent on the other kinds,
/// which have no root user.
struct RootInfo {
    bool exists = false;
    bool has_password = false;
    bool has_mfa = false;
    std::uint32_t access_keys = 0;
    bool recovery_open = false;              ///< a recovery by code may run now
    std::optional<std::int64_t> recovery_open_until; ///< centralized root access: the window
};
BOOST_DESCRIBE_STRUCT(RootInfo, (),
                      (exists, has_password, has_mfa, access_keys, recovery_open,
                       recovery_open_until))

struct AccountInfo {
    std::string id;
    std::string name;
    AccountKind kind = AccountKind::resource;
    std::string default_domain;
    std::vector<std::string> aliases;
    std::uint32_t users = 0;
    std::int64_t created_at = 0;
    std::optional<std::string> phone;       ///< the bound mobile phone, E.164
    std::optional<std::int64_t> closed_at;
    std::optional<RootInfo> root;           ///< cloud accounts only
    std::uint32_t codes_sent_today = 0;     ///< verification codes sent this UTC day
    std::uint32_t codes_per_day = 100;      ///< the daily limit (seed 002)
};
BOOST_DESCRIBE_STRUCT(AccountInfo, (),
                      (id, name, kind, default_domain, aliases, users, created_at, phone,
                       closed_at, root, codes_sent_today, codes_per_day))

/// A user's passkey as administrators and the user see it (no key material).
struct PasskeyInfo {
    std::string id;
    std::string user;                    ///< logon name
    std::string name;                    ///< given by the user
    std::string algorithm;               ///< "ES256", "EdDSA", "RS256", ...
    std::string aaguid;                  ///< the authenticator model, 8-4-4-4-12
    std::vector<std::string> transports; ///< "usb", "nfc", "internal", "hybrid", ...
    bool synced = false;                 ///< backup eligible: a passkey a provider syncs
    bool backed_up = false;
    std::int64_t created_at = 0;
    std::optional<std::int64_t> last_used_at;
    /// "web": for the sign-in pages; "host": a security key for logons at the hosts (PAM).
    std::string relying_party = "web";
};
BOOST_DESCRIBE_STRUCT(PasskeyInfo, (),
                      (id, user, name, algorithm, aaguid, transports, synced, backed_up,
                       created_at, last_used_at, relying_party))

struct UserInfo {
    std::string id;
    std::string account;
    std::string name;
    std::string logon_name;     ///< name@default-domain
    std::string display_name;
    std::optional<std::string> email;
    bool console_logon = true;
    bool has_password = false;
    std::optional<std::int64_t> password_set_at;
    std::optional<std::int64_t> password_expires_at;
    bool require_change = false;
    std::optional<std::int64_t> locked_until;
    std::int64_t created_at = 0;
    std::optional<std::vector<PasskeyInfo>> passkeys; ///< `user show` only
    std::optional<std::uint32_t> uid; ///< and the gid of the user's own group; none yet: absent
    /// With a uid: the home directory and login shell at the hosts (the user's own or the
    /// configured default).
    std::optional<std::string> home;
    std::optional<std::string> shell;
};
BOOST_DESCRIBE_STRUCT(UserInfo, (),
                      (id, account, name, logon_name, display_name, email, console_logon,
                       has_password,
                       password_set_at, password_expires_at, require_change, locked_until,
                       created_at, passkeys, uid, home, shell))


// ---- the logon dialogue (PAM socket; the same steps drive the OIDC pages) ----------------

/// How a client shows a prompt: PAM_PROMPT_ECHO_OFF/ON, PAM_TEXT_INFO, PAM_ERROR_MSG.
enum class PromptStyle : std::uint8_t { echo_off, echo_on, info, error };
BOOST_DESCRIBE_ENUM(PromptStyle, echo_off, echo_on, info, error)

/// What an answer is, so a client can supply one it already has (PAM_AUTHTOK for `password`,
/// PAM_OLDAUTHTOK for `current_password`). A new method adds a kind; clients that do not know it
/// simply show the text in its style.
enum class PromptKind : std::uint8_t {
    password,
    verification_code,
    current_password,
    new_password,
    repeat_password,
    other,
    passkey,      ///< the OIDC pages only: a passkey as the second factor, nothing typed
    security_key, ///< PAM: the key plugged into this machine, through the module's helper
};
BOOST_DESCRIBE_ENUM(PromptKind, password, verification_code, current_password, new_password,
                    repeat_password, other, passkey, security_key)

struct Prompt {
    PromptKind kind = PromptKind::password;
    PromptStyle style = PromptStyle::echo_off;
    std::string text; ///< security_key: what to show while the key waits for a touch
    /// security_key: the ceremony to run; the answer carries its SecurityKeyResult.
    std::optional<SecurityKeyCeremony> security_key;
};
BOOST_DESCRIBE_STRUCT(Prompt, (), (kind, style, text, security_key))

/// A line shown without an answer (style info or error). A line that carries a secret (the
/// otpauth URI and QR code of an enrolment, a recovery code) says so with `secret`: clients
/// show it the same way, and logs redact its text (see redacts_strings). A line that tells the
/// person what the next prompt needs them to do (where to approve a logon) says so with
/// `instructs`: the PAM module shows it even under PAM_SILENT, as it shows the prompt.
struct Message {
    PromptStyle style = PromptStyle::info;
    std::string text;
    bool secret = false;
    std::optional<bool> instructs{}; ///< absent: false (and the line is sent as it always was)
};
BOOST_DESCRIBE_STRUCT(Message, (), (style, text, secret, instructs))

/// For proto::to_log_string: the text of a secret line is written as "<redacted>".
inline bool redacts_strings(const Message& m) noexcept
{
    return m.secret;
}

/// The end of a dialogue. PAM maps it in pam::to_pam(); OIDC in its own page logic.
enum class Outcome : std::uint8_t {
    success,
    denied,               ///< wrong credentials, locked, logon disabled, root refused...
    ignore,               ///< unknown user and the client asked to be told (ignore_unknown_user)
    unavailable,          ///< latchkey cannot decide (no host account, storage failure)
    permission_denied,    ///< the caller may not ask this (another uid's user)
    new_authtok_required, ///< acct_mgmt: the password must be changed now
    authtok_error,        ///< chauthtok: the new password was refused
    account_expired,      ///< acct_mgmt: hard expiry, only an administrator can reset it
};
BOOST_DESCRIBE_ENUM(Outcome, success, denied, ignore, unavailable, permission_denied,
                    new_authtok_required, authtok_error, account_expired)

struct Verdict {
    Outcome outcome = Outcome::denied;
    std::string message;                  ///< for the person; empty on plain success
    std::optional<std::string> logon_id;  ///< on success: links sessions to this logon
};
BOOST_DESCRIBE_STRUCT(Verdict, (), (outcome, message, logon_id))

struct SessionInfo {
    std::string id;
    std::string user;            ///< logon name
    std::string service;
    std::optional<std::string> tty;
    std::optional<std::string> rhost;
    std::int64_t pid = 0;
    std::optional<std::string> logind_session;
    std::optional<std::string> logon_id;
    std::optional<std::string> method;   ///< how the logon authenticated ("pwd")
    std::int64_t opened_at = 0;
    std::string kind = "pam";            ///< "pam", or "web": a browser's OIDC sign-in session
    std::optional<std::int64_t> expires_at; ///< web: when it ends by itself
};
BOOST_DESCRIBE_STRUCT(SessionInfo, (),
                      (id, user, service, tty, rhost, pid, logind_session, logon_id, method,
                       opened_at, kind, expires_at))

/// A second-factor device. Its secret never leaves the daemon after enrolment.
struct MfaDeviceInfo {
    std::string id;
    std::string user;                         ///< logon name
    std::string kind = "totp";
    std::int64_t created_at = 0;
    std::optional<std::int64_t> last_used_at; ///< start of the last accepted time step
    std::uint32_t recovery_codes_left = 0;
};
BOOST_DESCRIBE_STRUCT(MfaDeviceInfo, (),
                      (id, user, kind, created_at, last_used_at, recovery_codes_left))

struct AuditInfo {
    std::int64_t seq = 0;
    std::int64_t at = 0;
    std::string severity;
    std::string event;
    std::vector<Assignment> fields;
};
BOOST_DESCRIBE_STRUCT(AuditInfo, (), (seq, at, severity, event, fields))

// ---- requests ---------------------------------------------------------------------------

struct Hello {
    static constexpr std::string_view type = "hello";
    std::uint32_t version = protocol_version;
    std::string client;
};
BOOST_DESCRIBE_STRUCT(Hello, (), (version, client))

struct DirectoryInit {
    static constexpr std::string_view type = "directory.init";
    std::string domain;
    std::string management_account = "management";
};
BOOST_DESCRIBE_STRUCT(DirectoryInit, (), (domain, management_account))

struct DirectoryShow {
    static constexpr std::string_view type = "directory.show";
};
BOOST_DESCRIBE_STRUCT(DirectoryShow, (), ())

struct AccountCreate {
    static constexpr std::string_view type = "account.create";
    std::string name;
    AccountKind kind = AccountKind::resource;
};
BOOST_DESCRIBE_STRUCT(AccountCreate, (), (name, kind))

struct AccountList {
    static constexpr std::string_view type = "account.list";
};
BOOST_DESCRIBE_STRUCT(AccountList, (), ())

struct AccountShow {
    static constexpr std::string_view type = "account.show";
    std::string account;
};
BOOST_DESCRIBE_STRUCT(AccountShow, (), (account))

struct AccountAlias {
    static constexpr std::string_view type = "account.alias";
    std::string account;
    std::string domain;
    bool add = true; ///< false removes the alias
};
BOOST_DESCRIBE_STRUCT(AccountAlias, (), (account, domain, add))

/// Names a user: "alice@web.example.internal", or "alice" in `account` (default: the host's).
struct UserRef {
    std::string user;
    std::optional<std::string> account;
};
BOOST_DESCRIBE_STRUCT(UserRef, (), (user, account))

struct UserCreate {
    static constexpr std::string_view type = "user.create";
    UserRef ref;
    std::optional<std::string> display_name;
    bool console_logon = true;
    std::optional<std::string> email{};
};
BOOST_DESCRIBE_STRUCT(UserCreate, (), (ref, display_name, console_logon, email))

/// Sets (or, without `email`, removes) a user's email address.
struct UserSetEmail {
    static constexpr std::string_view type = "user.set_email";
    UserRef ref;
    std::optional<std::string> email;
};
BOOST_DESCRIBE_STRUCT(UserSetEmail, (), (ref, email))

/// What `user set-shell` and `user set-home` change.
enum class UnixAttribute : std::uint8_t { shell, home };
BOOST_DESCRIBE_ENUM(UnixAttribute, shell, home)

/// Sets a user's login shell or home directory at the hosts; without `value`, back to the
/// configured default.
struct UserSetUnix {
    static constexpr std::string_view type = "user.set_unix";
    UserRef ref;
    UnixAttribute attribute = UnixAttribute::shell;
    std::optional<std::string> value;
};
BOOST_DESCRIBE_STRUCT(UserSetUnix, (), (ref, attribute, value))

struct UserList {
    static constexpr std::string_view type = "user.list";
    std::optional<std::string> account; ///< absent: every account
};
BOOST_DESCRIBE_STRUCT(UserList, (), (account))

struct UserShow {
    static constexpr std::string_view type = "user.show";
    UserRef ref;
};
BOOST_DESCRIBE_STRUCT(UserShow, (), (ref))

struct UserDelete {
    static constexpr std::string_view type = "user.delete";
    UserRef ref;
};
BOOST_DESCRIBE_STRUCT(UserDelete, (), (ref))

struct UserSetLogon {
    static constexpr std::string_view type = "user.set_logon";
    UserRef ref;
    bool enabled = true;
};
BOOST_DESCRIBE_STRUCT(UserSetLogon, (), (ref, enabled))

/// The three modes of an administrator's password reset (seed 004).
enum class PasswordMode : std::uint8_t { keep, generate, custom };
BOOST_DESCRIBE_ENUM(PasswordMode, keep, generate, custom)

struct UserSetPassword {
    static constexpr std::string_view type = "user.set_password";
    UserRef ref;
    PasswordMode mode = PasswordMode::custom;
    std::optional<core::Secret> password;  ///< only with mode custom
    std::optional<bool> require_change;    ///< absent: leave as it is
};
BOOST_DESCRIBE_STRUCT(UserSetPassword, (), (ref, mode, password, require_change))

struct PolicyShow {
    static constexpr std::string_view type = "policy.show";
    std::optional<std::string> account;
};
BOOST_DESCRIBE_STRUCT(PolicyShow, (), (account))

struct PolicySet {
    static constexpr std::string_view type = "policy.set";
    std::optional<std::string> account;
    std::vector<Assignment> changes;
};
BOOST_DESCRIBE_STRUCT(PolicySet, (), (account, changes))

struct SettingsShow {
    static constexpr std::string_view type = "settings.show";
    std::optional<std::string> account;
};
BOOST_DESCRIBE_STRUCT(SettingsShow, (), (account))

struct SettingsSet {
    static constexpr std::string_view type = "settings.set";
    std::optional<std::string> account;
    std::vector<Assignment> changes;
};
BOOST_DESCRIBE_STRUCT(SettingsSet, (), (account, changes))


struct UserUnlock {
    static constexpr std::string_view type = "user.unlock";
    UserRef ref;
};
BOOST_DESCRIBE_STRUCT(UserUnlock, (), (ref))

struct SessionList {
    static constexpr std::string_view type = "session.list";
    std::optional<std::string> user; ///< a logon name or a name in the host account
};
BOOST_DESCRIBE_STRUCT(SessionList, (), (user))

/// Ends one session by id, or every open session of a user. Answered with the sessions ended.
struct SessionEnd {
    static constexpr std::string_view type = "session.end";
    std::optional<std::string> id;
    std::optional<std::string> user;
};
BOOST_DESCRIBE_STRUCT(SessionEnd, (), (id, user))

struct AuditList {
    static constexpr std::string_view type = "audit.list";
    std::optional<std::string> severity; ///< at least this: info, notice, warning, alert
    std::optional<std::int64_t> since;   ///< Unix seconds
    std::optional<std::string> user;
    std::uint32_t limit = 100;
};
BOOST_DESCRIBE_STRUCT(AuditList, (), (severity, since, user, limit))

/// PAM socket: opens a logon dialogue (pam_sm_authenticate).
struct AuthBegin {
    static constexpr std::string_view type = "auth.begin";
    std::string service;
    std::string user;
    std::optional<std::string> rhost;
    std::optional<std::string> tty;
    bool ignore_unknown_user = false; ///< answer Outcome::ignore for users latchkey does not know
    bool single_prompt = false;       ///< one hidden prompt takes password and code together
    /// true: the module can run a security key ceremony at this machine (a security_key
    /// prompt). Absent from modules that predate security keys.
    std::optional<bool> security_key;
};
BOOST_DESCRIBE_STRUCT(AuthBegin, (), (service, user, rhost, tty, ignore_unknown_user,
                                      single_prompt, security_key))

/// PAM socket: opens a password change dialogue (pam_sm_chauthtok, PAM_UPDATE_AUTHTOK).
struct PasswordChangeBegin {
    static constexpr std::string_view type = "passwd.begin";
    std::string service;
    std::string user;
    bool only_if_expired = false; ///< PAM_CHANGE_EXPIRED_AUTHTOK
};
BOOST_DESCRIBE_STRUCT(PasswordChangeBegin, (), (service, user, only_if_expired))

/// PAM socket: the answer to the dialogue's current prompt.
struct AuthAnswer {
    static constexpr std::string_view type = "auth.answer";
    core::Secret answer;
    std::optional<SecurityKeyResult> security_key; ///< the answer to a security_key prompt
};
BOOST_DESCRIBE_STRUCT(AuthAnswer, (), (answer, security_key))

/// PAM socket: may this user log in now (pam_sm_acct_mgmt)?
struct AccountCheck {
    static constexpr std::string_view type = "account.check";
    std::string service;
    std::string user;
    std::optional<std::string> rhost;
    bool ignore_unknown_user = false;
};
BOOST_DESCRIBE_STRUCT(AccountCheck, (), (service, user, rhost, ignore_unknown_user))

/// PAM socket: pam_sm_open_session. The peer's pid comes from SO_PEERCRED.
struct SessionOpen {
    static constexpr std::string_view type = "session.open";
    std::string service;
    std::string user;
    std::optional<std::string> tty;
    std::optional<std::string> rhost;
    std::optional<std::string> logon_id;       ///< from the authenticating module, if it ran here
    std::optional<std::string> logind_session; ///< XDG_SESSION_ID when pam_systemd ran first
};
BOOST_DESCRIBE_STRUCT(SessionOpen, (), (service, user, tty, rhost, logon_id, logind_session))

/// PAM socket: pam_sm_close_session.
struct SessionClose {
    static constexpr std::string_view type = "session.close";
    std::string service;
    std::string user;
    std::optional<std::string> session_id;
    std::optional<std::string> tty;
};
BOOST_DESCRIBE_STRUCT(SessionClose, (), (service, user, session_id, tty))

/// Starts a TOTP enrolment; the daemon answers with an MfaChallenge and keeps the new secret
/// on this connection until MfaConfirm. Admin socket: `ref` names the user. PAM socket (self-
/// service): the user is the caller, `ref` must be absent, `password` is the caller's, and
/// the account must allow users to manage their MFA devices.
struct MfaEnroll {
    static constexpr std::string_view type = "mfa.enroll";
    std::optional<UserRef> ref;
    std::optional<core::Secret> password;
};
BOOST_DESCRIBE_STRUCT(MfaEnroll, (), (ref, password))

/// Activates the enrolment in progress on this connection: two consecutive codes.
struct MfaConfirm {
    static constexpr std::string_view type = "mfa.confirm";
    core::Secret first_code;
    core::Secret second_code;
};
BOOST_DESCRIBE_STRUCT(MfaConfirm, (), (first_code, second_code))

struct MfaList {
    static constexpr std::string_view type = "mfa.list";
    std::optional<UserRef> ref; ///< absent: every user's devices
};
BOOST_DESCRIBE_STRUCT(MfaList, (), (ref))

struct MfaRemove {
    static constexpr std::string_view type = "mfa.remove";
    UserRef ref;
};
BOOST_DESCRIBE_STRUCT(MfaRemove, (), (ref))

/// Makes a new set of recovery codes and voids the old one.
struct MfaRecoveryCodes {
    static constexpr std::string_view type = "mfa.recovery_codes";
    UserRef ref;
};
BOOST_DESCRIBE_STRUCT(MfaRecoveryCodes, (), (ref))

/// A relying party of the OpenID Connect provider, as `latchkeyctl oidc client` shows it.
struct OidcClientInfo {
    std::string id;
    std::string name;
    bool is_public = false; ///< no secret; PKCE required
    std::vector<std::string> redirect_uris;
    std::vector<std::string> post_logout_redirect_uris;
    std::optional<std::string> backchannel_logout_uri;
    std::vector<std::string> scopes;
    std::string id_token_alg = "RS256";
    bool claims_in_id_token = false;
    bool require_consent = false;
    std::int64_t created_at = 0;
};
BOOST_DESCRIBE_STRUCT(OidcClientInfo, (),
                      (id, name, is_public, redirect_uris, post_logout_redirect_uris,
                       backchannel_logout_uri, scopes, id_token_alg, claims_in_id_token,
                       require_consent, created_at))

/// Registers a client; `client.created_at` is ignored. The reply carries the secret once.
struct OidcClientAdd {
    static constexpr std::string_view type = "oidc.client.add";
    OidcClientInfo client;
};
BOOST_DESCRIBE_STRUCT(OidcClientAdd, (), (client))

struct OidcClientList {
    static constexpr std::string_view type = "oidc.client.list";
};
BOOST_DESCRIBE_STRUCT(OidcClientList, (), ())

struct OidcClientShow {
    static constexpr std::string_view type = "oidc.client.show";
    std::string id;
};
BOOST_DESCRIBE_STRUCT(OidcClientShow, (), (id))

struct OidcClientRemove {
    static constexpr std::string_view type = "oidc.client.remove";
    std::string id;
};
BOOST_DESCRIBE_STRUCT(OidcClientRemove, (), (id))

/// Retires the current signing keys and makes new ones.
struct OidcRotateKeys {
    static constexpr std::string_view type = "oidc.rotate_keys";
};
BOOST_DESCRIBE_STRUCT(OidcRotateKeys, (), ())

struct AccessKeyInfo {
    std::string id;
    std::string user; ///< logon name
    bool enabled = true;
    std::int64_t created_at = 0;
    std::optional<std::int64_t> last_used_at;
};
BOOST_DESCRIBE_STRUCT(AccessKeyInfo, (), (id, user, enabled, created_at, last_used_at))

struct AccessKeyCreate {
    static constexpr std::string_view type = "accesskey.create";
    UserRef ref;
};
BOOST_DESCRIBE_STRUCT(AccessKeyCreate, (), (ref))

struct AccessKeyList {
    static constexpr std::string_view type = "accesskey.list";
    std::optional<UserRef> ref; ///< absent: every key
};
BOOST_DESCRIBE_STRUCT(AccessKeyList, (), (ref))

struct AccessKeySetEnabled {
    static constexpr std::string_view type = "accesskey.set_enabled";
    std::string id;
    bool enabled = true;
};
BOOST_DESCRIBE_STRUCT(AccessKeySetEnabled, (), (id, enabled))

struct AccessKeyDelete {
    static constexpr std::string_view type = "accesskey.delete";
    std::string id;
};
BOOST_DESCRIBE_STRUCT(AccessKeyDelete, (), (id))

// ---- passkeys ---------------------------------------------------------------------------

struct PasskeyList {
    static constexpr std::string_view type = "passkey.list";
    UserRef ref;
};
BOOST_DESCRIBE_STRUCT(PasskeyList, (), (ref))

/// Removes one of the user's passkeys; `id` is PasskeyInfo::id.
struct PasskeyRemove {
    static constexpr std::string_view type = "passkey.remove";
    UserRef ref;
    std::string id;
};
BOOST_DESCRIBE_STRUCT(PasskeyRemove, (), (ref, id))

/// Starts enrolling a security key for the hosts (latchkeyctl passkey add-key): on the admin
/// socket for the user `ref` names; on the PAM socket for the caller, after its password.
/// Answered with a KeyEnrolCeremony for the caller's latchkey-fido to run on the key.
struct KeyEnrol {
    static constexpr std::string_view type = "passkey.key_enrol";
    std::optional<UserRef> ref;
    std::optional<core::Secret> password;
};
BOOST_DESCRIBE_STRUCT(KeyEnrol, (), (ref, password))

struct KeyEnrolCeremony {
    static constexpr std::string_view type = "passkey.key_ceremony";
    std::string user; ///< logon name
    SecurityKeyCeremony ceremony;
};
BOOST_DESCRIBE_STRUCT(KeyEnrolCeremony, (), (user, ceremony))

/// Finishes the enrolment in progress on this connection with what the key answered; `name`
/// for the new key ("" = "Security key"). Answered with a PasskeyReply.
struct KeyEnrolFinish {
    static constexpr std::string_view type = "passkey.key_finish";
    SecurityKeyResult result;
    std::string name;
};
BOOST_DESCRIBE_STRUCT(KeyEnrolFinish, (), (result, name))

// ---- administrators (roles) -------------------------------------------------------------

/// `role` is "directory-admin" (users of the management account) or "account-admin" (of the
/// user's own account).
struct RoleGrant {
    static constexpr std::string_view type = "role.grant";
    UserRef ref;
    std::string role;
};
BOOST_DESCRIBE_STRUCT(RoleGrant, (), (ref, role))

struct RoleRevoke {
    static constexpr std::string_view type = "role.revoke";
    UserRef ref;
    std::string role;
};
BOOST_DESCRIBE_STRUCT(RoleRevoke, (), (ref, role))

struct RoleList {
    static constexpr std::string_view type = "role.list";
    std::optional<std::string> account; ///< only the roles of this account's users
};
BOOST_DESCRIBE_STRUCT(RoleList, (), (account))

// ---- the account lifecycle (seeds 000, 002, 003) ----------------------------------------

/// Sends a 6-digit code to `number` (E.164); `account.phone.verify` with it binds the number.
struct PhoneBind {
    static constexpr std::string_view type = "account.phone.bind";
    std::string account;
    std::string number;
};
BOOST_DESCRIBE_STRUCT(PhoneBind, (), (account, number))

struct PhoneVerify {
    static constexpr std::string_view type = "account.phone.verify";
    std::string account;
    core::Secret code;
};
BOOST_DESCRIBE_STRUCT(PhoneVerify, (), (account, code))

/// resource -> cloud needs a bound phone and `acknowledge_risk`; cloud -> resource removes root.
struct AccountSwitch {
    static constexpr std::string_view type = "account.switch";
    std::string account;
    AccountKind to = AccountKind::cloud;
    bool acknowledge_risk = false;
};
BOOST_DESCRIBE_STRUCT(AccountSwitch, (), (account, to, acknowledge_risk))

/// Without `code`: sends a code to the bound phone. With `code` and `password`: sets root's
/// password (checked against the account's policy).
struct RootRecover {
    static constexpr std::string_view type = "account.root.recover";
    std::string account;
    std::optional<core::Secret> code;
    std::optional<core::Secret> password;
};
BOOST_DESCRIBE_STRUCT(RootRecover, (), (account, code, password))

struct RootRemoveCredentials {
    static constexpr std::string_view type = "account.root.remove_credentials";
    std::string account;
};
BOOST_DESCRIBE_STRUCT(RootRemoveCredentials, (), (account))

struct RootAllowRecovery {
    static constexpr std::string_view type = "account.root.allow_recovery";
    std::string account;
    std::int64_t duration_s = 0;
};
BOOST_DESCRIBE_STRUCT(RootAllowRecovery, (), (account, duration_s))

struct RootAccessSet {
    static constexpr std::string_view type = "directory.root_access.set";
    bool enabled = false;
};
BOOST_DESCRIBE_STRUCT(RootAccessSet, (), (enabled))

struct RootAccessShow {
    static constexpr std::string_view type = "directory.root_access.show";
};
BOOST_DESCRIBE_STRUCT(RootAccessShow, (), ())

/// A root-only task: nobody logs on to a closed account again.
struct AccountClose {
    static constexpr std::string_view type = "account.close";
    std::string account;
};
BOOST_DESCRIBE_STRUCT(AccountClose, (), (account))

/// A root-only task: gives back the account-admin role a user revoked from itself.
struct AccountRestoreAdmin {
    static constexpr std::string_view type = "account.restore_admin";
    std::string account;
    std::string user;
};
BOOST_DESCRIBE_STRUCT(AccountRestoreAdmin, (), (account, user))

/// A privileged task: empties allowed_networks when it locks everyone out.
struct AccountClearNetworks {
    static constexpr std::string_view type = "account.clear_logon_networks";
    std::string account;
};
BOOST_DESCRIBE_STRUCT(AccountClearNetworks, (), (account))

// ---- the NSS socket: read-only lookups of the host's Unix users and groups ----------------

/// What libnss_latchkey.so.2 asks: a passwd or group entry by name or number, or the groups a
/// user belongs to besides its own (initgroups).
enum class NssQuery : std::uint8_t { user_by_name, user_by_uid, group_by_name, group_by_gid, groups_of };
BOOST_DESCRIBE_ENUM(NssQuery, user_by_name, user_by_uid, group_by_name, group_by_gid, groups_of)

struct NssLookup {
    static constexpr std::string_view type = "nss.lookup";
    NssQuery query = NssQuery::user_by_name;
    std::string name; ///< the *_by_name and groups_of queries
    std::uint32_t id = 0; ///< the uid or gid of the by_uid / by_gid queries
};
BOOST_DESCRIBE_STRUCT(NssLookup, (), (query, name, id))

using Request = std::variant<Hello, DirectoryInit, DirectoryShow, AccountCreate, AccountList,
                             AccountShow, AccountAlias, UserCreate, UserList, UserShow, UserDelete,
                             UserSetLogon, UserSetEmail, UserSetUnix, UserSetPassword, PolicyShow, PolicySet, SettingsShow,
                             SettingsSet, UserUnlock, SessionList, SessionEnd, AuditList, AuthBegin,
                             PasswordChangeBegin, AuthAnswer, AccountCheck, SessionOpen,
                             SessionClose, MfaEnroll, MfaConfirm, MfaList, MfaRemove,
                             MfaRecoveryCodes, OidcClientAdd, OidcClientList, OidcClientShow,
                             OidcClientRemove, OidcRotateKeys, AccessKeyCreate, AccessKeyList,
                             AccessKeySetEnabled, AccessKeyDelete, PasskeyList, PasskeyRemove,
                             KeyEnrol, KeyEnrolFinish, RoleGrant, RoleRevoke,
                             RoleList, PhoneBind, PhoneVerify, AccountSwitch, RootRecover,
                             RootRemoveCredentials, RootAllowRecovery, RootAccessSet,
                             RootAccessShow, AccountClose, AccountRestoreAdmin,
                             AccountClearNetworks, NssLookup>;

// ---- responses --------------------------------------------------------------------------

struct HelloReply {
    static constexpr std::string_view type = "hello.reply";
    std::uint32_t version = protocol_version;
    std::string server;
};
BOOST_DESCRIBE_STRUCT(HelloReply, (), (version, server))

/// A request failed. `code` is a core::Errc value; `message` is for people and has no secret.
struct Failure {
    static constexpr std::string_view type = "failure";
    std::uint16_t code = 0;
    std::string error; ///< errc_name(code)
    std::string message;
};
BOOST_DESCRIBE_STRUCT(Failure, (), (code, error, message))

struct Done {
    static constexpr std::string_view type = "done";
    std::string message;
};
BOOST_DESCRIBE_STRUCT(Done, (), (message))

struct DirectoryReply {
    static constexpr std::string_view type = "directory";
    DirectoryInfo directory;
};
BOOST_DESCRIBE_STRUCT(DirectoryReply, (), (directory))

struct AccountReply {
    static constexpr std::string_view type = "account";
    AccountInfo account;
};
BOOST_DESCRIBE_STRUCT(AccountReply, (), (account))

struct AccountListReply {
    static constexpr std::string_view type = "account.list.reply";
    std::vector<AccountInfo> accounts;
};
BOOST_DESCRIBE_STRUCT(AccountListReply, (), (accounts))

struct UserReply {
    static constexpr std::string_view type = "user";
    UserInfo user;
    std::optional<core::Secret> generated_password; ///< shown once, after `--generate`
};
BOOST_DESCRIBE_STRUCT(UserReply, (), (user, generated_password))

struct UserListReply {
    static constexpr std::string_view type = "user.list.reply";
    std::vector<UserInfo> users;
};
BOOST_DESCRIBE_STRUCT(UserListReply, (), (users))

struct PolicyReply {
    static constexpr std::string_view type = "policy";
    std::string account;
    PasswordPolicy policy;
};
BOOST_DESCRIBE_STRUCT(PolicyReply, (), (account, policy))

struct SettingsReply {
    static constexpr std::string_view type = "settings";
    std::string account;
    SecuritySettings settings;
};
BOOST_DESCRIBE_STRUCT(SettingsReply, (), (account, settings))


/// The next step of a dialogue: messages to show, then either a prompt or the verdict.
struct AuthReply {
    static constexpr std::string_view type = "auth.reply";
    std::vector<Message> messages;
    std::optional<Prompt> prompt;
    std::optional<Verdict> verdict;
};
BOOST_DESCRIBE_STRUCT(AuthReply, (), (messages, prompt, verdict))

struct SessionReply {
    static constexpr std::string_view type = "session";
    std::string session_id;
};
BOOST_DESCRIBE_STRUCT(SessionReply, (), (session_id))

struct SessionListReply {
    static constexpr std::string_view type = "session.list.reply";
    std::vector<SessionInfo> sessions;
};
BOOST_DESCRIBE_STRUCT(SessionListReply, (), (sessions))

struct AuditListReply {
    static constexpr std::string_view type = "audit.list.reply";
    std::vector<AuditInfo> events;
};
BOOST_DESCRIBE_STRUCT(AuditListReply, (), (events))

/// The secret of an enrolment in progress, shown once: as an otpauth URI, as the base32 key
/// to type by hand, and as a QR code drawn for a terminal (one string a line).
struct MfaChallenge {
    static constexpr std::string_view type = "mfa.challenge";
    std::string user;  ///< logon name
    core::Secret uri;
    core::Secret key;  ///< base32
    std::vector<core::Secret> qr;
    std::uint32_t digits = 6;
    std::uint32_t period_s = 30;
};
BOOST_DESCRIBE_STRUCT(MfaChallenge, (), (user, uri, key, qr, digits, period_s))

/// A device activated, with its recovery codes: shown once, stored only as hashes.
struct MfaEnrolled {
    static constexpr std::string_view type = "mfa.enrolled";
    MfaDeviceInfo device;
    std::vector<core::Secret> recovery_codes;
};
BOOST_DESCRIBE_STRUCT(MfaEnrolled, (), (device, recovery_codes))

struct MfaListReply {
    static constexpr std::string_view type = "mfa.list.reply";
    std::vector<MfaDeviceInfo> devices;
};
BOOST_DESCRIBE_STRUCT(MfaListReply, (), (devices))

struct MfaRecoveryCodesReply {
    static constexpr std::string_view type = "mfa.recovery_codes.reply";
    std::string user;
    std::vector<core::Secret> recovery_codes;
};
BOOST_DESCRIBE_STRUCT(MfaRecoveryCodesReply, (), (user, recovery_codes))

struct OidcClientReply {
    static constexpr std::string_view type = "oidc.client";
    OidcClientInfo client;
    std::optional<core::Secret> secret; ///< only when added: shown once, stored hashed
};
BOOST_DESCRIBE_STRUCT(OidcClientReply, (), (client, secret))

struct OidcClientListReply {
    static constexpr std::string_view type = "oidc.client.list.reply";
    std::vector<OidcClientInfo> clients;
};
BOOST_DESCRIBE_STRUCT(OidcClientListReply, (), (clients))

struct AccessKeyReply {
    static constexpr std::string_view type = "accesskey";
    AccessKeyInfo key;
    std::optional<core::Secret> secret; ///< only when created: shown once, stored hashed
};
BOOST_DESCRIBE_STRUCT(AccessKeyReply, (), (key, secret))

struct AccessKeyListReply {
    static constexpr std::string_view type = "accesskey.list.reply";
    std::vector<AccessKeyInfo> keys;
};
BOOST_DESCRIBE_STRUCT(AccessKeyListReply, (), (keys))

struct PasskeyReply {
    static constexpr std::string_view type = "passkey.reply";
    PasskeyInfo passkey;
};
BOOST_DESCRIBE_STRUCT(PasskeyReply, (), (passkey))

struct PasskeyListReply {
    static constexpr std::string_view type = "passkey.list.reply";
    std::vector<PasskeyInfo> passkeys;
};
BOOST_DESCRIBE_STRUCT(PasskeyListReply, (), (passkeys))

struct RoleInfo {
    std::string user;          ///< logon name
    std::string account;
    std::string role;
    std::int64_t granted_at = 0;
    std::string granted_by;
    std::optional<std::int64_t> self_revoked_at; ///< inactive: revoked by its holder
};
BOOST_DESCRIBE_STRUCT(RoleInfo, (), (user, account, role, granted_at, granted_by, self_revoked_at))

struct RoleListReply {
    static constexpr std::string_view type = "role.list.reply";
    std::vector<RoleInfo> roles;
};
BOOST_DESCRIBE_STRUCT(RoleListReply, (), (roles))

struct RootAccessReply {
    static constexpr std::string_view type = "directory.root_access";
    bool enabled = false;
    std::vector<AccountInfo> members; ///< every member account, with its root's state
};
BOOST_DESCRIBE_STRUCT(RootAccessReply, (), (enabled, members))

/// A passwd entry (struct passwd): no password field, the gid is the user's own group's.
struct NssUser {
    std::string name;
    std::uint32_t uid = 0;
    std::uint32_t gid = 0;
    std::string gecos; ///< the display name, without ':' or control characters
    std::string home;
    std::string shell;
};
BOOST_DESCRIBE_STRUCT(NssUser, (), (name, uid, gid, gecos, home, shell))

/// A group entry (struct group).
struct NssGroup {
    std::string name;
    std::uint32_t gid = 0;
    std::vector<std::string> members;
};
BOOST_DESCRIBE_STRUCT(NssGroup, (), (name, gid, members))

/// The answer to an NssLookup: the entry asked for, or none (the name is no user or group of
/// this host's account); `gids` for groups_of.
struct NssReply {
    static constexpr std::string_view type = "nss.reply";
    std::optional<NssUser> user;
    std::optional<NssGroup> group;
    std::vector<std::uint32_t> gids;
};
BOOST_DESCRIBE_STRUCT(NssReply, (), (user, group, gids))

using Response = std::variant<HelloReply, Failure, Done, DirectoryReply, AccountReply,
                              AccountListReply, UserReply, UserListReply, PolicyReply,
                              SettingsReply, AuthReply, SessionReply, SessionListReply,
                              AuditListReply, MfaChallenge, MfaEnrolled, MfaListReply,
                              MfaRecoveryCodesReply, OidcClientReply, OidcClientListReply,
                              AccessKeyReply, AccessKeyListReply, PasskeyReply,
                              PasskeyListReply, KeyEnrolCeremony, RoleListReply, RootAccessReply,
                              NssReply>;

} // namespace latchkey::proto
