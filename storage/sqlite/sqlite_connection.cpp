// SPDX-License-Identifier: Apache-2.0
#include "storage/sqlite/sqlite_connection.hpp"

#include <string>

namespace latchkey::sqlite {

namespace {

class SqliteCursor final : public sql::Cursor {
public:
    explicit SqliteCursor(Statement stmt) noexcept
        : stmt_(std::move(stmt))
    {
    }

    core::Status bind_int64(int index, std::int64_t value) override
    {
        return stmt_.bind_int64(index, value);
    }

    core::Status bind_bool(int index, bool value) override
    {
        return stmt_.bind_int64(index, value ? 1 : 0);
    }

    core::Status bind_text(int index, std::string_view value) override
    {
        return stmt_.bind_text(index, value);
    }

    core::Status bind_null(int index) override { return stmt_.bind_null(index); }

    core::Result<bool> step() override { return stmt_.step(); }

    void reset() noexcept override { stmt_.reset(); }

    void clear() noexcept override
    {
        stmt_.reset();
        sqlite3_clear_bindings(stmt_.get());
    }

    [[nodiscard]] std::int64_t changes() const noexcept override { return stmt_.changes(); }

    [[nodiscard]] sql::Violation violation() const noexcept override
    {
        switch (stmt_.last_code()) {
        case SQLITE_ROW:
        case SQLITE_DONE:
        case SQLITE_OK: return sql::Violation::none;
        case SQLITE_CONSTRAINT_UNIQUE:
        case SQLITE_CONSTRAINT_PRIMARYKEY: return sql::Violation::unique;
        case SQLITE_CONSTRAINT_FOREIGNKEY: return sql::Violation::foreign_key;
        default: return sql::Violation::other;
        }
    }

    [[nodiscard]] bool is_null(int column) const noexcept override { return stmt_.is_null(column); }

    [[nodiscard]] std::int64_t int64(int column) const noexcept override
    {
        return stmt_.int64(column);
    }

    [[nodiscard]] bool boolean(int column) const noexcept override { return stmt_.boolean(column); }

    [[nodiscard]] std::string text(int column) const override { return stmt_.text(column); }

private:
    Statement stmt_;
};

} // namespace

core::Result<sql::Statement> SqliteConnection::prepare(std::string_view sql)
{
    return statements_.get(
        sql, [this](std::string_view text, bool) -> core::Result<std::unique_ptr<sql::Cursor>> {
            LATCHKEY_TRY(stmt, Statement::prepare(db_.get(), text));
            return std::unique_ptr<sql::Cursor>(std::make_unique<SqliteCursor>(std::move(stmt)));
        });
}

core::Status SqliteConnection::exec(std::string_view sql)
{
    return sqlite::exec(db_.get(), std::string(sql).c_str());
}

core::Status SqliteConnection::begin(sql::Access access)
{
    // A writer takes the write lock up front, so a busy database makes BEGIN wait
    // (busy_timeout) instead of failing halfway through; a reader gets a consistent snapshot.
    return sqlite::exec(db_.get(),
                        access == sql::Access::write ? "BEGIN IMMEDIATE" : "BEGIN DEFERRED");
}

core::Status SqliteConnection::commit()
{
    return sqlite::exec(db_.get(), "COMMIT");
}

void SqliteConnection::rollback() noexcept
{
    // Some errors (SQLITE_FULL, SQLITE_IOERR, SQLITE_NOMEM...) roll back on their own; a second
    // ROLLBACK would only fail, so check first.
    if (sqlite3_get_autocommit(db_.get()) == 0)
        sqlite3_exec(db_.get(), "ROLLBACK", nullptr, nullptr, nullptr);
}

core::Result<sql::Lease> SqlitePool::acquire()
{
    mutex_.lock(); // unlocked by release() when the lease ends
    return sql::Lease(*this, connection_);
}

} // namespace latchkey::sqlite
