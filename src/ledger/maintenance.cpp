#include "loyalty/ledger/maintenance.hpp"

#include "loyalty/engine/state_json.hpp"
#include "migrations.hpp"
#include "sqlite.hpp"

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
    auto report = [&](std::string check, std::string detail) {
        found.push_back({std::move(check), std::move(detail)});
    };
    db.execute("BEGIN"); // one snapshot for every check

    each_row(db, "PRAGMA integrity_check", [&](statement& s) {
        if (s.text(0) != "ok") {
            report("integrity", s.text(0));
        }
    });
    each_row(db, "PRAGMA foreign_key_check", [&](statement& s) {
        report("foreign_key",
               s.text(0) + " row " + s.text(1) + " refers to a missing " + s.text(2) + " row");
    });

    // The balance (available + pending, and points past expiry not yet expired) is the sum of
    // the lots and the sum of the ledger: `mature` entries only say pending points became
    // available, so they move nothing.
    each_row(db,
             "SELECT m.id,"
             " (SELECT COALESCE(SUM(points), 0) FROM ledger_entries e"
             "   WHERE e.member_id = m.id AND e.kind <> 'mature'),"
             " (SELECT COALESCE(SUM(remaining), 0) FROM lots l WHERE l.member_id = m.id)"
             " FROM members m",
             [&](statement& s) {
                 if (s.integer(1) != s.integer(2)) {
                     report("balance", "member " + s.text(0) + ": ledger entries add up to " +
                                           std::to_string(s.integer(1)) + ", lots hold " +
                                           std::to_string(s.integer(2)));
                 }
             });

    // Every lot comes from a ledger entry: a credit of exactly what it earned, or, for a debt
    // (a lot below zero that earned nothing), the debit that opened it.
    each_row(db,
             "SELECT l.member_id, l.lot_id, l.earned, l.remaining FROM lots l"
             " WHERE (l.earned > 0 AND NOT EXISTS (SELECT 1 FROM ledger_entries e"
             "   WHERE e.member_id = l.member_id AND e.lot_id = l.lot_id"
             "   AND e.kind IN ('earn', 'adjust') AND e.points = l.earned))"
             " OR (l.earned = 0 AND NOT EXISTS (SELECT 1 FROM ledger_entries e"
             "   WHERE e.member_id = l.member_id AND e.lot_id = l.lot_id))"
             " OR l.earned < 0",
             [&](statement& s) {
                 report("lot_origin", "member " + s.text(0) + " lot " + s.text(1) + " (earned " +
                                          s.text(2) + ") has no ledger entry that credited it");
             });
    each_row(db,
             "SELECT member_id, lot_id, earned, remaining FROM lots"
             " WHERE remaining > earned OR (earned > 0 AND remaining < 0)",
             [&](statement& s) {
                 report("lot_remaining", "member " + s.text(0) + " lot " + s.text(1) + " holds " +
                                             s.text(3) + " of " + s.text(2));
             });

    // The member row's columns agree with its stored state, which must be readable.
    each_row(db, "SELECT id, tier, state FROM members", [&](statement& s) {
        auto j = nlohmann::json::parse(s.text(2), nullptr, false);
        auto state =
            j.is_discarded() ? tl::unexpected(std::string("not JSON")) : engine::state_from_json(j);
        if (!state) {
            report("member_state", "member " + s.text(0) + ": " + state.error());
        } else if (state->tier.tier != s.text(1)) {
            report("member_state", "member " + s.text(0) + " is " + s.text(1) +
                                       " but its state says " + state->tier.tier);
        }
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

    // Every purchase record is readable, so any purchase can still be returned.
    each_row(db, "SELECT store_id, transaction_id, record FROM purchases", [&](statement& s) {
        auto j = nlohmann::json::parse(s.text(2), nullptr, false);
        auto r = j.is_discarded() ? tl::unexpected(std::string("not JSON"))
                                  : engine::purchase_record_from_json(j);
        if (!r) {
            report("purchase", "purchase " + s.text(0) + "/" + s.text(1) + ": " + r.error());
        }
    });

    // Each operation's entries are the movements its outcome answered.
    each_row(db,
             "SELECT o.id, o.outcome, (SELECT COALESCE(SUM(points), 0) FROM ledger_entries e"
             " WHERE e.operation_id = o.id AND e.kind <> 'mature'),"
             " (SELECT COUNT(*) FROM ledger_entries e WHERE e.operation_id = o.id)"
             " FROM operations o",
             [&](statement& s) {
                 auto j = nlohmann::json::parse(s.text(1), nullptr, false);
                 if (j.is_discarded() || !j.contains("movements") || !j["movements"].is_array()) {
                     report("operation", "operation " + s.text(0) + " has no readable outcome");
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
    db.execute("COMMIT");
    return found;
}

} // namespace loyalty::ledger
