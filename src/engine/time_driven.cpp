// Time-driven work due up to now: pending points mature, lots expire, tier statuses end,
// birthday and anniversary benefits are granted.
//
// Every part is "due by now, exactly once": each looks at the state for what has fallen due
// and leaves the state so that a second run at the same or a later now finds nothing more to
// do except what fell due in between. The store may therefore run it as often as it likes.
#include "context.hpp"
#include "loyalty/engine/evaluate.hpp"
#include "loyalty/engine/local_time.hpp"

#include <algorithm>

namespace loyalty::engine::detail {

namespace {

std::string local_month_text(const date::time_zone* zone, timestamp t) {
    return date::format("%Y-%m", date::floor<date::days>(to_local(zone, t)));
}

bool holds_exempt_tier(const context& cx) {
    return cx.program.points.expiry.exempts(cx.state.tier.tier);
}

// Builds before 2026-12-07 gave a lot under a yearly date the first date after it was earned,
// so points pending across the date (bought on 30 December, 12-31, 14 days pending) expired
// before they could be spent, and such lots are stored that way. Before any of them expires, it
// takes the date credit() gives it now: the first on or after the day it becomes available.
// Nothing else leaves a lot expiring before it is available (an expiry after N days that a
// pending period outlasts does not load), so nothing else is touched.
void correct_expiry_before_available(context& cx) {
    if (cx.program.points.expiry.policy != program::expiry_policy::fixed_date) {
        return;
    }
    for (lot& l : cx.state.lots) {
        if (l.remaining > 0 && l.expires_at && *l.expires_at <= l.available_at) {
            l.expires_at = expiry_for(cx, l.earned_at, l.available_at);
        }
    }
}

// Pending lots whose pending period is over become available. A lot that was never pending
// (available at once) needs no mature movement: its earn movement already said so.
void mature_lots(context& cx) {
    member_state& s = cx.state;
    const date::time_zone* zone = cx.program.time_zone;
    for (lot& l : s.lots) {
        if (l.available_at <= l.earned_at || l.available_at > cx.now || l.remaining <= 0 ||
            l.matured) {
            continue;
        }
        points_t matured = l.remaining;
        movement m;
        m.kind = movement_kind::mature;
        m.points = matured;
        m.lot_id = l.id;
        m.cause = l.cause;
        m.explanation = points_text(cx.program, matured) + " became available (pending since " +
                        local_date_text(zone, l.earned_at) + ")";
        cx.out.movements.push_back(std::move(m));
        cx.out.points.matured += matured;
        l.matured = true;

        // A debt (a lot below zero) is repaid first from what becomes available, as credit()
        // does for points available at once. The debt and the lot change, the balance does not.
        for (lot& debt : s.lots) {
            if (&debt != &l && debt.remaining < 0 && l.remaining > 0 && !l.expired(cx.now)) {
                points_t repay = std::min(l.remaining, -debt.remaining);
                debt.remaining += repay;
                l.remaining -= repay;
            }
        }
    }
}

void end_tier_statuses(context& cx) {
    const program::tier_policy& t = cx.program.tiers;
    std::size_t before = t.index_of(cx.state.tier.tier).value_or(0);
    cx.state.tier = tier_status_at(cx.program, cx.state, cx.now);
    // Reassessed to a higher tier than it held (thresholds lowered since, or one_level's
    // floor): entering it grants its entry benefits, as an upgrade does.
    std::size_t after = t.index_of(cx.state.tier.tier).value_or(0);
    if (after > before) {
        grant_entry_benefits(cx, before, after, cx.state.tier.since);
    }
}

// Exempt tiers: a member holding one keeps every lot until the status ends. Lots that would
// expire before then are moved to expire at the end of the status (their points are usable
// until then, and balance_at agrees); when the status ends without requalifying for an exempt
// tier, those lots expire at that moment, and when it is renewed they move on to the new end.
// A status that never ends (no valid_until) keeps them for good.
// A lot whose expiry passed before the current status began expired before the member held
// the tier (a run may not have recorded it yet): it is not deferred, whenever the run comes.
// Found by the property test: a purchase at 12:55 that moved a member into Reserve brought back,
// with no movement, points that had expired at 02:39. A lot that expired during the status (or
// at its start, where a renewed status begins) is deferred.
void defer_exempt_expiry(context& cx) {
    std::optional<timestamp> status_end = cx.state.tier.valid_until;
    for (lot& l : cx.state.lots) {
        if (l.remaining <= 0 || !l.expires_at ||
            (l.expired(cx.now) && *l.expires_at < cx.state.tier.since)) {
            continue;
        }
        if (!status_end) {
            l.expires_at = std::nullopt;
        } else if (*l.expires_at < *status_end) {
            l.expires_at = *status_end;
        }
    }
}

// Lots keep the expiry they were earned under: a program version with another policy applies to
// points earned from then on. A dated lot under `never` or `inactivity` was earned under an
// earlier version's dates; every balance stops counting it at that date, so it expires then,
// with its movement, rather than staying neither spendable nor expired.
void expire_dated_lots(context& cx) {
    for (lot& l : cx.state.lots) {
        if (l.remaining > 0 && l.expired(cx.now)) {
            expire_lot(cx, l, "expired " + last_day_text(cx.program.time_zone, *l.expires_at));
        }
    }
}

// Under inactivity expiry, once the deadline has passed, everything held at it expires then;
// points that came later (a benefit, say) are not activity but are not forfeited retroactively
// either.
void expire_inactive(context& cx) {
    auto deadline = inactivity_deadline(cx.program, cx.state);
    if (!deadline || *deadline > cx.now) {
        return;
    }
    const date::time_zone* zone = cx.program.time_zone;
    timestamp since = cx.state.last_activity.value_or(cx.state.enrolled_at);
    for (lot& l : cx.state.lots) {
        if (l.remaining > 0 && l.earned_at <= *deadline) {
            l.expires_at = *deadline;
            expire_lot(cx, l,
                       "no activity since " + local_date_text(zone, since) + ", expired " +
                           last_day_text(zone, *deadline));
        }
    }
}

void expire_lots(context& cx) {
    const program::expiry_rule& x = cx.program.points.expiry;
    if (x.policy == program::expiry_policy::never) {
        expire_dated_lots(cx);
        return;
    }
    if (holds_exempt_tier(cx)) {
        if (x.policy != program::expiry_policy::inactivity) {
            defer_exempt_expiry(cx);
            // What expired before the status began, and was not deferred, expires now.
            expire_dated_lots(cx);
        }
        // Inactivity: nothing expires while exempt; after the status ends the deadline has
        // passed and everything expires at the next run.
        return;
    }
    if (x.policy == program::expiry_policy::inactivity) {
        expire_dated_lots(cx);
        expire_inactive(cx);
        return;
    }
    expire_dated_lots(cx);
}

// How many times `benefit_id` was granted in the period that contains `t` (not the one that
// contains now: a birthday voucher granted late, in January for a December birthday, still
// counts for the year of the birthday).
std::int64_t times_used_in_period_of(const context& cx, const std::string& benefit_id,
                                     const program::period& p, timestamp t) {
    const date::time_zone* zone = cx.program.time_zone;
    timestamp start = period_start(p, zone, t);
    std::int64_t times = 0;
    for (const usage_entry& u : cx.state.usage) {
        if (u.rule_id != benefit_id) {
            continue;
        }
        bool same = p.kind == program::period_kind::rolling_days
                        ? u.at > start && u.at < t + date::days{p.days}
                        : period_start(p, zone, u.at) == start;
        if (same) {
            times += u.times;
        }
    }
    return times;
}

// The date a yearly occasion falls on in `year`. Someone born (or enrolled) on 29 February
// celebrates on 28 February in years without one, so the occasion stays in February and in
// the same calendar year.
date::year_month_day occasion_in(date::year year, date::month month, date::day day) {
    date::year_month_day ymd = year / month / day;
    if (!ymd.ok()) {
        ymd = date::year_month_day{date::year_month_day_last{year, date::month_day_last{month}}};
    }
    return ymd;
}

bool tier_eligible(const context& cx, const program::benefit& b) {
    return b.tiers.empty() ||
           std::find(b.tiers.begin(), b.tiers.end(), cx.state.tier.tier) != b.tiers.end();
}

// Grants `b` if its occasion this local year, [starts, ends), has begun by now, the member
// was enrolled before it was over, and it was not yet granted in the period of the occasion.
void grant_if_due(context& cx, const program::benefit& b, timestamp starts, timestamp ends) {
    if (starts > cx.now || ends <= cx.state.enrolled_at || !tier_eligible(cx, b)) {
        return;
    }
    // A late run (the occasion is over) only catches up for a member who already held the tier
    // during it: reaching Gold in May earns no drink for a March birthday.
    if (ends <= cx.now && cx.state.tier.since >= ends) {
        return;
    }
    program::period once =
        b.once_per.value_or(program::period{program::period_kind::calendar_year, 0});
    if (times_used_in_period_of(cx, b.id, once, starts) > 0) {
        return;
    }
    grant_benefit(cx, b);
}

// Birthday and anniversary benefits of the current local year. Only this year's occasion is
// considered: one missed entirely last year (no run between it and the new year) is not
// granted afterwards. The member's tier is the one held now, after statuses were reassessed.
void grant_yearly_benefits(context& cx) {
    const date::time_zone* zone = cx.program.time_zone;
    date::year year = local_fields_of(zone, cx.now).date.year();
    auto midnight = [&](date::year_month_day d) {
        return to_instant(zone, date::local_seconds{date::local_days{d}});
    };
    for (const program::benefit& b : cx.program.benefits) {
        if (b.trigger == program::benefit_trigger::birthday && cx.state.birthday) {
            date::year_month_day day =
                occasion_in(year, cx.state.birthday->month(), cx.state.birthday->day());
            if (b.birthday == program::birthday_granularity::month) {
                timestamp first = midnight(day.year() / day.month() / 1);
                grant_if_due(cx, b, first, end_of_local_month(zone, first));
            } else {
                timestamp first = midnight(day);
                grant_if_due(cx, b, first, end_of_local_day(zone, first));
            }
        } else if (b.trigger == program::benefit_trigger::enrollment_anniversary) {
            date::year_month_day enrolled = local_fields_of(zone, cx.state.enrolled_at).date;
            if (year <= enrolled.year()) {
                continue;
            }
            timestamp first = midnight(occasion_in(year, enrolled.month(), enrolled.day()));
            grant_if_due(cx, b, first, end_of_local_day(zone, first));
        }
    }
}

} // namespace

void expire_lot(context& cx, lot& l, const std::string& why) {
    const date::time_zone* zone = cx.program.time_zone;
    points_t expired = l.remaining;
    movement m;
    m.kind = movement_kind::expire;
    m.points = -expired;
    m.lot_id = l.id;
    m.cause = l.cause;
    m.explanation = points_text(cx.program, expired) + " expired: earned " +
                    local_month_text(zone, l.earned_at) + ", " + why;
    cx.out.movements.push_back(std::move(m));
    cx.out.points.expired += expired;
    l.expired_points += expired;
    l.remaining = 0;
}

void keep_exempt_lots(context& cx) {
    const program::expiry_rule& x = cx.program.points.expiry;
    if (x.policy != program::expiry_policy::never &&
        x.policy != program::expiry_policy::inactivity && holds_exempt_tier(cx)) {
        defer_exempt_expiry(cx);
    }
}

// Order matters: a stored expiry is corrected before anything expires; lots mature before they
// can expire in the same run; statuses are reassessed before expiry so that a member leaving an
// exempt tier loses the deferred lots at once, and before benefits so that those go to the tier
// the member holds now.
// After the statuses, an upgrade: the metric may support more than the status that ended left
// (a new program version with lower thresholds, activated since), and a member whose metric
// reaches a threshold holds the tier, as after any event.
tl::expected<void, rejection> pass_time(context& cx, const time_passes&) {
    correct_expiry_before_available(cx);
    mature_lots(cx);
    end_tier_statuses(cx);
    upgrade_tier(cx);
    expire_lots(cx);
    grant_yearly_benefits(cx);
    return {};
}

// Lots carry their own dates, and every balance reads them, so maturing and dated expiry need
// no run of the jobs before an event to be right. A tier is a label until its status is
// reassessed: after the status's end, an event would earn at the old tier's rates (and spend
// from an exempt tier's deferred lots) until the jobs ran. So a status that ended by the event's
// time is reassessed first, as the jobs would have done it; the event's outcome shows the change.
void catch_up(context& cx) {
    const tier_status& status = cx.state.tier;
    if (status.valid_until && *status.valid_until <= cx.now) {
        end_tier_statuses(cx);
        // A renewed exempt status keeps the lots that were to expire at its old end: before
        // the event spends, not only after it (a redemption found them expired).
        keep_exempt_lots(cx);
    }
    // Likewise an inactivity deadline, which no lot carries: an event after it (a purchase is
    // activity) would otherwise keep points that expired at it, and a redemption spend them.
    settle_inactivity(cx);
}

void settle_inactivity(context& cx) {
    if (cx.program.points.expiry.policy == program::expiry_policy::inactivity &&
        !holds_exempt_tier(cx)) {
        expire_inactive(cx);
    }
}

} // namespace loyalty::engine::detail

namespace loyalty::engine {

std::optional<timestamp> inactivity_deadline(const program::program& p,
                                             const member_state& member) {
    const program::expiry_rule& x = p.points.expiry;
    if (x.policy != program::expiry_policy::inactivity) {
        return std::nullopt;
    }
    timestamp since = member.last_activity.value_or(member.enrolled_at);
    return x.months > 0 ? add_local_months(p.time_zone, since, x.months, false)
                        : since + date::days{x.days};
}

std::optional<timestamp> next_due(const program::program& p, const member_state& member,
                                  timestamp now) {
    std::optional<timestamp> due;
    auto consider = [&](timestamp t) {
        // Work that is already due is due now; the caller runs it at the next opportunity.
        t = std::max(t, now);
        if (!due || t < *due) {
            due = t;
        }
    };
    for (const lot& l : member.lots) {
        if (l.remaining > 0 && !l.matured && l.available_at > l.earned_at) {
            consider(l.available_at);
        }
        if (l.remaining > 0 && l.expires_at) {
            consider(*l.expires_at);
        }
    }
    if (member.tier.valid_until) {
        consider(*member.tier.valid_until);
    }
    bool daily = p.points.expiry.policy == program::expiry_policy::inactivity;
    for (const program::benefit& b : p.benefits) {
        daily = daily || b.trigger == program::benefit_trigger::enrollment_anniversary ||
                (b.trigger == program::benefit_trigger::birthday && member.birthday);
    }
    if (daily) {
        consider(end_of_local_day(p.time_zone, now));
    }
    return due;
}

} // namespace loyalty::engine
