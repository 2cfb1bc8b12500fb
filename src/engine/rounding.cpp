#include "loyalty/engine/rounding.hpp"

#include <cstdint>

namespace loyalty::engine {

namespace {

std::string to_decimal(wide_int v) {
    if (v == 0) {
        return "0";
    }
    bool negative = v < 0;
    wide_int u = negative ? -v : v; // never the minimum: values here are products of int64s
    std::string digits;
    while (u > 0) {
        digits.insert(digits.begin(), static_cast<char>('0' + static_cast<int>(u % 10)));
        u /= 10;
    }
    return (negative ? "-" : "") + digits;
}

} // namespace

std::int64_t round_ratio(wide_int numerator, wide_int denominator, program::rounding how) {
    bool negative = numerator < 0;
    wide_int n = negative ? -numerator : numerator;
    wide_int q = n / denominator;
    wide_int r = n % denominator;
    switch (how) {
    case program::rounding::floor:
        break; // toward zero for the magnitude: floor of a credit, floor of its reversal
    case program::rounding::ceil:
        q += r > 0 ? 1 : 0;
        break;
    case program::rounding::half_up:
        q += 2 * r >= denominator ? 1 : 0;
        break;
    }
    if (q > INT64_MAX) {
        return negative ? -INT64_MAX : INT64_MAX;
    }
    return static_cast<std::int64_t>(negative ? -q : q);
}

std::string exact_text(wide_int numerator, wide_int denominator) {
    bool negative = (numerator < 0) != (denominator < 0) && numerator != 0;
    wide_int n = numerator < 0 ? -numerator : numerator;
    wide_int d = denominator < 0 ? -denominator : denominator;
    std::string out = (negative ? "-" : "") + to_decimal(n / d);
    wide_int r = n % d;
    if (r == 0) {
        return out;
    }
    out += '.';
    // Up to 6 decimals; a value that does not end there is marked as continuing.
    for (int i = 0; i < 6 && r != 0; ++i) {
        r *= 10;
        out += static_cast<char>('0' + static_cast<int>(r / d));
        r %= d;
    }
    if (r != 0) {
        out += "...";
    }
    return out;
}

} // namespace loyalty::engine
