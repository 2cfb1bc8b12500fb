// `loyalty migrate` and `loyalty verify`.

#include "loyalty/cli/commands.hpp"
#include "loyalty/ledger/maintenance.hpp"

#include <ostream>
#include <stdexcept>

namespace loyalty::cli {

int migrate_database(const std::string& database, std::ostream& out, std::ostream& err) {
    try {
        int applied = ledger::migrate_database(database);
        out << database << ": " << applied << " migration(s) applied, schema up to date\n";
        return 0;
    } catch (const std::exception& e) {
        err << database << ": " << e.what() << "\n";
        return 1;
    }
}

int verify_database(const std::string& database, std::ostream& out, std::ostream& err) {
    try {
        auto violations = ledger::verify_database(database);
        for (const auto& v : violations) {
            err << database << ": " << v.check << ": " << v.detail << "\n";
        }
        if (!violations.empty()) {
            err << violations.size() << " violation(s)\n";
            return 1;
        }
        out << database << ": ok\n";
        return 0;
    } catch (const std::exception& e) {
        err << database << ": " << e.what() << "\n";
        return 2;
    }
}

} // namespace loyalty::cli
