// SPDX-License-Identifier: Apache-2.0
// Row helpers shared by the SqlStore source files (internal to the store).
#pragma once

#include <algorithm>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json.hpp>

#include "core/clock.hpp"
#include "core/result.hpp"
#include "directory/model.hpp"
#include "storage/sql/sql.hpp"

namespace latchkey::sql::rows {

/// The schema's CHECKs keep these columns in range; clamping guards against a hand-edited file.
inline std::uint32_t read_u32(const Statement& stmt, int column) noexcept
{
    constexpr std::int64_t max = std::numeric_limits<std::uint32_t>::max();
    return static_cast<std::uint32_t>(std::clamp<std::int64_t>(stmt.int64(column), 0, max));
}

inline core::Error corrupt(std::string what)
{
    return {core::Errc::store_failed, "database holds an invalid " + std::move(what)};
}

inline boost::json::string_view js(std::string_view s) noexcept
{
    return {s.data(), s.size()};
}

/// A list of strings as a JSON array (allowed networks, redirect URIs, scopes).
inline std::string string_list_to_json(const std::vector<std::string>& items)
{
    boost::json::array a;
    a.reserve(items.size());
    for (const auto& item : items)
        a.emplace_back(js(item));
    return boost::json::serialize(a);
}

inline core::Result<std::vector<std::string>> string_list_from_json(std::string_view text,
                                                                    std::string_view what)
{
    boost::system::error_code ec;
    const boost::json::value v = boost::json::parse(js(text), ec);
    if (ec || !v.is_array())
        return core::fail(corrupt(std::string(what)));
    std::vector<std::string> out;
    for (const auto& item : v.get_array()) {
        if (!item.is_string())
            return core::fail(corrupt(std::string(what)));
        out.emplace_back(item.get_string());
    }
    return out;
}

// Stored by name, not number, so that reordering the enum cannot change what a row means.
inline std::string_view kind_name(proto::AccountKind k) noexcept
{
    switch (k) {
    case proto::AccountKind::management: return "management";
    case proto::AccountKind::resource: return "resource";
    case proto::AccountKind::cloud: return "cloud";
    }
    return "unknown";
}

inline std::optional<proto::AccountKind> kind_from_name(std::string_view s) noexcept
{
    for (const proto::AccountKind k :
         {proto::AccountKind::management, proto::AccountKind::resource, proto::AccountKind::cloud})
        if (kind_name(k) == s)
            return k;
    return std::nullopt;
}

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
inline core::Result<bool>
row_exists(sql::Connection& db, std::string_view sql, const std::string& id)
{
    LATCHKEY_TRY(stmt, db.prepare(sql));
    LATCHKEY_TRY_STATUS(stmt.bind(id));
    return stmt.step();
}

/// Runs a statement that writes a row referring to a user: a foreign-key violation means
/// there is no such user.
inline core::Status run_for_user(Statement& stmt, const std::string& user_id)
{
    auto done = stmt.run();
    if (!done && stmt.violation() == Violation::foreign_key)
        return core::fail(core::Errc::not_found, user_not_found(user_id));
    return done;
}

inline std::string account_not_found(const std::string& account_id)
{
    return "account '" + account_id + "' not found";
}

/// An UPDATE or DELETE of one user by id (?1) in its own transaction; not_found if none.
template <class... Args>
core::Status update_user(sql::Connection& db,
                         std::string_view sql,
                         const std::string& user_id,
                         const Args&... args)
{
    LATCHKEY_TRY(txn, Transaction::begin(db));
    LATCHKEY_TRY(stmt, db.prepare(sql));
    LATCHKEY_TRY_STATUS(stmt.bind(user_id, args...));
    LATCHKEY_TRY_STATUS(stmt.run());
    if (stmt.changes() == 0)
        return core::fail(core::Errc::not_found, user_not_found(user_id));
    return txn.commit();
}

/// The same for one account.
template <class... Args>
core::Status update_account(sql::Connection& db,
                            std::string_view sql,
                            const std::string& account_id,
                            const Args&... args)
{
    LATCHKEY_TRY(txn, Transaction::begin(db));
    LATCHKEY_TRY(stmt, db.prepare(sql));
    LATCHKEY_TRY_STATUS(stmt.bind(account_id, args...));
    LATCHKEY_TRY_STATUS(stmt.run());
    if (stmt.changes() == 0)
        return core::fail(core::Errc::not_found, account_not_found(account_id));
    return txn.commit();
}

} // namespace latchkey::sql::rows
