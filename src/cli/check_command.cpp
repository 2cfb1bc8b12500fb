#include "loyalty/cli/commands.hpp"
#include "loyalty/program/load.hpp"

#include <ostream>

namespace loyalty::cli {

int check_program(const std::string& file, std::ostream& out, std::ostream& err) {
    auto loaded = program::load_program_file(file);
    if (!loaded) {
        for (const auto& problem : loaded.error()) {
            err << program::to_string(problem) << '\n';
        }
        auto n = loaded.error().size();
        err << n << (n == 1 ? " error" : " errors") << " in " << file << '\n';
        return 1;
    }
    out << "ok: " << program::summary(**loaded) << '\n';
    return 0;
}

} // namespace loyalty::cli
