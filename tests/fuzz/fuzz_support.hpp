#pragma once
// What the fuzz targets share: the sample program, JSON read as the router reads bodies, and
// checks that abort (a crash libFuzzer records, a failed ctest in the replay build).

#include "loyalty/http/json_body.hpp"
#include "loyalty/program/load.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>

namespace loyalty::fuzz {

// A property every input must keep; failing it is a finding.
[[noreturn]] inline void fail(std::string_view what, std::string_view detail = {}) {
    std::fprintf(stderr, "fuzz check failed: %.*s%s%.*s\n", static_cast<int>(what.size()),
                 what.data(), detail.empty() ? "" : ": ", static_cast<int>(detail.size()),
                 detail.data());
    std::abort();
}

inline void check(bool ok, std::string_view what, std::string_view detail = {}) {
    if (!ok) {
        fail(what, detail);
    }
}

inline std::string_view text_of(const std::uint8_t* data, std::size_t size) {
    return {reinterpret_cast<const char*>(data), size};
}

inline std::string read_source_file(const std::string& relative) {
    std::ifstream in(std::string(LOYALTY_SOURCE_DIR) + "/" + relative, std::ios::binary);
    check(static_cast<bool>(in), "cannot read", relative);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

// config/program.yaml, loaded once per process.
inline const program::program_ptr& sample_program() {
    static const program::program_ptr p = [] {
        auto loaded =
            program::load_program(read_source_file("config/program.yaml"), "config/program.yaml");
        check(loaded.has_value(), "the sample program does not load");
        return *loaded;
    }();
    return p;
}

// A body as the router reads it (http::parse_json_body): empty when the router would refuse it
// as malformed, too deep or with a key given twice in one object.
inline std::optional<nlohmann::json> parse_body(std::string_view body) {
    auto parsed = http::parse_json_body(body);
    if (!parsed) {
        return std::nullopt;
    }
    return std::move(*parsed);
}

} // namespace loyalty::fuzz
