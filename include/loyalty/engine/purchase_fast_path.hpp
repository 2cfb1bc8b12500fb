#pragma once
// A purchase read straight from its JSON text, for the shape nearly every till posts: parsing
// the body into nlohmann::json and then reading the tree was 14 % of a purchase's instructions
// (docs/benchmarks.md, "Round of 2026-12-06, afternoon").

#include "loyalty/engine/event.hpp"

#include <cstddef>
#include <optional>
#include <string_view>

namespace loyalty::engine {

// The purchase `text` holds, when it is a JSON object purchase_from_json would accept as it is:
// known fields only, each at most once, of the expected types and within their limits, at most
// `max_lines` lines, plain ASCII strings without escapes. Anything else, valid or not, gives
// nullopt: the caller then reads the body with purchase_from_json, which accepts what it may
// and names the offending field of what it refuses. What this accepts, it reads as
// purchase_from_json does (tests/unit/engine/purchase_fast_path_test.cpp compares the two).
std::optional<purchase> read_purchase_fast(std::string_view text, std::size_t max_lines);

} // namespace loyalty::engine
