#pragma once
// Where a YAML flow collection (`{...}`, `[...]`, JSON's objects and arrays) was opened and never
// closed. yaml-cpp notices only where it expected the closing bracket, often the end of the file
// or the next key, lines away from the bracket that is missing its partner.

#include <cstddef>
#include <optional>
#include <string_view>

namespace loyalty::program::detail {

// The byte offset of the innermost `opener` ('{' or '[') still open at byte `until` of `text`,
// or nullopt when the innermost open bracket there is another kind, or none is open. A light
// scan, not a parser: it skips quoted scalars and comments, and takes a bracket in block context
// only where a value can start, so `url: a{b}` opens nothing.
std::optional<std::size_t> unclosed_bracket(std::string_view text, std::size_t until, char opener);

} // namespace loyalty::program::detail
