#include "existing_database.hpp"

#include <filesystem>

namespace loyalty::cli {

bool database_missing(const std::string& database, std::ostream& err) {
    if (std::filesystem::exists(database)) {
        return false;
    }
    err << "no database at " << database << "; `loyalty serve --db " << database << "` makes it\n";
    return true;
}

} // namespace loyalty::cli
