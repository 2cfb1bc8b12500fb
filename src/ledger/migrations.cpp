#include "migrations.hpp"

#include "loyalty/engine/event_json.hpp"
#include "loyalty/engine/state_json.hpp"
#include "member_record.hpp"

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

// Steps in C++ that run after a migration's SQL, in the same transaction.
struct code_step {
    int version;
    void (*run)(connection&);
};
constexpr code_step code_steps[] = {{6, &move_open_lots_into_member_records}};

engine::timestamp stored_time(const std::string& text) {
    auto t = engine::parse_rfc3339(text);
    if (!t) {
        throw std::runtime_error("stored time is unreadable: " + text);
    }
    return *t;
}

} // namespace

void move_open_lots_into_member_records(connection& db) {
    // A thousand members at a time, in id order: the rows read are not the ones being changed.
    statement page =
        db.prepare("SELECT id, state FROM members WHERE id > ? ORDER BY id LIMIT 1000");
    statement open_lots = db.prepare(
        "SELECT lot_id, earned, remaining, earned_at, available_at, expires_at, cause, qualifying,"
        " matured FROM lots WHERE member_id = ? AND remaining <> 0 ORDER BY lot_id");
    statement update = db.prepare("UPDATE members SET state = ? WHERE id = ?");
    std::string after;
    for (;;) {
        std::vector<std::pair<std::string, std::string>> members;
        page.reset();
        page.bind(1, after);
        while (page.step()) {
            members.emplace_back(page.text(0), page.text(1));
        }
        if (members.empty()) {
            break;
        }
        after = members.back().first;
        for (const auto& [id, text] : members) {
            auto j = nlohmann::json::parse(text, nullptr, false);
            auto state = j.is_discarded() ? tl::unexpected(std::string("not JSON"))
                                          : engine::state_from_json(j);
            if (!state) {
                throw std::runtime_error("member " + id + ": the stored state is unreadable (" +
                                         state.error() + ")");
            }
            state->lots.clear();
            open_lots.reset();
            open_lots.bind(1, id);
            while (open_lots.step()) {
                engine::lot& l = state->lots.emplace_back();
                l.id = open_lots.integer(0);
                l.earned = open_lots.integer(1);
                l.remaining = open_lots.integer(2);
                l.earned_at = stored_time(open_lots.text(3));
                l.available_at = stored_time(open_lots.text(4));
                if (auto e = open_lots.optional_text(5)) {
                    l.expires_at = stored_time(*e);
                }
                l.cause = open_lots.text(6);
                l.qualifying = open_lots.integer(7) != 0;
                l.matured = open_lots.integer(8) != 0;
            }
            update.reset();
            update.bind_blob(1, encode_member_record(*state)).bind(2, id).run();
        }
    }
    db.execute("DELETE FROM lots WHERE remaining <> 0");
}

int latest_version() {
    return migrations().empty() ? 0 : version_of(migrations().back().name);
}

int schema_version(connection& db) {
    statement table = db.prepare(
        "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'");
    table.step();
    if (table.integer(0) == 0) {
        return 0;
    }
    statement latest = db.prepare("SELECT COALESCE(MAX(version), 0) FROM schema_migrations");
    latest.step();
    return static_cast<int>(latest.integer(0));
}

int migrate(connection& db) {
    db.execute("CREATE TABLE IF NOT EXISTS schema_migrations ("
               " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)");
    int current = schema_version(db);
    int known = latest_version();
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
            for (const code_step& step : code_steps) {
                if (step.version == version) {
                    step.run(db);
                }
            }
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
