#include "loyalty/engine/outcome.hpp"

#include "loyalty/engine/json_writer.hpp"
#include "loyalty/engine/local_time.hpp"

namespace loyalty::engine {

std::string to_string(movement_kind kind) {
    switch (kind) {
    case movement_kind::earn:
        return "earn";
    case movement_kind::mature:
        return "mature";
    case movement_kind::burn:
        return "burn";
    case movement_kind::expire:
        return "expire";
    case movement_kind::reverse:
        return "reverse";
    case movement_kind::adjust:
        return "adjust";
    }
    return "?";
}

std::string to_string(rejection_code code) {
    switch (code) {
    case rejection_code::invalid_event:
        return "invalid_event";
    case rejection_code::unknown_record:
        return "unknown_record";
    case rejection_code::insufficient_points:
        return "insufficient_points";
    case rejection_code::not_eligible:
        return "not_eligible";
    case rejection_code::payment_rule:
        return "payment_rule";
    case rejection_code::already_done:
        return "already_done";
    case rejection_code::out_of_range:
        return "out_of_range";
    }
    return "?";
}

nlohmann::json to_json(const outcome& o, const program::program& p) {
    auto time = [](const std::optional<timestamp>& t) -> nlohmann::json {
        return t ? nlohmann::json(format_rfc3339(*t)) : nlohmann::json(nullptr);
    };
    nlohmann::json rules = nlohmann::json::array();
    for (const rule_result& r : o.rules) {
        rules.push_back({{"id", r.id},
                         {"matched", r.matched},
                         {"reason", r.reason},
                         {"exact", r.exact},
                         {"rounded", r.rounded},
                         {"points", r.awarded}});
    }
    nlohmann::json movements = nlohmann::json::array();
    for (const movement& m : o.movements) {
        movements.push_back({{"kind", to_string(m.kind)},
                             {"points", m.points},
                             {"lot", m.lot_id},
                             {"cause", m.cause},
                             {"pending", m.pending},
                             {"explanation", m.explanation}});
    }
    nlohmann::json vouchers = nlohmann::json::array();
    for (const voucher& v : o.vouchers) {
        vouchers.push_back({{"id", v.id},
                            {"reward_id", v.reward_id},
                            {"valid_until", format_rfc3339(v.valid_until)},
                            {"cause", v.cause}});
    }
    nlohmann::json referrals = nlohmann::json::array();
    for (const referral_credit& r : o.referrals) {
        referrals.push_back({{"member_id", r.member_id},
                             {"rule", r.rule_id},
                             {"points", r.points},
                             {"explanation", r.explanation}});
    }
    return {{"event", o.event},
            {"event_type", o.event_type},
            {"program_version", o.program_version},
            {"unit", p.points.name},
            {"points",
             {{"earned", o.points.earned},
              {"pending", o.points.pending},
              {"available_from", time(o.points.available_from)},
              {"burned", o.points.burned},
              {"restored", o.points.restored},
              {"expired", o.points.expired},
              {"reversed", o.points.reversed},
              {"adjusted", o.points.adjusted},
              {"matured", o.points.matured},
              {"shortfall", o.points.shortfall}}},
            {"balance",
             {{"available", o.balance_after.available}, {"pending", o.balance_after.pending}}},
            {"tier",
             {{"before", o.tier.before},
              {"after", o.tier.after},
              {"changed", o.tier.changed},
              {"metric", o.tier.metric}}},
            {"vouchers", vouchers},
            {"referrals", referrals},
            {"rules", rules},
            {"movements", movements}};
}

namespace {

// Any JSON value as nlohmann's dump() writes it; objects come out in their (sorted) map order.
// The event echo holds only strings, but whatever it holds is written the same.
void write_json(json_writer& w, const nlohmann::json& j) {
    switch (j.type()) {
    case nlohmann::json::value_t::object:
        w.begin_object();
        for (const auto& [k, v] : j.items()) {
            w.key(k);
            write_json(w, v);
        }
        w.end_object();
        break;
    case nlohmann::json::value_t::array:
        w.begin_array();
        for (const auto& v : j) {
            write_json(w, v);
        }
        w.end_array();
        break;
    case nlohmann::json::value_t::string:
        w.value(j.get_ref<const std::string&>());
        break;
    case nlohmann::json::value_t::boolean:
        w.value(j.get<bool>());
        break;
    case nlohmann::json::value_t::number_integer:
        w.value(j.get<std::int64_t>());
        break;
    case nlohmann::json::value_t::null:
        w.null();
        break;
    default:
        // Unsigned, floating-point and binary values: nlohmann's own text.
        w.raw(j.dump());
        break;
    }
}

void write_movements(json_writer& w, const std::vector<movement>& movements) {
    w.begin_array();
    for (const movement& m : movements) {
        w.begin_object()
            .field("cause", m.cause)
            .field("explanation", m.explanation)
            .field("kind", to_string(m.kind))
            .field("lot", m.lot_id)
            .field("pending", m.pending)
            .field("points", m.points)
            .end_object();
    }
    w.end_array();
}

} // namespace

std::string movements_text(const std::vector<movement>& movements) {
    json_writer w;
    w.reserve(64 + 160 * movements.size());
    write_movements(w, movements);
    return std::move(w).text();
}

// Keys in nlohmann's order (std::map, bytewise), which is not the order to_json lists them in.
std::string to_json_text(const outcome& o, const program::program& p) {
    json_writer w;
    w.reserve(1024 + 256 * (o.rules.size() + o.movements.size()));
    w.begin_object();
    w.key("balance").begin_object();
    w.field("available", o.balance_after.available).field("pending", o.balance_after.pending);
    w.end_object();
    w.key("event");
    write_json(w, o.event);
    w.field("event_type", o.event_type);
    w.key("movements");
    write_movements(w, o.movements);
    w.key("points").begin_object();
    w.field("adjusted", o.points.adjusted);
    w.key("available_from");
    if (o.points.available_from) {
        w.value(format_rfc3339(*o.points.available_from));
    } else {
        w.null();
    }
    w.field("burned", o.points.burned)
        .field("earned", o.points.earned)
        .field("expired", o.points.expired)
        .field("matured", o.points.matured)
        .field("pending", o.points.pending)
        .field("restored", o.points.restored)
        .field("reversed", o.points.reversed)
        .field("shortfall", o.points.shortfall);
    w.end_object();
    w.field("program_version", o.program_version);
    w.key("referrals").begin_array();
    for (const referral_credit& r : o.referrals) {
        w.begin_object()
            .field("explanation", r.explanation)
            .field("member_id", r.member_id)
            .field("points", r.points)
            .field("rule", r.rule_id)
            .end_object();
    }
    w.end_array();
    w.key("rules").begin_array();
    for (const rule_result& r : o.rules) {
        w.begin_object()
            .field("exact", r.exact)
            .field("id", r.id)
            .field("matched", r.matched)
            .field("points", r.awarded)
            .field("reason", r.reason)
            .field("rounded", r.rounded)
            .end_object();
    }
    w.end_array();
    w.key("tier").begin_object();
    w.field("after", o.tier.after)
        .field("before", o.tier.before)
        .field("changed", o.tier.changed)
        .field("metric", o.tier.metric);
    w.end_object();
    w.field("unit", p.points.name);
    w.key("vouchers").begin_array();
    for (const voucher& v : o.vouchers) {
        w.begin_object()
            .field("cause", v.cause)
            .field("id", v.id)
            .field("reward_id", v.reward_id)
            .field("valid_until", format_rfc3339(v.valid_until))
            .end_object();
    }
    w.end_array();
    w.end_object();
    return std::move(w).text();
}

} // namespace loyalty::engine
