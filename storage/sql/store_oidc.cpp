// SPDX-License-Identifier: Apache-2.0
// SqliteStore's web records: OIDC signing keys and clients (schema 5), access keys (schema 6).
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/random.hpp"
#include "storage/sql/rows.hpp"
#include "storage/sql/sql.hpp"
#include "storage/sql/store.hpp"

namespace latchkey::sql {

namespace {

using core::Errc;
using namespace rows;

constexpr std::string_view key_columns =
    "kid, alg, sealed_pem, created_at, retired_at, unpublish_at";

core::Result<directory::OidcKeyRecord> read_key(const Statement& s)
{
    directory::OidcKeyRecord k;
    k.kid = s.text(0);
    k.alg = s.text(1);
    auto sealed = core::base64_decode(s.text(2));
    if (!sealed)
        return core::fail(corrupt("sealed signing key '" + k.kid + "'"));
    k.sealed_pem = std::move(*sealed);
    k.created_at = core::from_unix(s.int64(3));
    k.retired_at = time_or_null(s.optional_int64(4));
    k.unpublish_at = time_or_null(s.optional_int64(5));
    return k;
}

constexpr std::string_view client_columns =
    "id, name, secret_hash, public, redirect_uris, post_logout_redirect_uris, "
    "backchannel_logout_uri, scopes, id_token_alg, claims_in_id_token, require_consent, "
    "created_at";

core::Result<directory::OidcClientRecord> read_client(const Statement& s)
{
    directory::OidcClientRecord c;
    c.id = s.text(0);
    c.name = s.text(1);
    c.secret_hash = s.text(2);
    c.is_public = s.boolean(3);
    LATCHKEY_TRY(redirects, string_list_from_json(s.text(4), "client redirect_uris"));
    c.redirect_uris = std::move(redirects);
    LATCHKEY_TRY(logouts, string_list_from_json(s.text(5), "client post_logout_redirect_uris"));
    c.post_logout_redirect_uris = std::move(logouts);
    c.backchannel_logout_uri = s.optional_text(6);
    LATCHKEY_TRY(scopes, string_list_from_json(s.text(7), "client scopes"));
    c.scopes = std::move(scopes);
    c.id_token_alg = s.text(8);
    c.claims_in_id_token = s.boolean(9);
    c.require_consent = s.boolean(10);
    c.created_at = core::from_unix(s.int64(11));
    return c;
}

constexpr std::string_view access_key_columns =
    "id, user_id, secret_hash, enabled, created_at, last_used_at";

directory::AccessKeyRecord read_access_key(const Statement& s)
{
    directory::AccessKeyRecord k;
    k.id = s.text(0);
    k.user_id = s.text(1);
    k.secret_hash = s.text(2);
    k.enabled = s.boolean(3);
    k.created_at = core::from_unix(s.int64(4));
    k.last_used_at = time_or_null(s.optional_int64(5));
    return k;
}

/// One UPDATE or DELETE of an access key by id (?1); not_found when there is none.
template <class... Args>
core::Status change_access_key(sql::Connection& db,
                               std::string_view sql,
                               const std::string& id,
                               const Args&... args)
{
    LATCHKEY_TRY(txn, Transaction::begin(db));
    LATCHKEY_TRY(stmt, db.prepare(sql));
    LATCHKEY_TRY_STATUS(stmt.bind(id, args...));
    LATCHKEY_TRY_STATUS(stmt.run());
    if (stmt.changes() == 0)
        return core::fail(Errc::not_found, "no access key '" + id + "'");
    return txn.commit();
}

} // namespace

core::Status SqlStore::add_access_key(const directory::AccessKeyRecord& k)
{
    return with_connection(*pool_, [&](sql::Connection& db) -> core::Status {
        LATCHKEY_TRY(txn, Transaction::begin(db));
        std::string sql = "INSERT INTO access_keys (";
        sql += access_key_columns;
        sql += ") VALUES (?1, ?2, ?3, ?4, ?5, ?6)";
        LATCHKEY_TRY(stmt, db.prepare(sql));
        LATCHKEY_TRY_STATUS(stmt.bind(k.id, k.user_id, k.secret_hash, k.enabled,
                                      core::to_unix(k.created_at), unix_or_null(k.last_used_at)));
        LATCHKEY_TRY_STATUS(run_for_user(stmt, k.user_id));
        return txn.commit();
    });
}

core::Result<std::optional<directory::AccessKeyRecord>> SqlStore::access_key(const std::string& id)
{
    return with_connection(
        *pool_,
        [&](sql::Connection& db) -> core::Result<std::optional<directory::AccessKeyRecord>> {
            std::string sql = "SELECT ";
            sql += access_key_columns;
            sql += " FROM access_keys WHERE id = ?1";
            LATCHKEY_TRY(stmt, db.prepare(sql));
            LATCHKEY_TRY_STATUS(stmt.bind(id));
            LATCHKEY_TRY(row, stmt.step());
            if (!row)
                return std::optional<directory::AccessKeyRecord>{};
            return std::optional<directory::AccessKeyRecord>{read_access_key(stmt)};
        });
}

core::Result<std::vector<directory::AccessKeyRecord>>
SqlStore::access_keys(const std::optional<std::string>& user_id)
{
    return with_connection(
        *pool_, [&](sql::Connection& db) -> core::Result<std::vector<directory::AccessKeyRecord>> {
            std::string sql = "SELECT ";
            sql += access_key_columns;
            sql += " FROM access_keys";
            if (user_id)
                sql += " WHERE user_id = ?1";
            sql += " ORDER BY created_at, rowid";
            LATCHKEY_TRY(stmt, db.prepare(sql));
            if (user_id)
                LATCHKEY_TRY_STATUS(stmt.bind(*user_id));
            std::vector<directory::AccessKeyRecord> out;
            for (;;) {
                LATCHKEY_TRY(row, stmt.step());
                if (!row)
                    return out;
                out.push_back(read_access_key(stmt));
            }
        });
}

core::Status SqlStore::set_access_key_enabled(const std::string& id, bool enabled)
{
    return with_connection(*pool_, [&](sql::Connection& db) -> core::Status {
        return change_access_key(db, "UPDATE access_keys SET enabled = ?2 WHERE id = ?1", id,
                                 enabled);
    });
}

core::Status SqlStore::delete_access_key(const std::string& id)
{
    return with_connection(*pool_, [&](sql::Connection& db) -> core::Status {
        return change_access_key(db, "DELETE FROM access_keys WHERE id = ?1", id);
    });
}

core::Status SqlStore::touch_access_key(const std::string& id, core::TimePoint at)
{
    return with_connection(*pool_, [&](sql::Connection& db) -> core::Status {
        return change_access_key(db, "UPDATE access_keys SET last_used_at = ?2 WHERE id = ?1", id,
                                 core::to_unix(at));
    });
}

core::Status SqlStore::add_oidc_key(const directory::OidcKeyRecord& k)
{
    return with_connection(*pool_, [&](sql::Connection& db) -> core::Status {
        LATCHKEY_TRY(txn, Transaction::begin(db));
        std::string sql = "INSERT INTO oidc_keys (";
        sql += key_columns;
        sql += ") VALUES (?1, ?2, ?3, ?4, ?5, ?6)";
        LATCHKEY_TRY(stmt, db.prepare(sql));
        LATCHKEY_TRY_STATUS(stmt.bind(k.kid, k.alg, core::base64_encode(k.sealed_pem, false, true),
                                      core::to_unix(k.created_at), unix_or_null(k.retired_at),
                                      unix_or_null(k.unpublish_at)));
        if (auto done = stmt.run(); !done) {
            if (done.error().is(Errc::already_exists))
                return core::fail(Errc::already_exists,
                                  "signing key '" + k.kid + "' already exists");
            return done;
        }
        return txn.commit();
    });
}

core::Result<std::vector<directory::OidcKeyRecord>> SqlStore::oidc_keys(core::TimePoint now)
{
    return with_connection(
        *pool_, [&](sql::Connection& db) -> core::Result<std::vector<directory::OidcKeyRecord>> {
            std::string sql = "SELECT ";
            sql += key_columns;
            sql += " FROM oidc_keys WHERE unpublish_at IS NULL OR unpublish_at > ?1 "
                   "ORDER BY created_at DESC, rowid DESC";
            LATCHKEY_TRY(stmt, db.prepare(sql));
            LATCHKEY_TRY_STATUS(stmt.bind(core::to_unix(now)));
            std::vector<directory::OidcKeyRecord> out;
            for (;;) {
                LATCHKEY_TRY(row, stmt.step());
                if (!row)
                    return out;
                LATCHKEY_TRY(key, read_key(stmt));
                out.push_back(std::move(key));
            }
        });
}

core::Status
SqlStore::retire_oidc_key(const std::string& kid, core::TimePoint at, core::TimePoint unpublish_at)
{
    return with_connection(*pool_, [&](sql::Connection& db) -> core::Status {
        LATCHKEY_TRY(txn, Transaction::begin(db));
        LATCHKEY_TRY(stmt, db.prepare("UPDATE oidc_keys SET retired_at = ?2, "
                                      "unpublish_at = ?3 WHERE kid = ?1 "
                                      "AND retired_at IS NULL"));
        LATCHKEY_TRY_STATUS(stmt.bind(kid, core::to_unix(at), core::to_unix(unpublish_at)));
        LATCHKEY_TRY_STATUS(stmt.run());
        if (stmt.changes() == 0)
            return core::fail(Errc::not_found, "no signing key '" + kid + "' in use");
        return txn.commit();
    });
}

core::Status SqlStore::add_oidc_client(const directory::OidcClientRecord& c)
{
    return with_connection(*pool_, [&](sql::Connection& db) -> core::Status {
        LATCHKEY_TRY(txn, Transaction::begin(db));
        std::string sql = "INSERT INTO oidc_clients (";
        sql += client_columns;
        sql += ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)";
        LATCHKEY_TRY(stmt, db.prepare(sql));
        LATCHKEY_TRY_STATUS(stmt.bind(
            c.id, c.name, c.secret_hash, c.is_public, string_list_to_json(c.redirect_uris),
            string_list_to_json(c.post_logout_redirect_uris), c.backchannel_logout_uri,
            string_list_to_json(c.scopes), c.id_token_alg, c.claims_in_id_token, c.require_consent,
            core::to_unix(c.created_at)));
        if (auto done = stmt.run(); !done) {
            if (done.error().is(Errc::already_exists))
                return core::fail(Errc::already_exists, "client '" + c.id + "' already exists");
            return done;
        }
        return txn.commit();
    });
}

core::Result<std::optional<directory::OidcClientRecord>>
SqlStore::oidc_client(const std::string& id)
{
    return with_connection(
        *pool_,
        [&](sql::Connection& db) -> core::Result<std::optional<directory::OidcClientRecord>> {
            std::string sql = "SELECT ";
            sql += client_columns;
            sql += " FROM oidc_clients WHERE id = ?1";
            LATCHKEY_TRY(stmt, db.prepare(sql));
            LATCHKEY_TRY_STATUS(stmt.bind(id));
            LATCHKEY_TRY(row, stmt.step());
            if (!row)
                return std::optional<directory::OidcClientRecord>{};
            LATCHKEY_TRY(client, read_client(stmt));
            return std::optional<directory::OidcClientRecord>{std::move(client)};
        });
}

core::Result<std::vector<directory::OidcClientRecord>> SqlStore::oidc_clients()
{
    return with_connection(
        *pool_, [&](sql::Connection& db) -> core::Result<std::vector<directory::OidcClientRecord>> {
            std::string sql = "SELECT ";
            sql += client_columns;
            sql += " FROM oidc_clients ORDER BY id";
            LATCHKEY_TRY(stmt, db.prepare(sql));
            std::vector<directory::OidcClientRecord> out;
            for (;;) {
                LATCHKEY_TRY(row, stmt.step());
                if (!row)
                    return out;
                LATCHKEY_TRY(client, read_client(stmt));
                out.push_back(std::move(client));
            }
        });
}

core::Status SqlStore::remove_oidc_client(const std::string& id)
{
    return with_connection(*pool_, [&](sql::Connection& db) -> core::Status {
        LATCHKEY_TRY(txn, Transaction::begin(db));
        LATCHKEY_TRY(stmt, db.prepare("DELETE FROM oidc_clients WHERE id = ?1"));
        LATCHKEY_TRY_STATUS(stmt.bind(id));
        LATCHKEY_TRY_STATUS(stmt.run());
        if (stmt.changes() == 0)
            return core::fail(Errc::not_found, "no client '" + id + "'");
        return txn.commit();
    });
}

} // namespace latchkey::sql
