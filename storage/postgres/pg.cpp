// SPDX-License-Identifier: Apache-2.0
// libpq, wrapped.
#include "storage/postgres/pg.hpp"

#include <array>
#include <charconv>
#include <cstring>

namespace latchkey::postgres {

namespace {

using core::Errc;

std::string field(const PGresult* r, int code)
{
    const char* v = PQresultErrorField(r, code);
    return v != nullptr ? v : "";
}

} // namespace

std::string sqlstate(const PGresult* result)
{
    return result != nullptr ? field(result, PG_DIAG_SQLSTATE) : "";
}

std::vector<const char*> Params::pointers() const
{
    std::vector<const char*> out;
    out.reserve(values_.size());
    for (const auto& v : values_)
        out.push_back(v ? v->c_str() : nullptr);
    return out;
}

std::string Rows::text(int row, int col) const
{
    return std::string(PQgetvalue(result_.get(), row, col),
                       static_cast<std::size_t>(PQgetlength(result_.get(), row, col)));
}

std::optional<std::string> Rows::optional_text(int row, int col) const
{
    if (null(row, col))
        return std::nullopt;
    return text(row, col);
}

std::int64_t Rows::int64(int row, int col) const noexcept
{
    const char* v = PQgetvalue(result_.get(), row, col);
    std::int64_t out = 0;
    std::from_chars(v, v + std::strlen(v), out); // the server's own integer text
    return out;
}

std::optional<std::int64_t> Rows::optional_int64(int row, int col) const
{
    if (null(row, col))
        return std::nullopt;
    return int64(row, col);
}

bool Rows::boolean(int row, int col) const noexcept
{
    return PQgetvalue(result_.get(), row, col)[0] == 't';
}

std::int64_t Rows::affected() const noexcept
{
    const char* n = PQcmdTuples(result_.get());
    std::int64_t out = 0;
    std::from_chars(n, n + std::strlen(n), out);
    return out;
}

core::Status check_conninfo(const std::string& conninfo)
{
    if (conninfo.empty())
        return {};
    char* error = nullptr;
    const std::unique_ptr<PQconninfoOption, core::CFree<PQconninfoFree>> options(
        PQconninfoParse(conninfo.c_str(), &error));
    const std::unique_ptr<char, core::CFree<PQfreemem>> owned_error(error);
    if (!options) {
        std::string why = error != nullptr ? error : "out of memory";
        while (!why.empty() && (why.back() == '\n' || why.back() == ' '))
            why.pop_back();
        // libpq's message quotes the part it could not read, never a value it understood.
        return core::fail(Errc::config_invalid, "is not a libpq connection string: " + why);
    }
    for (const auto* o = options.get(); o->keyword != nullptr; ++o)
        if (std::string_view(o->keyword) == "password" && o->val != nullptr && *o->val != '\0')
            return core::fail(Errc::config_invalid,
                              "must not hold a password: keep it in a passfile (PGPASSFILE, "
                              "~/.pgpass or the service's passfile=) or use peer or "
                              "certificate authentication");
    return {};
}

core::Result<Connection> Connection::open(const std::string& conninfo)
{
    // Defaults first: what `conninfo` (expanded as dbname) says overrides them. Without a
    // connect timeout libpq would wait for the kernel's, minutes for a host that is gone.
    const std::array<const char*, 4> keywords{"connect_timeout", "application_name", "dbname",
                                              nullptr};
    const std::array<const char*, 4> values{"5", "latchkeyd", conninfo.c_str(), nullptr};
    PgConn conn(PQconnectdbParams(keywords.data(), values.data(), 1));
    if (!conn)
        return core::fail(Errc::store_failed, "postgresql: out of memory");
    if (PQstatus(conn.get()) != CONNECTION_OK) {
        std::string why = PQerrorMessage(conn.get());
        while (!why.empty() && (why.back() == '\n' || why.back() == ' '))
            why.pop_back();
        return core::fail(Errc::store_unavailable, "postgresql: cannot connect: " + why);
    }
    // Notices ("relation ... already exists, skipping") are the server's remarks, not errors;
    // libpq would print them on stderr.
    PQsetNoticeProcessor(
        conn.get(), [](void*, const char*) {}, nullptr);
    return Connection(std::move(conn));
}

bool Connection::ok() const
{
    return conn_ && PQstatus(conn_.get()) == CONNECTION_OK;
}

core::Error Connection::error_of(const PGresult* result) const
{
    if (!ok())
        return {Errc::store_unavailable, "postgresql: the connection to the server was lost"};
    const std::string state = sqlstate(result);
    std::string message = result != nullptr ? field(result, PG_DIAG_MESSAGE_PRIMARY) : "";
    if (message.empty())
        message = PQerrorMessage(conn_.get());
    message = "postgresql: " + message + (state.empty() ? "" : " (SQLSTATE " + state + ")");
    if (state == "23505")
        return {Errc::already_exists, message};
    if (state == "40001" || state == "40P01")
        return {Errc::store_conflict, message};
    // Connection exceptions, shutdown; and an error libpq made itself (no SQLSTATE): the
    // connection broke before the server could answer, which libpq may notice only later.
    if (state.empty() || state.starts_with("08") || state.starts_with("57P"))
        return {Errc::store_unavailable, message};
    return {Errc::store_failed, message};
}

core::Result<Rows> Connection::query(std::string_view sql, const Params& p)
{
    const std::string text(sql);
    const auto values = p.pointers();
    PgResult result(PQexecParams(conn_.get(), text.c_str(), p.size(), nullptr, values.data(),
                                 nullptr, nullptr, 0));
    const auto status = result ? PQresultStatus(result.get()) : PGRES_FATAL_ERROR;
    if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK)
        return core::fail(error_of(result.get()));
    return Rows(std::move(result));
}

core::Status Connection::exec(std::string_view sql)
{
    const std::string text(sql);
    PgResult result(PQexec(conn_.get(), text.c_str()));
    const auto status = result ? PQresultStatus(result.get()) : PGRES_FATAL_ERROR;
    if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK)
        return core::fail(error_of(result.get()));
    return {};
}

core::Result<Transaction> Transaction::begin(Connection& c, std::string_view isolation)
{
    LATCHKEY_TRY_STATUS(c.exec(isolation.empty()
                                   ? std::string("BEGIN")
                                   : "BEGIN ISOLATION LEVEL " + std::string(isolation)));
    return Transaction(c);
}

Transaction::Transaction(Transaction&& o) noexcept
    : conn_(o.conn_)
    , done_(o.done_)
{
    o.done_ = true;
}

Transaction::~Transaction()
{
    if (!done_ && conn_->ok())
        static_cast<void>(conn_->exec("ROLLBACK"));
}

core::Status Transaction::commit()
{
    done_ = true;
    return conn_->exec("COMMIT");
}

} // namespace latchkey::postgres
