#pragma once
// Exact rational arithmetic for points: a rule's result is numerator/denominator, rounded once,
// by the rule's named rounding. 128-bit intermediates: spend × rate cannot overflow.

#include "loyalty/program/program.hpp"

#include <cstdint>
#include <string>

namespace loyalty::engine {

// 128-bit integers for intermediate products (GCC's __int128; __extension__ keeps -Wpedantic
// quiet about a type ISO C++ does not name).
__extension__ using wide_int = __int128;

// numerator / denominator rounded as asked; denominator > 0. Negative values round
// symmetrically (half_up is half away from zero), so reversing an amount rounds the same. A
// result past 64 bits is pinned to the nearest end, which is past every limit on points
// (member_state.hpp), so the event is refused rather than credited a wrapped amount.
std::int64_t round_ratio(wide_int numerator, wide_int denominator, program::rounding how);

// "20.98", "20.985", "1/3 = 0.3333..." for explanations: the exact value before rounding.
std::string exact_text(wide_int numerator, wide_int denominator);

} // namespace loyalty::engine
