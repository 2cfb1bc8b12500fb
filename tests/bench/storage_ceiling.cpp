// The storage ceiling of scripts/bench: the SQLite writes of a purchase, without the engine.
//
// It posts one purchase through the ledger (ledger::post_purchase) on the benchmark's database,
// reads back every row that purchase wrote (the member row, the operation, the purchase, ledger
// entries, the jobs' queue row, tier history, idempotency key and any archived lot), then replays
// those same statements with the same values, for other members and fresh keys, through the
// sqlite3 C API: in the same
// file (the same tables, indexes and size), in WAL mode with synchronous=FULL, without a
// savepoint per purchase, as the ledger's writer since 2026-12-06 (writer.hpp). It runs two modes,
// each for --duration seconds after a
// --warmup: one purchase per transaction (each commit waits for its fsync) and --batch purchases
// per transaction. That is the most durable purchases per second this disk and SQLite allow
// with the ledger's schema; the engine's rate is reported as a share of it.
//
// What it leaves out, on purpose, is what the ledger's writer does besides writing: the
// idempotency lookup, loading the member, evaluate(), and building the JSON it stores.
//
// Usage: storage_ceiling --db FILE --members N [--program FILE] [--duration S] [--warmup S]
//                        [--batch N] [--pragma 'cache_size = -65536' ...]
// Member ids are m-0 .. m-(N-1), as `loyalty seed` makes them. Prints one JSON object.

#include "loyalty/engine/local_time.hpp"
#include "loyalty/ledger/ledger.hpp"
#include "thread_times.hpp"

#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <iostream>
#include <memory>
#include <random>
#include <spdlog/spdlog.h>
#include <sqlite3.h>
#include <string>
#include <string_view>
#include <vector>

namespace {

using clock_type = std::chrono::steady_clock;

[[noreturn]] void usage(const std::string& problem) {
    std::cerr << "storage_ceiling: " << problem
              << "\nusage: storage_ceiling --db FILE --members N [--program FILE] [--duration S]"
                 " [--warmup S] [--batch N] [--pragma SETTING]...\n";
    std::exit(2);
}

[[noreturn]] void fail(sqlite3* db, const std::string& what) {
    std::cerr << "storage_ceiling: " << what << ": " << sqlite3_errmsg(db) << "\n";
    std::exit(1);
}

void exec(sqlite3* db, const char* sql) {
    char* message = nullptr;
    if (sqlite3_exec(db, sql, nullptr, nullptr, &message) != SQLITE_OK) {
        std::string text = message ? message : "?";
        sqlite3_free(message);
        std::cerr << "storage_ceiling: " << sql << ": " << text << "\n";
        std::exit(1);
    }
}

// A captured row: its values as SQLite returned them, bound back unchanged except where the
// replay substitutes the member, the keys and the operation id.
struct row {
    std::vector<std::string> names;
    std::vector<int> types;
    std::vector<std::string> text;
    std::vector<std::int64_t> integer;

    int column(std::string_view name) const {
        for (std::size_t i = 0; i < names.size(); ++i) {
            if (names[i] == name) {
                return static_cast<int>(i);
            }
        }
        std::cerr << "storage_ceiling: no column " << name << "\n";
        std::exit(1);
    }
};

std::vector<row> select_rows(sqlite3* db, const std::string& sql) {
    sqlite3_stmt* s = nullptr;
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &s, nullptr) != SQLITE_OK) {
        fail(db, sql);
    }
    std::vector<row> rows;
    while (sqlite3_step(s) == SQLITE_ROW) {
        row r;
        int n = sqlite3_column_count(s);
        for (int i = 0; i < n; ++i) {
            r.names.emplace_back(sqlite3_column_name(s, i));
            int type = sqlite3_column_type(s, i);
            r.types.push_back(type);
            r.integer.push_back(type == SQLITE_INTEGER ? sqlite3_column_int64(s, i) : 0);
            const unsigned char* t = sqlite3_column_text(s, i);
            r.text.emplace_back(t ? reinterpret_cast<const char*>(t) : "");
        }
        rows.push_back(std::move(r));
    }
    sqlite3_finalize(s);
    return rows;
}

// An INSERT of `table` with every column of `r`, prepared once.
class insert_like {
public:
    insert_like(sqlite3* db, const std::string& table, const row& r, const std::string& tail = "")
        : db_(db) {
        std::string cols, marks;
        for (std::size_t i = 0; i < r.names.size(); ++i) {
            cols += (i ? ", " : "") + r.names[i];
            marks += (i ? ", ?" : "?") + std::to_string(i + 1);
        }
        std::string sql = "INSERT INTO " + table + " (" + cols + ") VALUES (" + marks + ")" + tail;
        if (sqlite3_prepare_v3(db, sql.c_str(), -1, SQLITE_PREPARE_PERSISTENT, &stmt_, nullptr) !=
            SQLITE_OK) {
            fail(db, sql);
        }
    }
    ~insert_like() { sqlite3_finalize(stmt_); }
    insert_like(const insert_like&) = delete;
    insert_like& operator=(const insert_like&) = delete;

    // Binds the captured row, then `overrides` (column index -> text or integer), and runs.
    template <class Override>
    void run(const row& r, Override overrides) {
        for (std::size_t i = 0; i < r.names.size(); ++i) {
            int at = static_cast<int>(i) + 1;
            switch (r.types[i]) {
            case SQLITE_INTEGER:
                sqlite3_bind_int64(stmt_, at, r.integer[i]);
                break;
            case SQLITE_NULL:
                sqlite3_bind_null(stmt_, at);
                break;
            default:
                sqlite3_bind_text(stmt_, at, r.text[i].data(), static_cast<int>(r.text[i].size()),
                                  SQLITE_STATIC);
            }
        }
        overrides(stmt_);
        if (sqlite3_step(stmt_) != SQLITE_DONE) {
            fail(db_, "insert");
        }
        sqlite3_reset(stmt_);
        sqlite3_clear_bindings(stmt_);
    }

private:
    sqlite3* db_;
    sqlite3_stmt* stmt_ = nullptr;
};

void bind_text(sqlite3_stmt* s, int index, const std::string& text) {
    sqlite3_bind_text(s, index, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
}

using loyalty::bench::read_thread_times;
using loyalty::bench::thread_times;

struct mode_result {
    double purchases_per_s = 0;
    double on_core_share = 0; // of the measured wall time
    double queued_share = 0;
    double cpu_us_per_purchase = 0;
};

double parse_number(std::string_view name, const std::string& text) {
    char* end = nullptr;
    double v = std::strtod(text.c_str(), &end);
    if (text.empty() || end != text.c_str() + text.size() || v < 0) {
        usage(std::string(name) + ": expected a non-negative number");
    }
    return v;
}

} // namespace

int main(int argc, char** argv) {
    std::string db_path, program = std::string(LOYALTY_SOURCE_DIR) + "/config/program.yaml";
    std::uint64_t members = 0;
    double duration = 5, warmup = 1;
    std::size_t batch = 100;
    std::vector<std::string> pragmas; // --pragma: settings to try beyond the ledger's own
    for (int i = 1; i < argc; ++i) {
        std::string_view arg = argv[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= argc) {
                usage(std::string(arg) + " needs a value");
            }
            return argv[++i];
        };
        if (arg == "--db") {
            db_path = value();
        } else if (arg == "--program") {
            program = value();
        } else if (arg == "--members") {
            members = static_cast<std::uint64_t>(parse_number(arg, value()));
        } else if (arg == "--duration") {
            duration = parse_number(arg, value());
        } else if (arg == "--warmup") {
            warmup = parse_number(arg, value());
        } else if (arg == "--pragma") {
            pragmas.push_back(value());
        } else if (arg == "--batch") {
            batch = static_cast<std::size_t>(parse_number(arg, value()));
        } else {
            usage("unknown argument " + std::string(arg));
        }
    }
    if (db_path.empty() || members == 0 || batch == 0 || duration <= 0) {
        usage("--db and --members are required; --batch and --duration must be positive");
    }
    spdlog::set_level(spdlog::level::warn);

    // 1. One purchase through the ledger, on the last member, to capture what it writes.
    const std::string capture_tx = "storage-ceiling-capture";
    const std::string capture_member = "m-" + std::to_string(members - 1);
    std::string queue_before = "0";
    {
        sqlite3* before = nullptr;
        if (sqlite3_open_v2(db_path.c_str(), &before, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
            auto r = select_rows(before, "SELECT COALESCE(MAX(id), 0) AS last FROM due_queue");
            if (!r.empty()) {
                queue_before = r[0].text[0];
            }
        }
        sqlite3_close_v2(before);
    }
    {
        loyalty::ledger::ledger_options lo;
        lo.database = db_path;
        loyalty::ledger::ledger book(lo, program);
        loyalty::engine::purchase p;
        p.transaction_id = capture_tx;
        p.member_id = capture_member;
        p.store_id = "s-12";
        p.channel = "store";
        p.currency = "USD";
        p.occurred_at =
            std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now()) -
            std::chrono::minutes(1);
        p.lines = {{"1", "LATTE-L", "coffee", 2, 525, 0, {"hot"}},
                   {"2", "CROISSANT", "bakery", 3, 375, 0, {"fresh"}},
                   {"3", "BEANS-ETH-250", "beans", 1, 1800, 0, {"whole_bean"}}};
        loyalty::ledger::request_context who;
        auto answer = book.post_purchase(who, p);
        if (!answer && answer.error().code != loyalty::ledger::error_code::idempotency_conflict) {
            std::cerr << "storage_ceiling: the capture purchase failed: " << answer.error().message
                      << "\n";
            return 1;
        }
    }

    sqlite3* db = nullptr;
    if (sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK) {
        fail(db, "open " + db_path);
    }
    sqlite3_busy_timeout(db, 5000);
    // The writer's own settings (src/ledger/ledger.cpp).
    exec(db, "PRAGMA journal_mode = WAL");
    exec(db, "PRAGMA synchronous = FULL");
    exec(db, "PRAGMA foreign_keys = ON");
    exec(db, "PRAGMA temp_store = MEMORY");
    for (const std::string& p : pragmas) {
        exec(db, ("PRAGMA " + p).c_str());
    }

    auto ops = select_rows(db, "SELECT * FROM operations WHERE id = (SELECT operation_id FROM "
                               "purchases WHERE transaction_id = '" +
                                   capture_tx + "' AND store_id = 's-12')");
    if (ops.size() != 1) {
        std::cerr << "storage_ceiling: the capture purchase was not found\n";
        return 1;
    }
    std::string op_id = ops[0].text[static_cast<std::size_t>(ops[0].column("id"))];
    auto member = select_rows(db, "SELECT * FROM members WHERE id = '" + capture_member + "'");
    // Each through an index: the database may hold millions of rows.
    auto purchase = select_rows(db, "SELECT * FROM purchases WHERE transaction_id = '" +
                                        capture_tx + "' AND operation_id = " + op_id);
    auto entries = select_rows(db, "SELECT * FROM ledger_entries WHERE operation_id = " + op_id);
    auto tiers = select_rows(db, "SELECT * FROM tier_history WHERE member_id = '" + capture_member +
                                     "' AND operation_id = " + op_id);
    auto keys = select_rows(db, "SELECT * FROM idempotency_keys WHERE key = 'purchase s-12/" +
                                    capture_tx + "'");
    // Closed lots the purchase archived (usually none: its lots are open, in the member's record).
    auto lots = select_rows(db, "SELECT * FROM lots WHERE member_id = '" + capture_member +
                                    "' AND lot_id IN (SELECT lot_id FROM ledger_entries WHERE "
                                    "operation_id = " +
                                    op_id + ")");
    // The jobs' queue row, when the purchase moved the member's due time earlier (a first
    // purchase after enrolment does: its pending leaves mature before the welcome leaves expire).
    auto queue = select_rows(db, "SELECT * FROM due_queue WHERE member_id = '" + capture_member +
                                     "' AND id > " + queue_before);
    // Columns the replay sets itself (rowid keys are left to SQLite).
    for (auto* rows : {&ops, &entries, &tiers, &queue}) {
        for (row& r : *rows) {
            int id = r.column("id");
            r.names.erase(r.names.begin() + id);
            r.types.erase(r.types.begin() + id);
            r.text.erase(r.text.begin() + id);
            r.integer.erase(r.integer.begin() + id);
        }
    }
    const std::size_t rows_per_purchase = 1 + ops.size() + purchase.size() + entries.size() +
                                          tiers.size() + keys.size() + lots.size() + queue.size();

    // The member row: the ledger reads it (store::load_member), then updates it last, once
    // (store::save), with these statements; the replay writes the captured values.
    sqlite3_stmt* read_member = nullptr;
    const char* read_sql =
        "SELECT name, email, enrolled_at, tier, tier_since, tier_valid_until, state, revision,"
        " due_at, due_entry, due_entry_at, last_entry_id FROM members WHERE id = ?";
    sqlite3_stmt* update_member = nullptr;
    const char* update_sql =
        "UPDATE members SET tier = ?, tier_since = ?, tier_valid_until = ?, state = ?,"
        " revision = revision + 1, updated_at = ?, due_at = ?, due_entry = ?, due_entry_at = ?,"
        " last_entry_id = ? WHERE id = ?";
    for (auto [sql, stmt] : {std::pair{read_sql, &read_member}, {update_sql, &update_member}}) {
        if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, stmt, nullptr) !=
            SQLITE_OK) {
            fail(db, sql);
        }
    }
    const row& m = member.at(0);
    std::string record; // members.state, a blob
    {
        sqlite3_stmt* s = nullptr;
        std::string sql = "SELECT state FROM members WHERE id = '" + capture_member + "'";
        if (sqlite3_prepare_v2(db, sql.c_str(), -1, &s, nullptr) != SQLITE_OK ||
            sqlite3_step(s) != SQLITE_ROW) {
            fail(db, sql);
        }
        record.assign(static_cast<const char*>(sqlite3_column_blob(s, 0)),
                      static_cast<std::size_t>(sqlite3_column_bytes(s, 0)));
        sqlite3_finalize(s);
    }
    auto op_insert = std::make_unique<insert_like>(db, "operations", ops[0]);
    std::vector<std::unique_ptr<insert_like>> purchase_insert, entry_insert, tier_insert,
        key_insert, lot_insert, queue_insert;
    for (const row& r : queue) {
        queue_insert.push_back(std::make_unique<insert_like>(db, "due_queue", r));
    }
    for (const row& r : purchase) {
        purchase_insert.push_back(std::make_unique<insert_like>(db, "purchases", r));
    }
    for (const row& r : entries) {
        entry_insert.push_back(std::make_unique<insert_like>(db, "ledger_entries", r));
    }
    for (const row& r : tiers) {
        tier_insert.push_back(std::make_unique<insert_like>(db, "tier_history", r));
    }
    for (const row& r : keys) {
        key_insert.push_back(std::make_unique<insert_like>(db, "idempotency_keys", r));
    }
    for (const row& r : lots) {
        lot_insert.push_back(std::make_unique<insert_like>(db, "lots", r));
    }

    // Keys no earlier run on this database used: the run's start second is part of them.
    const auto run_tag = static_cast<std::int64_t>(std::time(nullptr));
    std::mt19937_64 rng(static_cast<std::uint64_t>(run_tag));
    std::uniform_int_distribution<std::uint64_t> pick(0, members - 1);
    std::uint64_t serial = 0;
    // The writes of one purchase, for a random member.
    auto one_purchase = [&] {
        std::string who = "m-" + std::to_string(pick(rng));
        std::string tx = "sc-" + std::to_string(run_tag) + "-" + std::to_string(serial);
        std::int64_t lot_base = 1'000'000'000'000 + (run_tag % 1'000'000) * 100'000'000 +
                                static_cast<std::int64_t>(serial) * 16;
        ++serial;
        bind_text(read_member, 1, who);
        if (sqlite3_step(read_member) != SQLITE_ROW) {
            fail(db, "member " + who);
        }
        sqlite3_reset(read_member);
        op_insert->run(ops[0],
                       [&](sqlite3_stmt* s) { bind_text(s, ops[0].column("member_id") + 1, who); });
        std::int64_t op = sqlite3_last_insert_rowid(db);
        for (std::size_t i = 0; i < lots.size(); ++i) {
            lot_insert[i]->run(lots[i], [&](sqlite3_stmt* s) {
                bind_text(s, lots[i].column("member_id") + 1, who);
                sqlite3_bind_int64(s, lots[i].column("lot_id") + 1,
                                   lot_base + static_cast<std::int64_t>(i));
            });
        }
        auto lot_of = [&](std::int64_t captured) -> std::int64_t {
            for (std::size_t i = 0; i < lots.size(); ++i) {
                if (lots[i].integer[static_cast<std::size_t>(lots[i].column("lot_id"))] ==
                    captured) {
                    return lot_base + static_cast<std::int64_t>(i);
                }
            }
            return captured;
        };
        for (std::size_t i = 0; i < purchase.size(); ++i) {
            purchase_insert[i]->run(purchase[i], [&](sqlite3_stmt* s) {
                bind_text(s, purchase[i].column("transaction_id") + 1, tx);
                bind_text(s, purchase[i].column("member_id") + 1, who);
                sqlite3_bind_int64(s, purchase[i].column("operation_id") + 1, op);
            });
        }
        for (std::size_t i = 0; i < entries.size(); ++i) {
            entry_insert[i]->run(entries[i], [&](sqlite3_stmt* s) {
                bind_text(s, entries[i].column("member_id") + 1, who);
                sqlite3_bind_int64(s, entries[i].column("operation_id") + 1, op);
                auto lc = static_cast<std::size_t>(entries[i].column("lot_id"));
                if (entries[i].types[lc] == SQLITE_INTEGER) {
                    sqlite3_bind_int64(s, static_cast<int>(lc) + 1, lot_of(entries[i].integer[lc]));
                }
            });
        }
        for (std::size_t i = 0; i < tiers.size(); ++i) {
            tier_insert[i]->run(tiers[i], [&](sqlite3_stmt* s) {
                bind_text(s, tiers[i].column("member_id") + 1, who);
                sqlite3_bind_int64(s, tiers[i].column("operation_id") + 1, op);
            });
        }
        for (std::size_t i = 0; i < keys.size(); ++i) {
            key_insert[i]->run(keys[i], [&](sqlite3_stmt* s) {
                bind_text(s, keys[i].column("key") + 1, "purchase s-12/" + tx);
                sqlite3_bind_int64(s, keys[i].column("operation_id") + 1, op);
            });
        }
        std::int64_t entry = 0;
        for (std::size_t i = 0; i < queue.size(); ++i) {
            queue_insert[i]->run(queue[i], [&](sqlite3_stmt* s) {
                bind_text(s, queue[i].column("member_id") + 1, who);
            });
            entry = sqlite3_last_insert_rowid(db);
        }
        int c = 1;
        auto bind_column = [&](const char* name) {
            auto ci = static_cast<std::size_t>(m.column(name));
            if (std::string_view(name) == "due_entry" && entry != 0) {
                sqlite3_bind_int64(update_member, c++, entry);
            } else if (m.types[ci] == SQLITE_NULL) {
                sqlite3_bind_null(update_member, c++);
            } else if (m.types[ci] == SQLITE_INTEGER) {
                sqlite3_bind_int64(update_member, c++, m.integer[ci]);
            } else {
                bind_text(update_member, c++, m.text[ci]);
            }
        };
        for (const char* name : {"tier", "tier_since", "tier_valid_until"}) {
            bind_column(name);
        }
        sqlite3_bind_blob(update_member, c++, record.data(), static_cast<int>(record.size()),
                          SQLITE_STATIC);
        for (const char* name :
             {"updated_at", "due_at", "due_entry", "due_entry_at", "last_entry_id"}) {
            bind_column(name);
        }
        bind_text(update_member, c, who);
        if (sqlite3_step(update_member) != SQLITE_DONE) {
            fail(db, "member update");
        }
        sqlite3_reset(update_member);
    };

    // Runs `per_commit` purchases per transaction for warmup + duration seconds and measures
    // from the first commit after the warm-up to the last one.
    auto run_mode = [&](std::size_t per_commit) {
        auto start = clock_type::now();
        auto measure = start + std::chrono::duration_cast<clock_type::duration>(
                                   std::chrono::duration<double>(warmup));
        auto end = measure + std::chrono::duration_cast<clock_type::duration>(
                                 std::chrono::duration<double>(duration));
        std::uint64_t counted = 0;
        bool measuring = false;
        clock_type::time_point first{}, last{};
        thread_times t0{}, t1{};
        for (;;) {
            exec(db, "BEGIN IMMEDIATE");
            for (std::size_t i = 0; i < per_commit; ++i) {
                one_purchase();
            }
            exec(db, "COMMIT");
            auto now = clock_type::now();
            if (now >= measure) {
                if (!measuring) {
                    measuring = true;
                    first = now;
                    t0 = read_thread_times();
                } else {
                    counted += per_commit;
                }
                last = now;
            }
            if (now >= end) {
                t1 = read_thread_times();
                break;
            }
        }
        mode_result r;
        double seconds = std::chrono::duration<double>(last - first).count();
        if (seconds > 0 && counted > 0) {
            r.purchases_per_s = static_cast<double>(counted) / seconds;
            r.on_core_share = (t1.on_core - t0.on_core) / seconds;
            r.queued_share = (t1.queued - t0.queued) / seconds;
            r.cpu_us_per_purchase = (t1.on_core - t0.on_core) * 1e6 / static_cast<double>(counted);
        }
        return r;
    };

    mode_result single = run_mode(1);
    mode_result batched = run_mode(batch);
    sqlite3_finalize(read_member);
    sqlite3_finalize(update_member);
    op_insert.reset();
    queue_insert.clear();
    purchase_insert.clear();
    entry_insert.clear();
    tier_insert.clear();
    key_insert.clear();
    lot_insert.clear();
    auto print_mode = [&](const char* name, std::size_t per_commit, const mode_result& r) {
        std::printf("\"%s\":{\"per_commit\":%zu,\"purchases_per_s\":%.1f,\"rows_per_s\":%.1f,"
                    "\"on_core_share\":%.3f,\"queued_share\":%.3f,\"cpu_us_per_purchase\":%.1f}",
                    name, per_commit, r.purchases_per_s,
                    r.purchases_per_s * static_cast<double>(rows_per_purchase), r.on_core_share,
                    r.queued_share, r.cpu_us_per_purchase);
    };
    std::printf("{\"rows_per_purchase\":%zu,", rows_per_purchase);
    print_mode("single", 1, single);
    std::printf(",");
    print_mode("batched", batch, batched);
    std::printf("}\n");
    (void)sqlite3_close_v2(db);
    return 0;
}
