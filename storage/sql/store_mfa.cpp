// SPDX-License-Identifier: Apache-2.0
// SqliteStore's second factors: TOTP devices and recovery codes (schema version 4).
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

constexpr std::string_view device_columns =
    "d.id, d.user_id, d.sealed_secret, d.digits, d.period_s, d.created_at, d.last_used_step";

core::Result<directory::MfaDeviceRecord> read_device(const Statement& s)
{
    directory::MfaDeviceRecord d;
    d.id = s.text(0);
    d.user_id = s.text(1);
    auto sealed = core::base64_decode(s.text(2));
    if (!sealed)
        return core::fail(Errc::store_schema,
                          "the stored secret of MFA device '" + d.id + "' is not base64");
    d.sealed_secret = std::move(*sealed);
    // The schema's CHECKs bound both.
    d.digits = static_cast<std::uint32_t>(s.int64(3));
    d.period_s = static_cast<std::uint32_t>(s.int64(4));
    d.created_at = core::from_unix(s.int64(5));
    d.last_used_step = s.optional_int64(6);
    return d;
}

core::Status insert_recovery_codes(sql::Connection& db,
                                   const std::string& user_id,
                                   const std::vector<std::string>& hashes)
{
    LATCHKEY_TRY(del, db.prepare("DELETE FROM recovery_codes WHERE user_id = ?1"));
    LATCHKEY_TRY_STATUS(del.bind(user_id));
    LATCHKEY_TRY_STATUS(del.run());
    LATCHKEY_TRY(ins, db.prepare("INSERT INTO recovery_codes (user_id, hash) VALUES (?1, ?2)"));
    for (const auto& h : hashes) {
        LATCHKEY_TRY_STATUS(ins.bind(user_id, h));
        LATCHKEY_TRY_STATUS(run_for_user(ins, user_id));
        ins.reset();
    }
    return {};
}

} // namespace

core::Result<std::optional<directory::MfaDeviceRecord>>
SqlStore::mfa_device(const std::string& user_id)
{
    return with_connection(
        *pool_,
        [&](sql::Connection& db) -> core::Result<std::optional<directory::MfaDeviceRecord>> {
            std::string sql = "SELECT ";
            sql += device_columns;
            sql += " FROM mfa_devices d WHERE d.user_id = ?1";
            LATCHKEY_TRY(stmt, db.prepare(sql));
            LATCHKEY_TRY_STATUS(stmt.bind(user_id));
            LATCHKEY_TRY(row, stmt.step());
            if (!row)
                return std::optional<directory::MfaDeviceRecord>{};
            LATCHKEY_TRY(device, read_device(stmt));
            return std::optional<directory::MfaDeviceRecord>{std::move(device)};
        });
}

core::Result<std::vector<directory::MfaDeviceRecord>> SqlStore::mfa_devices()
{
    return with_connection(
        *pool_, [&](sql::Connection& db) -> core::Result<std::vector<directory::MfaDeviceRecord>> {
            std::string sql = "SELECT ";
            sql += device_columns;
            sql += " FROM mfa_devices d JOIN users u ON u.id = d.user_id "
                   "JOIN accounts a ON a.id = u.account_id ORDER BY a.name, u.name";
            LATCHKEY_TRY(stmt, db.prepare(sql));
            std::vector<directory::MfaDeviceRecord> out;
            for (;;) {
                LATCHKEY_TRY(row, stmt.step());
                if (!row)
                    return out;
                LATCHKEY_TRY(device, read_device(stmt));
                out.push_back(std::move(device));
            }
        });
}

core::Status SqlStore::add_mfa_device(const directory::MfaDeviceRecord& d,
                                      const std::vector<std::string>& recovery_hashes)
{
    if (d.sealed_secret.empty())
        return core::fail(Errc::invalid_argument, "an MFA device needs a sealed secret");
    return with_connection(*pool_, [&](sql::Connection& db) -> core::Status {
        LATCHKEY_TRY(txn, Transaction::begin(db));
        LATCHKEY_TRY(stmt, db.prepare("INSERT INTO mfa_devices (id, user_id, "
                                      "sealed_secret, digits, period_s, created_at, "
                                      "last_used_step) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"));
        LATCHKEY_TRY_STATUS(stmt.bind(d.id, d.user_id,
                                      core::base64_encode(d.sealed_secret, false, true), d.digits,
                                      d.period_s, core::to_unix(d.created_at), d.last_used_step));
        if (auto done = run_for_user(stmt, d.user_id); !done) {
            if (done.error().is(Errc::already_exists))
                return core::fail(Errc::already_exists, "the user already has an MFA device");
            return done;
        }
        LATCHKEY_TRY_STATUS(insert_recovery_codes(db, d.user_id, recovery_hashes));
        return txn.commit();
    });
}

core::Result<bool> SqlStore::use_totp_step(const std::string& device_id, std::int64_t step)
{
    return with_connection(*pool_, [&](sql::Connection& db) -> core::Result<bool> {
        LATCHKEY_TRY(txn, Transaction::begin(db));
        LATCHKEY_TRY(stmt, db.prepare("UPDATE mfa_devices SET last_used_step = ?2 "
                                      "WHERE id = ?1 AND (last_used_step IS NULL "
                                      "OR last_used_step < ?2)"));
        LATCHKEY_TRY_STATUS(stmt.bind(device_id, step));
        LATCHKEY_TRY_STATUS(stmt.run());
        const bool used = stmt.changes() > 0;
        LATCHKEY_TRY_STATUS(txn.commit());
        return used;
    });
}

core::Status SqlStore::remove_mfa_device(const std::string& user_id)
{
    return with_connection(*pool_, [&](sql::Connection& db) -> core::Status {
        LATCHKEY_TRY(txn, Transaction::begin(db));
        LATCHKEY_TRY(stmt, db.prepare("DELETE FROM mfa_devices WHERE user_id = ?1"));
        LATCHKEY_TRY_STATUS(stmt.bind(user_id));
        LATCHKEY_TRY_STATUS(stmt.run());
        if (stmt.changes() == 0)
            return core::fail(Errc::not_found, "the user has no MFA device");
        LATCHKEY_TRY_STATUS(insert_recovery_codes(db, user_id, {}));
        return txn.commit();
    });
}

core::Status SqlStore::replace_recovery_codes(const std::string& user_id,
                                              const std::vector<std::string>& hashes)
{
    return with_connection(*pool_, [&](sql::Connection& db) -> core::Status {
        LATCHKEY_TRY(txn, Transaction::begin(db));
        LATCHKEY_TRY(exists, row_exists(db, "SELECT 1 FROM users WHERE id = ?1", user_id));
        if (!exists)
            return core::fail(Errc::not_found, user_not_found(user_id));
        LATCHKEY_TRY_STATUS(insert_recovery_codes(db, user_id, hashes));
        return txn.commit();
    });
}

core::Result<bool>
SqlStore::use_recovery_code(const std::string& user_id, const std::string& hash, core::TimePoint at)
{
    return with_connection(*pool_, [&](sql::Connection& db) -> core::Result<bool> {
        LATCHKEY_TRY(txn, Transaction::begin(db));
        LATCHKEY_TRY(stmt, db.prepare("UPDATE recovery_codes SET used_at = ?3 "
                                      "WHERE user_id = ?1 AND hash = ?2 "
                                      "AND used_at IS NULL"));
        LATCHKEY_TRY_STATUS(stmt.bind(user_id, hash, core::to_unix(at)));
        LATCHKEY_TRY_STATUS(stmt.run());
        const bool used = stmt.changes() > 0;
        LATCHKEY_TRY_STATUS(txn.commit());
        return used;
    });
}

core::Result<std::uint32_t> SqlStore::recovery_codes_left(const std::string& user_id)
{
    return with_connection(*pool_, [&](sql::Connection& db) -> core::Result<std::uint32_t> {
        LATCHKEY_TRY(stmt, db.prepare("SELECT count(*) FROM recovery_codes "
                                      "WHERE user_id = ?1 AND used_at IS NULL"));
        LATCHKEY_TRY_STATUS(stmt.bind(user_id));
        LATCHKEY_TRY(row, stmt.step());
        return row ? static_cast<std::uint32_t>(stmt.int64(0)) : 0U;
    });
}

} // namespace latchkey::sql
