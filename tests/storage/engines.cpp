// SPDX-License-Identifier: Apache-2.0
#include "tests/storage/engines.hpp"

#include <memory>
#include <set>
#include <stdexcept>
#include <string>

#include <sqlite3.h>

#include "storage/postgres/pg.hpp"
#include "storage/postgres/pg_store.hpp"
#include "storage/sqlite/sqlite.hpp"
#include "storage/sqlite/sqlite_store.hpp"
#include "tests/storage/postgres/pg_server.hpp"
#include "tests/temp_dir.hpp"

namespace latchkey::store_test {
namespace {

/// A database file in a temporary directory, looked at with connections of the test's own.
class SqliteEngine final : public Engine {
public:
    core::Result<std::unique_ptr<directory::Store>> open() override
    {
        return opened(sqlite::SqliteStore::open(path_));
    }

    core::Result<std::unique_ptr<directory::Store>> open_another() override
    {
        return opened(
            sqlite::SqliteStore::open(dir_.file("another-" + std::to_string(++others_) + ".db")));
    }

    std::int64_t count(const std::string& sql) override
    {
        const auto db = raw();
        auto stmt = sqlite::Statement::prepare(db.get(), sql);
        if (!stmt || !stmt->step().value())
            throw std::runtime_error("query failed: " + sql);
        return stmt->is_null(0) ? -1 : stmt->int64(0);
    }

    core::Status exec(const std::string& sql) override
    {
        const auto db = raw();
        return sqlite::exec(db.get(), sql.c_str());
    }

private:
    static core::Result<std::unique_ptr<directory::Store>>
    opened(core::Result<std::unique_ptr<sqlite::SqliteStore>> store)
    {
        LATCHKEY_TRY(s, std::move(store));
        return std::unique_ptr<directory::Store>(std::move(s));
    }

    [[nodiscard]] sqlite::SqliteDb raw() const
    {
        sqlite3* db = nullptr;
        const int rc = sqlite3_open_v2(path_.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr);
        sqlite::SqliteDb owned(db);
        if (rc != SQLITE_OK)
            throw std::runtime_error("cannot open " + path_);
        return owned;
    }

    test_support::TempDir dir_;
    std::string path_ = dir_.file("latchkey.db");
    int others_ = 0;
};

/// The database `name` on the binary's server holding the latest schema and no rows: migrated
/// the first time, emptied every time after (a fresh database or a migration per test would
/// cost ten times the test).
std::string empty_database(const std::string& name)
{
    static std::set<std::string> created;
    if (created.insert(name).second) {
        const std::string conninfo = test_support::shared_server().new_database(name);
        auto store = postgres::PgStore::open(conninfo);
        if (!store)
            throw std::runtime_error("cannot migrate " + name + ": " + store.error().message);
        return conninfo;
    }
    const std::string conninfo = test_support::shared_server().conninfo(name);
    auto c = postgres::Connection::open(conninfo);
    if (!c)
        throw std::runtime_error("cannot connect: " + c.error().message);
    const auto emptied = c->exec(R"sql(
        SET session_replication_role = replica; -- no foreign-key checks while emptying
        DO $$ DECLARE t text; BEGIN
            FOR t IN SELECT tablename FROM pg_tables
                     WHERE schemaname = 'public' AND tablename <> 'latchkey_schema' LOOP
                EXECUTE 'DELETE FROM ' || quote_ident(t);
            END LOOP;
        END $$)sql");
    if (!emptied)
        throw std::runtime_error("cannot empty " + name + ": " + emptied.error().message);
    return conninfo;
}

/// A database of its own on the binary's server, looked at with connections of the test's own.
class PostgresEngine final : public Engine {
public:
    core::Result<std::unique_ptr<directory::Store>> open() override
    {
        return opened(postgres::PgStore::open(conninfo_));
    }

    core::Result<std::unique_ptr<directory::Store>> open_another() override
    {
        return opened(postgres::PgStore::open(empty_database("another")));
    }

    std::int64_t count(const std::string& sql) override
    {
        auto c = connect();
        auto rows = c.query(sql);
        if (!rows || rows->size() == 0)
            throw std::runtime_error("query failed: " + sql);
        return rows->null(0, 0) ? -1 : rows->int64(0, 0);
    }

    core::Status exec(const std::string& sql) override
    {
        auto c = connect();
        return c.exec(sql);
    }

private:
    static core::Result<std::unique_ptr<directory::Store>>
    opened(core::Result<std::unique_ptr<postgres::PgStore>> store)
    {
        LATCHKEY_TRY(s, std::move(store));
        return std::unique_ptr<directory::Store>(std::move(s));
    }

    [[nodiscard]] postgres::Connection connect() const
    {
        auto c = postgres::Connection::open(conninfo_);
        if (!c)
            throw std::runtime_error("cannot connect: " + c.error().message);
        return std::move(c).value();
    }

    std::string conninfo_ = empty_database("store");
};

} // namespace

std::vector<EngineKind> engines()
{
    return {
        {"sqlite", [] { return std::unique_ptr<Engine>(std::make_unique<SqliteEngine>()); }},
        {"postgresql", [] { return std::unique_ptr<Engine>(std::make_unique<PostgresEngine>()); }},
    };
}

} // namespace latchkey::store_test
