#pragma once
// How many rows a table (or "table WHERE ...") of a database file holds, read over a connection of
// its own. One definition for every test file: a unity build compiles several test files as one,
// where two helpers of the same name would clash.

#include <catch2/catch.hpp>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <sqlite3.h>
#include <string>

namespace loyalty::test {

inline std::int64_t count(const std::filesystem::path& database, const std::string& what) {
    sqlite3* opened = nullptr;
    const int open_rc = sqlite3_open_v2(database.c_str(), &opened, SQLITE_OPEN_READONLY, nullptr);
    // Closed however the test ends, a failed REQUIRE included (sqlite3_open_v2 hands back a
    // handle to close even when it fails).
    std::unique_ptr<sqlite3, decltype(&sqlite3_close)> db(opened, &sqlite3_close);
    REQUIRE(open_rc == SQLITE_OK);
    sqlite3_stmt* prepared = nullptr;
    const std::string sql = "SELECT COUNT(*) FROM " + what;
    const int prepare_rc = sqlite3_prepare_v2(db.get(), sql.c_str(), -1, &prepared, nullptr);
    std::unique_ptr<sqlite3_stmt, decltype(&sqlite3_finalize)> statement(prepared,
                                                                         &sqlite3_finalize);
    INFO(sql << ": " << sqlite3_errmsg(db.get()));
    REQUIRE(prepare_rc == SQLITE_OK);
    REQUIRE(sqlite3_step(statement.get()) == SQLITE_ROW);
    return sqlite3_column_int64(statement.get(), 0);
}

} // namespace loyalty::test
