// Benchmark of the time-driven jobs: one ledger::run_due(T) over 100,000 members whose pending
// purchase points all mature by T (and, for every other member, whose enrollment lot has expired
// by T), with synchronous=FULL as in production. It reports members/s, the total time and the
// writer's batches, as ratios to baselines measured in the same run (docs/benchmarks.md), and a
// second run_due(T) right after the first, which must find nobody due.
//
// The database every run starts from is built once through the ledger's own write path (enroll,
// post_purchase) and cached next to the benchmark's temporary folder, keyed by the member count,
// the program file and this executable's bytes, so any rebuild of the benchmark (and so of the
// ledger it links) builds a new one. Each run gets a fresh copy of it.
//
// The baselines, and why:
// - "no-op visits": the same number of members visited by run_due when none of them has work
//   due. Re-activating the same program makes everyone due at X0, a day before anything is due,
//   and run_due(X0) then lists every member, and for each one runs a writer task that loads the
//   member, runs time_passes, finds nothing changed and writes only the new due time. That is
//   the fixed cost of a visit (the listing, the task, loading and evaluating the member), on the
//   same members, disk and writer; "x no-op" is what doing the work costs on top of it.
//   One runs before the measured run and one after, and the measured rate is set against their
//   mean, so a machine that drifts during the run moves both alike.
// - "purchases": the ledger's writer posting purchases (a second purchase for a sample of the
//   same members), 256 in flight like run_due's chunk and the same max_batch. A purchase is the
//   write the ledger is sized for, and like a due visit it loads the member, evaluates and saves
//   an outcome; "x purchase" says how a nightly run over N members compares with N purchases.
// Each ratio is given twice: for wall-time rates, and for the writer thread's CPU time per member
// (from /proc/self/task/*/schedstat), which a loaded machine moves much less.
//
// Usage: jobs_bench [--smoke] [--members N] [--rounds N] [--purchases N] [--chunk N] [--dir DIR]
//                   [--rebuild]

#include "loyalty/engine/event_json.hpp"
#include "loyalty/engine/local_time.hpp"
#include "loyalty/ledger/ledger.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <spdlog/spdlog.h>
#include <sqlite3.h>
#include <sstream>
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

constexpr long tmpfs_magic = 0x01021994; // TMPFS_MAGIC from <linux/magic.h>

timestamp at(const char* text) {
    auto t = engine::parse_rfc3339(text);
    if (!t) {
        std::cerr << "bad timestamp in the benchmark: " << text << "\n";
        std::exit(2);
    }
    return *t;
}

// The story of every member, in the sample program (config/program.yaml: 14 pending days,
// lots expire at the end of the sixth month after the one they were earned in, New York time).
// Even members enroll in March, so their 25 enrollment leaves expire at the end of September;
// odd members enroll in September and keep theirs. Everyone buys on 20 September, and those
// points mature 14 days later, at T. Nothing is due before 1 October (local), so at X0 nobody
// has work; at T everyone has: maturing for all, expiring too for half.
const timestamp enrolled_early = at("2026-03-10T15:00:00Z");
const timestamp enrolled_late = at("2026-09-10T15:00:00Z");
const timestamp purchased = at("2026-09-20T15:00:00Z");
const timestamp nothing_due = at("2026-09-21T15:00:00Z");           // X0
const timestamp everything_due = purchased + std::chrono::days{14}; // T

// The ledger's clock, moved by the benchmark between phases (read on the writer thread).
class bench_time {
public:
    void set(timestamp t) { seconds_.store(t.time_since_epoch().count()); }
    timestamp get() const { return timestamp{std::chrono::seconds{seconds_.load()}}; }

private:
    std::atomic<std::int64_t> seconds_{0};
};

// A fresh folder for the databases, removed with everything in it at the end.
class bench_dir {
public:
    explicit bench_dir(const fs::path& parent) {
        std::random_device seed;
        path_ =
            parent / ("jobs-bench-" + std::to_string(::getpid()) + "-" + std::to_string(seed()));
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

void copy_database(const fs::path& from, const fs::path& to) {
    remove_database(to);
    fs::copy_file(from, to);
    if (fs::exists(from.string() + "-wal")) {
        fs::copy_file(from.string() + "-wal", to.string() + "-wal");
    }
}

std::string read_file(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        throw std::runtime_error("cannot read " + path.string());
    }
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// FNV-1a, 64 bits: enough to tell one build of the benchmark or one program file from another.
std::uint64_t fnv1a(std::string_view bytes, std::uint64_t h = 1469598103934665603ull) {
    for (unsigned char c : bytes) {
        h = (h ^ c) * 1099511628211ull;
    }
    return h;
}

std::string member_id(std::size_t i) {
    return "m-" + std::to_string(i);
}

// A three-line counter purchase in New York: 64 base leaves, 1 for the croissant and 50 for the
// basket over $30 on the member's first purchase of the month.
engine::purchase counter_purchase(const std::string& transaction, std::size_t member,
                                  timestamp when) {
    engine::purchase p;
    p.transaction_id = transaction;
    p.member_id = member_id(member);
    p.store_id = "s-12";
    p.channel = "store";
    p.currency = "USD";
    p.occurred_at = when - std::chrono::minutes(5);
    p.lines = {
        {"1", "LATTE-L", "coffee", 2, 525, 0, {"hot", "espresso"}},
        {"2", "CROISSANT", "bakery", 1, 375, 0, {"fresh"}},
        {"3", "BEANS-ETH-250", "beans", 1, 1800, 0, {"whole_bean"}},
    };
    return p;
}

ledger_options options_for(const fs::path& db, const std::shared_ptr<bench_time>& clock,
                           bool synchronous_full, std::size_t max_batch) {
    ledger_options o;
    o.database = db;
    o.synchronous_full = synchronous_full;
    o.max_batch = max_batch;
    o.readers = 1;
    o.clock = [clock] {
        return clock->get();
    };
    return o;
}

request_context point_of_sale() {
    request_context who;
    who.actor = "key-pos";
    who.role = "pos";
    return who;
}

// Calls post(i, done) for i in [0, count) with at most `window` of them unanswered at any time,
// and returns when all are answered. Throws when any write failed.
template <class Post>
void keep_in_flight(std::size_t count, std::size_t window, Post post) {
    std::mutex mutex;
    std::condition_variable changed;
    std::size_t outstanding = 0;
    std::size_t failures = 0;
    std::string first_failure;
    auto done = [&](result<write_result> r) {
        std::lock_guard lock(mutex);
        if (!r && failures++ == 0) {
            first_failure = to_string(r.error().code) + ": " + r.error().message;
        }
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

// One number from a read-only query on a closed database: to check the template, not to build
// it.
std::int64_t query_number(const fs::path& db_path, const std::string& sql) {
    sqlite3* db = nullptr;
    if (sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
        std::string message = db != nullptr ? sqlite3_errmsg(db) : "out of memory";
        sqlite3_close(db);
        throw std::runtime_error("opening " + db_path.string() + ": " + message);
    }
    sqlite3_stmt* s = nullptr;
    std::int64_t value = -1;
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &s, nullptr) == SQLITE_OK &&
        sqlite3_step(s) == SQLITE_ROW) {
        value = sqlite3_column_int64(s, 0);
    }
    std::string message = sqlite3_errmsg(db);
    sqlite3_finalize(s);
    sqlite3_close(db);
    if (value < 0) {
        throw std::runtime_error(sql + ": " + message);
    }
    return value;
}

// The template: the program active, `members` enrolled (even ones in March, odd ones in
// September) and each with one purchase on 20 September, all through the ledger's own write
// path. Durability does not matter here (the file is renamed into place only when complete), so
// it is written with synchronous=NORMAL and large batches.
void build_template(const fs::path& db, const fs::path& program, std::size_t members) {
    auto clock = std::make_shared<bench_time>();
    clock->set(enrolled_early);
    {
        ledger_service l(options_for(db, clock, false, 1024), program);
        auto enroll = [&](std::size_t parity) {
            keep_in_flight((members + 1 - parity) / 2, 2048,
                           [&](std::size_t k, ledger_service::write_callback done) {
                               std::size_t i = 2 * k + parity;
                               l.enroll_async(point_of_sale(),
                                              {member_id(i), "Member " + std::to_string(i),
                                               std::nullopt, std::nullopt, std::nullopt},
                                              std::move(done));
                           });
        };
        enroll(0);
        clock->set(enrolled_late);
        enroll(1);
        clock->set(purchased);
        keep_in_flight(members, 2048, [&](std::size_t i, ledger_service::write_callback done) {
            l.post_purchase_async(point_of_sale(),
                                  counter_purchase("t-" + std::to_string(i), i, purchased),
                                  std::move(done));
        });
    } // closing the last connection checkpoints the WAL into the file

    // What the runs rely on: everyone is due by T, nobody by X0.
    auto count_due = [&](timestamp t) {
        return query_number(db, "SELECT count(*) FROM members WHERE due_at <= '" +
                                    engine::format_rfc3339(t) + "'");
    };
    auto total = query_number(db, "SELECT count(*) FROM members");
    auto due_at_t = count_due(everything_due);
    auto due_at_x0 = count_due(nothing_due);
    if (total != static_cast<std::int64_t>(members) || due_at_t != total || due_at_x0 != 0) {
        throw std::runtime_error("the template is not as intended: " + std::to_string(total) +
                                 " members, " + std::to_string(due_at_t) + " due by T, " +
                                 std::to_string(due_at_x0) + " due by X0");
    }
}

// The template for these options, built when the cache has none. Templates of the same member
// count from another build or program are removed.
fs::path cached_template(const fs::path& cache, const fs::path& program, std::size_t members,
                         bool rebuild) {
    std::uint64_t key = fnv1a(read_file("/proc/self/exe"));
    key = fnv1a(read_file(program), key);
    char hex[17];
    std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(key));
    const std::string prefix = "jobs-template-" + std::to_string(members) + "-";
    const fs::path path = cache / (prefix + hex + ".db");
    fs::create_directories(cache);
    std::vector<fs::path> stale;
    for (const auto& entry : fs::directory_iterator(cache)) {
        std::string name = entry.path().filename().string();
        bool current = name.rfind(path.filename().string(), 0) == 0; // with -wal, -shm
        if (name.rfind(prefix, 0) == 0 && (rebuild || !current)) {
            stale.push_back(entry.path());
        }
    }
    for (const fs::path& p : stale) {
        std::error_code ignored;
        fs::remove(p, ignored);
    }
    if (fs::exists(path)) {
        std::fprintf(stderr, "template: %s (cached)\n", path.c_str());
        return path;
    }
    const fs::path building = cache / (prefix + "building-" + std::to_string(::getpid()) + ".db");
    remove_database(building);
    std::fprintf(stderr, "template: building %zu members in %s ...\n", members, building.c_str());
    auto start = bench_clock::now();
    try {
        build_template(building, program, members);
    } catch (...) {
        remove_database(building);
        throw;
    }
    double seconds = std::chrono::duration<double>(bench_clock::now() - start).count();
    if (fs::exists(building.string() + "-wal")) {
        fs::rename(building.string() + "-wal", path.string() + "-wal");
    }
    fs::rename(building, path);
    remove_database(building);
    std::fprintf(stderr, "template: built in %.1f s (%.0f members/s, enroll + purchase), %.0f MB\n",
                 seconds, static_cast<double>(members) / seconds,
                 static_cast<double>(fs::file_size(path)) / 1e6);
    return path;
}

// Time on a core and time runnable but waiting for one, in seconds, of every thread of the
// process, from /proc/self/task/*/schedstat.
struct thread_times {
    double on_core = 0;
    double waiting_for_core = 0;
};

std::map<long, thread_times> all_thread_times() {
    std::map<long, thread_times> all;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator("/proc/self/task", ec)) {
        if (std::FILE* f = std::fopen((entry.path() / "schedstat").c_str(), "r")) {
            unsigned long long on_core = 0;
            unsigned long long waiting = 0;
            if (std::fscanf(f, "%llu %llu", &on_core, &waiting) == 2) {
                all[std::atol(entry.path().filename().c_str())] = {
                    static_cast<double>(on_core) * 1e-9, static_cast<double>(waiting) * 1e-9};
            }
            std::fclose(f);
        }
    }
    return all;
}

double process_cpu_seconds() {
    timespec cpu{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &cpu);
    return static_cast<double>(cpu.tv_sec) + static_cast<double>(cpu.tv_nsec) * 1e-9;
}

struct measurement {
    std::size_t visited = 0; // writer tasks for members (or purchases)
    std::size_t changed = 0; // what run_due returned
    std::uint64_t batches = 0;
    double seconds = 0;
    double cpu_seconds = 0;
    thread_times writer; // the ledger's writer thread
    double caller_on_core = 0;

    double per_second() const { return static_cast<double>(visited) / seconds; }
    double mean_batch() const {
        return static_cast<double>(visited) /
               static_cast<double>(std::max<std::uint64_t>(1, batches));
    }
    double per_visit_us(double s) const {
        return visited == 0 ? 0 : s * 1e6 / static_cast<double>(visited);
    }
};

// Times fn() and fills in what the ledger's stats and the threads' times say about it. The
// writer is the thread, other than this one, that spent the most time on a core.
template <class Fn>
measurement timed(ledger_service& l, Fn fn) {
    const long caller = ::gettid();
    writer_stats stats_before = l.stats();
    auto threads_before = all_thread_times();
    double cpu_before = process_cpu_seconds();
    auto start = bench_clock::now();
    measurement m;
    fn(m);
    m.seconds = std::chrono::duration<double>(bench_clock::now() - start).count();
    m.cpu_seconds = process_cpu_seconds() - cpu_before;
    auto threads_after = all_thread_times();
    writer_stats stats_after = l.stats();
    for (const auto& [tid, after] : threads_after) {
        auto before = threads_before.find(tid);
        thread_times d = after;
        if (before != threads_before.end()) {
            d.on_core -= before->second.on_core;
            d.waiting_for_core -= before->second.waiting_for_core;
        }
        if (tid == caller) {
            m.caller_on_core = d.on_core;
        } else if (d.on_core > m.writer.on_core) {
            m.writer = d;
        }
    }
    m.batches = stats_after.batches - stats_before.batches;
    m.visited = stats_after.requests - stats_before.requests;
    return m;
}

// run_due(now) on an open ledger. Its last writer task forgets old idempotency keys; it is not a
// member and not counted in `visited` (but its batch is in `batches`).
measurement time_run_due(ledger_service& l, timestamp now, std::size_t chunk) {
    measurement m = timed(l, [&](measurement& out) {
        auto changed = l.run_due(now, chunk);
        if (!changed) {
            throw std::runtime_error("run_due failed: " + to_string(changed.error().code) + ": " +
                                     changed.error().message);
        }
        out.changed = *changed;
    });
    m.visited -= std::min<std::size_t>(m.visited, 1);
    return m;
}

void expect(bool ok, const std::string& what) {
    if (!ok) {
        throw std::runtime_error("unexpected: " + what);
    }
}

struct options {
    std::size_t members = 100'000;
    std::size_t rounds = 1;
    std::size_t purchases = 0; // 0: min(members, 10000)
    std::size_t chunk = 256;
    bool rebuild = false;
    fs::path dir = LOYALTY_SOURCE_DIR "/build";
    fs::path program = LOYALTY_SOURCE_DIR "/config/program.yaml";
};

// The baseline of no-op visits on a fresh copy: everyone made due at X0 by re-activating the
// program, then the ledger reopened (so that update is checkpointed and not timed) and
// run_due(X0) timed.
measurement run_noop_visits(const fs::path& template_db, const fs::path& db, const options& opt) {
    copy_database(template_db, db);
    auto clock = std::make_shared<bench_time>();
    clock->set(nothing_due);
    {
        ledger_service l(options_for(db, clock, true, 128));
        request_context admin;
        auto activated =
            l.activate_program(admin, read_file(opt.program), opt.program.filename().string());
        expect(activated.has_value(), "re-activating the program failed");
    }
    measurement m;
    {
        ledger_service l(options_for(db, clock, true, 128));
        m = time_run_due(l, nothing_due, opt.chunk);
    }
    remove_database(db);
    expect(m.changed == 0, "the no-op run changed " + std::to_string(m.changed) + " members");
    expect(m.visited == opt.members, "the no-op run visited " + std::to_string(m.visited) +
                                         " members, not " + std::to_string(opt.members));
    return m;
}

// The measured run_due(T) on a fresh copy, and the second run right after it.
std::pair<measurement, measurement> run_due_work(const fs::path& template_db, const fs::path& db,
                                                 const options& opt) {
    copy_database(template_db, db);
    auto clock = std::make_shared<bench_time>();
    clock->set(everything_due);
    std::pair<measurement, measurement> m;
    {
        ledger_service l(options_for(db, clock, true, 128));
        m.first = time_run_due(l, everything_due, opt.chunk);
        m.second = time_run_due(l, everything_due, opt.chunk);
    }
    remove_database(db);
    expect(m.first.changed == opt.members && m.first.visited == opt.members,
           "run_due(T) changed " + std::to_string(m.first.changed) + " and visited " +
               std::to_string(m.first.visited) + " members, not " + std::to_string(opt.members));
    expect(m.second.changed == 0 && m.second.visited == 0,
           "the second run_due(T) changed " + std::to_string(m.second.changed) + " and visited " +
               std::to_string(m.second.visited) + " members, not 0");
    return m;
}

// The baseline of purchases: a second purchase at X0 for `count` members spread over all of
// them, 256 in flight, on a fresh copy.
measurement run_purchases(const fs::path& template_db, const fs::path& db, const options& opt,
                          std::size_t count) {
    copy_database(template_db, db);
    auto clock = std::make_shared<bench_time>();
    clock->set(nothing_due);
    measurement m;
    {
        ledger_service l(options_for(db, clock, true, 128));
        std::vector<engine::purchase> all;
        all.reserve(count);
        for (std::size_t i = 0; i < count; ++i) {
            all.push_back(
                counter_purchase("t2-" + std::to_string(i), i * opt.members / count, nothing_due));
        }
        m = timed(l, [&](measurement&) {
            keep_in_flight(count, 256, [&](std::size_t i, ledger_service::write_callback done) {
                l.post_purchase_async(point_of_sale(), std::move(all[i]), std::move(done));
            });
        });
    }
    remove_database(db);
    expect(m.visited == count,
           "posted " + std::to_string(m.visited) + " purchases, not " + std::to_string(count));
    return m;
}

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
            o.members = 2000;
        } else if (arg == "--members") {
            o.members = number();
        } else if (arg == "--rounds") {
            o.rounds = number();
        } else if (arg == "--purchases") {
            o.purchases = number();
        } else if (arg == "--chunk") {
            o.chunk = number();
        } else if (arg == "--rebuild") {
            o.rebuild = true;
        } else if (arg == "--dir") {
            o.dir = value();
        } else if (arg == "-h" || arg == "--help") {
            std::cout
                << "usage: jobs_bench [--smoke] [--members N] [--rounds N] [--purchases N] "
                   "[--chunk N] [--dir DIR] [--rebuild]\n"
                   "  --smoke        2000 members: checks that it runs\n"
                   "  --members N    members, all due at T (default 100000)\n"
                   "  --rounds N     rounds of (purchases, run_due(T), no-op visits), after one\n"
                   "                 run of no-op visits (default 1)\n"
                   "  --purchases N  purchases of the purchase baseline (default the members, "
                   "at most 10000)\n"
                   "  --chunk N      run_due's chunk (default 256, the ledger's default)\n"
                   "  --dir DIR      where the temporary databases go, and the cached template "
                   "under\n"
                   "                 DIR/jobs-bench-cache (default build/ of the source tree); "
                   "use a real disk\n"
                   "  --rebuild      build the template again even when one is cached\n";
            std::exit(0);
        } else {
            std::cerr << "unknown argument " << arg << "\n";
            std::exit(2);
        }
    }
    if (o.purchases == 0) {
        o.purchases = std::min<std::size_t>(o.members, 10'000);
    }
    o.purchases = std::min(o.purchases, o.members);
    return o;
}

std::string load_average() {
    double load[3] = {0, 0, 0};
    if (getloadavg(load, 3) != 3) {
        return "unknown";
    }
    char text[64];
    std::snprintf(text, sizeof text, "%.2f %.2f %.2f", load[0], load[1], load[2]);
    return text;
}

double median(std::vector<double> v) {
    if (v.empty()) {
        return 0;
    }
    std::sort(v.begin(), v.end());
    std::size_t n = v.size();
    return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

// One row of the table: the runs of one kind and their ratios to the baselines. A ratio above 1
// means faster than the baseline: either members (or purchases) per second of wall time over the
// baseline's, or the baseline's writer CPU time per member over this run's ("cpu"), which a
// loaded machine moves much less.
struct row {
    std::string name;
    std::vector<measurement> runs;
    std::vector<double> x_noop;
    std::vector<double> x_noop_cpu;
    std::vector<double> x_purchase;
    std::vector<double> x_purchase_cpu;
};

double writer_us(const measurement& m) {
    return m.per_visit_us(m.writer.on_core);
}

// Sets m against the no-op visit runs just before and after it, and the purchases of its round.
void add_ratios(row& r, const measurement& m, const measurement& noop_before,
                const measurement& noop_after, const measurement* purchases) {
    double noop_rate = (noop_before.per_second() + noop_after.per_second()) / 2;
    double noop_us = (writer_us(noop_before) + writer_us(noop_after)) / 2;
    r.x_noop.push_back(m.per_second() / noop_rate);
    r.x_noop_cpu.push_back(noop_us / writer_us(m));
    if (purchases != nullptr) {
        r.x_purchase.push_back(m.per_second() / purchases->per_second());
        r.x_purchase_cpu.push_back(writer_us(*purchases) / writer_us(m));
    }
}

std::string ratio_text(const std::vector<double>& v) {
    if (v.empty()) {
        return "-";
    }
    char text[48];
    if (v.size() == 1) {
        std::snprintf(text, sizeof text, "%.2f", v.front());
    } else {
        std::snprintf(text, sizeof text, "%.2f (%.2f-%.2f)", median(v),
                      *std::min_element(v.begin(), v.end()), *std::max_element(v.begin(), v.end()));
    }
    return text;
}

void print_header() {
    std::printf("%-24s %7s %7s %8s %7s %16s %16s %16s %16s %7s %6s %6s %6s %6s %6s %6s\n", "run",
                "members", "changed", "seconds", "per s", "x no-op", "x no-op cpu", "x purchase",
                "x purchase cpu", "batches", "mean", "writer", "queued", "wr us", "ca us",
                "cpu us");
}

void print_row(const row& r) {
    auto med = [&](auto field) {
        std::vector<double> v;
        for (const measurement& m : r.runs) {
            v.push_back(field(m));
        }
        return median(v);
    };
    double visited = med([](const measurement& m) { return static_cast<double>(m.visited); });
    double changed = med([](const measurement& m) { return static_cast<double>(m.changed); });
    double seconds = med([](const measurement& m) { return m.seconds; });
    double rate = med([](const measurement& m) { return m.per_second(); });
    double batches = med([](const measurement& m) { return static_cast<double>(m.batches); });
    double mean_batch = med([](const measurement& m) { return m.mean_batch(); });
    double on_core = med([](const measurement& m) { return m.writer.on_core / m.seconds; });
    double queued = med([](const measurement& m) { return m.writer.waiting_for_core / m.seconds; });
    double wr_us = med([](const measurement& m) { return writer_us(m); });
    double ca_us = med([](const measurement& m) { return m.per_visit_us(m.caller_on_core); });
    double cpu_us = med([](const measurement& m) { return m.per_visit_us(m.cpu_seconds); });
    if (visited == 0) {
        std::printf("%-24s %7.0f %7.0f %8.3f %7s %16s %16s %16s %16s %7.0f %6s %6.2f %6.2f %6s "
                    "%6s %6s\n",
                    r.name.c_str(), visited, changed, seconds, "-", "-", "-", "-", "-", batches,
                    "-", on_core, queued, "-", "-", "-");
        return;
    }
    std::printf("%-24s %7.0f %7.0f %8.3f %7.0f %16s %16s %16s %16s %7.0f %6.1f %6.2f %6.2f %6.0f "
                "%6.0f %6.0f\n",
                r.name.c_str(), visited, changed, seconds, rate, ratio_text(r.x_noop).c_str(),
                ratio_text(r.x_noop_cpu).c_str(), ratio_text(r.x_purchase).c_str(),
                ratio_text(r.x_purchase_cpu).c_str(), batches, mean_batch, on_core, queued, wr_us,
                ca_us, cpu_us);
}

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
    const fs::path template_db =
        cached_template(opt.dir / "jobs-bench-cache", opt.program, opt.members, opt.rebuild);
    const fs::path db = dir.path() / "run.db";

    std::printf("run_due over %zu members (chunk %zu), synchronous=FULL, max_batch 128, WAL, "
                "in %s\n%zu round(s), %zu purchases per purchase baseline, load average %s\n",
                opt.members, opt.chunk, dir.path().c_str(), opt.rounds, opt.purchases,
                load_average().c_str());
    std::fflush(stdout); // before the progress lines on stderr

    row noop{"no-op visits (baseline)", {}, {}, {}, {}, {}};
    row purchases{"purchases (baseline)", {}, {}, {}, {}, {}};
    row due{"run_due(T)", {}, {}, {}, {}, {}};
    row again{"second run_due(T)", {}, {}, {}, {}, {}};
    auto progress = [](const char* what, const measurement& m) {
        std::fprintf(stderr, "  %s: %zu in %.2f s, %.0f/s, writer %.0f us each\n", what, m.visited,
                     m.seconds, m.visited == 0 ? 0.0 : m.per_second(), writer_us(m));
    };
    // The order: no-op visits, then per round purchases, run_due(T) and its second run, no-op
    // visits; each run_due(T) is set against the no-op visits on either side of it.
    noop.runs.push_back(run_noop_visits(template_db, db, opt));
    progress("no-op visits", noop.runs.back());
    for (std::size_t r = 0; r < opt.rounds; ++r) {
        std::fprintf(stderr, "round %zu\n", r + 1);
        purchases.runs.push_back(run_purchases(template_db, db, opt, opt.purchases));
        progress("purchases", purchases.runs.back());
        auto [first, second] = run_due_work(template_db, db, opt);
        due.runs.push_back(first);
        again.runs.push_back(second);
        progress("run_due(T)", first);
        progress("second run_due(T)", second);
        noop.runs.push_back(run_noop_visits(template_db, db, opt));
        progress("no-op visits", noop.runs.back());

        add_ratios(due, first, noop.runs[r], noop.runs[r + 1], &purchases.runs.back());
        add_ratios(purchases, purchases.runs.back(), noop.runs[r], noop.runs[r + 1], nullptr);
    }
    // On the baseline's row: each run over the median of all of them, its own spread.
    std::vector<double> noop_rates;
    std::vector<double> noop_us;
    for (const measurement& m : noop.runs) {
        noop_rates.push_back(m.per_second());
        noop_us.push_back(writer_us(m));
    }
    for (const measurement& m : noop.runs) {
        noop.x_noop.push_back(m.per_second() / median(noop_rates));
        noop.x_noop_cpu.push_back(median(noop_us) / writer_us(m));
    }

    std::printf("load average at the end %s\n", load_average().c_str());
    std::printf(
        "\nmembers: members visited by the writer (on the purchases row: purchases); changed: "
        "what run_due\nreturned. \"x no-op\" is the rate over the mean of the no-op visit runs "
        "just before and after\nthe run, \"x purchase\" over the purchases of the same round; "
        "the \"cpu\" columns set the writer\nthread's CPU time per member against the "
        "baseline's instead (baseline / run), so above 1 is\nalways faster. On the no-op row, "
        "each run over their median. Median (min-max) over rounds.\nbatches: writer "
        "transactions (run_due's last one forgets old idempotency keys), mean: members\nper "
        "batch. writer, queued: shares of the wall time the writer thread was on a core, and "
        "runnable\nbut waiting for one. wr, ca, cpu us: CPU time per member of the writer "
        "thread, of the calling\nthread (which lists the due members, or posts the purchases) "
        "and of the whole process.\n\n");
    print_header();
    print_row(noop);
    print_row(purchases);
    print_row(due);
    print_row(again);
    // The benchmark has already failed unless every second run found nobody due.
    std::string second_runs;
    for (const measurement& m : again.runs) {
        char text[32];
        std::snprintf(text, sizeof text, "%s%.1f ms", second_runs.empty() ? "" : ", ",
                      m.seconds * 1e3);
        second_runs += text;
    }
    std::printf("\nsecond run_due(T) right after the first, in every round: 0 members due, 0 "
                "changed; took %s\n",
                second_runs.c_str());
    return 0;
} catch (const std::exception& e) {
    std::cerr << "jobs_bench: " << e.what() << "\n";
    return 1;
}
