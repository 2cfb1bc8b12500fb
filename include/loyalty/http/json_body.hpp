#pragma once
// Request bodies read as JSON: one reader for the router and for the fuzz targets that must read
// bodies exactly as it does.

#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <tl/expected.hpp>

namespace loyalty::http {

// Deeper bodies are refused (422) before anything reads them: nothing we accept nests this deep.
inline constexpr std::size_t max_json_depth = 32;

enum class body_problem { malformed, too_deep, repeated_key };

struct body_error {
    body_problem problem;
    // For repeated_key, the key's path, as the validation errors name fields:
    // `lines[0].quantity`.
    std::string field;
    // For malformed, where the text stops being JSON (1-based; the column counts bytes).
    std::size_t line = 0;
    std::size_t column = 0;
};

// `text` parsed without exceptions, tracking the deepest container as it goes. A key given twice
// in one object is refused: nlohmann would keep the last silently, and a body that says two
// things about one field is not strict (docs/api.md).
tl::expected<nlohmann::json, body_error> parse_json_body(std::string_view text);

} // namespace loyalty::http
