#pragma once
// Where a YAML flow collection (`{...}`, `[...]`, JSON's objects and arrays) was opened and never
// closed. yaml-cpp notices only where it expected the closing bracket, often the end of the file
// or the next key, lines away from the bracket that is missing its partner.

#include <cstddef>
#include <optional>
#include <string_view>
#include <vector>

namespace loyalty::program::detail {

struct text_shape {
    // The byte offsets of the brackets ('{' or '[') still open, innermost last.
    std::vector<std::size_t> open;
    // The first quoted scalar whose text runs over a line break: legal in YAML, rare in a
    // program, and what a closing quote left out looks like to the parser, which then gives up
    // lines later.
    std::optional<std::size_t> quote_across_lines;
};

// The shape of `text` up to byte `until`. A light scan, not a parser: it skips quoted scalars
// and comments, and takes a bracket or a quote in block context only where a value can start,
// so `url: a{b}` opens nothing and `Bob's` starts no quote.
text_shape scan_text(std::string_view text, std::size_t until);

} // namespace loyalty::program::detail
