#include "rule_data.hpp"

#include <algorithm>
#include <array>
#include <set>
#include <string>

namespace loyalty::engine::detail {

namespace {

constexpr auto field_count = static_cast<std::size_t>(data_field::count);

// The name of every data_field, in its order (program/condition_data.cpp lists the same).
constexpr std::array<std::string_view, field_count> field_names = {
    "transaction.id",
    "transaction.store_id",
    "transaction.channel",
    "transaction.currency",
    "transaction.occurred_at",
    "transaction.total",
    "transaction.eligible_spend",
    "transaction.quantity",
    "transaction.line_count",
    "transaction.categories",
    "transaction.skus",
    "transaction.tags",
    "transaction.local.date",
    "transaction.local.year",
    "transaction.local.month",
    "transaction.local.day",
    "transaction.local.weekday",
    "transaction.local.hour",
    "transaction.local.minute",
    "member.id",
    "member.tier",
    "member.tier_since",
    "member.tier_until",
    "member.metric",
    "member.enrolled_at",
    "member.birthday",
    "member.referred_by",
    "member.balance.available",
    "member.balance.pending",
    "member.lifetime.purchases",
    "member.lifetime.spend",
    "member.lifetime.points",
    "member.days_enrolled",
    "line.line_id",
    "line.sku",
    "line.category",
    "line.quantity",
    "line.unit_price",
    "line.discount",
    "line.amount",
    "line.tags",
    "event.id",
    "event.type",
    "event.occurred_at",
    "event.attributes",
    "event.local.date",
    "event.local.year",
    "event.local.month",
    "event.local.day",
    "event.local.weekday",
    "event.local.hour",
    "event.local.minute",
};
static_assert(field_count <= 64, "data_needs keeps one bit per field");

// The fields under each first step of a name.
struct root_fields {
    std::string_view root;
    data_field first;
    data_field last;
};
constexpr std::array<root_fields, 4> roots = {{
    {"transaction", data_field::transaction_id, data_field::transaction_local_minute},
    {"member", data_field::member_id, data_field::member_days_enrolled},
    {"line", data_field::line_line_id, data_field::line_tags},
    {"event", data_field::event_id, data_field::event_local_minute},
}};

// `prefix` is `name` or an enclosing object of it, step by step ("a.b" encloses "a.b.c", not
// "a.bc").
bool encloses(std::string_view prefix, std::string_view name) {
    // Lengths and the dot first: most pairs differ there, without comparing any text.
    if (name.size() < prefix.size() ||
        (name.size() > prefix.size() && name[prefix.size()] != '.')) {
        return false;
    }
    return name.substr(0, prefix.size()) == prefix;
}

// The operations whose second argument is logic run on each element of the first.
bool scoping(std::string_view op) {
    return op == "map" || op == "filter" || op == "reduce" || op == "all" || op == "none" ||
           op == "some";
}

// `transaction.local.*` or `event.local.*` (from `first`, the date, to the minute): the local
// time of `t` in the program's time zone.
nlohmann::json local_data(const data_needs& needs, data_field first, const program::program& p,
                          timestamp t) {
    auto field = [&](unsigned offset) {
        return static_cast<data_field>(static_cast<unsigned>(first) + offset);
    };
    local_fields f = local_fields_of(p.time_zone, t);
    nlohmann::json j = nlohmann::json::object();
    if (needs.has(field(0))) {
        j["date"] = format_date(f.date);
    }
    if (needs.has(field(1))) {
        j["year"] = static_cast<int>(f.date.year());
    }
    if (needs.has(field(2))) {
        j["month"] = static_cast<unsigned>(f.date.month());
    }
    if (needs.has(field(3))) {
        j["day"] = static_cast<unsigned>(f.date.day());
    }
    if (needs.has(field(4))) {
        j["weekday"] = f.weekday;
    }
    if (needs.has(field(5))) {
        j["hour"] = f.hour;
    }
    if (needs.has(field(6))) {
        j["minute"] = f.minute;
    }
    return j;
}

} // namespace

bool data_needs::any(data_field first, data_field last) const {
    auto from = static_cast<unsigned>(first);
    auto to = static_cast<unsigned>(last);
    std::uint64_t span =
        to - from + 1 >= 64 ? ~std::uint64_t{0} : ((std::uint64_t{1} << (to - from + 1)) - 1);
    return ((bits_ >> from) & span) != 0;
}

void data_needs::add(const program::condition& c) {
    add_reads(c.rule.source());
}

void data_needs::add_everything() {
    bits_ = field_count == 64 ? ~std::uint64_t{0} : (std::uint64_t{1} << field_count) - 1;
}

void data_needs::add_name(std::string_view name) {
    if (name.empty()) {
        add_everything(); // the whole data
        return;
    }
    // A name reads its field, what lies below it (a list's elements, an open object's keys)
    // and, when it names an enclosing object, every field inside. Either way the field's first
    // step is the name's.
    std::string_view root = name.substr(0, name.find('.'));
    for (const root_fields& r : roots) {
        if (r.root != root) {
            continue;
        }
        for (auto i = static_cast<unsigned>(r.first); i <= static_cast<unsigned>(r.last); ++i) {
            if (encloses(field_names[i], name) || encloses(name, field_names[i])) {
                bits_ |= std::uint64_t{1} << i;
            }
        }
    }
}

// Walks the rule as written, as logic::compile reads it: an object with one key is an
// operation, its value the argument list (or the one argument), and anything else is a
// literal, whose parts are walked too (which can only add fields, never miss one).
void data_needs::add_reads(const nlohmann::json& logic) {
    // The containers themselves rather than nlohmann's iterators, which cost more than the
    // walk: this runs for every condition of every evaluation.
    if (const auto* items = logic.get_ptr<const nlohmann::json::array_t*>()) {
        for (const auto& item : *items) {
            add_reads(item);
        }
        return;
    }
    const auto* object = logic.get_ptr<const nlohmann::json::object_t*>();
    if (object == nullptr) {
        return;
    }
    if (object->size() != 1) {
        for (const auto& [key, item] : *object) {
            add_reads(item);
        }
        return;
    }
    const auto& [op, args] = *object->begin();
    if (op == "missing" || op == "missing_some") {
        add_everything();
        return;
    }
    const auto* list = args.get_ptr<const nlohmann::json::array_t*>();
    if (op == "var") {
        const nlohmann::json* path = &args;
        if (list != nullptr) {
            path = list->empty() ? nullptr : &list->front();
        }
        if (path == nullptr || path->is_null()) {
            add_everything();
        } else if (const auto* name = path->get_ptr<const std::string*>()) {
            add_name(*name);
        } else if (!path->is_number()) {
            add_everything(); // a computed name
        }
        // A number names a key of digits, and every name of the data starts with a letter.
        add_reads(args); // the default, or the operations computing the name
        return;
    }
    if (list != nullptr && scoping(op)) {
        // The logic at index 1 reads the elements, not the data.
        for (std::size_t i = 0; i < list->size(); ++i) {
            if (i != 1) {
                add_reads((*list)[i]);
            }
        }
        return;
    }
    add_reads(args);
}

nlohmann::json transaction_data(const data_needs& needs, const context& cx, const purchase& e,
                                const purchase_totals& totals) {
    using enum data_field;
    if (!needs.any(transaction_id, transaction_local_minute)) {
        return nullptr;
    }
    nlohmann::json j = nlohmann::json::object();
    if (needs.has(transaction_id)) {
        j["id"] = e.transaction_id;
    }
    if (needs.has(transaction_store_id)) {
        j["store_id"] = e.store_id;
    }
    if (needs.has(transaction_channel)) {
        j["channel"] = e.channel;
    }
    if (needs.has(transaction_currency)) {
        j["currency"] = e.currency;
    }
    if (needs.has(transaction_occurred_at)) {
        j["occurred_at"] = format_rfc3339(e.occurred_at);
    }
    if (needs.has(transaction_total)) {
        j["total"] = totals.total;
    }
    if (needs.has(transaction_eligible_spend)) {
        j["eligible_spend"] = totals.eligible_spend;
    }
    if (needs.has(transaction_quantity)) {
        j["quantity"] = totals.quantity;
    }
    if (needs.has(transaction_line_count)) {
        j["line_count"] = e.lines.size();
    }
    // Sets: sorted and without repeats, as conditions have always seen them.
    if (needs.has(transaction_categories)) {
        std::set<std::string> categories;
        for (const purchase_line& l : e.lines) {
            categories.insert(l.category);
        }
        j["categories"] = categories;
    }
    if (needs.has(transaction_skus)) {
        std::set<std::string> skus;
        for (const purchase_line& l : e.lines) {
            skus.insert(l.sku);
        }
        j["skus"] = skus;
    }
    if (needs.has(transaction_tags)) {
        std::set<std::string> tags;
        for (const purchase_line& l : e.lines) {
            tags.insert(l.tags.begin(), l.tags.end());
        }
        j["tags"] = tags;
    }
    if (needs.any(transaction_local_date, transaction_local_minute)) {
        j["local"] = local_data(needs, transaction_local_date, cx.program, cx.now);
    }
    return j;
}

nlohmann::json line_data(const data_needs& needs, const purchase_line& l) {
    using enum data_field;
    if (!needs.any(line_line_id, line_tags)) {
        return nullptr;
    }
    nlohmann::json j = nlohmann::json::object();
    if (needs.has(line_line_id)) {
        j["line_id"] = l.line_id;
    }
    if (needs.has(line_sku)) {
        j["sku"] = l.sku;
    }
    if (needs.has(line_category)) {
        j["category"] = l.category;
    }
    if (needs.has(line_quantity)) {
        j["quantity"] = l.quantity;
    }
    if (needs.has(line_unit_price)) {
        j["unit_price"] = l.unit_price;
    }
    if (needs.has(line_discount)) {
        j["discount"] = l.discount;
    }
    if (needs.has(line_amount)) {
        j["amount"] = l.amount();
    }
    if (needs.has(line_tags)) {
        j["tags"] = l.tags;
    }
    return j;
}

nlohmann::json member_data(const data_needs& needs, const context& cx) {
    using enum data_field;
    if (!needs.any(member_id, member_days_enrolled)) {
        return nullptr;
    }
    const member_state& m = cx.state;
    nlohmann::json j = nlohmann::json::object();
    if (needs.has(member_id)) {
        j["id"] = m.id;
    }
    if (needs.has(member_tier)) {
        j["tier"] = m.tier.tier;
    }
    if (needs.has(member_tier_since)) {
        j["tier_since"] = format_rfc3339(m.tier.since);
    }
    if (needs.has(member_tier_until)) {
        j["tier_until"] =
            m.tier.valid_until ? nlohmann::json(format_rfc3339(*m.tier.valid_until)) : nullptr;
    }
    if (needs.has(member_metric)) {
        j["metric"] = metric_at(cx.program, m, cx.now);
    }
    if (needs.has(member_enrolled_at)) {
        j["enrolled_at"] = format_rfc3339(m.enrolled_at);
    }
    if (needs.has(member_birthday)) {
        j["birthday"] = m.birthday ? nlohmann::json(format_date(*m.birthday)) : nullptr;
    }
    if (needs.has(member_referred_by)) {
        j["referred_by"] = m.referred_by ? nlohmann::json(*m.referred_by) : nullptr;
    }
    if (needs.any(member_balance_available, member_balance_pending)) {
        balance b = balance_at(m, cx.now);
        nlohmann::json& balance = j["balance"] = nlohmann::json::object();
        if (needs.has(member_balance_available)) {
            balance["available"] = b.available;
        }
        if (needs.has(member_balance_pending)) {
            balance["pending"] = b.pending;
        }
    }
    if (needs.any(member_lifetime_purchases, member_lifetime_points)) {
        nlohmann::json& lifetime = j["lifetime"] = nlohmann::json::object();
        if (needs.has(member_lifetime_purchases)) {
            lifetime["purchases"] = m.lifetime_purchases;
        }
        if (needs.has(member_lifetime_spend)) {
            lifetime["spend"] = m.lifetime_spend;
        }
        if (needs.has(member_lifetime_points)) {
            lifetime["points"] = m.lifetime_points;
        }
    }
    if (needs.has(member_days_enrolled)) {
        j["days_enrolled"] = date::floor<date::days>(cx.now - m.enrolled_at).count();
    }
    return j;
}

nlohmann::json event_data(const data_needs& needs, const context& cx, const custom_event& e) {
    using enum data_field;
    if (!needs.any(event_id, event_local_minute)) {
        return nullptr;
    }
    nlohmann::json j = nlohmann::json::object();
    if (needs.has(event_id)) {
        j["id"] = e.event_id;
    }
    if (needs.has(event_type)) {
        j["type"] = e.type;
    }
    if (needs.has(event_occurred_at)) {
        j["occurred_at"] = format_rfc3339(e.occurred_at);
    }
    if (needs.has(event_attributes)) {
        j["attributes"] = e.attributes;
    }
    if (needs.any(event_local_date, event_local_minute)) {
        j["local"] = local_data(needs, event_local_date, cx.program, cx.now);
    }
    return j;
}

} // namespace loyalty::engine::detail
