#pragma once
// Strict reading of a JSON object's fields, for everything posted from outside: unknown fields,
// wrong types and out-of-range values are refused with the offending field's path.

#include "loyalty/engine/event.hpp"
#include "loyalty/engine/outcome.hpp"

#include <algorithm>
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <tl/expected.hpp>
#include <vector>

namespace loyalty::engine {

std::optional<timestamp> parse_rfc3339(std::string_view text);
std::optional<timestamp> parse_rfc3339_unbounded(std::string_view text);
// A date written exactly YYYY-MM-DD that the calendar has, as birthdays are sent.
std::optional<date::year_month_day> parse_full_date(std::string_view text);

// The longest id, code or name a request may carry.
inline constexpr std::size_t max_text_bytes = 256;

// Whether `s` may stand for a text field (json_fields::text, or ::prose with `line_breaks`): at
// most max_text_bytes, not empty when `required`, no control characters (line breaks and tabs
// only in prose). Also the fast path's rule (purchase_fast_path.cpp).
inline bool text_allowed(std::string_view s, bool required, bool line_breaks) {
    if ((required && s.empty()) || s.size() > max_text_bytes) {
        return false;
    }
    for (unsigned char c : s) {
        bool allowed_break = line_breaks && (c == '\n' || c == '\r' || c == '\t');
        if ((c < 0x20 || c == 0x7f) && !allowed_break) {
            return false;
        }
    }
    return true;
}

// Bidirectional overrides and isolates (U+202A to U+202E, U+2066 to U+2069) make a text display
// otherwise than it reads: a name shown reversed in the console, an id in a log that hides what
// follows it. Right-to-left scripts need none of them; texts that people read refuse them.
inline bool has_bidi_control(std::string_view s) {
    for (std::string_view bidi : {"\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066",
                                  "\u2067", "\u2068", "\u2069"}) {
        if (s.find(bidi) != std::string_view::npos) {
            return true;
        }
    }
    return false;
}
inline constexpr const char* bidi_control_problem =
    "bidirectional control characters (U+202A to U+202E, U+2066 to U+2069) are not allowed: "
    "they make text display otherwise than it reads";

inline tl::unexpected<rejection> invalid(std::string field, std::string message) {
    return tl::unexpected(
        rejection{rejection_code::invalid_event, std::move(field), std::move(message)});
}

// Reads an object's fields by name, refusing unknown ones.
class json_fields {
public:
    // `allowed` names the fields, as string literals: they are viewed, not copied (building a
    // set of strings for every object read was a fifth of reading a purchase).
    json_fields(const nlohmann::json& j, std::string path,
                std::initializer_list<std::string_view> allowed)
        : j_(j), path_(std::move(path)), allowed_(allowed) {}

    std::optional<rejection> check() const {
        if (!j_.is_object()) {
            return rejection{rejection_code::invalid_event, path_, "expected an object"};
        }
        for (const auto& [key, value] : j_.items()) {
            if (std::find(allowed_.begin(), allowed_.end(), key) == allowed_.end()) {
                return rejection{rejection_code::invalid_event, at(key), "unknown field"};
            }
        }
        return std::nullopt;
    }
    std::string at(const std::string& key) const { return path_.empty() ? key : path_ + "." + key; }
    const nlohmann::json* get(const std::string& key) const {
        auto it = j_.find(key);
        return it == j_.end() || it->is_null() ? nullptr : &*it;
    }

    // Ids, codes and names: no control characters, which no URL path can name (the router
    // refuses them in path ids) and which logs and terminals would show as something else.
    tl::expected<std::string, rejection> text(const std::string& key, bool required = true) const {
        return text_of(key, required, false);
    }
    // A person's words (an adjustment's note): line breaks and tabs allowed, other controls not.
    tl::expected<std::string, rejection> prose(const std::string& key, bool required = true) const {
        return text_of(key, required, true);
    }
    tl::expected<std::int64_t, rejection>
    integer(const std::string& key, std::int64_t min, std::int64_t max,
            std::optional<std::int64_t> fallback = std::nullopt) const {
        const nlohmann::json* v = get(key);
        if (v == nullptr) {
            if (fallback) {
                return *fallback;
            }
            return invalid(at(key), "required");
        }
        if (!v->is_number_integer()) {
            return invalid(at(key), "expected a whole number (minor units or points)");
        }
        // A whole number past 64 bits is out of the range like any other too large.
        const bool beyond = v->is_number_unsigned() && v->get<std::uint64_t>() > INT64_MAX;
        auto n = beyond ? max : v->get<std::int64_t>();
        if (beyond || n < min || n > max) {
            return invalid(at(key), "expected a whole number from " + std::to_string(min) + " to " +
                                        std::to_string(max));
        }
        return n;
    }
    tl::expected<timestamp, rejection> time(const std::string& key) const {
        auto t = text(key);
        if (!t) {
            return tl::unexpected(t.error());
        }
        auto parsed = parse_rfc3339(*t);
        if (!parsed) {
            if (parse_rfc3339_unbounded(*t)) {
                return invalid(at(key), "expected a time from 0001-01-01T00:00:00Z to "
                                        "9999-12-31T23:59:59Z once in UTC, got " +
                                            *t);
            }
            return invalid(at(key), "expected an RFC 3339 time such as 2026-03-14T09:30:00Z");
        }
        return *parsed;
    }

private:
    tl::expected<std::string, rejection> text_of(const std::string& key, bool required,
                                                 bool line_breaks) const {
        const nlohmann::json* v = get(key);
        if (v == nullptr) {
            if (required) {
                return invalid(at(key), "required");
            }
            return std::string();
        }
        if (!v->is_string() || (required && v->get_ref<const std::string&>().empty()) ||
            v->get_ref<const std::string&>().size() > max_text_bytes) {
            return invalid(at(key), "expected a non-empty string of at most " +
                                        std::to_string(max_text_bytes) + " bytes");
        }
        if (!text_allowed(v->get_ref<const std::string&>(), required, line_breaks)) {
            return invalid(at(key), line_breaks ? "control characters other than line breaks"
                                                  " and tabs are not allowed"
                                                : "control characters are not allowed");
        }
        if (has_bidi_control(v->get_ref<const std::string&>())) {
            return invalid(at(key), bidi_control_problem);
        }
        return v->get<std::string>();
    }

    const nlohmann::json& j_;
    std::string path_;
    std::vector<std::string_view> allowed_;
};

#define LOYALTY_TRY(var, expr)                                                                     \
    auto var##_result = (expr);                                                                    \
    if (!var##_result) {                                                                           \
        return tl::unexpected(var##_result.error());                                               \
    }                                                                                              \
    auto var = std::move(*var##_result)

} // namespace loyalty::engine
