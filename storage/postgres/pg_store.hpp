// SPDX-License-Identifier: Apache-2.0
// PgStore: the Store on a PostgreSQL database that several latchkeyd nodes may share. The
// store's SQL is storage/sql/; this file gives it connections: a pool of libpq connections
// with their statements prepared once each, transactions that write run SERIALIZABLE and are
// retried on a serialisation failure, and a lost connection re-established and the work run
// again only when nothing of it can have been committed.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"
#include "storage/postgres/migrations.hpp"
#include "storage/postgres/pg.hpp"
#include "storage/sql/store.hpp"

namespace latchkey::postgres {

/// `?1`-style parameters (the store's dialect) as PostgreSQL's `$1`; quoted text is left alone.
std::string dollar_parameters(std::string_view sql);

/// One libpq connection as an engine connection of the SQL store.
class PgConnection final : public sql::Connection {
public:
    explicit PgConnection(postgres::Connection c) noexcept
        : c_(std::move(c))
    {
    }

    core::Result<sql::Statement> prepare(std::string_view sql) override;
    core::Status exec(std::string_view sql) override;
    core::Status begin(sql::Access access) override;
    core::Status commit() override;
    void rollback() noexcept override;

    /// Whether work since start_work() may have changed the database: a COMMIT was sent, or a
    /// statement other than SELECT outside a transaction. Such work is never run again.
    [[nodiscard]] bool maybe_written() const noexcept { return maybe_written_; }

    void start_work() noexcept { maybe_written_ = false; }

    /// A statement that is about to run: `writes` unless it is a SELECT.
    void note_statement(bool writes) noexcept
    {
        if (writes && !in_transaction_)
            maybe_written_ = true;
    }

    /// False once the connection was found lost: the pool closes it instead of lending it.
    [[nodiscard]] bool healthy() const { return !lost_ && c_.ok(); }

    [[nodiscard]] postgres::Connection& raw() noexcept { return c_; }

    /// Notes what `e` says about the connection, and gives it back.
    core::Error failed(core::Error e) noexcept;

private:
    core::Status run(std::string_view sql);

    postgres::Connection c_;
    sql::StatementCache statements_; ///< destroyed before the connection
    std::uint64_t prepared_ = 0;
    bool in_transaction_ = false;
    bool writing_ = false;
    bool maybe_written_ = false;
    bool lost_ = false;
};

struct PoolOptions {
    /// Connections at most; latchkeyd sizes it by its worker threads.
    std::size_t size = 4;
    /// How long a unit of work waits for a free connection before store_unavailable.
    std::chrono::milliseconds wait{5000};
    /// How often work is run at most (the first time included). A serialisation failure is
    /// retried up to this; a lost connection at most three times.
    int attempts = 10;
};

/// Up to `size` connections, opened when first needed and again after one is lost.
class PgPool final : public sql::Pool {
public:
    PgPool(std::string conninfo, PoolOptions options)
        : conninfo_(std::move(conninfo))
        , options_(options)
    {
    }

    core::Result<sql::Lease> acquire() override;
    bool retry(sql::Connection& c, const core::Error& error, int attempt) override;

    /// Puts a connection opened elsewhere (the one that migrated) into the pool.
    void adopt(std::unique_ptr<PgConnection> c);

protected:
    void release(sql::Connection& c) noexcept override;

private:
    std::string conninfo_;
    PoolOptions options_;
    std::mutex mutex_;
    std::condition_variable freed_;
    std::vector<std::unique_ptr<PgConnection>> idle_;
    std::vector<std::unique_ptr<PgConnection>> lent_;
    std::size_t opening_ = 0; ///< connections being opened outside the lock
};

/// Opens a PostgreSQL connection with the session settings every store connection has
/// (statement and lock timeouts, UTC).
core::Result<postgres::Connection> open_connection(const std::string& conninfo);

class PgStore final : public sql::SqlStore {
public:
    /// Connects with `conninfo` (a libpq connection string or "service=NAME"; the password, if
    /// any, from a passfile), migrates the schema to `target_schema_version` under an advisory
    /// lock, and keeps the connection as the pool's first. store_unavailable when the server
    /// cannot be reached, store_schema for a database of a newer latchkey.
    static core::Result<std::unique_ptr<PgStore>>
    open(const std::string& conninfo,
         PoolOptions options = {},
         std::uint32_t target_schema_version = latest_schema_version);

private:
    using SqlStore::SqlStore;
};

} // namespace latchkey::postgres
