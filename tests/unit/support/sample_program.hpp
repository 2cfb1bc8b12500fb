#pragma once
// The sample program (config/program.yaml) for tests, and variants of it with one piece of text
// replaced: every test file reads the same file the same way.

#include "loyalty/program/load.hpp"

#include <catch2/catch.hpp>
#include <fstream>
#include <sstream>
#include <string>

namespace loyalty::test {

inline std::string sample_path() {
    return std::string(LOYALTY_SOURCE_DIR) + "/config/program.yaml";
}

inline std::string sample_text() {
    std::ifstream in(sample_path());
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

// Loaded once per test executable.
inline const program::program_ptr& sample_program_ptr() {
    static const program::program_ptr p = [] {
        auto loaded = program::load_program_file(sample_path());
        REQUIRE(loaded);
        return *loaded;
    }();
    return p;
}

inline const program::program& sample_program() {
    return *sample_program_ptr();
}

// The sample text with the first `from` replaced by `to`.
inline std::string sample_text_with(const std::string& from, const std::string& to) {
    std::string text = sample_text();
    auto at = text.find(from);
    REQUIRE(at != std::string::npos);
    text.replace(at, from.size(), to);
    return text;
}

// The sample program with the first `from` replaced by `to`; it must still load.
inline program::program_ptr sample_variant(const std::string& from, const std::string& to) {
    auto loaded = program::load_program(sample_text_with(from, to), "variant.yaml");
    REQUIRE(loaded);
    return *loaded;
}

} // namespace loyalty::test
