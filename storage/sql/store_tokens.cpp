// SPDX-License-Identifier: Apache-2.0
// SqlStore's OpenID Connect grants: authorization codes, refresh tokens, revoked access tokens,
// the clients of a browser session, and consents.
#include <algorithm>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.hpp"
#include "storage/sql/rows.hpp"
#include "storage/sql/sql.hpp"
#include "storage/sql/store.hpp"

namespace latchkey::sql {

namespace {

using core::Errc;
using namespace rows;

constexpr std::string_view refresh_columns =
    "token_hash, family, client_id, user_id, session_id, scopes, auth_time, method, expires_at, "
    "rotated_at";

core::Result<directory::RefreshTokenRecord> read_refresh(const Statement& s)
{
    directory::RefreshTokenRecord r;
    r.token_hash = s.text(0);
    r.family = s.text(1);
    r.client_id = s.text(2);
    r.user_id = s.text(3);
    r.session_id = s.text(4);
    LATCHKEY_TRY(scopes, string_list_from_json(s.text(5), "refresh token scope list"));
    r.scopes = std::move(scopes);
    r.auth_time = core::from_unix(s.int64(6));
    r.method = s.text(7);
    r.expires_at = core::from_unix(s.int64(8));
    r.rotated_at = time_or_null(s.optional_int64(9));
    return r;
}

/// Inserts a token, only for a session that is still open (the caller holds a transaction).
core::Status insert_refresh(sql::Connection& db, const directory::RefreshTokenRecord& t)
{
    LATCHKEY_TRY(open, row_exists(db, "SELECT 1 FROM sessions WHERE id = ?1 AND closed_at IS NULL",
                                  t.session_id));
    if (!open)
        return core::fail(Errc::not_found, "the session of this refresh token has ended");
    std::string sql = "INSERT INTO oidc_refresh_tokens (";
    sql += refresh_columns;
    sql += ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)";
    LATCHKEY_TRY(stmt, db.prepare(sql));
    LATCHKEY_TRY_STATUS(stmt.bind(t.token_hash, t.family, t.client_id, t.user_id, t.session_id,
                                  string_list_to_json(t.scopes), core::to_unix(t.auth_time),
                                  t.method, core::to_unix(t.expires_at),
                                  unix_or_null(t.rotated_at)));
    if (auto done = stmt.run(); !done) {
        if (stmt.violation() == Violation::foreign_key)
            return core::fail(Errc::not_found, "the client or user of this token is gone");
        return done;
    }
    return {};
}

} // namespace

core::Status SqlStore::add_session_client(const std::string& session_id,
                                          const std::string& client_id)
{
    return with_connection(*pool_, [&](sql::Connection& db) -> core::Status {
        LATCHKEY_TRY(
            stmt,
            db.prepare("INSERT INTO oidc_session_clients (session_id, client_id) VALUES (?1, ?2) "
                       "ON CONFLICT DO NOTHING"));
        LATCHKEY_TRY_STATUS(stmt.bind(session_id, client_id));
        if (auto done = stmt.run(); !done) {
            if (stmt.violation() == Violation::foreign_key)
                return core::fail(Errc::not_found, "no such session or client");
            return done;
        }
        return {};
    });
}

core::Result<std::vector<std::string>> SqlStore::session_clients(const std::string& session_id)
{
    return with_connection(
        *pool_, [&](sql::Connection& db) -> core::Result<std::vector<std::string>> {
            LATCHKEY_TRY(stmt, db.prepare("SELECT client_id FROM oidc_session_clients "
                                          "WHERE session_id = ?1 ORDER BY client_id"));
            LATCHKEY_TRY_STATUS(stmt.bind(session_id));
            std::vector<std::string> out;
            for (;;) {
                LATCHKEY_TRY(row, stmt.step());
                if (!row)
                    return out;
                out.push_back(stmt.text(0));
            }
        });
}

core::Status SqlStore::add_refresh_token(const directory::RefreshTokenRecord& token)
{
    return with_connection(*pool_, [&](sql::Connection& db) -> core::Status {
        LATCHKEY_TRY(txn, Transaction::begin(db));
        LATCHKEY_TRY_STATUS(insert_refresh(db, token));
        return txn.commit();
    });
}

core::Result<std::optional<directory::RefreshTokenRecord>>
SqlStore::refresh_token(const std::string& token_hash)
{
    return with_connection(
        *pool_,
        [&](sql::Connection& db) -> core::Result<std::optional<directory::RefreshTokenRecord>> {
            std::string sql = "SELECT ";
            sql += refresh_columns;
            sql += " FROM oidc_refresh_tokens WHERE token_hash = ?1";
            LATCHKEY_TRY(stmt, db.prepare(sql));
            LATCHKEY_TRY_STATUS(stmt.bind(token_hash));
            LATCHKEY_TRY(row, stmt.step());
            if (!row)
                return std::optional<directory::RefreshTokenRecord>{};
            LATCHKEY_TRY(t, read_refresh(stmt));
            return std::optional<directory::RefreshTokenRecord>{std::move(t)};
        });
}

core::Status SqlStore::rotate_refresh_token(const std::string& old_hash,
                                            core::TimePoint at,
                                            const directory::RefreshTokenRecord& next)
{
    return with_connection(*pool_, [&](sql::Connection& db) -> core::Status {
        LATCHKEY_TRY(txn, Transaction::begin(db));
        LATCHKEY_TRY(mark, db.prepare("UPDATE oidc_refresh_tokens SET rotated_at = ?2 "
                                      "WHERE token_hash = ?1 AND rotated_at IS NULL"));
        LATCHKEY_TRY_STATUS(mark.bind(old_hash, core::to_unix(at)));
        LATCHKEY_TRY_STATUS(mark.run());
        LATCHKEY_TRY(
            still,
            row_exists(db, "SELECT 1 FROM oidc_refresh_tokens WHERE token_hash = ?1", old_hash));
        if (!still) // its family ended meanwhile
            return core::fail(Errc::not_found, "the refresh token was revoked");
        LATCHKEY_TRY_STATUS(insert_refresh(db, next));
        return txn.commit();
    });
}

core::Result<std::uint32_t> SqlStore::delete_refresh_family(const std::string& family)
{
    return with_connection(*pool_, [&](sql::Connection& db) -> core::Result<std::uint32_t> {
        LATCHKEY_TRY(txn, Transaction::begin(db));
        LATCHKEY_TRY(revoke, db.prepare("INSERT INTO oidc_revoked_tokens (jti, expires_at) "
                                        "SELECT jti, expires_at FROM oidc_family_access_tokens "
                                        "WHERE family = ?1 ON CONFLICT DO NOTHING"));
        LATCHKEY_TRY_STATUS(revoke.bind(family));
        LATCHKEY_TRY_STATUS(revoke.run());
        LATCHKEY_TRY(forget, db.prepare("DELETE FROM oidc_family_access_tokens "
                                        "WHERE family = ?1"));
        LATCHKEY_TRY_STATUS(forget.bind(family));
        LATCHKEY_TRY_STATUS(forget.run());
        LATCHKEY_TRY(stmt, db.prepare("DELETE FROM oidc_refresh_tokens WHERE family = ?1"));
        LATCHKEY_TRY_STATUS(stmt.bind(family));
        LATCHKEY_TRY_STATUS(stmt.run());
        constexpr std::int64_t max = std::numeric_limits<std::uint32_t>::max();
        const auto deleted = static_cast<std::uint32_t>(std::min(stmt.changes(), max));
        LATCHKEY_TRY_STATUS(txn.commit());
        return deleted;
    });
}

core::Status SqlStore::add_family_access_token(const std::string& family,
                                               const std::string& jti,
                                               core::TimePoint expires_at)
{
    return with_connection(*pool_, [&](sql::Connection& db) -> core::Status {
        LATCHKEY_TRY(stmt, db.prepare("INSERT INTO oidc_family_access_tokens "
                                      "(jti, family, expires_at) VALUES (?1, ?2, ?3)"));
        LATCHKEY_TRY_STATUS(stmt.bind(jti, family, core::to_unix(expires_at)));
        return stmt.run();
    });
}

core::Status SqlStore::revoke_access_token(const std::string& jti, core::TimePoint expires_at)
{
    return with_connection(*pool_, [&](sql::Connection& db) -> core::Status {
        LATCHKEY_TRY(stmt,
                     db.prepare("INSERT INTO oidc_revoked_tokens (jti, expires_at) VALUES (?1, ?2) "
                                "ON CONFLICT DO NOTHING"));
        LATCHKEY_TRY_STATUS(stmt.bind(jti, core::to_unix(expires_at)));
        return stmt.run();
    });
}

core::Result<bool> SqlStore::access_token_revoked(const std::string& jti)
{
    return with_connection(*pool_, [&](sql::Connection& db) -> core::Result<bool> {
        return row_exists(db, "SELECT 1 FROM oidc_revoked_tokens WHERE jti = ?1", jti);
    });
}

core::Result<std::optional<std::vector<std::string>>>
SqlStore::consent(const std::string& user_id, const std::string& client_id)
{
    return with_connection(
        *pool_, [&](sql::Connection& db) -> core::Result<std::optional<std::vector<std::string>>> {
            LATCHKEY_TRY(stmt, db.prepare("SELECT scopes FROM oidc_consents "
                                          "WHERE user_id = ?1 AND client_id = ?2"));
            LATCHKEY_TRY_STATUS(stmt.bind(user_id, client_id));
            LATCHKEY_TRY(row, stmt.step());
            if (!row)
                return std::optional<std::vector<std::string>>{};
            LATCHKEY_TRY(scopes, string_list_from_json(stmt.text(0), "consent scope list"));
            return std::optional<std::vector<std::string>>{std::move(scopes)};
        });
}

core::Status SqlStore::set_consent(const std::string& user_id,
                                   const std::string& client_id,
                                   const std::vector<std::string>& scopes,
                                   core::TimePoint at)
{
    return with_connection(*pool_, [&](sql::Connection& db) -> core::Status {
        LATCHKEY_TRY(stmt,
                     db.prepare("INSERT INTO oidc_consents (user_id, client_id, scopes, "
                                "granted_at) VALUES (?1, ?2, ?3, ?4) "
                                "ON CONFLICT (user_id, client_id) DO UPDATE SET "
                                "scopes = excluded.scopes, granted_at = excluded.granted_at"));
        LATCHKEY_TRY_STATUS(
            stmt.bind(user_id, client_id, string_list_to_json(scopes), core::to_unix(at)));
        if (auto done = stmt.run(); !done) {
            if (stmt.violation() == Violation::foreign_key)
                return core::fail(Errc::not_found, "no such user or client");
            return done;
        }
        return {};
    });
}

// ---- authorization codes -------------------------------------------------------------------

namespace {

constexpr std::string_view code_columns =
    "code_hash, client_id, user_id, session_id, redirect_uri, scopes, nonce, code_challenge, "
    "auth_time, method, expires_at, keep_until, used, family";

} // namespace

core::Status SqlStore::add_auth_code(const directory::AuthCodeRecord& c)
{
    return with_connection(*pool_, [&](sql::Connection& db) -> core::Status {
        std::string sql = "INSERT INTO oidc_codes (";
        sql += code_columns;
        sql += ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)";
        LATCHKEY_TRY(stmt, db.prepare(sql));
        LATCHKEY_TRY_STATUS(stmt.bind(
            c.code_hash, c.client_id, c.user_id, c.session_id, c.redirect_uri,
            string_list_to_json(c.scopes), c.nonce, c.code_challenge, core::to_unix(c.auth_time),
            c.method, core::to_unix(c.expires_at), core::to_unix(c.keep_until), c.used, c.family));
        if (auto done = stmt.run(); !done) {
            if (stmt.violation() == Violation::foreign_key)
                return core::fail(Errc::not_found,
                                  "the client, user or session of this code is gone");
            return done;
        }
        return {};
    });
}

core::Result<std::optional<directory::AuthCodeRecord>>
SqlStore::auth_code(const std::string& code_hash)
{
    return with_connection(
        *pool_, [&](sql::Connection& db) -> core::Result<std::optional<directory::AuthCodeRecord>> {
            LATCHKEY_TRY(txn, Transaction::begin(db, Access::read));
            std::string sql = "SELECT ";
            sql += code_columns;
            sql += " FROM oidc_codes WHERE code_hash = ?1";
            LATCHKEY_TRY(stmt, db.prepare(sql));
            LATCHKEY_TRY_STATUS(stmt.bind(code_hash));
            LATCHKEY_TRY(row, stmt.step());
            if (!row)
                return std::optional<directory::AuthCodeRecord>{};
            directory::AuthCodeRecord c;
            c.code_hash = stmt.text(0);
            c.client_id = stmt.text(1);
            c.user_id = stmt.text(2);
            c.session_id = stmt.text(3);
            c.redirect_uri = stmt.text(4);
            LATCHKEY_TRY(scopes, string_list_from_json(stmt.text(5), "code scope list"));
            c.scopes = std::move(scopes);
            c.nonce = stmt.optional_text(6);
            c.code_challenge = stmt.optional_text(7);
            c.auth_time = core::from_unix(stmt.int64(8));
            c.method = stmt.text(9);
            c.expires_at = core::from_unix(stmt.int64(10));
            c.keep_until = core::from_unix(stmt.int64(11));
            c.used = stmt.boolean(12);
            c.family = stmt.optional_text(13);
            stmt.reset();
            LATCHKEY_TRY(jtis, db.prepare("SELECT jti FROM oidc_code_tokens WHERE code_hash = ?1 "
                                          "ORDER BY jti"));
            LATCHKEY_TRY_STATUS(jtis.bind(code_hash));
            for (;;) {
                LATCHKEY_TRY(more, jtis.step());
                if (!more)
                    break;
                c.access_jtis.push_back(jtis.text(0));
            }
            return std::optional<directory::AuthCodeRecord>{std::move(c)};
        });
}

core::Result<bool> SqlStore::use_auth_code(const std::string& code_hash,
                                           const std::optional<std::string>& family)
{
    return with_connection(*pool_, [&](sql::Connection& db) -> core::Result<bool> {
        // One statement: of two nodes redeeming at once, exactly one changes the row.
        LATCHKEY_TRY(stmt, db.prepare("UPDATE oidc_codes SET used = TRUE, family = ?2 "
                                      "WHERE code_hash = ?1 AND NOT used"));
        LATCHKEY_TRY_STATUS(stmt.bind(code_hash, family));
        LATCHKEY_TRY_STATUS(stmt.run());
        return stmt.changes() == 1;
    });
}

core::Status SqlStore::add_auth_code_token(const std::string& code_hash, const std::string& jti)
{
    return with_connection(*pool_, [&](sql::Connection& db) -> core::Status {
        LATCHKEY_TRY(stmt, db.prepare("INSERT INTO oidc_code_tokens (code_hash, jti) "
                                      "VALUES (?1, ?2) ON CONFLICT DO NOTHING"));
        LATCHKEY_TRY_STATUS(stmt.bind(code_hash, jti));
        if (auto done = stmt.run(); !done) {
            if (stmt.violation() == Violation::foreign_key)
                return core::fail(Errc::not_found, "no such authorization code");
            return done;
        }
        return {};
    });
}

} // namespace latchkey::sql
