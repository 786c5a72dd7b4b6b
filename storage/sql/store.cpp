// SPDX-License-Identifier: Apache-2.0
// SqlStore: the Store interface in SQL that SQLite and PostgreSQL both understand.
#include "storage/sql/store.hpp"

#include <algorithm>
#include <cstddef>
#include <limits>
#include <map>
#include <string_view>
#include <unordered_map>
#include <utility>

#include <boost/describe.hpp>
#include <boost/json.hpp>

#include "core/clock.hpp"
#include "storage/sql/rows.hpp"

namespace latchkey::sql {

namespace {

namespace json = boost::json;
using core::Errc;
using namespace rows;

// ---- values <-> columns -----------------------------------------------------------------

// Stored as a number so that `severity >= ?` selects "at least this severe".
static_assert(static_cast<int>(directory::Severity::info) == 0 &&
                  static_cast<int>(directory::Severity::notice) == 1 &&
                  static_cast<int>(directory::Severity::warning) == 2 &&
                  static_cast<int>(directory::Severity::alert) == 3,
              "audit.severity stores these values; never renumber them");

std::int64_t severity_number(directory::Severity s) noexcept
{
    return static_cast<std::int64_t>(s);
}

std::optional<directory::Severity> severity_from_number(std::int64_t n) noexcept
{
    if (n < 0 || n > static_cast<std::int64_t>(directory::Severity::alert))
        return std::nullopt;
    return static_cast<directory::Severity>(n);
}

std::string fields_to_json(const std::map<std::string, std::string>& fields)
{
    json::object o;
    for (const auto& [k, v] : fields)
        o[js(k)] = js(v);
    return json::serialize(o);
}

core::Result<std::map<std::string, std::string>> fields_from_json(std::string_view text)
{
    boost::system::error_code ec;
    const json::value v = json::parse(js(text), ec);
    if (ec || !v.is_object())
        return core::fail(corrupt("audit fields value"));
    std::map<std::string, std::string> out;
    for (const auto& [k, value] : v.get_object()) {
        if (!value.is_string())
            return core::fail(corrupt("audit fields value"));
        out.emplace(std::string(k), std::string(value.get_string()));
    }
    return out;
}

// ---- errors -----------------------------------------------------------------------------

std::string quote(std::string_view s)
{
    std::string q = "'";
    q += s;
    q += '\'';
    return q;
}

/// Runs a write. A uniqueness violation becomes already_exists with the message
/// `exists(sqlite message)`; a foreign-key violation becomes not_found with `missing`.
template <class Exists>
core::Status run_write(Statement& stmt, Exists&& exists, std::string_view missing)
{
    auto done = stmt.run();
    if (done)
        return {};
    core::Error e = std::move(done).error();
    if (e.is(Errc::already_exists))
        e.message = exists(std::string_view(e.message));
    else if (stmt.violation() == Violation::foreign_key && !missing.empty())
        e = core::Error{Errc::not_found, std::string(missing)};
    return core::fail(std::move(e));
}

// ---- accounts ---------------------------------------------------------------------------

constexpr std::string_view account_columns =
    "a.id, a.directory_id, a.name, a.kind, a.created_at, "
    "a.policy_min_length, a.policy_require_lowercase, a.policy_require_uppercase, "
    "a.policy_require_digit, a.policy_require_symbol, a.policy_max_age_days, a.policy_history, "
    "a.policy_max_failed_per_hour, a.policy_hard_expiry, "
    "a.settings_allow_change_password, a.settings_allow_passkey_logon, "
    "a.settings_allow_manage_mfa, a.settings_mfa_required, a.settings_session_duration_s, "
    "a.settings_allowed_networks, a.settings_mfa_enrol_at_logon, "
    "a.phone, a.closed_at, a.recovery_open_until, a.settings_device_approval";

std::string_view device_approval_name(proto::DeviceApproval d)
{
    return boost::describe::enum_to_string(d, "off");
}

/// Reads a row of account_columns; default_domain and aliases come from load_domains().
core::Result<directory::AccountRecord> read_account(const Statement& s)
{
    directory::AccountRecord a;
    a.id = s.text(0);
    a.directory_id = s.text(1);
    a.name = s.text(2);
    const auto kind = kind_from_name(s.text(3));
    if (!kind)
        return core::fail(corrupt("account kind for account " + quote(a.name)));
    a.kind = *kind;
    a.created_at = core::from_unix(s.int64(4));
    a.policy.min_length = read_u32(s, 5);
    a.policy.require_lowercase = s.boolean(6);
    a.policy.require_uppercase = s.boolean(7);
    a.policy.require_digit = s.boolean(8);
    a.policy.require_symbol = s.boolean(9);
    a.policy.max_age_days = read_u32(s, 10);
    a.policy.history = read_u32(s, 11);
    a.policy.max_failed_per_hour = read_u32(s, 12);
    a.policy.hard_expiry = s.boolean(13);
    a.settings.allow_change_password = s.boolean(14);
    a.settings.allow_passkey_logon = s.boolean(15);
    a.settings.allow_manage_mfa = s.boolean(16);
    a.settings.mfa_required = s.boolean(17);
    a.settings.session_duration_s = read_u32(s, 18);
    LATCHKEY_TRY(networks, string_list_from_json(s.text(19), "allowed_networks value"));
    a.settings.allowed_networks = std::move(networks);
    a.settings.mfa_enrol_at_logon = s.boolean(20);
    a.phone = s.optional_text(21);
    a.closed_at = time_or_null(s.optional_int64(22));
    a.recovery_open_until = time_or_null(s.optional_int64(23));
    if (!boost::describe::enum_from_string(s.text(24).c_str(), a.settings.device_approval))
        return core::fail(corrupt("device_approval setting for account " + quote(a.name)));
    return a;
}

void add_domain(directory::AccountRecord& a, std::string domain, bool is_default)
{
    if (is_default)
        a.default_domain = std::move(domain);
    else
        a.aliases.push_back(std::move(domain));
}

/// Fills in the account's default domain and aliases (in the order they were added).
core::Status load_domains(sql::Connection& db, directory::AccountRecord& a)
{
    LATCHKEY_TRY(stmt, db.prepare("SELECT domain, is_default FROM domains "
                                  "WHERE account_id = ?1 ORDER BY rowid"));
    LATCHKEY_TRY_STATUS(stmt.bind(a.id));
    for (;;) {
        LATCHKEY_TRY(row, stmt.step());
        if (!row)
            return {};
        add_domain(a, stmt.text(0), stmt.boolean(1));
    }
}

/// The one account matched by `tail` (joins and a WHERE on ?1), with its domains.
core::Result<std::optional<directory::AccountRecord>>
query_account(sql::Connection& db, std::string_view tail, const std::string& arg)
{
    LATCHKEY_TRY(txn, Transaction::begin(db, Access::read));
    std::string sql = "SELECT ";
    sql += account_columns;
    sql += " FROM accounts a ";
    sql += tail;
    LATCHKEY_TRY(stmt, db.prepare(sql));
    LATCHKEY_TRY_STATUS(stmt.bind(arg));
    LATCHKEY_TRY(row, stmt.step());
    if (!row)
        return std::optional<directory::AccountRecord>();
    LATCHKEY_TRY(account, read_account(stmt));
    stmt.reset();
    LATCHKEY_TRY_STATUS(load_domains(db, account));
    // A read: the transaction only gave a consistent view and ends with a rollback.
    return std::optional<directory::AccountRecord>(std::move(account));
}

core::Status insert_domain(sql::Connection& db,
                           const std::string& account_id,
                           const std::string& domain,
                           bool is_default)
{
    LATCHKEY_TRY(stmt, db.prepare("INSERT INTO domains (domain, account_id, is_default) "
                                  "VALUES (?1, ?2, ?3)"));
    LATCHKEY_TRY_STATUS(stmt.bind(domain, account_id, is_default));
    return run_write(
        stmt, [&](std::string_view) { return "domain " + quote(domain) + " is already in use"; },
        "account " + quote(account_id) + " not found");
}

core::Status insert_account(sql::Connection& db, const directory::AccountRecord& a)
{
    LATCHKEY_TRY(
        stmt, db.prepare("INSERT INTO accounts (id, directory_id, name, kind, created_at, "
                         "policy_min_length, policy_require_lowercase, policy_require_uppercase, "
                         "policy_require_digit, policy_require_symbol, policy_max_age_days, "
                         "policy_history, policy_max_failed_per_hour, policy_hard_expiry, "
                         "settings_allow_change_password, settings_allow_passkey_logon, "
                         "settings_allow_manage_mfa, settings_mfa_required, "
                         "settings_session_duration_s, settings_allowed_networks, "
                         "settings_mfa_enrol_at_logon, phone, closed_at, recovery_open_until, "
                         "settings_device_approval) "
                         "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, "
                         "?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25)"));
    const auto& p = a.policy;
    const auto& s = a.settings;
    LATCHKEY_TRY_STATUS(
        stmt.bind(a.id, a.directory_id, a.name, kind_name(a.kind), core::to_unix(a.created_at),
                  p.min_length, p.require_lowercase, p.require_uppercase, p.require_digit,
                  p.require_symbol, p.max_age_days, p.history, p.max_failed_per_hour, p.hard_expiry,
                  s.allow_change_password, s.allow_passkey_logon, s.allow_manage_mfa,
                  s.mfa_required, s.session_duration_s, string_list_to_json(s.allowed_networks),
                  s.mfa_enrol_at_logon, a.phone, unix_or_null(a.closed_at),
                  unix_or_null(a.recovery_open_until), device_approval_name(s.device_approval)));
    const auto exists = [&](std::string_view sqlite_message) -> std::string {
        if (sqlite_message.find("accounts.name") != std::string_view::npos)
            return "account " + quote(a.name) + " already exists";
        if (sqlite_message.find("accounts.kind") != std::string_view::npos)
            return "the directory already has a management account";
        return "account id " + quote(a.id) + " already exists";
    };
    LATCHKEY_TRY_STATUS(
        run_write(stmt, exists, "directory " + quote(a.directory_id) + " not found"));
    LATCHKEY_TRY_STATUS(insert_domain(db, a.id, a.default_domain, true));
    for (const auto& alias : a.aliases)
        LATCHKEY_TRY_STATUS(insert_domain(db, a.id, alias, false));
    return {};
}

// ---- users ------------------------------------------------------------------------------

constexpr std::string_view user_columns =
    "u.id, u.account_id, u.name, u.display_name, u.console_logon, u.password_hash, "
    "u.password_set_at, u.require_change, u.created_at, u.locked_until, u.email, u.uid, u.home, "
    "u.shell";

directory::UserRecord read_user(const Statement& s)
{
    directory::UserRecord u;
    u.id = s.text(0);
    u.account_id = s.text(1);
    u.name = s.text(2);
    u.display_name = s.text(3);
    u.console_logon = s.boolean(4);
    u.password_hash = s.text(5);
    if (const auto at = s.optional_int64(6))
        u.password_set_at = core::from_unix(*at);
    u.require_change = s.boolean(7);
    u.created_at = core::from_unix(s.int64(8));
    if (const auto until = s.optional_int64(9))
        u.locked_until = core::from_unix(*until);
    u.email = s.optional_text(10);
    if (const auto uid = s.optional_int64(11))
        u.uid = static_cast<std::uint32_t>(*uid); // CHECKed in range by the schema
    u.home = s.optional_text(12);
    u.shell = s.optional_text(13);
    return u;
}

/// Users matched by `where` (a WHERE clause on ?1, ?2...), ordered by account name, user name.
template <class... Args>
core::Result<std::vector<directory::UserRecord>>
query_users(sql::Connection& db, std::string_view where, const Args&... args)
{
    std::string sql = "SELECT ";
    sql += user_columns;
    sql += " FROM users u JOIN accounts a ON a.id = u.account_id ";
    sql += where;
    sql += " ORDER BY a.name, u.name";
    LATCHKEY_TRY(stmt, db.prepare(sql));
    LATCHKEY_TRY_STATUS(stmt.bind(args...));
    std::vector<directory::UserRecord> out;
    for (;;) {
        LATCHKEY_TRY(row, stmt.step());
        if (!row)
            return out;
        out.push_back(read_user(stmt));
    }
}

core::Result<std::optional<directory::UserRecord>>
first(core::Result<std::vector<directory::UserRecord>> users)
{
    LATCHKEY_TRY(list, std::move(users));
    if (list.empty())
        return std::optional<directory::UserRecord>();
    return std::optional<directory::UserRecord>(std::move(list.front()));
}

} // namespace

// ---- SqliteStore ------------------------------------------------------------------------

core::Result<std::optional<directory::DirectoryRecord>> SqlStore::directory()
{
    return with_connection(
        *pool_,
        [&](sql::Connection& db) -> core::Result<std::optional<directory::DirectoryRecord>> {
            LATCHKEY_TRY(stmt, db.prepare("SELECT id, domain, management_account_id, "
                                          "created_at, root_access_centralized "
                                          "FROM directory"));
            LATCHKEY_TRY(row, stmt.step());
            if (!row)
                return std::optional<directory::DirectoryRecord>();
            return std::optional<directory::DirectoryRecord>(
                directory::DirectoryRecord{stmt.text(0), stmt.text(1), stmt.text(2),
                                           core::from_unix(stmt.int64(3)), stmt.boolean(4)});
        });
}

core::Status SqlStore::create_directory(const directory::DirectoryRecord& directory,
                                        const directory::AccountRecord& management)
{
    if (management.id != directory.management_account_id ||
        management.directory_id != directory.id ||
        management.kind != proto::AccountKind::management)
        return core::fail(Errc::invalid_argument,
                          "the management account must be of kind management and belong to "
                          "the directory it manages");
    return with_connection(*pool_, [&](sql::Connection& db) -> core::Status {
        LATCHKEY_TRY(txn, Transaction::begin(db));
        LATCHKEY_TRY(stmt, db.prepare("INSERT INTO directory (id, domain, "
                                      "management_account_id, created_at, "
                                      "root_access_centralized) "
                                      "VALUES (?1, ?2, ?3, ?4, ?5)"));
        LATCHKEY_TRY_STATUS(
            stmt.bind(directory.id, directory.domain, directory.management_account_id,
                      core::to_unix(directory.created_at), directory.root_access_centralized));
        LATCHKEY_TRY_STATUS(run_write(
            stmt, [](std::string_view) { return std::string("the directory already exists"); },
            {}));
        LATCHKEY_TRY_STATUS(insert_account(db, management));
        return txn.commit();
    });
}

core::Status SqlStore::create_account(const directory::AccountRecord& account)
{
    return with_connection(*pool_, [&](sql::Connection& db) -> core::Status {
        LATCHKEY_TRY(txn, Transaction::begin(db));
        LATCHKEY_TRY_STATUS(insert_account(db, account));
        return txn.commit();
    });
}

core::Result<std::vector<directory::AccountRecord>> SqlStore::accounts()
{
    return with_connection(
        *pool_, [&](sql::Connection& db) -> core::Result<std::vector<directory::AccountRecord>> {
            LATCHKEY_TRY(txn, Transaction::begin(db, Access::read));
            std::string sql = "SELECT ";
            sql += account_columns;
            sql += " FROM accounts a ORDER BY a.name";
            LATCHKEY_TRY(stmt, db.prepare(sql));
            std::vector<directory::AccountRecord> out;
            std::unordered_map<std::string, std::size_t> index;
            for (;;) {
                LATCHKEY_TRY(row, stmt.step());
                if (!row)
                    break;
                LATCHKEY_TRY(account, read_account(stmt));
                index.emplace(account.id, out.size());
                out.push_back(std::move(account));
            }
            LATCHKEY_TRY(domains, db.prepare("SELECT account_id, domain, is_default "
                                             "FROM domains ORDER BY rowid"));
            for (;;) {
                LATCHKEY_TRY(row, domains.step());
                if (!row)
                    break;
                if (const auto it = index.find(domains.text(0)); it != index.end())
                    add_domain(out[it->second], domains.text(1), domains.boolean(2));
            }
            return out;
        });
}

core::Result<std::optional<directory::AccountRecord>> SqlStore::account_by_id(const std::string& id)
{
    return with_connection(
        *pool_, [&](sql::Connection& db) -> core::Result<std::optional<directory::AccountRecord>> {
            return query_account(db, "WHERE a.id = ?1", id);
        });
}

core::Result<std::optional<directory::AccountRecord>>
SqlStore::account_by_name(const std::string& name)
{
    return with_connection(
        *pool_, [&](sql::Connection& db) -> core::Result<std::optional<directory::AccountRecord>> {
            return query_account(db, "WHERE a.name = ?1", name);
        });
}

core::Result<std::optional<directory::AccountRecord>>
SqlStore::account_by_domain(const std::string& domain)
{
    return with_connection(
        *pool_, [&](sql::Connection& db) -> core::Result<std::optional<directory::AccountRecord>> {
            return query_account(db, "JOIN domains d ON d.account_id = a.id WHERE d.domain = ?1",
                                 domain);
        });
}

core::Status SqlStore::add_alias(const std::string& account_id, const std::string& domain)
{
    return with_connection(*pool_, [&](sql::Connection& db) -> core::Status {
        LATCHKEY_TRY(txn, Transaction::begin(db));
        // Checked first: with a missing account and a taken domain, "not found" is the better
        // answer.
        LATCHKEY_TRY(exists, row_exists(db, "SELECT 1 FROM accounts WHERE id = ?1", account_id));
        if (!exists)
            return core::fail(Errc::not_found, "account " + quote(account_id) + " not found");
        LATCHKEY_TRY_STATUS(insert_domain(db, account_id, domain, false));
        return txn.commit();
    });
}

core::Status SqlStore::remove_alias(const std::string& account_id, const std::string& domain)
{
    return with_connection(*pool_, [&](sql::Connection& db) -> core::Status {
        LATCHKEY_TRY(txn, Transaction::begin(db));
        LATCHKEY_TRY(stmt, db.prepare("DELETE FROM domains WHERE account_id = ?1 "
                                      "AND domain = ?2 AND NOT is_default"));
        LATCHKEY_TRY_STATUS(stmt.bind(account_id, domain));
        LATCHKEY_TRY_STATUS(stmt.run());
        if (stmt.changes() == 0)
            return core::fail(Errc::not_found, "domain " + quote(domain) +
                                                   " is not an alias of account " +
                                                   quote(account_id));
        return txn.commit();
    });
}

core::Status SqlStore::set_policy(const std::string& account_id, const proto::PasswordPolicy& p)
{
    return with_connection(*pool_, [&](sql::Connection& db) -> core::Status {
        return update_account(
            db,
            "UPDATE accounts SET policy_min_length = ?2, policy_require_lowercase = ?3, "
            "policy_require_uppercase = ?4, policy_require_digit = ?5, policy_require_symbol = ?6, "
            "policy_max_age_days = ?7, policy_history = ?8, policy_max_failed_per_hour = ?9, "
            "policy_hard_expiry = ?10 WHERE id = ?1",
            account_id, p.min_length, p.require_lowercase, p.require_uppercase, p.require_digit,
            p.require_symbol, p.max_age_days, p.history, p.max_failed_per_hour, p.hard_expiry);
    });
}

core::Status SqlStore::set_settings(const std::string& account_id, const proto::SecuritySettings& s)
{
    return with_connection(*pool_, [&](sql::Connection& db) -> core::Status {
        return update_account(db,
                              "UPDATE accounts SET settings_allow_change_password = ?2, "
                              "settings_allow_passkey_logon = ?3, settings_allow_manage_mfa = ?4, "
                              "settings_mfa_required = ?5, settings_session_duration_s = ?6, "
                              "settings_allowed_networks = ?7, settings_mfa_enrol_at_logon = ?8, "
                              "settings_device_approval = ?9 WHERE id = ?1",
                              account_id, s.allow_change_password, s.allow_passkey_logon,
                              s.allow_manage_mfa, s.mfa_required, s.session_duration_s,
                              string_list_to_json(s.allowed_networks), s.mfa_enrol_at_logon,
                              device_approval_name(s.device_approval));
    });
}

core::Status SqlStore::create_user(const directory::UserRecord& u)
{
    return with_connection(*pool_, [&](sql::Connection& db) -> core::Status {
        LATCHKEY_TRY(txn, Transaction::begin(db));
        LATCHKEY_TRY(stmt, db.prepare("INSERT INTO users (id, account_id, name, "
                                      "display_name, console_logon, password_hash, "
                                      "password_set_at, require_change, created_at, "
                                      "locked_until, email) "
                                      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, "
                                      "?11)"));
        std::optional<std::int64_t> set_at;
        if (u.password_set_at)
            set_at = core::to_unix(*u.password_set_at);
        std::optional<std::int64_t> locked_until;
        if (u.locked_until)
            locked_until = core::to_unix(*u.locked_until);
        LATCHKEY_TRY_STATUS(stmt.bind(u.id, u.account_id, u.name, u.display_name, u.console_logon,
                                      u.password_hash, set_at, u.require_change,
                                      core::to_unix(u.created_at), locked_until, u.email));
        const auto exists = [&](std::string_view sqlite_message) -> std::string {
            if (sqlite_message.find("users.name") != std::string_view::npos)
                return "user " + quote(u.name) + " already exists in this account";
            return "user id " + quote(u.id) + " already exists";
        };
        LATCHKEY_TRY_STATUS(
            run_write(stmt, exists, "account " + quote(u.account_id) + " not found"));
        return txn.commit();
    });
}

core::Result<std::optional<directory::UserRecord>> SqlStore::user_by_id(const std::string& id)
{
    return with_connection(
        *pool_, [&](sql::Connection& db) -> core::Result<std::optional<directory::UserRecord>> {
            return first(query_users(db, "WHERE u.id = ?1", id));
        });
}

core::Result<std::optional<directory::UserRecord>>
SqlStore::user_by_name(const std::string& account_id, const std::string& name)
{
    return with_connection(
        *pool_, [&](sql::Connection& db) -> core::Result<std::optional<directory::UserRecord>> {
            return first(
                query_users(db, "WHERE u.account_id = ?1 AND u.name = ?2", account_id, name));
        });
}

core::Result<std::vector<directory::UserRecord>>
SqlStore::users(const std::optional<std::string>& account_id)
{
    return with_connection(
        *pool_, [&](sql::Connection& db) -> core::Result<std::vector<directory::UserRecord>> {
            if (account_id)
                return query_users(db, "WHERE u.account_id = ?1", *account_id);
            return query_users(db, "");
        });
}

core::Result<std::uint32_t> SqlStore::count_users(const std::string& account_id)
{
    return with_connection(*pool_, [&](sql::Connection& db) -> core::Result<std::uint32_t> {
        LATCHKEY_TRY(stmt, db.prepare("SELECT count(*) FROM users WHERE account_id = ?1"));
        LATCHKEY_TRY_STATUS(stmt.bind(account_id));
        LATCHKEY_TRY(row, stmt.step());
        return row ? read_u32(stmt, 0) : 0U;
    });
}

core::Status SqlStore::delete_user(const std::string& user_id)
{
    return with_connection(*pool_, [&](sql::Connection& db) -> core::Status {
        // password_history, logon_failures and sessions rows go with it: ON DELETE CASCADE.
        return update_user(db, "DELETE FROM users WHERE id = ?1", user_id);
    });
}

namespace {

/// The next Unix id of `range` (inside the caller's transaction): one above the highest ever
/// given, to a user present or deleted or to a group, so that a number that once named someone
/// never names anyone else.
core::Result<std::int64_t> next_unix_id(sql::Connection& db, directory::UidRange range)
{
    LATCHKEY_TRY(highest, db.prepare("SELECT max(id) FROM ("
                                     "SELECT uid AS id FROM users WHERE uid BETWEEN ?1 AND ?2 "
                                     "UNION ALL SELECT uid FROM retired_uids WHERE uid BETWEEN "
                                     "?1 AND ?2 UNION ALL SELECT gid FROM unix_groups WHERE "
                                     "gid BETWEEN ?1 AND ?2) AS ids"));
    LATCHKEY_TRY_STATUS(highest.bind(std::int64_t{range.min}, std::int64_t{range.max}));
    LATCHKEY_TRY(aggregate, highest.step()); // max() always answers one row
    const auto top = aggregate ? highest.optional_int64(0) : std::nullopt;
    const std::int64_t next = top ? *top + 1 : std::int64_t{range.min};
    if (range.min == 0 || range.max < range.min || next > std::int64_t{range.max})
        return core::fail(Errc::failed_precondition,
                          "no uid is left in the range " + std::to_string(range.min) + " to " +
                              std::to_string(range.max) + ": widen [unix] uid_max");
    return next;
}

} // namespace

core::Result<std::uint32_t> SqlStore::assign_uid(const std::string& user_id,
                                                 directory::UidRange range)
{
    return with_connection(*pool_, [&](sql::Connection& db) -> core::Result<std::uint32_t> {
        LATCHKEY_TRY(txn, Transaction::begin(db));
        LATCHKEY_TRY(current, db.prepare("SELECT uid FROM users WHERE id = ?1"));
        LATCHKEY_TRY_STATUS(current.bind(user_id));
        LATCHKEY_TRY(found, current.step());
        if (!found)
            return core::fail(Errc::not_found, "user " + quote(user_id) + " not found");
        if (const auto uid = current.optional_int64(0))
            return static_cast<std::uint32_t>(*uid);
        LATCHKEY_TRY(next, next_unix_id(db, range));
        LATCHKEY_TRY(set, db.prepare("UPDATE users SET uid = ?2 WHERE id = ?1"));
        LATCHKEY_TRY_STATUS(set.bind(user_id, next));
        LATCHKEY_TRY(updated, set.step());
        (void)updated; // an UPDATE answers no row
        LATCHKEY_TRY_STATUS(txn.commit());
        return static_cast<std::uint32_t>(next);
    });
}

core::Result<std::uint32_t> SqlStore::assign_gid(const std::string& group_name,
                                                 directory::UidRange range)
{
    return with_connection(*pool_, [&](sql::Connection& db) -> core::Result<std::uint32_t> {
        LATCHKEY_TRY(txn, Transaction::begin(db));
        LATCHKEY_TRY(current, db.prepare("SELECT gid FROM unix_groups WHERE name = ?1"));
        LATCHKEY_TRY_STATUS(current.bind(group_name));
        LATCHKEY_TRY(found, current.step());
        if (found)
            return read_u32(current, 0);
        LATCHKEY_TRY(next, next_unix_id(db, range));
        LATCHKEY_TRY(add, db.prepare("INSERT INTO unix_groups (name, gid) VALUES (?1, ?2)"));
        LATCHKEY_TRY_STATUS(add.bind(group_name, next));
        LATCHKEY_TRY(added, add.step());
        (void)added;
        LATCHKEY_TRY_STATUS(txn.commit());
        return static_cast<std::uint32_t>(next);
    });
}

core::Result<std::vector<directory::UnixGroupRecord>> SqlStore::unix_groups()
{
    return with_connection(
        *pool_, [&](sql::Connection& db) -> core::Result<std::vector<directory::UnixGroupRecord>> {
            LATCHKEY_TRY(stmt, db.prepare("SELECT name, gid FROM unix_groups ORDER BY name"));
            std::vector<directory::UnixGroupRecord> out;
            for (;;) {
                LATCHKEY_TRY(row, stmt.step());
                if (!row)
                    return out;
                out.push_back({stmt.text(0), read_u32(stmt, 1)});
            }
        });
}

core::Status SqlStore::set_home(const std::string& user_id, const std::optional<std::string>& home)
{
    return with_connection(*pool_, [&](sql::Connection& db) -> core::Status {
        return update_user(db, "UPDATE users SET home = ?2 WHERE id = ?1", user_id, home);
    });
}

core::Status SqlStore::set_shell(const std::string& user_id,
                                 const std::optional<std::string>& shell)
{
    return with_connection(*pool_, [&](sql::Connection& db) -> core::Status {
        return update_user(db, "UPDATE users SET shell = ?2 WHERE id = ?1", user_id, shell);
    });
}

core::Result<std::optional<directory::UserRecord>> SqlStore::user_by_uid(std::uint32_t uid)
{
    return with_connection(
        *pool_, [&](sql::Connection& db) -> core::Result<std::optional<directory::UserRecord>> {
            return first(query_users(db, "WHERE u.uid = ?1", std::int64_t{uid}));
        });
}

core::Result<std::vector<directory::UserRecord>> SqlStore::users_without_uid()
{
    return with_connection(
        *pool_, [&](sql::Connection& db) -> core::Result<std::vector<directory::UserRecord>> {
            return query_users(db, "WHERE u.uid IS NULL AND u.name <> 'root'");
        });
}

core::Result<std::vector<directory::RetiredUid>> SqlStore::retired_uids()
{
    return with_connection(
        *pool_, [&](sql::Connection& db) -> core::Result<std::vector<directory::RetiredUid>> {
            LATCHKEY_TRY(stmt, db.prepare("SELECT uid, user_name, retired_at FROM "
                                          "retired_uids ORDER BY uid"));
            std::vector<directory::RetiredUid> out;
            for (;;) {
                LATCHKEY_TRY(row, stmt.step());
                if (!row)
                    return out;
                out.push_back({read_u32(stmt, 0), stmt.text(1), core::from_unix(stmt.int64(2))});
            }
        });
}

core::Status SqlStore::set_console_logon(const std::string& user_id, bool enabled)
{
    return with_connection(*pool_, [&](sql::Connection& db) -> core::Status {
        return update_user(db, "UPDATE users SET console_logon = ?2 WHERE id = ?1", user_id,
                           enabled);
    });
}

core::Status SqlStore::set_email(const std::string& user_id,
                                 const std::optional<std::string>& email)
{
    return with_connection(*pool_, [&](sql::Connection& db) -> core::Status {
        return update_user(db, "UPDATE users SET email = ?2 WHERE id = ?1", user_id, email);
    });
}

core::Status SqlStore::set_require_change(const std::string& user_id, bool required)
{
    return with_connection(*pool_, [&](sql::Connection& db) -> core::Status {
        return update_user(db, "UPDATE users SET require_change = ?2 WHERE id = ?1", user_id,
                           required);
    });
}

core::Status SqlStore::set_password(const std::string& user_id,
                                    const directory::PasswordChange& change)
{
    return with_connection(*pool_, [&](sql::Connection& db) -> core::Status {
        LATCHKEY_TRY(txn, Transaction::begin(db));

        LATCHKEY_TRY(current, db.prepare("SELECT password_hash, password_set_at "
                                         "FROM users WHERE id = ?1"));
        LATCHKEY_TRY_STATUS(current.bind(user_id));
        LATCHKEY_TRY(found, current.step());
        if (!found)
            return core::fail(Errc::not_found, "user " + quote(user_id) + " not found");
        const std::string old_hash = current.text(0);
        const std::optional<std::int64_t> old_set_at = current.optional_int64(1);
        current.reset();

        if (!old_hash.empty()) {
            LATCHKEY_TRY(push, db.prepare("INSERT INTO password_history (user_id, hash, "
                                          "set_at) VALUES (?1, ?2, ?3)"));
            LATCHKEY_TRY_STATUS(push.bind(user_id, old_hash, old_set_at));
            LATCHKEY_TRY_STATUS(push.run());
        }

        LATCHKEY_TRY(update, db.prepare("UPDATE users SET password_hash = ?2, "
                                        "password_set_at = ?3, require_change = ?4 "
                                        "WHERE id = ?1"));
        LATCHKEY_TRY_STATUS(update.bind(user_id, change.new_hash, core::to_unix(change.set_at),
                                        change.require_change));
        LATCHKEY_TRY_STATUS(update.run());

        LATCHKEY_TRY(trim, db.prepare("DELETE FROM password_history WHERE user_id = ?1 "
                                      "AND seq NOT IN (SELECT seq FROM password_history "
                                      "WHERE user_id = ?1 ORDER BY seq DESC LIMIT ?2)"));
        LATCHKEY_TRY_STATUS(trim.bind(user_id, change.history_keep));
        LATCHKEY_TRY_STATUS(trim.run());
        return txn.commit();
    });
}

core::Result<std::vector<std::string>> SqlStore::password_history(const std::string& user_id,
                                                                  std::uint32_t limit)
{
    return with_connection(*pool_,
                           [&](sql::Connection& db) -> core::Result<std::vector<std::string>> {
                               LATCHKEY_TRY(stmt, db.prepare("SELECT hash FROM password_history "
                                                             "WHERE user_id = ?1 ORDER BY seq DESC "
                                                             "LIMIT ?2"));
                               LATCHKEY_TRY_STATUS(stmt.bind(user_id, limit));
                               std::vector<std::string> out;
                               for (;;) {
                                   LATCHKEY_TRY(row, stmt.step());
                                   if (!row)
                                       return out;
                                   out.push_back(stmt.text(0));
                               }
                           });
}

core::Status SqlStore::append_audit(directory::AuditEvent& event)
{
    return with_connection(*pool_, [&](sql::Connection& db) -> core::Status {
        LATCHKEY_TRY(txn, Transaction::begin(db));
        LATCHKEY_TRY(stmt, db.prepare("INSERT INTO audit (at, severity, event, user_name, "
                                      "fields) VALUES (?1, ?2, ?3, ?4, ?5) RETURNING seq"));
        std::optional<std::string_view> user;
        if (const auto it = event.fields.find("user"); it != event.fields.end())
            user = it->second;
        LATCHKEY_TRY_STATUS(stmt.bind(core::to_unix(event.at), severity_number(event.severity),
                                      event.event, user, fields_to_json(event.fields)));
        LATCHKEY_TRY(inserted, stmt.step());
        if (!inserted)
            return core::fail(Errc::store_failed, "the audit record got no sequence number");
        const std::int64_t seq = stmt.int64(0);
        stmt.reset();
        LATCHKEY_TRY_STATUS(txn.commit());
        event.seq = seq;
        return {};
    });
}

core::Result<std::vector<directory::AuditEvent>> SqlStore::audit(const directory::AuditQuery& query)
{
    return with_connection(
        *pool_, [&](sql::Connection& db) -> core::Result<std::vector<directory::AuditEvent>> {
            // Only the filters asked for go into the WHERE clause, so the engine can use the
            // indexes; parameters are numbered in the order they appear.
            std::string sql = "SELECT seq, at, severity, event, fields FROM audit WHERE TRUE";
            int n = 0;
            const auto next = [&n] { return "?" + std::to_string(++n); };
            if (query.min_severity)
                sql += " AND severity >= " + next();
            if (query.since)
                sql += " AND at >= " + next();
            if (query.user)
                sql += " AND user_name = " + next();
            sql += " ORDER BY seq DESC LIMIT " + next();
            LATCHKEY_TRY(stmt, db.prepare(sql));
            n = 0;
            if (query.min_severity)
                LATCHKEY_TRY_STATUS(stmt.bind_at(++n, severity_number(*query.min_severity)));
            if (query.since)
                LATCHKEY_TRY_STATUS(stmt.bind_at(++n, core::to_unix(*query.since)));
            if (query.user)
                LATCHKEY_TRY_STATUS(stmt.bind_at(++n, *query.user));
            LATCHKEY_TRY_STATUS(stmt.bind_at(++n, query.limit));
            std::vector<directory::AuditEvent> out;
            for (;;) {
                LATCHKEY_TRY(row, stmt.step());
                if (!row)
                    return out;
                directory::AuditEvent e;
                e.seq = stmt.int64(0);
                e.at = core::from_unix(stmt.int64(1));
                const auto severity = severity_from_number(stmt.int64(2));
                if (!severity)
                    return core::fail(corrupt("severity in audit record " + std::to_string(e.seq)));
                e.severity = *severity;
                e.event = stmt.text(3);
                LATCHKEY_TRY(fields, fields_from_json(stmt.text(4)));
                e.fields = std::move(fields);
                out.push_back(std::move(e));
            }
        });
}

} // namespace latchkey::sql
