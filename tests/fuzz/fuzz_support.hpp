#pragma once
// What the fuzz targets share: the sample program, JSON read as the router reads bodies, and
// checks that abort (a crash libFuzzer records, a failed ctest in the replay build).

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

// The router's nesting limit for bodies (src/http/router.cpp, max_json_depth).
inline constexpr std::size_t max_body_depth = 32;

// A body as the router reads it (router.cpp, json_body): nlohmann's parser with a callback that
// tracks the deepest container, and no exceptions. Empty when the router would refuse it as
// malformed or too deep.
inline std::optional<nlohmann::json> parse_body(std::string_view body) {
    std::size_t depth = 0;
    auto track = [&](int d, nlohmann::json::parse_event_t event, nlohmann::json&) {
        bool opens = event == nlohmann::json::parse_event_t::object_start ||
                     event == nlohmann::json::parse_event_t::array_start;
        depth = std::max(depth, static_cast<std::size_t>(d) + (opens ? 1 : 0));
        return true;
    };
    auto parsed = nlohmann::json::parse(body, track, false);
    if (parsed.is_discarded() || depth > max_body_depth) {
        return std::nullopt;
    }
    return parsed;
}

} // namespace loyalty::fuzz
