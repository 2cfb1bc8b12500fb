#include "loyalty/engine/json_writer.hpp"

#include "loyalty/logic/value.hpp"

#include <charconv>

namespace loyalty::engine {

json_writer& json_writer::value(std::int64_t n) {
    separate();
    char digits[24];
    auto end = std::to_chars(digits, digits + sizeof digits, n).ptr;
    out_.append(digits, end);
    return *this;
}

void json_writer::append_string(std::string& out, std::string_view s) {
    out += '"';
    std::size_t plain = 0; // start of the run of bytes copied as they are
    for (std::size_t i = 0; i < s.size(); ++i) {
        auto c = static_cast<unsigned char>(s[i]);
        if (c >= 0x20 && c != '"' && c != '\\') {
            continue;
        }
        out.append(s.data() + plain, i - plain);
        plain = i + 1;
        logic::append_json_ascii(out, s[i]);
    }
    out.append(s.data() + plain, s.size() - plain);
    out += '"';
}

} // namespace loyalty::engine
