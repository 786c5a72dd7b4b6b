// SPDX-License-Identifier: Apache-2.0
// A thin RAII layer over the SQLite C API: owned handles, typed binding, transactions.
//
// Errors become core::Error values: a UNIQUE or PRIMARY KEY violation is Errc::already_exists,
// anything else Errc::store_failed, both carrying sqlite3_errmsg(). Bound values never appear
// in a message (they may be password hashes), and SQL text is built only from constants, so
// what SQLite reports names tables and columns, not data.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include <sqlite3.h>

#include "core/c_handle.hpp"
#include "core/result.hpp"

namespace latchkey::sqlite {

using SqliteDb = std::unique_ptr<sqlite3, core::CFree<sqlite3_close_v2>>;
using SqliteStmt = std::unique_ptr<sqlite3_stmt, core::CFree<sqlite3_finalize>>;

/// The error for a failed call on `db` that returned `rc`: already_exists for UNIQUE and
/// PRIMARY KEY violations, store_failed otherwise; the message is sqlite3_errmsg(db).
core::Error sqlite_error(sqlite3* db, int rc);

/// Runs SQL without parameters (pragmas, schema). Several statements may be given.
core::Status exec(sqlite3* db, const char* sql);

/// One prepared statement. Parameters are numbered from 1, columns from 0.
class Statement {
public:
    /// store_failed if the SQL does not compile (e.g. a table the schema lacks).
    static core::Result<Statement> prepare(sqlite3* db, std::string_view sql);

    /// Binds parameter `index` (from 1). Text is copied.
    core::Status bind_int64(int index, std::int64_t value);
    core::Status bind_text(int index, std::string_view value);
    core::Status bind_null(int index);

    /// Advances: true when a row is ready to be read, false when the statement is done.
    core::Result<bool> step();

    /// Makes the statement ready to run again; bindings are kept.
    void reset() noexcept;

    /// The result code of the last step() (SQLITE_ROW, SQLITE_DONE or an extended error code),
    /// for a caller that turns a particular constraint into a particular error.
    [[nodiscard]] int last_code() const noexcept { return last_code_; }

    /// Rows changed by the last INSERT, UPDATE or DELETE on this connection.
    [[nodiscard]] std::int64_t changes() const noexcept;

    [[nodiscard]] bool is_null(int column) const noexcept;
    [[nodiscard]] std::int64_t int64(int column) const noexcept;

    [[nodiscard]] bool boolean(int column) const noexcept { return int64(column) != 0; }

    /// NULL reads as "".
    [[nodiscard]] std::string text(int column) const;
    [[nodiscard]] std::optional<std::int64_t> optional_int64(int column) const noexcept;
    [[nodiscard]] std::optional<std::string> optional_text(int column) const;

    [[nodiscard]] sqlite3_stmt* get() const noexcept { return stmt_.get(); }

private:
    Statement(sqlite3* db, SqliteStmt stmt) noexcept
        : db_(db)
        , stmt_(std::move(stmt))
    {
    }

    core::Status check_bind(int index, int rc);

    sqlite3* db_;
    SqliteStmt stmt_;
    int last_code_ = SQLITE_OK;
};

/// A transaction that rolls back when it goes out of scope uncommitted.
///
/// Writers use `immediate` (BEGIN IMMEDIATE): the write lock is taken up front, so a busy
/// database makes begin() wait (busy_timeout) instead of failing halfway through.
/// Multi-statement reads use `deferred` for a consistent snapshot.
class Transaction {
public:
    enum class Mode : std::uint8_t { immediate, deferred };

    static core::Result<Transaction> begin(sqlite3* db, Mode mode = Mode::immediate);

    Transaction(const Transaction&) = delete;
    Transaction& operator=(const Transaction&) = delete;

    Transaction(Transaction&& other) noexcept
        : db_(std::exchange(other.db_, nullptr))
    {
    }

    Transaction& operator=(Transaction&&) = delete;

    ~Transaction();

    /// On failure the transaction is still open and rolls back on destruction.
    core::Status commit();

private:
    explicit Transaction(sqlite3* db) noexcept
        : db_(db)
    {
    }

    sqlite3* db_; ///< null once committed or moved from
};

} // namespace latchkey::sqlite
