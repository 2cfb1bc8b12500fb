#include "loyalty/program/calendar.hpp"

#include <catch2/catch.hpp>

using namespace loyalty::program;
using namespace std::chrono;

TEST_CASE("local times parse strictly and only when the day exists", "[calendar]") {
    auto day = [](int y, unsigned m, unsigned d) {
        return date::local_seconds{date::local_days{date::year{y} / m / d}};
    };
    CHECK(parse_local_time("2026-03-01") == day(2026, 3, 1));
    CHECK(parse_local_time("2028-02-29") == day(2028, 2, 29));
    CHECK(parse_local_time("2026-03-01T09:30") == day(2026, 3, 1) + hours{9} + minutes{30});
    CHECK(parse_local_time("2026-03-01 23:59:59") ==
          day(2026, 3, 1) + hours{23} + minutes{59} + seconds{59});
    for (const char* bad : {"2026-02-29", "2026-02-30", "2026-13-01", "2026-00-10", "2026-3-1",
                            "2026-03-01T24:00", "2026-03-01T10:60", "2026-03-01T10:00:60",
                            "2026-03-01T10", "26-03-01", "2026/03/01", "", "2026-03-01Z"}) {
        INFO(bad);
        CHECK_FALSE(parse_local_time(bad).has_value());
    }
    CHECK(is_date_only("2026-03-01"));
    CHECK_FALSE(is_date_only("2026-03-01T00:00"));
}

TEST_CASE("validity includes from and excludes until", "[calendar]") {
    auto t0 = date::local_seconds{date::local_days{date::year{2026} / 1 / 1}};
    validity v{t0, t0 + hours{1}};
    CHECK(v.contains(t0));
    CHECK(v.contains(t0 + minutes{59}));
    CHECK_FALSE(v.contains(t0 + hours{1}));
    CHECK_FALSE(v.contains(t0 - seconds{1}));
    CHECK(validity{}.contains(t0));
}

TEST_CASE("periods are named for people", "[calendar]") {
    CHECK(to_string(period{period_kind::calendar_week, 0}) == "calendar week");
    CHECK(to_string(period{period_kind::rolling_days, 30}) == "rolling 30 days");
    CHECK(to_string(period{}) == "lifetime");
}
