#pragma once
// Random programs (variants of the sample program) and random histories of events for a member,
// shared by the tests that judge many outcomes: property_test.cpp checks invariants on them,
// outcome_test.cpp compares the two ways of writing an outcome as JSON. The same seed gives the
// same program and the same history.

#include "loyalty/engine/evaluate.hpp"
#include "loyalty/engine/local_time.hpp"
#include "loyalty/program/load.hpp"
#include "support/sample_program.hpp"

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdint>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <vector>

namespace loyalty::test::random_history {

using namespace loyalty::engine;
using loyalty::program::program_ptr;

using rng = std::mt19937_64;

inline std::int64_t uniform(rng& g, std::int64_t low, std::int64_t high) {
    return std::uniform_int_distribution<std::int64_t>(low, high)(g);
}

inline bool chance(rng& g, int percent) {
    return uniform(g, 0, 99) < percent;
}

template <class T>
const T& pick(rng& g, const std::vector<T>& items) {
    return items[static_cast<std::size_t>(
        uniform(g, 0, static_cast<std::int64_t>(items.size()) - 1))];
}

// The text with the first `from` replaced by `to`; `from` must be there.
inline void replace(std::string& text, const std::string& from, const std::string& to) {
    auto at = text.find(from);
    REQUIRE(at != std::string::npos);
    text.replace(at, from.size(), to);
}

// A variant of the sample program, and what was chosen, for INFO.
struct random_program {
    program_ptr program;
    std::string choices;
};

inline random_program make_program(rng& g) {
    std::string text = loyalty::test::sample_text();
    std::ostringstream choices;

    std::string rounding = pick(g, std::vector<std::string>{"floor", "half_up", "ceil"});
    std::int64_t rate_points = uniform(g, 1, 5);
    std::int64_t rate_per = pick(g, std::vector<std::int64_t>{1, 7, 50, 100, 250, 1000});
    replace(text, "rate: {points: 2, per: 100}",
            "rate: {points: " + std::to_string(rate_points) + ", per: " + std::to_string(rate_per) +
                "}");
    replace(text, "rounding: floor", "rounding: " + rounding);
    choices << "base " << rate_points << "/" << rate_per << " " << rounding;

    std::int64_t percent = pick(g, std::vector<std::int64_t>{150, 200, 250, 333});
    std::string multiplier_rounding = pick(g, std::vector<std::string>{"floor", "half_up", "ceil"});
    replace(text, "percent: 200", "percent: " + std::to_string(percent));
    replace(text, "{\"==\": [{\"var\": \"transaction.local.weekday\"}, 2]}",
            "{\"==\": [{\"var\": \"transaction.local.weekday\"}, 2]}\n    rounding: " +
                multiplier_rounding);
    choices << ", tuesday " << percent << "% " << multiplier_rounding;

    std::int64_t min_spend = uniform(g, 1, 100) * 100;
    replace(text, "min_spend: 3000", "min_spend: " + std::to_string(min_spend));
    choices << ", big_basket from " << min_spend;

    bool negative = chance(g, 50);
    replace(text, "allow_negative_balance: false",
            std::string("allow_negative_balance: ") + (negative ? "true" : "false"));
    choices << ", allow_negative_balance " << negative;

    std::int64_t pending = chance(g, 40) ? 0 : uniform(g, 1, 20);
    replace(text, "pending_days: 14", "pending_days: " + std::to_string(pending));
    choices << ", pending_days " << pending;

    // Short lifetimes, so that lots expire within a history of a few weeks.
    std::string expiry;
    switch (uniform(g, 0, 4)) {
    case 0:
        expiry = "policy: never";
        break;
    case 1:
        expiry = "policy: after\n    months: " + std::to_string(uniform(g, 1, 3)) +
                 (chance(g, 50) ? "\n    round_to: end_of_month" : "");
        break;
    case 2:
        // Longer than the pending period, or the program is refused: points would expire
        // before they could be spent.
        expiry = "policy: after\n    days: " +
                 std::to_string(uniform(g, std::max<std::int64_t>(3, pending + 1), 60)) +
                 (chance(g, 30) ? "\n    round_to: end_of_month" : "");
        break;
    case 3:
        // Longer than the pending period too: the purchase is the activity it counts from.
        expiry = "policy: inactivity\n    days: " +
                 std::to_string(uniform(g, std::max<std::int64_t>(3, pending + 1), 40));
        break;
    default:
        expiry = "policy: fixed_date\n    date: \"" +
                 pick(g, std::vector<std::string>{"01-31", "02-28", "03-15", "06-30", "12-31"}) +
                 "\"";
        break;
    }
    if (chance(g, 50)) {
        expiry += "\n    exempt_tiers: [reserve]";
    }
    replace(text,
            "policy: after\n    months: 6\n    round_to: end_of_month\n    exempt_tiers: [reserve]",
            expiry);
    std::string expiry_text = expiry;
    for (auto at = expiry_text.find("\n    "); at != std::string::npos;
         at = expiry_text.find("\n    ")) {
        expiry_text.replace(at, 5, ", ");
    }
    choices << ", expiry {" << expiry_text << "}";

    std::string metric =
        pick(g, std::vector<std::string>{"qualifying_points", "eligible_spend", "purchases"});
    replace(text, "metric: qualifying_points", "metric: " + metric);
    std::int64_t status_months = uniform(g, 1, 12);
    replace(text, "status_months: 12", "status_months: " + std::to_string(status_months));
    choices << ", tiers on " << metric << " for " << status_months << " months";

    if (chance(g, 80)) {
        std::string clawback = pick(g, std::vector<std::string>{"keep", "recompute"});
        std::string shortfall =
            pick(g, std::vector<std::string>{"negative_balance", "record_shortfall"});
        text += "\nreturns:\n  bonus_clawback: " + clawback + "\n  shortfall: " + shortfall + "\n";
        choices << ", returns {" << clawback << ", " << shortfall << "}";
    } else {
        choices << ", returns by default";
    }

    auto loaded = loyalty::program::load_program(text, "random.yaml");
    if (!loaded) {
        for (const auto& d : loaded.error()) {
            UNSCOPED_INFO(to_string(d));
        }
    }
    REQUIRE(loaded);
    return {*loaded, choices.str()};
}

// ---------------------------------------------------------------------------------------------
// Random events.

inline const std::vector<std::string> categories = {"coffee", "bakery", "beans", "tea",
                                                    "gift_card"};
inline const std::vector<std::string> channels = {"store", "app", "web"};
inline const std::vector<std::string> rewards = {"espresso_shot", "brewed_coffee",
                                                 "handcrafted_drink", "mug"};

// Ids that the history hands out, so that events can refer to earlier ones (and sometimes to
// ones that do not exist, or were already used).
struct id_source {
    int next = 1;
    std::vector<std::string> redemptions;

    std::string fresh(const char* prefix) { return prefix + std::to_string(next++); }
};

inline purchase random_purchase(rng& g, id_source& ids, timestamp t) {
    purchase p;
    p.transaction_id = ids.fresh("t");
    p.member_id = "m1";
    p.store_id = pick(g, std::vector<std::string>{"s1", "s2"});
    p.channel = pick(g, channels);
    p.currency = "USD";
    p.occurred_at = t;
    auto lines = uniform(g, 1, 4);
    for (std::int64_t i = 1; i <= lines; ++i) {
        purchase_line l;
        l.line_id = "l" + std::to_string(i);
        l.category = pick(g, categories);
        l.sku = l.category + "-" + std::to_string(uniform(g, 1, 3));
        l.quantity = uniform(g, 1, 5);
        l.unit_price = uniform(g, 1, 5000);
        l.discount = chance(g, 25) ? uniform(g, 0, l.unit_price * l.quantity) : 0;
        if (chance(g, 30)) {
            l.tags.push_back("hot");
        }
        p.lines.push_back(std::move(l));
    }
    return p;
}

// A return of random lines and quantities of a purchase the member made, or of the rest of it
// (no lines); now and then one that must be refused.
inline purchase_return random_return(rng& g, id_source& ids, const member_state& m, timestamp t) {
    purchase_return r;
    r.return_id = ids.fresh("r");
    r.occurred_at = t;
    if (m.purchases.empty() || chance(g, 5)) {
        r.transaction_id = "t-unknown";
        return r;
    }
    const purchase_record& record = pick(g, m.purchases);
    r.transaction_id = record.request.transaction_id;
    r.store_id = chance(g, 50) ? record.request.store_id : "";
    if (!record.return_ids.empty() && chance(g, 5)) {
        r.return_id = pick(g, record.return_ids); // a replayed return
    }
    if (chance(g, 30)) {
        return r; // everything not yet returned
    }
    for (const purchase_line& l : record.request.lines) {
        if (chance(g, 60)) {
            r.lines.push_back({l.line_id, uniform(g, chance(g, 3) ? 0 : 1, l.quantity)});
        }
    }
    if (r.lines.empty()) {
        r.lines.push_back({record.request.lines.front().line_id, 1});
    }
    return r;
}

inline std::string redemption_id(rng& g, id_source& ids) {
    if (!ids.redemptions.empty() && chance(g, 5)) {
        return pick(g, ids.redemptions); // a retry
    }
    ids.redemptions.push_back(ids.fresh("x"));
    return ids.redemptions.back();
}

inline event random_event(rng& g, id_source& ids, const member_state& m, timestamp t) {
    auto kind = uniform(g, 0, 99);
    if (kind < 28) {
        purchase p = random_purchase(g, ids, t);
        if (chance(g, 3)) {
            p.currency = "EUR";
        } else if (chance(g, 3) && !m.purchases.empty()) {
            p.transaction_id = pick(g, m.purchases).request.transaction_id;
            p.store_id = "s1";
        }
        return p;
    }
    if (kind < 42) {
        return random_return(g, ids, m, t);
    }
    if (kind < 54) {
        std::string reward = chance(g, 3) ? "unicorn" : pick(g, rewards);
        return reward_redemption{redemption_id(g, ids), reward, t};
    }
    if (kind < 62) {
        points_t points = uniform(g, 1, 8) * 100 + (chance(g, 5) ? 50 : 0);
        return points_payment{redemption_id(g, ids), ids.fresh("t"), points, uniform(g, 100, 4000),
                              t};
    }
    if (kind < 70) {
        // Mostly redemptions the member made (perhaps already cancelled).
        std::string id = m.redemptions.empty() || chance(g, 5)
                             ? "x-unknown"
                             : pick(g, m.redemptions).redemption_id;
        return redemption_cancellation{id, t};
    }
    if (kind < 80) {
        points_t points = uniform(g, -400, 400);
        std::string reason = chance(g, 5) ? "" : "goodwill";
        return adjustment{ids.fresh("a"), points, reason, "", "k1", t};
    }
    if (kind < 86) {
        return custom_event{ids.fresh("e"), chance(g, 5) ? "unknown_type" : "review_posted", t,
                            nlohmann::json::object()};
    }
    if (kind < 91) {
        // Mostly a voucher not used nor cancelled yet (perhaps expired), else any of the
        // member's (a second use, a cancelled one) or an unknown one.
        std::vector<voucher> open;
        for (const voucher& v : m.vouchers) {
            if (!v.redeemed && !v.cancelled) {
                open.push_back(v);
            }
        }
        std::string id = "v-unknown";
        if (!open.empty() && chance(g, 75)) {
            id = pick(g, open).id;
        } else if (!m.vouchers.empty() && chance(g, 80)) {
            id = pick(g, m.vouchers).id;
        }
        // A till names its store, or (bound to none, naming none) leaves it empty.
        std::string store = chance(g, 60) ? ids.fresh("s") : std::string();
        return voucher_use{id, ids.fresh("t"), t, store};
    }
    if (kind < 94) {
        // Support moves the birthday (mostly into the next weeks, where a history can reach
        // it), clears it, or leaves it and changes only what the engine does not keep.
        if (chance(g, 15)) {
            return profile_change{ids.fresh("c"), true, std::nullopt, t};
        }
        if (chance(g, 15)) {
            return profile_change{ids.fresh("c"), false, std::nullopt, t};
        }
        date::year_month_day soon{date::floor<date::days>(t + date::days{uniform(g, 0, 40)})};
        return profile_change{ids.fresh("c"), true,
                              date::year{1990} / soon.month() /
                                  date::day{static_cast<unsigned>(uniform(g, 1, 28))},
                              t};
    }
    return time_passes{t};
}

template <class... Ts>
struct overloaded : Ts... {
    using Ts::operator()...;
};
template <class... Ts>
overloaded(Ts...) -> overloaded<Ts...>;

// The event in one line, enough to rebuild it.
inline std::string describe(const event& e) {
    std::ostringstream out;
    std::visit(
        overloaded{
            [&](const purchase& p) {
                out << "purchase " << p.transaction_id << " store " << p.store_id << " "
                    << p.channel << " " << p.currency << " at " << format_rfc3339(p.occurred_at)
                    << ":";
                for (const purchase_line& l : p.lines) {
                    out << " [" << l.line_id << " " << l.sku << " " << l.category << " "
                        << l.quantity << "x" << l.unit_price << "-" << l.discount
                        << (l.tags.empty() ? "" : " hot") << "]";
                }
            },
            [&](const purchase_return& r) {
                out << "return " << r.return_id << " of " << r.transaction_id << " store '"
                    << r.store_id << "' at " << format_rfc3339(r.occurred_at) << ":";
                for (const returned_line& l : r.lines) {
                    out << " [" << l.line_id << " x" << l.quantity << "]";
                }
                if (r.lines.empty()) {
                    out << " everything";
                }
            },
            [&](const custom_event& c) {
                out << "event " << c.event_id << " " << c.type << " at "
                    << format_rfc3339(c.occurred_at);
            },
            [&](const enrollment& n) {
                out << "enrollment " << n.member_id << " at " << format_rfc3339(n.enrolled_at);
                if (n.birthday) {
                    out << ", born " << date::format("%F", date::sys_days{*n.birthday});
                }
                if (n.referred_by) {
                    out << ", referred by " << *n.referred_by;
                }
            },
            [&](const reward_redemption& r) {
                out << "redemption " << r.redemption_id << " of " << r.reward_id << " at "
                    << format_rfc3339(r.occurred_at);
            },
            [&](const points_payment& p) {
                out << "payment " << p.redemption_id << " of " << p.points << " on "
                    << p.purchase_total << " at " << format_rfc3339(p.occurred_at);
            },
            [&](const redemption_cancellation& c) {
                out << "cancellation of " << c.redemption_id << " at "
                    << format_rfc3339(c.occurred_at);
            },
            [&](const voucher_use& v) {
                out << "use of voucher " << v.voucher_id << " on " << v.transaction_id
                    << (v.store_id.empty() ? "" : " at store " + v.store_id) << " at "
                    << format_rfc3339(v.occurred_at);
            },
            [&](const adjustment& a) {
                out << "adjustment " << a.adjustment_id << " of " << a.points << " ('" << a.reason
                    << "') at " << format_rfc3339(a.occurred_at);
            },
            [&](const profile_change& c) {
                out << "profile change " << c.change_id;
                if (c.sets_birthday) {
                    out << (c.birthday ? ", born " + date::format("%F", date::sys_days{*c.birthday})
                                       : std::string(", birthday cleared"));
                }
                out << " at " << format_rfc3339(c.occurred_at);
            },
            [&](const time_passes& t) { out << "time passes to " << format_rfc3339(t.now); },
            [&](const auto&) { out << "an event this test does not make"; },
        },
        e);
    return out.str();
}

// One member's history under `p`: enrollment at a random time in 2026 (step 0), then `steps`
// random events from a few seconds to four days apart (or at the same instant), each evaluated
// at its own time. `each(step, member before, event, now, result)` sees every evaluation; an
// accepted event's state becomes the member, a refused one leaves the member as it was.
template <class Each>
void walk(rng& g, const loyalty::program::program& p, int steps, Each each) {
    const timestamp start = date::sys_days{date::year{2026} / 1 / 1};
    timestamp t = start + std::chrono::seconds{uniform(g, 0, 300 * 86400)};
    enrollment joined{"m1", t, std::nullopt, std::nullopt};
    if (chance(g, 50)) {
        joined.birthday = date::year{1990} / date::month{static_cast<unsigned>(uniform(g, 1, 12))} /
                          date::day{static_cast<unsigned>(uniform(g, 1, 28))};
    }
    if (chance(g, 30)) {
        joined.referred_by = "m0";
    }
    member_state m = new_member(p, joined);

    id_source ids;
    for (int s = 0; s <= steps; ++s) {
        if (s > 0) {
            t += std::chrono::seconds{chance(g, 15) ? 0 : uniform(g, 1, 4 * 86400)};
        }
        event e = s == 0 ? event{joined} : random_event(g, ids, m, t);
        auto result = evaluate(p, m, e, t);
        each(s, static_cast<const member_state&>(m), static_cast<const event&>(e), t,
             static_cast<const tl::expected<outcome, rejection>&>(result));
        if (result) {
            m = std::move(result->state);
        }
    }
}

} // namespace loyalty::test::random_history
