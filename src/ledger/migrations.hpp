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

// Migration 6's step (at "-- step: copy_members_into_records"): every member is copied into
// members_v6, in id order, its state (JSON until then) now the binary record of
// member_record.hpp holding its open lots, which leave `lots`.
void copy_members_into_records(connection& db);

// Migration 7's step (at "-- step: record_voucher_uses"): each voucher marked used gets the
// time and purchase of the `voucher_use` operation that used it.
void record_voucher_uses(connection& db);

// The version the last migration brings a database to.
int latest_version();
// The version a database is at (0 when it has no schema yet).
int schema_version(connection& db);

// Applies the migrations the database has not recorded yet, each in its own transaction, and
// records them in schema_migrations. Returns how many were applied. Throws when the database
// holds a version this program does not know (it was migrated by a newer build).
int migrate(connection& db);

} // namespace loyalty::ledger::detail
