// Returns: reversing exactly what the returned units earned at the time of the purchase, never
// by re-running today's rules.
#include "context.hpp"
#include "loyalty/engine/rounding.hpp"

#include <algorithm>
#include <map>

namespace loyalty::engine::detail {

namespace {

tl::unexpected<rejection> refuse(rejection_code code, std::string field, std::string message) {
    return tl::unexpected(rejection{code, std::move(field), std::move(message)});
}

// The share of `total` that units (already, already + now] of `bought` carry. Computed on
// cumulative quantities so that returning every unit, in any number of returns, gives back
// exactly `total`: the last units carry the remainder of the rounding.
std::int64_t share(std::int64_t total, std::int64_t already, std::int64_t now,
                   std::int64_t bought) {
    auto upto = [&](std::int64_t units) {
        return static_cast<std::int64_t>(static_cast<wide_int>(total) * units / bought);
    };
    return upto(already + now) - upto(already);
}

struct reversal {
    std::string rule_id;
    points_t points = 0;
    std::int64_t lot_id = 0; // the lot the award credited; 0 when unknown
    bool qualifying = false;
    std::string why; // for a bonus: why it goes back
};

// What one reversal says in the movements it makes. Each movement's text must match it for a
// support person: "600 leaves from base" on a movement of -25 could not. The points from the
// award's own lot are one movement and say how many; those drawn elsewhere may come from several
// lots, each a movement with its own points, so their text says only what for and from where.
std::string reversal_text(const context& cx, const reversal& r, const std::string& head,
                          points_t part, const char* from) {
    return from == nullptr ? head + points_text(cx.program, part) + " from " + r.rule_id + r.why
                           : head + "for " + r.rule_id + r.why + ", " + from;
}

// Takes back what it can of `r` from the lot its award credited (even while it is pending), then
// sets what expired of that lot against the rest (those points are gone already). Returns what is
// left to take; `taken` grows by the points taken.
points_t take_from_own_lot(context& cx, const reversal& r, const std::string& cause,
                           const std::string& head, points_t& taken) {
    member_state& s = cx.state;
    points_t left = r.points;
    if (r.lot_id == 0) {
        return left;
    }
    auto l =
        std::find_if(s.lots.begin(), s.lots.end(), [&](const lot& x) { return x.id == r.lot_id; });
    if (l == s.lots.end()) {
        return left;
    }
    // Even from a lot past its expiry that time has not yet expired (the run that records it
    // comes later): what the return takes is then not expired a second time.
    if (l->remaining > 0) {
        points_t part = std::min(left, l->remaining);
        l->remaining -= part;
        left -= part;
        taken += part;
        std::string text = reversal_text(cx, r, head, part, nullptr);
        if (l->expired(cx.now)) {
            text += ", which had expired: they leave its lot, not the balance";
        }
        cx.out.movements.push_back(
            {movement_kind::reverse, -part, l->id, cause, text, l->pending(cx.now)});
    }
    // Points of the award that expired are gone already: taken again from the member's other
    // points, a purchase returned after its points expired would cost the member them twice. A
    // movement of no points says so, as a cancelled redemption's does.
    if (l->expired_points > 0 && left > 0) {
        points_t gone = std::min(left, l->expired_points);
        l->expired_points -= gone;
        left -= gone;
        cx.out.movements.push_back(
            {movement_kind::reverse, 0, l->id, cause,
             reversal_text(cx, r, head, gone, nullptr) + ": expired already, not taken again",
             false});
    }
    return left;
}

// Takes `left` of `r`, which its own lot could not cover, from the member's other available
// points; what still cannot be taken follows the shortfall policy. Returns the points taken
// (debt included).
points_t take_from_others(context& cx, const reversal& r, points_t left, const std::string& cause,
                          const std::string& head) {
    member_state& s = cx.state;
    points_t taken = 0;
    points_t available = 0;
    for (const lot& l : s.lots) {
        if (l.remaining > 0 && !l.pending(cx.now) && !l.expired(cx.now)) {
            available += l.remaining;
        }
    }
    points_t from_others = std::min(left, available);
    if (from_others > 0) {
        // Cannot be refused: no more than what is available.
        (void)draw(cx, from_others, movement_kind::reverse, cause,
                   reversal_text(cx, r, head, from_others,
                                 "from other points (its own were spent or expired)"),
                   false);
        left -= from_others;
        taken += from_others;
    }
    if (left > 0) {
        switch (cx.program.returns.shortfall) {
        case program::shortfall_policy::record_shortfall:
            s.shortfall += left;
            cx.out.points.shortfall += left;
            // A movement of no points, so the history says what the return could not take and
            // that the member owes it (balance.owed), as it says what expired already.
            cx.out.movements.push_back(
                {movement_kind::reverse, 0, 0, cause,
                 reversal_text(cx, r, head, left, nullptr) +
                     ": spent already, not taken; owed until points spent come back",
                 false});
            break;
        case program::shortfall_policy::negative_balance:
            (void)draw(
                cx, left, movement_kind::reverse, cause,
                reversal_text(cx, r, head, left, "owed below zero (its own were spent or expired)"),
                true);
            taken += left;
            break;
        }
    }
    return taken;
}

// Takes every reversal back: first each from its award's own lot, and only then what those
// could not cover from the member's other points. In one pass per reversal, a rule whose own
// points were spent drew from the soonest-expiring lot, which could be another rule's own lot on
// the same purchase, and that rule then said its own were spent when they had been taken for
// the first. Returns the points taken (debt included).
points_t take_back(context& cx, const std::vector<reversal>& reversals, const std::string& cause,
                   const std::string& head) {
    points_t taken = 0;
    std::vector<points_t> left;
    left.reserve(reversals.size());
    for (const reversal& r : reversals) {
        left.push_back(take_from_own_lot(cx, r, cause, head, taken));
    }
    for (std::size_t i = 0; i < reversals.size(); ++i) {
        if (left[i] > 0) {
            taken += take_from_others(cx, reversals[i], left[i], cause, head);
        }
    }
    return taken;
}

// Whether every unit that earned `rule_id` points on the purchase has been returned.
bool returned_in_full(const purchase_record& record, const std::string& rule_id) {
    for (const line_allocation& a : record.lines) {
        auto points = a.points_by_rule.find(rule_id);
        if (points == a.points_by_rule.end() || points->second == 0) {
            continue;
        }
        auto returned = record.returned_quantity.find(a.line_id);
        if (returned == record.returned_quantity.end() || returned->second < a.quantity) {
            return false;
        }
    }
    return true;
}

// What the returned units earned no longer counts against the rules' limits: a payout taken back
// frees its room under a per-member limit (its points at once, the payout itself once nothing of
// it is left) and gives its points back to the rule's program budget, as a cancelled
// redemption frees its reward's limit. Otherwise a member who returned a purchase would lose
// both the points and the room to earn them again, and a budget would run out on points no
// one kept. The release is dated at the purchase, in the period the payout counted in. What
// keeps counting is the purchase itself: first_purchase, nth_purchase and referrals count
// purchases, not payouts.
void release_limits(context& cx, const purchase_record& record,
                    const std::vector<reversal>& reversals) {
    member_state& s = cx.state;
    const timestamp bought_at = record.request.occurred_at;
    for (const reversal& r : reversals) {
        // Only a payout that counted: its usage entry is there, at the purchase's time.
        bool counted = std::any_of(s.usage.begin(), s.usage.end(), [&](const usage_entry& u) {
            return u.rule_id == r.rule_id && u.at == bought_at && u.times > 0;
        });
        bool bonus = std::find(record.clawed_back.begin(), record.clawed_back.end(), r.rule_id) !=
                     record.clawed_back.end();
        if (counted) {
            std::int64_t times = bonus || returned_in_full(record, r.rule_id) ? 1 : 0;
            s.usage.push_back({r.rule_id, bought_at, -times, -r.points});
        }
        const program::earn_rule* rule = cx.program.find_earn_rule(r.rule_id);
        auto used = s.budget_used.find(r.rule_id);
        if (rule != nullptr && rule->limits.budget && used != s.budget_used.end()) {
            used->second -= std::min(r.points, used->second);
        }
    }
}

// What entering `level` granted at `entered`, taken back as the entry is undone: an unused
// voucher is cancelled, points are taken back as a return takes them (from their lot, then from
// others, then per the shortfall policy), and the once-per period is freed. A voucher already
// used stays used: it was handed over at a till.
void take_back_entry(context& cx, std::size_t level, timestamp entered, const std::string& cause,
                     const std::string& head) {
    const program::tier_policy& t = cx.program.tiers;
    member_state& s = cx.state;
    for (const program::benefit& b : cx.program.benefits) {
        if (b.trigger != program::benefit_trigger::tier_entry || b.tier != t.levels[level].id) {
            continue;
        }
        auto use = std::find_if(s.usage.begin(), s.usage.end(), [&](const usage_entry& u) {
            return u.rule_id == b.id && u.at == entered && u.times > 0;
        });
        if (use == s.usage.end()) {
            continue; // not granted at this entry (once_per had been used)
        }
        s.usage.push_back({b.id, entered, -1, -use->points});
        if (!b.grant.reward.empty()) {
            voucher* latest = nullptr;
            for (voucher& v : s.vouchers) {
                if (v.cause == b.id && !v.cancelled &&
                    (latest == nullptr || v.issued_at >= latest->issued_at)) {
                    latest = &v;
                }
            }
            if (latest != nullptr && !latest->redeemed) {
                latest->cancelled = true;
            }
            cx.out.movements.push_back(
                {movement_kind::reverse, 0, 0, cause,
                 head + "the " + b.id + " voucher of entering " + t.levels[level].id +
                     (latest == nullptr || latest->redeemed
                          ? ": used already, it stays used"
                          : " (" + latest->id +
                                ") is cancelled: the tier was entered on what "
                                "was returned"),
                 false});
            continue;
        }
        std::int64_t lot_id = 0;
        for (const lot& l : s.lots) {
            if (l.cause == b.id && l.earned == b.grant.points) {
                lot_id = l.id; // the latest such lot
            }
        }
        std::vector<reversal> back{
            {b.id, b.grant.points, lot_id, false,
             " (entering " + t.levels[level].id + " undone: it was entered on what was returned)"}};
        cx.out.points.reversed += take_back(cx, back, cause, head);
    }
}

// A return that takes away the metric an upgrade stood on undoes the upgrade: the member gets
// back the status it replaced, and what entering the tier granted goes back. Without it,
// buying enough for Gold and returning it kept Gold, its rates and its welcome for the whole
// status. An upgrade made before the purchase, or one the metric still supports (at its start
// or now, with what was bought since), stays.
void undo_upgrades(context& cx, timestamp bought_at, const std::string& cause,
                   const std::string& head) {
    const program::tier_policy& t = cx.program.tiers;
    member_state& s = cx.state;
    while (!s.tier.replaced.empty() && bought_at <= s.tier.since) {
        const std::size_t current = t.index_of(s.tier.tier).value_or(0);
        const std::int64_t at_entry = metric_at(cx.program, s, s.tier.since);
        const std::size_t supported =
            std::max(t.level_for(at_entry), t.level_for(metric_at(cx.program, s, cx.now)));
        // Judged by the threshold the tier had when it was entered, when it is known: a version
        // that raised it since does not make a return take away what the old one admitted.
        if (supported >= current ||
            (s.tier.entry_threshold && at_entry >= *s.tier.entry_threshold)) {
            break;
        }
        tier_status back = std::move(s.tier.replaced.back());
        s.tier.replaced.pop_back();
        back.replaced = std::move(s.tier.replaced);
        const timestamp entered = s.tier.since;
        std::size_t restored = t.index_of(back.tier).value_or(0);
        if (supported > restored) {
            // An upgrade that jumped levels (Green to Reserve) on what was partly kept: the
            // member holds what the rest reached then (Gold), from then, as upgrade_at would
            // have made it, and keeps that level's welcome.
            tier_status kept;
            kept.tier = t.levels[supported].id;
            kept.since = entered;
            kept.entry_threshold = t.levels[supported].threshold;
            kept.valid_until = status_end(cx.program, entered);
            kept.replaced = std::move(back.replaced);
            back.replaced.clear();
            kept.replaced.push_back(std::move(back));
            back = std::move(kept);
            restored = supported;
        }
        s.tier = std::move(back);
        for (std::size_t level = current; level > restored; --level) {
            take_back_entry(cx, level, entered, cause, head);
        }
        cx.tier_changed_at = cx.now;
    }
}

} // namespace

tl::expected<void, rejection> return_purchase(context& cx, const purchase_return& e) {
    const program::program& p = cx.program;
    member_state& s = cx.state;
    auto found =
        std::find_if(s.purchases.begin(), s.purchases.end(), [&](const purchase_record& r) {
            return r.request.transaction_id == e.transaction_id &&
                   (e.store_id.empty() || r.request.store_id == e.store_id);
        });
    if (found == s.purchases.end()) {
        return refuse(rejection_code::unknown_record, "transaction_id",
                      "no purchase " + e.transaction_id);
    }
    purchase_record& record = *found;
    if (e.return_id.empty()) {
        return refuse(rejection_code::invalid_event, "return_id", "a return id is required");
    }
    if (std::find(record.return_ids.begin(), record.return_ids.end(), e.return_id) !=
        record.return_ids.end()) {
        return refuse(rejection_code::already_done, "return_id",
                      "return " + e.return_id + " was already made");
    }
    auto original_line = [&](const std::string& id) -> const purchase_line* {
        for (const purchase_line& l : record.request.lines) {
            if (l.line_id == id) {
                return &l;
            }
        }
        return nullptr;
    };
    auto already_returned = [&](const std::string& id) -> std::int64_t {
        auto it = record.returned_quantity.find(id);
        return it == record.returned_quantity.end() ? 0 : it->second;
    };

    // What this return takes back, by line id; validated before anything changes.
    std::map<std::string, std::int64_t> returning;
    if (e.lines.empty()) {
        for (const purchase_line& l : record.request.lines) {
            std::int64_t left = l.quantity - already_returned(l.line_id);
            if (left > 0) {
                returning[l.line_id] += left;
            }
        }
        if (returning.empty()) {
            return refuse(rejection_code::already_done, "transaction_id",
                          "purchase " + e.transaction_id + " was already returned in full");
        }
    } else {
        for (std::size_t i = 0; i < e.lines.size(); ++i) {
            const returned_line& rl = e.lines[i];
            std::string at = "lines[" + std::to_string(i) + "]";
            const purchase_line* line = original_line(rl.line_id);
            if (line == nullptr) {
                return refuse(rejection_code::invalid_event, at + ".line_id",
                              "purchase " + e.transaction_id + " has no line " + rl.line_id);
            }
            // As in a purchase: a line named twice is a mistake of the till's, not a sum.
            if (returning.count(rl.line_id) != 0) {
                return refuse(rejection_code::invalid_event, at + ".line_id",
                              "line " + rl.line_id + " is named twice in this return");
            }
            if (rl.quantity < 1) {
                return refuse(rejection_code::invalid_event, at + ".quantity",
                              "the quantity returned must be at least 1, got " +
                                  std::to_string(rl.quantity));
            }
            std::int64_t before = already_returned(rl.line_id) + returning[rl.line_id];
            std::int64_t left = line->quantity - before;
            if (rl.quantity > left) {
                // More than was bought is a malformed return; more than what is left after
                // earlier returns is a return already made.
                bool earlier = already_returned(rl.line_id) > 0;
                return refuse(earlier ? rejection_code::already_done
                                      : rejection_code::invalid_event,
                              at + ".quantity",
                              "line " + rl.line_id + " bought " + std::to_string(line->quantity) +
                                  ", already returned " + std::to_string(before) +
                                  ", cannot return " + std::to_string(rl.quantity));
            }
            returning[rl.line_id] += rl.quantity;
        }
    }

    // Points by rule and eligible spend the returned units carried.
    std::map<std::string, points_t> line_points;
    money_t returned_eligible = 0;
    money_t original_eligible = 0;
    for (const line_allocation& a : record.lines) {
        original_eligible += a.eligible_spend;
        auto it = returning.find(a.line_id);
        if (it == returning.end() || a.quantity <= 0) {
            continue;
        }
        std::int64_t before = already_returned(a.line_id);
        returned_eligible += share(a.eligible_spend, before, it->second, a.quantity);
        for (const auto& [rule_id, points] : a.points_by_rule) {
            line_points[rule_id] += share(points, before, it->second, a.quantity);
        }
    }
    money_t earlier_eligible = 0;
    for (const line_allocation& a : record.lines) {
        if (a.quantity > 0) {
            earlier_eligible += share(a.eligible_spend, 0, already_returned(a.line_id), a.quantity);
        }
    }
    money_t remaining_eligible = original_eligible - earlier_eligible - returned_eligible;

    bool everything = true;
    money_t paid_left = 0; // what the units still kept cost
    for (const purchase_line& l : record.request.lines) {
        auto it = returning.find(l.line_id);
        std::int64_t now = it == returning.end() ? 0 : it->second;
        std::int64_t kept = l.quantity - already_returned(l.line_id) - now;
        if (kept > 0) {
            everything = false;
            paid_left += l.amount() - share(l.amount(), 0, l.quantity - kept, l.quantity);
        }
    }
    // Keeping only what cost nothing (a free bag) is returning everything that was paid for: a
    // bonus for the purchase would otherwise stay with a basket worth $0, which earns none.
    const bool nothing_paid_left = !everything && paid_left == 0;

    // Per-line points go back to the lot their award credited.
    std::vector<reversal> reversals;
    for (const auto& [rule_id, points] : line_points) {
        if (points == 0) {
            continue;
        }
        // Without an award (an older record), the rule's own flag says whether it qualified.
        const program::earn_rule* rule = p.find_earn_rule(rule_id);
        reversal r{rule_id, points, 0, rule != nullptr && rule->qualifying, {}};
        for (const rule_award& a : record.awards) {
            if (a.rule_id == rule_id && a.per_line) {
                r.lot_id = a.lot_id;
                r.qualifying = a.qualifying;
                break;
            }
        }
        reversals.push_back(r);
    }
    // Bonuses on the whole purchase: gone with a full return; with recompute, a min_spend bonus
    // goes once what remains no longer reaches its threshold.
    std::vector<std::string> clawed;
    for (const rule_award& a : record.awards) {
        if (a.per_line || a.points == 0 ||
            std::find(record.clawed_back.begin(), record.clawed_back.end(), a.rule_id) !=
                record.clawed_back.end()) {
            continue;
        }
        bool below = a.min_spend && remaining_eligible < *a.min_spend &&
                     p.returns.bonus_clawback == program::clawback_policy::recompute;
        if (everything || nothing_paid_left || below) {
            std::string why = everything ? " (purchase returned in full)"
                              : nothing_paid_left
                                  ? " (nothing paid for remains of the purchase)"
                                  : " (bonus taken back: the remaining spend " +
                                        std::to_string(remaining_eligible) + " is below " +
                                        std::to_string(*a.min_spend) + ")";
            reversals.push_back({a.rule_id, a.points, a.lot_id, a.qualifying, why});
            clawed.push_back(a.rule_id);
        }
    }

    const points_t reversed = take_back(cx, reversals, e.return_id,
                                        "return " + e.return_id + " of " + e.transaction_id + ": ");
    points_t qualifying_reversed = 0;
    points_t unearned = 0; // what the purchase no longer earns, taken back or not
    for (const reversal& r : reversals) {
        unearned += r.points;
        if (r.qualifying) {
            qualifying_reversed += r.points;
        }
    }

    for (const std::string& id : clawed) {
        record.clawed_back.push_back(id);
    }
    for (const auto& [line_id, quantity] : returning) {
        record.returned_quantity[line_id] += quantity;
    }
    record.return_ids.push_back(e.return_id);
    release_limits(cx, record, reversals);
    // The tier metric loses what the return took back; an upgrade that stood on it is undone
    // below (undo_upgrades), and no other status changes.
    // The loss is dated at the purchase, where its gain is: dated at the return, it would stay
    // in a rolling window after the purchase left it and count against the member's next year.
    const timestamp bought_at = record.request.occurred_at;
    switch (p.tiers.metric) {
    case program::tier_metric::qualifying_points:
        if (qualifying_reversed != 0) {
            s.metric.push_back({bought_at, -qualifying_reversed, e.return_id});
        }
        break;
    case program::tier_metric::eligible_spend:
        if (returned_eligible != 0) {
            s.metric.push_back({bought_at, -returned_eligible, e.return_id});
        }
        break;
    case program::tier_metric::purchases:
        if (everything) {
            s.metric.push_back({bought_at, -1, e.return_id});
        }
        break;
    }
    s.lifetime_spend -= returned_eligible;
    s.lifetime_points -= unearned;
    cx.out.points.reversed += reversed;
    undo_upgrades(cx, bought_at, e.return_id,
                  "return " + e.return_id + " of " + e.transaction_id + ": ");
    return {};
}

} // namespace loyalty::engine::detail
