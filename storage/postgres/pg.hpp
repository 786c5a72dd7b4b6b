// SPDX-License-Identifier: Apache-2.0
// A thin RAII layer over libpq: owned connections and results, text parameters, transactions.
//
// Every query is parameterised ($1, $2...; values sent apart from the SQL text, as text), so
// SQL is built only from constants and a bound value never reaches an error message (it may
// be a password hash). Errors become core::Error values: a unique violation (SQLSTATE 23505)
// is Errc::already_exists, a serialization failure or deadlock (40001, 40P01) Errc::store_conflict
// (the transaction may be retried), a lost connection Errc::store_unavailable, anything else
// Errc::store_failed; the message is the server's primary message and the SQLSTATE.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "core/c_handle.hpp"
#include "core/result.hpp"

#include <libpq-fe.h>

namespace latchkey::postgres {

using PgConn = std::unique_ptr<PGconn, core::CFree<PQfinish>>;
using PgResult = std::unique_ptr<PGresult, core::CFree<PQclear>>;

/// A query's parameters: text, or NULL. Built by params(...) from the usual types.
class Params {
public:
    /// Text (anything convertible to std::string_view), integers (bool as true/false),
    /// std::optional (nullopt as NULL), std::nullopt.
    template <class T>
    void add(const T& value)
    {
        if constexpr (std::is_same_v<T, bool>) {
            values_.emplace_back(value ? "true" : "false");
        } else if constexpr (std::is_integral_v<T>) {
            values_.emplace_back(std::to_string(value));
        } else if constexpr (std::is_same_v<T, std::nullopt_t>) {
            values_.emplace_back(std::nullopt);
        } else if constexpr (requires {
                                 value.has_value();
                                 *value;
                             }) {
            if (!value)
                values_.emplace_back(std::nullopt);
            else
                add(*value);
        } else {
            static_assert(std::is_convertible_v<const T&, std::string_view>,
                          "no PostgreSQL parameter for this type");
            values_.emplace_back(std::string(std::string_view(value)));
        }
    }

    [[nodiscard]] std::vector<const char*> pointers() const;

    [[nodiscard]] int size() const { return static_cast<int>(values_.size()); }

private:
    std::vector<std::optional<std::string>> values_;
};

template <class... Args>
Params params(const Args&... args)
{
    Params p;
    (p.add(args), ...);
    return p;
}

/// The rows a query returned; columns by number from 0, as text.
class Rows {
public:
    explicit Rows(PgResult result)
        : result_(std::move(result))
    {
    }

    [[nodiscard]] int size() const { return PQntuples(result_.get()); }

    [[nodiscard]] bool null(int row, int col) const noexcept
    {
        return PQgetisnull(result_.get(), row, col) != 0;
    }

    [[nodiscard]] std::string text(int row, int col) const;
    [[nodiscard]] std::optional<std::string> optional_text(int row, int col) const;
    [[nodiscard]] std::int64_t int64(int row, int col) const noexcept;
    [[nodiscard]] std::optional<std::int64_t> optional_int64(int row, int col) const;
    [[nodiscard]] bool boolean(int row, int col) const noexcept;
    /// Rows changed by an INSERT, UPDATE or DELETE.
    [[nodiscard]] std::int64_t affected() const noexcept;

private:
    PgResult result_;
};

/// The SQLSTATE of a failed query's result ("23505"), or "" (none: libpq's own error, or no
/// result at all).
[[nodiscard]] std::string sqlstate(const PGresult* result);

/// Checks a connection string as libpq reads it: config_invalid when it does not parse, or
/// when it holds a password (keep it in a passfile: PGPASSFILE, ~/.pgpass, or the service
/// file's passfile=, or use peer or certificate authentication). Empty is fine (not in use).
core::Status check_conninfo(const std::string& conninfo);

class Connection {
public:
    /// Connects with a libpq connection string ("host=/run/postgresql dbname=latchkey", or a
    /// service: "service=latchkey"; a password comes from PGPASSFILE or ~/.pgpass, never the
    /// string in our configuration). store_unavailable when the server cannot be reached.
    static core::Result<Connection> open(const std::string& conninfo);

    /// Runs one parameterised statement and returns its rows (none for a command).
    core::Result<Rows> query(std::string_view sql, const Params& p = {});
    /// Runs SQL without parameters; several statements may be given (schema).
    core::Status exec(std::string_view sql);

    [[nodiscard]] bool ok() const;

    PGconn* get() const { return conn_.get(); }

    /// The error for a failed call whose result is `result` (may be null).
    [[nodiscard]] core::Error error_of(const PGresult* result) const;

private:
    explicit Connection(PgConn conn)
        : conn_(std::move(conn))
    {
    }

    PgConn conn_;
};

/// BEGIN on construction; ROLLBACK on destruction unless commit() succeeded.
class Transaction {
public:
    /// `isolation`: "" (the server's default, READ COMMITTED) or "SERIALIZABLE".
    static core::Result<Transaction> begin(Connection& c, std::string_view isolation = "");

    Transaction(Transaction&& o) noexcept;
    Transaction& operator=(Transaction&&) = delete;
    Transaction(const Transaction&) = delete;
    Transaction& operator=(const Transaction&) = delete;
    ~Transaction();

    core::Status commit();

private:
    explicit Transaction(Connection& c)
        : conn_(&c)
    {
    }

    Connection* conn_;
    bool done_ = false;
};

} // namespace latchkey::postgres
