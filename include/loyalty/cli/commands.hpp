#pragma once
// The subcommands, each a function of its parsed options; app.cpp wires them to CLI11.

#include <cstddef>
#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>

namespace loyalty::cli {

// `loyalty check FILE [--now TIME]`: 0 when the program is valid, with a note for each earn
// rule or reward whose window is closed at `now` (the clock's when not given); 1 with every
// problem otherwise; 2 when --now is not a time.
int check_program(const std::string& file, const std::optional<std::string>& now_text,
                  std::ostream& out, std::ostream& err);

// `loyalty logic RULE_JSON [DATA_JSON]`: prints the result as JSON; 2 on invalid input.
int evaluate_logic(const std::string& rule_json, const std::optional<std::string>& data_json,
                   std::ostream& out, std::ostream& err);

// `loyalty simulate`: the outcome of a purchase for a member, storing nothing.
int simulate_purchase(const std::string& program_file, const std::string& transaction_file,
                      const std::optional<std::string>& member_file,
                      const std::optional<std::string>& now, std::ostream& out, std::ostream& err);

// `loyalty migrate --db FILE`: creates or brings the database schema up to date.
int migrate_database(const std::string& database, std::ostream& out, std::ostream& err);

// `loyalty verify --db FILE`: 0 when every invariant holds, 1 naming each violation.
int verify_database(const std::string& database, std::ostream& out, std::ostream& err);

// The I/O threads `loyalty serve` starts unless told: one per CPU the process may run on (its
// affinity mask, as `taskset` or a cgroup's cpuset leave it), at least 1 and at most 64. More
// threads than cores only take turns: on one core, a second thread made a member lookup cost
// 11 % more CPU (docs/benchmarks.md, the round of 2026-12-06, evening).
unsigned default_io_threads();

struct serve_options {
    std::string program = "config/program.yaml";
    std::string database = "data/loyalty.db";
    std::string listen = "127.0.0.1:8080";
    unsigned threads = 0; // 0: default_io_threads()
    std::size_t body_limit = 1024 * 1024;
    std::size_t max_lines = 500;
    std::size_t max_connections = 1024;
    double rate = 100;
    double burst = 200;
    unsigned jobs_interval_seconds = 60; // 0: no scheduled jobs
    std::string web_root = "web";        // the console's files; empty: no console
    // The ledger's group commit (ledger_options): a batch closes after this many microseconds
    // or at max_batch requests; max_batch 1 turns batching off (benchmarks compare the two).
    unsigned batch_window_us = 0;
    std::size_t max_batch = 128;
    // True: each batch's COMMIT flushes the log and the writer waits for it, instead of the log
    // syncer flushing beside the writer (ledger_options::flush_beside_writer; for comparisons).
    bool flush_in_commit = false;
    // True: SQLite writes the log two writes per page, as without ledger_options::gather_log_writes
    // (for comparisons).
    bool log_writes_apart = false;
    // The writer checkpoints the write-ahead log between batches once it holds this many pages.
    int checkpoint_pages = 100; // ledger_options::checkpoint_pages says why
};

// `loyalty serve`: runs until SIGINT or SIGTERM, then shuts down gracefully.
int serve(const serve_options& options, std::ostream& out, std::ostream& err);

// `loyalty seed`: enrolls members <prefix><start> .. <prefix><start + members - 1> through the
// ledger, with synchronous=NORMAL and large batches; for benchmarks and load tests. Then posts
// `purchases` purchases for members drawn at random (the same draw every time), so that the
// file looks like one in use rather than one just filled in key order.
struct seed_options {
    std::string database = "data/loyalty.db";
    std::string program = "config/program.yaml";
    std::uint64_t members = 0;
    std::uint64_t start = 0;
    std::string prefix = "m-";
    std::size_t batch = 1000;
    std::uint64_t purchases = 0;
};
int seed_members(const seed_options& options, std::ostream& out, std::ostream& err);

// `loyalty jobs run`: the time-driven work due at `now` (default: the clock), then exits.
int run_jobs(const std::string& database, const std::optional<std::string>& program_file,
             const std::optional<std::string>& now, std::ostream& out, std::ostream& err);

// `loyalty keys create|list|revoke`: the key is printed once, on stdout.
int create_key(const std::string& database, const std::string& role,
               const std::optional<std::string>& store, const std::string& name, std::ostream& out,
               std::ostream& err);
int list_keys(const std::string& database, std::ostream& out, std::ostream& err);
int revoke_key(const std::string& database, const std::string& id, std::ostream& out,
               std::ostream& err);

} // namespace loyalty::cli
