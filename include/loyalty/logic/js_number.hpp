#pragma once
// JavaScript's conversions between numbers and strings, which JsonLogic rules observe: how a
// number prints (Number.prototype.toString, used by `cat`, string comparison and JSON output),
// how a string reads as a number (ToNumber, used by ==, <, -, /, %, min, max), and parseFloat
// (used by + and *), which reads the longest numeric prefix instead.

#include <cstddef>
#include <limits>
#include <string>
#include <string_view>

namespace loyalty::logic {

// JavaScript's NaN and Infinity, as the conversions below and the rule operators return them.
inline constexpr double js_nan = std::numeric_limits<double>::quiet_NaN();
inline constexpr double js_infinity = std::numeric_limits<double>::infinity();

// Number::toString(10): shortest digits that read back as the same double; "NaN", "Infinity",
// "-Infinity"; -0 prints "0"; exponent form below 1e-6 and from 1e21 ("1e-7", "1e+21").
std::string js_number_to_string(double x);

// StringToNumber: surrounding JavaScript white space ignored; "" is 0; decimal with optional
// sign, fraction and exponent; "Infinity" with optional sign; 0x/0o/0b integers without sign;
// anything else NaN.
double js_string_to_number(std::string_view text);

// parseFloat applied to a string: leading white space skipped, then the longest prefix that is
// a signed decimal literal or "Infinity"; NaN when there is none. No hexadecimal.
double js_parse_float(std::string_view text);

// Whether `text` begins with one JavaScript white space or line terminator; returns its length
// in bytes (UTF-8), or 0.
std::size_t js_white_space_at(std::string_view text);

} // namespace loyalty::logic
