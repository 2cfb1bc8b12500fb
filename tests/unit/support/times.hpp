#pragma once
// The instants the tests write their histories with. One definition for every test file: a unity
// build compiles several test files as one, where two helpers of the same name would clash.

#include "loyalty/engine/event_json.hpp"

#include <catch2/catch.hpp>
#include <chrono>
#include <date/date.h>

namespace loyalty::test {

// An instant written as RFC 3339 ("2026-03-10T15:00:00Z"); a typo fails the test.
inline engine::timestamp at(const char* rfc3339) {
    auto t = engine::parse_rfc3339(rfc3339);
    REQUIRE(t);
    return *t;
}

// A day at 15:00 UTC unless another hour is given: late morning in the sample program's zone
// (America/New_York), far from either local midnight.
inline engine::timestamp at(int y, unsigned m, unsigned d, int hour = 15) {
    return date::sys_days{date::year{y} / date::month{m} / date::day{d}} + std::chrono::hours{hour};
}

// A time of day in UTC.
inline engine::timestamp utc(date::year_month_day day, int hour = 0, int minute = 0,
                             int second = 0) {
    return engine::timestamp{date::sys_days{day}} + std::chrono::hours{hour} +
           std::chrono::minutes{minute} + std::chrono::seconds{second};
}

} // namespace loyalty::test
