#pragma once
// Local dates and periods in the program's time zone: what limits, windows and validity are
// measured in. Pure functions; nothing here reads a clock.

#include <chrono>
#include <cstdint>
#include <date/date.h>
#include <optional>
#include <string>
#include <string_view>

namespace loyalty::program {

enum class period_kind {
    day,
    calendar_week,
    calendar_month,
    calendar_year,
    rolling_days,
    lifetime
};

// A span that counters reset on. Calendar weeks start on Monday.
struct period {
    period_kind kind = period_kind::lifetime;
    std::int64_t days = 0; // rolling_days only
};

// When something is in force, in the program's local time: `from` inclusive, `until` exclusive.
// A date written without a time means the whole day, so `until: 2026-12-31` runs through that day.
struct validity {
    std::optional<date::local_seconds> from;
    std::optional<date::local_seconds> until;

    bool contains(date::local_seconds t) const {
        return (!from || *from <= t) && (!until || t < *until);
    }
};

// A yearly date ("12-31"), for fixed-date expiry.
struct month_day_rule {
    unsigned month = 12;
    unsigned day = 31;
};

// Parses "YYYY-MM-DD" or "YYYY-MM-DDTHH:MM[:SS]" as a local time; nullopt when the text does not
// have that shape or names a day that does not exist (2026-02-30).
std::optional<date::local_seconds> parse_local_time(std::string_view text);
// True when the text is a bare date (no time part).
bool is_date_only(std::string_view text);

// "calendar_month", "rolling 30 days"... for messages and explanations.
std::string to_string(const period& p);

} // namespace loyalty::program
