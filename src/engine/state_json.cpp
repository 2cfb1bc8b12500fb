#include "loyalty/engine/state_json.hpp"

#include "loyalty/engine/event_json.hpp"
#include "loyalty/engine/json_writer.hpp"
#include "loyalty/engine/local_time.hpp"

#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace loyalty::engine {

namespace {

using nlohmann::json;

// Readers throw this on the first bad field; the public from_json functions catch it and return
// its message, so it never leaves this file.
struct format_error {
    std::string message;
};

[[noreturn]] void fail(const std::string& path, const std::string& message) {
    throw format_error{path.empty() ? message : path + ": " + message};
}

std::string field_path(const std::string& path, std::string_view key) {
    return path.empty() ? std::string(key) : path + "." + std::string(key);
}

std::string item_path(const std::string& path, std::size_t i) {
    return path + "[" + std::to_string(i) + "]";
}

// Writing.

json time_json(timestamp t) {
    return format_rfc3339(t);
}

json times_json(const std::vector<timestamp>& times) {
    json out = json::array();
    for (const auto& t : times) {
        out.push_back(time_json(t));
    }
    return out;
}

template <class T, class F>
json list_json(const std::vector<T>& items, F to_json) {
    json out = json::array();
    for (const auto& item : items) {
        out.push_back(to_json(item));
    }
    return out;
}

json strings_json(const std::vector<std::string>& items) {
    json out = json::array();
    for (const auto& item : items) {
        out.push_back(item);
    }
    return out;
}

json integers_json(const std::map<std::string, std::int64_t>& items) {
    json out = json::object();
    for (const auto& [key, value] : items) {
        out[key] = value;
    }
    return out;
}

json tier_json(const tier_status& t) {
    json out = {{"tier", t.tier}, {"since", time_json(t.since)}};
    if (t.valid_until) {
        out["valid_until"] = time_json(*t.valid_until);
    }
    if (t.entry_threshold) {
        out["entry_threshold"] = *t.entry_threshold;
    }
    if (!t.replaced.empty()) {
        json replaced = json::array();
        for (const tier_status& r : t.replaced) {
            replaced.push_back(tier_json(r));
        }
        out["replaced"] = std::move(replaced);
    }
    return out;
}

json metric_json(const metric_entry& e) {
    return {{"at", time_json(e.at)}, {"amount", e.amount}, {"cause", e.cause}};
}

json usage_json(const usage_entry& e) {
    return {
        {"rule_id", e.rule_id}, {"at", time_json(e.at)}, {"times", e.times}, {"points", e.points}};
}

json line_allocation_json(const line_allocation& a) {
    return {{"line_id", a.line_id},
            {"quantity", a.quantity},
            {"eligible_spend", a.eligible_spend},
            {"points_by_rule", integers_json(a.points_by_rule)}};
}

json rule_award_json(const rule_award& a) {
    json out = {{"rule_id", a.rule_id},
                {"points", a.points},
                {"lot_id", a.lot_id},
                {"qualifying", a.qualifying},
                {"per_line", a.per_line}};
    if (a.min_spend) {
        out["min_spend"] = *a.min_spend;
    }
    return out;
}

json lot_draw_json(const lot_draw& d) {
    return {{"lot_id", d.lot_id}, {"points", d.points}};
}

json purchase_line_json(const purchase_line& l) {
    return {{"line_id", l.line_id},        {"sku", l.sku},
            {"category", l.category},      {"quantity", l.quantity},
            {"unit_price", l.unit_price},  {"discount", l.discount},
            {"tags", strings_json(l.tags)}};
}

// Reading. Values are taken as they are: no ranges and no defaults, so that whatever the engine
// stored comes back unchanged.

std::string read_text(const json& v, const std::string& path) {
    if (!v.is_string()) {
        fail(path, "expected a string");
    }
    return v.get<std::string>();
}

std::int64_t read_integer(const json& v, const std::string& path) {
    if (!v.is_number_integer() ||
        (v.is_number_unsigned() &&
         v.get<std::uint64_t>() >
             static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))) {
        fail(path, "expected a whole number");
    }
    return v.get<std::int64_t>();
}

bool read_boolean(const json& v, const std::string& path) {
    if (!v.is_boolean()) {
        fail(path, "expected true or false");
    }
    return v.get<bool>();
}

timestamp read_time(const json& v, const std::string& path) {
    if (!v.is_string()) {
        fail(path, "expected an RFC 3339 time to the second, such as 2026-11-24T15:00:00Z");
    }
    auto parsed = parse_rfc3339(v.get_ref<const std::string&>());
    if (!parsed) {
        fail(path, "expected an RFC 3339 time to the second, such as 2026-11-24T15:00:00Z");
    }
    return *parsed;
}

date::year_month_day read_date(const json& v, const std::string& path) {
    if (!v.is_string()) {
        fail(path, "expected a date YYYY-MM-DD");
    }
    std::istringstream in{v.get<std::string>()};
    date::year_month_day ymd{};
    in >> date::parse("%F", ymd);
    if (in.fail() || in.peek() != std::char_traits<char>::eof() || !ymd.ok()) {
        fail(path, "expected a date YYYY-MM-DD");
    }
    return ymd;
}

template <class F>
auto read_list(const json& v, const std::string& path, F read_item) {
    using item = std::invoke_result_t<F, const json&, const std::string&>;
    if (!v.is_array()) {
        fail(path, "expected a list");
    }
    std::vector<item> out;
    out.reserve(v.size());
    for (std::size_t i = 0; i < v.size(); ++i) {
        out.push_back(read_item(v[i], item_path(path, i)));
    }
    return out;
}

std::map<std::string, std::int64_t> read_integers(const json& v, const std::string& path) {
    if (!v.is_object()) {
        fail(path, "expected an object of whole numbers");
    }
    std::map<std::string, std::int64_t> out;
    for (const auto& [key, value] : v.items()) {
        out.emplace(key, read_integer(value, field_path(path, key)));
    }
    return out;
}

// The fields of one object. Each accessor marks its key as read; finish() refuses the keys that
// were not, so a misspelt or unexpected field is an error rather than silently dropped.
class object_reader {
public:
    object_reader(const json& j, std::string path) : j_(j), path_(std::move(path)) {
        if (!j_.is_object()) {
            fail(path_, "expected an object");
        }
    }

    std::string at(std::string_view key) const { return field_path(path_, key); }

    const json& required(std::string_view key) {
        read_.emplace(key);
        auto it = j_.find(key);
        if (it == j_.end()) {
            fail(at(key), "required");
        }
        return *it;
    }
    const json* optional(std::string_view key) {
        read_.emplace(key);
        auto it = j_.find(key);
        return it == j_.end() ? nullptr : &*it;
    }

    std::string text(std::string_view key) { return read_text(required(key), at(key)); }
    std::int64_t integer(std::string_view key) { return read_integer(required(key), at(key)); }
    bool boolean(std::string_view key) { return read_boolean(required(key), at(key)); }
    timestamp time(std::string_view key) { return read_time(required(key), at(key)); }
    std::vector<std::string> texts(std::string_view key) {
        return read_list(required(key), at(key), read_text);
    }
    std::map<std::string, std::int64_t> integers(std::string_view key) {
        return read_integers(required(key), at(key));
    }
    template <class F>
    auto list(std::string_view key, F read_item) {
        return read_list(required(key), at(key), read_item);
    }

    std::optional<std::string> optional_text(std::string_view key) {
        const json* v = optional(key);
        return v ? std::optional(read_text(*v, at(key))) : std::nullopt;
    }
    std::optional<std::int64_t> optional_integer(std::string_view key) {
        const json* v = optional(key);
        return v ? std::optional(read_integer(*v, at(key))) : std::nullopt;
    }
    std::optional<timestamp> optional_time(std::string_view key) {
        const json* v = optional(key);
        return v ? std::optional(read_time(*v, at(key))) : std::nullopt;
    }

    void finish() const {
        for (const auto& [key, value] : j_.items()) {
            if (!read_.contains(key)) {
                fail(at(key), "unknown field");
            }
        }
    }

private:
    const json& j_;
    std::string path_;
    std::set<std::string, std::less<>> read_;
};

tier_status read_tier(const json& j, const std::string& path) {
    object_reader o(j, path);
    tier_status t;
    t.tier = o.text("tier");
    t.since = o.time("since");
    t.valid_until = o.optional_time("valid_until");
    if (o.optional("replaced") != nullptr) {
        t.replaced = o.list("replaced", read_tier);
    }
    t.entry_threshold = o.optional_integer("entry_threshold");
    o.finish();
    return t;
}

lot read_lot(const json& j, const std::string& path) {
    object_reader o(j, path);
    lot l;
    l.id = o.integer("id");
    l.earned = o.integer("earned");
    l.remaining = o.integer("remaining");
    l.earned_at = o.time("earned_at");
    l.available_at = o.time("available_at");
    l.expires_at = o.optional_time("expires_at");
    l.cause = o.text("cause");
    l.qualifying = o.boolean("qualifying");
    l.matured = o.boolean("matured");
    l.expired_points = o.optional_integer("expired_points").value_or(0);
    o.finish();
    return l;
}

metric_entry read_metric(const json& j, const std::string& path) {
    object_reader o(j, path);
    metric_entry e;
    e.at = o.time("at");
    e.amount = o.integer("amount");
    e.cause = o.text("cause");
    o.finish();
    return e;
}

usage_entry read_usage(const json& j, const std::string& path) {
    object_reader o(j, path);
    usage_entry e;
    e.rule_id = o.text("rule_id");
    e.at = o.time("at");
    e.times = o.integer("times");
    e.points = o.integer("points");
    o.finish();
    return e;
}

voucher read_voucher(const json& j, const std::string& path) {
    object_reader o(j, path);
    voucher v;
    v.id = o.text("id");
    v.reward_id = o.text("reward_id");
    v.issued_at = o.time("issued_at");
    v.valid_until = o.time("valid_until");
    v.cause = o.text("cause");
    v.redeemed = o.boolean("redeemed");
    v.cancelled = o.boolean("cancelled");
    v.used_at = o.optional_time("used_at");
    v.used_transaction_id = o.optional_text("used_transaction_id").value_or("");
    v.used_store_id = o.optional_text("used_store_id").value_or("");
    o.finish();
    return v;
}

purchase_line read_purchase_line(const json& j, const std::string& path) {
    object_reader o(j, path);
    purchase_line l;
    l.line_id = o.text("line_id");
    l.sku = o.text("sku");
    l.category = o.text("category");
    l.quantity = o.integer("quantity");
    l.unit_price = o.integer("unit_price");
    l.discount = o.integer("discount");
    l.tags = o.texts("tags");
    o.finish();
    return l;
}

// The same shape as purchase_from_json reads, but without its limits for point-of-sale input:
// the stored request is whatever was accepted then.
purchase read_purchase(const json& j, const std::string& path) {
    object_reader o(j, path);
    purchase p;
    p.transaction_id = o.text("transaction_id");
    p.member_id = o.text("member_id");
    p.store_id = o.text("store_id");
    p.channel = o.text("channel");
    p.occurred_at = o.time("occurred_at");
    p.currency = o.text("currency");
    p.lines = o.list("lines", read_purchase_line);
    o.finish();
    return p;
}

line_allocation read_line_allocation(const json& j, const std::string& path) {
    object_reader o(j, path);
    line_allocation a;
    a.line_id = o.text("line_id");
    a.quantity = o.integer("quantity");
    a.eligible_spend = o.integer("eligible_spend");
    a.points_by_rule = o.integers("points_by_rule");
    o.finish();
    return a;
}

rule_award read_rule_award(const json& j, const std::string& path) {
    object_reader o(j, path);
    rule_award a;
    a.rule_id = o.text("rule_id");
    a.points = o.integer("points");
    a.lot_id = o.integer("lot_id");
    a.qualifying = o.boolean("qualifying");
    a.per_line = o.boolean("per_line");
    a.min_spend = o.optional_integer("min_spend");
    o.finish();
    return a;
}

purchase_record read_purchase_record(const json& j, const std::string& path) {
    object_reader o(j, path);
    purchase_record r;
    r.request = read_purchase(o.required("request"), o.at("request"));
    r.lines = o.list("lines", read_line_allocation);
    r.awards = o.list("awards", read_rule_award);
    r.returned_quantity = o.integers("returned_quantity");
    r.clawed_back = o.texts("clawed_back");
    r.return_ids = o.texts("return_ids");
    o.finish();
    return r;
}

lot_draw read_lot_draw(const json& j, const std::string& path) {
    object_reader o(j, path);
    lot_draw d;
    d.lot_id = o.integer("lot_id");
    d.points = o.integer("points");
    o.finish();
    return d;
}

redemption_record read_redemption_record(const json& j, const std::string& path) {
    object_reader o(j, path);
    redemption_record r;
    r.redemption_id = o.text("redemption_id");
    r.reward_id = o.text("reward_id");
    r.points = o.integer("points");
    r.draws = o.list("draws", read_lot_draw);
    r.voucher_id = o.optional_text("voucher_id");
    r.at = o.time("at");
    r.cancelled = o.boolean("cancelled");
    r.value = o.optional_integer("value");
    o.finish();
    return r;
}

member_state read_state(const json& j) {
    object_reader o(j, "");
    auto version = o.integer("format");
    if (version != state_json_format) {
        fail("format", "unsupported format " + std::to_string(version) + "; expected " +
                           std::to_string(state_json_format));
    }
    member_state m;
    m.id = o.text("id");
    m.enrolled_at = o.time("enrolled_at");
    if (const json* birthday = o.optional("birthday")) {
        m.birthday = read_date(*birthday, "birthday");
    }
    m.referred_by = o.optional_text("referred_by");
    m.tier = read_tier(o.required("tier"), "tier");
    m.lots = o.list("lots", read_lot);
    m.metric = o.list("metric", read_metric);
    m.usage = o.list("usage", read_usage);
    m.vouchers = o.list("vouchers", read_voucher);
    m.purchase_times = o.list("purchase_times", read_time);
    m.lifetime_purchases = o.integer("lifetime_purchases");
    m.lifetime_spend = o.integer("lifetime_spend");
    m.lifetime_points = o.integer("lifetime_points");
    m.last_activity = o.optional_time("last_activity");
    m.shortfall = o.integer("shortfall");
    m.purchases = o.list("purchases", read_purchase_record);
    m.redemptions = o.list("redemptions", read_redemption_record);
    m.budget_used = o.integers("budget_used");
    m.next_lot_id = o.integer("next_lot_id");
    m.next_voucher_number = o.integer("next_voucher_number");
    o.finish();
    return m;
}

// Runs a reader, turning its error (or a type error nlohmann raised that the reader did not
// foresee) into the returned message.
template <class F>
auto guarded(F read) -> tl::expected<std::invoke_result_t<F>, std::string> {
    try {
        return read();
    } catch (const format_error& e) {
        return tl::unexpected(e.message);
    } catch (const json::exception& e) {
        return tl::unexpected(std::string("malformed: ") + e.what());
    }
}

} // namespace

nlohmann::json lot_to_json(const lot& l) {
    json out = {{"id", l.id},
                {"earned", l.earned},
                {"remaining", l.remaining},
                {"earned_at", time_json(l.earned_at)},
                {"available_at", time_json(l.available_at)},
                {"cause", l.cause},
                {"qualifying", l.qualifying},
                {"matured", l.matured}};
    if (l.expires_at) {
        out["expires_at"] = time_json(*l.expires_at);
    }
    if (l.expired_points != 0) {
        out["expired_points"] = l.expired_points;
    }
    return out;
}

nlohmann::json voucher_to_json(const voucher& v) {
    json out = {{"id", v.id},
                {"reward_id", v.reward_id},
                {"issued_at", time_json(v.issued_at)},
                {"valid_until", time_json(v.valid_until)},
                {"cause", v.cause},
                {"redeemed", v.redeemed},
                {"cancelled", v.cancelled}};
    if (v.used_at) {
        out["used_at"] = time_json(*v.used_at);
    }
    if (!v.used_transaction_id.empty()) {
        out["used_transaction_id"] = v.used_transaction_id;
    }
    if (!v.used_store_id.empty()) {
        out["used_store_id"] = v.used_store_id;
    }
    return out;
}

nlohmann::json purchase_to_json(const purchase& p) {
    return {{"transaction_id", p.transaction_id},
            {"member_id", p.member_id},
            {"store_id", p.store_id},
            {"channel", p.channel},
            {"occurred_at", time_json(p.occurred_at)},
            {"currency", p.currency},
            {"lines", list_json(p.lines, purchase_line_json)}};
}

namespace {

// Keys in the order nlohmann's sorted objects dump them.
void write_purchase(json_writer& w, const purchase& p) {
    w.begin_object().field("channel", p.channel).field("currency", p.currency);
    w.key("lines").begin_array();
    for (const purchase_line& l : p.lines) {
        w.begin_object()
            .field("category", l.category)
            .field("discount", l.discount)
            .field("line_id", l.line_id)
            .field("quantity", l.quantity)
            .field("sku", l.sku);
        w.key("tags").begin_array();
        for (const std::string& tag : l.tags) {
            w.value(tag);
        }
        w.end_array().field("unit_price", l.unit_price).end_object();
    }
    w.end_array();
    w.field("member_id", p.member_id)
        .field("occurred_at", format_rfc3339(p.occurred_at))
        .field("store_id", p.store_id)
        .field("transaction_id", p.transaction_id)
        .end_object();
}

void write_integers(json_writer& w, const std::map<std::string, std::int64_t>& items) {
    w.begin_object();
    for (const auto& [key, value] : items) {
        w.field(key, value);
    }
    w.end_object();
}

void write_strings(json_writer& w, const std::vector<std::string>& items) {
    w.begin_array();
    for (const std::string& item : items) {
        w.value(item);
    }
    w.end_array();
}

} // namespace

std::string purchase_text(const purchase& p) {
    json_writer w;
    w.reserve(256 + 160 * p.lines.size());
    write_purchase(w, p);
    return std::move(w).text();
}

std::string purchase_record_text(const purchase_record& r, record_request request) {
    json_writer w;
    w.reserve(512 + 256 * r.lines.size() + 96 * r.awards.size());
    w.begin_object().key("awards").begin_array();
    for (const rule_award& a : r.awards) {
        w.begin_object().field("lot_id", a.lot_id);
        if (a.min_spend) {
            w.field("min_spend", *a.min_spend);
        }
        w.field("per_line", a.per_line)
            .field("points", a.points)
            .field("qualifying", a.qualifying)
            .field("rule_id", a.rule_id)
            .end_object();
    }
    w.end_array().key("clawed_back");
    write_strings(w, r.clawed_back);
    w.key("lines").begin_array();
    for (const line_allocation& a : r.lines) {
        w.begin_object()
            .field("eligible_spend", a.eligible_spend)
            .field("line_id", a.line_id)
            .key("points_by_rule");
        write_integers(w, a.points_by_rule);
        w.field("quantity", a.quantity).end_object();
    }
    w.end_array();
    if (request == record_request::included) {
        w.key("request");
        write_purchase(w, r.request);
    }
    w.key("return_ids");
    write_strings(w, r.return_ids);
    w.key("returned_quantity");
    write_integers(w, r.returned_quantity);
    w.end_object();
    return std::move(w).text();
}

nlohmann::json purchase_record_to_json(const purchase_record& r) {
    return {{"request", purchase_to_json(r.request)},
            {"lines", list_json(r.lines, line_allocation_json)},
            {"awards", list_json(r.awards, rule_award_json)},
            {"returned_quantity", integers_json(r.returned_quantity)},
            {"clawed_back", strings_json(r.clawed_back)},
            {"return_ids", strings_json(r.return_ids)}};
}

nlohmann::json redemption_record_to_json(const redemption_record& r) {
    json out = {{"redemption_id", r.redemption_id},
                {"reward_id", r.reward_id},
                {"points", r.points},
                {"draws", list_json(r.draws, lot_draw_json)},
                {"at", time_json(r.at)},
                {"cancelled", r.cancelled}};
    if (r.voucher_id) {
        out["voucher_id"] = *r.voucher_id;
    }
    if (r.value) {
        out["value"] = *r.value;
    }
    return out;
}

nlohmann::json state_to_json(const member_state& m) {
    json out = {{"format", state_json_format},
                {"id", m.id},
                {"enrolled_at", time_json(m.enrolled_at)},
                {"tier", tier_json(m.tier)},
                {"lots", list_json(m.lots, lot_to_json)},
                {"metric", list_json(m.metric, metric_json)},
                {"usage", list_json(m.usage, usage_json)},
                {"vouchers", list_json(m.vouchers, voucher_to_json)},
                {"purchase_times", times_json(m.purchase_times)},
                {"lifetime_purchases", m.lifetime_purchases},
                {"lifetime_spend", m.lifetime_spend},
                {"lifetime_points", m.lifetime_points},
                {"shortfall", m.shortfall},
                {"purchases", list_json(m.purchases, purchase_record_to_json)},
                {"redemptions", list_json(m.redemptions, redemption_record_to_json)},
                {"budget_used", integers_json(m.budget_used)},
                {"next_lot_id", m.next_lot_id},
                {"next_voucher_number", m.next_voucher_number}};
    if (m.birthday) {
        out["birthday"] = format_date(*m.birthday);
    }
    if (m.referred_by) {
        out["referred_by"] = *m.referred_by;
    }
    if (m.last_activity) {
        out["last_activity"] = time_json(*m.last_activity);
    }
    return out;
}

tl::expected<member_state, std::string> state_from_json(const nlohmann::json& j) {
    return guarded([&] { return read_state(j); });
}

tl::expected<lot, std::string> lot_from_json(const nlohmann::json& j) {
    return guarded([&] { return read_lot(j, ""); });
}

tl::expected<voucher, std::string> voucher_from_json(const nlohmann::json& j) {
    return guarded([&] { return read_voucher(j, ""); });
}

tl::expected<purchase_record, std::string> purchase_record_from_json(const nlohmann::json& j) {
    return guarded([&] { return read_purchase_record(j, ""); });
}

tl::expected<redemption_record, std::string> redemption_record_from_json(const nlohmann::json& j) {
    return guarded([&] { return read_redemption_record(j, ""); });
}

} // namespace loyalty::engine
