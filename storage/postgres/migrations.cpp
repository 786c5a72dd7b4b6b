// SPDX-License-Identifier: Apache-2.0
// PostgreSQL schema migrations.
#include "storage/postgres/migrations.hpp"

#include <array>
#include <string>

namespace latchkey::postgres {

namespace {

using core::Errc;

// Times are Unix seconds (BIGINT), as the SQLite schema keeps them; ids are our UUIDs as text.
// The store's SQL (storage/sql/) is shared with SQLite, so this schema mirrors SQLite's: a
// `rowid` column (insertion order) where the store orders by SQLite's implicit one, account
// names and domains compared without regard to case (SQLite's COLLATE NOCASE), and the
// uniqueness rules the store tells apart named as SQLite names them ("accounts.name").
constexpr const char* schema_v1 = R"sql(
CREATE COLLATION latchkey_nocase (provider = icu, locale = 'und-u-ks-level2',
                                  deterministic = false);

CREATE TABLE directory (
    id                      TEXT PRIMARY KEY,
    domain                  TEXT NOT NULL CHECK (domain <> ''),
    management_account_id   TEXT NOT NULL,
    created_at              BIGINT NOT NULL,
    root_access_centralized BOOLEAN NOT NULL DEFAULT false,
    -- One directory per deployment.
    singleton               BOOLEAN NOT NULL DEFAULT true UNIQUE CHECK (singleton)
);

CREATE TABLE accounts (
    id           TEXT PRIMARY KEY,
    directory_id TEXT NOT NULL REFERENCES directory (id),
    name         TEXT NOT NULL COLLATE latchkey_nocase CHECK (name <> ''),
    kind         TEXT NOT NULL CHECK (kind IN ('management', 'resource', 'cloud')),
    created_at   BIGINT NOT NULL,
    policy_min_length          BIGINT NOT NULL CHECK (policy_min_length BETWEEN 0 AND 4294967295),
    policy_require_lowercase   BOOLEAN NOT NULL,
    policy_require_uppercase   BOOLEAN NOT NULL,
    policy_require_digit       BOOLEAN NOT NULL,
    policy_require_symbol      BOOLEAN NOT NULL,
    policy_max_age_days        BIGINT NOT NULL CHECK (policy_max_age_days BETWEEN 0 AND 4294967295),
    policy_history             BIGINT NOT NULL CHECK (policy_history BETWEEN 0 AND 4294967295),
    policy_max_failed_per_hour BIGINT NOT NULL
                               CHECK (policy_max_failed_per_hour BETWEEN 0 AND 4294967295),
    policy_hard_expiry         BOOLEAN NOT NULL,
    settings_allow_change_password BOOLEAN NOT NULL,
    settings_allow_passkey_logon   BOOLEAN NOT NULL,
    settings_allow_manage_mfa      BOOLEAN NOT NULL,
    settings_mfa_required          BOOLEAN NOT NULL,
    settings_mfa_enrol_at_logon    BOOLEAN NOT NULL DEFAULT false,
    settings_session_duration_s    BIGINT NOT NULL
                                   CHECK (settings_session_duration_s BETWEEN 0 AND 4294967295),
    -- CIDR strings; [] = anywhere.
    settings_allowed_networks      JSONB NOT NULL
                                   CHECK (jsonb_typeof(settings_allowed_networks) = 'array'),
    settings_device_approval       TEXT NOT NULL DEFAULT 'off'
        CHECK (settings_device_approval IN ('off', 'after_password', 'instead_of_password')),
    phone               TEXT CHECK (phone <> ''),
    closed_at           BIGINT,
    recovery_open_until BIGINT
);
CREATE UNIQUE INDEX "accounts.name" ON accounts (name);
CREATE UNIQUE INDEX "accounts.kind" ON accounts (kind) WHERE kind = 'management';

-- The directory and its management account are inserted in one transaction.
ALTER TABLE directory ADD FOREIGN KEY (management_account_id) REFERENCES accounts (id)
    DEFERRABLE INITIALLY DEFERRED;

CREATE TABLE domains (
    domain     TEXT PRIMARY KEY COLLATE latchkey_nocase CHECK (domain <> ''),
    account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    is_default BOOLEAN NOT NULL,
    rowid      BIGINT GENERATED ALWAYS AS IDENTITY
);
CREATE INDEX domains_by_account ON domains (account_id);
CREATE UNIQUE INDEX domains_one_default ON domains (account_id) WHERE is_default;

CREATE TABLE users (
    id              TEXT PRIMARY KEY,
    account_id      TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    name            TEXT NOT NULL CHECK (name <> ''),
    display_name    TEXT NOT NULL,
    console_logon   BOOLEAN NOT NULL,
    password_hash   TEXT NOT NULL,             -- PHC string; '' = no password
    password_set_at BIGINT,
    require_change  BOOLEAN NOT NULL,
    created_at      BIGINT NOT NULL,
    locked_until    BIGINT,
    email           TEXT,
    -- Never 0: no directory user is ever root.
    uid             BIGINT CHECK (uid BETWEEN 1 AND 4294967294),
    home            TEXT,
    shell           TEXT,
    CONSTRAINT "users.name" UNIQUE (account_id, name)
);
CREATE UNIQUE INDEX users_by_uid ON users (uid) WHERE uid IS NOT NULL;

CREATE TABLE retired_uids (
    uid        BIGINT PRIMARY KEY CHECK (uid BETWEEN 1 AND 4294967294),
    user_name  TEXT NOT NULL,
    retired_at BIGINT NOT NULL
);

CREATE FUNCTION users_retire_uid() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO retired_uids (uid, user_name, retired_at)
        VALUES (OLD.uid, OLD.name, extract(epoch FROM now())::bigint)
        ON CONFLICT DO NOTHING;
    RETURN OLD;
END;
$$;
CREATE TRIGGER users_retire_uid AFTER DELETE ON users
    FOR EACH ROW WHEN (OLD.uid IS NOT NULL) EXECUTE FUNCTION users_retire_uid();

CREATE TABLE unix_groups (
    name TEXT PRIMARY KEY,
    gid  BIGINT NOT NULL UNIQUE CHECK (gid BETWEEN 1 AND 4294967294)
);

CREATE TABLE password_history (
    seq     BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    hash    TEXT NOT NULL,
    set_at  BIGINT                             -- when the replaced hash had been set
);
CREATE INDEX password_history_by_user ON password_history (user_id, seq);

CREATE TABLE audit (
    seq       BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at        BIGINT NOT NULL,
    severity  INTEGER NOT NULL CHECK (severity BETWEEN 0 AND 3), -- directory::Severity
    event     TEXT NOT NULL,
    user_name TEXT,                            -- fields' "user", for filtering
    fields    JSONB NOT NULL CHECK (jsonb_typeof(fields) = 'object')
);
CREATE INDEX audit_by_user ON audit (user_name, seq);
CREATE INDEX audit_by_at ON audit (at);

CREATE TABLE logon_failures (
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    at      BIGINT NOT NULL
);
CREATE INDEX logon_failures_by_user ON logon_failures (user_id, at);

CREATE TABLE sessions (
    id             TEXT PRIMARY KEY,
    user_id        TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    service        TEXT NOT NULL,
    tty            TEXT,
    rhost          TEXT,
    pid            BIGINT NOT NULL,
    logind_session TEXT,
    logon_id       TEXT,
    method         TEXT,
    opened_at      BIGINT NOT NULL,
    closed_at      BIGINT,                     -- NULL while open
    kind           TEXT NOT NULL DEFAULT 'pam' CHECK (kind IN ('pam', 'web')),
    secret_hash    TEXT,
    expires_at     BIGINT,
    rowid          BIGINT GENERATED ALWAYS AS IDENTITY
);
CREATE INDEX sessions_open_by_user ON sessions (user_id, opened_at) WHERE closed_at IS NULL;
CREATE UNIQUE INDEX sessions_by_secret ON sessions (secret_hash) WHERE secret_hash IS NOT NULL;

CREATE TABLE mfa_devices (
    id             TEXT PRIMARY KEY,
    user_id        TEXT NOT NULL UNIQUE REFERENCES users (id) ON DELETE CASCADE,
    sealed_secret  TEXT NOT NULL CHECK (sealed_secret <> ''),
    digits         INTEGER NOT NULL CHECK (digits BETWEEN 6 AND 8),
    period_s       INTEGER NOT NULL CHECK (period_s BETWEEN 1 AND 300),
    created_at     BIGINT NOT NULL,
    -- The highest time step accepted; a step at or below it is a replay. NULL = none yet.
    last_used_step BIGINT
);

CREATE TABLE recovery_codes (
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    hash    TEXT NOT NULL,
    used_at BIGINT,                            -- NULL while unused
    PRIMARY KEY (user_id, hash)
);

CREATE TABLE oidc_keys (
    kid          TEXT PRIMARY KEY,
    alg          TEXT NOT NULL CHECK (alg IN ('RS256', 'ES256', 'EdDSA')),
    sealed_pem   TEXT NOT NULL CHECK (sealed_pem <> ''),
    created_at   BIGINT NOT NULL,
    retired_at   BIGINT,                       -- NULL while it signs
    unpublish_at BIGINT,
    rowid        BIGINT GENERATED ALWAYS AS IDENTITY
);

CREATE TABLE oidc_clients (
    id                        TEXT PRIMARY KEY CHECK (id <> ''),
    name                      TEXT NOT NULL,
    -- Keyed hash of the secret (HMAC-SHA256 under the key file); '' for a public client.
    secret_hash               TEXT NOT NULL,
    public                    BOOLEAN NOT NULL,
    redirect_uris             JSONB NOT NULL,
    post_logout_redirect_uris JSONB NOT NULL,
    backchannel_logout_uri    TEXT,
    scopes                    JSONB NOT NULL,
    id_token_alg              TEXT NOT NULL CHECK (id_token_alg IN ('RS256', 'ES256', 'EdDSA')),
    claims_in_id_token        BOOLEAN NOT NULL,
    require_consent           BOOLEAN NOT NULL,
    created_at                BIGINT NOT NULL,
    CHECK (public OR secret_hash <> '')
);

CREATE TABLE access_keys (
    id           TEXT PRIMARY KEY CHECK (id <> ''),
    user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    secret_hash  TEXT NOT NULL CHECK (secret_hash <> ''), -- keyed hash, like client secrets
    enabled      BOOLEAN NOT NULL,
    created_at   BIGINT NOT NULL,
    last_used_at BIGINT,
    rowid        BIGINT GENERATED ALWAYS AS IDENTITY
);
CREATE INDEX access_keys_by_user ON access_keys (user_id);

CREATE TABLE oidc_refresh_tokens (
    token_hash TEXT PRIMARY KEY CHECK (token_hash <> ''),
    family     TEXT NOT NULL CHECK (family <> ''),
    client_id  TEXT NOT NULL REFERENCES oidc_clients (id) ON DELETE CASCADE,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    scopes     JSONB NOT NULL,
    auth_time  BIGINT NOT NULL,
    method     TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    rotated_at BIGINT                          -- NULL until exchanged for the next one
);
CREATE INDEX oidc_refresh_by_family ON oidc_refresh_tokens (family);
CREATE INDEX oidc_refresh_by_session ON oidc_refresh_tokens (session_id);

CREATE TABLE oidc_revoked_tokens (
    jti        TEXT PRIMARY KEY CHECK (jti <> ''),
    expires_at BIGINT NOT NULL
);

CREATE TABLE oidc_family_access_tokens (
    jti        TEXT PRIMARY KEY CHECK (jti <> ''),
    family     TEXT NOT NULL CHECK (family <> ''),
    expires_at BIGINT NOT NULL
);
CREATE INDEX oidc_family_access_by_family ON oidc_family_access_tokens (family);

CREATE TABLE oidc_session_clients (
    session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    client_id  TEXT NOT NULL REFERENCES oidc_clients (id) ON DELETE CASCADE,
    PRIMARY KEY (session_id, client_id)
);

CREATE TABLE oidc_consents (
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    client_id  TEXT NOT NULL REFERENCES oidc_clients (id) ON DELETE CASCADE,
    scopes     JSONB NOT NULL,
    granted_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, client_id)
);

CREATE TABLE roles (
    user_id         TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role            TEXT NOT NULL CHECK (role IN ('directory-admin', 'account-admin')),
    granted_at      BIGINT NOT NULL,
    granted_by      TEXT NOT NULL,             -- the actor, as in the audit
    self_revoked_at BIGINT,
    PRIMARY KEY (user_id, role)
);

CREATE TABLE verification_codes (
    account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    purpose    TEXT NOT NULL CHECK (purpose IN ('phone_bind', 'root_recovery')),
    phone      TEXT NOT NULL CHECK (phone <> ''), -- where it was sent
    code_hash  TEXT NOT NULL CHECK (code_hash <> ''),
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    tries_left BIGINT NOT NULL CHECK (tries_left BETWEEN 0 AND 4294967295),
    PRIMARY KEY (account_id, purpose)
);

CREATE TABLE codes_sent (
    account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    day        TEXT NOT NULL CHECK (day ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$'),
    count      BIGINT NOT NULL CHECK (count BETWEEN 0 AND 4294967295),
    PRIMARY KEY (account_id, day)
);

CREATE TABLE passkeys (
    id              TEXT PRIMARY KEY CHECK (id <> ''),
    user_id         TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    credential_id   TEXT NOT NULL UNIQUE CHECK (length(credential_id) BETWEEN 2 AND 1364),
    public_key      TEXT NOT NULL CHECK (public_key <> ''),
    algorithm       INTEGER NOT NULL,
    sign_count      BIGINT NOT NULL CHECK (sign_count BETWEEN 0 AND 4294967295),
    aaguid          TEXT NOT NULL CHECK (length(aaguid) = 32),
    transports      JSONB NOT NULL,
    backup_eligible BOOLEAN NOT NULL,
    backed_up       BOOLEAN NOT NULL,
    user_verified   BOOLEAN NOT NULL,
    attestation     TEXT NOT NULL,
    name            TEXT NOT NULL CHECK (name <> ''),
    created_at      BIGINT NOT NULL,
    last_used_at    BIGINT,
    relying_party   TEXT NOT NULL DEFAULT 'web' CHECK (relying_party IN ('web', 'host'))
);
CREATE INDEX passkeys_by_user ON passkeys (user_id, created_at);

CREATE TABLE user_handles (
    user_id TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    handle  TEXT NOT NULL UNIQUE CHECK (handle <> '')
);
)sql";

// OAuth authorization codes in the store: redeemable once across every node (SQLite's v15).
constexpr const char* schema_v2 = R"sql(
CREATE TABLE oidc_codes (
    code_hash      TEXT PRIMARY KEY CHECK (code_hash <> ''),
    client_id      TEXT NOT NULL REFERENCES oidc_clients (id) ON DELETE CASCADE,
    user_id        TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    session_id     TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    redirect_uri   TEXT NOT NULL,
    scopes         JSONB NOT NULL,
    nonce          TEXT,
    code_challenge TEXT,
    auth_time      BIGINT NOT NULL,
    method         TEXT NOT NULL,
    expires_at     BIGINT NOT NULL,
    keep_until     BIGINT NOT NULL,
    used           BOOLEAN NOT NULL,
    family         TEXT
);
CREATE INDEX oidc_codes_by_keep_until ON oidc_codes (keep_until);

CREATE TABLE oidc_code_tokens (
    code_hash TEXT NOT NULL REFERENCES oidc_codes (code_hash) ON DELETE CASCADE,
    jti       TEXT NOT NULL,
    PRIMARY KEY (code_hash, jti)
);
)sql";

// Sign-ins on the pages and enrolments on the account page, for any node to continue.
constexpr const char* schema_v3 = R"sql(
CREATE TABLE web_pending (
    kind       TEXT NOT NULL CHECK (kind IN ('sign_in', 'app_enrolment', 'passkey_registration')),
    key        TEXT NOT NULL CHECK (key <> ''),
    data       TEXT NOT NULL,               -- base64 of what the front door sealed
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (kind, key)
);
CREATE INDEX web_pending_by_expiry ON web_pending (expires_at);
)sql";

// migrations[i] takes the database from version i to i + 1.
constexpr std::array migrations{schema_v1, schema_v2, schema_v3};
static_assert(migrations.size() == latest_schema_version,
              "each schema version needs its migration");

core::Status ensure_version_table(Connection& c)
{
    return c.exec("CREATE TABLE IF NOT EXISTS latchkey_schema ("
                  "version INTEGER NOT NULL, singleton BOOLEAN NOT NULL DEFAULT true UNIQUE "
                  "CHECK (singleton))");
}

core::Result<std::uint32_t> read_version(Connection& c)
{
    LATCHKEY_TRY(rows, c.query("SELECT version FROM latchkey_schema"));
    if (rows.size() == 0)
        return std::uint32_t{0};
    const auto v = rows.int64(0, 0);
    if (v < 0)
        return core::fail(Errc::store_schema,
                          "database schema version " + std::to_string(v) + " is not valid");
    return static_cast<std::uint32_t>(v);
}

} // namespace

core::Result<std::uint32_t> schema_version(Connection& c)
{
    LATCHKEY_TRY(exists, c.query("SELECT to_regclass('latchkey_schema') IS NOT NULL"));
    if (!exists.boolean(0, 0))
        return std::uint32_t{0};
    return read_version(c);
}

core::Status migrate(Connection& c, std::uint32_t target)
{
    if (target > latest_schema_version)
        return core::fail(Errc::store_schema, "schema version " + std::to_string(target) +
                                                  " is unknown; the latest is " +
                                                  std::to_string(latest_schema_version));
    LATCHKEY_TRY(txn, Transaction::begin(c));
    // Held until the transaction ends: a node starting at the same moment waits here, then
    // finds the schema already at the target.
    LATCHKEY_TRY_STATUS(c.query("SELECT pg_advisory_xact_lock($1)", params(migration_lock)));
    LATCHKEY_TRY_STATUS(ensure_version_table(c));
    LATCHKEY_TRY(current, read_version(c));
    if (current > latest_schema_version)
        return core::fail(Errc::store_schema,
                          "database schema version " + std::to_string(current) +
                              " is newer than this latchkey supports (" +
                              std::to_string(latest_schema_version) +
                              "); it was written by a newer latchkey, upgrade latchkey");
    for (std::uint32_t v = current + 1; v <= target; ++v) {
        if (auto applied = c.exec(migrations[v - 1]); !applied) {
            core::Error e = std::move(applied).error();
            e.message =
                "migration to schema version " + std::to_string(v) + " failed: " + e.message;
            return core::fail(std::move(e));
        }
    }
    if (target > current) {
        LATCHKEY_TRY_STATUS(c.query("DELETE FROM latchkey_schema"));
        LATCHKEY_TRY_STATUS(
            c.query("INSERT INTO latchkey_schema (version) VALUES ($1)", params(target)));
    }
    return txn.commit();
}

} // namespace latchkey::postgres
