// Crediting and drawing points, usage counting and vouchers: the operations every step shares.
#include "context.hpp"

#include <algorithm>
#include <charconv>

namespace loyalty::engine::detail {

std::string concat(std::initializer_list<std::string_view> parts) {
    std::size_t size = 0;
    for (std::string_view part : parts) {
        size += part.size();
    }
    std::string text;
    text.reserve(size);
    for (std::string_view part : parts) {
        text += part;
    }
    return text;
}

std::string local_date_text(const date::time_zone* zone, timestamp t) {
    return date::format("%F", date::floor<date::days>(to_local(zone, t)));
}

std::string last_day_text(const date::time_zone* zone, timestamp expires_at) {
    return local_date_text(zone, expires_at - std::chrono::seconds{1});
}

std::string points_text(const program::program& p, points_t points) {
    char digits[24];
    char* end = std::to_chars(digits, digits + sizeof digits, points).ptr;
    return concat({std::string_view(digits, static_cast<std::size_t>(end - digits)), " ",
                   points == 1 || points == -1 ? p.points.singular : p.points.name});
}

// A lot's expiry under the program's policy. `after` counts from when the points were earned; a
// yearly date is the first on or after the day they become available, so that points pending
// across it (a purchase on 30 December, the date 12-31, 14 days pending) are not lost before
// they could ever be spent.
std::optional<timestamp> expiry_for(const context& cx, timestamp earned_at,
                                    timestamp available_at) {
    const program::expiry_rule& x = cx.program.points.expiry;
    const date::time_zone* zone = cx.program.time_zone;
    switch (x.policy) {
    case program::expiry_policy::after:
        if (x.months > 0) {
            return add_local_months(zone, earned_at, x.months, x.round_to_end_of_month);
        }
        if (x.round_to_end_of_month) {
            return end_of_local_month(zone, earned_at + date::days{x.days});
        }
        return earned_at + date::days{x.days};
    case program::expiry_policy::fixed_date: {
        // The next occurrence of the yearly date, at the end of that local day.
        auto local = date::floor<date::days>(to_local(zone, available_at));
        date::year year = date::year_month_day{local}.year();
        for (int i = 0; i < 2; ++i) {
            auto day = date::local_days{(year + date::years{i}) / date::month{x.date.month} /
                                        date::day{x.date.day}};
            if (day >= local) {
                return to_instant(zone, date::local_seconds{day + date::days{1}});
            }
        }
        return std::nullopt;
    }
    case program::expiry_policy::inactivity: // handled as a whole by the time-driven step
    case program::expiry_policy::never:
        break;
    }
    return std::nullopt;
}

points_t award_points(context& cx, wide_int points, const std::string& rule_id) {
    if (points > max_award_points || points < -max_award_points) {
        if (!cx.out_of_range) {
            cx.out_of_range = "rule " + rule_id + " would pay more than " +
                              std::to_string(max_award_points) + " points at once";
        }
        return points > 0 ? max_award_points : -max_award_points;
    }
    return static_cast<points_t>(points);
}

std::int64_t credit(context& cx, points_t points, const std::string& cause, bool qualifying,
                    std::int64_t pending_days, std::string explanation, movement_kind kind) {
    member_state& s = cx.state;
    lot l;
    l.id = s.next_lot_id++;
    l.earned = points;
    l.remaining = points;
    l.earned_at = cx.now;
    l.available_at = cx.now + date::days{pending_days};
    if (!cx.expiry_of_now || cx.expiry_of_now->first != l.available_at) {
        cx.expiry_of_now = {l.available_at, expiry_for(cx, cx.now, l.available_at)};
    }
    l.expires_at = cx.expiry_of_now->second;
    l.cause = cause;
    l.qualifying = qualifying;
    // Pending as of when it is posted: a purchase posted after its pending period ended earns
    // points available at once, with nothing left to mature. Points that had expired by then
    // repay no debt: expire_when_posted expires them.
    const bool expired = l.expired(cx.posted_at);
    const bool pending = !expired && l.pending(cx.posted_at);
    l.matured = !pending;
    if (!expired && !pending && l.pending(cx.now)) {
        explanation = concat({explanation, "; available at once: its ",
                              std::to_string(pending_days), "-day pending period ended ",
                              local_date_text(cx.program.time_zone, l.available_at),
                              ", before it was posted"});
    }

    // A negative balance (a debt lot) is repaid first from what is earned.
    for (lot& debt : s.lots) {
        if (debt.remaining < 0 && l.remaining > 0 && !pending && !expired) {
            points_t repay = std::min(l.remaining, -debt.remaining);
            debt.remaining += repay;
            l.remaining -= repay;
        }
    }
    s.lots.push_back(l);
    s.lifetime_points += points;
    if (qualifying && cx.program.tiers.metric == program::tier_metric::qualifying_points) {
        s.metric.push_back({cx.now, points, cause});
    }
    movement m;
    m.kind = kind;
    m.points = points;
    m.lot_id = l.id;
    m.cause = cause;
    m.explanation = std::move(explanation);
    m.pending = pending;
    cx.out.movements.push_back(std::move(m));
    if (kind == movement_kind::earn) {
        cx.out.points.earned += points;
    }
    if (pending) {
        cx.out.points.pending += points;
        if (!cx.out.points.available_from || l.available_at > *cx.out.points.available_from) {
            cx.out.points.available_from = l.available_at;
        }
    }
    return l.id;
}

void expire_when_posted(context& cx) {
    if (cx.posted_at == cx.now) {
        return;
    }
    for (lot& l : cx.state.lots) {
        if (l.id >= cx.first_new_lot && l.remaining > 0 && l.expired(cx.posted_at)) {
            expire_lot(cx, l,
                       concat({"expired ", last_day_text(cx.program.time_zone, *l.expires_at),
                               ", before it was posted"}));
        }
    }
}

tl::expected<std::vector<lot_draw>, rejection> draw(context& cx, points_t points,
                                                    movement_kind kind, const std::string& cause,
                                                    const std::string& explanation,
                                                    bool allow_negative) {
    member_state& s = cx.state;
    std::vector<lot*> usable;
    points_t available = 0;
    points_t owed = 0;
    for (lot& l : s.lots) {
        if (l.remaining > 0 && !l.pending(cx.now) && !l.expired(cx.now)) {
            usable.push_back(&l);
            available += l.remaining;
        } else if (l.remaining < 0) {
            owed -= l.remaining;
        }
    }
    if (available < points && !allow_negative) {
        // A member below zero sees a negative balance: "0 available" alone would not match it.
        std::string detail = "needs " + points_text(cx.program, points) + ", has " +
                             points_text(cx.program, available) + " available";
        if (owed > 0) {
            detail += " and owes " + points_text(cx.program, owed);
        }
        return tl::unexpected(rejection{rejection_code::insufficient_points, "points", detail});
    }
    // Soonest-expiring first (never-expiring last), then oldest, then lowest id.
    std::sort(usable.begin(), usable.end(), [](const lot* a, const lot* b) {
        auto key = [](const lot* l) {
            return std::tuple(!l->expires_at.has_value(), l->expires_at.value_or(timestamp::max()),
                              l->earned_at, l->id);
        };
        return key(a) < key(b);
    });
    std::vector<lot_draw> draws;
    points_t left = points;
    auto record = [&](std::int64_t lot_id, points_t taken) {
        draws.push_back({lot_id, taken});
        cx.out.movements.push_back({kind, -taken, lot_id, cause, explanation, false});
    };
    for (lot* l : usable) {
        if (left == 0) {
            break;
        }
        points_t taken = std::min(left, l->remaining);
        l->remaining -= taken;
        left -= taken;
        record(l->id, taken);
    }
    if (left > 0) {
        // Only with allow_negative: the rest is owed, as a lot below zero.
        lot debt;
        debt.id = s.next_lot_id++;
        debt.earned = 0;
        debt.remaining = -left;
        debt.earned_at = cx.now;
        debt.available_at = cx.now;
        debt.cause = cause;
        s.lots.push_back(debt);
        record(debt.id, left);
    }
    return draws;
}

void repay_debts(context& cx) {
    member_state& s = cx.state;
    // Most members owe nothing: then there is nothing to sort.
    if (std::none_of(s.lots.begin(), s.lots.end(), [](const lot& l) { return l.remaining < 0; })) {
        return;
    }
    std::vector<lot*> debts;
    std::vector<lot*> usable;
    for (lot& l : s.lots) {
        if (l.remaining < 0) {
            debts.push_back(&l);
        } else if (l.remaining > 0 && !l.pending(cx.now) && !l.expired(cx.now) &&
                   !l.expired(cx.posted_at)) {
            // (Posted late, points that have expired since the event's time repay nothing.)
            usable.push_back(&l);
        }
    }
    if (debts.empty() || usable.empty()) {
        return;
    }
    std::sort(usable.begin(), usable.end(), [](const lot* a, const lot* b) {
        auto key = [](const lot* l) {
            return std::tuple(!l->expires_at.has_value(), l->expires_at.value_or(timestamp::max()),
                              l->earned_at, l->id);
        };
        return key(a) < key(b);
    });
    for (lot* debt : debts) {
        for (lot* l : usable) {
            if (debt->remaining == 0) {
                break;
            }
            points_t repay = std::min(l->remaining, -debt->remaining);
            debt->remaining += repay;
            l->remaining -= repay;
        }
    }
}

// Counted over the whole period containing now, payouts dated after now included: an event
// posted late comes after them, and counting only those before it would let a limit pay twice
// in one period.
std::int64_t times_used(const context& cx, const std::string& rule_id, const program::period& p) {
    return times_used_at(cx, rule_id, p, cx.now);
}

std::int64_t times_used_at(const context& cx, const std::string& rule_id, const program::period& p,
                           timestamp at) {
    timestamp from = period_start(p, cx.program.time_zone, at);
    timestamp to = period_end(p, cx.program.time_zone, at);
    std::int64_t times = 0;
    for (const usage_entry& u : cx.state.usage) {
        if (u.rule_id == rule_id && u.at >= from && u.at < to) {
            times += u.times;
        }
    }
    return times;
}

points_t points_used(const context& cx, const std::string& rule_id, const program::period& p) {
    timestamp from = period_start(p, cx.program.time_zone, cx.now);
    timestamp to = period_end(p, cx.program.time_zone, cx.now);
    points_t points = 0;
    for (const usage_entry& u : cx.state.usage) {
        if (u.rule_id == rule_id && u.at >= from && u.at < to) {
            points += u.points;
        }
    }
    return points;
}

voucher& issue_voucher(context& cx, const std::string& reward_id,
                       const program::voucher_validity& validity, const std::string& cause) {
    voucher v;
    v.id = cx.state.id + "-v" + std::to_string(cx.state.next_voucher_number++);
    v.reward_id = reward_id;
    // Issued when it reaches the member: a benefit of a purchase posted late is not dated back
    // to the purchase, where its days of validity could have run out before anyone saw it.
    v.issued_at = cx.posted_at;
    v.valid_until = validity.until_end_of_month
                        ? end_of_local_month(cx.program.time_zone, cx.posted_at)
                        : cx.posted_at + date::days{validity.days.value_or(30)};
    v.cause = cause;
    cx.out.vouchers.push_back(v);
    cx.state.vouchers.push_back(v);
    return cx.state.vouchers.back();
}

} // namespace loyalty::engine::detail
