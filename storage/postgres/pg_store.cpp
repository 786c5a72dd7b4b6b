// SPDX-License-Identifier: Apache-2.0
#include "storage/postgres/pg_store.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstring>
#include <optional>
#include <random>
#include <thread>
#include <utility>

namespace latchkey::postgres {

namespace {

using core::Errc;

/// Whether `sql` may change the database: anything but a SELECT.
bool writes(std::string_view sql)
{
    const auto start = sql.find_first_not_of(" \t\n");
    if (start == std::string_view::npos)
        return false;
    constexpr std::string_view select = "select";
    if (sql.size() - start < select.size())
        return true;
    for (std::size_t i = 0; i < select.size(); ++i)
        if (std::tolower(static_cast<unsigned char>(sql[start + i])) != select[i])
            return true;
    return false;
}

sql::Violation violation_of(const PGresult* r)
{
    const std::string state = postgres::sqlstate(r);
    if (state == "23505")
        return sql::Violation::unique;
    if (state == "23503")
        return sql::Violation::foreign_key;
    return sql::Violation::other;
}

/// The highest $N in converted SQL: how many parameters the statement takes.
int parameter_count(std::string_view sql)
{
    int highest = 0;
    for (std::size_t i = 0; i < sql.size(); ++i) {
        if (sql[i] != '$')
            continue;
        int n = 0;
        const auto* begin = sql.data() + i + 1;
        const auto [end, ec] = std::from_chars(begin, sql.data() + sql.size(), n);
        if (ec == std::errc() && end != begin)
            highest = std::max(highest, n);
    }
    return highest;
}

/// A statement of one PgConnection: parameters kept as text, the rows of its last run.
class PgCursor final : public sql::Cursor {
public:
    PgCursor(PgConnection& owner, std::string name, std::string text)
        : owner_(owner)
        , name_(std::move(name))
        , text_(std::move(text))
        , writes_(writes(text_))
        , params_(static_cast<std::size_t>(parameter_count(text_)))
    {
    }

    core::Status bind_int64(int index, std::int64_t value) override
    {
        return set(index, std::to_string(value));
    }

    core::Status bind_bool(int index, bool value) override
    {
        return set(index, value ? "true" : "false");
    }

    core::Status bind_text(int index, std::string_view value) override
    {
        return set(index, std::string(value));
    }

    core::Status bind_null(int index) override { return set(index, std::nullopt); }

    core::Result<bool> step() override
    {
        if (!rows_)
            LATCHKEY_TRY_STATUS(execute());
        ++row_;
        return row_ < rows_->size();
    }

    void reset() noexcept override
    {
        rows_.reset();
        row_ = -1;
    }

    void clear() noexcept override
    {
        reset();
        std::fill(params_.begin(), params_.end(), std::nullopt);
    }

    [[nodiscard]] std::int64_t changes() const noexcept override { return changes_; }

    [[nodiscard]] sql::Violation violation() const noexcept override { return violation_; }

    [[nodiscard]] bool is_null(int column) const noexcept override
    {
        return rows_->null(row_, column);
    }

    [[nodiscard]] std::int64_t int64(int column) const noexcept override
    {
        return rows_->int64(row_, column);
    }

    [[nodiscard]] bool boolean(int column) const noexcept override
    {
        return rows_->boolean(row_, column);
    }

    [[nodiscard]] std::string text(int column) const override { return rows_->text(row_, column); }

private:
    core::Status set(int index, std::optional<std::string> value)
    {
        if (index < 1 || static_cast<std::size_t>(index) > params_.size())
            return core::fail(Errc::internal, "postgresql: parameter " + std::to_string(index) +
                                                  " is not in the statement");
        params_[static_cast<std::size_t>(index) - 1] = std::move(value);
        return {};
    }

    core::Status execute()
    {
        std::vector<const char*> values;
        values.reserve(params_.size());
        for (const auto& p : params_)
            values.push_back(p ? p->c_str() : nullptr);
        const int n = static_cast<int>(values.size());
        owner_.note_statement(writes_);
        PGconn* c = owner_.raw().get();
        PgResult r(
            name_.empty()
                ? PQexecParams(c, text_.c_str(), n, nullptr, values.data(), nullptr, nullptr, 0)
                : PQexecPrepared(c, name_.c_str(), n, values.data(), nullptr, nullptr, 0));
        const auto status = r ? PQresultStatus(r.get()) : PGRES_FATAL_ERROR;
        if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) {
            violation_ = violation_of(r.get());
            changes_ = 0;
            return core::fail(owner_.failed(owner_.raw().error_of(r.get())));
        }
        violation_ = sql::Violation::none;
        rows_.emplace(std::move(r));
        changes_ = rows_->affected();
        row_ = -1;
        return {};
    }

    PgConnection& owner_;
    std::string name_; ///< of the prepared statement; "" runs the text unprepared
    std::string text_;
    bool writes_;
    std::vector<std::optional<std::string>> params_;
    std::optional<postgres::Rows> rows_; ///< of the last run, until reset
    int row_ = -1;
    std::int64_t changes_ = 0;
    sql::Violation violation_ = sql::Violation::none;
};

std::chrono::milliseconds jitter(std::chrono::milliseconds up_to)
{
    thread_local std::minstd_rand random(std::random_device{}());
    std::uniform_int_distribution<std::int64_t> pick(0, up_to.count());
    return std::chrono::milliseconds(pick(random));
}

} // namespace

std::string dollar_parameters(std::string_view sql)
{
    std::string out;
    out.reserve(sql.size());
    char quote = 0;
    for (std::size_t i = 0; i < sql.size(); ++i) {
        const char ch = sql[i];
        if (quote != 0) {
            if (ch == quote)
                quote = 0;
        } else if (ch == '\'' || ch == '"') {
            quote = ch;
        } else if (ch == '?' && i + 1 < sql.size() &&
                   std::isdigit(static_cast<unsigned char>(sql[i + 1])) != 0) {
            out += '$';
            continue;
        }
        out += ch;
    }
    return out;
}

// ---- PgConnection ---------------------------------------------------------------------------

core::Result<sql::Statement> PgConnection::prepare(std::string_view sql)
{
    return statements_.get(
        sql,
        [this](std::string_view text, bool cached) -> core::Result<std::unique_ptr<sql::Cursor>> {
            std::string converted = dollar_parameters(text);
            std::string name;
            if (cached) {
                name = "latchkey_" + std::to_string(++prepared_);
                PgResult r(PQprepare(c_.get(), name.c_str(), converted.c_str(), 0, nullptr));
                if (!r || PQresultStatus(r.get()) != PGRES_COMMAND_OK)
                    return core::fail(failed(c_.error_of(r.get())));
            }
            return std::unique_ptr<sql::Cursor>(
                std::make_unique<PgCursor>(*this, std::move(name), std::move(converted)));
        });
}

core::Error PgConnection::failed(core::Error e) noexcept
{
    if (e.is(Errc::store_unavailable))
        lost_ = true;
    return e;
}

core::Status PgConnection::run(std::string_view sql)
{
    if (auto done = c_.exec(sql); !done)
        return core::fail(failed(std::move(done).error()));
    return {};
}

core::Status PgConnection::exec(std::string_view sql)
{
    note_statement(writes(sql));
    return run(sql);
}

core::Status PgConnection::begin(sql::Access access)
{
    // Writes are SERIALIZABLE: what a transaction read still holds when it commits, on every
    // node, or it fails with a serialisation failure and the pool runs the work again.
    LATCHKEY_TRY_STATUS(run(access == sql::Access::write
                                ? "BEGIN ISOLATION LEVEL SERIALIZABLE"
                                : "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY"));
    in_transaction_ = true;
    writing_ = access == sql::Access::write;
    return {};
}

core::Status PgConnection::commit()
{
    // An answer lost on the way back leaves the outcome unknown: never run the work again.
    if (writing_)
        maybe_written_ = true;
    in_transaction_ = false; // a failed COMMIT ends the transaction too
    return run("COMMIT");
}

void PgConnection::rollback() noexcept
{
    if (!in_transaction_)
        return;
    in_transaction_ = false;
    if (healthy())
        static_cast<void>(run("ROLLBACK"));
}

// ---- PgPool ---------------------------------------------------------------------------------

core::Result<postgres::Connection> open_connection(const std::string& conninfo)
{
    LATCHKEY_TRY(c, postgres::Connection::open(conninfo));
    // Bounded waits: no statement or lock wait outlives a PAM conversation, and a node that
    // died inside a transaction does not hold its locks for long.
    LATCHKEY_TRY_STATUS(c.exec("SET statement_timeout = '10s'; SET lock_timeout = '5s'; "
                               "SET idle_in_transaction_session_timeout = '30s'"));
    return c;
}

core::Result<sql::Lease> PgPool::acquire()
{
    std::unique_lock lock(mutex_);
    const auto deadline = std::chrono::steady_clock::now() + options_.wait;
    std::unique_ptr<PgConnection> c;
    while (!c) {
        if (!idle_.empty()) {
            c = std::move(idle_.back());
            idle_.pop_back();
        } else if (idle_.size() + lent_.size() + opening_ < options_.size) {
            ++opening_;
            lock.unlock();
            auto opened = open_connection(conninfo_);
            lock.lock();
            --opening_;
            if (!opened) {
                freed_.notify_one(); // another waiter may try
                return core::fail(std::move(opened).error());
            }
            c = std::make_unique<PgConnection>(std::move(opened).value());
        } else if (freed_.wait_until(lock, deadline) == std::cv_status::timeout) {
            return core::fail(Errc::store_unavailable,
                              "postgresql: no database connection became free within " +
                                  std::to_string(options_.wait.count()) + " ms");
        }
    }
    PgConnection& lent = *c;
    lent_.push_back(std::move(c));
    lent.start_work();
    return sql::Lease(*this, lent);
}

void PgPool::release(sql::Connection& c) noexcept
{
    std::unique_ptr<PgConnection> back;
    {
        const std::lock_guard lock(mutex_);
        const auto it =
            std::find_if(lent_.begin(), lent_.end(), [&](const auto& p) { return p.get() == &c; });
        if (it == lent_.end())
            return;
        back = std::move(*it);
        lent_.erase(it);
        if (back->healthy())
            idle_.push_back(std::move(back));
    }
    freed_.notify_one();
    // A lost connection (still in `back`) closes here, outside the lock.
}

bool PgPool::retry(sql::Connection& c, const core::Error& error, int attempt)
{
    if (attempt >= options_.attempts)
        return false;
    const auto& pc = static_cast<const PgConnection&>(c);
    if (error.is(Errc::store_conflict)) {
        // Another transaction (here or on another node) won; this one rolled back cleanly.
        // Exponential backoff with full jitter spreads the losers out: 2, 4, 8... up to 64 ms.
        const auto cap = std::chrono::milliseconds(std::min(64, 1 << std::min(attempt, 6)));
        std::this_thread::sleep_for(jitter(cap));
        return true;
    }
    if (error.is(Errc::store_unavailable) && !pc.maybe_written() && attempt < 3) {
        // The server went away (a restart, a fail-over): the idle connections are as dead as
        // this one. Drop them and reconnect after a pause.
        std::vector<std::unique_ptr<PgConnection>> dead;
        {
            const std::lock_guard lock(mutex_);
            dead.swap(idle_);
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50) * attempt);
        return true;
    }
    return false;
}

void PgPool::adopt(std::unique_ptr<PgConnection> c)
{
    {
        const std::lock_guard lock(mutex_);
        idle_.push_back(std::move(c));
    }
    freed_.notify_one();
}

// ---- PgStore --------------------------------------------------------------------------------

core::Result<std::unique_ptr<PgStore>>
PgStore::open(const std::string& conninfo, PoolOptions options, std::uint32_t target_schema_version)
{
    if (options.size == 0)
        return core::fail(Errc::invalid_argument,
                          "the connection pool needs at least one connection");
    LATCHKEY_TRY(first, open_connection(conninfo));
    LATCHKEY_TRY_STATUS(migrate(first, target_schema_version));
    auto pool = std::make_unique<PgPool>(conninfo, options);
    pool->adopt(std::make_unique<PgConnection>(std::move(first)));
    return std::unique_ptr<PgStore>(new PgStore(std::move(pool)));
}

} // namespace latchkey::postgres
