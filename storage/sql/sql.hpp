// SPDX-License-Identifier: Apache-2.0
// What the SQL store needs of a database engine: connections that prepare statements, bind
// values, step through rows and run transactions, and a pool that lends them out. SQLite
// (storage/sqlite/) and PostgreSQL (storage/postgres/) implement it; the store's SQL is written
// once, in the common dialect of both (?1 parameters, ON CONFLICT, RETURNING, TRUE/FALSE).
//
// Bound values never appear in an error message (they may be password hashes); SQL text is
// built only from constants.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>
#include <utility>

#include "core/result.hpp"

namespace latchkey::sql {

/// The rule a failed write broke, for the store to turn into the error its caller expects.
enum class Violation : std::uint8_t { none, unique, foreign_key, other };

/// One prepared statement of an engine. Parameters are numbered from 1, columns from 0.
class Cursor {
public:
    Cursor() = default;
    Cursor(const Cursor&) = delete;
    Cursor& operator=(const Cursor&) = delete;
    virtual ~Cursor() = default;

    virtual core::Status bind_int64(int index, std::int64_t value) = 0;
    virtual core::Status bind_bool(int index, bool value) = 0;
    virtual core::Status bind_text(int index, std::string_view value) = 0;
    virtual core::Status bind_null(int index) = 0;

    /// True when a row is ready to be read, false when the statement is done.
    virtual core::Result<bool> step() = 0;
    /// Ready to run again; bindings are kept.
    virtual void reset() noexcept = 0;
    /// Ready to run again with no bindings: back into a connection's cache.
    virtual void clear() noexcept = 0;

    /// Rows changed by the last run (INSERT, UPDATE, DELETE).
    [[nodiscard]] virtual std::int64_t changes() const noexcept = 0;
    /// What the last failed step broke.
    [[nodiscard]] virtual Violation violation() const noexcept = 0;

    [[nodiscard]] virtual bool is_null(int column) const noexcept = 0;
    [[nodiscard]] virtual std::int64_t int64(int column) const noexcept = 0;
    [[nodiscard]] virtual bool boolean(int column) const noexcept = 0;
    /// NULL reads as "".
    [[nodiscard]] virtual std::string text(int column) const = 0;

private:
    friend class Statement;
    friend class StatementCache;
    bool lent_ = false; ///< a cached cursor some Statement is using
};

/// A statement in use: a connection's cached cursor, given back cleared at the end of scope,
/// or a cursor of its own.
class Statement {
public:
    explicit Statement(Cursor& cached) noexcept
        : cursor_(&cached)
    {
        cursor_->lent_ = true;
    }

    explicit Statement(std::unique_ptr<Cursor> own) noexcept
        : owned_(std::move(own))
        , cursor_(owned_.get())
    {
    }

    Statement(const Statement&) = delete;
    Statement& operator=(const Statement&) = delete;

    Statement(Statement&& other) noexcept
        : owned_(std::move(other.owned_))
        , cursor_(std::exchange(other.cursor_, nullptr))
    {
    }

    Statement& operator=(Statement&&) = delete;

    ~Statement()
    {
        if (cursor_ != nullptr && !owned_) {
            cursor_->clear();
            cursor_->lent_ = false;
        }
    }

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

    /// Binds text (anything convertible to std::string_view), integers, bool, std::optional
    /// (nullopt as NULL), nullptr and std::nullopt (NULL). Text is copied.
    template <class T>
    core::Status bind_at(int index, const T& value)
    {
        if constexpr (std::is_same_v<T, bool>) {
            return cursor_->bind_bool(index, value);
        } else if constexpr (std::is_integral_v<T>) {
            static_assert(sizeof(T) < sizeof(std::int64_t) || std::is_signed_v<T>,
                          "an unsigned 64-bit value may not fit a 64-bit column");
            return cursor_->bind_int64(index, static_cast<std::int64_t>(value));
        } else if constexpr (std::is_same_v<T, std::nullptr_t> ||
                             std::is_same_v<T, std::nullopt_t>) {
            return cursor_->bind_null(index);
        } else if constexpr (is_optional<T>::value) {
            if (!value)
                return cursor_->bind_null(index);
            return bind_at(index, *value);
        } else {
            static_assert(std::is_convertible_v<const T&, std::string_view>,
                          "no SQL binding for this type");
            return cursor_->bind_text(index, std::string_view(value));
        }
    }

    core::Result<bool> step() { return cursor_->step(); }

    /// Steps until done, ignoring any rows (INSERT, UPDATE, DELETE), and resets.
    core::Status run();

    void reset() noexcept { cursor_->reset(); }

    [[nodiscard]] std::int64_t changes() const noexcept { return cursor_->changes(); }

    [[nodiscard]] Violation violation() const noexcept { return cursor_->violation(); }

    [[nodiscard]] bool is_null(int column) const noexcept { return cursor_->is_null(column); }

    [[nodiscard]] std::int64_t int64(int column) const noexcept { return cursor_->int64(column); }

    [[nodiscard]] bool boolean(int column) const noexcept { return cursor_->boolean(column); }

    [[nodiscard]] std::string text(int column) const { return cursor_->text(column); }

    [[nodiscard]] std::optional<std::int64_t> optional_int64(int column) const noexcept
    {
        if (is_null(column))
            return std::nullopt;
        return int64(column);
    }

    [[nodiscard]] std::optional<std::string> optional_text(int column) const
    {
        if (is_null(column))
            return std::nullopt;
        return text(column);
    }

private:
    template <class T>
    struct is_optional : std::false_type {
    };

    template <class T>
    struct is_optional<std::optional<T>> : std::true_type {
    };

    std::unique_ptr<Cursor> owned_;
    Cursor* cursor_;
};

/// A connection's prepared statements by SQL text, so that each is compiled once per
/// connection. A statement already in use (a nested use of the same text) gets a cursor of its
/// own; past `capacity` texts, so does every new one.
class StatementCache {
public:
    explicit StatementCache(std::size_t capacity = 256)
        : capacity_(capacity)
    {
    }

    /// `make(sql, cached)` prepares a cursor; `cached` says whether it will live in the cache.
    template <class Make>
    core::Result<Statement> get(std::string_view sql, Make&& make)
    {
        if (const auto it = cursors_.find(sql); it != cursors_.end()) {
            if (!it->second->lent_)
                return Statement(*it->second);
            LATCHKEY_TRY(own, make(sql, false));
            return Statement(std::move(own));
        }
        const bool keep = cursors_.size() < capacity_;
        LATCHKEY_TRY(cursor, make(sql, keep));
        if (!keep)
            return Statement(std::move(cursor));
        auto [it, inserted] = cursors_.emplace(std::string(sql), std::move(cursor));
        return Statement(*it->second);
    }

    /// Forgets every statement (the connection they belong to is gone or reset).
    void clear() noexcept { cursors_.clear(); }

    [[nodiscard]] std::size_t size() const noexcept { return cursors_.size(); }

private:
    struct Hash {
        using is_transparent = void;

        std::size_t operator()(std::string_view s) const noexcept
        {
            return std::hash<std::string_view>{}(s);
        }
    };

    std::size_t capacity_;
    std::unordered_map<std::string, std::unique_ptr<Cursor>, Hash, std::equal_to<>> cursors_;
};

/// What a transaction does: reads see one consistent snapshot; writes are serialised with
/// every other write (SQLite: BEGIN IMMEDIATE; PostgreSQL: SERIALIZABLE, retried on conflict).
enum class Access : std::uint8_t { read, write };

/// One connection to the database. Not thread-safe: a pool lends it to one thread at a time.
class Connection {
public:
    Connection() = default;
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;
    virtual ~Connection() = default;

    /// store_failed if the SQL does not compile (e.g. a table the schema lacks).
    virtual core::Result<Statement> prepare(std::string_view sql) = 0;
    /// Runs SQL without parameters.
    virtual core::Status exec(std::string_view sql) = 0;

    virtual core::Status begin(Access access) = 0;
    virtual core::Status commit() = 0;
    /// Rolls back an open transaction; nothing if there is none.
    virtual void rollback() noexcept = 0;
};

/// A transaction that rolls back when it goes out of scope uncommitted.
class Transaction {
public:
    static core::Result<Transaction> begin(Connection& c, Access access = Access::write);

    Transaction(const Transaction&) = delete;
    Transaction& operator=(const Transaction&) = delete;

    Transaction(Transaction&& other) noexcept
        : c_(std::exchange(other.c_, nullptr))
    {
    }

    Transaction& operator=(Transaction&&) = delete;

    ~Transaction()
    {
        if (c_ != nullptr)
            c_->rollback();
    }

    /// On failure the transaction rolls back on destruction.
    core::Status commit();

private:
    explicit Transaction(Connection& c) noexcept
        : c_(&c)
    {
    }

    Connection* c_; ///< null once committed or moved from
};

class Pool;

/// A connection lent by a pool, given back at the end of scope.
class Lease {
public:
    Lease(Pool& pool, Connection& c) noexcept
        : pool_(&pool)
        , c_(&c)
    {
    }

    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;

    Lease(Lease&& other) noexcept
        : pool_(std::exchange(other.pool_, nullptr))
        , c_(std::exchange(other.c_, nullptr))
    {
    }

    Lease& operator=(Lease&&) = delete;
    ~Lease();

    [[nodiscard]] Connection& connection() const noexcept { return *c_; }

private:
    Pool* pool_;
    Connection* c_;
};

/// Where the store's connections come from.
class Pool {
public:
    Pool() = default;
    Pool(const Pool&) = delete;
    Pool& operator=(const Pool&) = delete;
    virtual ~Pool() = default;

    /// A connection for one unit of work; waits a bounded time for one to be free.
    virtual core::Result<Lease> acquire() = 0;

    /// Whether work that failed with `error` on `c` may run again from the start (attempt
    /// counts from 1): only when nothing it did can have been committed. May wait first.
    virtual bool retry(Connection& c, const core::Error& error, int attempt) = 0;

protected:
    friend class Lease;
    virtual void release(Connection& c) noexcept = 0;
};

inline Lease::~Lease()
{
    if (pool_ != nullptr)
        pool_->release(*c_);
}

/// Runs `work(Connection&)` on a connection of `pool`, again while the pool says that is safe.
template <class Work>
std::invoke_result_t<Work&, Connection&> with_connection(Pool& pool, Work&& work)
{
    for (int attempt = 1;; ++attempt) {
        LATCHKEY_TRY(lease, pool.acquire());
        auto result = work(lease.connection());
        if (result || !pool.retry(lease.connection(), result.error(), attempt))
            return result;
    }
}

} // namespace latchkey::sql
