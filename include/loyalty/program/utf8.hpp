#pragma once
// Well-formed UTF-8, as JSON text must be: a program file's text, an id in a request's path.

#include <cstddef>
#include <string_view>

namespace loyalty::program {

// Where `text` stops being well-formed UTF-8 (overlong forms, surrogates and code points past
// U+10FFFF included), or npos. yaml-cpp passes stray bytes through, and nlohmann refuses to
// dump them: text that reaches JSON is checked with this first.
std::size_t first_invalid_utf8(std::string_view text);

} // namespace loyalty::program
