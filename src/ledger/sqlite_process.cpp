#include "loyalty/ledger/sqlite_process.hpp"

#include <sqlite3.h>

namespace loyalty::ledger {

bool set_sqlite_process_settings() {
    // Memory statistics make every allocation SQLite makes take one mutex shared by the whole
    // process, and Debian's SQLite has no lookaside allocator, so every small allocation of a
    // statement goes through it: the writer and the readers of every I/O thread took turns at
    // it (3 % of the writer's samples in the benchmark's profile, in lock and unlock alone).
    // The server reads none of these statistics; the tests that do run in processes of their
    // own, with SQLite's defaults.
    return sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0) == SQLITE_OK;
}

} // namespace loyalty::ledger
