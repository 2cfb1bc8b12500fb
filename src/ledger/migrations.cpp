#include "migrations.hpp"

#include <charconv>
#include <stdexcept>
#include <string>

namespace loyalty::ledger::detail {
namespace {

int version_of(std::string_view name) {
    int version = 0;
    auto [end, ec] = std::from_chars(name.data(), name.data() + name.size(), version);
    if (ec != std::errc() || end == name.data() || version <= 0) {
        throw std::logic_error("migration " + std::string(name) + " does not start with a number");
    }
    return version;
}

} // namespace

int migrate(connection& db) {
    db.execute("CREATE TABLE IF NOT EXISTS schema_migrations ("
               " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)");
    int current = 0;
    {
        statement latest = db.prepare("SELECT COALESCE(MAX(version), 0) FROM schema_migrations");
        latest.step();
        current = static_cast<int>(latest.integer(0));
    }
    int known = migrations().empty() ? 0 : version_of(migrations().back().name);
    if (current > known) {
        throw std::runtime_error("the database is at schema version " + std::to_string(current) +
                                 ", newer than this program's " + std::to_string(known));
    }
    bool foreign_keys = false;
    {
        statement pragma = db.prepare("PRAGMA foreign_keys");
        foreign_keys = pragma.step() && pragma.integer(0) != 0;
    }
    const char* restore_foreign_keys =
        foreign_keys ? "PRAGMA foreign_keys = ON" : "PRAGMA foreign_keys = OFF";
    int applied = 0;
    for (const migration& m : migrations()) {
        int version = version_of(m.name);
        if (version <= current) {
            continue;
        }
        // A migration may rebuild a table (create, copy, drop, rename: SQLite's way to change
        // one), which foreign keys would refuse half-way; they are checked as a whole before
        // the commit instead. The pragma is ignored inside a transaction, hence outside.
        db.execute("PRAGMA foreign_keys = OFF");
        db.execute("BEGIN IMMEDIATE");
        try {
            db.execute(m.sql);
            {
                statement broken = db.prepare("PRAGMA foreign_key_check");
                if (broken.step()) {
                    throw std::runtime_error(
                        "migration " + std::string(m.name) + " leaves a row of " + broken.text(0) +
                        " whose reference to " + broken.text(2) + " is broken");
                }
            }
            db.prepare("INSERT INTO schema_migrations (version, name, applied_at)"
                       " VALUES (?, ?, strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))")
                .bind(1, version)
                .bind(2, m.name)
                .run();
            db.execute("COMMIT");
        } catch (...) {
            db.execute("ROLLBACK");
            db.execute(restore_foreign_keys);
            throw;
        }
        db.execute(restore_foreign_keys);
        ++applied;
    }
    return applied;
}

} // namespace loyalty::ledger::detail
