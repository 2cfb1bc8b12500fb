// Tier upgrades and the benefits they trigger.
#include "context.hpp"

#include <algorithm>

namespace loyalty::engine {

std::int64_t metric_at(const program::program& p, const member_state& member, timestamp now) {
    const program::tier_policy& t = p.tiers;
    timestamp from = timestamp::min();
    switch (t.window) {
    case program::tier_window_kind::rolling_months:
        from = add_local_months(p.time_zone, now, -t.window_months, false);
        break;
    case program::tier_window_kind::calendar_year:
        from = period_start({program::period_kind::calendar_year, 0}, p.time_zone, now);
        break;
    case program::tier_window_kind::enrollment_year: {
        // The last enrollment anniversary at or before now.
        auto enrolled = to_local(p.time_zone, member.enrolled_at);
        auto local_now = to_local(p.time_zone, now);
        auto years = date::year_month_day{date::floor<date::days>(local_now)}.year() -
                     date::year_month_day{date::floor<date::days>(enrolled)}.year();
        from = add_local_months(p.time_zone, member.enrolled_at, years.count() * 12, false);
        if (from > now) {
            from =
                add_local_months(p.time_zone, member.enrolled_at, (years.count() - 1) * 12, false);
        }
        break;
    }
    case program::tier_window_kind::lifetime:
        break;
    }
    // A rolling window is the time since `from`: what happened exactly a window ago has left
    // it. A calendar or enrollment year begins at its first instant, which is in it: a purchase
    // at local midnight on 1 January, or the enrollment bonus at enrollment, counts that year.
    const bool starts_inside = t.window != program::tier_window_kind::rolling_months;
    std::int64_t metric = 0;
    for (const metric_entry& m : member.metric) {
        if ((m.at > from || (starts_inside && m.at == from)) && m.at <= now) {
            metric += m.amount;
        }
    }
    // Returns subtract in the unit their purchase was counted in; after a version that changed
    // the metric's unit they can subtract more than the window holds in the new one.
    return std::max<std::int64_t>(metric, 0);
}

namespace detail {

std::optional<timestamp> status_end(const program::program& p, timestamp from) {
    const program::tier_policy& t = p.tiers;
    if (t.status_months <= 0) {
        return std::nullopt;
    }
    return add_local_months(p.time_zone, from, t.status_months, false) + date::days{t.grace_days};
}

} // namespace detail

// A status ends at valid_until and is reassessed on the metric at that instant. Several may have
// ended since the last look: each is reassessed in turn, each new status starting where the
// previous one ended (not at now), so the dates do not drift with the time the jobs happen to
// run.
tier_status tier_status_at(const program::program& p, const member_state& member, timestamp now) {
    const program::tier_policy& t = p.tiers;
    tier_status status = member.tier;
    while (status.valid_until && *status.valid_until <= now && !t.levels.empty()) {
        timestamp ended = *status.valid_until;
        std::size_t current = t.index_of(status.tier).value_or(0);
        std::size_t supported = t.level_for(metric_at(p, member, ended));
        std::size_t next = supported;
        if (t.downgrade == program::downgrade_rule::one_level && current > 0) {
            next = std::max(supported, current - 1);
        }
        status.tier = t.levels[next].id;
        status.since = ended;
        status.replaced.clear(); // what came before ended with it
        status.entry_threshold.reset();
        // The lowest tier is every member's by default; it has nothing to lose, so it never
        // ends. A status that ends by itself is always longer than zero months, so the loop
        // ends.
        status.valid_until = next == 0 ? std::nullopt : detail::status_end(p, ended);
    }
    return status;
}

namespace detail {

void grant_benefit(context& cx, const program::benefit& b) {
    grant_benefit(cx, b, cx.now);
}

void grant_benefit(context& cx, const program::benefit& b, timestamp at) {
    if (!b.grant.reward.empty()) {
        issue_voucher(cx, b.grant.reward, b.grant.validity, b.id);
    } else {
        credit(cx, b.grant.points, b.id, false, 0,
               points_text(cx.program, b.grant.points) + ": " +
                   (b.description.empty() ? b.id : b.description));
    }
    cx.state.usage.push_back({b.id, at, 1, b.grant.points});
}

// The tier-entry benefits of every level above `from` up to `to`, entered at `at`: a benefit
// granted once per period counts in the period of the entry (a late purchase's upgrade dates
// from its posting, a status end's from the end), not of the event's own time.
void grant_entry_benefits(context& cx, std::size_t from, std::size_t to, timestamp at) {
    const program::tier_policy& t = cx.program.tiers;
    for (std::size_t level = from + 1; level <= to && level < t.levels.size(); ++level) {
        for (const program::benefit& b : cx.program.benefits) {
            if (b.trigger == program::benefit_trigger::tier_entry && b.tier == t.levels[level].id) {
                if (b.once_per && times_used_at(cx, b.id, *b.once_per, at) > 0) {
                    continue;
                }
                grant_benefit(cx, b, at);
            }
        }
    }
}

namespace {

// Upgrades to the level the metric at `at` supports, if it is higher, from `at`.
void upgrade_at(context& cx, timestamp at) {
    const program::tier_policy& t = cx.program.tiers;
    std::int64_t metric = metric_at(cx.program, cx.state, at);
    std::size_t supported = t.level_for(metric);
    auto current = t.index_of(cx.state.tier.tier);
    std::size_t current_index = current.value_or(0);
    if (current && supported <= current_index) {
        return;
    }
    // The status replaced is kept, in case a return takes away what this upgrade stood on.
    tier_status before = cx.state.tier;
    std::vector<tier_status> replaced = std::move(before.replaced);
    before.replaced.clear();
    replaced.push_back(std::move(before));
    cx.state.tier.replaced = std::move(replaced);
    cx.state.tier.entry_threshold = t.levels[supported].threshold;
    cx.state.tier.tier = t.levels[supported].id;
    cx.state.tier.since = at;
    cx.state.tier.valid_until = status_end(cx.program, at);
    // Entering a tier grants its entry benefits; skipping a level grants those of every level
    // passed (a Green member jumping to Reserve also becomes Gold on the way).
    grant_entry_benefits(cx, current_index, supported, at);
}

} // namespace

// As of the event's time, then as of its posting: a purchase posted late counts in the metric of
// its own time, where what came after it is not yet counted, and in today's, where it is. A
// member whose metric reaches a threshold only with both (a late purchase of $100 beside one of
// $175 made since) reaches it when the purchase is posted, not at the next event.
void upgrade_tier(context& cx) {
    upgrade_at(cx, cx.now);
    if (cx.posted_at > cx.now) {
        upgrade_at(cx, cx.posted_at);
    }
}

} // namespace detail
} // namespace loyalty::engine
