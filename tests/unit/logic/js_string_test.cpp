#include "loyalty/logic/js_string.hpp"

#include <catch2/catch.hpp>
#include <string>

using namespace loyalty::logic;

namespace {
const std::string grin = "\xF0\x9F\x98\x80";    // U+1F600, two code units
const std::string high = "\xED\xA0\xBD";        // lone U+D83D in WTF-8
const std::string low = "\xED\xB8\x80";         // lone U+DE00 in WTF-8
const std::string e_acute = "\xC3\xA9";         // U+00E9
const std::string private_use = "\xEE\x80\x80"; // U+E000
} // namespace

TEST_CASE("lengths count UTF-16 code units", "[js_string]") {
    CHECK(utf16_length("") == 0);
    CHECK(utf16_length("abc") == 3);
    CHECK(utf16_length(e_acute) == 1);
    CHECK(utf16_length("a" + grin + "b") == 4);
    CHECK(utf16_length(high) == 1);
    CHECK(utf16_length("\xFF\xFE") == 2); // stray bytes count one unit each
    CHECK(utf16_length("\xE2\x82") == 2); // truncated sequence
}

TEST_CASE("slices cut by code unit and can split a pair", "[js_string]") {
    CHECK(utf16_slice("abcdef", 1, 3) == "bc");
    CHECK(utf16_slice("abc", 2, 10) == "c");
    CHECK(utf16_slice("abc", 3, 3).empty());
    CHECK(utf16_slice("h" + e_acute + "llo", 1, 3) == e_acute + "l");
    CHECK(utf16_slice("a" + grin + "b", 1, 3) == grin);
    CHECK(utf16_slice("a" + grin + "b", 1, 2) == high);
    CHECK(utf16_slice("a" + grin + "b", 2, 4) == low + "b");
    CHECK(utf16_slice("a\xFF"
                      "b",
                      1, 2) == "\xFF"); // stray bytes are copied through
    CHECK(utf16_unit_at("abc", 1) == std::optional<std::string>("b"));
    CHECK_FALSE(utf16_unit_at("abc", 3).has_value());
}

TEST_CASE("comparison follows UTF-16 code unit order", "[js_string]") {
    CHECK(utf16_compare("abc", "abd") < 0);
    CHECK(utf16_compare("abc", "abc") == 0);
    CHECK(utf16_compare("abc", "ab") > 0);
    CHECK(utf16_compare("B", "a") < 0);
    CHECK(utf16_compare(e_acute, "z") > 0);
    // In code point (and UTF-8 byte) order U+E000 < U+1F600; in UTF-16 it is the other way.
    CHECK(utf16_compare(grin, private_use) < 0);
    CHECK(utf16_compare(private_use, grin) > 0);
    CHECK(utf16_compare(high, private_use) < 0);
}

TEST_CASE("search and concatenation see code units", "[js_string]") {
    CHECK(utf16_contains("caf" + e_acute, e_acute));
    CHECK(utf16_contains("a" + grin + "b", low));
    CHECK_FALSE(utf16_contains("abc", "abcd"));
    CHECK(utf16_contains("abc", ""));
    std::string joined = high;
    utf16_append(joined, low + "!");
    CHECK(joined == grin + "!");
    std::string kept = "x";
    utf16_append(kept, low);
    CHECK(kept == "x" + low);
    CHECK(to_utf16("a" + grin) == std::u16string{u'a', char16_t(0xD83D), char16_t(0xDE00)});
}
