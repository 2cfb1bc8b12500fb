#include "loyalty/logic/js_string.hpp"

#include <algorithm>
#include <cstdint>

namespace loyalty::logic {

namespace {

constexpr char32_t replacement = 0xFFFD;

struct decoded {
    char32_t code_point; // a surrogate for WTF-8 lone surrogates; U+FFFD for a stray byte
    std::size_t bytes;
};

// Decodes the character at `i` (i < text.size()).
decoded decode_at(std::string_view text, std::size_t i) {
    auto byte = [&](std::size_t k) {
        return static_cast<unsigned char>(text[k]);
    };
    unsigned char lead = byte(i);
    if (lead < 0x80) {
        return {lead, 1};
    }
    std::size_t length = 0;
    char32_t cp = 0;
    char32_t min = 0;
    if (lead >= 0xC2 && lead <= 0xDF) {
        length = 2;
        cp = lead & 0x1F;
        min = 0x80;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
        length = 3;
        cp = lead & 0x0F;
        min = 0x800;
    } else if (lead >= 0xF0 && lead <= 0xF4) {
        length = 4;
        cp = lead & 0x07;
        min = 0x10000;
    } else {
        return {replacement, 1};
    }
    if (i + length > text.size()) {
        return {replacement, 1};
    }
    for (std::size_t k = 1; k < length; ++k) {
        unsigned char c = byte(i + k);
        if ((c & 0xC0) != 0x80) {
            return {replacement, 1};
        }
        cp = (cp << 6) | (c & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF) {
        return {replacement, 1};
    }
    return {cp, length};
}

char16_t high_surrogate(char32_t cp) {
    return static_cast<char16_t>(0xD800 + ((cp - 0x10000) >> 10));
}
char16_t low_surrogate(char32_t cp) {
    return static_cast<char16_t>(0xDC00 + ((cp - 0x10000) & 0x3FF));
}

// Walks the code units of a string one at a time.
class unit_reader {
public:
    explicit unit_reader(std::string_view text) : text_(text) {}
    bool done() const { return pending_ == 0 && at_ >= text_.size(); }
    char16_t next() {
        if (pending_ != 0) {
            char16_t unit = pending_;
            pending_ = 0;
            return unit;
        }
        decoded d = decode_at(text_, at_);
        at_ += d.bytes;
        if (d.code_point >= 0x10000) {
            pending_ = low_surrogate(d.code_point);
            return high_surrogate(d.code_point);
        }
        return static_cast<char16_t>(d.code_point);
    }

private:
    std::string_view text_;
    std::size_t at_ = 0;
    char16_t pending_ = 0;
};

bool has_surrogate_bytes(std::string_view text) {
    for (std::size_t i = 0; i + 1 < text.size(); ++i) {
        if (static_cast<unsigned char>(text[i]) == 0xED &&
            static_cast<unsigned char>(text[i + 1]) >= 0xA0) {
            return true;
        }
    }
    return false;
}

bool is_ascii(std::string_view text) {
    return std::all_of(text.begin(), text.end(),
                       [](char c) { return static_cast<unsigned char>(c) < 0x80; });
}

} // namespace

void append_utf8(std::string& out, char32_t cp) {
    if (cp < 0x80) {
        out += static_cast<char>(cp);
    } else if (cp < 0x800) {
        out += static_cast<char>(0xC0 | (cp >> 6));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        out += static_cast<char>(0xE0 | (cp >> 12));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
        out += static_cast<char>(0xF0 | (cp >> 18));
        out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    }
}

std::size_t utf16_length(std::string_view text) {
    std::size_t units = 0;
    for (std::size_t i = 0; i < text.size();) {
        if (static_cast<unsigned char>(text[i]) < 0x80) {
            ++units;
            ++i;
            continue;
        }
        decoded d = decode_at(text, i);
        units += d.code_point >= 0x10000 ? 2 : 1;
        i += d.bytes;
    }
    return units;
}

std::string utf16_slice(std::string_view text, std::size_t begin, std::size_t end) {
    std::string out;
    if (begin >= end) {
        return out;
    }
    std::size_t unit = 0;
    for (std::size_t i = 0; i < text.size() && unit < end;) {
        decoded d = decode_at(text, i);
        if (d.code_point >= 0x10000) {
            // Two units: unit (high) and unit + 1 (low).
            bool take_high = unit >= begin && unit < end;
            bool take_low = unit + 1 >= begin && unit + 1 < end;
            if (take_high && take_low) {
                out.append(text.substr(i, d.bytes));
            } else if (take_high) {
                append_utf8(out, high_surrogate(d.code_point));
            } else if (take_low) {
                append_utf8(out, low_surrogate(d.code_point));
            }
            unit += 2;
        } else {
            if (unit >= begin) {
                out.append(text.substr(i, d.bytes));
            }
            ++unit;
        }
        i += d.bytes;
    }
    return out;
}

std::optional<std::string> utf16_unit_at(std::string_view text, std::size_t index) {
    std::string unit = utf16_slice(text, index, index + 1);
    if (unit.empty()) {
        return std::nullopt;
    }
    return unit;
}

int utf16_compare(std::string_view a, std::string_view b) {
    auto mismatch = std::mismatch(a.begin(), a.end(), b.begin(), b.end());
    if (mismatch.first == a.end() || mismatch.second == b.end()) {
        // One is a prefix of the other (in bytes, hence in units).
        return a.size() < b.size() ? -1 : (a.size() > b.size() ? 1 : 0);
    }
    if (static_cast<unsigned char>(*mismatch.first) < 0x80 &&
        static_cast<unsigned char>(*mismatch.second) < 0x80) {
        return static_cast<unsigned char>(*mismatch.first) <
                       static_cast<unsigned char>(*mismatch.second)
                   ? -1
                   : 1;
    }
    unit_reader ra(a);
    unit_reader rb(b);
    while (!ra.done() && !rb.done()) {
        char16_t ua = ra.next();
        char16_t ub = rb.next();
        if (ua != ub) {
            return ua < ub ? -1 : 1;
        }
    }
    if (ra.done() && rb.done()) {
        // Distinct bytes, same units (stray bytes all read as U+FFFD): order by bytes.
        return a < b ? -1 : 1;
    }
    return ra.done() ? -1 : 1;
}

bool utf16_contains(std::string_view haystack, std::string_view needle) {
    if (!has_surrogate_bytes(needle) || is_ascii(haystack)) {
        return haystack.find(needle) != std::string_view::npos;
    }
    std::u16string h = to_utf16(haystack);
    std::u16string n = to_utf16(needle);
    return h.find(n) != std::u16string::npos;
}

void utf16_append(std::string& out, std::string_view piece) {
    auto byte = [](std::string_view s, std::size_t k) {
        return static_cast<unsigned char>(s[k]);
    };
    if (out.size() >= 3 && piece.size() >= 3) {
        std::string_view tail(out.data() + out.size() - 3, 3);
        if (byte(tail, 0) == 0xED && byte(tail, 1) >= 0xA0 && byte(tail, 1) <= 0xAF &&
            byte(piece, 0) == 0xED && byte(piece, 1) >= 0xB0 && byte(piece, 1) <= 0xBF) {
            decoded high = decode_at(tail, 0);
            decoded low = decode_at(piece, 0);
            if (high.bytes == 3 && low.bytes == 3) {
                char32_t cp =
                    0x10000 + ((high.code_point - 0xD800) << 10) + (low.code_point - 0xDC00);
                out.resize(out.size() - 3);
                append_utf8(out, cp);
                out.append(piece.substr(3));
                return;
            }
        }
    }
    out.append(piece);
}

std::u16string to_utf16(std::string_view text) {
    std::u16string out;
    out.reserve(text.size());
    unit_reader reader(text);
    while (!reader.done()) {
        out += reader.next();
    }
    return out;
}

} // namespace loyalty::logic
