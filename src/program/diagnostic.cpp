#include "loyalty/program/diagnostic.hpp"

namespace loyalty::program {

std::string to_string(const diagnostic& d) {
    std::string out = d.file;
    if (d.at.line > 0) {
        out += ":" + std::to_string(d.at.line) + ":" + std::to_string(d.at.column);
    }
    out += ": ";
    if (!d.path.empty()) {
        out += d.path + ": ";
    }
    out += d.message;
    return out;
}

} // namespace loyalty::program
