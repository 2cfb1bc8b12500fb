// evaluate(): copies the member, runs the one step its event calls for, and summarises.
#include "loyalty/engine/evaluate.hpp"

#include "context.hpp"

#include <initializer_list>
#include <string_view>
#include <utility>

namespace loyalty::engine {

namespace {

// A birthday after the program's local date tomorrow (a day of slack for members in zones
// ahead of the program's) is a typing mistake, and would grant nothing for years.
tl::expected<void, rejection> check_birthday(const program::program& p,
                                             const std::optional<date::year_month_day>& birthday,
                                             timestamp now) {
    if (!birthday) {
        return {};
    }
    auto today = date::floor<date::days>(to_local(p.time_zone, now));
    if (date::local_days{*birthday} > today + date::days{1}) {
        return tl::unexpected(rejection{rejection_code::invalid_event, "birthday",
                                        date::format("%F", *birthday) + " is in the future"});
    }
    return {};
}

template <class... Ts>
struct overloaded : Ts... {
    using Ts::operator()...;
};
template <class... Ts>
overloaded(Ts...) -> overloaded<Ts...>;

// The event's ids for the outcome, as an object of strings. Built key by key: nlohmann's
// initializer lists build each pair as an array first and copy it.
nlohmann::json echo(std::initializer_list<std::pair<std::string_view, std::string_view>> fields) {
    nlohmann::json j = nlohmann::json::object();
    for (const auto& [key, value] : fields) {
        j[std::string(key)] = std::string(value);
    }
    return j;
}

// The member as the event finds it, copied into the outcome. A purchase appends to a few of
// its lists; room for that is made before copying (assignment keeps a vector's capacity), so
// that the appends do not reallocate and move a long history.
void copy_member(member_state& into, const member_state& from, const event& e) {
    if (std::holds_alternative<purchase>(e)) {
        into.lots.reserve(from.lots.size() + 8);
        into.metric.reserve(from.metric.size() + 8);
        into.usage.reserve(from.usage.size() + 8);
        into.purchase_times.reserve(from.purchase_times.size() + 1);
        into.purchases.reserve(from.purchases.size() + 1);
    }
    into = from;
}

timestamp occurred_at(const event& e) {
    return std::visit(overloaded{[](const time_passes& t) { return t.now; },
                                 [](const enrollment& n) { return n.enrolled_at; },
                                 [](const auto& other) {
                                     return other.occurred_at;
                                 }},
                      e);
}

// The request field whose amount an out-of-range refusal names: what the client would change.
std::string amount_field(const event& e) {
    return std::visit(overloaded{[](const purchase&) { return std::string("lines"); },
                                 [](const purchase_return&) { return std::string("lines"); },
                                 [](const points_payment&) { return std::string("points"); },
                                 [](const adjustment&) { return std::string("points"); },
                                 [](const reward_redemption&) { return std::string("reward_id"); },
                                 [](const custom_event&) { return std::string("type"); },
                                 [](const auto&) {
                                     return std::string();
                                 }},
                      e);
}

// Why the member's totals after the event are past max_member_total, if they are. Only the
// totals an event adds to are checked; balances may be below zero by debts, never by this much.
std::optional<std::string> past_limits(const member_state& s, const balance& b,
                                       std::int64_t metric) {
    const std::pair<const char*, wide_int> totals[] = {
        {"lifetime spend", s.lifetime_spend},
        {"lifetime points", s.lifetime_points},
        {"available balance", b.available},
        {"pending balance", b.pending},
        {"balance", static_cast<wide_int>(b.available) + b.pending},
        {"tier metric", metric},
    };
    for (const auto& [name, value] : totals) {
        if (value > max_member_total || value < -max_member_total) {
            return std::string("the member's ") + name + " would be past " +
                   std::to_string(max_member_total);
        }
    }
    for (const auto& [rule_id, used] : s.budget_used) {
        if (used > max_member_total) {
            return "the points rule " + rule_id + " paid would be past " +
                   std::to_string(max_member_total);
        }
    }
    return std::nullopt;
}

} // namespace

balance balance_at(const member_state& member, timestamp now) {
    balance b;
    for (const lot& l : member.lots) {
        if (l.expired(now)) {
            continue;
        }
        (l.pending(now) ? b.pending : b.available) += l.remaining;
    }
    return b;
}

member_state caught_up(const program::program& p, const member_state& member, timestamp now) {
    outcome scratch;
    scratch.state = member;
    detail::context cx{p, now, now, member.next_lot_id, scratch.state, scratch};
    detail::catch_up(cx);
    return std::move(scratch.state);
}

balance balance_at(const program::program& p, const member_state& member, timestamp now) {
    // Most members have nothing to catch up: no copy then.
    bool status_ended = member.tier.valid_until && *member.tier.valid_until <= now;
    auto deadline = inactivity_deadline(p, member);
    if (!status_ended && !(deadline && *deadline <= now)) {
        return balance_at(member, now);
    }
    return balance_at(caught_up(p, member, now), now);
}

member_state new_member(const program::program& p, const enrollment& e) {
    member_state m;
    m.id = e.member_id;
    m.enrolled_at = e.enrolled_at;
    m.birthday = e.birthday;
    m.referred_by = e.referred_by;
    m.tier.tier = p.tiers.levels.front().id;
    m.tier.since = e.enrolled_at;
    m.last_activity = e.enrolled_at;
    return m;
}

tl::expected<outcome, rejection> evaluate(const program::program& p, const member_state& member,
                                          const event& e, timestamp now) {
    outcome out;
    out.program_version = p.content_hash();
    copy_member(out.state, member, e);
    // The event's own time drives the rules (a purchase posted late still earns as of its
    // time); `now` decides what is pending or expired in the summary.
    detail::context cx{
        p, occurred_at(e), std::max(now, occurred_at(e)), member.next_lot_id, out.state, out};
    out.tier.before = member.tier.tier;
    // Time passing records maturing first, then repays (time_driven.cpp); any other event must
    // see debts repaid by what became available since, before it spends.
    if (!std::holds_alternative<time_passes>(e)) {
        if (!std::holds_alternative<enrollment>(e)) {
            detail::catch_up(cx);
        }
        detail::repay_debts(cx);
    }

    auto result = std::visit(
        overloaded{
            [&](const purchase& x) {
                out.event_type = "purchase";
                out.event = echo({{"transaction_id", x.transaction_id},
                                  {"member_id", x.member_id},
                                  {"store_id", x.store_id}});
                return detail::earn_purchase(cx, x);
            },
            [&](const purchase_return& x) {
                out.event_type = "return";
                out.event = echo({{"return_id", x.return_id},
                                  {"transaction_id", x.transaction_id},
                                  {"store_id", x.store_id}});
                return detail::return_purchase(cx, x);
            },
            [&](const custom_event& x) {
                out.event_type = "event";
                out.event = echo({{"event_id", x.event_id}, {"type", x.type}});
                return detail::earn_event(cx, x);
            },
            [&](const enrollment& x) {
                out.event_type = "enrollment";
                out.event = echo({{"member_id", x.member_id}});
                if (auto bad = check_birthday(p, x.birthday, now); !bad) {
                    return bad;
                }
                return detail::enroll(cx, x);
            },
            [&](const reward_redemption& x) {
                out.event_type = "redemption";
                out.event = echo({{"redemption_id", x.redemption_id}, {"reward_id", x.reward_id}});
                return detail::redeem_reward(cx, x);
            },
            [&](const points_payment& x) {
                out.event_type = "payment";
                out.event = echo(
                    {{"redemption_id", x.redemption_id}, {"transaction_id", x.transaction_id}});
                if (!x.store_id.empty()) {
                    out.event["store_id"] = x.store_id;
                }
                return detail::pay_with_points(cx, x);
            },
            [&](const redemption_cancellation& x) {
                out.event_type = "cancellation";
                out.event = echo({{"redemption_id", x.redemption_id}});
                return detail::cancel_redemption(cx, x);
            },
            [&](const voucher_use& x) {
                out.event_type = "voucher_use";
                out.event =
                    echo({{"voucher_id", x.voucher_id}, {"transaction_id", x.transaction_id}});
                // Used without a purchase: null, as the member's vouchers show the use.
                if (x.transaction_id.empty()) {
                    out.event["transaction_id"] = nullptr;
                }
                if (!x.store_id.empty()) {
                    out.event["store_id"] = x.store_id;
                }
                return detail::use_voucher(cx, x);
            },
            [&](const adjustment& x) {
                out.event_type = "adjustment";
                out.event = echo({{"adjustment_id", x.adjustment_id}});
                return detail::adjust(cx, x);
            },
            [&](const profile_change& x) -> tl::expected<void, rejection> {
                out.event_type = "profile_change";
                out.event = echo({{"change_id", x.change_id}});
                // A birthday moved within a year grants its benefit once all the same: the
                // benefit counts its grants per year of the occasion (time_driven.cpp).
                if (x.sets_birthday) {
                    if (auto bad = check_birthday(p, x.birthday, now); !bad) {
                        return bad;
                    }
                    cx.state.birthday = x.birthday;
                }
                return {};
            },
            [&](const referral_reward& x) {
                out.event_type = "referral";
                out.event = echo({{"friend_id", x.friend_id}, {"rule_id", x.rule_id}});
                return detail::earn_referral(cx, x);
            },
            [&](const time_passes&) {
                out.event_type = "time";
                out.event = echo({{"now", format_rfc3339(cx.now)}});
                return detail::pass_time(cx, std::get<time_passes>(e));
            },
        },
        e);
    if (!result) {
        return tl::unexpected(std::move(result.error()));
    }
    detail::keep_exempt_lots(cx);
    detail::expire_when_posted(cx);
    if (!std::holds_alternative<time_passes>(e)) {
        detail::settle_inactivity(cx);
    }
    detail::repay_debts(cx);
    timestamp at = std::max(now, cx.now);
    out.balance_after = balance_at(out.state, at);
    out.tier.after = out.state.tier.tier;
    out.tier.changed = out.tier.before != out.tier.after;
    out.tier.metric = metric_at(p, out.state, at);
    if (out.tier.changed) {
        out.tier.changed_at = cx.tier_changed_at;
        out.tier.metric_at_change =
            metric_at(p, out.state, cx.tier_changed_at.value_or(out.state.tier.since));
    }
    // What the program grants by itself as time passes or to a referrer is never refused: it
    // is a program's fixed amount, far inside the room above the limits, and refusing it would
    // leave the member's due work undone.
    if (!std::holds_alternative<time_passes>(e) && !std::holds_alternative<referral_reward>(e)) {
        auto why = cx.out_of_range;
        if (!why) {
            why = past_limits(out.state, out.balance_after, out.tier.metric);
        }
        if (why) {
            return tl::unexpected(rejection{rejection_code::out_of_range, amount_field(e), *why});
        }
    }
    return out;
}

} // namespace loyalty::engine
