// Spending points: rewards, points as payment, cancellations and manual adjustments.
#include "context.hpp"
#include "loyalty/engine/rounding.hpp"

#include <algorithm>

namespace loyalty::engine::detail {

namespace {

tl::unexpected<rejection> refuse(rejection_code code, std::string field, std::string message) {
    return tl::unexpected(rejection{code, std::move(field), std::move(message)});
}

// A redemption needs an id, and an id already used is a retry that must not spend twice.
std::optional<rejection> check_new_redemption(const member_state& s, const std::string& id) {
    if (id.empty()) {
        return rejection{rejection_code::invalid_event, "redemption_id",
                         "a redemption id is required"};
    }
    if (std::any_of(s.redemptions.begin(), s.redemptions.end(),
                    [&](const redemption_record& r) { return r.redemption_id == id; })) {
        return rejection{rejection_code::already_done, "redemption_id",
                         "redemption " + id + " was already made"};
    }
    return std::nullopt;
}

} // namespace

tl::expected<void, rejection> redeem_reward(context& cx, const reward_redemption& e) {
    const program::program& p = cx.program;
    if (auto refused = check_new_redemption(cx.state, e.redemption_id)) {
        return tl::unexpected(std::move(*refused));
    }
    const program::reward* reward = p.find_reward(e.reward_id);
    if (reward == nullptr) {
        return refuse(rejection_code::invalid_event, "reward_id",
                      "unknown reward \"" + e.reward_id + "\"");
    }
    if (reward->active && !reward->active->contains(to_local(p.time_zone, cx.now))) {
        return refuse(rejection_code::not_eligible, "reward_id",
                      reward->name + " cannot be redeemed at " + format_rfc3339(cx.now));
    }
    if (!reward->tiers.empty() && std::find(reward->tiers.begin(), reward->tiers.end(),
                                            cx.state.tier.tier) == reward->tiers.end()) {
        return refuse(rejection_code::not_eligible, "reward_id",
                      reward->name + " is not available to tier " + cx.state.tier.tier);
    }
    if (reward->limit) {
        const program::usage_limit& limit = *reward->limit;
        if (limit.times) {
            std::int64_t used = times_used(cx, reward->id, limit.per);
            if (used >= *limit.times) {
                return refuse(rejection_code::not_eligible, "reward_id",
                              reward->name + " can be redeemed " + std::to_string(*limit.times) +
                                  " times per " + program::to_string(limit.per) +
                                  ", already redeemed " + std::to_string(used));
            }
        }
        if (limit.points) {
            points_t used = points_used(cx, reward->id, limit.per);
            if (used + reward->cost > *limit.points) {
                return refuse(rejection_code::not_eligible, "reward_id",
                              reward->name + " is limited to " + points_text(p, *limit.points) +
                                  " per " + program::to_string(limit.per) + ", already used " +
                                  points_text(p, used));
            }
        }
    }

    auto draws = draw(cx, reward->cost, movement_kind::burn, reward->id,
                      reward->name + ": " + points_text(p, reward->cost), false);
    if (!draws) {
        // The request has no points field: what costs too much is the reward it names.
        rejection short_of_points = std::move(draws.error());
        short_of_points.field = "reward_id";
        return tl::unexpected(std::move(short_of_points));
    }
    // Copy the id: the reference into state.vouchers dies with the next push_back.
    std::string voucher_id = issue_voucher(cx, reward->id, reward->voucher, e.redemption_id).id;
    cx.state.usage.push_back({reward->id, cx.now, 1, reward->cost});

    redemption_record r;
    r.redemption_id = e.redemption_id;
    r.reward_id = reward->id;
    r.points = reward->cost;
    r.draws = std::move(*draws);
    r.voucher_id = voucher_id;
    r.at = cx.now;
    cx.state.redemptions.push_back(std::move(r));
    cx.out.points.burned += reward->cost;
    return {};
}

tl::expected<void, rejection> pay_with_points(context& cx, const points_payment& e) {
    const program::program& p = cx.program;
    const program::payment_policy& pay = p.payment;
    if (!pay.enabled) {
        return refuse(rejection_code::invalid_event, "",
                      p.name + " does not accept points as payment");
    }
    if (auto refused = check_new_redemption(cx.state, e.redemption_id)) {
        return tl::unexpected(std::move(*refused));
    }
    if (e.purchase_total <= 0) {
        return refuse(rejection_code::invalid_event, "purchase_total",
                      "the purchase total must be positive, got " +
                          std::to_string(e.purchase_total));
    }
    if (e.points <= 0) {
        return refuse(rejection_code::payment_rule, "points",
                      "points must be positive, got " + std::to_string(e.points));
    }
    if (e.points % pay.step != 0) {
        return refuse(rejection_code::payment_rule, "points",
                      "points are used in multiples of " + std::to_string(pay.step) + ", asked " +
                          std::to_string(e.points));
    }
    if (e.points < pay.minimum) {
        return refuse(rejection_code::payment_rule, "points",
                      "at least " + points_text(p, pay.minimum) + " must be used at once, asked " +
                          std::to_string(e.points));
    }
    // Exact integer arithmetic: points * value can exceed 64 bits for absurd inputs.
    wide_int scaled = static_cast<wide_int>(e.points) * pay.value;
    if (scaled % pay.points != 0) {
        return refuse(rejection_code::payment_rule, "points",
                      points_text(p, e.points) + " do not make whole minor units at " +
                          std::to_string(pay.points) + " per " + std::to_string(pay.value));
    }
    wide_int value_minor = scaled / pay.points;
    wide_int max_value = static_cast<wide_int>(e.purchase_total) * pay.max_share_percent / 100;
    // The share bounds what the purchase was paid with points in all: earlier payments at the
    // value they were paid at (those from before it was kept at today's rate).
    wide_int paid_before_minor = static_cast<wide_int>(e.paid_before_value) +
                                 static_cast<wide_int>(e.paid_before) * pay.value / pay.points;
    if (paid_before_minor + value_minor > max_value) {
        // The most points, in whole steps, whose value fits under what the share leaves.
        wide_int room = max_value - paid_before_minor;
        wide_int max_points = room <= 0 ? 0 : room * pay.points / pay.value;
        max_points -= max_points % pay.step;
        return refuse(rejection_code::payment_rule, "points",
                      "at most " + std::to_string(pay.max_share_percent) +
                          "% of the purchase may be paid with points: at most " +
                          points_text(p, static_cast<points_t>(max_points)) + " for a " +
                          std::to_string(e.purchase_total) + " purchase" +
                          (paid_before_minor > 0
                               ? " (" +
                                     std::to_string(static_cast<std::int64_t>(paid_before_minor)) +
                                     " of it paid with points already)"
                               : std::string()) +
                          ", asked " + std::to_string(e.points));
    }

    auto draws = draw(cx, e.points, movement_kind::burn, e.redemption_id,
                      "payment of " + std::to_string(static_cast<std::int64_t>(value_minor)) +
                          " on transaction " + e.transaction_id +
                          (e.store_id.empty() ? "" : " at store " + e.store_id) + ": " +
                          points_text(p, e.points),
                      false);
    if (!draws) {
        return tl::unexpected(std::move(draws.error()));
    }
    redemption_record r;
    r.redemption_id = e.redemption_id;
    r.points = e.points;
    r.draws = std::move(*draws);
    r.at = cx.now;
    r.value = static_cast<std::int64_t>(value_minor);
    cx.state.redemptions.push_back(std::move(r));
    cx.out.points.burned += e.points;
    return {};
}

tl::expected<void, rejection> cancel_redemption(context& cx, const redemption_cancellation& e) {
    const program::program& p = cx.program;
    member_state& s = cx.state;
    auto found =
        std::find_if(s.redemptions.begin(), s.redemptions.end(), [&](const redemption_record& r) {
            return r.redemption_id == e.redemption_id;
        });
    if (found == s.redemptions.end()) {
        return refuse(rejection_code::unknown_record, "redemption_id",
                      "no redemption " + e.redemption_id);
    }
    redemption_record& r = *found;
    if (r.cancelled) {
        return refuse(rejection_code::already_done, "redemption_id",
                      "redemption " + e.redemption_id + " is already cancelled");
    }
    voucher* v = nullptr;
    if (r.voucher_id) {
        auto it = std::find_if(s.vouchers.begin(), s.vouchers.end(),
                               [&](const voucher& x) { return x.id == *r.voucher_id; });
        if (it != s.vouchers.end()) {
            v = &*it;
        }
    }
    if (v != nullptr && v->redeemed) {
        return refuse(rejection_code::already_done, "redemption_id",
                      "the voucher " + v->id + " of redemption " + e.redemption_id +
                          " was already used");
    }

    points_t restored = 0;
    points_t lost = 0;
    for (const lot_draw& d : r.draws) {
        auto l = std::find_if(s.lots.begin(), s.lots.end(),
                              [&](const lot& x) { return x.id == d.lot_id; });
        // Points whose lot expired since they were drawn would have expired anyway: giving them
        // back would extend their life.
        if (l == s.lots.end() || l->expired(cx.now)) {
            lost += d.points;
            continue;
        }
        l->remaining += d.points;
        restored += d.points;
        cx.out.movements.push_back(
            {movement_kind::reverse, d.points, l->id, r.redemption_id,
             "cancelled redemption " + r.redemption_id + ": " + points_text(p, d.points) + " back",
             false});
    }
    if (lost > 0) {
        cx.out.movements.push_back({movement_kind::reverse, 0, 0, r.redemption_id,
                                    "cancelled redemption " + r.redemption_id + ": " +
                                        points_text(p, lost) +
                                        " not restored, their lot expired since",
                                    false});
    }
    // A return that could not take back points this member had spent recorded a shortfall
    // (returns.shortfall: record_shortfall). Spent points that come back settle it first:
    // otherwise returning a purchase and then cancelling what its points bought hands back the
    // returned purchase's points, where cancelling first and returning after leaves nothing.
    if (restored > 0 && s.shortfall > 0) {
        const points_t available = balance_at(s, cx.now).available;
        points_t settled = std::min({restored, s.shortfall, std::max<points_t>(available, 0)});
        if (settled > 0) {
            // Cannot be refused: no more than what is available.
            (void)draw(cx, settled, movement_kind::reverse, r.redemption_id,
                       "cancelled redemption " + r.redemption_id +
                           ": set against the shortfall of returns, points spent of purchases "
                           "returned since",
                       false);
            s.shortfall -= settled;
            cx.out.points.reversed += settled;
        }
    }
    r.cancelled = true;
    if (v != nullptr) {
        v->cancelled = true;
    }
    if (!r.reward_id.empty()) {
        // Undo the use at its own time, so it frees the limit of the period it counted in.
        s.usage.push_back({r.reward_id, r.at, -1, -r.points});
    }
    cx.out.points.restored += restored;
    return {};
}

tl::expected<void, rejection> use_voucher(context& cx, const voucher_use& e) {
    auto found = std::find_if(cx.state.vouchers.begin(), cx.state.vouchers.end(),
                              [&](const voucher& v) { return v.id == e.voucher_id; });
    if (found == cx.state.vouchers.end()) {
        return refuse(rejection_code::unknown_record, "voucher_id", "no voucher " + e.voucher_id);
    }
    voucher& v = *found;
    if (v.redeemed) {
        return refuse(rejection_code::already_done, "voucher_id",
                      "voucher " + v.id + " was already used");
    }
    if (v.cancelled) {
        return refuse(rejection_code::not_eligible, "voucher_id",
                      "voucher " + v.id + " was cancelled with its redemption " + v.cause);
    }
    if (cx.now >= v.valid_until) {
        return refuse(rejection_code::not_eligible, "voucher_id",
                      "voucher " + v.id + " was valid until " + format_rfc3339(v.valid_until));
    }
    v.redeemed = true;
    v.used_at = cx.now;
    v.used_transaction_id = e.transaction_id;
    v.used_store_id = e.store_id;
    // The till learns what to hand over from the answer itself.
    cx.out.event["reward_id"] = v.reward_id;
    return {};
}

tl::expected<void, rejection> adjust(context& cx, const adjustment& e) {
    const program::program& p = cx.program;
    if (e.points == 0) {
        return refuse(rejection_code::invalid_event, "points", "an adjustment needs points, not 0");
    }
    if (e.reason.empty()) {
        return refuse(rejection_code::invalid_event, "reason", "an adjustment needs a reason");
    }
    std::string explanation = "adjustment: " + e.reason;
    if (e.points > 0) {
        // Never qualifying: staff corrections must not buy tier status.
        credit(cx, e.points, e.adjustment_id, false, 0, explanation, movement_kind::adjust);
    } else {
        auto draws = draw(cx, -e.points, movement_kind::adjust, e.adjustment_id, explanation,
                          p.points.allow_negative_balance);
        if (!draws) {
            return tl::unexpected(std::move(draws.error()));
        }
    }
    cx.out.points.adjusted += e.points;
    return {};
}

} // namespace loyalty::engine::detail
