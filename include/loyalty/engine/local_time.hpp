#pragma once
// Instants seen in the program's time zone: the weekday of a purchase, the start of the
// calendar week a limit counts in, the end of the month a lot expires at. Daylight saving is
// handled by date-tz: a local time that does not exist (spring forward) maps to the first
// instant after the gap, and an ambiguous one (fall back) to the earlier of the two.

#include "loyalty/program/calendar.hpp"

#include <chrono>
#include <cstdint>
#include <date/date.h>
#include <date/tz.h>
#include <string>

namespace loyalty::engine {

using timestamp = std::chrono::sys_seconds;

struct local_fields {
    date::year_month_day date;
    unsigned weekday = 1; // ISO: 1 Monday ... 7 Sunday
    int hour = 0;
    int minute = 0;
};

local_fields local_fields_of(const date::time_zone* zone, timestamp t);

date::local_seconds to_local(const date::time_zone* zone, timestamp t);
timestamp to_instant(const date::time_zone* zone, date::local_seconds local);

// The first instant of the period that contains `t`; the beginning of time for lifetime.
timestamp period_start(const program::period& p, const date::time_zone* zone, timestamp t);

// The first instant after the period that contains `t`; the end of time for lifetime. A rolling
// window has no end of its own: `t` plus its length, so that what is counted from
// period_start to here holds every payout any window through `t` could hold (a purchase posted
// late is counted against payouts dated after it as well as before).
timestamp period_end(const program::period& p, const date::time_zone* zone, timestamp t);

// The instant `months` local months after `t` (clamped to the month's last day), optionally moved
// to the end of that local month (the first instant of the next month).
timestamp add_local_months(const date::time_zone* zone, timestamp t, std::int64_t months,
                           bool to_end_of_month);

// The first instant of the local month after the one containing `t`.
timestamp end_of_local_month(const date::time_zone* zone, timestamp t);

// The first instant of the local day after the one containing `t`.
timestamp end_of_local_day(const date::time_zone* zone, timestamp t);

// "2026-03-14T09:30:00Z"
std::string format_rfc3339(timestamp t);

// "2026-03-14", as date::format("%F") writes it.
std::string format_date(date::year_month_day ymd);

} // namespace loyalty::engine
