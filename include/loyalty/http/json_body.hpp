#pragma once
// Request bodies read as JSON: one reader for the router and for the fuzz targets that must read
// bodies exactly as it does.

#include <cstddef>
#include <nlohmann/json.hpp>
#include <string_view>
#include <tl/expected.hpp>

namespace loyalty::http {

// Deeper bodies are refused (422) before anything reads them: nothing we accept nests this deep.
inline constexpr std::size_t max_json_depth = 32;

enum class body_error { malformed, too_deep };

// `text` parsed without exceptions, tracking the deepest container as it goes.
tl::expected<nlohmann::json, body_error> parse_json_body(std::string_view text);

} // namespace loyalty::http
