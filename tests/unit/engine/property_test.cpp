// Properties of evaluate() over random programs and random histories: balances never go below
// zero unless the program says so, lots stay within what they earned, movements explain every
// change of balance, a full return undoes its purchase, and the same inputs give the same
// outcome.
//
// One walk makes `cases` histories, each with its own program (a variant of the sample program)
// and its own std::mt19937_64 seeded with base_seed + case, and judges every step by every
// property. Each property is then a test case of its own, which reports how often it was checked
// and its first counterexample: the seed and case, the program's choices, the step and its event.
#include "loyalty/engine/evaluate.hpp"
#include "loyalty/engine/local_time.hpp"
#include "loyalty/program/load.hpp"
#include "random_history.hpp"
#include "support/member_checks.hpp"

#include <algorithm>
#include <catch2/catch.hpp>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

using namespace loyalty::engine;
using namespace loyalty::test::random_history;
using loyalty::program::program_ptr;
using loyalty::program::shortfall_policy;

using loyalty::test::metric_sum;

namespace {

constexpr std::uint64_t base_seed = 0x5eed'2026'0314ULL;
constexpr int cases = 200;
constexpr int steps_per_case = 25;

// Member states compared field by field (member_state has no operator==; comparing JSON
// renderings would cost more than the evaluations being compared).
auto key(const purchase_line& l) {
    return std::tie(l.line_id, l.sku, l.category, l.quantity, l.unit_price, l.discount, l.tags);
}
auto key(const lot& l) {
    return std::tie(l.id, l.earned, l.remaining, l.earned_at, l.available_at, l.expires_at, l.cause,
                    l.qualifying, l.matured);
}
auto key(const metric_entry& e) {
    return std::tie(e.at, e.amount, e.cause);
}
auto key(const usage_entry& u) {
    return std::tie(u.rule_id, u.at, u.times, u.points);
}
auto key(const voucher& v) {
    return std::tie(v.id, v.reward_id, v.issued_at, v.valid_until, v.cause, v.redeemed, v.cancelled,
                    v.used_at, v.used_transaction_id, v.used_store_id);
}
auto key(const line_allocation& a) {
    return std::tie(a.line_id, a.quantity, a.eligible_spend, a.points_by_rule);
}
auto key(const rule_award& a) {
    return std::tie(a.rule_id, a.points, a.lot_id, a.qualifying, a.per_line, a.min_spend);
}
auto key(const lot_draw& d) {
    return std::tie(d.lot_id, d.points);
}
auto key(const tier_status& t) {
    return std::tie(t.tier, t.since, t.valid_until);
}

template <class T>
bool same(const std::vector<T>& a, const std::vector<T>& b) {
    return std::equal(a.begin(), a.end(), b.begin(), b.end(),
                      [](const T& x, const T& y) { return key(x) == key(y); });
}

auto key(const purchase& p) {
    return std::tie(p.transaction_id, p.member_id, p.store_id, p.channel, p.currency,
                    p.occurred_at);
}
bool same(const purchase_record& a, const purchase_record& b) {
    return key(a.request) == key(b.request) && same(a.request.lines, b.request.lines) &&
           same(a.lines, b.lines) && same(a.awards, b.awards) &&
           a.returned_quantity == b.returned_quantity && a.clawed_back == b.clawed_back &&
           a.return_ids == b.return_ids;
}
bool same(const redemption_record& a, const redemption_record& b) {
    return std::tie(a.redemption_id, a.reward_id, a.points, a.voucher_id, a.at, a.cancelled) ==
               std::tie(b.redemption_id, b.reward_id, b.points, b.voucher_id, b.at, b.cancelled) &&
           same(a.draws, b.draws);
}
template <class T>
bool same_records(const std::vector<T>& a, const std::vector<T>& b) {
    return std::equal(a.begin(), a.end(), b.begin(), b.end(),
                      [](const T& x, const T& y) { return same(x, y); });
}

bool same(const member_state& a, const member_state& b) {
    return std::tie(a.id, a.enrolled_at, a.birthday, a.referred_by, a.purchase_times,
                    a.lifetime_purchases, a.lifetime_spend, a.lifetime_points, a.last_activity,
                    a.shortfall, a.budget_used, a.next_lot_id, a.next_voucher_number) ==
               std::tie(b.id, b.enrolled_at, b.birthday, b.referred_by, b.purchase_times,
                        b.lifetime_purchases, b.lifetime_spend, b.lifetime_points, b.last_activity,
                        b.shortfall, b.budget_used, b.next_lot_id, b.next_voucher_number) &&
           key(a.tier) == key(b.tier) && same(a.lots, b.lots) && same(a.metric, b.metric) &&
           same(a.usage, b.usage) && same(a.vouchers, b.vouchers) &&
           same_records(a.purchases, b.purchases) && same_records(a.redemptions, b.redemptions);
}

// ---------------------------------------------------------------------------------------------
// Judging.

// What one property found over all histories: how often it was checked, how often it failed,
// and the first counterexample, with all that is needed to replay it.
struct verdict {
    std::int64_t checked = 0;
    std::int64_t failed = 0;
    std::string first;
};

struct findings {
    std::map<std::string, verdict> properties;
    std::map<std::string, std::int64_t> accepted; // by event type
    std::map<std::string, std::int64_t> refused;
};

// Records the checks of one step under the step's description. `why` is called only on failure.
class judge {
public:
    judge(findings& f, std::string context) : findings_(f), context_(std::move(context)) {}

    template <class Why>
    void expect(const std::string& property, bool holds, Why why) {
        verdict& v = findings_.properties[property];
        ++v.checked;
        if (holds) {
            return;
        }
        if (v.failed++ == 0) {
            v.first = context_ + "\n" + why();
        }
    }

private:
    findings& findings_;
    std::string context_;
};

// One evaluation in a history.
struct step {
    const loyalty::program::program& program;
    const member_state& before;
    const event& e;
    timestamp now;
    const tl::expected<outcome, rejection>& result;
};

points_t total(const balance& b) {
    return b.available + b.pending;
}

std::string balance_text(const balance& b) {
    return std::to_string(b.available) + " available + " + std::to_string(b.pending) + " pending";
}

// Every lot's remaining points, expired or not: what movements account for.
points_t held(const member_state& m) {
    points_t sum = 0;
    for (const lot& l : m.lots) {
        sum += l.remaining;
    }
    return sum;
}

std::set<std::string> return_ids(const member_state& m) {
    std::set<std::string> ids;
    for (const purchase_record& r : m.purchases) {
        ids.insert(r.return_ids.begin(), r.return_ids.end());
    }
    return ids;
}

// The points a spending event asks for, 0 for any other event.
points_t spent_by(const loyalty::program::program& p, const event& e) {
    if (const auto* r = std::get_if<reward_redemption>(&e)) {
        const auto* reward = p.find_reward(r->reward_id);
        return reward == nullptr ? 0 : reward->cost;
    }
    if (const auto* pay = std::get_if<points_payment>(&e)) {
        return pay->points;
    }
    if (const auto* a = std::get_if<adjustment>(&e)) {
        return a->points < 0 ? -a->points : 0;
    }
    return 0;
}

bool returns_may_owe(const loyalty::program::program& p) {
    return p.returns.shortfall == shortfall_policy::negative_balance;
}

std::string lots_text(const member_state& m) {
    std::ostringstream out;
    for (const lot& l : m.lots) {
        out << "\n  lot " << l.id << " " << l.cause << ": earned " << l.earned << " remaining "
            << l.remaining << ", earned " << format_rfc3339(l.earned_at) << " available "
            << format_rfc3339(l.available_at) << " expires "
            << (l.expires_at ? format_rfc3339(*l.expires_at) : "never")
            << (l.matured ? "" : " (no mature movement yet)");
    }
    return out.str();
}

// Whether the program's balance of `m` at `now` counts lot `l`: balance_at counts the lots of
// the member as an event finds them (caught_up): not past their expiry (an exempt tier renewed
// at its end keeps those expiring then), and under inactivity expiry past the deadline, not
// what was held at it (which the event expires, with movements, before anything else).
bool counted(const loyalty::program::program& p, const member_state& m, const lot& l,
             timestamp now) {
    member_state found = caught_up(p, m, now);
    auto deadline = inactivity_deadline(p, found);
    bool inactive = deadline && *deadline <= now && !p.points.expiry.exempts(found.tier.tier);
    for (const lot& c : found.lots) {
        if (c.id == l.id) {
            return !c.expired(now) && !(inactive && c.earned_at <= *deadline);
        }
    }
    return false;
}

// The expire movements of an outcome for lots the balance before it had left out already.
points_t expired_already(const step& s, const outcome& o) {
    // A return that undid an upgrade puts back the status the member would have held: an
    // inactivity deadline that the tier's exemption held off has passed for them already
    // (returns.cpp, undo_upgrades).
    member_state found = s.before;
    if (std::holds_alternative<purchase_return>(s.e) && o.tier.changed) {
        found.tier = o.state.tier;
    }
    points_t stale = 0;
    for (const movement& mv : o.movements) {
        if (mv.kind != movement_kind::expire) {
            continue;
        }
        for (const lot& l : s.before.lots) {
            if (l.id == mv.lot_id && (!counted(s.program, s.before, l, s.now) ||
                                      !counted(s.program, found, l, s.now))) {
                stale -= mv.points;
            }
        }
    }
    return stale;
}

// (a) The available balance is never below zero unless the program allows it. Rewards and
// points as payment never spend more than is available, whatever the program; nor do debits
// when allow_negative_balance is false. Then only a return may owe points (a lot below zero
// caused by the return), and only when its shortfall policy is negative_balance; with
// record_shortfall a return takes only what is available and records the rest.
void check_available(judge& j, const step& s) {
    const auto& p = s.program;
    const std::string property = "(a) available balance";
    balance before = balance_at(p, s.before, s.now);
    if (!s.result) {
        if (s.result.error().code == rejection_code::insufficient_points) {
            j.expect(property, spent_by(p, s.e) > before.available,
                     [&] { return "refused for want of points with " + balance_text(before); });
        }
        return;
    }
    const member_state& after = s.result->state;
    balance b = balance_at(p, after, s.now);
    auto why = [&] {
        return "available " + std::to_string(before.available) + " before, " +
               std::to_string(b.available) + " after; lots before:" + lots_text(s.before) +
               "\nlots after:" + lots_text(after);
    };
    bool spends = std::holds_alternative<reward_redemption>(s.e) ||
                  std::holds_alternative<points_payment>(s.e) ||
                  (spent_by(p, s.e) > 0 && !p.points.allow_negative_balance);
    if (spends) {
        j.expect(property, b.available >= 0, why);
    }
    if (std::holds_alternative<purchase_return>(s.e) && !returns_may_owe(p)) {
        j.expect(property, b.available >= std::min<points_t>(before.available, 0), why);
    }
    if (p.points.allow_negative_balance) {
        return;
    }
    if (!returns_may_owe(p)) {
        j.expect(property, b.available >= 0, why);
    }
    auto returns = return_ids(after);
    for (const lot& l : after.lots) {
        if (l.remaining < 0) {
            j.expect(property, returns_may_owe(p) && returns.count(l.cause) == 1, [&] {
                return "lot " + std::to_string(l.id) + " owes " + std::to_string(-l.remaining) +
                       ", caused by " + l.cause;
            });
        }
    }
}

// (b) Every lot holds between zero and what it earned; a lot below zero is a debt, which
// earned nothing, and exists only when the program allows negative balances or returns that
// owe.
void check_lots(judge& j, const step& s) {
    if (!s.result) {
        return;
    }
    const auto& p = s.program;
    bool debts = p.points.allow_negative_balance || returns_may_owe(p);
    for (const lot& l : s.result->state.lots) {
        bool holds = l.earned >= 0 && l.remaining <= l.earned &&
                     (l.remaining >= 0 || (debts && l.earned == 0));
        j.expect("(b) lot bounds", holds, [&] {
            return "lot " + std::to_string(l.id) + " (" + l.cause + "): earned " +
                   std::to_string(l.earned) + ", remaining " + std::to_string(l.remaining);
        });
    }
}

// (f) A voucher is used once, by a use naming it, while valid and not cancelled; a used voucher
// is never cancelled (its redemption can no longer be), and neither mark is ever taken back.
void check_vouchers(judge& j, const step& s) {
    if (!s.result) {
        return;
    }
    const auto* use = std::get_if<voucher_use>(&s.e);
    for (const voucher& after : s.result->state.vouchers) {
        auto why = [&] {
            return "voucher " + after.id + ": redeemed " + std::to_string(after.redeemed) +
                   ", cancelled " + std::to_string(after.cancelled);
        };
        j.expect("(f) vouchers", !(after.redeemed && after.cancelled), why);
        // The time of use is there exactly when the voucher was used.
        j.expect("(f) vouchers", after.redeemed == after.used_at.has_value(), why);
        const voucher* before = nullptr;
        for (const voucher& v : s.before.vouchers) {
            if (v.id == after.id) {
                before = &v;
            }
        }
        if (before == nullptr) {
            j.expect("(f) vouchers", !after.redeemed && !after.cancelled, why);
            continue;
        }
        j.expect("(f) vouchers",
                 (!before->redeemed || after.redeemed) && (!before->cancelled || after.cancelled),
                 why);
        if (after.redeemed && !before->redeemed) {
            j.expect("(f) vouchers",
                     use != nullptr && use->voucher_id == after.id && !before->cancelled &&
                         use->occurred_at < before->valid_until &&
                         after.used_at == use->occurred_at &&
                         after.used_transaction_id == use->transaction_id &&
                         after.used_store_id == use->store_id,
                     why);
        } else if (after.redeemed) {
            j.expect("(f) vouchers",
                     after.used_at == before->used_at &&
                         after.used_transaction_id == before->used_transaction_id &&
                         after.used_store_id == before->used_store_id,
                     why);
        }
    }
    if (use != nullptr) {
        j.expect("(f) vouchers",
                 std::all_of(s.result->movements.begin(), s.result->movements.end(),
                             [](const movement& mv) { return mv.kind == movement_kind::expire; }) &&
                     s.result->points.expired == expired_already(s, *s.result),
                 [] { return "a use moved points"; });
    }
}

// (g) A birthday benefit is granted at most once a local year, however the birthday moves: the
// vouchers a benefit issued, counted by the local year of their issue.
void check_birthday_benefits(judge& j, const step& s) {
    if (!s.result) {
        return;
    }
    const loyalty::program::program& p = s.program;
    for (const loyalty::program::benefit& b : p.benefits) {
        if (b.trigger != loyalty::program::benefit_trigger::birthday) {
            continue;
        }
        std::map<int, int> per_year;
        for (const voucher& v : s.result->state.vouchers) {
            if (v.cause == b.id) {
                ++per_year[static_cast<int>(local_fields_of(p.time_zone, v.issued_at).date.year())];
            }
        }
        for (const auto& [year, times] : per_year) {
            j.expect("(g) birthday benefit once a year", times <= 1,
                     [&, year = year, times = times] {
                         return b.id + " granted " + std::to_string(times) + " times in " +
                                std::to_string(year);
                     });
        }
    }
}

// (c) Movements explain every change. Maturing moves points from pending to available and
// changes no total. The points held by all lots (expired or not) change by the sum of the other
// movements, always. balance_at leaves out lots past their expiry even before a run expired
// them, so: for any event but time_passes (which alone matures and expires), available +
// pending changes by the sum of the movements; for time_passes, by the sum less the expiry of
// lots balance_at had already left out, and afterwards no lot past its expiry holds points.
void check_movements(judge& j, const step& s) {
    if (!s.result) {
        return;
    }
    const outcome& o = *s.result;
    points_t moved = 0, earned = 0, expired = 0, matured = 0, stale = 0;
    for (const movement& mv : o.movements) {
        switch (mv.kind) {
        case movement_kind::mature:
            matured += mv.points;
            continue;
        case movement_kind::earn:
            earned += mv.points;
            break;
        case movement_kind::expire:
            expired -= mv.points;
            for (const lot& l : s.before.lots) {
                if (l.id == mv.lot_id && !counted(s.program, s.before, l, s.now)) {
                    stale += mv.points;
                }
            }
            break;
        case movement_kind::reverse:
            // A return takes its points from their own lot even when it is past its expiry and
            // the run that records that has not come yet: they were not in the balance.
            for (const lot& l : s.before.lots) {
                if (l.id == mv.lot_id && !counted(s.program, s.before, l, s.now)) {
                    stale += mv.points;
                }
            }
            break;
        default:
            break;
        }
        moved += mv.points;
    }
    balance before = balance_at(s.program, s.before, s.now);
    balance after = balance_at(s.program, o.state, s.now);
    auto why = [&] {
        return balance_text(before) + " before, " + balance_text(after) + " after; movements " +
               to_json(o, s.program).at("movements").dump() +
               "\nlots before:" + lots_text(s.before) + "\nlots after:" + lots_text(o.state);
    };
    j.expect("(c) movements: points held", held(o.state) - held(s.before) == moved, why);
    j.expect("(c) movements: summary",
             o.points.earned == earned && o.points.expired == expired &&
                 o.points.matured == matured && o.balance_after.available == after.available &&
                 o.balance_after.pending == after.pending,
             why);
    if (!std::holds_alternative<time_passes>(s.e)) {
        // Only what an inactivity deadline had already taken from the balance expires in an
        // event (time_driven.cpp, catch_up).
        j.expect("(c) movements: balance", matured == 0 && expired == expired_already(s, o), why);
        j.expect("(c) movements: balance", total(after) - total(before) == moved - stale, why);
        return;
    }
    bool nothing_stale = std::none_of(o.state.lots.begin(), o.state.lots.end(), [&](const lot& l) {
        return l.remaining > 0 && l.expired(s.now);
    });
    j.expect("(c) movements: balance when time passes", nothing_stale, why);
    j.expect("(c) movements: balance when time passes",
             total(after) - total(before) == moved - stale, why);
}

// (e) The same program, member, event and time give the same outcome (the same to_json and the
// same member after), on the same member object and on a copy; and evaluating changes nothing
// in the member it is given.
void check_determinism(judge& j, const step& s) {
    const std::string property = "(e) determinism";
    member_state copy = s.before;
    auto again = evaluate(s.program, s.before, s.e, s.now);
    auto on_copy = evaluate(s.program, copy, s.e, s.now);
    j.expect(property, same(copy, s.before),
             [] { return std::string("evaluate changed the member it was given"); });
    if (!s.result) {
        const rejection& r = s.result.error();
        for (const auto* other : {&again, &on_copy}) {
            j.expect(property,
                     !*other && other->error().code == r.code && other->error().field == r.field &&
                         other->error().message == r.message,
                     [&] { return "refused with \"" + r.message + "\", then not the same way"; });
        }
        return;
    }
    std::string dump = to_json(*s.result, s.program).dump();
    for (const auto* other : {&again, &on_copy}) {
        bool same_outcome = *other && to_json(**other, s.program).dump() == dump;
        j.expect(property, same_outcome, [&] {
            return "first outcome " + dump + "\nthen " +
                   (*other ? to_json(**other, s.program).dump() : other->error().message);
        });
        j.expect(property, same_outcome && same((*other)->state, s.result->state),
                 [] { return std::string("the same outcome, but not the same member after"); });
    }
}

// (d) From the member after a step: a random purchase, then at once its return, whole (no lines)
// or in two parts that together make the whole. Nothing else happens in between, so available
// and pending points come back exactly, unless the member owed points: points available at
// once repay a debt first, and taking them back either owes them again or records a shortfall.
// Lifetime points and spend, and the tier metric, net to zero.
void check_full_return(judge& j, const step& s, rng& g) {
    const auto& p = s.program;
    const member_state& m = s.result ? s.result->state : s.before;
    id_source ids;
    ids.next = 10000;
    purchase bought = random_purchase(g, ids, s.now);
    auto after_purchase = evaluate(p, m, bought, s.now);
    REQUIRE(after_purchase);
    member_state state = std::move(after_purchase->state);

    std::vector<purchase_return> returns;
    if (chance(g, 50)) {
        returns.push_back({"whole", bought.transaction_id, "", s.now, {}});
    } else {
        purchase_return first{"part-1", bought.transaction_id, bought.store_id, s.now, {}};
        purchase_return second{"part-2", bought.transaction_id, "", s.now, {}};
        for (const purchase_line& l : bought.lines) {
            std::int64_t now = uniform(g, 0, l.quantity);
            if (now > 0) {
                first.lines.push_back({l.line_id, now});
            }
            if (now < l.quantity) {
                second.lines.push_back({l.line_id, l.quantity - now});
            }
        }
        for (const auto& r : {first, second}) {
            if (!r.lines.empty()) {
                returns.push_back(r);
            }
        }
    }
    std::string what = "then " + describe(bought);
    for (const purchase_return& r : returns) {
        what += "; then " + describe(r);
        auto result = evaluate(p, state, r, s.now);
        REQUIRE(result);
        state = std::move(result->state);
    }

    balance before = balance_at(p, m, s.now);
    balance after = balance_at(p, state, s.now);
    bool owed =
        std::any_of(m.lots.begin(), m.lots.end(), [](const lot& l) { return l.remaining < 0; });
    auto why = [&] {
        return what + "\n" + balance_text(before) + ", shortfall " + std::to_string(m.shortfall) +
               ", lifetime points " + std::to_string(m.lifetime_points) + ", metric entries sum " +
               std::to_string(metric_sum(m)) + " before the purchase;\n" + balance_text(after) +
               ", shortfall " + std::to_string(state.shortfall) + ", lifetime points " +
               std::to_string(state.lifetime_points) + ", metric entries sum " +
               std::to_string(metric_sum(state)) + " after the return";
    };
    if (!owed) {
        j.expect("(d) full return: balance",
                 after.available == before.available && after.pending == before.pending &&
                     state.shortfall == m.shortfall,
                 why);
    }
    j.expect("(d) full return: balance",
             total(after) - (state.shortfall - m.shortfall) == total(before), why);
    j.expect("(d) full return: lifetime points", state.lifetime_points == m.lifetime_points, why);
    j.expect("(d) full return: lifetime spend", state.lifetime_spend == m.lifetime_spend, why);
    j.expect("(d) full return: tier metric", metric_sum(state) == metric_sum(m), why);
}

std::string event_type(const event& e) {
    return std::visit(overloaded{[](const purchase&) { return "purchase"; },
                                 [](const purchase_return&) { return "return"; },
                                 [](const custom_event&) { return "event"; },
                                 [](const enrollment&) { return "enrollment"; },
                                 [](const reward_redemption&) { return "redemption"; },
                                 [](const points_payment&) { return "payment"; },
                                 [](const redemption_cancellation&) { return "cancellation"; },
                                 [](const voucher_use&) { return "voucher_use"; },
                                 [](const adjustment&) { return "adjustment"; },
                                 [](const profile_change&) { return "profile_change"; },
                                 [](const time_passes&) { return "time_passes"; },
                                 [](const auto&) {
                                     return "other";
                                 }},
                      e);
}

// For every case: a random program, a member who enrolls at a random time in 2026, then
// `steps_per_case` random events from a few seconds to a few days apart, each evaluated at its
// own time. A refused event leaves the member as they were. Every step is judged by every
// property; the full-return property draws from its own generator, so that the histories do
// not depend on it.
findings judge_random_histories() {
    findings f;
    for (int c = 0; c < cases; ++c) {
        rng g(base_seed + static_cast<std::uint64_t>(c));
        rng return_g(~(base_seed + static_cast<std::uint64_t>(c)));
        random_program rp = make_program(g);
        const loyalty::program::program& p = *rp.program;
        std::string context = "seed " + std::to_string(base_seed) + " + case " + std::to_string(c) +
                              "\nprogram: " + rp.choices;

        walk(g, p, steps_per_case,
             [&](int s, const member_state& m, const event& e, timestamp t,
                 const tl::expected<outcome, rejection>& result) {
                 ++(result ? f.accepted : f.refused)[event_type(e)];

                 judge j(f, context + "\nstep " + std::to_string(s) + ": " + describe(e) +
                                (result ? "" : " (refused: " + result.error().message + ")"));
                 step current{p, m, e, t, result};
                 check_available(j, current);
                 check_lots(j, current);
                 check_movements(j, current);
                 check_vouchers(j, current);
                 check_birthday_benefits(j, current);
                 if (s % 4 == c % 4) {
                     check_determinism(j, current);
                 }
                 if (chance(return_g, 20)) {
                     check_full_return(j, current, return_g);
                 }
             });
    }
    return f;
}

const findings& random_history_findings() {
    static const findings f = judge_random_histories();
    return f;
}

// The property held at every check, and was checked.
void verify(const std::string& property) {
    const auto& all = random_history_findings().properties;
    auto it = all.find(property);
    REQUIRE(it != all.end());
    const verdict& v = it->second;
    INFO(property << ": " << v.failed << " of " << v.checked << " checks failed; the first:\n"
                  << v.first);
    CHECK(v.checked > 0);
    CHECK(v.failed == 0);
}

} // namespace

TEST_CASE("property: the histories are made of every kind of event, accepted and refused",
          "[property]") {
    const findings& f = random_history_findings();
    for (const char* type : {"purchase", "return", "event", "redemption", "payment", "cancellation",
                             "voucher_use", "adjustment", "profile_change", "time_passes"}) {
        INFO(type);
        auto accepted = f.accepted.find(type);
        REQUIRE(accepted != f.accepted.end());
        // Enough of each kind to mean something.
        CHECK(accepted->second >= 100);
        // Time passing is never refused, nor a profile change (the ledger checks its fields).
        if (std::string(type) != "time_passes" && std::string(type) != "profile_change") {
            CHECK(f.refused.count(type) == 1);
        }
    }
}

TEST_CASE("property: the available balance is never below zero unless the program allows it",
          "[property]") {
    verify("(a) available balance");
}

TEST_CASE("property: every lot holds between zero and what it earned, unless debts are allowed",
          "[property]") {
    verify("(b) lot bounds");
}

TEST_CASE("property: the movements of an outcome explain the change of balance", "[property]") {
    verify("(c) movements: points held");
    verify("(c) movements: summary");
    verify("(c) movements: balance");
    verify("(c) movements: balance when time passes");
}

TEST_CASE("property: a purchase returned in full leaves balance, lifetime points and spend, and "
          "tier metric as they were",
          "[property]") {
    verify("(d) full return: balance");
    verify("(d) full return: lifetime points");
    verify("(d) full return: lifetime spend");
    verify("(d) full return: tier metric");
}

TEST_CASE("property: a voucher is used once, while valid, and a used one is never cancelled",
          "[property]") {
    verify("(f) vouchers");
}

TEST_CASE("property: a birthday benefit is granted at most once a year, however the birthday "
          "moves",
          "[property]") {
    verify("(g) birthday benefit once a year");
}

TEST_CASE("property: the same program, member, event and time give the same outcome",
          "[property]") {
    verify("(e) determinism");
}
