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
#include <type_traits>
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

    /// Binds `args` to parameters 1..N in order; see bind_at() for the types.
    template <class... Args>
    core::Status bind(const Args&... args)
    {
        int index = 0;
        core::Status status;
        // Stops at the first failure: && short-circuits the rest of the fold.
        static_cast<void>(((status = bind_at(++index, args)) && ...));
        return status;
    }

    /// Binds text (anything convertible to std::string_view), integers (bool as 0/1),
    /// std::optional (nullopt as NULL), nullptr and std::nullopt (NULL). Text is copied.
    template <class T>
    core::Status bind_at(int index, const T& value)
    {
        if constexpr (std::is_same_v<T, bool>) {
            return bind_int64(index, value ? 1 : 0);
        } else if constexpr (std::is_integral_v<T>) {
            static_assert(sizeof(T) < sizeof(std::int64_t) || std::is_signed_v<T>,
                          "an unsigned 64-bit value may not fit an SQLite INTEGER");
            return bind_int64(index, static_cast<std::int64_t>(value));
        } else if constexpr (std::is_same_v<T, std::nullptr_t> ||
                             std::is_same_v<T, std::nullopt_t>) {
            return bind_null(index);
        } else if constexpr (is_optional<T>::value) {
            if (!value)
                return bind_null(index);
            return bind_at(index, *value);
        } else {
            static_assert(std::is_convertible_v<const T&, std::string_view>,
                          "no SQLite binding for this type");
            return bind_text(index, std::string_view(value));
        }
    }

    /// Advances: true when a row is ready to be read, false when the statement is done.
    core::Result<bool> step();

    /// Steps until done, ignoring any rows: for INSERT, UPDATE, DELETE and DDL.
    core::Status run();

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
    template <class T>
    struct is_optional : std::false_type {
    };

    template <class T>
    struct is_optional<std::optional<T>> : std::true_type {
    };

    Statement(sqlite3* db, SqliteStmt stmt) noexcept
        : db_(db)
        , stmt_(std::move(stmt))
    {
    }

    core::Status bind_int64(int index, std::int64_t value);
    core::Status bind_text(int index, std::string_view value);
    core::Status bind_null(int index);
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
