#include "loyalty/engine/local_time.hpp"

#include <algorithm>
#include <limits>

namespace loyalty::engine {

using namespace std::chrono;

date::local_seconds to_local(const date::time_zone* zone, timestamp t) {
    return date::floor<seconds>(zone->to_local(t));
}

timestamp to_instant(const date::time_zone* zone, date::local_seconds local) {
    auto info = zone->get_info(local);
    switch (info.result) {
    case date::local_info::unique:
        return date::floor<seconds>(sys_seconds{local.time_since_epoch()} - info.first.offset);
    case date::local_info::ambiguous:
        return date::floor<seconds>(sys_seconds{local.time_since_epoch()} - info.first.offset);
    case date::local_info::nonexistent:
    default:
        // In a spring-forward gap: the instant the clocks jumped.
        return info.second.begin;
    }
}

local_fields local_fields_of(const date::time_zone* zone, timestamp t) {
    auto local = to_local(zone, t);
    auto day = date::floor<date::days>(local);
    date::hh_mm_ss<seconds> time{local - day};
    local_fields f;
    f.date = date::year_month_day{day};
    f.weekday = date::weekday{day}.iso_encoding();
    f.hour = static_cast<int>(time.hours().count());
    f.minute = static_cast<int>(time.minutes().count());
    return f;
}

timestamp period_start(const program::period& p, const date::time_zone* zone, timestamp t) {
    auto local = to_local(zone, t);
    auto day = date::floor<date::days>(local);
    date::year_month_day ymd{day};
    switch (p.kind) {
    case program::period_kind::day:
        return to_instant(zone, date::local_seconds{day});
    case program::period_kind::calendar_week: {
        auto monday = day - (date::weekday{day} - date::Monday);
        return to_instant(zone, date::local_seconds{monday});
    }
    case program::period_kind::calendar_month:
        return to_instant(zone,
                          date::local_seconds{date::local_days{ymd.year() / ymd.month() / 1}});
    case program::period_kind::calendar_year:
        return to_instant(zone,
                          date::local_seconds{date::local_days{ymd.year() / date::January / 1}});
    case program::period_kind::rolling_days:
        return t - date::days{p.days};
    case program::period_kind::lifetime:
        break;
    }
    return timestamp{seconds{std::numeric_limits<std::int32_t>::min()}};
}

timestamp period_end(const program::period& p, const date::time_zone* zone, timestamp t) {
    auto day = date::floor<date::days>(to_local(zone, t));
    date::year_month_day ymd{day};
    switch (p.kind) {
    case program::period_kind::day:
        return to_instant(zone, date::local_seconds{day + date::days{1}});
    case program::period_kind::calendar_week: {
        auto monday = day - (date::weekday{day} - date::Monday);
        return to_instant(zone, date::local_seconds{monday + date::days{7}});
    }
    case program::period_kind::calendar_month:
        return end_of_local_month(zone, t);
    case program::period_kind::calendar_year:
        return to_instant(zone, date::local_seconds{date::local_days{(ymd.year() + date::years{1}) /
                                                                     date::January / 1}});
    case program::period_kind::rolling_days:
        return t + date::days{p.days};
    case program::period_kind::lifetime:
        break;
    }
    return timestamp{seconds{std::numeric_limits<std::int32_t>::max()}};
}

timestamp end_of_local_month(const date::time_zone* zone, timestamp t) {
    date::year_month_day ymd{date::floor<date::days>(to_local(zone, t))};
    auto next = ymd.year() / ymd.month() / 1;
    next += date::months{1};
    return to_instant(zone, date::local_seconds{date::local_days{next}});
}

timestamp end_of_local_day(const date::time_zone* zone, timestamp t) {
    auto day = date::floor<date::days>(to_local(zone, t));
    return to_instant(zone, date::local_seconds{day + date::days{1}});
}

timestamp add_local_months(const date::time_zone* zone, timestamp t, std::int64_t months,
                           bool to_end_of_month) {
    auto local = to_local(zone, t);
    auto day = date::floor<date::days>(local);
    auto time_of_day = local - day;
    date::year_month_day ymd{day};
    auto target_month = date::year_month{ymd.year(), ymd.month()} + date::months{months};
    if (to_end_of_month) {
        auto next = target_month + date::months{1};
        return to_instant(zone, date::local_seconds{date::local_days{next / 1}});
    }
    // 31 January + 1 month is the last day of February.
    auto last =
        date::year_month_day_last{target_month.year(), date::month_day_last{target_month.month()}};
    auto d = std::min(ymd.day(), last.day());
    return to_instant(zone, date::local_days{target_month / d} + time_of_day);
}

namespace {

// `value` as `digits` decimal digits, zero-padded, at `out`.
void put_digits(char* out, int value, int digits) {
    for (int i = digits - 1; i >= 0; --i, value /= 10) {
        out[i] = static_cast<char>('0' + value % 10);
    }
}

// The ten characters of "2026-03-14" at `out`, for a year from 0 to 9999.
void put_date(char* out, date::year_month_day ymd) {
    put_digits(out, static_cast<int>(ymd.year()), 4);
    out[4] = '-';
    put_digits(out + 5, static_cast<int>(static_cast<unsigned>(ymd.month())), 2);
    out[7] = '-';
    put_digits(out + 8, static_cast<int>(static_cast<unsigned>(ymd.day())), 2);
}

} // namespace

// Both by hand rather than date::format: that builds a locale-aware stream per call, and every
// outcome and stored row formats several times (12 % of the writer's time in the benchmark), and
// conditions that read a local date or a birthday format one on every evaluation.
std::string format_date(date::year_month_day ymd) {
    int year = static_cast<int>(ymd.year());
    if (year < 1000 || year > 9999 || !ymd.ok()) {
        return date::format("%F", date::sys_days{ymd});
    }
    char text[10];
    put_date(text, ymd);
    return std::string(text, sizeof text);
}

std::string format_rfc3339(timestamp t) {
    auto day = date::floor<date::days>(t);
    date::year_month_day ymd{day};
    date::hh_mm_ss<std::chrono::seconds> time{t - day};
    int year = static_cast<int>(ymd.year());
    if (year < 0 || year > 9999) {
        return date::format("%Y-%m-%dT%H:%M:%SZ", t);
    }
    char text[20];
    put_date(text, ymd);
    text[10] = 'T';
    put_digits(text + 11, static_cast<int>(time.hours().count()), 2);
    text[13] = ':';
    put_digits(text + 14, static_cast<int>(time.minutes().count()), 2);
    text[16] = ':';
    put_digits(text + 17, static_cast<int>(time.seconds().count()), 2);
    text[19] = 'Z';
    return std::string(text, sizeof text);
}

} // namespace loyalty::engine
