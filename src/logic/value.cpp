#include "loyalty/logic/value.hpp"

#include "loyalty/logic/js_number.hpp"
#include "loyalty/logic/js_string.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <type_traits>

namespace loyalty::logic {

struct value::list_rep {
    value_list items;
    std::size_t nesting = 1;
};

struct value::record_rep {
    value_members members;
    std::size_t nesting = 1;
};

namespace {

// A key looked up in a JSON object's std::map with the map's own order (std::string's: bytes
// compared as unsigned char, then length), compared inline: keys mostly differ in their first
// bytes, where a call to memcmp would cost more than the comparison.
struct key_probe {
    std::string_view text;
};

int compare_keys(std::string_view a, std::string_view b) noexcept {
    const std::size_t n = std::min(a.size(), b.size());
    std::size_t i = 0;
    // Eight bytes at a time: read big-endian, the words order as their bytes do.
    for (; i + 8 <= n; i += 8) {
        std::uint64_t wa = 0;
        std::uint64_t wb = 0;
        std::memcpy(&wa, a.data() + i, 8);
        std::memcpy(&wb, b.data() + i, 8);
        if (wa != wb) {
            if constexpr (std::endian::native == std::endian::little) {
                wa = __builtin_bswap64(wa);
                wb = __builtin_bswap64(wb);
            }
            return wa < wb ? -1 : 1;
        }
    }
    for (; i < n; ++i) {
        if (a[i] != b[i]) {
            return static_cast<unsigned char>(a[i]) < static_cast<unsigned char>(b[i]) ? -1 : 1;
        }
    }
    return a.size() < b.size() ? -1 : (a.size() > b.size() ? 1 : 0);
}

bool operator<(const std::string& key, key_probe probe) noexcept {
    return compare_keys(key, probe.text) < 0;
}

bool operator<(key_probe probe, const std::string& key) noexcept {
    return compare_keys(probe.text, key) < 0;
}

using object_map = nlohmann::json::object_t;
static_assert(std::is_same_v<object_map::key_compare, std::less<>>,
              "the object's map must accept key_probe (a transparent std::less<>)");

std::size_t nesting_of_items(const value_list& items) {
    std::size_t deepest = 0;
    for (const auto& item : items) {
        deepest = std::max(deepest, detail::value_access::owned_nesting(item));
    }
    return deepest + 1;
}

} // namespace

value value::string(std::string text) {
    auto owned = std::make_shared<const std::string>(std::move(text));
    value v;
    v.kind_ = value_kind::string;
    v.rep_ = rep::text;
    v.u_.text = owned.get();
    v.owner_ = std::move(owned);
    return v;
}

value value::array(value_list items) {
    auto owned = std::make_shared<list_rep>();
    owned->nesting = nesting_of_items(items);
    owned->items = std::move(items);
    value v;
    v.kind_ = value_kind::array;
    v.rep_ = rep::list;
    v.u_.list = owned.get();
    v.owner_ = std::move(owned);
    return v;
}

value value::object(value_members members) {
    auto owned = std::make_shared<record_rep>();
    std::size_t deepest = 0;
    for (const auto& m : members) {
        deepest = std::max(deepest, detail::value_access::owned_nesting(m.second));
    }
    owned->nesting = deepest + 1;
    owned->members = std::move(members);
    value v;
    v.kind_ = value_kind::object;
    v.rep_ = rep::record;
    v.u_.record = owned.get();
    v.owner_ = std::move(owned);
    return v;
}

std::size_t value::size() const noexcept {
    switch (rep_) {
    case rep::json:
        return (kind_ == value_kind::array || kind_ == value_kind::object) ? u_.json->size() : 0;
    case rep::list:
        return u_.list->items.size();
    case rep::record:
        return u_.record->members.size();
    default:
        return 0;
    }
}

value value::item(std::size_t index) const {
    if (rep_ == rep::list) {
        return u_.list->items[index];
    }
    return detail::value_access::borrow_part(*this, (*u_.json)[index], generation_);
}

value value::member(std::string_view key) const {
    if (kind_ != value_kind::object) {
        return {};
    }
    if (rep_ == rep::record) {
        for (const auto& m : u_.record->members) {
            if (m.first == key) {
                return m.second;
            }
        }
        return {};
    }
    const nlohmann::json* found = detail::value_access::json_member(*u_.json, key);
    if (found == nullptr) {
        return {};
    }
    return detail::value_access::borrow_part(*this, *found, 0);
}

value_members value::members() const {
    value_members out;
    if (kind_ != value_kind::object) {
        return out;
    }
    if (rep_ == rep::record) {
        return u_.record->members;
    }
    out.reserve(u_.json->size());
    for (auto it = u_.json->begin(); it != u_.json->end(); ++it) {
        value v = borrow(*it);
        v.from_rule_ = from_rule_;
        v.owner_ = owner_;
        out.emplace_back(it.key(), std::move(v));
    }
    return out;
}

bool value::identical(const value& other) const noexcept {
    if (kind_ != other.kind_ || rep_ != other.rep_) {
        return false;
    }
    switch (rep_) {
    case rep::json:
        return u_.json == other.u_.json && generation_ == other.generation_;
    case rep::list:
        return u_.list == other.u_.list;
    case rep::record:
        return u_.record == other.u_.record;
    default:
        return false;
    }
}

namespace detail {

const nlohmann::json* value_access::json_member(const nlohmann::json& object,
                                                std::string_view key) noexcept {
    const auto& members = *object.get_ptr<const object_map*>();
    auto found = members.find(key_probe{key});
    return found == members.end() ? nullptr : &found->second;
}

std::size_t value_access::owned_nesting(const value& v) noexcept {
    switch (v.rep_) {
    case value::rep::list:
        return v.u_.list->nesting;
    case value::rep::record:
        return v.u_.record->nesting;
    case value::rep::json:
        return (v.kind_ == value_kind::array || v.kind_ == value_kind::object) ? 1 : 0;
    default:
        return 0;
    }
}

value value_access::detach_from_rule(const value& v) {
    if (v.rep_ == value::rep::list) {
        bool any =
            std::any_of(v.u_.list->items.begin(), v.u_.list->items.end(), [](const value& item) {
                return item.from_rule_ || item.rep_ == value::rep::list ||
                       item.rep_ == value::rep::record;
            });
        if (!any) {
            return v;
        }
        value_list items;
        items.reserve(v.u_.list->items.size());
        for (const auto& item : v.u_.list->items) {
            items.push_back(detach_from_rule(item));
        }
        return value::array(std::move(items));
    }
    if (v.rep_ == value::rep::record) {
        value_members members;
        members.reserve(v.u_.record->members.size());
        for (const auto& m : v.u_.record->members) {
            members.emplace_back(m.first, detach_from_rule(m.second));
        }
        return value::object(std::move(members));
    }
    if (!v.from_rule_ || v.rep_ != value::rep::json) {
        return v;
    }
    // Compile bounded the nesting of the rule's literals, so this copy is shallow enough.
    auto copy = std::make_shared<const nlohmann::json>(*v.u_.json);
    value out = value::borrow(*copy);
    out.owner_ = std::move(copy);
    return out;
}

} // namespace detail

namespace {

// Replaces what is not well-formed UTF-8 (stray bytes, lone surrogates) with U+FFFD.
std::string well_formed(std::string_view text) {
    std::u16string units = to_utf16(text);
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < units.size(); ++i) {
        char32_t cp = units[i];
        if (cp >= 0xD800 && cp <= 0xDBFF && i + 1 < units.size() && units[i + 1] >= 0xDC00 &&
            units[i + 1] <= 0xDFFF) {
            cp = 0x10000 + ((cp - 0xD800) << 10) + (units[i + 1] - 0xDC00);
            ++i;
        } else if (cp >= 0xD800 && cp <= 0xDFFF) {
            cp = 0xFFFD;
        }
        append_utf8(out, cp);
    }
    return out;
}

bool is_plain_utf8(std::string_view text) {
    // Fast path: ASCII needs no repair.
    return std::all_of(text.begin(), text.end(),
                       [](char c) { return static_cast<unsigned char>(c) < 0x80; });
}

nlohmann::json number_to_json(double d) {
    if (!std::isfinite(d)) {
        return nullptr;
    }
    if (d == std::trunc(d)) {
        if (d >= -9223372036854775808.0 && d < 9223372036854775808.0) {
            return static_cast<std::int64_t>(d);
        }
        if (d >= 0 && d < 18446744073709551616.0) {
            return static_cast<std::uint64_t>(d);
        }
    }
    return d;
}

nlohmann::json to_json_at(const value& v, std::size_t depth) {
    switch (v.kind()) {
    case value_kind::undefined:
    case value_kind::null:
        return nullptr;
    case value_kind::boolean:
        return v.as_boolean();
    case value_kind::number:
        return number_to_json(v.as_number());
    case value_kind::string: {
        std::string_view s = v.as_string();
        return is_plain_utf8(s) ? std::string(s) : well_formed(s);
    }
    case value_kind::array: {
        nlohmann::json out = nlohmann::json::array();
        if (depth >= max_value_nesting) {
            return nullptr;
        }
        for (std::size_t i = 0; i < v.size(); ++i) {
            out.push_back(to_json_at(v.item(i), depth + 1));
        }
        return out;
    }
    case value_kind::object: {
        nlohmann::json out = nlohmann::json::object();
        if (depth >= max_value_nesting) {
            return nullptr;
        }
        for (const auto& [key, member] : v.members()) {
            if (!member.is_undefined()) {
                out[is_plain_utf8(key) ? key : well_formed(key)] = to_json_at(member, depth + 1);
            }
        }
        return out;
    }
    }
    return nullptr;
}

void append_hex4(std::string& out, unsigned unit) {
    static constexpr char hex[] = "0123456789abcdef";
    out += "\\u";
    out += hex[(unit >> 12) & 0xF];
    out += hex[(unit >> 8) & 0xF];
    out += hex[(unit >> 4) & 0xF];
    out += hex[unit & 0xF];
}

} // namespace

void append_json_ascii(std::string& out, char c) {
    switch (c) {
    case '"':
        out += "\\\"";
        break;
    case '\\':
        out += "\\\\";
        break;
    case '\b':
        out += "\\b";
        break;
    case '\f':
        out += "\\f";
        break;
    case '\n':
        out += "\\n";
        break;
    case '\r':
        out += "\\r";
        break;
    case '\t':
        out += "\\t";
        break;
    default:
        if (static_cast<unsigned char>(c) < 0x20) {
            append_hex4(out, static_cast<unsigned char>(c));
        } else {
            out += c;
        }
    }
}

namespace {

// JSON.stringify's quoting: the short escapes, \u00XX for other controls, \uXXXX for lone
// surrogates; everything else as is (stray bytes become U+FFFD).
void append_json_string(std::string& out, std::string_view text) {
    out += '"';
    if (!is_plain_utf8(text)) {
        std::u16string units = to_utf16(text);
        // Lone surrogates must be escaped; find them on the unit sequence.
        for (std::size_t i = 0; i < units.size(); ++i) {
            char16_t u = units[i];
            bool high = u >= 0xD800 && u <= 0xDBFF;
            bool low = u >= 0xDC00 && u <= 0xDFFF;
            if (high && i + 1 < units.size() && units[i + 1] >= 0xDC00 && units[i + 1] <= 0xDFFF) {
                append_utf8(out, 0x10000 + ((u - 0xD800) << 10) + (units[i + 1] - 0xDC00));
                ++i;
            } else if (high || low) {
                append_hex4(out, u);
            } else if (u < 0x80) {
                append_json_ascii(out, static_cast<char>(u));
            } else {
                append_utf8(out, u);
            }
        }
        out += '"';
        return;
    }
    for (char c : text) {
        append_json_ascii(out, c);
    }
    out += '"';
}

void stringify_at(std::string& out, const value& v, std::size_t depth) {
    switch (v.kind()) {
    case value_kind::undefined:
    case value_kind::null:
        out += "null";
        return;
    case value_kind::boolean:
        out += v.as_boolean() ? "true" : "false";
        return;
    case value_kind::number: {
        double d = v.as_number();
        out += std::isfinite(d) ? js_number_to_string(d) : "null";
        return;
    }
    case value_kind::string:
        append_json_string(out, v.as_string());
        return;
    case value_kind::array:
        if (depth >= max_value_nesting) {
            out += "null";
            return;
        }
        out += '[';
        for (std::size_t i = 0; i < v.size(); ++i) {
            if (i != 0) {
                out += ',';
            }
            stringify_at(out, v.item(i), depth + 1);
        }
        out += ']';
        return;
    case value_kind::object: {
        if (depth >= max_value_nesting) {
            out += "null";
            return;
        }
        out += '{';
        bool first = true;
        for (const auto& [key, member] : v.members()) {
            if (member.is_undefined()) {
                continue;
            }
            if (!first) {
                out += ',';
            }
            first = false;
            append_json_string(out, key);
            out += ':';
            stringify_at(out, member, depth + 1);
        }
        out += '}';
        return;
    }
    }
}

void append_canonical_string(std::string& out, std::string_view text) {
    out += '"';
    for (char16_t u : to_utf16(text)) {
        if (u == '"') {
            out += "\\\"";
        } else if (u == '\\') {
            out += "\\\\";
        } else if (u >= 0x20 && u <= 0x7E) {
            out += static_cast<char>(u);
        } else {
            append_hex4(out, u);
        }
    }
    out += '"';
}

void canonical_at(std::string& out, const value& v, std::size_t depth) {
    switch (v.kind()) {
    case value_kind::undefined:
        out += "undefined";
        return;
    case value_kind::null:
        out += "null";
        return;
    case value_kind::boolean:
        out += v.as_boolean() ? "true" : "false";
        return;
    case value_kind::number: {
        double d = v.as_number();
        out += "n:";
        out += (d == 0 && std::signbit(d)) ? "-0" : js_number_to_string(d);
        return;
    }
    case value_kind::string:
        append_canonical_string(out, v.as_string());
        return;
    case value_kind::array:
        if (depth >= max_value_nesting) {
            out += "...";
            return;
        }
        out += '[';
        for (std::size_t i = 0; i < v.size(); ++i) {
            if (i != 0) {
                out += ',';
            }
            canonical_at(out, v.item(i), depth + 1);
        }
        out += ']';
        return;
    case value_kind::object: {
        if (depth >= max_value_nesting) {
            out += "...";
            return;
        }
        std::vector<std::pair<std::string, std::string>> encoded;
        for (const auto& [key, member] : v.members()) {
            std::string k;
            append_canonical_string(k, key);
            std::string m;
            canonical_at(m, member, depth + 1);
            encoded.emplace_back(std::move(k), std::move(m));
        }
        std::sort(encoded.begin(), encoded.end());
        out += '{';
        for (std::size_t i = 0; i < encoded.size(); ++i) {
            if (i != 0) {
                out += ',';
            }
            out += encoded[i].first;
            out += ':';
            out += encoded[i].second;
        }
        out += '}';
        return;
    }
    }
}

} // namespace

nlohmann::json to_json(const value& v) {
    return to_json_at(v, 0);
}

std::string stringify(const value& v) {
    std::string out;
    stringify_at(out, v, 0);
    return out;
}

std::string canonical_encoding(const value& v) {
    std::string out;
    canonical_at(out, v, 0);
    return out;
}

} // namespace loyalty::logic
