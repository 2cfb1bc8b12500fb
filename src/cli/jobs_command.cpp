// `loyalty jobs run`.

#include "existing_database.hpp"
#include "loyalty/cli/commands.hpp"
#include "loyalty/engine/event_json.hpp"
#include "loyalty/engine/local_time.hpp"
#include "loyalty/ledger/ledger.hpp"

#include <ostream>

namespace loyalty::cli {

int run_jobs(const std::string& database, const std::optional<std::string>& program_file,
             const std::optional<std::string>& now, std::ostream& out, std::ostream& err) {
    engine::timestamp at =
        std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
    if (now) {
        auto parsed = engine::parse_rfc3339(*now);
        if (!parsed) {
            err << "--now: expected an RFC 3339 time such as 2027-06-01T04:00:00Z\n";
            return 2;
        }
        at = *parsed;
    }
    if (database_missing(database, err)) {
        return 2;
    }
    try {
        ledger::ledger_options options;
        options.database = database;
        options.program_activated_by = "cli";
        // Writes made while rehearsing a future date are dated then, like the work itself.
        options.clock = [at] {
            return at;
        };
        std::optional<std::filesystem::path> program;
        if (program_file) {
            program = *program_file;
        }
        ledger::ledger book(options, program);
        auto changed = book.run_due(at);
        if (!changed) {
            err << database << ": " << changed.error().message << "\n";
            return 1;
        }
        out << *changed << " member(s) changed by the work due at " << engine::format_rfc3339(at)
            << "\n";
        return 0;
    } catch (const std::exception& e) {
        err << database << ": " << e.what() << "\n";
        return 1;
    }
}

} // namespace loyalty::cli
