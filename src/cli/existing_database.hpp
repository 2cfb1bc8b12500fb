#pragma once
// The commands that work on a database a server made (keys list and revoke, jobs run) refuse a
// path where there is none: the ledger would create a mistyped --db, migrate it, and leave the
// real database as it was without a word.

#include <ostream>
#include <string>

namespace loyalty::cli {

// True, having said so on `err`, when no file is at `database`.
bool database_missing(const std::string& database, std::ostream& err);

} // namespace loyalty::cli
