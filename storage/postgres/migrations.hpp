// SPDX-License-Identifier: Apache-2.0
// The PostgreSQL schema: its own numbered migrations (not SQLite's; the two engines share the
// Store interface and its test suite, not SQL). Version 1 holds everything SQLite's version 14
// does.
//
// Nodes that start together migrate once: migrate() runs in one transaction that first takes
// a transaction-scoped advisory lock, so a second node waits, then finds the work done.
#pragma once

#include <cstdint>

#include "core/result.hpp"
#include "storage/postgres/pg.hpp"

namespace latchkey::postgres {

inline constexpr std::uint32_t latest_schema_version = 3;

/// The advisory lock key migrations take ("latchkey" in ASCII).
inline constexpr std::int64_t migration_lock = 0x6c617463686b6579;

/// The version the database is at; 0 for an empty database.
core::Result<std::uint32_t> schema_version(Connection& c);

/// Brings the database to `target`. store_schema when the database is newer than this
/// latchkey knows (written by a newer one): it is never touched then.
core::Status migrate(Connection& c, std::uint32_t target = latest_schema_version);

} // namespace latchkey::postgres
