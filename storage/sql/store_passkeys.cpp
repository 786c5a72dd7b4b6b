// SPDX-License-Identifier: Apache-2.0
// SqliteStore's passkeys and user handles (schema versions 10 and 11).
#include <charconv>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "core/random.hpp"
#include "storage/sql/rows.hpp"
#include "storage/sql/sql.hpp"
#include "storage/sql/store.hpp"

namespace latchkey::sql {

namespace {

using core::Errc;
using namespace rows;

constexpr std::string_view passkey_columns =
    "id, user_id, credential_id, public_key, algorithm, sign_count, aaguid, transports, "
    "backup_eligible, backed_up, user_verified, attestation, name, created_at, last_used_at, "
    "relying_party";

/// Credential ids are unique and looked up: one spelling each (base64url, unpadded).
std::string credential_key(std::string_view raw)
{
    return core::base64_encode(raw, true, false);
}

core::Result<directory::PasskeyRecord> read_passkey(const Statement& s)
{
    directory::PasskeyRecord p;
    p.id = s.text(0);
    p.user_id = s.text(1);
    auto credential_id = core::base64_decode(s.text(2));
    auto public_key = core::base64_decode(s.text(3));
    if (!credential_id || !public_key)
        return core::fail(corrupt("passkey '" + p.id + "'"));
    p.credential_id = std::move(*credential_id);
    p.public_key = std::move(*public_key);
    p.algorithm = static_cast<std::int32_t>(s.int64(4));
    p.sign_count = read_u32(s, 5);
    const std::string aaguid_hex = s.text(6);
    for (std::size_t i = 0; i + 1 < aaguid_hex.size(); i += 2) {
        unsigned byte = 0;
        const auto* first = aaguid_hex.data() + i;
        const auto [end, ec] = std::from_chars(first, first + 2, byte, 16);
        if (ec != std::errc{} || end != first + 2)
            return core::fail(corrupt("AAGUID of passkey '" + p.id + "'"));
        p.aaguid += static_cast<char>(byte);
    }
    LATCHKEY_TRY(transports, string_list_from_json(s.text(7), "passkey transports"));
    p.transports = std::move(transports);
    p.backup_eligible = s.boolean(8);
    p.backed_up = s.boolean(9);
    p.user_verified = s.boolean(10);
    p.attestation = s.text(11);
    p.name = s.text(12);
    p.created_at = core::from_unix(s.int64(13));
    p.last_used_at = time_or_null(s.optional_int64(14));
    const auto party = directory::passkey_party_named(s.text(15));
    if (!party)
        return core::fail(corrupt("relying party of passkey '" + p.id + "'"));
    p.relying_party = *party;
    return p;
}

core::Result<std::vector<directory::PasskeyRecord>> read_passkeys(Statement& stmt)
{
    std::vector<directory::PasskeyRecord> out;
    for (;;) {
        LATCHKEY_TRY(row, stmt.step());
        if (!row)
            return out;
        LATCHKEY_TRY(p, read_passkey(stmt));
        out.push_back(std::move(p));
    }
}

} // namespace

core::Result<std::string> SqlStore::user_handle(const std::string& user_id,
                                                const std::string& candidate)
{
    if (candidate.empty())
        return core::fail(Errc::invalid_argument, "a user handle cannot be empty");
    return with_connection(*pool_, [&](sql::Connection& db) -> core::Result<std::string> {
        LATCHKEY_TRY(txn, Transaction::begin(db));
        LATCHKEY_TRY(insert, db.prepare("INSERT INTO user_handles (user_id, handle) "
                                        "VALUES (?1, ?2) ON CONFLICT (user_id) DO NOTHING"));
        LATCHKEY_TRY_STATUS(insert.bind(user_id, core::base64_encode(candidate, true, false)));
        LATCHKEY_TRY_STATUS(run_for_user(insert, user_id));
        LATCHKEY_TRY(select, db.prepare("SELECT handle FROM user_handles WHERE user_id = ?1"));
        LATCHKEY_TRY_STATUS(select.bind(user_id));
        LATCHKEY_TRY(row, select.step());
        if (!row)
            return core::fail(Errc::not_found, user_not_found(user_id));
        auto handle = core::base64_decode(select.text(0));
        if (!handle)
            return core::fail(corrupt("user handle of '" + user_id + "'"));
        LATCHKEY_TRY_STATUS(txn.commit());
        return std::move(*handle);
    });
}

core::Result<std::optional<std::string>> SqlStore::user_by_handle(const std::string& handle)
{
    return with_connection(
        *pool_, [&](sql::Connection& db) -> core::Result<std::optional<std::string>> {
            LATCHKEY_TRY(stmt, db.prepare("SELECT user_id FROM user_handles WHERE handle = ?1"));
            LATCHKEY_TRY_STATUS(stmt.bind(core::base64_encode(handle, true, false)));
            LATCHKEY_TRY(row, stmt.step());
            if (!row)
                return std::optional<std::string>{};
            return std::optional<std::string>{stmt.text(0)};
        });
}

core::Status SqlStore::add_passkey(const directory::PasskeyRecord& p, std::uint32_t max_per_user)
{
    if (p.credential_id.empty() || p.credential_id.size() > 1023 || p.public_key.empty() ||
        p.aaguid.size() != 16 || p.name.empty())
        return core::fail(Errc::invalid_argument, "a passkey needs a credential id of 1 to 1023 "
                                                  "bytes, a public key, an AAGUID and a name");
    return with_connection(*pool_, [&](sql::Connection& db) -> core::Status {
        LATCHKEY_TRY(txn, Transaction::begin(db));
        LATCHKEY_TRY(count, db.prepare("SELECT count(*) FROM passkeys WHERE user_id = ?1"));
        LATCHKEY_TRY_STATUS(count.bind(p.user_id));
        LATCHKEY_TRY(counted, count.step());
        if (counted && count.int64(0) >= max_per_user)
            return core::fail(Errc::policy_violation, "the user has " +
                                                          std::to_string(max_per_user) +
                                                          " passkeys, the most allowed");
        LATCHKEY_TRY(stmt,
                     db.prepare("INSERT INTO passkeys (id, user_id, credential_id, public_key, "
                                "algorithm, sign_count, aaguid, transports, backup_eligible, "
                                "backed_up, user_verified, attestation, name, created_at, "
                                "last_used_at, relying_party) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, "
                                "?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)"));
        LATCHKEY_TRY_STATUS(stmt.bind(
            p.id, p.user_id, credential_key(p.credential_id),
            core::base64_encode(p.public_key, false, true), p.algorithm, p.sign_count,
            core::to_hex(p.aaguid), string_list_to_json(p.transports), p.backup_eligible,
            p.backed_up, p.user_verified, p.attestation, p.name, core::to_unix(p.created_at),
            unix_or_null(p.last_used_at), std::string(directory::to_string(p.relying_party))));
        if (auto done = run_for_user(stmt, p.user_id); !done) {
            if (done.error().is(Errc::already_exists))
                return core::fail(Errc::already_exists, "this passkey is registered already");
            return done;
        }
        return txn.commit();
    });
}

core::Result<std::vector<directory::PasskeyRecord>> SqlStore::passkeys(const std::string& user_id)
{
    return with_connection(
        *pool_, [&](sql::Connection& db) -> core::Result<std::vector<directory::PasskeyRecord>> {
            std::string sql = "SELECT ";
            sql += passkey_columns;
            sql += " FROM passkeys WHERE user_id = ?1 ORDER BY created_at, id";
            LATCHKEY_TRY(stmt, db.prepare(sql));
            LATCHKEY_TRY_STATUS(stmt.bind(user_id));
            return read_passkeys(stmt);
        });
}

core::Result<std::optional<directory::PasskeyRecord>>
SqlStore::passkey_by_credential(const std::string& credential_id)
{
    return with_connection(
        *pool_, [&](sql::Connection& db) -> core::Result<std::optional<directory::PasskeyRecord>> {
            std::string sql = "SELECT ";
            sql += passkey_columns;
            sql += " FROM passkeys WHERE credential_id = ?1";
            LATCHKEY_TRY(stmt, db.prepare(sql));
            LATCHKEY_TRY_STATUS(stmt.bind(credential_key(credential_id)));
            LATCHKEY_TRY(found, read_passkeys(stmt));
            if (found.empty())
                return std::optional<directory::PasskeyRecord>{};
            return std::optional<directory::PasskeyRecord>{std::move(found.front())};
        });
}

core::Status
SqlStore::rename_passkey(const std::string& user_id, const std::string& id, const std::string& name)
{
    if (name.empty())
        return core::fail(Errc::invalid_argument, "a passkey needs a name");
    return with_connection(*pool_, [&](sql::Connection& db) -> core::Status {
        LATCHKEY_TRY(stmt,
                     db.prepare("UPDATE passkeys SET name = ?3 WHERE user_id = ?1 AND id = ?2"));
        LATCHKEY_TRY_STATUS(stmt.bind(user_id, id, name));
        LATCHKEY_TRY_STATUS(stmt.run());
        if (stmt.changes() == 0)
            return core::fail(Errc::not_found, "the user has no passkey '" + id + "'");
        return {};
    });
}

core::Status SqlStore::remove_passkey(const std::string& user_id, const std::string& id)
{
    return with_connection(*pool_, [&](sql::Connection& db) -> core::Status {
        LATCHKEY_TRY(stmt, db.prepare("DELETE FROM passkeys WHERE user_id = ?1 AND id = ?2"));
        LATCHKEY_TRY_STATUS(stmt.bind(user_id, id));
        LATCHKEY_TRY_STATUS(stmt.run());
        if (stmt.changes() == 0)
            return core::fail(Errc::not_found, "the user has no passkey '" + id + "'");
        return {};
    });
}

core::Result<bool> SqlStore::use_passkey(const std::string& id,
                                         std::uint32_t seen_count,
                                         std::uint32_t new_count,
                                         bool backed_up,
                                         core::TimePoint at)
{
    return with_connection(*pool_, [&](sql::Connection& db) -> core::Result<bool> {
        LATCHKEY_TRY(stmt, db.prepare("UPDATE passkeys SET sign_count = ?3, backed_up = ?4, "
                                      "last_used_at = ?5 WHERE id = ?1 AND sign_count = ?2"));
        LATCHKEY_TRY_STATUS(stmt.bind(id, seen_count, new_count, backed_up, core::to_unix(at)));
        LATCHKEY_TRY_STATUS(stmt.run());
        return stmt.changes() == 1;
    });
}

} // namespace latchkey::sql
