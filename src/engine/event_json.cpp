#include "loyalty/engine/event_json.hpp"

#include "loyalty/engine/json_fields.hpp"

#include <set>

namespace loyalty::engine {

namespace {

using nlohmann::json;
using fields = json_fields;

tl::expected<std::vector<std::string>, rejection> strings(const json* v, const std::string& path) {
    std::vector<std::string> out;
    if (v == nullptr) {
        return out;
    }
    if (!v->is_array() || v->size() > purchase_limits::max_tags) {
        return invalid(path, "expected a list of at most " +
                                 std::to_string(purchase_limits::max_tags) + " strings");
    }
    for (std::size_t i = 0; i < v->size(); ++i) {
        std::string item = path + "[" + std::to_string(i) + "]";
        if (!(*v)[i].is_string()) {
            return invalid(item, "expected a string");
        }
        // Each one a text field like any other (docs/security.md): rules compare tags, logs and
        // the console show them.
        const auto& tag = (*v)[i].get_ref<const std::string&>();
        if (tag.empty() || tag.size() > max_text_bytes) {
            return invalid(item, "expected a non-empty string of at most " +
                                     std::to_string(max_text_bytes) + " bytes");
        }
        if (!text_allowed(tag, true, false)) {
            return invalid(item, "control characters are not allowed");
        }
        out.push_back(tag);
    }
    return out;
}

// The number written with exactly `digits` decimal digits from `at`, or -1 when one is not a
// digit: the fields of a date and a time.
int fixed_width_number(std::string_view t, std::size_t at, std::size_t digits) {
    int value = 0;
    for (std::size_t i = at; i < at + digits; ++i) {
        if (t[i] < '0' || t[i] > '9') {
            return -1;
        }
        value = value * 10 + (t[i] - '0');
    }
    return value;
}

} // namespace

// RFC 3339 to the second (docs/api.md), read by hand: "YYYY-MM-DDTHH:MM:SSZ" or with an offset
// "+HH:MM" / "-HH:MM". Loading a member parses a dozen times, and date::parse both builds a
// locale-aware stream each time and overflows on some malformed offsets
// (tests/fuzz/regressions/requests/rfc3339-*), so it never sees untrusted text.
std::optional<timestamp> parse_rfc3339_unbounded(std::string_view t) {
    if (t.size() < 20) {
        return std::nullopt;
    }
    // After the seconds: a fraction (tills send one: JavaScript's toISOString writes
    // milliseconds), dropped as times are kept to the second, then Z or an offset. RFC 3339
    // (5.6) allows a lowercase t and z.
    std::string_view zone = t.substr(19);
    if (zone.front() == '.') {
        std::size_t digits = 1;
        while (digits < zone.size() && zone[digits] >= '0' && zone[digits] <= '9') {
            ++digits;
        }
        if (digits == 1 || digits > 10) { // one to nine digits: to the nanosecond
            return std::nullopt;
        }
        zone.remove_prefix(digits);
    }
    if (zone.size() != 1 && zone.size() != 6) {
        return std::nullopt;
    }
    if (t[4] != '-' || t[7] != '-' || (t[10] != 'T' && t[10] != 't') || t[13] != ':' ||
        t[16] != ':') {
        return std::nullopt;
    }
    auto number = [&](std::string_view text, std::size_t at, std::size_t digits) {
        return fixed_width_number(text, at, digits);
    };
    int year = number(t, 0, 4), month = number(t, 5, 2), day = number(t, 8, 2);
    int hour = number(t, 11, 2), minute = number(t, 14, 2), second = number(t, 17, 2);
    if (year < 0 || month < 1 || day < 1 || hour < 0 || hour > 23 || minute < 0 || minute > 59 ||
        second < 0 || second > 59) {
        return std::nullopt;
    }
    std::chrono::minutes offset{0};
    if (zone.size() == 1) {
        if (zone[0] != 'Z' && zone[0] != 'z') {
            return std::nullopt;
        }
    } else {
        int offset_hours = number(zone, 1, 2), offset_minutes = number(zone, 4, 2);
        if ((zone[0] != '+' && zone[0] != '-') || zone[3] != ':' || offset_hours < 0 ||
            offset_hours > 23 || offset_minutes < 0 || offset_minutes > 59) {
            return std::nullopt;
        }
        offset = std::chrono::hours{offset_hours} + std::chrono::minutes{offset_minutes};
        if (zone[0] == '-') {
            offset = -offset;
        }
    }
    date::year_month_day ymd{date::year{year}, date::month{static_cast<unsigned>(month)},
                             date::day{static_cast<unsigned>(day)}};
    if (!ymd.ok()) {
        return std::nullopt;
    }
    return date::sys_days{ymd} + std::chrono::hours{hour} + std::chrono::minutes{minute} +
           std::chrono::seconds{second} - offset;
}

// RFC 3339's full-date, exactly: four digits of year, two of month and two of day, a day the
// calendar has. date::parse("%F") also took "1990-6-5", signed years and years of any width.
std::optional<date::year_month_day> parse_full_date(std::string_view t) {
    if (t.size() != 10 || t[4] != '-' || t[7] != '-') {
        return std::nullopt;
    }
    auto number = [&](std::size_t at, std::size_t digits) {
        return fixed_width_number(t, at, digits);
    };
    int year = number(0, 4), month = number(5, 2), day = number(8, 2);
    if (year < 1 || month < 1 || day < 1) { // year 0 is before every time kept
        return std::nullopt;
    }
    date::year_month_day ymd{date::year{year}, date::month{static_cast<unsigned>(month)},
                             date::day{static_cast<unsigned>(day)}};
    if (!ymd.ok()) {
        return std::nullopt;
    }
    return ymd;
}

// Every reader of a time refuses one outside the range: stored, it would be written with a
// year RFC 3339 cannot hold and never read back.
std::optional<timestamp> parse_rfc3339(std::string_view t) {
    auto parsed = parse_rfc3339_unbounded(t);
    if (!parsed || *parsed < earliest_time || *parsed > latest_time) {
        return std::nullopt;
    }
    return parsed;
}

tl::expected<purchase, rejection> purchase_from_json(const json& j) {
    fields f(
        j, "",
        {"transaction_id", "member_id", "store_id", "channel", "occurred_at", "currency", "lines"});
    if (auto bad = f.check()) {
        return tl::unexpected(*bad);
    }
    purchase p;
    LOYALTY_TRY(transaction_id, f.text("transaction_id"));
    LOYALTY_TRY(member_id, f.text("member_id"));
    LOYALTY_TRY(store_id, f.text("store_id"));
    LOYALTY_TRY(channel, f.text("channel", false));
    LOYALTY_TRY(occurred_at, f.time("occurred_at"));
    LOYALTY_TRY(currency, f.text("currency"));
    p.transaction_id = transaction_id;
    p.member_id = member_id;
    p.store_id = store_id;
    p.channel = channel;
    p.occurred_at = occurred_at;
    p.currency = currency;
    const json* lines = f.get("lines");
    if (lines == nullptr || !lines->is_array()) {
        return invalid("lines", "expected a list of lines");
    }
    for (std::size_t i = 0; i < lines->size(); ++i) {
        std::string path = "lines[" + std::to_string(i) + "]";
        fields l((*lines)[i], path,
                 {"line_id", "sku", "category", "quantity", "unit_price", "discount", "tags"});
        if (auto bad = l.check()) {
            return tl::unexpected(*bad);
        }
        purchase_line line;
        LOYALTY_TRY(line_id, l.text("line_id"));
        LOYALTY_TRY(sku, l.text("sku", false));
        LOYALTY_TRY(category, l.text("category", false));
        LOYALTY_TRY(quantity, l.integer("quantity", purchase_limits::min_quantity,
                                        purchase_limits::max_quantity));
        LOYALTY_TRY(unit_price, l.integer("unit_price", 0, purchase_limits::max_unit_price));
        LOYALTY_TRY(discount, l.integer("discount", 0, purchase_limits::max_discount, 0));
        LOYALTY_TRY(tags, strings(l.get("tags"), path + ".tags"));
        line.line_id = line_id;
        line.sku = sku;
        line.category = category;
        line.quantity = quantity;
        line.unit_price = unit_price;
        line.discount = discount;
        line.tags = tags;
        p.lines.push_back(std::move(line));
    }
    return p;
}

tl::expected<purchase_return, rejection> return_from_json(const json& j,
                                                          std::string transaction_id) {
    fields f(j, "", {"return_id", "store_id", "lines"});
    if (auto bad = f.check()) {
        return tl::unexpected(*bad);
    }
    LOYALTY_TRY(return_id, f.text("return_id"));
    LOYALTY_TRY(store_id, f.text("store_id"));
    purchase_return r{return_id, std::move(transaction_id), store_id, timestamp{}, {}};
    if (const json* lines = f.get("lines")) {
        if (!lines->is_array()) {
            return invalid("lines", "expected a list of {line_id, quantity}");
        }
        // Returning nothing is no return; an empty list is not "everything" either, which only
        // leaving `lines` out says.
        if (lines->empty()) {
            return invalid("lines",
                           "expected at least one line; leave lines out to return everything");
        }
        for (std::size_t i = 0; i < lines->size(); ++i) {
            fields l((*lines)[i], "lines[" + std::to_string(i) + "]", {"line_id", "quantity"});
            if (auto bad = l.check()) {
                return tl::unexpected(*bad);
            }
            LOYALTY_TRY(line_id, l.text("line_id"));
            LOYALTY_TRY(quantity, l.integer("quantity", 1, 1'000'000));
            r.lines.push_back({line_id, quantity});
        }
    }
    return r;
}

tl::expected<custom_event, rejection> custom_event_from_json(const json& j) {
    fields f(j, "", {"event_id", "type", "occurred_at", "attributes"});
    if (auto bad = f.check()) {
        return tl::unexpected(*bad);
    }
    LOYALTY_TRY(event_id, f.text("event_id"));
    LOYALTY_TRY(type, f.text("type"));
    LOYALTY_TRY(occurred_at, f.time("occurred_at"));
    custom_event e{event_id, type, occurred_at, json::object()};
    if (const json* attributes = f.get("attributes")) {
        if (!attributes->is_object()) {
            return invalid("attributes", "expected an object");
        }
        e.attributes = *attributes;
    }
    return e;
}

tl::expected<std::variant<reward_redemption, points_payment>, rejection>
redemption_from_json(const json& j) {
    fields f(
        j, "",
        {"redemption_id", "reward_id", "points", "transaction_id", "purchase_total", "store_id"});
    if (auto bad = f.check()) {
        return tl::unexpected(*bad);
    }
    LOYALTY_TRY(redemption_id, f.text("redemption_id"));
    if (f.get("reward_id") != nullptr) {
        for (const char* other : {"points", "transaction_id", "purchase_total", "store_id"}) {
            if (f.get(other) != nullptr) {
                return invalid(other, "a reward redemption takes no " + std::string(other));
            }
        }
        LOYALTY_TRY(reward_id, f.text("reward_id"));
        return reward_redemption{redemption_id, reward_id, timestamp{}};
    }
    if (f.get("points") == nullptr) {
        return invalid("reward_id", "expected a reward_id, or points and a transaction_id");
    }
    LOYALTY_TRY(points, f.integer("points", 1, 1'000'000'000'000));
    LOYALTY_TRY(transaction_id, f.text("transaction_id"));
    // Without a total, the ledger takes it from the posted purchase (0 says so).
    LOYALTY_TRY(total, f.integer("purchase_total", 1, 10'000'000'000'000, 0));
    LOYALTY_TRY(store_id, f.text("store_id", false));
    return points_payment{redemption_id, transaction_id, points, total, timestamp{}, store_id};
}

tl::expected<adjustment, rejection> adjustment_from_json(const json& j) {
    fields f(j, "", {"adjustment_id", "points", "reason", "note"});
    if (auto bad = f.check()) {
        return tl::unexpected(*bad);
    }
    LOYALTY_TRY(adjustment_id, f.text("adjustment_id"));
    LOYALTY_TRY(points, f.integer("points", -1'000'000'000'000, 1'000'000'000'000));
    if (points == 0) {
        return invalid("points", "an adjustment of 0 changes nothing");
    }
    LOYALTY_TRY(reason, f.text("reason"));
    LOYALTY_TRY(note, f.prose("note", false));
    return adjustment{adjustment_id, points, reason, note, "", timestamp{}};
}

tl::expected<member_state, rejection> member_from_json(const json& j) {
    fields f(j, "",
             {"id", "enrolled_at", "birthday", "referred_by", "tier", "lots", "metric", "lifetime",
              "usage"});
    if (auto bad = f.check()) {
        return tl::unexpected(*bad);
    }
    member_state m;
    LOYALTY_TRY(id, f.text("id"));
    LOYALTY_TRY(enrolled_at, f.time("enrolled_at"));
    m.id = id;
    m.enrolled_at = enrolled_at;
    m.tier.since = enrolled_at;
    m.last_activity = enrolled_at;
    if (const json* b = f.get("birthday")) {
        auto ymd =
            b->is_string() ? parse_full_date(b->get_ref<const std::string&>()) : std::nullopt;
        if (!ymd) {
            return invalid("birthday", "expected a date YYYY-MM-DD");
        }
        m.birthday = *ymd;
    }
    LOYALTY_TRY(referred_by, f.text("referred_by", false));
    if (!referred_by.empty()) {
        m.referred_by = referred_by;
    }
    if (const json* t = f.get("tier")) {
        fields tf(*t, "tier", {"id", "since", "valid_until"});
        if (auto bad = tf.check()) {
            return tl::unexpected(*bad);
        }
        LOYALTY_TRY(tier_id, tf.text("id"));
        m.tier.tier = tier_id;
        if (tf.get("since")) {
            LOYALTY_TRY(since, tf.time("since"));
            m.tier.since = since;
        }
        if (tf.get("valid_until")) {
            LOYALTY_TRY(until, tf.time("valid_until"));
            m.tier.valid_until = until;
        }
    }
    if (const json* lots = f.get("lots")) {
        if (!lots->is_array()) {
            return invalid("lots", "expected a list");
        }
        for (std::size_t i = 0; i < lots->size(); ++i) {
            std::string path = "lots[" + std::to_string(i) + "]";
            fields lf((*lots)[i], path,
                      {"points", "remaining", "earned_at", "available_at", "expires_at", "cause",
                       "qualifying"});
            if (auto bad = lf.check()) {
                return tl::unexpected(*bad);
            }
            lot l;
            l.id = m.next_lot_id++;
            LOYALTY_TRY(points, lf.integer("points", 1, 1'000'000'000'000));
            LOYALTY_TRY(remaining, lf.integer("remaining", 0, points, points));
            LOYALTY_TRY(earned_at, lf.time("earned_at"));
            l.earned = points;
            l.remaining = remaining;
            l.earned_at = earned_at;
            l.available_at = earned_at;
            if (lf.get("available_at")) {
                LOYALTY_TRY(available_at, lf.time("available_at"));
                l.available_at = available_at;
            }
            if (lf.get("expires_at")) {
                LOYALTY_TRY(expires_at, lf.time("expires_at"));
                l.expires_at = expires_at;
            }
            LOYALTY_TRY(cause, lf.text("cause", false));
            l.cause = cause.empty() ? "imported" : cause;
            const json* q = lf.get("qualifying");
            l.qualifying = q != nullptr && q->is_boolean() && q->get<bool>();
            m.lots.push_back(l);
        }
    }
    if (const json* metric = f.get("metric")) {
        if (!metric->is_array()) {
            return invalid("metric", "expected a list of {at, amount}");
        }
        for (std::size_t i = 0; i < metric->size(); ++i) {
            fields mf((*metric)[i], "metric[" + std::to_string(i) + "]", {"at", "amount", "cause"});
            if (auto bad = mf.check()) {
                return tl::unexpected(*bad);
            }
            LOYALTY_TRY(at, mf.time("at"));
            LOYALTY_TRY(amount, mf.integer("amount", -1'000'000'000'000, 1'000'000'000'000));
            m.metric.push_back({at, amount, "imported"});
        }
    }
    if (const json* lifetime = f.get("lifetime")) {
        fields lf(*lifetime, "lifetime", {"purchases", "spend", "points"});
        if (auto bad = lf.check()) {
            return tl::unexpected(*bad);
        }
        LOYALTY_TRY(purchases, lf.integer("purchases", 0, 1'000'000'000, 0));
        LOYALTY_TRY(spend, lf.integer("spend", 0, 1'000'000'000'000'000, 0));
        LOYALTY_TRY(points, lf.integer("points", 0, 1'000'000'000'000'000, 0));
        m.lifetime_purchases = purchases;
        m.lifetime_spend = spend;
        m.lifetime_points = points;
    }
    if (const json* usage = f.get("usage")) {
        if (!usage->is_array()) {
            return invalid("usage", "expected a list of {rule, at, points}");
        }
        for (std::size_t i = 0; i < usage->size(); ++i) {
            fields uf((*usage)[i], "usage[" + std::to_string(i) + "]", {"rule", "at", "points"});
            if (auto bad = uf.check()) {
                return tl::unexpected(*bad);
            }
            LOYALTY_TRY(rule, uf.text("rule"));
            LOYALTY_TRY(at, uf.time("at"));
            LOYALTY_TRY(points, uf.integer("points", 0, 1'000'000'000, 0));
            m.usage.push_back({rule, at, 1, points});
        }
    }
    return m;
}

} // namespace loyalty::engine
