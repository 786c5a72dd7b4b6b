// SPDX-License-Identifier: Apache-2.0
// SqliteStore: opening the file (mode 0600, WAL, foreign keys) and migrating it; the store
// itself is storage/sql/.
#include "storage/sqlite/sqlite_store.hpp"

#include <cerrno>
#include <filesystem>
#include <memory>
#include <string_view>
#include <system_error>

#include <fcntl.h>

#include "core/c_handle.hpp"
#include "storage/sqlite/migrations.hpp"
#include "storage/sqlite/sqlite.hpp"
#include "storage/sqlite/sqlite_connection.hpp"

namespace latchkey::sqlite {

namespace {

using core::Errc;

std::string quote(std::string_view s)
{
    std::string q = "'";
    q += s;
    q += '\'';
    return q;
}

// ---- opening ----------------------------------------------------------------------------

/// Creates the file with mode 0600 before SQLite sees it: SQLite would use 0644, and gives its
/// -wal and -shm files the database's mode, so this keeps all three private.
core::Status create_private_file(const std::string& path)
{
    const core::UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
    if (fd.valid())
        return {};
    const int err = errno;
    if (err == ENOENT) {
        auto dir = std::filesystem::path(path).parent_path().string();
        if (dir.empty())
            dir = ".";
        return core::fail(Errc::store_failed, "cannot create the database file: directory " +
                                                  quote(dir) + " does not exist");
    }
    return core::fail(Errc::store_failed,
                      "cannot create or open the database file: " +
                          std::error_code(err, std::system_category()).message());
}

core::Result<std::string> pragma_value(sqlite3* db, std::string_view sql)
{
    LATCHKEY_TRY(stmt, Statement::prepare(db, sql));
    LATCHKEY_TRY(row, stmt.step());
    return row ? stmt.text(0) : std::string();
}

core::Status configure(sqlite3* db)
{
    // First, so that switching to WAL also waits for other connections.
    LATCHKEY_TRY_STATUS(exec(db, "PRAGMA busy_timeout = 5000"));
    LATCHKEY_TRY(mode, pragma_value(db, "PRAGMA journal_mode = WAL"));
    if (mode != "wal")
        return core::fail(Errc::store_failed,
                          "cannot use write-ahead logging (journal mode is " + quote(mode) + ")");
    LATCHKEY_TRY_STATUS(exec(db, "PRAGMA foreign_keys = ON"));
    LATCHKEY_TRY(fk, pragma_value(db, "PRAGMA foreign_keys"));
    if (fk != "1")
        return core::fail(Errc::store_failed, "this SQLite does not enforce foreign keys");
    // NORMAL is durable in WAL mode except for the last commits before a power loss.
    return exec(db, "PRAGMA synchronous = NORMAL");
}

} // namespace

core::Result<std::unique_ptr<SqliteStore>> SqliteStore::open(const std::string& path,
                                                             std::uint32_t target_schema_version)
{
    if (path.empty())
        return core::fail(Errc::invalid_argument, "the database path is empty");
    LATCHKEY_TRY_STATUS(create_private_file(path));
    sqlite3* raw = nullptr;
    // NOMUTEX: the pool's mutex serialises every use of the connection.
    const int rc =
        sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr);
    SqliteDb db(raw);
    if (rc != SQLITE_OK)
        return core::fail(sqlite_error(db.get(), rc));
    sqlite3_extended_result_codes(db.get(), 1);
    LATCHKEY_TRY_STATUS(configure(db.get()));
    LATCHKEY_TRY_STATUS(migrate(db.get(), target_schema_version));
    return std::unique_ptr<SqliteStore>(
        new SqliteStore(std::make_unique<SqlitePool>(std::move(db))));
}

} // namespace latchkey::sqlite
