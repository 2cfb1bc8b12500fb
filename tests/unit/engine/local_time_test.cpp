#include "loyalty/engine/event_json.hpp"
#include "loyalty/engine/local_time.hpp"
#include "support/times.hpp"
#include "support/timestamp_text.hpp"

#include <catch2/catch.hpp>
#include <optional>
#include <sstream>

// In America/New_York, 2026: clocks spring forward on Sunday 8 March at 02:00 EST (07:00Z) and
// fall back on Sunday 1 November at 02:00 EDT (06:00Z). EST is UTC-5, EDT UTC-4.

using loyalty::test::utc;

namespace {

using namespace date::literals;
using loyalty::engine::timestamp;
using loyalty::program::period;
using loyalty::program::period_kind;
using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;

const date::time_zone* new_york() {
    return date::locate_zone("America/New_York");
}

date::local_seconds local(date::year_month_day day, int hour = 0, int minute = 0) {
    return date::local_seconds{date::local_days{day}} + hours{hour} + minutes{minute};
}

} // namespace

using namespace loyalty::engine;

TEST_CASE("local fields: the weekday changes at New York midnight, not at UTC midnight",
          "[local_time]") {
    const auto* zone = new_york();
    // Tuesday 24 November 2026, 23:59:59 EST is already Wednesday in UTC.
    auto tuesday = local_fields_of(zone, utc(2026_y / 11 / 25, 4, 59, 59));
    CHECK(tuesday.date == 2026_y / 11 / 24);
    CHECK(tuesday.weekday == 2);
    CHECK(tuesday.hour == 23);
    CHECK(tuesday.minute == 59);

    auto wednesday = local_fields_of(zone, utc(2026_y / 11 / 25, 5));
    CHECK(wednesday.date == 2026_y / 11 / 25);
    CHECK(wednesday.weekday == 3);
    CHECK(wednesday.hour == 0);

    // In summer midnight is 04:00Z. Sunday is 7 (ISO).
    CHECK(local_fields_of(zone, utc(2026_y / 7 / 13, 3, 59)).weekday == 7);
    CHECK(local_fields_of(zone, utc(2026_y / 7 / 13, 4)).weekday == 1);
}

TEST_CASE("local fields: both 01:30s of the fall-back night", "[local_time]") {
    const auto* zone = new_york();
    auto first = local_fields_of(zone, utc(2026_y / 11 / 1, 5, 30));  // 01:30 EDT
    auto second = local_fields_of(zone, utc(2026_y / 11 / 1, 6, 30)); // 01:30 EST
    CHECK(first.hour == 1);
    CHECK(first.minute == 30);
    CHECK(second.hour == 1);
    CHECK(second.minute == 30);
    CHECK(first.date == second.date);
}

TEST_CASE("to_instant: a local time that does not exist maps to the end of the gap",
          "[local_time]") {
    const auto* zone = new_york();
    // 02:30 on 8 March 2026 never happens: the clocks go from 01:59:59 EST to 03:00 EDT.
    CHECK(to_instant(zone, local(2026_y / 3 / 8, 2, 30)) == utc(2026_y / 3 / 8, 7));
    CHECK(to_instant(zone, local(2026_y / 3 / 8, 2, 0)) == utc(2026_y / 3 / 8, 7));
    CHECK(to_instant(zone, local(2026_y / 3 / 8, 3, 0)) == utc(2026_y / 3 / 8, 7));
    CHECK(to_instant(zone, local(2026_y / 3 / 8, 1, 59)) == utc(2026_y / 3 / 8, 6, 59));
}

TEST_CASE("to_instant: an ambiguous local time maps to the earlier instant", "[local_time]") {
    const auto* zone = new_york();
    // 01:30 on 1 November 2026 happens twice: 05:30Z (EDT) and 06:30Z (EST).
    CHECK(to_instant(zone, local(2026_y / 11 / 1, 1, 30)) == utc(2026_y / 11 / 1, 5, 30));
    CHECK(to_instant(zone, local(2026_y / 11 / 1, 2, 0)) == utc(2026_y / 11 / 1, 7));
    CHECK(to_instant(zone, local(2026_y / 11 / 1, 0, 59)) == utc(2026_y / 11 / 1, 4, 59));
}

TEST_CASE("to_local and to_instant round-trip unique times", "[local_time]") {
    const auto* zone = new_york();
    timestamp t = utc(2026_y / 3 / 14, 13, 30);
    CHECK(to_local(zone, t) == local(2026_y / 3 / 14, 9, 30));
    CHECK(to_instant(zone, to_local(zone, t)) == t);
}

TEST_CASE("period_start: day, in local days of 23 and 25 hours", "[local_time]") {
    const auto* zone = new_york();
    period day{period_kind::day, 0};
    CHECK(period_start(day, zone, utc(2026_y / 3 / 8, 12)) == utc(2026_y / 3 / 8, 5));
    CHECK(period_start(day, zone, utc(2026_y / 3 / 9, 3, 59)) == utc(2026_y / 3 / 8, 5));
    CHECK(period_start(day, zone, utc(2026_y / 3 / 9, 4)) == utc(2026_y / 3 / 9, 4));
    CHECK(period_start(day, zone, utc(2026_y / 11 / 1, 12)) == utc(2026_y / 11 / 1, 4));
    CHECK(period_start(day, zone, utc(2026_y / 11 / 2, 4, 59)) == utc(2026_y / 11 / 1, 4));
    CHECK(period_start(day, zone, utc(2026_y / 11 / 2, 5)) == utc(2026_y / 11 / 2, 5));
}

TEST_CASE("period_start: calendar weeks start on Monday, local time", "[local_time]") {
    const auto* zone = new_york();
    period week{period_kind::calendar_week, 0};
    // Sunday 8 March (spring forward) belongs to the week of Monday 2 March (EST).
    CHECK(period_start(week, zone, utc(2026_y / 3 / 8, 12)) == utc(2026_y / 3 / 2, 5));
    // Sunday 23:59 EDT is Monday in UTC, still the same week.
    CHECK(period_start(week, zone, utc(2026_y / 3 / 9, 3, 59)) == utc(2026_y / 3 / 2, 5));
    // Monday 9 March 00:00 EDT starts a new week.
    CHECK(period_start(week, zone, utc(2026_y / 3 / 9, 4)) == utc(2026_y / 3 / 9, 4));
    // Sunday 1 November (fall back) belongs to the week of Monday 26 October (EDT).
    CHECK(period_start(week, zone, utc(2026_y / 11 / 1, 12)) == utc(2026_y / 10 / 26, 4));
    CHECK(period_start(week, zone, utc(2026_y / 11 / 2, 5)) == utc(2026_y / 11 / 2, 5));
    // A Monday itself.
    CHECK(period_start(week, zone, utc(2026_y / 11 / 23, 18)) == utc(2026_y / 11 / 23, 5));
}

TEST_CASE("period_start: calendar month and year", "[local_time]") {
    const auto* zone = new_york();
    period month{period_kind::calendar_month, 0};
    CHECK(period_start(month, zone, utc(2026_y / 3 / 20)) == utc(2026_y / 3 / 1, 5));
    // 1 November 00:00 is still EDT: the clocks change at 02:00.
    CHECK(period_start(month, zone, utc(2026_y / 11 / 15)) == utc(2026_y / 11 / 1, 4));
    // 31 October 22:00 EDT is 1 November in UTC, but October in New York.
    CHECK(period_start(month, zone, utc(2026_y / 11 / 1, 2)) == utc(2026_y / 10 / 1, 4));

    period year{period_kind::calendar_year, 0};
    CHECK(period_start(year, zone, utc(2026_y / 7 / 1)) == utc(2026_y / 1 / 1, 5));
    // New Year's Eve 22:00 EST is 2027 in UTC.
    CHECK(period_start(year, zone, utc(2027_y / 1 / 1, 3)) == utc(2026_y / 1 / 1, 5));
    CHECK(period_start(year, zone, utc(2027_y / 1 / 1, 5)) == utc(2027_y / 1 / 1, 5));
}

TEST_CASE("period_start: rolling days and lifetime", "[local_time]") {
    const auto* zone = new_york();
    timestamp t = utc(2026_y / 3 / 20, 12);
    CHECK(period_start(period{period_kind::rolling_days, 30}, zone, t) == t - date::days{30});
    CHECK(period_start(period{period_kind::lifetime, 0}, zone, t) < utc(1970_y / 1 / 1));
}

TEST_CASE("add_local_months: clamps to the last day of a shorter month", "[local_time]") {
    const auto* zone = new_york();
    // 31 January 10:00 EST + 1 month: 28 February 10:00 EST.
    CHECK(add_local_months(zone, utc(2026_y / 1 / 31, 15), 1, false) == utc(2026_y / 2 / 28, 15));
    // In a leap year, 29 February.
    CHECK(add_local_months(zone, utc(2028_y / 1 / 31, 15), 1, false) == utc(2028_y / 2 / 29, 15));
    // 29 February + 12 months: 28 February; + 48 months: 29 February again.
    CHECK(add_local_months(zone, utc(2028_y / 2 / 29, 15), 12, false) == utc(2029_y / 2 / 28, 15));
    CHECK(add_local_months(zone, utc(2028_y / 2 / 29, 15), 48, false) == utc(2032_y / 2 / 29, 15));
    // Backwards.
    // 31 March 11:00 EDT - 1 month: 28 February 11:00 EST.
    CHECK(add_local_months(zone, utc(2026_y / 3 / 31, 15), -1, false) == utc(2026_y / 2 / 28, 16));
    CHECK(add_local_months(zone, utc(2026_y / 3 / 14, 13, 30), -12, false) ==
          utc(2025_y / 3 / 14, 13, 30));
}

TEST_CASE("add_local_months: keeps the local time of day across a DST change", "[local_time]") {
    const auto* zone = new_york();
    // 15 February 10:00 EST + 1 month = 15 March 10:00 EDT, an hour earlier in UTC.
    CHECK(add_local_months(zone, utc(2026_y / 2 / 15, 15), 1, false) == utc(2026_y / 3 / 15, 14));
    CHECK(add_local_months(zone, utc(2026_y / 10 / 15, 14), 1, false) == utc(2026_y / 11 / 15, 15));
    // 8 February 02:30 EST + 1 month lands in the spring-forward gap: 03:00 EDT.
    CHECK(add_local_months(zone, utc(2026_y / 2 / 8, 7, 30), 1, false) == utc(2026_y / 3 / 8, 7));
}

TEST_CASE("add_local_months to the end of the month: the Bean & Leaf expiry", "[local_time]") {
    const auto* zone = new_york();
    // Earned 2026-03-14 09:30 EDT: expires at the end of 2026-09-30 New York time.
    CHECK(add_local_months(zone, utc(2026_y / 3 / 14, 13, 30), 6, true) == utc(2026_y / 10 / 1, 4));
    // Earned late on 31 October local (already November in UTC): end of April.
    CHECK(add_local_months(zone, utc(2026_y / 11 / 1, 3, 30), 6, true) == utc(2027_y / 5 / 1, 4));
    // Earned on the fall-back night: end of May (EDT again).
    CHECK(add_local_months(zone, utc(2026_y / 11 / 1, 5, 30), 6, true) == utc(2027_y / 6 / 1, 4));
    // Ending in winter: 1 January 00:00 EST.
    CHECK(add_local_months(zone, utc(2026_y / 6 / 30, 12), 6, true) == utc(2027_y / 1 / 1, 5));
}

TEST_CASE("end_of_local_month and end_of_local_day", "[local_time]") {
    const auto* zone = new_york();
    CHECK(end_of_local_month(zone, utc(2026_y / 2 / 10)) == utc(2026_y / 3 / 1, 5));
    CHECK(end_of_local_month(zone, utc(2028_y / 2 / 29, 12)) == utc(2028_y / 3 / 1, 5));
    CHECK(end_of_local_month(zone, utc(2026_y / 10 / 31, 23)) == utc(2026_y / 11 / 1, 4));
    // 30 November 22:00 EST is 1 December in UTC.
    CHECK(end_of_local_month(zone, utc(2026_y / 12 / 1, 3)) == utc(2026_y / 12 / 1, 5));

    // The spring-forward day has 23 hours, the fall-back day 25.
    CHECK(end_of_local_day(zone, utc(2026_y / 3 / 8, 6)) == utc(2026_y / 3 / 9, 4));
    CHECK(end_of_local_day(zone, utc(2026_y / 11 / 1, 5)) == utc(2026_y / 11 / 2, 5));
    CHECK(end_of_local_day(zone, utc(2026_y / 11 / 2, 4, 59)) == utc(2026_y / 11 / 2, 5));
}

TEST_CASE("format_rfc3339", "[local_time]") {
    CHECK(format_rfc3339(utc(2026_y / 3 / 14, 9, 30)) == "2026-03-14T09:30:00Z");
    CHECK(format_rfc3339(utc(2028_y / 2 / 29, 23, 59) + std::chrono::seconds{59}) ==
          "2028-02-29T23:59:59Z");
    CHECK(format_rfc3339(utc(1970_y / 1 / 1)) == "1970-01-01T00:00:00Z");
    CHECK(format_rfc3339(utc(1969_y / 12 / 31, 23)) == "1969-12-31T23:00:00Z");
    // The same text as date::format for a spread of instants, and it parses back.
    for (std::int64_t s = -86'400'000; s < 4'000'000'000; s += 7'777'777) {
        timestamp t{std::chrono::seconds{s}};
        CHECK(format_rfc3339(t) == date::format("%Y-%m-%dT%H:%M:%SZ", t));
        CHECK(parse_rfc3339(format_rfc3339(t)) == t);
    }
}

TEST_CASE("format_date writes what date::format(\"%F\") writes", "[local_time]") {
    CHECK(format_date(2026_y / 3 / 14) == "2026-03-14");
    // Every day from year 900 to 10100 (outside 1000-9999 date::format writes them), and days
    // that do not exist.
    for (auto d = date::sys_days{900_y / 1 / 1}; d < date::sys_days{10100_y / 1 / 1};
         d += date::days{37}) {
        date::year_month_day ymd{d};
        CHECK(format_date(ymd) == date::format("%F", d));
    }
    CHECK(format_date(2027_y / 2 / 29) == date::format("%F", date::sys_days{2027_y / 2 / 29}));
    CHECK(format_date(2026_y / 4 / 31) == date::format("%F", date::sys_days{2026_y / 4 / 31}));
}

TEST_CASE("parse_rfc3339 reads the common UTC form by hand exactly as date::parse does",
          "[local_time]") {
    auto by_date = [](const std::string& text) -> std::optional<timestamp> {
        // The general reader, as parse_rfc3339 was before it read the common form by hand.
        std::istringstream in(text);
        date::sys_seconds t;
        if (text.size() >= 20 && (text.back() == 'Z' || text.back() == 'z')) {
            in >> date::parse("%FT%TZ", t);
        } else {
            in >> date::parse("%FT%T%Ez", t);
        }
        if (in.fail() || in.peek() != std::char_traits<char>::eof()) {
            return std::nullopt;
        }
        return t;
    };
    for (const std::string text :
         {"2026-03-14T09:30:00Z", "2028-02-29T23:59:59Z", "0000-01-01T00:00:00Z",
          "9999-12-31T23:59:59Z", "2027-02-29T00:00:00Z", "2026-13-01T00:00:00Z",
          "2026-00-10T00:00:00Z", "2026-04-31T00:00:00Z", "2026-04-00T00:00:00Z",
          "2026-04-01T24:00:00Z", "2026-04-01T23:60:00Z", "2026-04-01T2a:00:00Z",
          "2026-04-01 23:00:00Z", "2026-04-01T23:00:0Z", "2026-03-14T09:30:00+00:00"}) {
        INFO(text);
        CHECK(parse_rfc3339_unbounded(text) == by_date(text));
    }
    // Forms only the general parser reads, still read.
    CHECK(parse_rfc3339("2026-03-14T10:30:00+01:00") == parse_rfc3339("2026-03-14T09:30:00Z"));
    CHECK_FALSE(parse_rfc3339("2026-03-14T09:30:00Zjunk"));
}

TEST_CASE("parse_rfc3339 reads a lowercase t and z, and drops a fraction of a second",
          "[local_time]") {
    // RFC 3339 5.6 allows both; JavaScript's toISOString writes milliseconds, and a till that
    // sends them was refused. Times are kept to the second.
    const auto whole = parse_rfc3339("2026-03-14T09:30:00Z");
    REQUIRE(whole);
    for (const std::string text :
         {"2026-03-14t09:30:00z", "2026-03-14T09:30:00.000Z", "2026-03-14T09:30:00.999Z",
          "2026-03-14T09:30:00.5z", "2026-03-14T09:30:00.123456789Z",
          "2026-03-14T10:30:00.25+01:00"}) {
        INFO(text);
        CHECK(parse_rfc3339(text) == whole);
    }
    for (const std::string text :
         {"2026-03-14T09:30:00.Z", "2026-03-14T09:30:00.1234567890Z", "2026-03-14T09:30:00,5Z",
          "2026-03-14T09:30:00.5", "2026-03-14T09:30:00.5x", "2026-03-14x09:30:00Z",
          "2026-03-14T09:30:00.5+01:0"}) {
        INFO(text);
        CHECK_FALSE(parse_rfc3339(text));
    }
}

TEST_CASE("parse_rfc3339 refuses times outside years 1 to 9999 once in UTC", "[local_time]") {
    // The stored form writes four-digit years: anything else would not read back.
    CHECK(parse_rfc3339("0001-01-01T00:00:00Z") == earliest_time);
    CHECK(parse_rfc3339("9999-12-31T23:59:59Z") == latest_time);
    CHECK(parse_rfc3339("0001-01-01T00:01:00+00:01") == earliest_time);
    CHECK(parse_rfc3339("9999-12-31T00:00:59-23:59") == latest_time);
    for (const std::string text :
         {"0000-01-01T00:00:00Z", "0000-12-31T23:59:59Z", "0000-01-01T00:00:00+00:01",
          "0001-01-01T00:00:00+00:01", "0001-01-01T23:58:59+23:59", "9999-12-31T23:59:59-00:01",
          "9999-12-31T00:01:00-23:59"}) {
        INFO(text);
        CHECK_FALSE(parse_rfc3339(text));
        CHECK(parse_rfc3339_unbounded(text)); // well-formed, only out of range
    }
    // Every time in range writes back as it read.
    for (timestamp t : {earliest_time, latest_time}) {
        CHECK(parse_rfc3339(format_rfc3339(t)) == t);
    }
}

TEST_CASE("parse_rfc3339 reads offsets by hand and refuses every other form", "[local_time]") {
    CHECK(parse_rfc3339("2026-03-14T05:30:00-04:00") == parse_rfc3339("2026-03-14T09:30:00Z"));
    CHECK(parse_rfc3339("2026-03-14T09:30:00-00:00") == parse_rfc3339("2026-03-14T09:30:00Z"));
    CHECK(parse_rfc3339("2026-03-14T23:30:00+23:59") == parse_rfc3339("2026-03-13T23:31:00Z"));
    CHECK(parse_rfc3339("2026-01-01T00:30:00+01:00") == parse_rfc3339("2025-12-31T23:30:00Z"));
    // What date::parse overflowed on (tests/fuzz/regressions/requests/rfc3339-*), and other
    // forms that are not RFC 3339 (date::parse read "-026" as the year -26).
    for (const std::string text :
         {"2026-03-10T10:00:00-:4000", "2026-03-10T10:00:+0:00", "2026-03-10T10:00Z",
          "2026-03-10T10:00:00+24:00", "2026-03-10T10:00:00+01:60", "2026-03-10T10:00:00+0100",
          "2026-03-10T10:00:00+1:000", "2026-03-10T10:00:00", "2026-03-10T10:00:00 01:00",
          "2026-3-10T10:00:00Z", "-026-04-01T23:00:00Z", ""}) {
        INFO(text);
        CHECK_FALSE(parse_rfc3339(text));
    }
}
