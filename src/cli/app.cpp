#include "loyalty/cli/app.hpp"

#include "loyalty/cli/commands.hpp"

#include <CLI/CLI.hpp>
#include <ostream>
#include <string>

namespace loyalty::cli {

int run(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
    CLI::App app{"loyalty: a points-and-tiers loyalty engine", "loyalty"};
    app.set_version_flag("--version", "loyalty 0.1.0");
    app.require_subcommand(1);
    int status = 0;

    std::string program_file;
    auto* check = app.add_subcommand("check", "Validate a program file (YAML or JSON)");
    std::optional<std::string> check_now;
    check->add_option("FILE", program_file, "The program file")->required();
    check->add_option("--now", check_now,
                      "The time whose closed rule and reward windows are noted, RFC 3339 "
                      "(default: the clock's)");
    check->callback([&] { status = check_program(program_file, check_now, out, err); });

    std::string rule_json;
    std::optional<std::string> data_json;
    auto* logic = app.add_subcommand("logic", "Evaluate one JsonLogic rule against data");
    logic->add_option("RULE_JSON", rule_json, "The rule, as JSON")->required();
    logic->add_option("DATA_JSON", data_json, "The data, as JSON (default: null)");
    logic->callback([&] { status = evaluate_logic(rule_json, data_json, out, err); });

    std::string sim_program = "config/program.yaml", sim_transaction;
    std::optional<std::string> sim_member, sim_now;
    auto* simulate = app.add_subcommand("simulate", "The outcome of a purchase, storing nothing");
    simulate->add_option("--program", sim_program, "The program file")->capture_default_str();
    simulate->add_option("--transaction", sim_transaction, "The purchase, as JSON")->required();
    simulate->add_option("--member", sim_member, "The member, as JSON (default: just enrolled)");
    simulate->add_option("--now", sim_now, "Evaluation time, RFC 3339 (default: the purchase's)");
    simulate->callback([&] {
        status = simulate_purchase(sim_program, sim_transaction, sim_member, sim_now, out, err);
    });

    std::string database = "data/loyalty.db";
    auto* migrate = app.add_subcommand("migrate", "Create or update the database schema");
    migrate->add_option("--db", database, "The SQLite file")->capture_default_str();
    migrate->callback([&] { status = migrate_database(database, out, err); });

    auto* verify = app.add_subcommand("verify", "Check every ledger invariant of a database");
    verify->add_option("--db", database, "The SQLite file")->capture_default_str();
    verify->callback([&] { status = verify_database(database, out, err); });

    serve_options so;
    auto* serve_cmd =
        app.add_subcommand("serve", "Run the REST server on a program and a database");
    serve_cmd->add_option("--program", so.program, "The program file")->capture_default_str();
    serve_cmd->add_option("--db", so.database, "The SQLite file")->capture_default_str();
    serve_cmd->add_option("--listen", so.listen, "ADDRESS:PORT")->capture_default_str();
    serve_cmd
        ->add_option("--threads", so.threads,
                     "I/O threads (default: one per CPU the process may run on, here " +
                         std::to_string(default_io_threads()) + ")")
        ->check(CLI::Range(1, 64));
    serve_cmd->add_option("--body-limit", so.body_limit, "Largest request body, bytes")
        ->check(CLI::Range(1024, 64 * 1024 * 1024))
        ->capture_default_str();
    serve_cmd->add_option("--max-lines", so.max_lines, "Most lines in a purchase or return")
        ->check(CLI::Range(1, 100000))
        ->capture_default_str();
    serve_cmd->add_option("--max-connections", so.max_connections, "Open connections at most")
        ->check(CLI::Range(1, 100000))
        ->capture_default_str();
    serve_cmd->add_option("--rate", so.rate, "Requests per second per API key")
        ->check(CLI::Range(0.1, 1e6))
        ->capture_default_str();
    serve_cmd->add_option("--burst", so.burst, "Requests an API key may burst")
        ->check(CLI::Range(1.0, 1e6))
        ->capture_default_str();
    serve_cmd->add_option("--web", so.web_root, "The console's folder (empty: no console)")
        ->capture_default_str();
    serve_cmd
        ->add_option("--jobs-interval", so.jobs_interval_seconds,
                     "Seconds between runs of due time-driven work (0: none)")
        ->check(CLI::Range(0, 86400))
        ->capture_default_str();
    serve_cmd
        ->add_option("--batch-window-us", so.batch_window_us,
                     "Microseconds a write batch waits for more requests (0: it takes what queued"
                     " during the previous commit)")
        ->check(CLI::Range(0, 1000000))
        ->capture_default_str();
    serve_cmd
        ->add_option("--checkpoint-pages", so.checkpoint_pages,
                     "Pages in the write-ahead log that start a checkpoint (between two batches)")
        ->check(CLI::Range(1, 1000000))
        ->capture_default_str();
    serve_cmd->add_option("--max-batch", so.max_batch, "Most writes per commit (1: no batching)")
        ->check(CLI::Range(1, 100000))
        ->capture_default_str();
    serve_cmd->add_flag("--flush-in-commit", so.flush_in_commit,
                        "Flush the log inside each COMMIT instead of beside the writer");
    serve_cmd->add_flag("--log-writes-apart", so.log_writes_apart,
                        "Write the log two writes per page, as SQLite does, not one per commit");
    serve_cmd->callback([&] { status = serve(so, out, err); });

    seed_options seed;
    auto* seed_cmd = app.add_subcommand(
        "seed", "Enroll many members quickly (synchronous=NORMAL), for benchmarks");
    seed_cmd->add_option("--db", seed.database, "The SQLite file")->capture_default_str();
    seed_cmd->add_option("--program", seed.program, "The program file")->capture_default_str();
    seed_cmd->add_option("--members", seed.members, "How many members")
        ->required()
        ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{100'000'000}));
    seed_cmd->add_option("--start", seed.start, "The first member's number")->capture_default_str();
    seed_cmd->add_option("--prefix", seed.prefix, "Member ids are PREFIX and a number")
        ->capture_default_str();
    seed_cmd->add_option("--batch", seed.batch, "Enrollments per commit")
        ->check(CLI::Range(1, 100000))
        ->capture_default_str();
    seed_cmd
        ->add_option("--purchases", seed.purchases,
                     "Then post this many purchases for members drawn at random")
        ->check(CLI::Range(std::uint64_t{0}, std::uint64_t{100'000'000}))
        ->capture_default_str();
    seed_cmd->callback([&] { status = seed_members(seed, out, err); });

    auto* jobs = app.add_subcommand("jobs", "Time-driven work: maturing, expiry, tiers, birthdays");
    jobs->require_subcommand(1);
    std::optional<std::string> jobs_program, jobs_now;
    auto* jobs_run = jobs->add_subcommand("run", "Run the work due now (or at --now) and exit");
    jobs_run->add_option("--db", database, "The SQLite file")->capture_default_str();
    jobs_run->add_option("--program", jobs_program, "Activate this program file first");
    jobs_run->add_option("--now", jobs_now, "Run as of this time, RFC 3339 (rehearse on a copy)");
    jobs_run->callback([&] { status = run_jobs(database, jobs_program, jobs_now, out, err); });

    auto* keys = app.add_subcommand("keys", "Manage API keys");
    keys->require_subcommand(1);
    std::string key_role, key_name = "unnamed", key_id;
    std::optional<std::string> key_store;
    auto* key_create = keys->add_subcommand("create", "Create a key; it is printed only once");
    key_create->add_option("--db", database, "The SQLite file")->capture_default_str();
    key_create->add_option("--role", key_role, "pos, support or admin")->required();
    key_create->add_option("--store", key_store, "Bind a pos key to one store");
    key_create->add_option("--name", key_name, "Who holds the key")->capture_default_str();
    key_create->callback(
        [&] { status = create_key(database, key_role, key_store, key_name, out, err); });
    auto* key_list = keys->add_subcommand("list", "List keys (never the keys themselves)");
    key_list->add_option("--db", database, "The SQLite file")->capture_default_str();
    key_list->callback([&] { status = list_keys(database, out, err); });
    auto* key_revoke = keys->add_subcommand("revoke", "Revoke a key by its id");
    key_revoke->add_option("--db", database, "The SQLite file")->capture_default_str();
    key_revoke->add_option("ID", key_id, "The key's id (key_...)")->required();
    key_revoke->callback([&] { status = revoke_key(database, key_id, out, err); });

    // CLI11 wants argv order without the program name, last argument first.
    std::vector<std::string> reversed(args.rbegin(), args.rend());
    try {
        app.parse(reversed);
    } catch (const CLI::ParseError& e) {
        // Help and version are "errors" that exit 0; the rest are usage mistakes (2).
        int code = app.exit(e, out, err);
        return code == 0 ? 0 : 2;
    }
    return status;
}

} // namespace loyalty::cli
