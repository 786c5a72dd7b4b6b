// SPDX-License-Identifier: Apache-2.0
// SqliteStore's logon-time state: password rehashes, failure counts, lockout, and sessions.
//
// Split from sqlite_store.cpp to keep each file readable; the schema is the same one
// (daemon/migrations.cpp, version 3).
#include <algorithm>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.hpp"
#include "core/random.hpp"
#include "storage/sql/rows.hpp"
#include "storage/sql/sql.hpp"
#include "storage/sql/store.hpp"

namespace latchkey::sql {

namespace {

using core::Errc;
using namespace rows;

constexpr std::string_view session_columns =
    "id, user_id, service, tty, rhost, pid, logind_session, logon_id, method, opened_at, "
    "closed_at, kind, secret_hash, expires_at";

/// "Not closed, and a web session not past its expiry", for a query whose ?1 is now.
constexpr std::string_view open_at_now =
    "closed_at IS NULL AND (expires_at IS NULL OR expires_at >= ?1)";

directory::SessionRecord read_session(const Statement& s)
{
    directory::SessionRecord r;
    r.id = s.text(0);
    r.user_id = s.text(1);
    r.service = s.text(2);
    r.tty = s.optional_text(3);
    r.rhost = s.optional_text(4);
    r.pid = s.int64(5);
    r.logind_session = s.optional_text(6);
    r.logon_id = s.optional_text(7);
    r.method = s.optional_text(8);
    r.opened_at = core::from_unix(s.int64(9));
    r.closed_at = time_or_null(s.optional_int64(10));
    r.kind = s.text(11) == "web" ? directory::SessionKind::web : directory::SessionKind::pam;
    r.secret_hash = s.optional_text(12);
    r.expires_at = time_or_null(s.optional_int64(13));
    return r;
}

core::Result<std::vector<directory::SessionRecord>> read_sessions(Statement& stmt)
{
    std::vector<directory::SessionRecord> out;
    for (;;) {
        LATCHKEY_TRY(row, stmt.step());
        if (!row)
            return out;
        out.push_back(read_session(stmt));
    }
}

/// Closes one session and deletes its refresh tokens (the caller holds a transaction).
core::Result<bool> close_one(sql::Connection& db, const std::string& session_id, core::TimePoint at)
{
    // Closing twice (PAM may call close_session more than once) leaves the first time alone.
    LATCHKEY_TRY(stmt, db.prepare("UPDATE sessions SET closed_at = ?2 "
                                  "WHERE id = ?1 AND closed_at IS NULL"));
    LATCHKEY_TRY_STATUS(stmt.bind(session_id, core::to_unix(at)));
    LATCHKEY_TRY_STATUS(stmt.run());
    const bool closed = stmt.changes() > 0;
    LATCHKEY_TRY(tokens, db.prepare("DELETE FROM oidc_refresh_tokens "
                                    "WHERE session_id = ?1"));
    LATCHKEY_TRY_STATUS(tokens.bind(session_id));
    LATCHKEY_TRY_STATUS(tokens.run());
    return closed;
}

} // namespace

core::Status SqlStore::rehash_password(const std::string& user_id,
                                       const std::string& old_hash,
                                       const std::string& new_hash)
{
    // An empty hash means "no password": a rehash must never turn into removing it.
    if (new_hash.empty() || old_hash.empty())
        return core::fail(Errc::invalid_argument, "a rehashed password cannot be empty");
    return with_connection(*pool_, [&](sql::Connection& db) -> core::Status {
        return update_user(
            db, "UPDATE users SET password_hash = ?3 WHERE id = ?1 AND password_hash = ?2", user_id,
            old_hash, new_hash);
    });
}

// ---- logon failures and lockout -----------------------------------------------------------

namespace {

/// The user's lock in force at `now`, inside the caller's transaction; not_found for no user.
core::Result<std::optional<core::TimePoint>>
read_lock(sql::Connection& db, const std::string& user_id, core::TimePoint now)
{
    LATCHKEY_TRY(stmt, db.prepare("SELECT locked_until FROM users WHERE id = ?1"));
    LATCHKEY_TRY_STATUS(stmt.bind(user_id));
    LATCHKEY_TRY(row, stmt.step());
    if (!row)
        return core::fail(Errc::not_found, user_not_found(user_id));
    const auto until = stmt.optional_int64(0);
    if (!until || *until <= core::to_unix(now))
        return std::optional<core::TimePoint>{};
    return std::optional<core::TimePoint>{core::from_unix(*until)};
}

} // namespace

core::Result<directory::FailureTally> SqlStore::record_failure(const std::string& user_id,
                                                               core::TimePoint at,
                                                               core::TimePoint window_start,
                                                               std::uint32_t limit,
                                                               core::TimePoint lock_until)
{
    return with_connection(
        *pool_, [&](sql::Connection& db) -> core::Result<directory::FailureTally> {
            LATCHKEY_TRY(txn, Transaction::begin(db));

            LATCHKEY_TRY(insert,
                         db.prepare("INSERT INTO logon_failures (user_id, at) VALUES (?1, ?2)"));
            LATCHKEY_TRY_STATUS(insert.bind(user_id, core::to_unix(at)));
            LATCHKEY_TRY_STATUS(run_for_user(insert, user_id));

            // Failures before the window can never count again: drop them so the table stays small.
            LATCHKEY_TRY(prune, db.prepare("DELETE FROM logon_failures "
                                           "WHERE user_id = ?1 AND at < ?2"));
            LATCHKEY_TRY_STATUS(prune.bind(user_id, core::to_unix(window_start)));
            LATCHKEY_TRY_STATUS(prune.run());

            LATCHKEY_TRY(count, db.prepare("SELECT count(*) FROM logon_failures "
                                           "WHERE user_id = ?1 AND at >= ?2"));
            LATCHKEY_TRY_STATUS(count.bind(user_id, core::to_unix(window_start)));
            LATCHKEY_TRY(row, count.step());
            constexpr std::int64_t max = std::numeric_limits<std::uint32_t>::max();
            directory::FailureTally tally;
            tally.failures = static_cast<std::uint32_t>(
                row ? std::clamp<std::int64_t>(count.int64(0), 0, max) : 0);
            count.reset();

            LATCHKEY_TRY(in_force, read_lock(db, user_id, at));
            tally.locked_until = in_force;
            if (!in_force && limit != 0 && tally.failures >= limit) {
                LATCHKEY_TRY(lock_user,
                             db.prepare("UPDATE users SET locked_until = ?2 WHERE id = ?1"));
                LATCHKEY_TRY_STATUS(lock_user.bind(user_id, core::to_unix(lock_until)));
                LATCHKEY_TRY_STATUS(run_for_user(lock_user, user_id));
                tally.locked_until = lock_until;
                tally.locked_now = true;
            }
            LATCHKEY_TRY_STATUS(txn.commit());
            return tally;
        });
}

core::Result<std::optional<core::TimePoint>> SqlStore::settle_success(const std::string& user_id,
                                                                      core::TimePoint now)
{
    return with_connection(
        *pool_, [&](sql::Connection& db) -> core::Result<std::optional<core::TimePoint>> {
            LATCHKEY_TRY(txn, Transaction::begin(db));
            LATCHKEY_TRY(in_force, read_lock(db, user_id, now));
            if (in_force)
                return in_force; // the transaction rolls back: nothing was written
            LATCHKEY_TRY(stmt, db.prepare("DELETE FROM logon_failures WHERE user_id = ?1"));
            LATCHKEY_TRY_STATUS(stmt.bind(user_id));
            LATCHKEY_TRY_STATUS(stmt.run());
            LATCHKEY_TRY_STATUS(txn.commit());
            return std::optional<core::TimePoint>{};
        });
}

core::Result<std::optional<core::TimePoint>> SqlStore::lock_in_force(const std::string& user_id,
                                                                     core::TimePoint now)
{
    return with_connection(
        *pool_, [&](sql::Connection& db) -> core::Result<std::optional<core::TimePoint>> {
            return read_lock(db, user_id, now);
        });
}

core::Status SqlStore::clear_failures(const std::string& user_id)
{
    return with_connection(*pool_, [&](sql::Connection& db) -> core::Status {
        LATCHKEY_TRY(txn, Transaction::begin(db));
        // Like every other write by user id, an unknown user is not_found (a user with no
        // failures is not: clearing nothing is fine).
        LATCHKEY_TRY(exists, row_exists(db, "SELECT 1 FROM users WHERE id = ?1", user_id));
        if (!exists)
            return core::fail(Errc::not_found, user_not_found(user_id));
        LATCHKEY_TRY(stmt, db.prepare("DELETE FROM logon_failures WHERE user_id = ?1"));
        LATCHKEY_TRY_STATUS(stmt.bind(user_id));
        LATCHKEY_TRY_STATUS(stmt.run());
        return txn.commit();
    });
}

core::Status SqlStore::set_locked_until(const std::string& user_id,
                                        std::optional<core::TimePoint> until)
{
    return with_connection(*pool_, [&](sql::Connection& db) -> core::Status {
        return update_user(db, "UPDATE users SET locked_until = ?2 WHERE id = ?1", user_id,
                           unix_or_null(until));
    });
}

// ---- sessions -----------------------------------------------------------------------------

core::Status SqlStore::create_session(const directory::SessionRecord& s)
{
    return with_connection(*pool_, [&](sql::Connection& db) -> core::Status {
        LATCHKEY_TRY(txn, Transaction::begin(db));
        std::string sql = "INSERT INTO sessions (";
        sql += session_columns;
        sql += ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)";
        LATCHKEY_TRY(stmt, db.prepare(sql));
        LATCHKEY_TRY_STATUS(
            stmt.bind(s.id, s.user_id, s.service, s.tty, s.rhost, s.pid, s.logind_session,
                      s.logon_id, s.method, core::to_unix(s.opened_at), unix_or_null(s.closed_at),
                      std::string(to_string(s.kind)), s.secret_hash, unix_or_null(s.expires_at)));
        if (auto done = run_for_user(stmt, s.user_id); !done) {
            if (done.error().is(Errc::already_exists))
                return core::fail(Errc::already_exists, "session id '" + s.id + "' already exists");
            return done;
        }
        return txn.commit();
    });
}

core::Result<bool> SqlStore::close_session(const std::string& session_id, core::TimePoint at)
{
    return with_connection(*pool_, [&](sql::Connection& db) -> core::Result<bool> {
        LATCHKEY_TRY(txn, Transaction::begin(db));
        LATCHKEY_TRY(closed, close_one(db, session_id, at));
        LATCHKEY_TRY_STATUS(txn.commit());
        return closed;
    });
}

core::Result<std::vector<directory::SessionRecord>>
SqlStore::open_sessions(const std::optional<std::string>& user_id, core::TimePoint now)
{
    return with_connection(
        *pool_, [&](sql::Connection& db) -> core::Result<std::vector<directory::SessionRecord>> {
            std::string sql = "SELECT ";
            sql += session_columns;
            sql += " FROM sessions WHERE ";
            sql += open_at_now;
            if (user_id)
                sql += " AND user_id = ?2";
            // rowid breaks ties between sessions opened in the same second: insertion order.
            sql += " ORDER BY opened_at, rowid";
            LATCHKEY_TRY(stmt, db.prepare(sql));
            LATCHKEY_TRY_STATUS(stmt.bind(core::to_unix(now)));
            if (user_id)
                LATCHKEY_TRY_STATUS(stmt.bind_at(2, *user_id));
            return read_sessions(stmt);
        });
}

core::Result<std::optional<directory::SessionRecord>> SqlStore::session(const std::string& id)
{
    return with_connection(
        *pool_, [&](sql::Connection& db) -> core::Result<std::optional<directory::SessionRecord>> {
            std::string sql = "SELECT ";
            sql += session_columns;
            sql += " FROM sessions WHERE id = ?1";
            LATCHKEY_TRY(stmt, db.prepare(sql));
            LATCHKEY_TRY_STATUS(stmt.bind(id));
            LATCHKEY_TRY(row, stmt.step());
            if (!row)
                return std::optional<directory::SessionRecord>{};
            return std::optional<directory::SessionRecord>{read_session(stmt)};
        });
}

core::Result<std::optional<directory::SessionRecord>>
SqlStore::web_session(const std::string& secret_hash, core::TimePoint now)
{
    return with_connection(
        *pool_, [&](sql::Connection& db) -> core::Result<std::optional<directory::SessionRecord>> {
            std::string sql = "SELECT ";
            sql += session_columns;
            sql += " FROM sessions WHERE secret_hash = ?2 AND kind = 'web' AND ";
            sql += open_at_now;
            LATCHKEY_TRY(stmt, db.prepare(sql));
            LATCHKEY_TRY_STATUS(stmt.bind(core::to_unix(now), secret_hash));
            LATCHKEY_TRY(row, stmt.step());
            if (!row)
                return std::optional<directory::SessionRecord>{};
            return std::optional<directory::SessionRecord>{read_session(stmt)};
        });
}

core::Result<std::vector<directory::SessionRecord>> SqlStore::expire_web_state(core::TimePoint now)
{
    return with_connection(
        *pool_, [&](sql::Connection& db) -> core::Result<std::vector<directory::SessionRecord>> {
            LATCHKEY_TRY(txn, Transaction::begin(db));
            std::string sql = "SELECT ";
            sql += session_columns;
            sql += " FROM sessions WHERE kind = 'web' AND closed_at IS NULL AND expires_at < ?1";
            LATCHKEY_TRY(select, db.prepare(sql));
            LATCHKEY_TRY_STATUS(select.bind(core::to_unix(now)));
            LATCHKEY_TRY(ended, read_sessions(select));
            for (auto& s : ended) {
                LATCHKEY_TRY_STATUS(close_one(db, s.id, now));
                s.closed_at = now;
            }
            for (const char* prune : {"DELETE FROM oidc_refresh_tokens WHERE expires_at < ?1",
                                      "DELETE FROM oidc_revoked_tokens WHERE expires_at < ?1",
                                      "DELETE FROM oidc_family_access_tokens WHERE expires_at < ?1",
                                      "DELETE FROM oidc_codes WHERE keep_until < ?1",
                                      "DELETE FROM web_pending WHERE expires_at < ?1"}) {
                LATCHKEY_TRY(stmt, db.prepare(prune));
                LATCHKEY_TRY_STATUS(stmt.bind(core::to_unix(now)));
                LATCHKEY_TRY_STATUS(stmt.run());
            }
            LATCHKEY_TRY_STATUS(txn.commit());
            return ended;
        });
}

core::Status SqlStore::put_pending(const directory::PendingRecord& p)
{
    return with_connection(*pool_, [&](sql::Connection& db) -> core::Status {
        LATCHKEY_TRY(stmt,
                     db.prepare("INSERT INTO web_pending (kind, key, data, expires_at) "
                                "VALUES (?1, ?2, ?3, ?4) ON CONFLICT (kind, key) DO UPDATE "
                                "SET data = excluded.data, expires_at = excluded.expires_at"));
        LATCHKEY_TRY_STATUS(stmt.bind(to_string(p.kind), p.key,
                                      core::base64_encode(p.data, false, true),
                                      core::to_unix(p.expires_at)));
        return stmt.run();
    });
}

core::Result<std::optional<directory::PendingRecord>>
SqlStore::take_pending(directory::PendingKind kind, const std::string& key, core::TimePoint now)
{
    using Taken = std::optional<directory::PendingRecord>;
    return with_connection(*pool_, [&](sql::Connection& db) -> core::Result<Taken> {
        // One statement: of two requests taking the record at once, one deletes the row.
        LATCHKEY_TRY(stmt, db.prepare("DELETE FROM web_pending WHERE kind = ?1 AND key = ?2 "
                                      "RETURNING data, expires_at"));
        LATCHKEY_TRY_STATUS(stmt.bind(to_string(kind), key));
        LATCHKEY_TRY(row, stmt.step());
        if (!row)
            return Taken{};
        directory::PendingRecord p{kind, key, {}, core::from_unix(stmt.int64(1))};
        auto data = core::base64_decode(stmt.text(0));
        stmt.reset();
        if (!data)
            return core::fail(Errc::store_failed, "pending work is not valid base64");
        if (p.expires_at < now)
            return Taken{};
        p.data = std::move(*data);
        return Taken{std::move(p)};
    });
}

core::Result<std::int64_t> SqlStore::count_pending(directory::PendingKind kind, core::TimePoint now)
{
    return with_connection(*pool_, [&](sql::Connection& db) -> core::Result<std::int64_t> {
        LATCHKEY_TRY(stmt, db.prepare("SELECT count(*) FROM web_pending "
                                      "WHERE kind = ?1 AND expires_at >= ?2"));
        LATCHKEY_TRY_STATUS(stmt.bind(to_string(kind), core::to_unix(now)));
        LATCHKEY_TRY(row, stmt.step());
        return row ? stmt.int64(0) : std::int64_t{0};
    });
}

} // namespace latchkey::sql
