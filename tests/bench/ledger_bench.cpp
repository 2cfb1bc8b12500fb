// Benchmark of the ledger's writer alone: purchases per second with synchronous=FULL at batch
// sizes 1, 10 and 100, reported as ratios to raw single-row SQLite inserts (one INSERT per
// transaction, WAL, synchronous=FULL) measured in the same run, on the same disk, in the same
// folder (docs/benchmarks.md).
//
// A durable commit costs an fsync, and an fsync costs whatever this disk and its load make it
// cost at that moment, so only ratios to a baseline of the same moment mean anything. The
// baseline runs before and after every ledger mode (B, ledger 1, B, ledger 10, B, ledger 100, B,
// raw 10, raw 100, B, then the next round), and each run is set against the mean rate of the two
// baseline runs around it, so a disk that drifts during the run moves both alike. Each figure is
// the median over rounds.
//
// Batch size N comes from max_batch = N with 2N purchases always in flight: while the writer
// commits one batch the next is already queued, so it neither idles nor waits out batch_window.
// The achieved mean batch is read back from ledger::stats(). Every ledger run starts from a copy
// of one database with the members already enrolled, so each mode does the same work.
//
// Usage: ledger_bench [--smoke] [--purchases N] [--baseline-rows N] [--rounds N] [--members N]
//                     [--batches 1,10,100] [--dir DIR]

#include "loyalty/engine/event_json.hpp"
#include "loyalty/ledger/ledger.hpp"
#include "thread_times.hpp"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <iostream>
#include <mutex>
#include <random>
#include <spdlog/spdlog.h>
#include <sqlite3.h>
#include <stdexcept>
#include <string>
#include <string_view>
#include <sys/vfs.h>
#include <unistd.h>
#include <vector>

using namespace loyalty::ledger;
using loyalty::engine::timestamp;
using ledger_service = loyalty::ledger::ledger;
namespace engine = loyalty::engine;

namespace fs = std::filesystem;

namespace {

using bench_clock = std::chrono::steady_clock;

// CPU time of the whole process (the writer thread and the one submitting), in seconds: next to
// the wall time it tells whether a mode waits for the disk or for the processor.
double process_cpu_seconds() {
    timespec cpu{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &cpu);
    return static_cast<double>(cpu.tv_sec) + static_cast<double>(cpu.tv_nsec) * 1e-9;
}

using loyalty::bench::read_thread_times;
using loyalty::bench::thread_times;

constexpr long tmpfs_magic = 0x01021994; // TMPFS_MAGIC from <linux/magic.h>

timestamp at(const char* text) {
    auto t = engine::parse_rfc3339(text);
    if (!t) {
        std::cerr << "bad timestamp in the benchmark: " << text << "\n";
        std::exit(2);
    }
    return *t;
}

// Every write happens at this moment, so the rules decide the same way in every run.
const timestamp bench_now = at("2026-11-24T15:00:00Z");

// A fresh folder for the databases, removed with everything in it at the end.
class bench_dir {
public:
    explicit bench_dir(const fs::path& parent) {
        std::random_device seed;
        path_ =
            parent / ("ledger-bench-" + std::to_string(::getpid()) + "-" + std::to_string(seed()));
        fs::create_directories(path_);
    }
    bench_dir(const bench_dir&) = delete;
    bench_dir& operator=(const bench_dir&) = delete;
    ~bench_dir() {
        std::error_code ignored;
        fs::remove_all(path_, ignored);
    }
    const fs::path& path() const { return path_; }

private:
    fs::path path_;
};

void remove_database(const fs::path& db) {
    for (const char* suffix : {"", "-wal", "-shm", "-journal"}) {
        std::error_code ignored;
        fs::remove(db.string() + suffix, ignored);
    }
}

std::string member_id(std::size_t i) {
    return "m-" + std::to_string(i);
}

// A three-line counter purchase on a Tuesday afternoon in New York.
engine::purchase counter_purchase(std::size_t n, std::size_t members) {
    engine::purchase p;
    p.transaction_id = "t-" + std::to_string(n);
    p.member_id = member_id(n % members);
    p.store_id = "s-12";
    p.channel = "store";
    p.currency = "USD";
    p.occurred_at = bench_now - std::chrono::minutes(5);
    p.lines = {
        {"1", "LATTE-L", "coffee", 2, 525, 0, {"hot", "espresso"}},
        {"2", "CROISSANT", "bakery", 1, 375, 0, {"fresh"}},
        {"3", "BEANS-ETH-250", "beans", 1, 1800, 0, {"whole_bean"}},
    };
    return p;
}

ledger_options options_for(const fs::path& db, std::size_t max_batch, bool synchronous_full) {
    ledger_options o;
    o.database = db;
    o.max_batch = max_batch;
    o.synchronous_full = synchronous_full;
    o.readers = 1;
    o.clock = [] {
        return bench_now;
    };
    return o;
}

// Calls post(i, done) for i in [0, count) with at most `window` of them unanswered at any time.
// The answers come back on the writer thread, where answered(n) is called with the number of
// answers so far. Throws when any write failed.
template <class Post, class Answered>
void keep_in_flight(std::size_t count, std::size_t window, Post post, Answered answered) {
    std::mutex mutex;
    std::condition_variable changed;
    std::size_t outstanding = 0;
    std::size_t answers = 0;
    std::size_t failures = 0;
    std::string first_failure;
    auto done = [&](result<write_result> r) {
        std::lock_guard lock(mutex);
        if (!r && failures++ == 0) {
            first_failure = to_string(r.error().code) + ": " + r.error().message;
        }
        answered(++answers);
        --outstanding;
        changed.notify_one();
    };
    for (std::size_t i = 0; i < count; ++i) {
        {
            std::unique_lock lock(mutex);
            changed.wait(lock, [&] { return outstanding < window; });
            ++outstanding;
        }
        post(i, done);
    }
    std::unique_lock lock(mutex);
    changed.wait(lock, [&] { return outstanding == 0; });
    if (failures > 0) {
        throw std::runtime_error(std::to_string(failures) + " writes failed, the first with " +
                                 first_failure);
    }
}

request_context point_of_sale() {
    request_context who;
    who.actor = "key-pos";
    who.role = "pos";
    return who;
}

// The database every ledger run starts from: the program active and `members` enrolled.
void build_template(const fs::path& db, const fs::path& program, std::size_t members) {
    ledger_service l(options_for(db, 128, false), program);
    keep_in_flight(
        members, 256,
        [&](std::size_t i, ledger_service::write_callback done) {
            l.enroll_async(point_of_sale(),
                           {member_id(i), "Member " + std::to_string(i), std::nullopt, std::nullopt,
                            std::nullopt},
                           std::move(done));
        },
        [](std::size_t) {});
} // closing the last connection checkpoints the WAL into the file

struct measurement {
    double seconds = 0;
    double cpu_seconds = 0;
    thread_times writer; // the writing thread's share of `seconds`
    std::size_t writes = 0;
    double mean_batch = 0;

    double per_second() const { return static_cast<double>(writes) / seconds; }
    double cpu_us_per_write() const { return cpu_seconds * 1e6 / static_cast<double>(writes); }
    double writer_us_per_write() const {
        return writer.on_core * 1e6 / static_cast<double>(writes);
    }
    double writer_on_core() const { return writer.on_core / seconds; }
    double writer_waiting_for_core() const { return writer.queued / seconds; }
};

// The writer's steady state at max_batch = batch: 2 * batch purchases are always in flight, and
// the clock runs from the commit of one batch to the commit of a later one, after a warm-up of
// 2 * batch purchases and with as many still queued behind the last measured batch. The first
// batch of a run is partial (the writer starts on the first request and waits one batch_window
// at most) and so is the drain at the end; neither is measured.
measurement run_ledger(const fs::path& template_db, const fs::path& db, std::size_t batch,
                       std::size_t purchases, std::size_t members) {
    remove_database(db);
    fs::copy_file(template_db, db);
    if (fs::exists(template_db.string() + "-wal")) {
        fs::copy_file(template_db.string() + "-wal", db.string() + "-wal");
    }
    const std::size_t in_flight = 2 * batch;
    const std::size_t start_after = in_flight;
    const std::size_t stop_after = start_after + std::max(purchases, batch);
    const std::size_t total = stop_after + in_flight;
    measurement m;
    {
        ledger_service l(options_for(db, batch, true));
        // The purchases are built beforehand so the clock times the ledger, not the benchmark.
        std::vector<engine::purchase> all;
        all.reserve(total);
        for (std::size_t i = 0; i < total; ++i) {
            all.push_back(counter_purchase(i, members));
        }
        // Taken on the writer thread, after the batch holding that answer was committed and
        // counted in the stats, so the window spans whole batches.
        writer_stats first;
        writer_stats last;
        bench_clock::time_point start;
        bench_clock::time_point stop;
        double cpu_start = 0;
        double cpu_stop = 0;
        thread_times writer_start;
        thread_times writer_stop;
        keep_in_flight(
            total, in_flight,
            [&](std::size_t i, ledger_service::write_callback done) {
                l.post_purchase_async(point_of_sale(), std::move(all[i]), std::move(done));
            },
            [&](std::size_t answers) {
                if (answers == start_after) {
                    start = bench_clock::now();
                    cpu_start = process_cpu_seconds();
                    writer_start = read_thread_times();
                    first = l.stats();
                } else if (answers == stop_after) {
                    stop = bench_clock::now();
                    cpu_stop = process_cpu_seconds();
                    writer_stop = read_thread_times();
                    last = l.stats();
                }
            });
        m.seconds = std::chrono::duration<double>(stop - start).count();
        m.cpu_seconds = cpu_stop - cpu_start;
        m.writer = {writer_stop.on_core - writer_start.on_core,
                    writer_stop.queued - writer_start.queued};
        m.writes = last.requests - first.requests;
        m.mean_batch =
            static_cast<double>(m.writes) / static_cast<double>(last.batches - first.batches);
    }
    remove_database(db);
    return m;
}

void check(sqlite3* db, int rc, const char* doing) {
    if (rc != SQLITE_OK && rc != SQLITE_DONE) {
        throw std::runtime_error(std::string(doing) + ": " + sqlite3_errmsg(db));
    }
}

// The baseline: the sqlite3 C API directly, WAL, synchronous=FULL, `rows_per_commit` rows per
// BEGIN ... COMMIT into a plain table, every statement prepared once. Appends to the database
// when it exists.
measurement run_raw(const fs::path& db_path, std::size_t rows_per_commit, std::size_t rows) {
    sqlite3* db = nullptr;
    if (sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
                        nullptr) != SQLITE_OK) {
        std::string message = db != nullptr ? sqlite3_errmsg(db) : "out of memory";
        sqlite3_close(db);
        throw std::runtime_error("opening " + db_path.string() + ": " + message);
    }
    measurement m;
    std::vector<sqlite3_stmt*> statements;
    try {
        check(db, sqlite3_exec(db, "PRAGMA journal_mode = WAL", nullptr, nullptr, nullptr),
              "journal_mode");
        check(db, sqlite3_exec(db, "PRAGMA synchronous = FULL", nullptr, nullptr, nullptr),
              "synchronous");
        check(
            db,
            sqlite3_exec(
                db,
                "CREATE TABLE IF NOT EXISTS purchases (id INTEGER PRIMARY KEY, member_id TEXT NOT "
                "NULL, transaction_id TEXT NOT NULL, amount INTEGER NOT NULL)",
                nullptr, nullptr, nullptr),
            "create table");
        auto prepare = [&](const char* sql) {
            sqlite3_stmt* s = nullptr;
            check(db, sqlite3_prepare_v2(db, sql, -1, &s, nullptr), sql);
            statements.push_back(s);
            return s;
        };
        sqlite3_stmt* begin = prepare("BEGIN IMMEDIATE");
        sqlite3_stmt* commit = prepare("COMMIT");
        sqlite3_stmt* insert =
            prepare("INSERT INTO purchases (member_id, transaction_id, amount) VALUES (?, ?, ?)");
        auto step = [&](sqlite3_stmt* s, const char* doing) {
            check(db, sqlite3_step(s), doing);
            sqlite3_reset(s);
        };
        double cpu_start = process_cpu_seconds();
        thread_times writer_start = read_thread_times();
        auto start = bench_clock::now();
        for (std::size_t row = 0; row < rows;) {
            step(begin, "BEGIN");
            for (std::size_t k = 0; k < rows_per_commit && row < rows; ++k, ++row) {
                std::string member = member_id(row % 100);
                std::string transaction = "t-" + std::to_string(row);
                sqlite3_bind_text(insert, 1, member.c_str(), -1, SQLITE_TRANSIENT);
                sqlite3_bind_text(insert, 2, transaction.c_str(), -1, SQLITE_TRANSIENT);
                sqlite3_bind_int64(insert, 3, 3225);
                step(insert, "INSERT");
            }
            step(commit, "COMMIT");
        }
        m.seconds = std::chrono::duration<double>(bench_clock::now() - start).count();
        m.cpu_seconds = process_cpu_seconds() - cpu_start;
        thread_times writer_stop = read_thread_times();
        m.writer = {writer_stop.on_core - writer_start.on_core,
                    writer_stop.queued - writer_start.queued};
        m.writes = rows;
        m.mean_batch = static_cast<double>(std::min(rows_per_commit, rows));
    } catch (...) {
        for (sqlite3_stmt* s : statements) {
            sqlite3_finalize(s);
        }
        sqlite3_close(db);
        throw;
    }
    for (sqlite3_stmt* s : statements) {
        sqlite3_finalize(s);
    }
    sqlite3_close(db);
    return m;
}

// The 1, 5 and 15 minute load averages: on a shared machine they say how much the figures were
// competing for a core.
std::string load_average() {
    double load[3] = {0, 0, 0};
    if (getloadavg(load, 3) != 3) {
        return "unknown";
    }
    char text[64];
    std::snprintf(text, sizeof text, "%.2f %.2f %.2f", load[0], load[1], load[2]);
    return text;
}

// The q-quantile (0 <= q <= 1) by linear interpolation: q = 0.5 is the median.
double quantile(std::vector<double> v, double q) {
    std::sort(v.begin(), v.end());
    double pos = q * static_cast<double>(v.size() - 1);
    auto low = static_cast<std::size_t>(pos);
    std::size_t high = std::min(low + 1, v.size() - 1);
    return v[low] + (v[high] - v[low]) * (pos - static_cast<double>(low));
}

struct options {
    std::size_t purchases = 600;
    std::size_t baseline_rows = 200;
    std::size_t rounds = 7;
    std::size_t members = 1000;
    std::vector<std::size_t> batches = {1, 10, 100};
    fs::path dir = LOYALTY_SOURCE_DIR "/build";
    fs::path program = LOYALTY_SOURCE_DIR "/config/program.yaml";
};

options parse_options(int argc, char** argv) {
    options o;
    for (int i = 1; i < argc; ++i) {
        std::string_view arg = argv[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= argc) {
                std::cerr << arg << " needs a value\n";
                std::exit(2);
            }
            return argv[++i];
        };
        auto number = [&] {
            return static_cast<std::size_t>(std::max(1L, std::atol(value().c_str())));
        };
        if (arg == "--smoke") {
            o.purchases = 50;
            o.baseline_rows = 20;
            o.rounds = 1;
            o.members = 200;
        } else if (arg == "--purchases") {
            o.purchases = number();
        } else if (arg == "--baseline-rows") {
            o.baseline_rows = number();
        } else if (arg == "--rounds") {
            o.rounds = number();
        } else if (arg == "--members") {
            o.members = number();
        } else if (arg == "--batches") {
            o.batches.clear();
            std::string list = value();
            for (std::size_t from = 0; from < list.size();) {
                std::size_t comma = std::min(list.find(',', from), list.size());
                o.batches.push_back(static_cast<std::size_t>(
                    std::max(1L, std::atol(list.substr(from, comma - from).c_str()))));
                from = comma + 1;
            }
        } else if (arg == "--dir") {
            o.dir = value();
        } else if (arg == "-h" || arg == "--help") {
            std::cout << "usage: ledger_bench [--smoke] [--purchases N] [--baseline-rows N] "
                         "[--rounds N] [--members N]\n"
                         "                    [--batches 1,10,100] [--dir DIR]\n"
                         "  --smoke        a few purchases, one round: checks that it runs\n"
                         "  --purchases N  purchases (and raw rows) per mode and round "
                         "(default 600)\n"
                         "  --baseline-rows N  rows of each raw single-row baseline run "
                         "(default 200)\n"
                         "  --rounds N     rounds of every mode, interleaved (default 7)\n"
                         "  --members N    members the purchases are spread over (default 1000)\n"
                         "  --batches LIST the ledger's max_batch values, and the raw rows per "
                         "commit beside them (default 1,10,100)\n"
                         "  --dir DIR      where the temporary databases go (default build/ of "
                         "the source tree); use a real disk, not tmpfs\n";
            std::exit(0);
        } else {
            std::cerr << "unknown argument " << arg << "\n";
            std::exit(2);
        }
    }
    return o;
}

struct mode {
    std::string name;
    std::size_t batch;
    bool raw;
    std::vector<measurement> runs;
    std::vector<double> ratios; // to the baseline runs around each run
};

} // namespace

int main(int argc, char** argv) try {
    options opt = parse_options(argc, argv);
    spdlog::set_level(spdlog::level::warn);

    bench_dir dir(opt.dir);
    struct statfs fs_info {};
    if (statfs(dir.path().c_str(), &fs_info) == 0 && fs_info.f_type == tmpfs_magic) {
        std::cerr << "warning: " << dir.path() << " is on tmpfs, where fsync costs nothing; "
                  << "the figures will not say what a disk does (use --dir)\n";
    }
    const fs::path template_db = dir.path() / "template.db";
    build_template(template_db, opt.program, opt.members);

    std::vector<mode> modes;
    for (std::size_t batch : opt.batches) {
        modes.push_back({"ledger, max_batch", batch, false, {}, {}});
    }
    for (std::size_t batch : opt.batches) {
        if (batch > 1) {
            modes.push_back({"raw SQLite, rows per commit", batch, true, {}, {}});
        }
    }
    std::printf("%zu purchases (raw: rows) per mode and round, %zu rows per baseline run, %zu "
                "rounds, %zu members,\nsynchronous=FULL, WAL, in %s\nload average %s\n",
                opt.purchases, opt.baseline_rows, opt.rounds, opt.members, dir.path().c_str(),
                load_average().c_str());
    std::fflush(stdout); // before the progress lines on stderr

    const fs::path db = dir.path() / "run.db";
    // The baseline runs all append to one database, so its WAL grows and is checkpointed as a
    // long run of inserts would, as the ledger's is within each of its runs. A first run, not
    // counted, takes it through its first checkpoints (every 1000 pages by default).
    const fs::path baseline_db = dir.path() / "baseline.db";
    run_raw(baseline_db, 1, 2000);
    mode baseline_runs{"raw SQLite, rows per commit", 1, true, {}, {}};
    auto baseline = [&] {
        baseline_runs.runs.push_back(run_raw(baseline_db, 1, opt.baseline_rows));
        std::fprintf(stderr, "  baseline: %.0f/s\n", baseline_runs.runs.back().per_second());
        return baseline_runs.runs.back();
    };
    // Runs modes [from, to) one after the other, then a baseline run, and sets each against the
    // mean of the baseline runs before and after the group.
    measurement before = baseline();
    auto group = [&](std::size_t from, std::size_t to) {
        for (std::size_t i = from; i < to; ++i) {
            mode& m = modes[i];
            if (m.raw) {
                remove_database(db);
                m.runs.push_back(run_raw(db, m.batch, std::max(opt.purchases, m.batch)));
                remove_database(db);
            } else {
                m.runs.push_back(run_ledger(template_db, db, m.batch, opt.purchases, opt.members));
            }
            std::fprintf(stderr, "%s %zu: %.0f/s\n", m.name.c_str(), m.batch,
                         m.runs.back().per_second());
        }
        measurement after = baseline();
        double base = (before.per_second() + after.per_second()) / 2;
        for (std::size_t i = from; i < to; ++i) {
            modes[i].ratios.push_back(modes[i].runs.back().per_second() / base);
        }
        before = after;
    };
    const std::size_t ledger_modes = opt.batches.size();
    for (std::size_t r = 0; r < opt.rounds; ++r) {
        std::fprintf(stderr, "round %zu\n", r + 1);
        for (std::size_t i = 0; i < ledger_modes; ++i) {
            group(i, i + 1);
        }
        if (ledger_modes < modes.size()) {
            group(ledger_modes, modes.size()); // the raw batches take well under a second
        }
    }

    std::printf("load average at the end %s\n", load_average().c_str());
    std::printf(
        "\nEach figure is the median over rounds. \"x raw 1\" is the median of each run's ratio to "
        "the mean of the\nraw single-row baseline runs just before and after it, with the range "
        "over rounds; on the baseline's\nrow, the range is its slowest and fastest run over its "
        "median. \"on core\" and \"queued\" are the shares\nof the wall time the writing thread "
        "(the ledger's writer, or the thread of the raw inserts) spent on\na core and runnable "
        "but waiting for one; the rest it waited for the disk or for requests. \"writer\"\nis "
        "that thread's time on a core per purchase or row, in microseconds, and \"process\" the "
        "CPU time\nof all threads (the ledger's callers too) per purchase or row.\n\n");
    std::printf("%-28s %6s %6s %11s %7s %13s %7s %7s %7s %7s\n", "mode", "target", "mean",
                "purchases/s", "x raw 1", "range", "on core", "queued", "writer", "process");
    // The baseline's own spread: its runs over their median.
    std::vector<double> baseline_rates;
    for (const measurement& run : baseline_runs.runs) {
        baseline_rates.push_back(run.per_second());
    }
    for (double rate : baseline_rates) {
        baseline_runs.ratios.push_back(rate / quantile(baseline_rates, 0.5));
    }
    modes.insert(modes.begin(), std::move(baseline_runs));
    for (const mode& m : modes) {
        std::vector<double> rates;
        std::vector<double> batches;
        std::vector<double> on_core;
        std::vector<double> queued;
        std::vector<double> writer_us;
        std::vector<double> cpu;
        for (const measurement& run : m.runs) {
            rates.push_back(run.per_second());
            batches.push_back(run.mean_batch);
            on_core.push_back(run.writer_on_core());
            queued.push_back(run.writer_waiting_for_core());
            writer_us.push_back(run.writer_us_per_write());
            cpu.push_back(run.cpu_us_per_write());
        }
        char range[32];
        std::snprintf(range, sizeof range, "%.2f-%.2f", quantile(m.ratios, 0.0),
                      quantile(m.ratios, 1.0));
        std::printf("%-28s %6zu %6.1f %11.0f %7.2f %13s %7.2f %7.2f %7.0f %7.0f\n", m.name.c_str(),
                    m.batch, quantile(batches, 0.5), quantile(rates, 0.5), quantile(m.ratios, 0.5),
                    range, quantile(on_core, 0.5), quantile(queued, 0.5), quantile(writer_us, 0.5),
                    quantile(cpu, 0.5));
    }
    return 0;
} catch (const std::exception& e) {
    std::cerr << "ledger_bench: " << e.what() << "\n";
    return 1;
}
