#pragma once
// Offline work on a ledger database: `loyalty migrate` and `loyalty verify`.

#include "loyalty/engine/member_state.hpp"

#include <filesystem>
#include <string>
#include <vector>

namespace loyalty::ledger {

// Creates the database when missing and applies the migrations it lacks; returns how many.
// Throws std::runtime_error when the database cannot be opened or is newer than this program.
int migrate_database(const std::filesystem::path& database);

struct violation {
    std::string check;  // "balance", "lot_origin", "integrity"...
    std::string detail; // which member, lot or row, and the numbers
};

// Checks every invariant docs/ledger.md lists, read-only; empty when all hold. Throws
// std::runtime_error when the database cannot be opened.
std::vector<violation> verify_database(const std::filesystem::path& database);

// A lot as stored: open lots are in their member's record (members.state), closed ones (nothing
// left) archived in `lots`.
struct stored_lot {
    std::string member_id;
    engine::lot lot;
    bool archived = false;
};

// Every lot of every member, open or closed, in (member, lot id) order, read-only: for tools
// and tests that compare two databases. Throws std::runtime_error when the database cannot be
// read or a record is unreadable.
std::vector<stored_lot> stored_lots(const std::filesystem::path& database);

} // namespace loyalty::ledger
