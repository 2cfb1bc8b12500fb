#pragma once
// JavaScript strings are sequences of UTF-16 code units; ours are byte strings holding UTF-8.
// These functions give a byte string the UTF-16 view that JsonLogic rules observe: its length,
// indexes and `substr` count code units, `<` compares code units, and a character outside the
// Basic Multilingual Plane is two units that can be cut apart.
//
// Decoding contract: well-formed UTF-8 decodes as usual. A lone surrogate (which only cutting
// such a character apart can produce) is held in the generalized form WTF-8 uses: the three
// bytes ED A0..BF xx. Every other byte that is not part of a well-formed sequence counts as one
// unit on its own, is copied through unchanged by slicing, and compares as U+FFFD.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace loyalty::logic {

// Number of UTF-16 code units.
std::size_t utf16_length(std::string_view text);

// The units [begin, end) (clamped to the length), as bytes; a cut through a surrogate pair
// yields the lone surrogate.
std::string utf16_slice(std::string_view text, std::size_t begin, std::size_t end);

// The one-unit string at `index`, or nothing past the end (JavaScript's "abc"[1]).
std::optional<std::string> utf16_unit_at(std::string_view text, std::size_t index);

// <0, 0, >0 by UTF-16 code unit order, the order of JavaScript's < on strings.
int utf16_compare(std::string_view a, std::string_view b);

// Whether `needle` occurs in `haystack` as a sequence of code units (String.prototype.indexOf).
bool utf16_contains(std::string_view haystack, std::string_view needle);

// Appends `piece` to `out`; a lone high surrogate at the end of `out` followed by a lone low
// surrogate at the start of `piece` become one character, as they do in JavaScript.
void utf16_append(std::string& out, std::string_view piece);

// Appends the UTF-8 bytes of one code point (a lone surrogate is written as its three-byte
// form, as the encoder of this file's UTF-16 view expects).
void append_utf8(std::string& out, char32_t cp);

// The code units, for encodings that must show them (JSON escapes).
std::u16string to_utf16(std::string_view text);

} // namespace loyalty::logic
