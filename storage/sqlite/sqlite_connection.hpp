// SPDX-License-Identifier: Apache-2.0
// SQLite as an engine of the SQL store: a connection with its prepared statements cached, and
// a pool of that one connection behind a mutex.
#pragma once

#include <memory>
#include <mutex>
#include <string_view>

#include "storage/sql/sql.hpp"
#include "storage/sqlite/sqlite.hpp"

namespace latchkey::sqlite {

class SqliteConnection final : public sql::Connection {
public:
    explicit SqliteConnection(SqliteDb db) noexcept
        : db_(std::move(db))
    {
    }

    core::Result<sql::Statement> prepare(std::string_view sql) override;
    core::Status exec(std::string_view sql) override;
    core::Status begin(sql::Access access) override;
    core::Status commit() override;
    void rollback() noexcept override;

private:
    SqliteDb db_;
    sql::StatementCache statements_; ///< destroyed before db_
};

/// One connection, lent to one thread at a time; never retried (SQLite waits for its locks
/// itself, busy_timeout, and a failure is not transient).
class SqlitePool final : public sql::Pool {
public:
    explicit SqlitePool(SqliteDb db)
        : connection_(std::move(db))
    {
    }

    core::Result<sql::Lease> acquire() override;

    bool retry(sql::Connection&, const core::Error&, int) override { return false; }

protected:
    void release(sql::Connection&) noexcept override { mutex_.unlock(); }

private:
    std::mutex mutex_;
    SqliteConnection connection_;
};

} // namespace latchkey::sqlite
