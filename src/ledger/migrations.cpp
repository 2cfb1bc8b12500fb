#include "migrations.hpp"

#include "loyalty/engine/event_json.hpp"
#include "loyalty/engine/state_json.hpp"
#include "member_record.hpp"
#include "store.hpp"

#include <algorithm>
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

// Steps in C++ a migration's SQL calls where it has a line "-- step: NAME", in its transaction.
struct code_step {
    std::string_view name;
    void (*run)(connection&);
};
constexpr code_step code_steps[] = {{"copy_members_into_records", &copy_members_into_records},
                                    {"record_voucher_uses", &record_voucher_uses}};

// Runs `sql`, calling the C++ steps its "-- step: NAME" lines name where they stand.
void run_migration_sql(connection& db, std::string_view migration, std::string_view sql) {
    static constexpr std::string_view marker = "\n-- step: ";
    std::size_t from = 0;
    for (;;) {
        std::size_t at = sql.find(marker, from);
        db.execute(sql.substr(from, at == std::string_view::npos ? at : at + 1 - from));
        if (at == std::string_view::npos) {
            return;
        }
        std::size_t name_at = at + marker.size();
        std::size_t end = sql.find('\n', name_at);
        std::string_view name =
            sql.substr(name_at, end == std::string_view::npos ? end : end - name_at);
        auto step = std::find_if(std::begin(code_steps), std::end(code_steps),
                                 [&](const code_step& s) { return s.name == name; });
        if (step == std::end(code_steps)) {
            throw std::logic_error("migration " + std::string(migration) +
                                   " calls an unknown step " + std::string(name));
        }
        step->run(db);
        if (end == std::string_view::npos) {
            return;
        }
        from = end + 1;
    }
}

} // namespace

void record_voucher_uses(connection& db) {
    statement any = db.prepare("SELECT EXISTS (SELECT 1 FROM vouchers WHERE redeemed = 1)");
    if (!any.step() || any.integer(0) == 0) {
        return;
    }
    statement uses = db.prepare("SELECT json_extract(request, '$.voucher_id'), created_at,"
                                " NULLIF(json_extract(request, '$.transaction_id'), '')"
                                " FROM operations WHERE kind = 'voucher_use' ORDER BY id");
    statement mark = db.prepare("UPDATE vouchers SET used_at = ?2, used_transaction_id = ?3"
                                " WHERE id = ?1 AND redeemed = 1");
    while (uses.step()) {
        mark.bind(1, uses.text(0)).bind(2, uses.text(1)).bind(3, uses.optional_text(2)).run();
    }
}

void copy_members_into_records(connection& db) {
    // A thousand members at a time, in id order, appended to the new table so its pages are full.
    statement page = db.prepare(
        "SELECT id, name, email, enrolled_at, tier, tier_since, tier_valid_until, state, revision,"
        " updated_at, due_at, (SELECT MAX(e.id) FROM ledger_entries e WHERE e.member_id = m.id)"
        " FROM members m WHERE id > ? ORDER BY id LIMIT 1000");
    statement open_lots = db.prepare(
        "SELECT lot_id, earned, remaining, earned_at, available_at, expires_at, cause, qualifying,"
        " matured, 0 FROM lots WHERE member_id = ? AND remaining <> 0 ORDER BY lot_id");
    statement insert = db.prepare(
        "INSERT INTO members_v6 (id, name, email, enrolled_at, tier, tier_since, tier_valid_until,"
        " state, revision, updated_at, due_at, last_entry_id)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    std::string after;
    for (;;) {
        struct old_member {
            std::string id;
            std::optional<std::string> name, email;
            std::string enrolled_at, tier, tier_since;
            std::optional<std::string> tier_valid_until;
            std::string state;
            std::int64_t revision = 0;
            std::string updated_at;
            std::optional<std::string> due_at;
            std::optional<std::int64_t> last_entry;
        };
        std::vector<old_member> members;
        page.reset();
        page.bind(1, after);
        while (page.step()) {
            members.push_back({page.text(0), page.optional_text(1), page.optional_text(2),
                               page.text(3), page.text(4), page.text(5), page.optional_text(6),
                               page.text(7), page.integer(8), page.text(9), page.optional_text(10),
                               page.optional_integer(11)});
        }
        if (members.empty()) {
            break;
        }
        after = members.back().id;
        for (const old_member& m : members) {
            auto j = nlohmann::json::parse(m.state, nullptr, false);
            auto state = j.is_discarded() ? tl::unexpected(std::string("not JSON"))
                                          : engine::state_from_json(j);
            if (!state) {
                throw std::runtime_error("member " + m.id + ": the stored state is unreadable (" +
                                         state.error() + ")");
            }
            state->lots.clear();
            open_lots.reset();
            open_lots.bind(1, m.id);
            while (open_lots.step()) {
                state->lots.push_back(read_lot(open_lots));
            }
            insert.reset();
            insert.bind(1, m.id)
                .bind(2, m.name)
                .bind(3, m.email)
                .bind(4, m.enrolled_at)
                .bind(5, m.tier)
                .bind(6, m.tier_since)
                .bind(7, m.tier_valid_until)
                .bind_blob(8, encode_member_record(*state))
                .bind(9, m.revision)
                .bind(10, m.updated_at)
                .bind(11, m.due_at)
                .bind(12, m.last_entry)
                .run();
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
            run_migration_sql(db, m.name, m.sql);
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
