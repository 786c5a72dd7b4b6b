// SPDX-License-Identifier: Apache-2.0
#include "tests/storage/engines.hpp"

#include <memory>
#include <stdexcept>
#include <string>

#include <sqlite3.h>

#include "storage/sqlite/sqlite.hpp"
#include "storage/sqlite/sqlite_store.hpp"
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

} // namespace

std::vector<EngineKind> engines()
{
    return {
        {"sqlite", [] { return std::unique_ptr<Engine>(std::make_unique<SqliteEngine>()); }},
    };
}

} // namespace latchkey::store_test
