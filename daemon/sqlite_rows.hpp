// SPDX-License-Identifier: Apache-2.0
// Row helpers shared by the SqliteStore source files (internal to the SQLite store).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/clock.hpp"
#include "core/result.hpp"
#include <sqlite3.h>

#include "daemon/sqlite.hpp"

namespace latchkey::daemon::sqlite_rows {

inline std::string user_not_found(const std::string& user_id)
{
    return "user '" + user_id + "' not found";
}

inline std::optional<std::int64_t> unix_or_null(const std::optional<core::TimePoint>& t) noexcept
{
    if (!t)
        return std::nullopt;
    return core::to_unix(*t);
}

inline std::optional<core::TimePoint> time_or_null(const std::optional<std::int64_t>& s) noexcept
{
    if (!s)
        return std::nullopt;
    return core::from_unix(*s);
}

/// Whether `sql` ("SELECT 1 FROM t WHERE id = ?1") finds a row for `id`.
inline core::Result<bool> row_exists(sqlite3* db, std::string_view sql, const std::string& id)
{
    LATCHKEY_TRY(stmt, Statement::prepare(db, sql));
    LATCHKEY_TRY_STATUS(stmt.bind(id));
    return stmt.step();
}

/// Runs a statement that writes a row referring to a user: a foreign-key violation means
/// there is no such user.
inline core::Status run_for_user(Statement& stmt, const std::string& user_id)
{
    auto done = stmt.run();
    if (!done && stmt.last_code() == SQLITE_CONSTRAINT_FOREIGNKEY)
        return core::fail(core::Errc::not_found, user_not_found(user_id));
    return done;
}

/// An UPDATE or DELETE of one user by id (?1) in its own transaction; not_found if none.
template <class... Args>
core::Status
update_user(sqlite3* db, std::string_view sql, const std::string& user_id, const Args&... args)
{
    LATCHKEY_TRY(txn, Transaction::begin(db));
    LATCHKEY_TRY(stmt, Statement::prepare(db, sql));
    LATCHKEY_TRY_STATUS(stmt.bind(user_id, args...));
    LATCHKEY_TRY_STATUS(stmt.run());
    if (stmt.changes() == 0)
        return core::fail(core::Errc::not_found, user_not_found(user_id));
    return txn.commit();
}

} // namespace latchkey::daemon::sqlite_rows
