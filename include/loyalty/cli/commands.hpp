#pragma once
// The subcommands, each a function of its parsed options; app.cpp wires them to CLI11.

#include <iosfwd>
#include <optional>
#include <string>

namespace loyalty::cli {

// `loyalty check FILE`: 0 when the program is valid, 1 with every problem otherwise.
int check_program(const std::string& file, std::ostream& out, std::ostream& err);

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

} // namespace loyalty::cli
