#pragma once
// The schema migrations (schema/NNNN_name.sql), compiled in, and applying them.

#include "sqlite.hpp"

#include <span>
#include <string_view>

namespace loyalty::ledger::detail {

struct migration {
    std::string_view name; // "0001_ledger": the number is the version
    std::string_view sql;
};

// In version order; generated from schema/ by CMakeLists.txt.
std::span<const migration> migrations();

// Applies the migrations the database has not recorded yet, each in its own transaction, and
// records them in schema_migrations. Returns how many were applied. Throws when the database
// holds a version this program does not know (it was migrated by a newer build).
int migrate(connection& db);

} // namespace loyalty::ledger::detail
