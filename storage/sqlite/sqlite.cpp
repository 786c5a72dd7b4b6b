// SPDX-License-Identifier: Apache-2.0
// The SQLite RAII layer: error mapping, statements and transactions.
#include "storage/sqlite/sqlite.hpp"

#include <limits>

namespace latchkey::sqlite {

core::Error sqlite_error(sqlite3* db, int rc)
{
    const bool duplicate = rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY;
    // sqlite3_errmsg() describes the last call on `db`; fall back to the code's own text for a
    // null handle (sqlite3_open_v2 out of memory).
    std::string message = "sqlite: ";
    message += db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    return {duplicate ? core::Errc::already_exists : core::Errc::store_failed, std::move(message)};
}

core::Status exec(sqlite3* db, const char* sql)
{
    const int rc = sqlite3_exec(db, sql, nullptr, nullptr, nullptr);
    if (rc != SQLITE_OK)
        return core::fail(sqlite_error(db, sqlite3_extended_errcode(db)));
    return {};
}

core::Result<Statement> Statement::prepare(sqlite3* db, std::string_view sql)
{
    if (sql.size() > static_cast<std::size_t>(std::numeric_limits<int>::max()))
        return core::fail(core::Errc::internal, "sqlite: statement too long");
    sqlite3_stmt* raw = nullptr;
    const int rc = sqlite3_prepare_v2(db, sql.data(), static_cast<int>(sql.size()), &raw, nullptr);
    SqliteStmt stmt(raw);
    if (rc != SQLITE_OK)
        return core::fail(sqlite_error(db, rc));
    if (!stmt)
        return core::fail(core::Errc::internal, "sqlite: empty statement");
    return Statement(db, std::move(stmt));
}

core::Status Statement::check_bind(int index, int rc)
{
    if (rc == SQLITE_OK)
        return {};
    core::Error e = sqlite_error(db_, rc);
    e.message += " (parameter " + std::to_string(index) + ")";
    return core::fail(std::move(e));
}

core::Status Statement::bind_int64(int index, std::int64_t value)
{
    return check_bind(index, sqlite3_bind_int64(stmt_.get(), index, value));
}

core::Status Statement::bind_text(int index, std::string_view value)
{
    // SQLITE_TRANSIENT: SQLite copies the text, so a temporary argument is safe.
    return check_bind(index, sqlite3_bind_text64(stmt_.get(), index, value.data(), value.size(),
                                                 SQLITE_TRANSIENT, SQLITE_UTF8));
}

core::Status Statement::bind_null(int index)
{
    return check_bind(index, sqlite3_bind_null(stmt_.get(), index));
}

core::Result<bool> Statement::step()
{
    const int rc = sqlite3_step(stmt_.get());
    last_code_ = rc == SQLITE_ROW || rc == SQLITE_DONE ? rc : sqlite3_extended_errcode(db_);
    if (rc == SQLITE_ROW)
        return true;
    if (rc == SQLITE_DONE)
        return false;
    core::Error e = sqlite_error(db_, last_code_);
    // Leave the statement runnable again; for sqlite3_prepare_v2 statements reset() repeats
    // the step's error code, which we already have.
    sqlite3_reset(stmt_.get());
    return core::fail(std::move(e));
}

void Statement::reset() noexcept
{
    sqlite3_reset(stmt_.get());
}

std::int64_t Statement::changes() const noexcept
{
    return sqlite3_changes64(db_);
}

bool Statement::is_null(int column) const noexcept
{
    return sqlite3_column_type(stmt_.get(), column) == SQLITE_NULL;
}

std::int64_t Statement::int64(int column) const noexcept
{
    return sqlite3_column_int64(stmt_.get(), column);
}

std::string Statement::text(int column) const
{
    const auto* p = sqlite3_column_text(stmt_.get(), column);
    if (p == nullptr)
        return {};
    const int n = sqlite3_column_bytes(stmt_.get(), column);
    return {reinterpret_cast<const char*>(p), static_cast<std::size_t>(n)};
}

std::optional<std::int64_t> Statement::optional_int64(int column) const noexcept
{
    if (is_null(column))
        return std::nullopt;
    return int64(column);
}

std::optional<std::string> Statement::optional_text(int column) const
{
    if (is_null(column))
        return std::nullopt;
    return text(column);
}

core::Result<Transaction> Transaction::begin(sqlite3* db, Mode mode)
{
    LATCHKEY_TRY_STATUS(exec(db, mode == Mode::immediate ? "BEGIN IMMEDIATE" : "BEGIN DEFERRED"));
    return Transaction(db);
}

Transaction::~Transaction()
{
    // Some errors (SQLITE_FULL, SQLITE_IOERR, SQLITE_NOMEM...) roll back on their own; a second
    // ROLLBACK would only fail, so check first.
    if (db_ != nullptr && sqlite3_get_autocommit(db_) == 0)
        sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
}

core::Status Transaction::commit()
{
    if (db_ == nullptr)
        return core::fail(core::Errc::internal, "sqlite: commit of a finished transaction");
    LATCHKEY_TRY_STATUS(exec(db_, "COMMIT"));
    db_ = nullptr;
    return {};
}

} // namespace latchkey::sqlite
