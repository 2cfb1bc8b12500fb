#include "loyalty/program/calendar.hpp"

#include <charconv>

namespace loyalty::program {

namespace {

// Reads exactly `width` digits at `pos`.
std::optional<int> digits(std::string_view text, std::size_t pos, std::size_t width) {
    if (pos + width > text.size()) {
        return std::nullopt;
    }
    int value = 0;
    for (std::size_t i = pos; i < pos + width; ++i) {
        if (text[i] < '0' || text[i] > '9') {
            return std::nullopt;
        }
        value = value * 10 + (text[i] - '0');
    }
    return value;
}

} // namespace

bool is_date_only(std::string_view text) {
    return text.size() == 10;
}

std::optional<date::local_seconds> parse_local_time(std::string_view text) {
    // Strict shapes only: a date that a merchant mistyped must not be half-read.
    if (text.size() != 10 && text.size() != 16 && text.size() != 19) {
        return std::nullopt;
    }
    auto y = digits(text, 0, 4);
    auto m = digits(text, 5, 2);
    auto d = digits(text, 8, 2);
    if (!y || !m || !d || text[4] != '-' || text[7] != '-') {
        return std::nullopt;
    }
    date::year_month_day ymd{date::year{*y}, date::month{static_cast<unsigned>(*m)},
                             date::day{static_cast<unsigned>(*d)}};
    if (!ymd.ok()) {
        return std::nullopt;
    }
    date::local_seconds t{date::local_days{ymd}};
    if (text.size() == 10) {
        return t;
    }
    auto hh = digits(text, 11, 2);
    auto mm = digits(text, 14, 2);
    if ((text[10] != 'T' && text[10] != ' ') || text[13] != ':' || !hh || !mm || *hh > 23 ||
        *mm > 59) {
        return std::nullopt;
    }
    int ss = 0;
    if (text.size() == 19) {
        auto s = digits(text, 17, 2);
        if (text[16] != ':' || !s || *s > 59) {
            return std::nullopt;
        }
        ss = *s;
    }
    return t + std::chrono::hours{*hh} + std::chrono::minutes{*mm} + std::chrono::seconds{ss};
}

std::string to_string(const period& p) {
    switch (p.kind) {
    case period_kind::day:
        return "day";
    case period_kind::calendar_week:
        return "calendar week";
    case period_kind::calendar_month:
        return "calendar month";
    case period_kind::calendar_year:
        return "calendar year";
    case period_kind::rolling_days:
        return "rolling " + std::to_string(p.days) + " days";
    case period_kind::lifetime:
        return "lifetime";
    }
    return "?";
}

} // namespace loyalty::program
