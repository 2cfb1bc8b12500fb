#include "loyalty/cli/commands.hpp"
#include "loyalty/program/load.hpp"
#include "loyalty/program/schedule_notes.hpp"
#include "now_option.hpp"

#include <chrono>
#include <ostream>

namespace loyalty::cli {

int check_program(const std::string& file, const std::optional<std::string>& now_text,
                  std::ostream& out, std::ostream& err) {
    auto now = now_option(
        now_text, std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now()),
        "check", err);
    if (!now) {
        return 2;
    }
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
    // Valid, but not doing today what a reader of "ok" might expect: said, not refused.
    for (const auto& note : program::schedule_notes(**loaded, file, *now)) {
        out << "note: " << program::to_string(note) << '\n';
    }
    return 0;
}

} // namespace loyalty::cli
