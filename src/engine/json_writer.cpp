#include "loyalty/engine/json_writer.hpp"

#include "loyalty/logic/value.hpp"

#include <charconv>
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

} // namespace

void json_writer::append_string(std::string& out, std::string_view s, char after) {
    std::size_t plain = 0; // the run of bytes copied as they are, from the start
    while (plain < s.size() && plain_byte(s[plain])) {
        ++plain;
    }
    if (plain == s.size()) {
        // Nothing to escape, as in nearly every key and value: one resize and one copy, where
        // appending the quotes, the text and the colon one by one cost three times as much.
        std::size_t at = out.size();
        out.resize(at + s.size() + (after != 0 ? 3 : 2));
        char* p = out.data() + at;
        *p++ = '"';
        if (!s.empty()) { // an empty view may hold no pointer, which memcpy may not be given
            std::memcpy(p, s.data(), s.size());
            p += s.size();
        }
        *p++ = '"';
        if (after != 0) {
            *p = after;
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
