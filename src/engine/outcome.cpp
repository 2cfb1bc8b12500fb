#include "loyalty/engine/outcome.hpp"

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

} // namespace loyalty::engine
