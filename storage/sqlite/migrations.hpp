// SPDX-License-Identifier: Apache-2.0
// The SQLite schema, as numbered migrations recorded in `PRAGMA user_version`.
//
// Migration N takes a database from version N-1 to N, in its own transaction, so a failure
// leaves the database at the last version that completed. Migrations are never edited once
// released: a schema change is a new migration and a bump of latest_schema_version.
#pragma once

#include <cstdint>

#include <sqlite3.h>

#include "core/result.hpp"

namespace latchkey::sqlite {

/// 1: directory, accounts (with policy and settings), domains, users.
/// 2: password_history, audit.
/// 3: users.locked_until, logon_failures, sessions.
/// 4: accounts.settings_mfa_enrol_at_logon, mfa_devices, recovery_codes.
/// 5: oidc_keys, oidc_clients. 6: access_keys.
/// 7: OIDC browser sessions, refresh tokens, consents; users.email.
/// 8: directory.root_access_centralized; accounts.phone, closed_at, recovery_open_until;
///    roles, verification_codes, codes_sent.
inline constexpr std::uint32_t latest_schema_version = 16;

/// The database's `PRAGMA user_version` (0 for a new, empty database).
core::Result<std::uint32_t> schema_version(sqlite3* db);

/// Applies the migrations after the database's version, up to and including `target`. A
/// database already at or past `target` is left alone (there are no downgrades).
/// Errors: store_schema if the database is newer than latest_schema_version (written by a newer
/// latchkey) or `target` is beyond it; store_failed if a migration fails.
core::Status migrate(sqlite3* db, std::uint32_t target = latest_schema_version);

} // namespace latchkey::sqlite
