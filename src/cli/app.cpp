#include "loyalty/cli/app.hpp"

#include "loyalty/cli/commands.hpp"

#include <CLI/CLI.hpp>
#include <ostream>

namespace loyalty::cli {

int run(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
    CLI::App app{"loyalty: a points-and-tiers loyalty engine", "loyalty"};
    app.set_version_flag("--version", "loyalty 0.1.0");
    app.require_subcommand(1);
    int status = 0;

    std::string program_file;
    auto* check = app.add_subcommand("check", "Validate a program file (YAML or JSON)");
    check->add_option("FILE", program_file, "The program file")->required();
    check->callback([&] { status = check_program(program_file, out, err); });

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
