#include "loyalty/logic/js_number.hpp"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>
#include <system_error>

namespace loyalty::logic {

namespace {

bool is_digit(char c) {
    return c >= '0' && c <= '9';
}

// The parts of a decimal literal, already checked against the grammar.
struct decimal_parts {
    bool negative = false;
    std::string_view integer;  // digits before the point, may be empty
    std::string_view fraction; // digits after the point, may be empty
    bool exponent_negative = false;
    std::string_view exponent; // digits, may be empty
};

// Reads the longest decimal literal at the start of `text`: [+-] (d+ [. d*] | . d+) [e [+-] d+].
// Returns the bytes consumed, 0 when there is no literal.
std::size_t scan_decimal(std::string_view text, decimal_parts& parts) {
    std::size_t i = 0;
    if (i < text.size() && (text[i] == '+' || text[i] == '-')) {
        parts.negative = text[i] == '-';
        ++i;
    }
    std::size_t start = i;
    while (i < text.size() && is_digit(text[i])) {
        ++i;
    }
    parts.integer = text.substr(start, i - start);
    if (i < text.size() && text[i] == '.') {
        std::size_t f = i + 1;
        while (f < text.size() && is_digit(text[f])) {
            ++f;
        }
        parts.fraction = text.substr(i + 1, f - i - 1);
        if (!parts.integer.empty() || !parts.fraction.empty()) {
            i = f;
        }
    }
    if (parts.integer.empty() && parts.fraction.empty()) {
        return 0;
    }
    if (i < text.size() && (text[i] == 'e' || text[i] == 'E')) {
        std::size_t e = i + 1;
        bool negative = false;
        if (e < text.size() && (text[e] == '+' || text[e] == '-')) {
            negative = text[e] == '-';
            ++e;
        }
        std::size_t digits = e;
        while (e < text.size() && is_digit(text[e])) {
            ++e;
        }
        if (e > digits) {
            parts.exponent_negative = negative;
            parts.exponent = text.substr(digits, e - digits);
            i = e;
        }
    }
    return i;
}

// Correctly rounded value of checked decimal parts. Exponents are clamped: anything beyond
// 10^±100000 is already 0 or Infinity.
double decimal_value(const decimal_parts& parts) {
    constexpr std::int64_t exponent_cap = 100'000;
    std::int64_t exponent = 0;
    for (char c : parts.exponent) {
        exponent = std::min<std::int64_t>(exponent * 10 + (c - '0'), exponent_cap);
    }
    if (parts.exponent_negative) {
        exponent = -exponent;
    }
    std::string text;
    text.reserve(parts.integer.size() + parts.fraction.size() + 12);
    if (parts.integer.empty()) {
        text += '0';
    }
    text += parts.integer;
    if (!parts.fraction.empty()) {
        text += '.';
        text += parts.fraction;
    }
    text += 'e';
    text += std::to_string(exponent);
    double result = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), result);
    (void)end;
    if (ec == std::errc::result_out_of_range) {
        // Decide between overflow and underflow from the position of the first significant
        // digit relative to the decimal point.
        std::int64_t magnitude = exponent;
        std::size_t lead = parts.integer.find_first_not_of('0');
        if (lead != std::string_view::npos) {
            magnitude += static_cast<std::int64_t>(parts.integer.size() - lead);
        } else {
            std::size_t frac_lead = parts.fraction.find_first_not_of('0');
            if (frac_lead == std::string_view::npos) {
                magnitude = -1; // all zeros
            } else {
                magnitude -= static_cast<std::int64_t>(frac_lead);
            }
        }
        result = magnitude > 0 ? js_infinity : 0.0;
    } else if (ec != std::errc{}) {
        result = js_nan;
    }
    return parts.negative ? -result : result;
}

int digit_value(char c) {
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return 99;
}

// An integer written in base 2, 8 or 16 (digits only), rounded to the nearest double like a
// JavaScript literal. Converted through hexadecimal so that from_chars does the rounding.
double radix_value(std::string_view digits, int bits_per_digit) {
    if (digits.empty()) {
        return js_nan;
    }
    for (char c : digits) {
        if (digit_value(c) >= (1 << bits_per_digit)) {
            return js_nan;
        }
    }
    std::string hex;
    if (bits_per_digit == 4) {
        hex.assign(digits);
    } else {
        std::string bits;
        bits.reserve(digits.size() * 3);
        for (char c : digits) {
            int v = digit_value(c);
            for (int b = bits_per_digit - 1; b >= 0; --b) {
                bits += ((v >> b) & 1) != 0 ? '1' : '0';
            }
        }
        bits.insert(0, (4 - bits.size() % 4) % 4, '0');
        static constexpr char hex_digits[] = "0123456789abcdef";
        for (std::size_t i = 0; i < bits.size(); i += 4) {
            int v = (bits[i] - '0') * 8 + (bits[i + 1] - '0') * 4 + (bits[i + 2] - '0') * 2 +
                    (bits[i + 3] - '0');
            hex += hex_digits[v];
        }
    }
    double result = 0;
    auto [end, ec] =
        std::from_chars(hex.data(), hex.data() + hex.size(), result, std::chars_format::hex);
    (void)end;
    if (ec == std::errc::result_out_of_range) {
        return js_infinity;
    }
    return result;
}

bool starts_with_infinity(std::string_view text, bool& negative, std::size_t& length) {
    std::size_t i = 0;
    negative = false;
    if (!text.empty() && (text[0] == '+' || text[0] == '-')) {
        negative = text[0] == '-';
        i = 1;
    }
    if (text.substr(i).starts_with("Infinity")) {
        length = i + 8;
        return true;
    }
    return false;
}

} // namespace

std::size_t js_white_space_at(std::string_view text) {
    if (text.empty()) {
        return 0;
    }
    auto b = [&](std::size_t i) {
        return static_cast<unsigned char>(text[i]);
    };
    unsigned char c = b(0);
    if (c == 0x09 || c == 0x0A || c == 0x0B || c == 0x0C || c == 0x0D || c == 0x20) {
        return 1;
    }
    if (c == 0xC2 && text.size() >= 2 && b(1) == 0xA0) { // U+00A0
        return 2;
    }
    if (text.size() < 3) {
        return 0;
    }
    if (c == 0xE1 && b(1) == 0x9A && b(2) == 0x80) { // U+1680
        return 3;
    }
    if (c == 0xE2 && b(1) == 0x80 &&
        (b(2) <= 0x8A || b(2) == 0xA8 || b(2) == 0xA9 || b(2) == 0xAF)) {
        return b(2) >= 0x80 ? 3 : 0; // U+2000..U+200A, U+2028, U+2029, U+202F
    }
    if (c == 0xE2 && b(1) == 0x81 && b(2) == 0x9F) { // U+205F
        return 3;
    }
    if (c == 0xE3 && b(1) == 0x80 && b(2) == 0x80) { // U+3000
        return 3;
    }
    if (c == 0xEF && b(1) == 0xBB && b(2) == 0xBF) { // U+FEFF
        return 3;
    }
    return 0;
}

std::string js_number_to_string(double x) {
    if (std::isnan(x)) {
        return "NaN";
    }
    if (x == 0) {
        return "0";
    }
    if (std::isinf(x)) {
        return x > 0 ? "Infinity" : "-Infinity";
    }
    std::string out;
    if (x < 0) {
        out += '-';
        x = -x;
    }
    char buffer[64];
    auto [end, ec] =
        std::to_chars(buffer, buffer + sizeof buffer, x, std::chars_format::scientific);
    (void)ec;
    std::string_view sci(buffer, static_cast<std::size_t>(end - buffer));
    std::size_t e_at = sci.find('e');
    std::string digits;
    for (char c : sci.substr(0, e_at)) {
        if (c != '.') {
            digits += c;
        }
    }
    int exponent = 0;
    std::string_view exp_text = sci.substr(e_at + 1);
    bool exp_negative = exp_text[0] == '-';
    for (char c : exp_text.substr(1)) {
        exponent = exponent * 10 + (c - '0');
    }
    if (exp_negative) {
        exponent = -exponent;
    }
    const int k = static_cast<int>(digits.size());
    const int n = exponent + 1;
    if (k <= n && n <= 21) {
        out += digits;
        out.append(static_cast<std::size_t>(n - k), '0');
    } else if (0 < n && n <= 21) {
        out.append(digits, 0, static_cast<std::size_t>(n));
        out += '.';
        out.append(digits, static_cast<std::size_t>(n));
    } else if (-6 < n && n <= 0) {
        out += "0.";
        out.append(static_cast<std::size_t>(-n), '0');
        out += digits;
    } else {
        out += digits[0];
        if (k > 1) {
            out += '.';
            out.append(digits, 1);
        }
        out += 'e';
        out += n - 1 < 0 ? '-' : '+';
        out += std::to_string(n - 1 < 0 ? 1 - n : n - 1);
    }
    return out;
}

double js_string_to_number(std::string_view text) {
    while (std::size_t w = js_white_space_at(text)) {
        text.remove_prefix(w);
    }
    // Trailing white space: step back over whole characters. Every white space character ends
    // in a byte that cannot end anything else here, so test each candidate suffix length.
    for (bool trimmed = true; trimmed && !text.empty();) {
        trimmed = false;
        for (std::size_t len = 1; len <= 3 && len <= text.size(); ++len) {
            std::string_view tail = text.substr(text.size() - len);
            if (js_white_space_at(tail) == len) {
                text.remove_suffix(len);
                trimmed = true;
                break;
            }
        }
    }
    if (text.empty()) {
        return 0.0;
    }
    if (text.size() > 2 && text[0] == '0') {
        char p = text[1];
        if (p == 'x' || p == 'X') {
            return radix_value(text.substr(2), 4);
        }
        if (p == 'o' || p == 'O') {
            return radix_value(text.substr(2), 3);
        }
        if (p == 'b' || p == 'B') {
            return radix_value(text.substr(2), 1);
        }
    }
    bool negative = false;
    std::size_t length = 0;
    if (starts_with_infinity(text, negative, length)) {
        if (length != text.size()) {
            return js_nan;
        }
        return negative ? -js_infinity : js_infinity;
    }
    decimal_parts parts;
    std::size_t used = scan_decimal(text, parts);
    if (used == 0 || used != text.size()) {
        return js_nan;
    }
    return decimal_value(parts);
}

double js_parse_float(std::string_view text) {
    while (std::size_t w = js_white_space_at(text)) {
        text.remove_prefix(w);
    }
    bool negative = false;
    std::size_t length = 0;
    if (starts_with_infinity(text, negative, length)) {
        return negative ? -js_infinity : js_infinity;
    }
    decimal_parts parts;
    if (scan_decimal(text, parts) == 0) {
        return js_nan;
    }
    return decimal_value(parts);
}

} // namespace loyalty::logic
