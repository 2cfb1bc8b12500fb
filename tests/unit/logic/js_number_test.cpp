#include "loyalty/logic/js_number.hpp"

#include <catch2/catch.hpp>
#include <cmath>
#include <limits>
#include <string>

using loyalty::logic::js_infinity;
using loyalty::logic::js_number_to_string;
using loyalty::logic::js_parse_float;
using loyalty::logic::js_string_to_number;
using loyalty::logic::js_white_space_at;

namespace {

// Same double, telling -0 from 0 and accepting NaN for NaN.
bool same(double a, double b) {
    if (std::isnan(a) || std::isnan(b)) {
        return std::isnan(a) && std::isnan(b);
    }
    return a == b && std::signbit(a) == std::signbit(b);
}

} // namespace

TEST_CASE("numbers print as Number.prototype.toString does", "[js_number]") {
    struct row {
        double x;
        const char* text;
    };
    const row table[] = {
        {0.0, "0"},
        {-0.0, "0"},
        {1.0, "1"},
        {-1.25, "-1.25"},
        {0.1 + 0.2, "0.30000000000000004"},
        {1.0 / 3.0, "0.3333333333333333"},
        {100.0, "100"},
        {1e6, "1000000"},
        {1.25e15, "1250000000000000"},
        {1e20, "100000000000000000000"},
        {123456789012345680000.0, "123456789012345680000"},
        {1e21, "1e+21"},
        {1.5e300, "1.5e+300"},
        {0.000001, "0.000001"},
        {0.0000123, "0.0000123"},
        {1e-7, "1e-7"},
        {-1e-7, "-1e-7"},
        {1.5e-7, "1.5e-7"},
        {5e-324, "5e-324"},
        {1.7976931348623157e308, "1.7976931348623157e+308"},
        {9007199254740993.0, "9007199254740992"},
        {4.35, "4.35"},
        {std::numeric_limits<double>::quiet_NaN(), "NaN"},
        {js_infinity, "Infinity"},
        {-js_infinity, "-Infinity"},
    };
    for (const auto& r : table) {
        INFO(r.text);
        CHECK(js_number_to_string(r.x) == r.text);
    }
}

TEST_CASE("strings read as numbers as ToNumber does", "[js_number]") {
    const double nan = std::numeric_limits<double>::quiet_NaN();
    struct row {
        const char* text;
        double x;
    };
    const row table[] = {
        {"", 0},
        {"   ", 0},
        {"12", 12},
        {" 12 ", 12},
        {"\t\n\v\f\r12", 12},
        {"\xC2\xA0"
         "12\xE2\x80\x83",
         12}, // U+00A0, U+2003
        {"\xE2\x80\xA8"
         "3\xE2\x80\xA9",
         3}, // U+2028, U+2029
        {"\xEF\xBB\xBF"
         "4",
         4}, // U+FEFF
        {"\xE1\xA0\x8E"
         "5",
         nan}, // U+180E is not white space
        {"+5", 5},
        {"-5", -5},
        {"-0", -0.0},
        {".5", 0.5},
        {"5.", 5},
        {".", nan},
        {"1e3", 1000},
        {"1E-2", 0.01},
        {"1e", nan},
        {"e5", nan},
        {"12px", nan},
        {"1_000", nan},
        {"0x10", 16},
        {"0X1f", 31},
        {"-0x10", nan},
        {"0x", nan},
        {"0o17", 15},
        {"0b101", 5},
        {"0b102", nan},
        {"0x20000000000001", 9007199254740992.0},
        {"Infinity", js_infinity},
        {"-Infinity", -js_infinity},
        {"infinity", nan},
        {"1e400", js_infinity},
        {"-1e-400", -0.0},
        {"1e-99999999999999999999", 0},
        {"0.1000000000000000055511151231257827021181583404541015625", 0.1},
    };
    for (const auto& r : table) {
        INFO(r.text);
        CHECK(same(js_string_to_number(r.text), r.x));
    }
}

TEST_CASE("parseFloat reads the longest decimal prefix", "[js_number]") {
    const double nan = std::numeric_limits<double>::quiet_NaN();
    struct row {
        const char* text;
        double x;
    };
    const row table[] = {
        {"3px", 3},
        {"  7", 7},
        {"-.5e1x", -5},
        {"1e", 1},
        {"1e+", 1},
        {"0x10", 0},
        {"", nan},
        {"-", nan},
        {".", nan},
        {"Infinityx", js_infinity},
        {"-Infinity", -js_infinity},
        {"1,5", 1},
        {"-0", -0.0},
        {"null", nan},
        {"5e-324", 5e-324},
        {"\xC2\xA0"
         "8",
         8},
    };
    for (const auto& r : table) {
        INFO(r.text);
        CHECK(same(js_parse_float(r.text), r.x));
    }
}

TEST_CASE("JavaScript white space is recognised by its UTF-8 length", "[js_number]") {
    CHECK(js_white_space_at(" x") == 1);
    CHECK(js_white_space_at("\xC2\xA0") == 2);
    CHECK(js_white_space_at("\xE3\x80\x80") == 3);
    CHECK(js_white_space_at("\xE2\x80\x8B") == 0); // U+200B zero width space
    CHECK(js_white_space_at("x") == 0);
    CHECK(js_white_space_at("") == 0);
}
