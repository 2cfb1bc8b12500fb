#pragma once
// SQLite's settings for the whole process, made once by main before anything opens a
// database (SQLite takes them only before it initializes itself).

namespace loyalty::ledger {

// False when SQLite was initialized already and kept its defaults: only slower.
bool set_sqlite_process_settings();

} // namespace loyalty::ledger
