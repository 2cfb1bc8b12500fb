#include "loyalty/ledger/maintenance.hpp"

#include "loyalty/engine/state_json.hpp"
#include "member_record.hpp"
#include "migrations.hpp"
#include "sqlite.hpp"
#include "store.hpp"

#include <algorithm>
#include <functional>
#include <map>
#include <set>
#include <stdexcept>

namespace loyalty::ledger {

using detail::connection;
using detail::statement;

int migrate_database(const std::filesystem::path& database) {
    if (database.has_parent_path()) {
        std::filesystem::create_directories(database.parent_path());
    }
    connection db(database.string(), connection::mode::read_write);
    db.execute("PRAGMA journal_mode = WAL");
    db.execute("PRAGMA foreign_keys = ON");
    return detail::migrate(db);
}

namespace {

void each_row(connection& db, const char* sql, const std::function<void(statement&)>& row) {
    statement s = db.prepare(sql);
    while (s.step()) {
        row(s);
    }
}

using report_fn = std::function<void(std::string, std::string)>;

// One lot as verify sees it, from the member's record or from the archive of closed lots.
struct checked_lot {
    std::int64_t id = 0;
    std::int64_t earned = 0;
    std::int64_t remaining = 0;
    std::int64_t expired = 0; // what expired and no return has set against its points yet
    bool archived = false;
};

// What a member's ledger entries say, gathered while walking them in id order.
struct entry_summary {
    std::int64_t balance = 0; // every entry but `mature`, which moves nothing
    std::optional<std::int64_t> newest;
    std::set<std::pair<std::int64_t, std::int64_t>> credits; // (lot, points) of earn and adjust
    std::set<std::int64_t> lots_touched;
    std::map<std::int64_t, std::int64_t> expired; // points of `expire` entries, by lot
};

// The checks of each member, in one pass over the members in id order merged with their ledger
// entries and archived lots sorted the same way: a ledger of millions of entries is read once,
// without an index by member (there is none since migration 6).
//   balance:       the entries (but `mature`) add up to the lots' remaining points.
//   lot_origin:    every lot comes from an entry: a credit of exactly what it earned, or, for a
//                  debt (a lot below zero that earned nothing), the debit that opened it.
//   lot_remaining: no lot holds more than it earned, and only debt lots go below zero; an
//                  archived lot holds nothing, and is not also open in the record.
//   member_state:  the record is readable.
//   totals:        the lifetime figures are neither below zero (a return takes back no more
//                  than its purchase added) nor past the engine's limit (member_state.hpp).
//   chain:         each entry points to the member's entry before it, and the member to its
//                  newest.
void check_members(connection& db, const report_fn& report) {
    statement members = db.prepare("SELECT id, state, last_entry_id FROM members ORDER BY id");
    statement entries =
        db.prepare("SELECT member_id, id, previous_id, kind, points, lot_id FROM ledger_entries"
                   " ORDER BY member_id, id");
    statement archive = db.prepare("SELECT member_id, lot_id, earned, remaining, expired FROM lots"
                                   " ORDER BY member_id, lot_id");
    bool entries_left = entries.step();
    bool archive_left = archive.step();
    while (members.step()) {
        std::string id = members.text(0);
        std::vector<checked_lot> lots;
        engine::member_state state;
        if (auto decoded = detail::decode_member_record(members.blob(1), state); !decoded) {
            report("member_state", "member " + id + ": " + decoded.error());
        }
        for (const auto& [name, total] :
             {std::pair<const char*, std::int64_t>{"purchases", state.lifetime_purchases},
              {"spend", state.lifetime_spend},
              {"points", state.lifetime_points}}) {
            if (total < 0 || total > engine::max_member_total) {
                report("totals", "member " + id + ": lifetime " + name + " is " +
                                     std::to_string(total) + ", outside 0 to " +
                                     std::to_string(engine::max_member_total));
            }
        }
        for (const engine::lot& l : state.lots) {
            lots.push_back({l.id, l.earned, l.remaining, l.expired_points, false});
        }
        while (archive_left && archive.text(0) < id) {
            archive_left = archive.step(); // lots of no member: the foreign key check reports them
        }
        while (archive_left && archive.text(0) == id) {
            lots.push_back({archive.integer(1), archive.integer(2), archive.integer(3),
                            archive.integer(4), true});
            archive_left = archive.step();
        }
        while (entries_left && entries.text(0) < id) {
            entries_left = entries.step();
        }
        entry_summary seen;
        while (entries_left && entries.text(0) == id) {
            std::int64_t entry = entries.integer(1);
            auto previous = entries.optional_integer(2);
            if (previous != seen.newest) {
                report("chain",
                       "member " + id + ": entry " + std::to_string(entry) + " follows " +
                           (previous ? std::to_string(*previous) : std::string("nothing")) +
                           " instead of " +
                           (seen.newest ? std::to_string(*seen.newest) : std::string("nothing")));
            }
            seen.newest = entry;
            std::string kind = entries.text(3);
            std::int64_t points = entries.integer(4);
            if (kind != "mature") {
                seen.balance += points;
            }
            if (auto lot = entries.optional_integer(5)) {
                seen.lots_touched.insert(*lot);
                if (kind == "earn" || kind == "adjust") {
                    seen.credits.emplace(*lot, points);
                } else if (kind == "expire") {
                    seen.expired[*lot] -= points;
                }
            }
            entries_left = entries.step();
        }
        auto last = members.optional_integer(2);
        if (last != seen.newest) {
            report("chain", "member " + id + " points to entry " +
                                (last ? std::to_string(*last) : std::string("none")) +
                                " but its newest is " +
                                (seen.newest ? std::to_string(*seen.newest) : std::string("none")));
        }
        std::int64_t held = 0;
        std::set<std::int64_t> ids;
        for (const checked_lot& l : lots) {
            held += l.remaining;
            std::string lot = "member " + id + " lot " + std::to_string(l.id);
            if (!ids.insert(l.id).second) {
                report("lot_remaining", lot + " is both open and archived");
            }
            bool credited = l.earned > 0 ? seen.credits.count({l.id, l.earned}) != 0
                                         : l.earned == 0 && seen.lots_touched.count(l.id) != 0;
            if (!credited) {
                report("lot_origin", lot + " (earned " + std::to_string(l.earned) +
                                         ") has no ledger entry that credited it");
            }
            if (l.remaining > l.earned || (l.earned > 0 && l.remaining < 0) ||
                (l.archived && l.remaining != 0)) {
                report("lot_remaining", lot + " holds " + std::to_string(l.remaining) + " of " +
                                            std::to_string(l.earned) +
                                            (l.archived ? " in the archive of closed lots" : ""));
            }
        }
        for (const checked_lot& l : lots) {
            // A return sets expired points against what it takes back, never more than expired:
            // more would spare a member points they spent.
            auto it = seen.expired.find(l.id);
            std::int64_t by_entries = it == seen.expired.end() ? 0 : it->second;
            if (l.expired < 0 || l.expired > by_entries) {
                report("lot_expired", "member " + id + " lot " + std::to_string(l.id) + " keeps " +
                                          std::to_string(l.expired) +
                                          " expired points; its expire entries took " +
                                          std::to_string(by_entries));
            }
        }
        if (held != seen.balance) {
            report("balance", "member " + id + ": ledger entries add up to " +
                                  std::to_string(seen.balance) + ", lots hold " +
                                  std::to_string(held));
        }
    }
}

} // namespace

std::vector<violation> verify_database(const std::filesystem::path& database) {
    if (!std::filesystem::exists(database)) {
        throw std::runtime_error("no database at " + database.string());
    }
    // Opened for writing so SQLite can roll back what a crash left half-done (a hot journal),
    // but query_only: verify never changes anything itself.
    auto open = [&](connection::mode m) {
        connection db(database.string(), m);
        db.execute("PRAGMA query_only = ON");
        // A database killed before its first migration committed has no tables: nothing is
        // stored, so nothing can be wrong. The next start migrates it.
        statement tables = db.prepare(
            "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'members'");
        tables.step();
        bool has_tables = tables.integer(0) != 0;
        return std::pair{std::move(db), has_tables};
    };
    auto opened = [&] {
        try {
            return open(connection::mode::existing_file);
        } catch (const detail::sqlite_error& e) {
            // On a read-only file system SQLite cannot make the -shm file a WAL database needs.
            // Without a log beside it (a server that stopped cleanly leaves none), the file is
            // the whole database and can be read as immutable; with one, it cannot be read here.
            auto wal = database;
            wal += "-wal";
            std::error_code ec;
            bool log_left =
                std::filesystem::exists(wal, ec) && std::filesystem::file_size(wal, ec) > 0;
            if (!e.unavailable() || log_left) {
                throw;
            }
            return open(connection::mode::immutable);
        }
    }();
    connection db = std::move(opened.first);
    std::vector<violation> found;
    if (!opened.second) {
        return found;
    }
    report_fn report = [&](std::string check, std::string detail) {
        found.push_back({std::move(check), std::move(detail)});
    };
    db.execute("BEGIN"); // one snapshot for every check
    // The checks read the tables as the latest schema has them. A file a crash left between two
    // migrations (each commits alone) holds no member yet, so nothing in it can be wrong; one
    // with members is migrated first.
    if (int version = detail::schema_version(db); version < detail::latest_version()) {
        statement members = db.prepare("SELECT COUNT(*) FROM members");
        members.step();
        if (members.integer(0) != 0) {
            throw std::runtime_error("the database is at schema version " +
                                     std::to_string(version) + " and this program verifies " +
                                     std::to_string(detail::latest_version()) +
                                     "; run `loyalty migrate` first");
        }
        db.execute("COMMIT");
        return found;
    }

    each_row(db, "PRAGMA integrity_check", [&](statement& s) {
        if (s.text(0) != "ok") {
            report("integrity", s.text(0));
        }
    });
    each_row(db, "PRAGMA foreign_key_check", [&](statement& s) {
        report("foreign_key",
               s.text(0) + " row " + s.text(1) + " refers to a missing " + s.text(2) + " row");
    });

    check_members(db, report);

    // Each member due some time is on the jobs' queue by then: its live queue row is its own
    // and due no later than the member.
    each_row(db,
             "SELECT m.id, m.due_at, q.id, q.member_id, q.due_at, m.due_entry_at FROM members m"
             " LEFT JOIN due_queue q ON q.id = m.due_entry WHERE m.due_at IS NOT NULL AND"
             " (q.id IS NULL OR q.member_id <> m.id OR q.due_at IS NOT m.due_entry_at"
             " OR q.due_at > m.due_at)",
             [&](statement& s) {
                 report("due", "member " + s.text(0) + " is due at " + s.text(1) +
                                   (s.is_null(2) ? " but has no queue row"
                                                 : " but its queue row " + s.text(2) + " is " +
                                                       s.text(3) + "'s, due at " + s.text(4)));
             });

    // No voucher is redeemed twice: at most one redemption record uses each voucher, and a
    // voucher is never both redeemed and cancelled (a CHECK also guards that).
    std::map<std::string, std::string> voucher_owner;
    each_row(db, "SELECT redemption_id, record FROM redemptions", [&](statement& s) {
        auto j = nlohmann::json::parse(s.text(1), nullptr, false);
        auto r = j.is_discarded() ? tl::unexpected(std::string("not JSON"))
                                  : engine::redemption_record_from_json(j);
        if (!r) {
            report("redemption", "redemption " + s.text(0) + ": " + r.error());
            return;
        }
        if (r->voucher_id) {
            auto [it, fresh] = voucher_owner.emplace(*r->voucher_id, r->redemption_id);
            if (!fresh) {
                report("voucher", "voucher " + *r->voucher_id + " issued by both " + it->second +
                                      " and " + r->redemption_id);
            }
        }
    });
    each_row(db, "SELECT id FROM vouchers WHERE redeemed = 1 AND cancelled = 1", [&](statement& s) {
        report("voucher", "voucher " + s.text(0) + " is redeemed and cancelled");
    });

    // Every purchase record is readable with its operation's request, and that request is the
    // purchase's, so any purchase can still be returned.
    each_row(db,
             "SELECT p.store_id, p.transaction_id, p.record, o.request FROM purchases p"
             " LEFT JOIN operations o ON o.id = p.operation_id",
             [&](statement& s) {
                 std::string name = "purchase " + s.text(0) + "/" + s.text(1);
                 if (s.is_null(3)) {
                     report("purchase", name + ": its operation is missing");
                     return;
                 }
                 auto r = detail::read_purchase_record(s.text(2), s.text(3));
                 if (!r) {
                     report("purchase", name + ": " + r.error());
                 } else if (r->request.store_id != s.text(0) ||
                            r->request.transaction_id != s.text(1)) {
                     report("purchase", name + ": its record is of purchase " +
                                            r->request.store_id + "/" + r->request.transaction_id);
                 }
             });

    // Each operation's outcome is readable, and where it was kept with its movements (before
    // 2026-12-06) its entries are those movements. The vouchers' uses are gathered on the way,
    // for the check after this one.
    struct voucher_uses {
        int count = 0;
        std::string at;          // the last use's time
        std::string transaction; // and the purchase it named
        std::string store;       // and the store
    };
    std::map<std::string, voucher_uses> uses;
    std::map<std::string, std::string> changes; // profile change id -> member
    // The operation's request (column 5) when it names `field` as text; otherwise reported.
    auto naming = [&](statement& s, const char* field, const char* check,
                      const char* what) -> std::optional<nlohmann::json> {
        auto request = nlohmann::json::parse(s.text(5), nullptr, false);
        if (request.is_discarded() || !request.contains(field) || !request[field].is_string()) {
            report(check, "operation " + s.text(0) + " names no " + what);
            return std::nullopt;
        }
        return request;
    };
    each_row(db,
             "SELECT o.id, o.outcome, (SELECT COALESCE(SUM(points), 0) FROM ledger_entries e"
             " WHERE e.operation_id = o.id AND e.kind <> 'mature'),"
             " (SELECT COUNT(*) FROM ledger_entries e WHERE e.operation_id = o.id), o.kind,"
             " o.request, o.created_at FROM operations o",
             [&](statement& s) {
                 if (s.text(4) == "profile_change") {
                     if (auto request = naming(s, "change_id", "profile_change", "change")) {
                         changes[(*request)["change_id"].get<std::string>()] =
                             request->value("member_id", "");
                     }
                 }
                 if (s.text(4) == "voucher_use") {
                     if (auto request = naming(s, "voucher_id", "voucher", "voucher")) {
                         voucher_uses& u = uses[(*request)["voucher_id"].get<std::string>()];
                         ++u.count;
                         u.at = s.text(6);
                         u.transaction = request->value("transaction_id", "");
                         u.store = request->value("store_id", "");
                     }
                 }
                 auto j = nlohmann::json::parse(s.text(1), nullptr, false);
                 if (j.is_discarded() || !j.contains("movements") || !j["movements"].is_array()) {
                     report("operation", "operation " + s.text(0) + " has no readable outcome");
                     return;
                 }
                 if (j["movements"].empty()) {
                     // Kept without its movements since 2026-12-06 (stored_answer.hpp): a
                     // replay writes them from these entries, so there is nothing to compare.
                     return;
                 }
                 std::int64_t sum = 0;
                 std::int64_t count = 0;
                 for (const auto& m : j["movements"]) {
                     ++count;
                     if (m.value("kind", "") != "mature") {
                         sum += m.value("points", std::int64_t{0});
                     }
                 }
                 if (sum != s.integer(2) || count != s.integer(3)) {
                     report("operation", "operation " + s.text(0) + " answered " +
                                             std::to_string(count) + " movements of " +
                                             std::to_string(sum) + " but stored " +
                                             std::to_string(s.integer(3)) + " of " +
                                             std::to_string(s.integer(2)));
                 }
             });

    // A voucher is marked used when, and only when, one accepted use names it: a use on another
    // purchase is refused, so a voucher never has two. The time, purchase and store it keeps are
    // that use's.
    each_row(db,
             "SELECT id, redeemed, used_at, COALESCE(used_transaction_id, ''),"
             " COALESCE(used_store_id, '') FROM vouchers",
             [&](statement& s) {
                 const std::string id = s.text(0);
                 const bool used = s.integer(1) != 0;
                 auto it = uses.find(id);
                 int named = it == uses.end() ? 0 : it->second.count;
                 if (named != (used ? 1 : 0)) {
                     report("voucher", "voucher " + id + " is " +
                                           (used ? "marked used" : "not marked used") +
                                           "; uses naming it: " + std::to_string(named));
                 }
                 if (!used && !s.is_null(2)) {
                     report("voucher",
                            "voucher " + id + " is not marked used but has a time of use");
                 }
                 if (used && named == 1 &&
                     (s.is_null(2) || s.text(2) != it->second.at ||
                      s.text(3) != it->second.transaction || s.text(4) != it->second.store)) {
                     auto use = [](const std::string& at, const std::string& transaction,
                                   const std::string& store) {
                         return at + " on \"" + transaction + "\"" +
                                (store.empty() ? "" : " at \"" + store + "\"");
                     };
                     report("voucher",
                            "voucher " + id + " keeps the use " +
                                use(s.is_null(2) ? "(none)" : s.text(2), s.text(3), s.text(4)) +
                                " but was used " +
                                use(it->second.at, it->second.transaction, it->second.store));
                 }
                 if (it != uses.end()) {
                     uses.erase(it);
                 }
             });
    for (const auto& [voucher, named] : uses) {
        report("voucher",
               "no voucher " + voucher + "; uses naming it: " + std::to_string(named.count));
    }

    // Every profile change keeps its id (and member) for good, so that it is never made twice.
    each_row(db, "SELECT change_id, member_id FROM profile_changes", [&](statement& s) {
        auto it = changes.find(s.text(0));
        if (it == changes.end()) {
            report("profile_change", "profile change " + s.text(0) + " was never made");
        } else {
            if (it->second != s.text(1)) {
                report("profile_change", "profile change " + s.text(0) + " is kept for " +
                                             s.text(1) + " but was made for " + it->second);
            }
            changes.erase(it);
        }
    });
    for (const auto& [change, member] : changes) {
        report("profile_change", "profile change " + change + " of " + member + " is not kept");
    }
    db.execute("COMMIT");
    return found;
}

} // namespace loyalty::ledger

namespace loyalty::ledger {

std::vector<stored_lot> stored_lots(const std::filesystem::path& database) {
    connection db(database.string(), connection::mode::read_only);
    db.execute("BEGIN");
    std::vector<stored_lot> all;
    statement members = db.prepare("SELECT id, state FROM members ORDER BY id");
    statement archive = db.prepare(
        "SELECT lot_id, earned, remaining, earned_at, available_at, expires_at, cause, qualifying,"
        " matured, expired FROM lots WHERE member_id = ? ORDER BY lot_id");
    while (members.step()) {
        std::string id = members.text(0);
        engine::member_state state;
        if (auto decoded = detail::decode_member_record(members.blob(1), state); !decoded) {
            throw std::runtime_error("member " + id + ": " + decoded.error());
        }
        std::vector<stored_lot> lots;
        for (engine::lot& l : state.lots) {
            lots.push_back({id, std::move(l), false});
        }
        archive.reset();
        archive.bind(1, id);
        while (archive.step()) {
            lots.push_back({id, detail::read_lot(archive), true});
        }
        std::sort(lots.begin(), lots.end(),
                  [](const stored_lot& a, const stored_lot& b) { return a.lot.id < b.lot.id; });
        all.insert(all.end(), std::make_move_iterator(lots.begin()),
                   std::make_move_iterator(lots.end()));
    }
    db.execute("COMMIT");
    return all;
}

} // namespace loyalty::ledger
