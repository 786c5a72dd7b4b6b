// SPDX-License-Identifier: Apache-2.0
// SqliteStore: the embedded Store, one SQLite database file in WAL mode.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "core/result.hpp"
#include "storage/sql/store.hpp"
#include "storage/sqlite/migrations.hpp"

namespace latchkey::sqlite {

/// The SQL store on one connection that a mutex lends to one thread at a time, so calls from
/// several threads are serialised. Other processes may share the file (WAL, busy_timeout 5 s).
class SqliteStore final : public sql::SqlStore {
public:
    /// Opens the database at `path`, creating it with mode 0600 if it does not exist (its
    /// directory must exist), and migrates it to `target_schema_version` (tests pass an older
    /// version to build an old database). Errors: store_failed (cannot create or open, directory
    /// missing), store_schema (the file was written by a newer latchkey). Messages do not repeat
    /// `path`: the caller adds it.
    static core::Result<std::unique_ptr<SqliteStore>>
    open(const std::string& path, std::uint32_t target_schema_version = latest_schema_version);

private:
    using SqlStore::SqlStore;
};

} // namespace latchkey::sqlite
