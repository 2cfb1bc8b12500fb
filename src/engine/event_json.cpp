#include "loyalty/engine/event_json.hpp"

#include <set>
#include <sstream>

namespace loyalty::engine {

namespace {

using nlohmann::json;

tl::unexpected<rejection> invalid(std::string field, std::string message) {
    return tl::unexpected(
        rejection{rejection_code::invalid_event, std::move(field), std::move(message)});
}

// Reads an object's fields by name, refusing unknown ones.
class fields {
public:
    fields(const json& j, std::string path, std::set<std::string> allowed)
        : j_(j), path_(std::move(path)), allowed_(std::move(allowed)) {}

    std::optional<rejection> check() const {
        if (!j_.is_object()) {
            return rejection{rejection_code::invalid_event, path_, "expected an object"};
        }
        for (const auto& [key, value] : j_.items()) {
            if (!allowed_.contains(key)) {
                return rejection{rejection_code::invalid_event, at(key), "unknown field"};
            }
        }
        return std::nullopt;
    }
    std::string at(const std::string& key) const { return path_.empty() ? key : path_ + "." + key; }
    const json* get(const std::string& key) const {
        auto it = j_.find(key);
        return it == j_.end() || it->is_null() ? nullptr : &*it;
    }

    tl::expected<std::string, rejection> text(const std::string& key, bool required = true) const {
        const json* v = get(key);
        if (v == nullptr) {
            if (required) {
                return invalid(at(key), "required");
            }
            return std::string();
        }
        if (!v->is_string() || (required && v->get_ref<const std::string&>().empty()) ||
            v->get_ref<const std::string&>().size() > 256) {
            return invalid(at(key), "expected a non-empty string of at most 256 bytes");
        }
        return v->get<std::string>();
    }
    tl::expected<std::int64_t, rejection>
    integer(const std::string& key, std::int64_t min, std::int64_t max,
            std::optional<std::int64_t> fallback = std::nullopt) const {
        const json* v = get(key);
        if (v == nullptr) {
            if (fallback) {
                return *fallback;
            }
            return invalid(at(key), "required");
        }
        if (!v->is_number_integer() ||
            (v->is_number_unsigned() && v->get<std::uint64_t>() > INT64_MAX)) {
            return invalid(at(key), "expected a whole number (minor units or points)");
        }
        auto n = v->get<std::int64_t>();
        if (n < min || n > max) {
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
            return invalid(at(key), "expected an RFC 3339 time such as 2026-03-14T09:30:00Z");
        }
        return *parsed;
    }

private:
    const json& j_;
    std::string path_;
    std::set<std::string> allowed_;
};

#define LOYALTY_TRY(var, expr)                                                                     \
    auto var##_result = (expr);                                                                    \
    if (!var##_result) {                                                                           \
        return tl::unexpected(var##_result.error());                                               \
    }                                                                                              \
    auto var = std::move(*var##_result)

tl::expected<std::vector<std::string>, rejection> strings(const json* v, const std::string& path) {
    std::vector<std::string> out;
    if (v == nullptr) {
        return out;
    }
    if (!v->is_array() || v->size() > 64) {
        return invalid(path, "expected a list of at most 64 strings");
    }
    for (std::size_t i = 0; i < v->size(); ++i) {
        if (!(*v)[i].is_string()) {
            return invalid(path + "[" + std::to_string(i) + "]", "expected a string");
        }
        out.push_back((*v)[i].get<std::string>());
    }
    return out;
}

} // namespace

std::optional<timestamp> parse_rfc3339(std::string_view text) {
    std::istringstream in{std::string(text)};
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
        LOYALTY_TRY(quantity, l.integer("quantity", 1, 1'000'000));
        LOYALTY_TRY(unit_price, l.integer("unit_price", 0, 10'000'000'000));
        LOYALTY_TRY(discount, l.integer("discount", 0, 10'000'000'000'000, 0));
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
        std::istringstream in{b->is_string() ? b->get<std::string>() : std::string()};
        date::year_month_day ymd{};
        in >> date::parse("%F", ymd);
        if (in.fail() || !ymd.ok()) {
            return invalid("birthday", "expected a date YYYY-MM-DD");
        }
        m.birthday = ymd;
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
