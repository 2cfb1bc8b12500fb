#include "loyalty/engine/json_writer.hpp"

#include "loyalty/logic/value.hpp"

#include <charconv>
#include <cstdint>
#include <cstring>

namespace loyalty::engine {

json_writer& json_writer::value(std::int64_t n) {
    separate();
    char digits[24];
    auto end = std::to_chars(digits, digits + sizeof digits, n).ptr;
    out_.append(digits, end);
    return *this;
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
// time, then one by one from the word that holds the first byte to escape.
std::size_t plain_prefix(std::string_view s) {
    std::size_t plain = 0;
    for (; plain + 8 <= s.size(); plain += 8) {
        std::uint64_t w = 0;
        std::memcpy(&w, s.data() + plain, 8);
        if (escape_in_word(w)) {
            break;
        }
    }
    while (plain < s.size() && plain_byte(s[plain])) {
        ++plain;
    }
    return plain;
}

} // namespace

void json_writer::append_string(std::string& out, std::string_view s, char after) {
    std::size_t plain = plain_prefix(s);
    if (plain == s.size()) {
        // Nothing to escape, as in nearly every key and value: written in one append, where
        // appending the quotes, the text and the colon one by one cost three times as much. A
        // short string is put together on the stack first: growing `out` with resize() would
        // fill the new bytes before they are overwritten.
        std::size_t n = s.size() + (after != 0 ? 3 : 2);
        char small[64];
        std::size_t at = out.size();
        char* p = small;
        if (n > sizeof small) {
            out.resize(at + n);
            p = out.data() + at;
        }
        char* q = p;
        *q++ = '"';
        if (!s.empty()) { // an empty view may hold no pointer, which memcpy may not be given
            std::memcpy(q, s.data(), s.size());
            q += s.size();
        }
        *q++ = '"';
        if (after != 0) {
            *q = after;
        }
        if (p == small) {
            out.append(small, n);
        }
        return;
    }
    out += '"';
    out.append(s.data(), plain);
    std::size_t start = plain; // start of the run of bytes copied as they are
    for (std::size_t i = plain; i < s.size(); ++i) {
        if (plain_byte(s[i])) {
            continue;
        }
        out.append(s.data() + start, i - start);
        start = i + 1;
        logic::append_json_ascii(out, s[i]);
    }
    out.append(s.data() + start, s.size() - start);
    out += '"';
    if (after != 0) {
        out += after;
    }
}

} // namespace loyalty::engine
