#include "loyalty/engine/purchase_fast_path.hpp"

#include "loyalty/engine/event_json.hpp"
#include "loyalty/engine/json_fields.hpp"

#include <cstdint>
#include <simdjson.h>

namespace loyalty::engine {

namespace {

namespace od = simdjson::ondemand;

// Bytes this path leaves to purchase_from_json: escapes and UTF-8 (whose rules the two parsers
// might read differently at the edges), and controls, which JSON allows only as escapes.
bool plain_ascii(std::string_view text) {
    for (unsigned char c : text) {
        if (c >= 0x7f || c == '\\' ||
            (c < 0x20 && c != ' ' && c != '\t' && c != '\n' && c != '\r')) {
            return false;
        }
    }
    return true;
}

bool read_text(od::value v, std::string& out, bool required) {
    std::string_view s;
    if (v.get_string().get(s) || !text_allowed(s, required, false)) {
        return false; // null, another type, or out of limits: purchase_from_json says which
    }
    out.assign(s);
    return true;
}

bool read_integer(od::value v, std::int64_t min, std::int64_t max, std::int64_t& out) {
    std::int64_t n = 0;
    if (v.get_int64().get(n) || n < min || n > max) {
        return false;
    }
    out = n;
    return true;
}

// Each field at most once: nlohmann keeps the last of repeated keys, this path declines them.
class seen_fields {
public:
    bool first(unsigned bit) {
        if ((mask_ & (1u << bit)) != 0) {
            return false;
        }
        mask_ |= 1u << bit;
        return true;
    }
    bool has(unsigned bit) const { return (mask_ & (1u << bit)) != 0; }

private:
    unsigned mask_ = 0;
};

bool read_tags(od::value v, std::vector<std::string>& tags) {
    od::array list;
    if (v.get_array().get(list)) {
        return false;
    }
    for (auto item : list) {
        std::string_view tag;
        if (item.get_string().get(tag) || tags.size() == purchase_limits::max_tags ||
            !text_allowed(tag, true, false)) {
            return false; // purchase_from_json names the tag it refuses
        }
        tags.emplace_back(tag);
    }
    return true;
}

// Calls `field_reader(key, value)` for each field of `object`, in the text's order; false at the
// first field that cannot be read or that `field_reader` refuses.
template <class FieldReader>
bool read_fields(od::object object, FieldReader field_reader) {
    for (auto field : object) {
        std::string_view key;
        od::value value;
        if (field.unescaped_key().get(key) || field.value().get(value) ||
            !field_reader(key, value)) {
            return false;
        }
    }
    return true;
}

bool read_line(od::value v, purchase_line& line) {
    enum : unsigned { line_id, sku, category, quantity, unit_price, discount, tags };
    od::object object;
    if (v.get_object().get(object)) {
        return false;
    }
    seen_fields seen;
    bool all_read = read_fields(object, [&](std::string_view key, od::value value) {
        bool ok = false;
        if (key == "line_id") {
            ok = seen.first(line_id) && read_text(value, line.line_id, true);
        } else if (key == "sku") {
            ok = seen.first(sku) && read_text(value, line.sku, false);
        } else if (key == "category") {
            ok = seen.first(category) && read_text(value, line.category, false);
        } else if (key == "quantity") {
            ok = seen.first(quantity) && read_integer(value, purchase_limits::min_quantity,
                                                      purchase_limits::max_quantity, line.quantity);
        } else if (key == "unit_price") {
            ok = seen.first(unit_price) &&
                 read_integer(value, 0, purchase_limits::max_unit_price, line.unit_price);
        } else if (key == "discount") {
            ok = seen.first(discount) &&
                 read_integer(value, 0, purchase_limits::max_discount, line.discount);
        } else if (key == "tags") {
            ok = seen.first(tags) && read_tags(value, line.tags);
        }
        return ok;
    });
    return all_read && seen.has(line_id) && seen.has(quantity) && seen.has(unit_price);
}

bool read_lines(od::value v, std::vector<purchase_line>& lines, std::size_t max_lines) {
    od::array list;
    if (v.get_array().get(list)) {
        return false;
    }
    for (auto item : list) {
        od::value line_value;
        if (item.get(line_value) || lines.size() == max_lines) {
            return false;
        }
        purchase_line line;
        if (!read_line(line_value, line)) {
            return false;
        }
        lines.push_back(std::move(line));
    }
    return true;
}

bool read_purchase(od::object object, purchase& p, std::size_t max_lines) {
    enum : unsigned { transaction_id, member_id, store_id, channel, occurred_at, currency, lines };
    seen_fields seen;
    bool all_read = read_fields(object, [&](std::string_view key, od::value value) {
        bool ok = false;
        if (key == "transaction_id") {
            ok = seen.first(transaction_id) && read_text(value, p.transaction_id, true);
        } else if (key == "member_id") {
            ok = seen.first(member_id) && read_text(value, p.member_id, true);
        } else if (key == "store_id") {
            ok = seen.first(store_id) && read_text(value, p.store_id, true);
        } else if (key == "channel") {
            ok = seen.first(channel) && read_text(value, p.channel, false);
        } else if (key == "occurred_at") {
            std::string_view s;
            std::optional<timestamp> t;
            ok = seen.first(occurred_at) && !value.get_string().get(s) &&
                 text_allowed(s, true, false) && (t = parse_rfc3339(s)).has_value();
            if (ok) {
                p.occurred_at = *t;
            }
        } else if (key == "currency") {
            ok = seen.first(currency) && read_text(value, p.currency, true);
        } else if (key == "lines") {
            ok = seen.first(lines) && read_lines(value, p.lines, max_lines);
        }
        return ok;
    });
    return all_read && seen.has(transaction_id) && seen.has(member_id) && seen.has(store_id) &&
           seen.has(occurred_at) && seen.has(currency) && seen.has(lines);
}

} // namespace

std::optional<purchase> read_purchase_fast(std::string_view text, std::size_t max_lines) {
    if (!plain_ascii(text)) {
        return std::nullopt;
    }
    // simdjson reads up to SIMDJSON_PADDING bytes past the text; a copy carries them.
    simdjson::padded_string padded(text);
    od::parser parser;
    od::document doc;
    od::object object;
    if (parser.iterate(padded).get(doc) || doc.get_object().get(object)) {
        return std::nullopt;
    }
    purchase p;
    // Past the object's end, nothing: the document has no location left (simdjson 3.0 has no
    // document::at_end()).
    if (!read_purchase(object, p, max_lines) ||
        doc.current_location().error() != simdjson::OUT_OF_BOUNDS) {
        return std::nullopt;
    }
    return p;
}

} // namespace loyalty::engine
