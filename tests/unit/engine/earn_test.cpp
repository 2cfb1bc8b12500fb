// The sample program's earn rules, table by table, through evaluate().
#include "loyalty/engine/evaluate.hpp"
#include "loyalty/engine/event_json.hpp"
#include "loyalty/engine/local_time.hpp"
#include "loyalty/program/load.hpp"
#include "support/sample_program.hpp"

#include <catch2/catch.hpp>

using namespace loyalty;
using namespace loyalty::engine;
using loyalty::test::sample_program;

namespace {

timestamp at(const char* text) {
    return *parse_rfc3339(text);
}

member_state member(const char* tier = "green") {
    member_state m = new_member(sample_program(),
                                {"m1", at("2026-01-05T15:00:00Z"), std::nullopt, std::nullopt});
    m.tier.tier = tier;
    return m;
}

purchase_line line(const char* id, const char* category, std::int64_t quantity, money_t price) {
    return {id, std::string("SKU-") + id, category, quantity, price, 0, {}};
}

purchase basket(const char* when, std::vector<purchase_line> lines, const char* channel = "store") {
    static int n = 0;
    return {"t" + std::to_string(++n), "m1", "s1", channel, "USD", at(when), std::move(lines)};
}

outcome run(const member_state& m, const purchase& p) {
    auto o = evaluate(sample_program(), m, p, p.occurred_at);
    INFO((o ? "" : o.error().message));
    REQUIRE(o);
    return *o;
}

points_t rule_points(const outcome& o, const std::string& id) {
    for (const auto& r : o.rules) {
        if (r.id == id) {
            return r.awarded;
        }
    }
    FAIL("rule " << id << " not explained");
    return -1;
}

const rule_result& rule(const outcome& o, const std::string& id) {
    for (const auto& r : o.rules) {
        if (r.id == id) {
            return r;
        }
    }
    throw std::logic_error("rule " + id + " not explained");
}

} // namespace

TEST_CASE("base leaves are floor(eligible cents x rate / 100) by tier", "[earn]") {
    struct row {
        const char* tier;
        money_t price;
        points_t base;
    } rows[] = {{"green", 1745, 34}, {"gold", 1745, 52}, {"reserve", 1745, 69},
                {"green", 99, 1},    {"green", 49, 0},   {"gold", 33, 0}};
    for (const row& r : rows) {
        INFO(r.tier << " " << r.price);
        // A Monday in New York.
        auto o =
            run(member(r.tier), basket("2026-11-23T15:00:00Z", {line("1", "coffee", 1, r.price)}));
        CHECK(rule_points(o, "base") == r.base);
        CHECK(o.points.earned == r.base);
        CHECK(o.points.pending == r.base);
    }
}

TEST_CASE("purchase leaves are pending for 14 days", "[earn]") {
    auto o = run(member(), basket("2026-11-23T15:00:00Z", {line("1", "coffee", 1, 1745)}));
    REQUIRE(o.points.available_from);
    CHECK(format_rfc3339(*o.points.available_from) == "2026-12-07T15:00:00Z");
    CHECK(o.balance_after.pending == 34);
    CHECK(o.balance_after.available == 0);
    CHECK(balance_at(o.state, at("2026-12-07T15:00:00Z")).available == 34);
    CHECK(rule(o, "base").exact == "34.9");
    CHECK(rule(o, "base").reason == "2 per 1.00 USD on 17.45 USD (floor)");
}

TEST_CASE("Double Tuesdays double base leaves on Tuesday in New York, across midnight", "[earn]") {
    struct row {
        const char* when;
        points_t extra;
    } rows[] = {
        {"2026-11-24T04:59:59Z", 0},  // Monday 23:59:59 EST
        {"2026-11-24T05:00:00Z", 34}, // Tuesday 00:00 EST
        {"2026-11-25T04:59:59Z", 34}, // Tuesday 23:59:59 EST (already Wednesday in UTC)
        {"2026-11-25T05:00:00Z", 0},  // Wednesday 00:00 EST
        {"2026-06-02T03:59:59Z", 0},  // Monday 23:59:59 EDT
        {"2026-06-02T04:00:00Z", 34}, // Tuesday 00:00 EDT
    };
    for (const row& r : rows) {
        INFO(r.when);
        auto o = run(member(), basket(r.when, {line("1", "coffee", 1, 1745)}));
        CHECK(rule_points(o, "double_tuesday") == r.extra);
        CHECK(o.points.earned == 34 + r.extra);
    }
}

TEST_CASE("gift cards earn nothing and count toward nothing", "[earn]") {
    auto o = run(member(), basket("2026-11-23T15:00:00Z",
                                  {line("1", "gift_card", 1, 5000), line("2", "coffee", 1, 500)}));
    CHECK(rule_points(o, "base") == 10);
    CHECK(rule_points(o, "big_basket") == 0);
    CHECK(rule(o, "big_basket").reason == "eligible spend 5.00 USD is below 30.00 USD");
    CHECK(o.state.purchases.back().lines[0].points_by_rule.empty());
    CHECK(o.state.purchases.back().lines[1].points_by_rule.at("base") == 10);
}

TEST_CASE("bakery items earn one leaf per unit", "[earn]") {
    auto o = run(member(), basket("2026-11-23T15:00:00Z",
                                  {line("1", "bakery", 3, 250), line("2", "coffee", 2, 300)}));
    CHECK(rule_points(o, "bakery") == 3);
    CHECK(rule_points(o, "base") == 27); // floor(1350 * 2 / 100)
}

TEST_CASE("big basket pays once per calendar month", "[earn]") {
    member_state m = member();
    auto first = run(m, basket("2026-11-02T15:00:00Z", {line("1", "coffee", 1, 3000)}));
    CHECK(rule_points(first, "big_basket") == 50);
    auto second = run(first.state, basket("2026-11-30T15:00:00Z", {line("1", "coffee", 1, 4000)}));
    CHECK(rule_points(second, "big_basket") == 0);
    CHECK(rule(second, "big_basket").reason.find("limit reached: 1 per calendar month, used 1") !=
          std::string::npos);
    // December is a new month (New York time: 2026-12-01T04:59Z is still November 30 there).
    auto late = run(second.state, basket("2026-12-01T04:59:00Z", {line("1", "coffee", 1, 3000)}));
    CHECK(rule_points(late, "big_basket") == 0);
    auto third = run(second.state, basket("2026-12-01T05:00:00Z", {line("1", "coffee", 1, 3000)}));
    CHECK(rule_points(third, "big_basket") == 50);
    auto below = run(member(), basket("2026-11-02T15:00:00Z", {line("1", "coffee", 1, 2999)}));
    CHECK(rule_points(below, "big_basket") == 0);
}

TEST_CASE("app orders pay at most three times per calendar week starting Monday", "[earn]") {
    member_state m = member();
    // Monday 2026-11-23 to Sunday 2026-11-29, New York.
    const char* times[] = {"2026-11-23T15:00:00Z", "2026-11-25T15:00:00Z", "2026-11-27T15:00:00Z",
                           "2026-11-30T04:00:00Z"};
    points_t paid[] = {10, 10, 10, 0};
    for (int i = 0; i < 4; ++i) {
        auto o = run(m, basket(times[i], {line("1", "coffee", 1, 500)}, "app"));
        CHECK(rule_points(o, "app_orders") == paid[i]);
        m = o.state;
    }
    auto next_week = run(m, basket("2026-11-30T05:00:00Z", {line("1", "coffee", 1, 500)}, "app"));
    CHECK(rule_points(next_week, "app_orders") == 10);
    auto in_store = run(member(), basket("2026-11-23T15:00:00Z", {line("1", "coffee", 1, 500)}));
    CHECK(rule_points(in_store, "app_orders") == 0);
    CHECK(rule(in_store, "app_orders").reason ==
          "condition earn[4].when is false (transaction.channel is \"store\")");
}

TEST_CASE("tiers upgrade at 500 and 2500 qualifying leaves, not a leaf before", "[earn][tiers]") {
    struct row {
        std::int64_t metric_before;
        money_t price;
        const char* tier_after;
        std::size_t vouchers;
    } rows[] = {{480, 950, "green", 0},     // 480 + 19 = 499
                {480, 1000, "gold", 1},     // 480 + 20 = 500: Gold, welcome drink
                {2480, 650, "gold", 0},     // Gold rate 3: 2480 + 19 = 2499
                {2480, 700, "reserve", 0}}; // 2480 + 21 = 2501
    for (const row& r : rows) {
        INFO(r.metric_before << " + " << r.price);
        member_state m = member(r.metric_before >= 500 ? "gold" : "green");
        m.metric.push_back({at("2026-10-01T12:00:00Z"), r.metric_before, "history"});
        auto o = run(m, basket("2026-11-23T15:00:00Z", {line("1", "coffee", 1, r.price)}));
        CHECK(o.tier.after == r.tier_after);
        CHECK(o.vouchers.size() == r.vouchers);
    }
    member_state m = member();
    m.metric.push_back({at("2026-10-01T12:00:00Z"), 480, "history"});
    auto up = run(m, basket("2026-11-23T15:00:00Z", {line("1", "coffee", 1, 1000)}));
    CHECK(up.tier.changed);
    CHECK(up.tier.metric == 500);
    REQUIRE(up.state.tier.valid_until);
    CHECK(format_rfc3339(*up.state.tier.valid_until) == "2027-11-23T15:00:00Z");
    REQUIRE(up.vouchers.size() == 1);
    CHECK(up.vouchers[0].reward_id == "handcrafted_drink");
    CHECK(format_rfc3339(up.vouchers[0].valid_until) == "2026-12-23T15:00:00Z");
}

TEST_CASE("the referrer earns 100 on the friend's first purchase only", "[earn]") {
    member_state m = member();
    m.referred_by = "friend-0";
    auto first = run(m, basket("2026-11-23T15:00:00Z", {line("1", "coffee", 1, 500)}));
    REQUIRE(first.referrals.size() == 1);
    CHECK(first.referrals[0].member_id == "friend-0");
    CHECK(first.referrals[0].points == 100);
    auto second = run(first.state, basket("2026-11-24T15:00:00Z", {line("1", "coffee", 1, 500)}));
    CHECK(second.referrals.empty());
}

TEST_CASE("the referrer's reward is evaluated on the referrer, with its limits", "[earn]") {
    auto p =
        test::sample_variant("    fixed: 100\n", "    fixed: 100\n    limits:\n      per_member:\n"
                                                 "        - {times: 2, period: calendar_year}\n");
    member_state referrer = member();
    points_t paid[] = {100, 100, 0};
    for (int i = 0; i < 3; ++i) {
        referral_reward r{"friend-" + std::to_string(i), "referral", at("2026-11-23T15:00:00Z")};
        auto o = evaluate(*p, referrer, r, r.occurred_at);
        REQUIRE(o);
        CHECK(o->points.earned == paid[i]);
        REQUIRE(o->rules.size() == 1);
        CHECK(o->rules[0].id == "referral");
        CHECK(o->rules[0].awarded == paid[i]);
        referrer = o->state;
    }
    referral_reward wrong{"friend-9", "base", at("2026-11-23T15:00:00Z")};
    auto refused = evaluate(*p, referrer, wrong, wrong.occurred_at);
    REQUIRE_FALSE(refused);
    CHECK(refused.error().field == "rule_id");
}

TEST_CASE("enrollment and reviews earn at once, reviews twice a month", "[earn]") {
    enrollment e{"m9", at("2026-11-23T15:00:00Z"), std::nullopt, std::nullopt};
    auto joined = evaluate(sample_program(), new_member(sample_program(), e), e, e.enrolled_at);
    REQUIRE(joined);
    CHECK(joined->points.earned == 25);
    CHECK(joined->balance_after.available == 25);
    member_state m = joined->state;
    points_t paid[] = {5, 5, 0};
    for (int i = 0; i < 3; ++i) {
        custom_event review{
            "r" + std::to_string(i), "review_posted", at("2026-11-24T15:00:00Z"), {}};
        auto o = evaluate(sample_program(), m, review, review.occurred_at);
        REQUIRE(o);
        CHECK(o->points.earned == paid[i]);
        m = o->state;
    }
    custom_event unknown{"x", "selfie", at("2026-11-24T15:00:00Z"), {}};
    auto refused = evaluate(sample_program(), m, unknown, unknown.occurred_at);
    REQUIRE_FALSE(refused);
    CHECK(refused.error().code == rejection_code::invalid_event);
    CHECK(refused.error().field == "type");
}

TEST_CASE("invalid purchases are refused with the field", "[earn]") {
    auto p = basket("2026-11-23T15:00:00Z", {line("1", "coffee", 1, 500)});
    p.currency = "EUR";
    auto o = evaluate(sample_program(), member(), p, p.occurred_at);
    REQUIRE_FALSE(o);
    CHECK(o.error().field == "currency");
    auto dup =
        basket("2026-11-23T15:00:00Z", {line("1", "coffee", 1, 500), line("1", "tea", 1, 500)});
    auto d = evaluate(sample_program(), member(), dup, dup.occurred_at);
    REQUIRE_FALSE(d);
    CHECK(d.error().field == "lines[1].line_id");
}

TEST_CASE("the same input always gives the same outcome", "[earn]") {
    auto p = basket("2026-11-24T15:00:00Z",
                    {line("1", "bakery", 2, 350), line("2", "coffee", 1, 2700)}, "app");
    auto a = run(member(), p);
    auto b = run(member(), p);
    CHECK(to_json(a, sample_program()) == to_json(b, sample_program()));
    CHECK(a.points.earned == 68 + 68 + 2 + 50 + 10); // base on 34.00, x2, bakery, big basket, app
}
