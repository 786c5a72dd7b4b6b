// SPDX-License-Identifier: Apache-2.0
// The schema's migrations, applied in order, each in its own transaction.
#include "storage/sqlite/migrations.hpp"

#include <array>
#include <string>

#include "storage/sqlite/sqlite.hpp"

namespace latchkey::sqlite {

namespace {

// Conventions: times are Unix seconds (INTEGER), ids the caller's UUID strings, booleans 0/1
// with a CHECK, std::uint32_t values an INTEGER with a CHECK so reading them back cannot
// overflow. Logon domains and account names are DNS names, hence COLLATE NOCASE: "Web" and
// "web" are the same account and cannot be given to two accounts.

// v1: the directory, its accounts with their logon domains, and users.
constexpr const char* schema_v1 = R"sql(
CREATE TABLE directory (
    id                    TEXT PRIMARY KEY NOT NULL,
    domain                TEXT NOT NULL CHECK (domain <> ''),
    -- Deferred: the directory and its management account are inserted in one transaction.
    management_account_id TEXT NOT NULL
                          REFERENCES accounts (id) DEFERRABLE INITIALLY DEFERRED,
    created_at            INTEGER NOT NULL,
    -- One directory per deployment.
    singleton             INTEGER NOT NULL DEFAULT 1 UNIQUE CHECK (singleton = 1)
);

CREATE TABLE accounts (
    id           TEXT PRIMARY KEY NOT NULL,
    directory_id TEXT NOT NULL REFERENCES directory (id),
    name         TEXT NOT NULL COLLATE NOCASE UNIQUE CHECK (name <> ''),
    kind         TEXT NOT NULL CHECK (kind IN ('management', 'resource', 'cloud')),
    created_at   INTEGER NOT NULL,

    -- proto::PasswordPolicy
    policy_min_length          INTEGER NOT NULL
                               CHECK (policy_min_length BETWEEN 0 AND 4294967295),
    policy_require_lowercase   INTEGER NOT NULL CHECK (policy_require_lowercase IN (0, 1)),
    policy_require_uppercase   INTEGER NOT NULL CHECK (policy_require_uppercase IN (0, 1)),
    policy_require_digit       INTEGER NOT NULL CHECK (policy_require_digit IN (0, 1)),
    policy_require_symbol      INTEGER NOT NULL CHECK (policy_require_symbol IN (0, 1)),
    policy_max_age_days        INTEGER NOT NULL
                               CHECK (policy_max_age_days BETWEEN 0 AND 4294967295),
    policy_history             INTEGER NOT NULL CHECK (policy_history BETWEEN 0 AND 4294967295),
    policy_max_failed_per_hour INTEGER NOT NULL
                               CHECK (policy_max_failed_per_hour BETWEEN 0 AND 4294967295),
    policy_hard_expiry         INTEGER NOT NULL CHECK (policy_hard_expiry IN (0, 1)),

    -- proto::SecuritySettings
    settings_allow_change_password INTEGER NOT NULL
                                   CHECK (settings_allow_change_password IN (0, 1)),
    settings_allow_passkey_logon   INTEGER NOT NULL
                                   CHECK (settings_allow_passkey_logon IN (0, 1)),
    settings_allow_manage_mfa      INTEGER NOT NULL CHECK (settings_allow_manage_mfa IN (0, 1)),
    settings_mfa_required          INTEGER NOT NULL CHECK (settings_mfa_required IN (0, 1)),
    settings_session_duration_s    INTEGER NOT NULL
                                   CHECK (settings_session_duration_s BETWEEN 0 AND 4294967295),
    -- A JSON array of CIDR strings; [] = anywhere.
    settings_allowed_networks      TEXT NOT NULL
                                   CHECK (json_valid(settings_allowed_networks)
                                          AND json_type(settings_allowed_networks) = 'array')
);

-- The directory has exactly one management account.
CREATE UNIQUE INDEX accounts_one_management ON accounts (kind) WHERE kind = 'management';

-- Every logon domain of every account, default and aliases, so that a domain can belong to
-- one account only: the primary key says so.
CREATE TABLE domains (
    domain     TEXT PRIMARY KEY NOT NULL COLLATE NOCASE CHECK (domain <> ''),
    account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    is_default INTEGER NOT NULL CHECK (is_default IN (0, 1))
);

CREATE INDEX domains_by_account ON domains (account_id);
CREATE UNIQUE INDEX domains_one_default ON domains (account_id) WHERE is_default = 1;

CREATE TABLE users (
    id              TEXT PRIMARY KEY NOT NULL,
    account_id      TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    name            TEXT NOT NULL CHECK (name <> ''),
    display_name    TEXT NOT NULL,
    console_logon   INTEGER NOT NULL CHECK (console_logon IN (0, 1)),
    password_hash   TEXT NOT NULL,             -- PHC string; '' = no password
    password_set_at INTEGER,
    require_change  INTEGER NOT NULL CHECK (require_change IN (0, 1)),
    created_at      INTEGER NOT NULL,
    UNIQUE (account_id, name)
);
)sql";

// v2: password history and the audit trail.
constexpr const char* schema_v2 = R"sql(
-- Replaced hashes; seq orders them (newest = highest) independently of clock changes.
CREATE TABLE password_history (
    seq     INTEGER PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    hash    TEXT NOT NULL,
    set_at  INTEGER                            -- when the replaced hash had been set
);

CREATE INDEX password_history_by_user ON password_history (user_id, seq);

-- Append-only. AUTOINCREMENT: a seq is never reused, so readers can resume from one.
CREATE TABLE audit (
    seq       INTEGER PRIMARY KEY AUTOINCREMENT,
    at        INTEGER NOT NULL,
    severity  INTEGER NOT NULL CHECK (severity BETWEEN 0 AND 3), -- directory::Severity
    event     TEXT NOT NULL,
    user_name TEXT,                            -- fields' "user", for filtering
    fields    TEXT NOT NULL CHECK (json_valid(fields) AND json_type(fields) = 'object')
);

CREATE INDEX audit_by_user ON audit (user_name, seq);
CREATE INDEX audit_by_at ON audit (at);
)sql";

// v3: lockout, logon failures, sessions.
constexpr const char* schema_v3 = R"sql(
-- NULL = not locked. A time in the past is as good as NULL: nothing has to clear it.
ALTER TABLE users ADD COLUMN locked_until INTEGER;

-- Failed logons, counted per user over a sliding window; rows older than the window are
-- deleted as new ones come in, so the table stays small.
CREATE TABLE logon_failures (
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    at      INTEGER NOT NULL
);

CREATE INDEX logon_failures_by_user ON logon_failures (user_id, at);

CREATE TABLE sessions (
    id             TEXT PRIMARY KEY NOT NULL,
    user_id        TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    service        TEXT NOT NULL,
    tty            TEXT,
    rhost          TEXT,
    pid            INTEGER NOT NULL,
    logind_session TEXT,
    logon_id       TEXT,
    method         TEXT,
    opened_at      INTEGER NOT NULL,
    closed_at      INTEGER                     -- NULL while open
);

-- Open sessions of a user, oldest first; closed ones (the bulk, over time) stay out of it.
CREATE INDEX sessions_open_by_user ON sessions (user_id, opened_at) WHERE closed_at IS NULL;
)sql";

// v4: second factors (TOTP devices, recovery codes) and the enrol-at-logon setting.
constexpr const char* schema_v4 = R"sql(
ALTER TABLE accounts ADD COLUMN settings_mfa_enrol_at_logon INTEGER NOT NULL DEFAULT 0
    CHECK (settings_mfa_enrol_at_logon IN (0, 1));

-- One TOTP device per user. The secret is sealed (AES-256-GCM, daemon/secret_box.hpp) with
-- the key file beside the database, base64 here; a copy of the database alone reveals nothing.
CREATE TABLE mfa_devices (
    id             TEXT PRIMARY KEY NOT NULL,
    user_id        TEXT NOT NULL UNIQUE REFERENCES users (id) ON DELETE CASCADE,
    sealed_secret  TEXT NOT NULL CHECK (sealed_secret <> ''),
    digits         INTEGER NOT NULL CHECK (digits BETWEEN 6 AND 8),
    period_s       INTEGER NOT NULL CHECK (period_s BETWEEN 1 AND 300),
    created_at     INTEGER NOT NULL,
    -- The highest time step accepted; a step at or below it is a replay. NULL = none yet.
    last_used_step INTEGER
);

-- Single-use recovery codes, kept as keyed hashes (HMAC-SHA256 under the same key file).
CREATE TABLE recovery_codes (
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    hash    TEXT NOT NULL,
    used_at INTEGER,                           -- NULL while unused
    PRIMARY KEY (user_id, hash)
);
)sql";

// v5: the OpenID Connect provider's signing keys and registered clients.
constexpr const char* schema_v5 = R"sql(
-- ID-token and access-token signing keys. The private key (PKCS#8 PEM) is sealed with the key
-- file, base64 here. A key signs until retired_at; it is published in the JWKS until
-- unpublish_at, when no token it signed can still be valid.
CREATE TABLE oidc_keys (
    kid          TEXT PRIMARY KEY NOT NULL,
    alg          TEXT NOT NULL CHECK (alg IN ('RS256', 'ES256', 'EdDSA')),
    sealed_pem   TEXT NOT NULL CHECK (sealed_pem <> ''),
    created_at   INTEGER NOT NULL,
    retired_at   INTEGER,                       -- NULL while it signs
    unpublish_at INTEGER                        -- NULL while it signs
);

CREATE TABLE oidc_clients (
    id                        TEXT PRIMARY KEY NOT NULL CHECK (id <> ''),
    name                      TEXT NOT NULL,
    -- Keyed hash of the secret (HMAC-SHA256 under the key file); '' for a public client.
    secret_hash               TEXT NOT NULL,
    public                    INTEGER NOT NULL CHECK (public IN (0, 1)),
    redirect_uris             TEXT NOT NULL CHECK (json_valid(redirect_uris)),
    post_logout_redirect_uris TEXT NOT NULL CHECK (json_valid(post_logout_redirect_uris)),
    backchannel_logout_uri    TEXT,
    scopes                    TEXT NOT NULL CHECK (json_valid(scopes)),
    id_token_alg              TEXT NOT NULL CHECK (id_token_alg IN ('RS256', 'ES256', 'EdDSA')),
    claims_in_id_token        INTEGER NOT NULL CHECK (claims_in_id_token IN (0, 1)),
    require_consent           INTEGER NOT NULL CHECK (require_consent IN (0, 1)),
    created_at                INTEGER NOT NULL,
    CHECK (public = 1 OR secret_hash <> '')
);
)sql";

// v6: access keys (seed 004): programmatic credentials of a user, used at the token endpoint.
constexpr const char* schema_v6 = R"sql(
CREATE TABLE access_keys (
    id           TEXT PRIMARY KEY NOT NULL CHECK (id <> ''),
    user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    secret_hash  TEXT NOT NULL CHECK (secret_hash <> ''), -- keyed hash, like client secrets
    enabled      INTEGER NOT NULL CHECK (enabled IN (0, 1)),
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER
);

CREATE INDEX access_keys_by_user ON access_keys (user_id);
)sql";

// v7: the OpenID Connect provider's browser sessions, refresh tokens, revoked access tokens,
// consents and the clients each session signed in to, so that they survive a restart and
// `latchkeyctl session list|end` sees browser sessions beside PAM's; and users' email addresses.
constexpr const char* schema_v7 = R"sql(
-- 'web' rows are single sign-on sessions of the sign-in pages: found by the hash of the
-- browser's cookie, never by the cookie itself, and ended at expires_at.
-- The address the `email` scope gives (set by an administrator, so not verified by latchkey).
ALTER TABLE users ADD COLUMN email TEXT;

ALTER TABLE sessions ADD COLUMN kind TEXT NOT NULL DEFAULT 'pam' CHECK (kind IN ('pam', 'web'));
ALTER TABLE sessions ADD COLUMN secret_hash TEXT;
ALTER TABLE sessions ADD COLUMN expires_at INTEGER;

CREATE UNIQUE INDEX sessions_by_secret ON sessions (secret_hash) WHERE secret_hash IS NOT NULL;

-- Refresh tokens by the hash of the token. A family is one chain of rotations; ending the
-- family (reuse, code replay, revocation) deletes its rows. A session's tokens go with it.
CREATE TABLE oidc_refresh_tokens (
    token_hash TEXT PRIMARY KEY NOT NULL CHECK (token_hash <> ''),
    family     TEXT NOT NULL CHECK (family <> ''),
    client_id  TEXT NOT NULL REFERENCES oidc_clients (id) ON DELETE CASCADE,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    scopes     TEXT NOT NULL CHECK (json_valid(scopes)),
    auth_time  INTEGER NOT NULL,
    method     TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    rotated_at INTEGER                      -- NULL until it is exchanged for the next one
);

CREATE INDEX oidc_refresh_by_family ON oidc_refresh_tokens (family);
CREATE INDEX oidc_refresh_by_session ON oidc_refresh_tokens (session_id);

-- Access tokens (JWTs) revoked before they expire, kept until then.
CREATE TABLE oidc_revoked_tokens (
    jti        TEXT PRIMARY KEY NOT NULL CHECK (jti <> ''),
    expires_at INTEGER NOT NULL
);

-- The clients a browser session signed in to: where back-channel logout goes when it ends.
CREATE TABLE oidc_session_clients (
    session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    client_id  TEXT NOT NULL REFERENCES oidc_clients (id) ON DELETE CASCADE,
    PRIMARY KEY (session_id, client_id)
);

-- What a user allowed a client that asks for consent.
CREATE TABLE oidc_consents (
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    client_id  TEXT NOT NULL REFERENCES oidc_clients (id) ON DELETE CASCADE,
    scopes     TEXT NOT NULL CHECK (json_valid(scopes)),
    granted_at INTEGER NOT NULL,
    PRIMARY KEY (user_id, client_id)
);
)sql";

// v8: the account lifecycle (seed 003): centralized root access, an account's bound phone,
// closing an account, the window for recovering root's password; administrators' roles; the
// verification codes sent to an account's phone and how many were sent each day.
constexpr const char* schema_v8 = R"sql(
-- Centralized root access: member accounts get no root credentials.
ALTER TABLE directory ADD COLUMN root_access_centralized INTEGER NOT NULL DEFAULT 0
    CHECK (root_access_centralized IN (0, 1));

-- The bound mobile phone (E.164), once verified; NULL = none.
ALTER TABLE accounts ADD COLUMN phone TEXT CHECK (phone <> '');
-- NULL while open; once set, nobody logs on and nothing changes.
ALTER TABLE accounts ADD COLUMN closed_at INTEGER;
-- Under centralized root access, root's password may be recovered until then; NULL = closed.
ALTER TABLE accounts ADD COLUMN recovery_open_until INTEGER;

-- Administrators' roles. A role its holder revoked from itself stays, inactive, with
-- self_revoked_at set (restoring it is a root-only task); an active role has it NULL.
CREATE TABLE roles (
    user_id         TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role            TEXT NOT NULL CHECK (role IN ('directory-admin', 'account-admin')),
    granted_at      INTEGER NOT NULL,
    granted_by      TEXT NOT NULL,             -- the actor, as in the audit
    self_revoked_at INTEGER,
    PRIMARY KEY (user_id, role)
);

-- The pending verification code of an account, one per purpose; only its keyed hash.
CREATE TABLE verification_codes (
    account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    purpose    TEXT NOT NULL CHECK (purpose IN ('phone_bind', 'root_recovery')),
    phone      TEXT NOT NULL CHECK (phone <> ''), -- where it was sent
    code_hash  TEXT NOT NULL CHECK (code_hash <> ''),
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    tries_left INTEGER NOT NULL CHECK (tries_left BETWEEN 0 AND 4294967295),
    PRIMARY KEY (account_id, purpose)
);

-- Codes sent to an account's phone per UTC day, for the daily limit; earlier days are deleted
-- as the next day's codes are counted, so an account has a row or two.
CREATE TABLE codes_sent (
    account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    day        TEXT NOT NULL CHECK (day GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'),
    count      INTEGER NOT NULL CHECK (count BETWEEN 0 AND 4294967295),
    PRIMARY KEY (account_id, day)
);
)sql";

// v9: the access tokens issued from each refresh-token family, so that revoking the family (a
// reused refresh token) revokes them too; kept until they expire.
constexpr const char* schema_v9 = R"sql(
CREATE TABLE oidc_family_access_tokens (
    jti        TEXT PRIMARY KEY NOT NULL CHECK (jti <> ''),
    family     TEXT NOT NULL CHECK (family <> ''),
    expires_at INTEGER NOT NULL
);

CREATE INDEX oidc_family_access_by_family ON oidc_family_access_tokens (family);
)sql";

// v10: passkeys (WebAuthn credentials), several per user, and each user's opaque user handle.
// Binary values are base64 (credential ids base64url, unpadded: they are unique and looked up).
constexpr const char* schema_v10 = R"sql(
CREATE TABLE passkeys (
    id              TEXT PRIMARY KEY NOT NULL CHECK (id <> ''),
    user_id         TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    credential_id   TEXT NOT NULL UNIQUE CHECK (length(credential_id) BETWEEN 2 AND 1364),
    public_key      TEXT NOT NULL CHECK (public_key <> ''),
    algorithm       INTEGER NOT NULL,
    sign_count      INTEGER NOT NULL CHECK (sign_count BETWEEN 0 AND 4294967295),
    aaguid          TEXT NOT NULL CHECK (length(aaguid) = 32),
    transports      TEXT NOT NULL,              -- JSON list of strings
    backup_eligible INTEGER NOT NULL CHECK (backup_eligible IN (0, 1)),
    backed_up       INTEGER NOT NULL CHECK (backed_up IN (0, 1)),
    user_verified   INTEGER NOT NULL CHECK (user_verified IN (0, 1)),
    attestation     TEXT NOT NULL,
    name            TEXT NOT NULL CHECK (name <> ''),
    created_at      INTEGER NOT NULL,
    last_used_at    INTEGER
);

CREATE INDEX passkeys_by_user ON passkeys (user_id, created_at);

CREATE TABLE user_handles (
    user_id TEXT PRIMARY KEY NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    handle  TEXT NOT NULL UNIQUE CHECK (handle <> '')
);
)sql";

// v11: which relying party each passkey is for: the web pages, or the directory's hosts (a
// security key at a console or for sudo). Every passkey before this one is a web passkey.
constexpr const char* schema_v11 = R"sql(
ALTER TABLE passkeys ADD COLUMN relying_party TEXT NOT NULL DEFAULT 'web'
    CHECK (relying_party IN ('web', 'host'));
)sql";

// v12: whether an account's remote PAM logons may be approved on the /device page
// (proto::DeviceApproval). Every account before this one keeps its logons as they were.
constexpr const char* schema_v12 = R"sql(
ALTER TABLE accounts ADD COLUMN settings_device_approval TEXT NOT NULL DEFAULT 'off'
    CHECK (settings_device_approval IN ('off', 'after_password', 'instead_of_password'));
)sql";

// v13: Unix ids. A user's uid (and the gid of its own group) is allocated once and kept; when
// the user is deleted, the trigger retires it, and a retired uid is never allocated again.
constexpr const char* schema_v13 = R"sql(
ALTER TABLE users ADD COLUMN uid INTEGER CHECK (uid IS NULL OR uid BETWEEN 1 AND 4294967294);
CREATE UNIQUE INDEX users_by_uid ON users (uid) WHERE uid IS NOT NULL;

CREATE TABLE retired_uids (
    uid        INTEGER PRIMARY KEY NOT NULL CHECK (uid BETWEEN 1 AND 4294967294),
    user_name  TEXT NOT NULL,
    retired_at INTEGER NOT NULL
);

CREATE TRIGGER users_retire_uid AFTER DELETE ON users WHEN OLD.uid IS NOT NULL
BEGIN
    INSERT OR IGNORE INTO retired_uids (uid, user_name, retired_at)
        VALUES (OLD.uid, OLD.name, CAST(strftime('%s', 'now') AS INTEGER));
END;
)sql";

// Unix users at the hosts (docs/nss.md): a user's own home directory and shell (NULL: the
// configured default), and the hosts' groups that are no user's own, numbered from the users'
// range.
constexpr const char* schema_v14 = R"sql(
ALTER TABLE users ADD COLUMN home TEXT;
ALTER TABLE users ADD COLUMN shell TEXT;

CREATE TABLE unix_groups (
    name TEXT PRIMARY KEY NOT NULL,
    gid  INTEGER NOT NULL UNIQUE CHECK (gid BETWEEN 1 AND 4294967294)
);
)sql";

// OAuth authorization codes in the store (issue 17), so that every node of a directory on
// PostgreSQL redeems a code at most once; SQLite keeps the same table so the store is one.
constexpr const char* schema_v15 = R"sql(
CREATE TABLE oidc_codes (
    code_hash      TEXT PRIMARY KEY NOT NULL CHECK (code_hash <> ''),
    client_id      TEXT NOT NULL REFERENCES oidc_clients (id) ON DELETE CASCADE,
    user_id        TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    session_id     TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    redirect_uri   TEXT NOT NULL,
    scopes         TEXT NOT NULL,               -- JSON array
    nonce          TEXT,
    code_challenge TEXT,
    auth_time      INTEGER NOT NULL,
    method         TEXT NOT NULL,
    expires_at     INTEGER NOT NULL,
    keep_until     INTEGER NOT NULL,
    used           INTEGER NOT NULL CHECK (used IN (0, 1)),
    family         TEXT
);
CREATE INDEX oidc_codes_by_keep_until ON oidc_codes (keep_until);

CREATE TABLE oidc_code_tokens (
    code_hash TEXT NOT NULL REFERENCES oidc_codes (code_hash) ON DELETE CASCADE,
    jti       TEXT NOT NULL,
    PRIMARY KEY (code_hash, jti)
);
)sql";

// Sign-ins on the pages and enrolments on the account page in the store (issue 17), so that a
// browser's next request may go to any node.
constexpr const char* schema_v16 = R"sql(
CREATE TABLE web_pending (
    kind       TEXT NOT NULL CHECK (kind IN ('sign_in', 'app_enrolment', 'passkey_registration')),
    key        TEXT NOT NULL CHECK (key <> ''),
    data       TEXT NOT NULL,               -- base64 of what the front door sealed
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (kind, key)
);
CREATE INDEX web_pending_by_expiry ON web_pending (expires_at);
)sql";

// migrations[i] takes the database from version i to i + 1.
constexpr std::array migrations{
    schema_v1, schema_v2,  schema_v3,  schema_v4,  schema_v5,  schema_v6,  schema_v7,  schema_v8,
    schema_v9, schema_v10, schema_v11, schema_v12, schema_v13, schema_v14, schema_v15, schema_v16};
static_assert(migrations.size() == latest_schema_version,
              "each schema version needs its migration");

core::Status set_version(sqlite3* db, std::uint32_t version)
{
    // PRAGMA takes no parameters; the value is our own integer.
    const std::string sql = "PRAGMA user_version = " + std::to_string(version);
    return exec(db, sql.c_str());
}

core::Status apply(sqlite3* db, std::uint32_t version)
{
    LATCHKEY_TRY(txn, Transaction::begin(db));
    // Another process may have migrated between our first look and taking the write lock.
    LATCHKEY_TRY(current, schema_version(db));
    if (current >= version)
        return {};
    if (current != version - 1)
        return core::fail(core::Errc::store_schema,
                          "database schema version " + std::to_string(current) +
                              " changed while migrating to " + std::to_string(version));
    if (auto applied = exec(db, migrations[version - 1]); !applied) {
        core::Error e = std::move(applied).error();
        e.message =
            "migration to schema version " + std::to_string(version) + " failed: " + e.message;
        return core::fail(std::move(e));
    }
    LATCHKEY_TRY_STATUS(set_version(db, version));
    return txn.commit();
}

} // namespace

core::Result<std::uint32_t> schema_version(sqlite3* db)
{
    LATCHKEY_TRY(stmt, Statement::prepare(db, "PRAGMA user_version"));
    LATCHKEY_TRY(row, stmt.step());
    if (!row)
        return core::fail(core::Errc::store_failed, "sqlite: PRAGMA user_version returned no row");
    const std::int64_t v = stmt.int64(0);
    // user_version is a signed 32-bit integer; negative values were not written by us.
    if (v < 0)
        return core::fail(core::Errc::store_schema,
                          "database schema version " + std::to_string(v) + " is not valid");
    return static_cast<std::uint32_t>(v);
}

core::Status migrate(sqlite3* db, std::uint32_t target)
{
    if (target > latest_schema_version)
        return core::fail(core::Errc::store_schema, "schema version " + std::to_string(target) +
                                                        " is unknown; the latest is " +
                                                        std::to_string(latest_schema_version));
    LATCHKEY_TRY(current, schema_version(db));
    if (current > latest_schema_version)
        return core::fail(core::Errc::store_schema,
                          "database schema version " + std::to_string(current) +
                              " is newer than this latchkey supports (" +
                              std::to_string(latest_schema_version) +
                              "); it was written by a newer latchkey, upgrade latchkey");
    for (std::uint32_t v = current + 1; v <= target; ++v)
        LATCHKEY_TRY_STATUS(apply(db, v));
    return {};
}

} // namespace latchkey::sqlite
