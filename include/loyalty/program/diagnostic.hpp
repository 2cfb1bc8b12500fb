#pragma once
// A problem found in a program file, placed precisely enough for a merchant to fix it.

#include <string>
#include <vector>

namespace loyalty::program {

// 1-based line and column; 0 when the place is not known.
struct source_position {
    int line = 0;
    int column = 0;
};

struct diagnostic {
    std::string file; // as given to the loader
    source_position at;
    std::string path;    // "earn[2].when", empty for the whole document
    std::string message; // what was expected and what was found
};

// "program.yaml:12:7: earn[2].when: unknown operator ..." — the form every tool prints.
std::string to_string(const diagnostic& d);

using diagnostics = std::vector<diagnostic>;

} // namespace loyalty::program
