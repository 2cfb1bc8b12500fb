// Earning: purchases, non-purchase events and enrollment. docs/program-reference.md ("Order of
// evaluation") is the contract this file implements.
#include "context.hpp"
#include "loyalty/engine/event_json.hpp"
#include "loyalty/engine/rounding.hpp"
#include "loyalty/logic/js_string.hpp"
#include "rule_data.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <numeric>
#include <span>

namespace loyalty::engine::detail {

namespace {

using program::earn_kind;
using program::earn_rule;
using program::earn_trigger;

constexpr std::int64_t max_quantity = 1'000'000;
constexpr money_t max_unit_price = 10'000'000'000; // 100 million in cents
constexpr std::size_t max_lines = 500;

bool contains(const std::vector<std::string>& list, const std::string& s) {
    return std::find(list.begin(), list.end(), s) != list.end();
}

// The value of a dotted `var` name in the condition data, as JsonLogic resolves it (array
// elements by index, `length` of an array or a string, which is made in `length`), or null when
// it is missing.
const nlohmann::json* lookup_variable(const nlohmann::json& data, const std::string& name,
                                      nlohmann::json& length) {
    const nlohmann::json* at = &data;
    std::size_t start = 0;
    while (start <= name.size()) {
        auto dot = name.find('.', start);
        std::string key = name.substr(start, dot == std::string::npos ? dot : dot - start);
        if (at->is_object()) {
            auto it = at->find(key);
            if (it == at->end()) {
                return nullptr;
            }
            at = &*it;
        } else if (at->is_array() && !key.empty() &&
                   key.find_first_not_of("0123456789") == std::string::npos && key.size() < 10 &&
                   std::stoul(key) < at->size()) {
            at = &(*at)[std::stoul(key)];
        } else if (key == "length" && dot == std::string::npos &&
                   (at->is_array() || at->is_string())) {
            length = at->is_array() ? at->size()
                                    : logic::utf16_length(at->get_ref<const std::string&>());
            return &length;
        } else {
            return nullptr;
        }
        if (dot == std::string::npos) {
            break;
        }
        start = dot + 1;
    }
    return at;
}

// "transaction.local.weekday is 3, member.tier is \"green\"": what the condition saw, so support
// staff can tell why it was false without re-running it. Long values are cut short.
std::string variable_values(const logic::rule& rule, const nlohmann::json& data) {
    constexpr std::size_t max_value_text = 60;
    std::string text;
    std::vector<std::string> seen;
    for (const auto& v : rule.variables()) {
        if (v.name.empty() || contains(seen, v.name)) {
            continue;
        }
        seen.push_back(v.name);
        nlohmann::json length;
        const nlohmann::json* value = lookup_variable(data, v.name, length);
        std::string shown =
            value ? value->dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)
                  : "missing";
        if (shown.size() > max_value_text) {
            shown = shown.substr(0, max_value_text) + "...";
        }
        text += (text.empty() ? "" : ", ") + v.name + " is " + shown;
    }
    return text;
}

// Why a condition did not hold, or that it failed on the data (which counts as not met).
std::optional<std::string> condition_fails(const program::condition& c,
                                           const nlohmann::json& data) {
    auto result = logic::test(c.rule, data);
    if (!result) {
        return "condition " + c.path + " could not be evaluated: " + result.error().message;
    }
    if (!*result) {
        std::string values = variable_values(c.rule, data);
        return "condition " + c.path + " is false" + (values.empty() ? "" : " (" + values + ")");
    }
    return std::nullopt;
}

// Splits `total` points over lines in proportion to `weights`, exactly: the largest remainders
// get the leftover points, ties to the earlier line. The parts always add up to `total`.
std::vector<points_t> allocate(points_t total, const std::vector<std::int64_t>& weights) {
    std::vector<points_t> parts(weights.size(), 0);
    wide_int sum = std::accumulate(weights.begin(), weights.end(), wide_int{0});
    if (weights.empty() || total == 0) {
        return parts;
    }
    if (sum == 0) {
        parts.front() = total;
        return parts;
    }
    // Most purchases have a few lines: their remainders stay on the stack, and a stable
    // insertion sort orders them without the heap buffer std::stable_sort takes.
    using remainder = std::pair<wide_int, std::size_t>;
    std::array<remainder, 16> few;
    std::vector<remainder> many;
    std::span<remainder> remainders(few.data(), std::min(weights.size(), few.size()));
    if (weights.size() > few.size()) {
        many.resize(weights.size());
        remainders = many;
    }
    points_t given = 0;
    for (std::size_t i = 0; i < weights.size(); ++i) {
        wide_int share = static_cast<wide_int>(total) * weights[i];
        parts[i] = static_cast<points_t>(share / sum);
        given += parts[i];
        remainders[i] = {share % sum, i};
    }
    // Largest remainder first, ties in line order.
    auto larger = [](const remainder& a, const remainder& b) {
        return a.first > b.first;
    };
    if (remainders.size() <= few.size()) {
        for (std::size_t i = 1; i < remainders.size(); ++i) {
            auto item = remainders[i];
            std::size_t j = i;
            for (; j > 0 && larger(item, remainders[j - 1]); --j) {
                remainders[j] = remainders[j - 1];
            }
            remainders[j] = item;
        }
    } else {
        std::stable_sort(remainders.begin(), remainders.end(), larger);
    }
    for (std::size_t k = 0; given < total; ++k, ++given) {
        parts[remainders[k % remainders.size()].second] += 1;
    }
    return parts;
}

// One rule's progress through an evaluation.
struct award {
    const earn_rule* rule = nullptr;
    rule_result result;
    points_t points = 0;           // after rounding and multipliers, before limits
    std::vector<points_t> by_line; // per purchase line, for per-line rules
    bool per_line = false;
};

std::string rounding_name(program::rounding r) {
    switch (r) {
    case program::rounding::floor:
        return "floor";
    case program::rounding::half_up:
        return "half up";
    case program::rounding::ceil:
        return "ceil";
    }
    return "?";
}

// "17.45 USD": written into one string, as reasons are built on every evaluation.
std::string money_text(const program::program& p, money_t amount) {
    int digits = p.currency.minor_digits;
    money_t a = amount < 0 ? -amount : amount;
    money_t scale = 1;
    for (int i = 0; i < digits; ++i) {
        scale *= 10;
    }
    char buffer[24];
    std::string text;
    if (amount < 0) {
        text += '-';
    }
    text.append(buffer, std::to_chars(buffer, buffer + sizeof buffer, a / scale).ptr);
    if (digits != 0) {
        char* end = std::to_chars(buffer, buffer + sizeof buffer, a % scale).ptr;
        text += '.';
        text.append(static_cast<std::size_t>(digits) - static_cast<std::size_t>(end - buffer), '0');
        text.append(buffer, end);
    }
    text += ' ';
    text += p.currency.code;
    return text;
}

// Checks the parts of a rule that do not depend on the amounts: validity window and `when`.
std::optional<std::string> not_applicable(const context& cx, const earn_rule& r,
                                          const nlohmann::json& data) {
    if (r.active && !r.active->contains(to_local(cx.program.time_zone, cx.now))) {
        return std::string("outside the rule's validity window");
    }
    if (r.when) {
        return condition_fails(*r.when, data);
    }
    return std::nullopt;
}

// Applies per-transaction, per-member and budget limits to an award, in that order, and says
// what they did.
void apply_limits(context& cx, award& a) {
    const program::rule_limits& limits = a.rule->limits;
    points_t before = a.points;
    // `why` says what a cut did; it is written only when the limit cuts.
    auto cut_to = [&](points_t cap, auto why) {
        if (a.points > cap) {
            a.points = std::max<points_t>(cap, 0);
            a.result.reason += "; " + why();
        }
    };
    if (limits.per_transaction) {
        cut_to(*limits.per_transaction, [&] {
            return "capped at " + points_text(cx.program, *limits.per_transaction) +
                   " per transaction";
        });
    }
    for (const program::usage_limit& l : limits.per_member) {
        if (l.times) {
            std::int64_t used = times_used(cx, a.rule->id, l.per);
            if (used >= *l.times) {
                cut_to(0, [&] {
                    return "limit reached: " + std::to_string(*l.times) + " per " +
                           program::to_string(l.per) + ", used " + std::to_string(used);
                });
            }
        } else if (l.points) {
            points_t used = points_used(cx, a.rule->id, l.per);
            cut_to(*l.points - used, [&] {
                return "limit of " + points_text(cx.program, *l.points) + " per " +
                       program::to_string(l.per) + ", " + points_text(cx.program, used) +
                       " already earned";
            });
        }
    }
    if (limits.budget) {
        // operator[] records a zero for a rule that never paid: the stored state has always
        // listed every budgeted rule that was considered.
        points_t used = cx.state.budget_used[a.rule->id];
        cut_to(*limits.budget - used, [&] {
            return "program budget of " + points_text(cx.program, *limits.budget) + " has " +
                   points_text(cx.program, std::max<points_t>(*limits.budget - used, 0)) + " left";
        });
    }
    if (a.per_line && a.points != before) {
        a.by_line = allocate(a.points, a.by_line);
    }
    a.result.awarded = a.points;
    if (a.points == 0 && before > 0) {
        a.result.matched = false;
    }
}

// Credits each award as a lot and records its usage; returns the lot of each award, in the
// awards' order (0 for those that pay nothing).
std::vector<std::int64_t> credit_awards(context& cx, std::vector<award>& awards,
                                        std::int64_t default_pending_days) {
    std::vector<std::int64_t> lots(awards.size(), 0);
    // One movement per paying award.
    cx.out.movements.reserve(
        cx.out.movements.size() +
        static_cast<std::size_t>(std::count_if(awards.begin(), awards.end(),
                                               [](const award& a) { return a.points > 0; })));
    for (std::size_t i = 0; i < awards.size(); ++i) {
        award& a = awards[i];
        if (a.points <= 0) {
            continue;
        }
        const earn_rule& r = *a.rule;
        std::string text = concat({points_text(cx.program, a.points), ": ",
                                   r.description.empty() ? r.id : r.description});
        lots[i] = credit(cx, a.points, r.id, r.qualifying,
                         r.pending_days.value_or(default_pending_days), text);
        if (!r.limits.per_member.empty()) {
            cx.state.usage.push_back({r.id, cx.now, 1, a.points});
        }
        if (r.limits.budget) {
            cx.state.budget_used[r.id] += a.points;
        }
    }
    return lots;
}

// Multipliers: additive extras are computed on the rounded points of their target rules;
// multiplicative ones then compound on the running total, in file order. Each multiplier's
// extra points are its own award, rounded by its own rounding.
void apply_multipliers(context& cx, std::vector<award>& awards) {
    // Rule ids are unique in a program, so an award is found by its rule's id; the awards are
    // a handful, so a scan beats building a map.
    auto index_of = [&](const std::string& id) {
        for (std::size_t i = 0; i < awards.size(); ++i) {
            if (awards[i].rule->id == id) {
                return i;
            }
        }
        return awards.size();
    };
    if (std::none_of(awards.begin(), awards.end(),
                     [](const award& a) { return a.rule->kind == earn_kind::multiply; })) {
        return;
    }
    std::vector<points_t> running;
    running.reserve(awards.size());
    for (const award& a : awards) {
        running.push_back(a.points);
    }
    for (int pass = 0; pass < 2; ++pass) {
        program::stacking wanted =
            pass == 0 ? program::stacking::additive : program::stacking::multiplicative;
        for (award& m : awards) {
            const earn_rule& r = *m.rule;
            if (r.kind != earn_kind::multiply || r.multiply.stack != wanted || !m.result.matched) {
                continue;
            }
            points_t extra_total = 0;
            wide_int extra_exact = 0; // in hundredths of a point: the extras before rounding
            std::vector<points_t> extra_by_line;
            std::string detail;
            for (const std::string& target_id : r.multiply.rules) {
                std::size_t t = index_of(target_id);
                if (t == awards.size() || !awards[t].result.matched) {
                    continue;
                }
                award& target = awards[t];
                points_t on = wanted == program::stacking::additive ? target.points : running[t];
                extra_exact += static_cast<wide_int>(on) * (r.multiply.percent - 100);
                points_t extra =
                    award_points(cx,
                                 round_ratio(static_cast<wide_int>(on) * (r.multiply.percent - 100),
                                             100, r.round),
                                 r.id);
                running[t] += extra;
                extra_total += extra;
                detail += concat(
                    {detail.empty() ? "" : ", ", points_text(cx.program, on), " of ", target_id});
                if (target.per_line) {
                    auto parts = allocate(extra, target.by_line);
                    if (extra_by_line.empty()) {
                        extra_by_line.assign(parts.size(), 0);
                    }
                    for (std::size_t i = 0; i < parts.size(); ++i) {
                        extra_by_line[i] += parts[i];
                    }
                }
            }
            m.points = award_points(cx, extra_total, r.id);
            m.per_line = !extra_by_line.empty();
            m.by_line = std::move(extra_by_line);
            m.result.rounded = extra_total;
            std::string percent = std::to_string(r.multiply.percent);
            // As a rate rule's: the number before rounding (each target's extra is rounded on
            // its own, so `rounded` is the sum of those).
            m.result.exact = exact_text(extra_exact, 100);
            m.result.reason =
                detail.empty()
                    ? "none of its rules earned anything"
                    : concat({"x", percent, "% on ", detail, " (", rounding_name(r.round), ")"});
            if (detail.empty()) {
                m.result.matched = false;
                m.result.exact.clear();
            }
        }
    }
}

// The end every earn step shares: multipliers on the rounded points, then limits, then one lot
// per paying rule. Returns the lot of each award (0 for those that pay nothing).
std::vector<std::int64_t> settle(context& cx, std::vector<award>& awards,
                                 std::int64_t default_pending_days) {
    apply_multipliers(cx, awards);
    for (award& a : awards) {
        if (a.result.matched) {
            apply_limits(cx, a);
        }
    }
    return credit_awards(cx, awards, default_pending_days);
}

// Events and enrollment pay fixed points (and their multipliers), available at once unless a
// rule says otherwise.
void earn_fixed(context& cx, const nlohmann::json& data, earn_trigger on,
                const std::string& event_type, const std::string& reason) {
    std::vector<award> awards;
    for (const earn_rule& r : cx.program.earn) {
        if (r.on != on || (on == earn_trigger::event && r.event_type != event_type)) {
            continue;
        }
        award a;
        a.rule = &r;
        a.result.id = r.id;
        if (auto why = not_applicable(cx, r, data)) {
            a.result.reason = *why;
        } else {
            a.result.matched = true;
            a.points = r.kind == earn_kind::fixed ? r.points : 0;
            a.result.exact = std::to_string(a.points);
            a.result.rounded = a.points;
            a.result.reason = reason;
        }
        awards.push_back(std::move(a));
    }
    settle(cx, awards, 0);
    for (award& a : awards) {
        cx.out.rules.push_back(std::move(a.result));
    }
    upgrade_tier(cx);
}

// The first line whose id repeats an earlier line's, or lines.size() when none does.
std::size_t first_repeated_id(const std::vector<purchase_line>& lines) {
    if (lines.size() <= 16) {
        for (std::size_t i = 1; i < lines.size(); ++i) {
            for (std::size_t j = 0; j < i; ++j) {
                if (lines[j].line_id == lines[i].line_id) {
                    return i;
                }
            }
        }
        return lines.size();
    }
    std::vector<std::size_t> order(lines.size());
    std::iota(order.begin(), order.end(), std::size_t{0});
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
        return lines[a].line_id < lines[b].line_id;
    });
    std::size_t first = lines.size();
    for (std::size_t k = 1; k < order.size(); ++k) {
        if (lines[order[k]].line_id == lines[order[k - 1]].line_id) {
            first = std::min(first, order[k]);
        }
    }
    return first;
}

tl::expected<void, rejection> validate(const context& cx, const purchase& e) {
    auto reject = [](std::string field, std::string message) {
        return tl::unexpected(
            rejection{rejection_code::invalid_event, std::move(field), std::move(message)});
    };
    if (e.currency != cx.program.currency.code) {
        return reject("currency", "the program counts in " + std::string(cx.program.currency.code) +
                                      ", the purchase is in " + e.currency);
    }
    if (e.lines.empty()) {
        return reject("lines", "a purchase needs at least one line");
    }
    if (e.lines.size() > max_lines) {
        return reject("lines", "at most " + std::to_string(max_lines) + " lines per purchase");
    }
    const std::size_t repeated = first_repeated_id(e.lines);
    for (std::size_t i = 0; i < e.lines.size(); ++i) {
        const purchase_line& l = e.lines[i];
        auto at = [&](const char* field) {
            return "lines[" + std::to_string(i) + "]." + field;
        };
        if (l.line_id.empty() || i == repeated) {
            return reject(at("line_id"), "line ids must be present and unique");
        }
        if (l.quantity < 1 || l.quantity > max_quantity) {
            return reject(at("quantity"),
                          "expected a quantity from 1 to " + std::to_string(max_quantity));
        }
        if (l.unit_price < 0 || l.unit_price > max_unit_price) {
            return reject(at("unit_price"),
                          "expected a unit price from 0 to " + std::to_string(max_unit_price));
        }
        if (l.discount < 0 || l.discount > l.unit_price * l.quantity) {
            return reject(at("discount"), "expected a discount from 0 to the line's price (" +
                                              std::to_string(l.unit_price * l.quantity) + ")");
        }
    }
    return {};
}

bool line_selected(const program::line_selector& s, const purchase_line& l, nlohmann::json& data,
                   const data_needs& needs, std::string& failure) {
    if (!s.categories.empty() && !contains(s.categories, l.category)) {
        return false;
    }
    if (!s.skus.empty() && !contains(s.skus, l.sku)) {
        return false;
    }
    if (!s.tags.empty() && std::none_of(l.tags.begin(), l.tags.end(), [&](const std::string& t) {
            return contains(s.tags, t);
        })) {
        return false;
    }
    if (s.when) {
        if (nlohmann::json line = line_data(needs, l); !line.is_null()) {
            data["line"] = std::move(line);
        }
        if (auto fails = condition_fails(*s.when, data)) {
            if (fails->find("could not be evaluated") != std::string::npos) {
                failure = *fails;
            }
            return false;
        }
    }
    return true;
}

} // namespace

tl::expected<void, rejection> earn_purchase(context& cx, const purchase& e) {
    if (auto ok = validate(cx, e); !ok) {
        return ok;
    }
    for (const purchase_record& r : cx.state.purchases) {
        if (r.request.transaction_id == e.transaction_id && r.request.store_id == e.store_id) {
            return tl::unexpected(rejection{rejection_code::already_done, "transaction_id",
                                            "this purchase was already posted"});
        }
    }
    const program::program& p = cx.program;
    member_state& s = cx.state;

    // Summed wide first: lines within their own limits can still add up past 64 bits.
    wide_int lines_total = 0;
    for (const purchase_line& l : e.lines) {
        lines_total += static_cast<wide_int>(l.quantity) * l.unit_price - l.discount;
    }
    if (lines_total > purchase_limits::max_total) {
        return tl::unexpected(rejection{rejection_code::out_of_range, "lines",
                                        "the lines total more than " +
                                            std::to_string(purchase_limits::max_total) +
                                            ", the most one purchase may be (minor units)"});
    }
    // Eligible spend: excluded categories and SKUs earn nothing and count toward nothing.
    std::vector<bool> eligible(e.lines.size());
    purchase_totals totals;
    for (std::size_t i = 0; i < e.lines.size(); ++i) {
        const purchase_line& l = e.lines[i];
        eligible[i] = !contains(p.spend.excluded_categories, l.category) &&
                      !contains(p.spend.excluded_skus, l.sku);
        totals.total += l.amount();
        totals.quantity += l.quantity;
        if (eligible[i]) {
            totals.eligible_spend += l.amount();
        }
    }
    const money_t eligible_spend = totals.eligible_spend;
    bool first_purchase = s.lifetime_purchases == 0;

    // The data of every condition this purchase can evaluate, built once, before anything
    // changes: the purchase rules' conditions and line selectors, and the referral rules'
    // conditions on a referred member's first purchase.
    data_needs needs;
    for (const earn_rule& r : p.earn) {
        if (r.on == earn_trigger::purchase) {
            needs.add(r.when);
            if (r.lines) {
                needs.add(r.lines->when);
            }
        } else if (r.on == earn_trigger::referral && first_purchase && s.referred_by) {
            needs.add(r.when);
        }
    }
    nlohmann::json data = nlohmann::json::object();
    if (nlohmann::json transaction = transaction_data(needs, cx, e, totals);
        !transaction.is_null()) {
        data["transaction"] = std::move(transaction);
    }
    if (nlohmann::json member = member_data(needs, cx); !member.is_null()) {
        data["member"] = std::move(member);
    }

    // Purchases counted in each period include this one.
    s.purchase_times.push_back(cx.now);

    std::vector<award> awards;
    awards.reserve(p.earn.size());
    for (const earn_rule& r : p.earn) {
        if (r.on != earn_trigger::purchase) {
            continue;
        }
        award a;
        a.rule = &r;
        a.result.id = r.id;
        if (auto why = not_applicable(cx, r, data)) {
            a.result.reason = *why;
            awards.push_back(std::move(a));
            continue;
        }
        if (r.min_spend && eligible_spend < *r.min_spend) {
            a.result.reason = "eligible spend " + money_text(p, eligible_spend) + " is below " +
                              money_text(p, *r.min_spend);
            awards.push_back(std::move(a));
            continue;
        }
        if (r.first_purchase && !first_purchase) {
            a.result.reason = "not the member's first purchase";
            awards.push_back(std::move(a));
            continue;
        }
        if (r.nth) {
            // Every purchase of the period, those dated after this one included (it may be
            // posted late): the rule pays once when the period holds its nth purchase.
            timestamp from = period_start(r.nth->per, p.time_zone, cx.now);
            timestamp to = period_end(r.nth->per, p.time_zone, cx.now);
            auto count = std::count_if(s.purchase_times.begin(), s.purchase_times.end(),
                                       [&](timestamp t) { return t >= from && t < to; });
            if (count != r.nth->n) {
                a.result.reason = "purchase " + std::to_string(count) + " in the " +
                                  program::to_string(r.nth->per) + ", the rule pays on purchase " +
                                  std::to_string(r.nth->n);
                awards.push_back(std::move(a));
                continue;
            }
        }
        if (r.kind == earn_kind::fixed && totals.total == 0) {
            // A bonus for the purchase needs something paid for: a till posting free samples
            // or a voided basket at $0 would otherwise collect it once per receipt.
            a.result.reason = "nothing was paid for (the purchase's total is " +
                              money_text(p, totals.total) + ")";
            awards.push_back(std::move(a));
            continue;
        }
        a.result.matched = true;
        switch (r.kind) {
        case earn_kind::rate: {
            program::earn_rate rate = r.rate;
            if (auto it = r.tier_rates.find(s.tier.tier); it != r.tier_rates.end()) {
                rate = it->second;
            }
            a.per_line = true;
            std::vector<std::int64_t> weights(e.lines.size(), 0);
            money_t spend = 0;
            std::string failure;
            for (std::size_t i = 0; i < e.lines.size(); ++i) {
                if (eligible[i] &&
                    (!r.lines || line_selected(*r.lines, e.lines[i], data, needs, failure))) {
                    weights[i] = e.lines[i].amount();
                    spend += weights[i];
                }
            }
            wide_int numerator = static_cast<wide_int>(spend) * rate.points;
            a.points = award_points(cx, round_ratio(numerator, rate.per, r.round), r.id);
            a.by_line = allocate(a.points, weights);
            a.result.exact = exact_text(numerator, rate.per);
            bool tier_rate = rate.points != r.rate.points || rate.per != r.rate.per;
            a.result.reason =
                concat({std::to_string(rate.points), " per ", money_text(p, rate.per),
                        tier_rate ? " (" : "", tier_rate ? std::string_view(s.tier.tier) : "",
                        tier_rate ? " rate)" : "", " on ", money_text(p, spend), " (",
                        rounding_name(r.round), ")", failure.empty() ? "" : "; ", failure});
            break;
        }
        case earn_kind::per_unit: {
            a.per_line = true;
            a.by_line.assign(e.lines.size(), 0);
            std::int64_t units = 0;
            std::string failure;
            for (std::size_t i = 0; i < e.lines.size(); ++i) {
                if (eligible[i] &&
                    (!r.lines || line_selected(*r.lines, e.lines[i], data, needs, failure))) {
                    a.by_line[i] = e.lines[i].quantity * r.points;
                    units += e.lines[i].quantity;
                }
            }
            a.points = award_points(cx, static_cast<wide_int>(units) * r.points, r.id);
            a.result.exact = std::to_string(a.points);
            a.result.reason =
                concat({std::to_string(r.points), " per unit on ", std::to_string(units),
                        units == 1 ? " unit" : " units", failure.empty() ? "" : "; ", failure});
            if (units == 0) {
                a.result.matched = false;
                a.result.exact.clear(); // as every rule that did not match
                a.result.reason = "no line matched" + (failure.empty() ? "" : ": " + failure);
            }
            break;
        }
        case earn_kind::fixed:
            a.points = r.points;
            a.result.exact = std::to_string(r.points);
            a.result.reason = r.min_spend ? "eligible spend " + money_text(p, eligible_spend) +
                                                " reaches " + money_text(p, *r.min_spend)
                                          : "conditions met";
            break;
        case earn_kind::multiply:
            break; // below, once the rules it multiplies are known
        }
        a.result.rounded = a.points;
        awards.push_back(std::move(a));
    }
    data.erase("line");
    auto lots = settle(cx, awards, p.points.pending_days);

    // What each line earned, per rule, so a return reverses exactly that.
    purchase_record record;
    record.request = e;
    record.lines.reserve(e.lines.size());
    record.awards.reserve(awards.size());
    cx.out.rules.reserve(cx.out.rules.size() + awards.size());
    for (std::size_t i = 0; i < e.lines.size(); ++i) {
        line_allocation la;
        la.line_id = e.lines[i].line_id;
        la.quantity = e.lines[i].quantity;
        la.eligible_spend = eligible[i] ? e.lines[i].amount() : 0;
        for (const award& a : awards) {
            if (a.per_line && a.points > 0 && a.by_line[i] > 0) {
                la.points_by_rule[a.rule->id] = a.by_line[i];
            }
        }
        record.lines.push_back(std::move(la));
    }
    for (std::size_t i = 0; i < awards.size(); ++i) {
        award& a = awards[i];
        if (a.points > 0) {
            record.awards.push_back(
                {a.rule->id, a.points, lots[i], a.rule->qualifying, a.per_line, a.rule->min_spend});
        }
        cx.out.rules.push_back(std::move(a.result));
    }
    s.purchases.push_back(std::move(record));

    s.lifetime_purchases += 1;
    s.lifetime_spend += eligible_spend;
    // A purchase posted late is activity when it happened, never later than what came before.
    s.last_activity = std::max(s.last_activity.value_or(cx.now), cx.now);
    if (p.tiers.metric == program::tier_metric::eligible_spend) {
        s.metric.push_back({cx.now, eligible_spend, e.transaction_id});
    } else if (p.tiers.metric == program::tier_metric::purchases) {
        s.metric.push_back({cx.now, 1, e.transaction_id});
    }
    upgrade_tier(cx);

    // The referrer earns on the friend's first purchase.
    if (first_purchase && s.referred_by) {
        for (const earn_rule& r : p.earn) {
            if (r.on != earn_trigger::referral) {
                continue;
            }
            rule_result result{r.id, false, "", "", 0, 0};
            if (auto why = not_applicable(cx, r, data)) {
                result.reason = *why;
            } else {
                result.matched = true;
                result.exact = std::to_string(r.points);
                result.rounded = result.awarded = r.points;
                result.reason = "first purchase of a member referred by " + *s.referred_by;
                cx.out.referrals.push_back({*s.referred_by, r.id, r.points, r.qualifying,
                                            points_text(p, r.points) + " for referring " + s.id});
            }
            cx.out.rules.push_back(std::move(result));
        }
    }
    // Nth-purchase benefits.
    for (const program::benefit& b : p.benefits) {
        if (b.trigger != program::benefit_trigger::nth_purchase || !b.nth ||
            (!b.tiers.empty() && !contains(b.tiers, s.tier.tier))) {
            continue;
        }
        timestamp from = period_start(b.nth->per, p.time_zone, cx.now);
        timestamp to = period_end(b.nth->per, p.time_zone, cx.now);
        auto count = std::count_if(s.purchase_times.begin(), s.purchase_times.end(),
                                   [&](timestamp t) { return t >= from && t < to; });
        if (count == b.nth->n && times_used(cx, b.id, b.once_per.value_or(b.nth->per)) == 0) {
            grant_benefit(cx, b);
        }
    }
    return {};
}

tl::expected<void, rejection> earn_event(context& cx, const custom_event& e) {
    const program::program& p = cx.program;
    if (!contains(p.event_types, e.type)) {
        std::string known;
        for (const auto& t : p.event_types) {
            known += (known.empty() ? "" : ", ") + t;
        }
        return tl::unexpected(
            rejection{rejection_code::invalid_event, "type",
                      "unknown event type \"" + e.type +
                          "\"; the program accepts: " + (known.empty() ? "none" : known)});
    }
    data_needs needs;
    for (const earn_rule& r : p.earn) {
        if (r.on == earn_trigger::event && r.event_type == e.type) {
            needs.add(r.when);
        }
    }
    nlohmann::json data = nlohmann::json::object();
    if (nlohmann::json event = event_data(needs, cx, e); !event.is_null()) {
        data["event"] = std::move(event);
    }
    if (nlohmann::json member = member_data(needs, cx); !member.is_null()) {
        data["member"] = std::move(member);
    }
    cx.state.last_activity = std::max(cx.state.last_activity.value_or(cx.now), cx.now);
    earn_fixed(cx, data, earn_trigger::event, e.type, e.type + " posted");
    return {};
}

tl::expected<void, rejection> earn_referral(context& cx, const referral_reward& e) {
    const earn_rule* r = cx.program.find_earn_rule(e.rule_id);
    if (r == nullptr || r->on != earn_trigger::referral) {
        return tl::unexpected(
            rejection{rejection_code::invalid_event, "rule_id", "no referral rule " + e.rule_id});
    }
    award a;
    a.rule = r;
    a.result.id = r->id;
    a.result.matched = true;
    a.points = r->points;
    a.result.exact = std::to_string(a.points);
    a.result.rounded = a.points;
    a.result.reason = "referred " + e.friend_id + ", who made a first purchase";
    std::vector<award> awards{std::move(a)};
    settle(cx, awards, 0);
    cx.out.rules.push_back(awards.front().result);
    upgrade_tier(cx);
    return {};
}

tl::expected<void, rejection> enroll(context& cx, const enrollment&) {
    data_needs needs;
    for (const earn_rule& r : cx.program.earn) {
        if (r.on == earn_trigger::enrollment) {
            needs.add(r.when);
        }
    }
    nlohmann::json data = nlohmann::json::object();
    if (nlohmann::json member = member_data(needs, cx); !member.is_null()) {
        data["member"] = std::move(member);
    }
    earn_fixed(cx, data, earn_trigger::enrollment, "", "member enrolled");
    return {};
}

} // namespace loyalty::engine::detail
