// SPDX-License-Identifier: Apache-2.0
// SqliteStore's account lifecycle (seed 003): an account's kind, phone, closing and root
// recovery window, centralized root access; the verification codes sent to an account's phone
// and their daily count; administrators' roles; clearing a user's credentials (schema version 8,
// daemon/migrations.cpp).
#include <cstddef>
#include <cstdint>
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

// ---- values <-> columns -------------------------------------------------------------------

// Both are stored by name (the schema's CHECKs list them), like an account's kind.
std::optional<directory::CodePurpose> purpose_from_name(std::string_view s) noexcept
{
    for (const directory::CodePurpose p :
         {directory::CodePurpose::phone_bind, directory::CodePurpose::root_recovery})
        if (to_string(p) == s)
            return p;
    return std::nullopt;
}

/// "YYYY-MM-DD": the form codes_sent.day holds, so that days compare as text.
bool is_day(std::string_view day) noexcept
{
    if (day.size() != 10)
        return false;
    for (std::size_t i = 0; i < day.size(); ++i) {
        const bool dash = i == 4 || i == 7;
        if (dash ? day[i] != '-' : (day[i] < '0' || day[i] > '9'))
            return false;
    }
    return true;
}

core::Status check_day(const std::string& day)
{
    if (!is_day(day))
        return core::fail(Errc::invalid_argument,
                          "the day '" + day + "' is not of the form YYYY-MM-DD");
    return {};
}

/// Runs a write of a row referring to an account: a foreign-key violation means there is no
/// such account.
core::Status run_for_account(Statement& stmt, const std::string& account_id)
{
    auto done = stmt.run();
    if (!done && stmt.violation() == Violation::foreign_key)
        return core::fail(Errc::not_found, account_not_found(account_id));
    return done;
}

constexpr std::string_view code_columns =
    "account_id, purpose, phone, code_hash, created_at, expires_at, tries_left";

core::Result<directory::VerificationCodeRecord> read_code(const Statement& s)
{
    directory::VerificationCodeRecord c;
    c.account_id = s.text(0);
    const auto purpose = purpose_from_name(s.text(1));
    if (!purpose)
        return core::fail(corrupt("verification code purpose for account '" + c.account_id + "'"));
    c.purpose = *purpose;
    c.phone = s.text(2);
    c.code_hash = s.text(3);
    c.created_at = core::from_unix(s.int64(4));
    c.expires_at = core::from_unix(s.int64(5));
    c.tries_left = read_u32(s, 6);
    return c;
}

constexpr std::string_view role_columns =
    "r.user_id, r.role, r.granted_at, r.granted_by, r.self_revoked_at";

core::Result<std::vector<directory::RoleRecord>> read_roles(Statement& stmt)
{
    std::vector<directory::RoleRecord> out;
    for (;;) {
        LATCHKEY_TRY(row, stmt.step());
        if (!row)
            return out;
        directory::RoleRecord r;
        r.user_id = stmt.text(0);
        const auto role = directory::role_from_string(stmt.text(1));
        if (!role)
            return core::fail(corrupt("role of user '" + r.user_id + "'"));
        r.role = *role;
        r.granted_at = core::from_unix(stmt.int64(2));
        r.granted_by = stmt.text(3);
        r.self_revoked_at = time_or_null(stmt.optional_int64(4));
        out.push_back(std::move(r));
    }
}

/// Runs one statement on ?1 = user_id in the caller's transaction.
core::Status run_on_user(sql::Connection& db, std::string_view sql, const std::string& user_id)
{
    LATCHKEY_TRY(stmt, db.prepare(sql));
    LATCHKEY_TRY_STATUS(stmt.bind(user_id));
    return stmt.run();
}

} // namespace

// ---- accounts and the directory -----------------------------------------------------------

core::Status SqlStore::set_account_kind(const std::string& account_id, proto::AccountKind kind)
{
    return with_connection(*pool_, [&](sql::Connection& db) -> core::Status {
        auto set = update_account(db, "UPDATE accounts SET kind = ?2 WHERE id = ?1", account_id,
                                  kind_name(kind));
        if (!set && set.error().is(Errc::already_exists))
            return core::fail(Errc::already_exists,
                              "the directory already has a management account");
        return set;
    });
}

core::Status SqlStore::set_phone(const std::string& account_id,
                                 const std::optional<std::string>& phone)
{
    if (phone && phone->empty())
        return core::fail(Errc::invalid_argument, "an empty phone number cannot be bound");
    return with_connection(*pool_, [&](sql::Connection& db) -> core::Status {
        return update_account(db, "UPDATE accounts SET phone = ?2 WHERE id = ?1", account_id,
                              phone);
    });
}

core::Status SqlStore::set_closed(const std::string& account_id, core::TimePoint at)
{
    return with_connection(*pool_, [&](sql::Connection& db) -> core::Status {
        return update_account(db, "UPDATE accounts SET closed_at = ?2 WHERE id = ?1", account_id,
                              core::to_unix(at));
    });
}

core::Status SqlStore::set_recovery_window(const std::string& account_id,
                                           std::optional<core::TimePoint> until)
{
    return with_connection(*pool_, [&](sql::Connection& db) -> core::Status {
        return update_account(db, "UPDATE accounts SET recovery_open_until = ?2 WHERE id = ?1",
                              account_id, unix_or_null(until));
    });
}

core::Status SqlStore::set_root_access_centralized(bool enabled)
{
    return with_connection(*pool_, [&](sql::Connection& db) -> core::Status {
        LATCHKEY_TRY(txn, Transaction::begin(db));
        LATCHKEY_TRY(stmt, db.prepare("UPDATE directory SET root_access_centralized = ?1"));
        LATCHKEY_TRY_STATUS(stmt.bind(enabled));
        LATCHKEY_TRY_STATUS(stmt.run());
        if (stmt.changes() == 0)
            return core::fail(Errc::not_found, "the directory has not been created");
        return txn.commit();
    });
}

// ---- verification codes -------------------------------------------------------------------

core::Result<bool> SqlStore::count_code_sent(const std::string& account_id,
                                             const std::string& day,
                                             std::uint32_t limit)
{
    LATCHKEY_TRY_STATUS(check_day(day));
    return with_connection(*pool_, [&](sql::Connection& db) -> core::Result<bool> {
        LATCHKEY_TRY(txn, Transaction::begin(db));
        LATCHKEY_TRY(forget, db.prepare("DELETE FROM codes_sent "
                                        "WHERE account_id = ?1 AND day < ?2"));
        LATCHKEY_TRY_STATUS(forget.bind(account_id, day));
        LATCHKEY_TRY_STATUS(forget.run());

        LATCHKEY_TRY(current, db.prepare("SELECT count FROM codes_sent "
                                         "WHERE account_id = ?1 AND day = ?2"));
        LATCHKEY_TRY_STATUS(current.bind(account_id, day));
        LATCHKEY_TRY(found, current.step());
        const std::uint32_t sent = found ? read_u32(current, 0) : 0U;
        current.reset();
        if (sent >= limit) {
            // At the limit nothing is counted; forgetting the days before still stands.
            LATCHKEY_TRY_STATUS(txn.commit());
            return false;
        }

        LATCHKEY_TRY(count, db.prepare("INSERT INTO codes_sent (account_id, day, count) "
                                       "VALUES (?1, ?2, 1) "
                                       "ON CONFLICT (account_id, day) "
                                       "DO UPDATE SET count = codes_sent.count + 1"));
        LATCHKEY_TRY_STATUS(count.bind(account_id, day));
        LATCHKEY_TRY_STATUS(run_for_account(count, account_id));
        LATCHKEY_TRY_STATUS(txn.commit());
        return true;
    });
}

core::Result<std::uint32_t> SqlStore::codes_sent(const std::string& account_id,
                                                 const std::string& day)
{
    LATCHKEY_TRY_STATUS(check_day(day));
    return with_connection(*pool_, [&](sql::Connection& db) -> core::Result<std::uint32_t> {
        LATCHKEY_TRY(stmt, db.prepare("SELECT count FROM codes_sent "
                                      "WHERE account_id = ?1 AND day = ?2"));
        LATCHKEY_TRY_STATUS(stmt.bind(account_id, day));
        LATCHKEY_TRY(row, stmt.step());
        return row ? read_u32(stmt, 0) : 0U;
    });
}

core::Status SqlStore::put_code(const directory::VerificationCodeRecord& c)
{
    if (c.phone.empty() || c.code_hash.empty())
        return core::fail(Errc::invalid_argument,
                          "a verification code needs the phone it was sent to and its hash");
    return with_connection(*pool_, [&](sql::Connection& db) -> core::Status {
        LATCHKEY_TRY(txn, Transaction::begin(db));
        std::string sql = "INSERT INTO verification_codes (";
        sql += code_columns;
        sql += ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) "
               "ON CONFLICT (account_id, purpose) DO UPDATE SET phone = excluded.phone, "
               "code_hash = excluded.code_hash, created_at = excluded.created_at, "
               "expires_at = excluded.expires_at, tries_left = excluded.tries_left";
        LATCHKEY_TRY(stmt, db.prepare(sql));
        LATCHKEY_TRY_STATUS(stmt.bind(c.account_id, to_string(c.purpose), c.phone, c.code_hash,
                                      core::to_unix(c.created_at), core::to_unix(c.expires_at),
                                      c.tries_left));
        LATCHKEY_TRY_STATUS(run_for_account(stmt, c.account_id));
        return txn.commit();
    });
}

core::Result<std::optional<directory::VerificationCodeRecord>>
SqlStore::code(const std::string& account_id, directory::CodePurpose purpose)
{
    return with_connection(
        *pool_,
        [&](sql::Connection& db) -> core::Result<std::optional<directory::VerificationCodeRecord>> {
            std::string sql = "SELECT ";
            sql += code_columns;
            sql += " FROM verification_codes WHERE account_id = ?1 AND purpose = ?2";
            LATCHKEY_TRY(stmt, db.prepare(sql));
            LATCHKEY_TRY_STATUS(stmt.bind(account_id, to_string(purpose)));
            LATCHKEY_TRY(row, stmt.step());
            if (!row)
                return std::optional<directory::VerificationCodeRecord>{};
            LATCHKEY_TRY(c, read_code(stmt));
            return std::optional<directory::VerificationCodeRecord>{std::move(c)};
        });
}

core::Result<std::uint32_t> SqlStore::spend_code_try(const std::string& account_id,
                                                     directory::CodePurpose purpose)
{
    return with_connection(*pool_, [&](sql::Connection& db) -> core::Result<std::uint32_t> {
        LATCHKEY_TRY(txn, Transaction::begin(db));
        LATCHKEY_TRY(
            spend,
            db.prepare("UPDATE verification_codes "
                       "SET tries_left = CASE WHEN tries_left > 0 THEN tries_left - 1 ELSE 0 END "
                       "WHERE account_id = ?1 AND purpose = ?2"));
        LATCHKEY_TRY_STATUS(spend.bind(account_id, to_string(purpose)));
        LATCHKEY_TRY_STATUS(spend.run());
        if (spend.changes() == 0)
            return core::fail(Errc::not_found, "account '" + account_id + "' has no pending " +
                                                   std::string(to_string(purpose)) + " code");
        LATCHKEY_TRY(left, db.prepare("SELECT tries_left FROM verification_codes "
                                      "WHERE account_id = ?1 AND purpose = ?2"));
        LATCHKEY_TRY_STATUS(left.bind(account_id, to_string(purpose)));
        LATCHKEY_TRY(row, left.step());
        if (!row)
            return core::fail(Errc::store_failed,
                              "the verification code vanished while spending a try");
        const std::uint32_t tries_left = read_u32(left, 0);
        left.reset();
        LATCHKEY_TRY_STATUS(txn.commit());
        return tries_left;
    });
}

core::Status SqlStore::delete_code(const std::string& account_id, directory::CodePurpose purpose)
{
    return with_connection(*pool_, [&](sql::Connection& db) -> core::Status {
        LATCHKEY_TRY(txn, Transaction::begin(db));
        LATCHKEY_TRY(stmt, db.prepare("DELETE FROM verification_codes "
                                      "WHERE account_id = ?1 AND purpose = ?2"));
        LATCHKEY_TRY_STATUS(stmt.bind(account_id, to_string(purpose)));
        LATCHKEY_TRY_STATUS(stmt.run());
        return txn.commit();
    });
}

// ---- roles --------------------------------------------------------------------------------

core::Status SqlStore::grant_role(const directory::RoleRecord& r)
{
    return with_connection(*pool_, [&](sql::Connection& db) -> core::Status {
        LATCHKEY_TRY(txn, Transaction::begin(db));
        // Granting again records the new grant and makes a self-revoked record active.
        LATCHKEY_TRY(stmt, db.prepare("INSERT INTO roles (user_id, role, granted_at, "
                                      "granted_by, self_revoked_at) "
                                      "VALUES (?1, ?2, ?3, ?4, NULL) "
                                      "ON CONFLICT (user_id, role) DO UPDATE SET "
                                      "granted_at = excluded.granted_at, "
                                      "granted_by = excluded.granted_by, "
                                      "self_revoked_at = NULL"));
        LATCHKEY_TRY_STATUS(
            stmt.bind(r.user_id, to_string(r.role), core::to_unix(r.granted_at), r.granted_by));
        LATCHKEY_TRY_STATUS(run_for_user(stmt, r.user_id));
        return txn.commit();
    });
}

core::Status SqlStore::revoke_role(const std::string& user_id,
                                   directory::Role role,
                                   std::optional<core::TimePoint> self_at)
{
    return with_connection(*pool_, [&](sql::Connection& db) -> core::Status {
        LATCHKEY_TRY(txn, Transaction::begin(db));
        // Only an active role is revoked; a self-revoked record stays as it is either way.
        LATCHKEY_TRY(stmt, db.prepare(self_at ? "UPDATE roles SET self_revoked_at = ?3 "
                                                "WHERE user_id = ?1 AND role = ?2 "
                                                "AND self_revoked_at IS NULL"
                                              : "DELETE FROM roles WHERE user_id = ?1 "
                                                "AND role = ?2 AND self_revoked_at IS NULL"));
        LATCHKEY_TRY_STATUS(stmt.bind(user_id, to_string(role)));
        if (self_at)
            LATCHKEY_TRY_STATUS(stmt.bind_at(3, core::to_unix(*self_at)));
        LATCHKEY_TRY_STATUS(stmt.run());
        if (stmt.changes() == 0)
            return core::fail(Errc::not_found, "user '" + user_id + "' does not hold the role " +
                                                   std::string(to_string(role)));
        return txn.commit();
    });
}

core::Result<std::vector<directory::RoleRecord>> SqlStore::roles_of(const std::string& user_id)
{
    return with_connection(
        *pool_, [&](sql::Connection& db) -> core::Result<std::vector<directory::RoleRecord>> {
            std::string sql = "SELECT ";
            sql += role_columns;
            sql += " FROM roles r WHERE r.user_id = ?1 ORDER BY r.role";
            LATCHKEY_TRY(stmt, db.prepare(sql));
            LATCHKEY_TRY_STATUS(stmt.bind(user_id));
            return read_roles(stmt);
        });
}

core::Result<std::vector<directory::RoleRecord>>
SqlStore::roles(const std::optional<std::string>& account_id)
{
    return with_connection(
        *pool_, [&](sql::Connection& db) -> core::Result<std::vector<directory::RoleRecord>> {
            std::string sql = "SELECT ";
            sql += role_columns;
            sql += " FROM roles r JOIN users u ON u.id = r.user_id JOIN accounts a ON a.id = "
                   "u.account_id";
            if (account_id)
                sql += " WHERE u.account_id = ?1";
            sql += " ORDER BY a.name, u.name, r.role";
            LATCHKEY_TRY(stmt, db.prepare(sql));
            if (account_id)
                LATCHKEY_TRY_STATUS(stmt.bind(*account_id));
            return read_roles(stmt);
        });
}

// ---- credentials --------------------------------------------------------------------------

core::Status SqlStore::clear_credentials(const std::string& user_id)
{
    return with_connection(*pool_, [&](sql::Connection& db) -> core::Status {
        LATCHKEY_TRY(txn, Transaction::begin(db));
        LATCHKEY_TRY(password, db.prepare("UPDATE users SET password_hash = '', "
                                          "password_set_at = NULL, require_change = FALSE "
                                          "WHERE id = ?1"));
        LATCHKEY_TRY_STATUS(password.bind(user_id));
        LATCHKEY_TRY_STATUS(password.run());
        if (password.changes() == 0)
            return core::fail(Errc::not_found, user_not_found(user_id));
        for (const std::string_view sql : {
                 "DELETE FROM password_history WHERE user_id = ?1",
                 "DELETE FROM mfa_devices WHERE user_id = ?1",
                 "DELETE FROM recovery_codes WHERE user_id = ?1",
                 "DELETE FROM access_keys WHERE user_id = ?1",
                 "DELETE FROM passkeys WHERE user_id = ?1",
             })
            LATCHKEY_TRY_STATUS(run_on_user(db, sql, user_id));
        return txn.commit();
    });
}

} // namespace latchkey::sql
