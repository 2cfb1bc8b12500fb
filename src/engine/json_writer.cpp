#include "loyalty/engine/json_writer.hpp"

#include "loyalty/logic/value.hpp"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <cstring>

namespace loyalty::engine {

json_writer& json_writer::value(std::int64_t n) {
    separate();
    char digits[24];
    auto end = std::to_chars(digits, digits + sizeof digits, n).ptr;
    put(std::string_view(digits, static_cast<std::size_t>(end - digits)));
    return *this;
}

void json_writer::grow(std::size_t n) {
    // Doubling, so that a text written piece by piece is copied a few times at most.
    out_.resize(std::max(out_.size() * 2, used_ + n + 64));
}

namespace {

bool plain_byte(char c) {
    auto u = static_cast<unsigned char>(c);
    return u >= 0x20 && c != '"' && c != '\\';
}

// Whether any of the eight bytes of `w` needs escaping: below 0x20, a quote or a backslash. The
// classic tests for "has a zero byte" and "has a byte less than n" (n at most 0x80), exact as
// tests of existence; bytes from 0x80 up (UTF-8) never count.
bool escape_in_word(std::uint64_t w) {
    constexpr std::uint64_t ones = 0x0101010101010101ULL;
    constexpr std::uint64_t highs = 0x8080808080808080ULL;
    std::uint64_t quote = w ^ (ones * '"');
    std::uint64_t backslash = w ^ (ones * '\\');
    std::uint64_t found =
        ((w - ones * 0x20) & ~w) | ((quote - ones) & ~quote) | ((backslash - ones) & ~backslash);
    return (found & highs) != 0;
}

// The length of the run of bytes at the start of `s` that are written as they are: eight at a
// time, the last few (or a string under eight bytes) as one word padded with a plain letter, and
// one by one only from the word that holds the first byte to escape. Most strings (keys, ids,
// dates) have nothing to escape and end in a part-word: checking its bytes one by one was most
// of what writing them cost.
std::size_t plain_prefix(std::string_view s) {
    constexpr std::uint64_t padding = 0x0101010101010101ULL * 'a';
    std::size_t plain = 0;
    for (; plain + 8 <= s.size(); plain += 8) {
        std::uint64_t w = 0;
        std::memcpy(&w, s.data() + plain, 8);
        if (escape_in_word(w)) {
            break;
        }
    }
    if (plain == s.size()) {
        return plain; // an empty view may hold no pointer, which memcpy may not be given
    }
    if (s.size() - plain < 8) {
        std::uint64_t w = padding;
        std::memcpy(&w, s.data() + plain, s.size() - plain);
        if (!escape_in_word(w)) {
            return s.size();
        }
    }
    while (plain < s.size() && plain_byte(s[plain])) {
        ++plain;
    }
    return plain;
}

} // namespace

void json_writer::write_string(std::string_view s, char after) {
    std::size_t plain = plain_prefix(s);
    if (plain == s.size()) {
        // Nothing to escape, as in nearly every key and value: the quotes, the text and the
        // colon in one piece of room.
        char* at = room(s.size() + (after != 0 ? 3 : 2));
        *at++ = '"';
        if (!s.empty()) {
            std::memcpy(at, s.data(), s.size());
            at += s.size();
        }
        *at++ = '"';
        if (after != 0) {
            *at = after;
        }
        return;
    }
    put('"');
    put(s.substr(0, plain));
    std::string escaped;
    std::size_t start = plain; // start of the run of bytes copied as they are
    for (std::size_t i = plain; i < s.size(); ++i) {
        if (plain_byte(s[i])) {
            continue;
        }
        put(s.substr(start, i - start));
        start = i + 1;
        escaped.clear();
        logic::append_json_ascii(escaped, s[i]);
        put(escaped);
    }
    put(s.substr(start));
    put('"');
    if (after != 0) {
        put(after);
    }
}

} // namespace loyalty::engine
