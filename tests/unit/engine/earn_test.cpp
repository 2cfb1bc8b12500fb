// The sample program's earn rules, table by table, through evaluate().
#include "loyalty/engine/evaluate.hpp"
#include "loyalty/engine/event_json.hpp"
#include "loyalty/engine/local_time.hpp"
#include "loyalty/program/load.hpp"
#include "support/sample_program.hpp"
#include "support/times.hpp"

#include <catch2/catch.hpp>

using namespace loyalty;
using namespace loyalty::engine;
using loyalty::test::at;
using loyalty::test::sample_program;

namespace {

member_state enrolled_member(const char* tier = "green") {
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
        auto o = run(enrolled_member(r.tier),
                     basket("2026-11-23T15:00:00Z", {line("1", "coffee", 1, r.price)}));
        CHECK(rule_points(o, "base") == r.base);
        CHECK(o.points.earned == r.base);
        CHECK(o.points.pending == r.base);
    }
}

TEST_CASE("purchase leaves are pending for 14 days", "[earn]") {
    auto o = run(enrolled_member(), basket("2026-11-23T15:00:00Z", {line("1", "coffee", 1, 1745)}));
    REQUIRE(o.points.available_from);
    CHECK(format_rfc3339(*o.points.available_from) == "2026-12-07T15:00:00Z");
    CHECK(o.balance_after.pending == 34);
    CHECK(o.balance_after.available == 0);
    CHECK(balance_at(o.state, at("2026-12-07T15:00:00Z")).available == 34);
    CHECK(rule(o, "base").exact == "34.9");
    CHECK(rule(o, "base").reason == "2 per 1.00 USD on 17.45 USD (floor)");
}

TEST_CASE("a purchase posted after its pending period ended earns leaves available at once",
          "[earn]") {
    // Bought on 23 November, pending for 14 days (to 7 December 15:00), posted later.
    const purchase p = basket("2026-11-23T15:00:00Z", {line("1", "coffee", 1, 1745)});
    auto posted = [&](const char* now) {
        auto o = evaluate(sample_program(), enrolled_member(), p, at(now));
        REQUIRE(o);
        return *o;
    };

    // Posted 20 days late: nothing is pending, nothing is left to mature, the answer and the
    // balance agree, and the explanation says why.
    outcome late = posted("2026-12-13T15:00:00Z");
    CHECK(late.points.earned == 34);
    CHECK(late.points.pending == 0);
    CHECK_FALSE(late.points.available_from);
    CHECK(late.balance_after.available == 34);
    CHECK(late.balance_after.pending == 0);
    REQUIRE(late.movements.size() == 1);
    CHECK_FALSE(late.movements[0].pending);
    CHECK(late.movements[0].explanation ==
          "34 leaves: 2 leaves per $1 (Gold 3, Reserve 4); available at once: its 14-day pending "
          "period ended 2026-12-07, before it was posted");
    REQUIRE(late.state.lots.size() == 1);
    CHECK(late.state.lots[0].matured);
    // The lot keeps its own dates: earned on the day of the purchase.
    CHECK(format_rfc3339(late.state.lots[0].earned_at) == "2026-11-23T15:00:00Z");
    CHECK(format_rfc3339(late.state.lots[0].available_at) == "2026-12-07T15:00:00Z");
    // Nothing is due at once: no maturing is left to run (one would be due at the posting).
    auto due = next_due(sample_program(), late.state, at("2026-12-13T15:00:00Z"));
    REQUIRE(due);
    CHECK(*due > at("2026-12-13T15:00:00Z"));
    auto later = evaluate(sample_program(), late.state, time_passes{at("2026-12-14T15:00:00Z")},
                          at("2026-12-14T15:00:00Z"));
    REQUIRE(later);
    CHECK(later->points.matured == 0);

    // Posted 5 days late, the rest of the period still runs from the purchase's own date; at
    // the very end of it the leaves are available.
    outcome early = posted("2026-11-28T15:00:00Z");
    CHECK(early.points.pending == 34);
    REQUIRE(early.points.available_from);
    CHECK(format_rfc3339(*early.points.available_from) == "2026-12-07T15:00:00Z");
    CHECK(early.movements[0].pending);
    CHECK(early.movements[0].explanation == "34 leaves: 2 leaves per $1 (Gold 3, Reserve 4)");
    CHECK(posted("2026-12-07T15:00:00Z").points.pending == 0);
    CHECK(posted("2026-12-07T14:59:59Z").points.pending == 34);
}

TEST_CASE("leaves of a purchase posted after they expired expire in its answer", "[earn]") {
    // Leaves expire 30 days after they are earned; the program takes purchases 60 days late.
    const auto variant_program =
        test::sample_variant("    policy: after\n    months: 6\n    round_to: end_of_month\n",
                             "    policy: after\n    days: 30\n");
    const program::program& p = *variant_program;
    const purchase bought = basket("2026-11-02T15:00:00Z", {line("1", "coffee", 1, 1745)});

    // Posted 45 days later: earned as of 2 November, expired after 2 December, never spendable;
    // the purchase's own answer expires them, saying why.
    auto late = evaluate(p, enrolled_member(), bought, at("2026-12-17T15:00:00Z"));
    REQUIRE(late);
    CHECK(late->points.earned == 34);
    CHECK(late->points.pending == 0);
    CHECK(late->points.expired == 34);
    CHECK(late->balance_after.available == 0);
    CHECK(late->balance_after.pending == 0);
    REQUIRE(late->movements.size() == 2);
    CHECK_FALSE(late->movements[0].pending);
    CHECK(late->movements[0].explanation == "34 leaves: 2 leaves per $1 (Gold 3, Reserve 4)");
    CHECK(late->movements[1].kind == movement_kind::expire);
    CHECK(late->movements[1].points == -34);
    CHECK(late->movements[1].lot_id == late->movements[0].lot_id);
    CHECK(late->movements[1].explanation ==
          "34 leaves expired: earned 2026-11, expired 2026-12-02, before it was posted");
    // Nothing is left for the jobs.
    auto run = evaluate(p, late->state, time_passes{at("2026-12-17T15:00:00Z")},
                        at("2026-12-17T15:00:00Z"));
    REQUIRE(run);
    CHECK(run->movements.empty());

    // A debt is not repaid from them: the member still owes it.
    member_state owing = enrolled_member();
    lot debt;
    debt.id = owing.next_lot_id++;
    debt.remaining = -20;
    debt.earned_at = at("2026-10-01T15:00:00Z");
    debt.available_at = debt.earned_at;
    owing.lots.push_back(debt);
    auto repaid = evaluate(p, owing, bought, at("2026-12-17T15:00:00Z"));
    REQUIRE(repaid);
    CHECK(repaid->state.lots[0].remaining == -20);
    CHECK(repaid->balance_after.available == -20);

    // Posted in time (20 days late), the same leaves are available, with no such words.
    auto in_time = evaluate(p, enrolled_member(), bought, at("2026-11-22T15:00:00Z"));
    REQUIRE(in_time);
    CHECK(in_time->balance_after.available == 34);
    CHECK(in_time->movements[0].explanation.find("expired") == std::string::npos);
}

TEST_CASE("a purchase or event posted late counts against payouts dated after it in its period",
          "[earn][late]") {
    const program::program& p = sample_program();
    auto post = [&](const member_state& m, const auto& e, const char* now) {
        auto o = evaluate(p, m, e, at(now));
        INFO((o ? "" : o.error().message));
        REQUIRE(o);
        return *o;
    };
    // big_basket pays once a calendar month. Paid on 10 December; a till offline for a week
    // then posts a basket from 3 December: the month has had its payout.
    outcome first =
        post(enrolled_member(), basket("2026-12-10T15:00:00Z", {line("1", "coffee", 1, 3500)}),
             "2026-12-10T15:00:00Z");
    CHECK(rule_points(first, "big_basket") == 50);
    outcome late = post(first.state, basket("2026-12-03T15:00:00Z", {line("1", "coffee", 1, 3500)}),
                        "2026-12-10T16:00:00Z");
    CHECK(rule_points(late, "big_basket") == 0);
    CHECK(rule(late, "big_basket").reason.find("limit reached: 1 per calendar month, used 1") !=
          std::string::npos);
    // A basket from November is another month's, and pays.
    outcome november =
        post(late.state, basket("2026-11-28T15:00:00Z", {line("1", "coffee", 1, 3500)}),
             "2026-12-10T17:00:00Z");
    CHECK(rule_points(november, "big_basket") == 50);

    // Reviews pay twice a month: two on 10 December, then one dated 1 December pays nothing.
    member_state m = enrolled_member();
    for (const char* id : {"r1", "r2"}) {
        m = post(m, custom_event{id, "review_posted", at("2026-12-10T15:00:00Z"), {}},
                 "2026-12-10T15:00:00Z")
                .state;
    }
    outcome third = post(m, custom_event{"r3", "review_posted", at("2026-12-01T15:00:00Z"), {}},
                         "2026-12-10T16:00:00Z");
    CHECK(third.points.earned == 0);
}

TEST_CASE("an nth-purchase rule pays once when its period holds the nth purchase, however late",
          "[earn][late]") {
    const auto variant = test::sample_variant("  - id: enrollment\n", R"(  - id: second_visit
    on: purchase
    fixed: 30
    nth_purchase: {n: 2, period: calendar_month}

  - id: enrollment
)");
    const program::program& p = *variant;
    auto post = [&](const member_state& m, const char* when, const char* now) {
        auto o = evaluate(p, m, basket(when, {line("1", "coffee", 1, 500)}), at(now));
        REQUIRE(o);
        return *o;
    };
    outcome one = post(enrolled_member(), "2026-12-01T15:00:00Z", "2026-12-01T15:00:00Z");
    CHECK(rule_points(one, "second_visit") == 0);
    outcome two = post(one.state, "2026-12-05T15:00:00Z", "2026-12-05T15:00:00Z");
    CHECK(rule_points(two, "second_visit") == 30);
    // Dated between them, posted after: the month's second purchase has been paid already.
    outcome three = post(two.state, "2026-12-03T15:00:00Z", "2026-12-06T15:00:00Z");
    CHECK(rule_points(three, "second_visit") == 0);
    CHECK(rule(three, "second_visit").reason ==
          "purchase 3 in the calendar month, the rule pays on purchase 2");
}

TEST_CASE("a purchase posted late upgrades at its posting when only today's metric reaches the "
          "threshold",
          "[earn][late]") {
    const program::program& p = sample_program();
    // 400 qualifying leaves on 10 December (350 base, 50 big_basket): Gold needs 500.
    auto first = evaluate(p, enrolled_member(),
                          basket("2026-12-10T15:00:00Z", {line("1", "coffee", 1, 17500)}),
                          at("2026-12-10T15:00:00Z"));
    REQUIRE(first);
    CHECK(first->state.tier.tier == "green");
    // A basket from 3 December posted an hour later: 200 more. Counted on 3 December the metric
    // is 200; counted now it is 600, and the member is Gold from the posting.
    auto late =
        evaluate(p, first->state, basket("2026-12-03T15:00:00Z", {line("1", "coffee", 1, 10000)}),
                 at("2026-12-10T16:00:00Z"));
    REQUIRE(late);
    CHECK(late->tier.changed);
    CHECK(late->state.tier.tier == "gold");
    CHECK(format_rfc3339(late->state.tier.since) == "2026-12-10T16:00:00Z");
    REQUIRE(late->vouchers.size() == 1);
    CHECK(late->vouchers[0].reward_id == "handcrafted_drink");
}

TEST_CASE("a tier's welcome voucher earned by a purchase posted late runs from its posting",
          "[earn][late]") {
    // 600 leaves on 26 October, posted 45 days later: Gold from the purchase, as its metric
    // said then; the voucher reaches the member now, with its 30 days ahead of it.
    auto o = evaluate(sample_program(), enrolled_member(),
                      basket("2026-10-26T15:00:00Z", {line("1", "coffee", 1, 30000)}),
                      at("2026-12-10T15:00:00Z"));
    REQUIRE(o);
    CHECK(o->state.tier.tier == "gold");
    CHECK(format_rfc3339(o->state.tier.since) == "2026-10-26T15:00:00Z");
    REQUIRE(o->vouchers.size() == 1);
    CHECK(format_rfc3339(o->vouchers[0].issued_at) == "2026-12-10T15:00:00Z");
    CHECK(format_rfc3339(o->vouchers[0].valid_until) == "2027-01-09T15:00:00Z");
}

TEST_CASE("a purchase posted late never moves the last activity back", "[earn][late]") {
    const program::program& p = sample_program();
    auto o = evaluate(p, enrolled_member(),
                      basket("2026-12-05T15:00:00Z", {line("1", "coffee", 1, 500)}),
                      at("2026-12-05T15:00:00Z"));
    REQUIRE(o);
    REQUIRE(o->state.last_activity);
    CHECK(format_rfc3339(*o->state.last_activity) == "2026-12-05T15:00:00Z");
    auto late = evaluate(p, o->state, basket("2026-10-25T15:00:00Z", {line("1", "coffee", 1, 500)}),
                         at("2026-12-06T15:00:00Z"));
    REQUIRE(late);
    REQUIRE(late->state.last_activity);
    CHECK(format_rfc3339(*late->state.last_activity) == "2026-12-05T15:00:00Z");
    auto event = evaluate(p, late->state,
                          custom_event{"r1", "review_posted", at("2026-11-01T15:00:00Z"), {}},
                          at("2026-12-06T16:00:00Z"));
    REQUIRE(event);
    CHECK(format_rfc3339(*event->state.last_activity) == "2026-12-05T15:00:00Z");
}

TEST_CASE("a yearly expiry date counts from when the leaves become available", "[earn]") {
    // Leaves expire at the end of 31 December, New York time; purchases are pending 14 days.
    const auto variant_program =
        test::sample_variant("    policy: after\n    months: 6\n    round_to: end_of_month\n",
                             "    policy: fixed_date\n    date: 12-31\n");
    const program::program& p = *variant_program;
    auto expiry_of = [&](const member_state& m, const event& e, const char* now) {
        auto o = evaluate(p, m, e, at(now));
        REQUIRE(o);
        REQUIRE_FALSE(o->state.lots.empty());
        REQUIRE(o->state.lots.back().expires_at);
        return format_rfc3339(*o->state.lots.back().expires_at);
    };
    const char* end_of_2026 = "2027-01-01T05:00:00Z";
    const char* end_of_2027 = "2028-01-01T05:00:00Z";

    // Available on 24 December: spendable for a week.
    CHECK(expiry_of(enrolled_member(),
                    basket("2026-12-10T15:00:00Z", {line("1", "coffee", 1, 1745)}),
                    "2026-12-10T15:00:00Z") == end_of_2026);
    // Bought on 30 December, available on 13 January: before, they expired on 31 December
    // while still pending, and were never spendable at all.
    purchase late_in_the_year = basket("2026-12-30T15:00:00Z", {line("1", "coffee", 1, 1745)});
    CHECK(expiry_of(enrolled_member(), late_in_the_year, "2026-12-30T15:00:00Z") == end_of_2027);
    auto o = evaluate(p, enrolled_member(), late_in_the_year, at("2026-12-30T15:00:00Z"));
    REQUIRE(o);
    auto new_year =
        evaluate(p, o->state, time_passes{at("2027-01-02T12:00:00Z")}, at("2027-01-02T12:00:00Z"));
    REQUIRE(new_year);
    CHECK(new_year->points.expired == 0);
    CHECK(new_year->balance_after.pending == 34);
    auto available = evaluate(p, new_year->state, time_passes{at("2027-01-13T15:00:00Z")},
                              at("2027-01-13T15:00:00Z"));
    REQUIRE(available);
    CHECK(available->balance_after.available == 34);

    // Leaves available at once (a review) on 30 December expire the next night, as written.
    custom_event review{"r1", "review_posted", at("2026-12-30T15:00:00Z"), {}};
    CHECK(expiry_of(enrolled_member(), review, "2026-12-30T15:00:00Z") == end_of_2026);

    // The same lot as a build before this one stored it, expiring on 31 December while pending:
    // the jobs' visit at that expiry corrects it instead of expiring it, and the lot is then due
    // when it becomes available.
    member_state stored = o->state;
    stored.lots.back().expires_at = at(end_of_2026);
    auto visit = evaluate(p, stored, time_passes{at(end_of_2026)}, at(end_of_2026));
    REQUIRE(visit);
    CHECK(visit->movements.empty());
    CHECK(visit->points.expired == 0);
    CHECK(visit->balance_after.pending == 34);
    REQUIRE(visit->state.lots.back().expires_at);
    CHECK(format_rfc3339(*visit->state.lots.back().expires_at) == end_of_2027);
    CHECK(next_due(p, visit->state, at(end_of_2026)) == at("2027-01-13T15:00:00Z"));
    // A lot available before its yearly date is not touched, even when the date has passed.
    member_state spendable = o->state;
    spendable.lots.back().available_at = at("2026-12-20T15:00:00Z");
    spendable.lots.back().matured = true;
    spendable.lots.back().expires_at = at(end_of_2026);
    auto expired = evaluate(p, spendable, time_passes{at(end_of_2026)}, at(end_of_2026));
    REQUIRE(expired);
    CHECK(expired->points.expired == 34);
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
        auto o = run(enrolled_member(), basket(r.when, {line("1", "coffee", 1, 1745)}));
        CHECK(rule_points(o, "double_tuesday") == r.extra);
        CHECK(o.points.earned == 34 + r.extra);
    }
}

TEST_CASE("every rule's exact is the number before rounding, and empty when it did not match",
          "[earn]") {
    // Tuesdays pay base x1.5 here: 34 base leaves (34.9 exactly) give 17 more, exactly.
    const auto p = test::sample_variant("      percent: 200\n", "      percent: 150\n");
    auto tuesday = evaluate(*p, enrolled_member(),
                            basket("2026-11-24T15:00:00Z", {line("1", "coffee", 1, 1745)}),
                            at("2026-11-24T15:00:00Z"));
    REQUIRE(tuesday);
    CHECK(rule(*tuesday, "base").exact == "34.9");
    CHECK(rule(*tuesday, "double_tuesday").exact == "17");
    CHECK(rule(*tuesday, "double_tuesday").rounded == 17);
    // 35 base leaves: 17.5 more before the floor.
    auto more = evaluate(*p, enrolled_member(),
                         basket("2026-11-24T15:00:00Z", {line("1", "coffee", 1, 1750)}),
                         at("2026-11-24T15:00:00Z"));
    REQUIRE(more);
    CHECK(rule(*more, "double_tuesday").exact == "17.5");
    CHECK(rule(*more, "double_tuesday").rounded == 17);
    CHECK(rule(*more, "double_tuesday").awarded == 17);

    // A Monday: the multiplier, the bakery rule (no bakery line) and big_basket did not match.
    auto monday =
        run(enrolled_member(), basket("2026-11-23T15:00:00Z", {line("1", "coffee", 1, 1745)}));
    for (const char* id : {"double_tuesday", "bakery", "big_basket", "app_orders"}) {
        INFO(id);
        CHECK_FALSE(rule(monday, id).matched);
        CHECK(rule(monday, id).exact.empty());
        CHECK(rule(monday, id).rounded == 0);
    }
}

TEST_CASE("gift cards earn nothing and count toward nothing", "[earn]") {
    auto o = run(enrolled_member(), basket("2026-11-23T15:00:00Z", {line("1", "gift_card", 1, 5000),
                                                                    line("2", "coffee", 1, 500)}));
    CHECK(rule_points(o, "base") == 10);
    CHECK(rule_points(o, "big_basket") == 0);
    CHECK(rule(o, "big_basket").reason == "eligible spend 5.00 USD is below 30.00 USD");
    CHECK(o.state.purchases.back().lines[0].points_by_rule.empty());
    CHECK(o.state.purchases.back().lines[1].points_by_rule.at("base") == 10);
}

TEST_CASE("a purchase that cost nothing earns no bonus for the purchase", "[earn]") {
    // A till posting a free sample at $0 would otherwise collect app_orders once per receipt.
    auto o =
        run(enrolled_member(), basket("2026-11-23T15:00:00Z", {line("1", "coffee", 1, 0)}, "app"));
    CHECK(rule_points(o, "app_orders") == 0);
    CHECK(rule(o, "app_orders").reason ==
          "nothing was paid for (the purchase's total is 0.00 USD)");
    CHECK_FALSE(rule(o, "app_orders").matched);
    CHECK(o.points.earned == 0);
    auto paid =
        run(enrolled_member(), basket("2026-11-23T15:00:00Z", {line("1", "coffee", 1, 1)}, "app"));
    CHECK(rule_points(paid, "app_orders") == 10);
}

TEST_CASE("bakery items earn one leaf per unit", "[earn]") {
    auto o = run(enrolled_member(), basket("2026-11-23T15:00:00Z", {line("1", "bakery", 3, 250),
                                                                    line("2", "coffee", 2, 300)}));
    CHECK(rule_points(o, "bakery") == 3);
    CHECK(rule_points(o, "base") == 27); // floor(1350 * 2 / 100)
}

TEST_CASE("big basket pays once per calendar month", "[earn]") {
    member_state m = enrolled_member();
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
    auto below =
        run(enrolled_member(), basket("2026-11-02T15:00:00Z", {line("1", "coffee", 1, 2999)}));
    CHECK(rule_points(below, "big_basket") == 0);
}

TEST_CASE("app orders pay at most three times per calendar week starting Monday", "[earn]") {
    member_state m = enrolled_member();
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
    auto in_store =
        run(enrolled_member(), basket("2026-11-23T15:00:00Z", {line("1", "coffee", 1, 500)}));
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
        member_state m = enrolled_member(r.metric_before >= 500 ? "gold" : "green");
        m.metric.push_back({at("2026-10-01T12:00:00Z"), r.metric_before, "history"});
        auto o = run(m, basket("2026-11-23T15:00:00Z", {line("1", "coffee", 1, r.price)}));
        CHECK(o.tier.after == r.tier_after);
        CHECK(o.vouchers.size() == r.vouchers);
    }
    member_state m = enrolled_member();
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
    member_state m = enrolled_member();
    m.referred_by = "friend-0";
    auto first = run(m, basket("2026-11-23T15:00:00Z", {line("1", "coffee", 1, 500)}));
    REQUIRE(first.referrals.size() == 1);
    CHECK(first.referrals[0].member_id == "friend-0");
    CHECK(first.referrals[0].points == 100);
    auto second = run(first.state, basket("2026-11-24T15:00:00Z", {line("1", "coffee", 1, 500)}));
    CHECK(second.referrals.empty());
}

TEST_CASE("a first purchase returned in full still counts: the referrer is paid once", "[earn]") {
    // lifetime.purchases counts purchases made, while spend and points are net of returns: were
    // the returned purchase uncounted, buying, returning and buying again would pay the referrer
    // twice, and nothing takes a referrer's points back.
    member_state m = enrolled_member();
    m.referred_by = "friend-0";
    purchase bought = basket("2026-11-23T15:00:00Z", {line("1", "coffee", 1, 500)});
    auto first = run(m, bought);
    REQUIRE(first.referrals.size() == 1);
    purchase_return all{"r1", bought.transaction_id, "", at("2026-11-23T16:00:00Z"), {}};
    auto returned = evaluate(sample_program(), first.state, all, all.occurred_at);
    REQUIRE(returned);
    CHECK(returned->state.lifetime_spend == 0);
    CHECK(returned->state.lifetime_points == first.state.lifetime_points - first.points.earned);
    CHECK(returned->state.lifetime_purchases == 1);
    auto again =
        run(returned->state, basket("2026-11-24T15:00:00Z", {line("1", "coffee", 1, 500)}));
    CHECK(again.referrals.empty());
    CHECK(again.state.lifetime_purchases == 2);
}

TEST_CASE("the referrer's reward is evaluated on the referrer, with its limits", "[earn]") {
    auto p =
        test::sample_variant("    fixed: 100\n", "    fixed: 100\n    limits:\n      per_member:\n"
                                                 "        - {times: 2, period: calendar_year}\n");
    member_state referrer = enrolled_member();
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
    auto o = evaluate(sample_program(), enrolled_member(), p, p.occurred_at);
    REQUIRE_FALSE(o);
    CHECK(o.error().field == "currency");
    auto dup =
        basket("2026-11-23T15:00:00Z", {line("1", "coffee", 1, 500), line("1", "tea", 1, 500)});
    auto d = evaluate(sample_program(), enrolled_member(), dup, dup.occurred_at);
    REQUIRE_FALSE(d);
    CHECK(d.error().field == "lines[1].line_id");
}

TEST_CASE("a purchase's first bad line is refused, its first bad field named", "[earn]") {
    auto refused_at = [](std::vector<purchase_line> lines) {
        auto p = basket("2026-11-23T15:00:00Z", std::move(lines));
        auto o = evaluate(sample_program(), enrolled_member(), p, p.occurred_at);
        REQUIRE_FALSE(o);
        CHECK(o.error().code == rejection_code::invalid_event);
        return o.error().field + ": " + o.error().message;
    };
    // Few lines and many (more than 16) are checked alike.
    for (std::size_t count : {std::size_t{5}, std::size_t{40}}) {
        INFO(count << " lines");
        std::vector<purchase_line> lines;
        for (std::size_t i = 0; i < count; ++i) {
            lines.push_back(line(std::to_string(100 + i).c_str(), "coffee", 1, 500));
        }
        auto repeated = lines;
        repeated[count - 1].line_id = repeated[2].line_id;
        repeated[count - 2].line_id = repeated[0].line_id;
        CHECK(refused_at(repeated) == "lines[" + std::to_string(count - 2) +
                                          "].line_id: line ids must be present and unique");
        auto bad_quantity = repeated;
        bad_quantity[1].quantity = 0;
        CHECK(refused_at(bad_quantity) ==
              "lines[1].quantity: expected a quantity from 1 to 1000000");
        auto empty = lines;
        empty[3].line_id.clear();
        empty[count - 1].line_id.clear();
        CHECK(refused_at(empty) == "lines[3].line_id: line ids must be present and unique");
        auto discount = lines;
        discount[count - 1].discount = 501;
        CHECK(refused_at(discount) == "lines[" + std::to_string(count - 1) +
                                          "].discount: expected a discount from 0 to the line's "
                                          "price (500)");
        auto price = lines;
        price[2].unit_price = -1;
        CHECK(refused_at(price) ==
              "lines[2].unit_price: expected a unit price from 0 to 10000000000");
    }
}

TEST_CASE("the same input always gives the same outcome", "[earn]") {
    auto p = basket("2026-11-24T15:00:00Z",
                    {line("1", "bakery", 2, 350), line("2", "coffee", 1, 2700)}, "app");
    auto a = run(enrolled_member(), p);
    auto b = run(enrolled_member(), p);
    CHECK(to_json(a, sample_program()) == to_json(b, sample_program()));
    CHECK(a.points.earned == 68 + 68 + 2 + 50 + 10); // base on 34.00, x2, bakery, big basket, app
}

// What conditions see. The engine builds only the parts of the data the program's conditions
// can read; these pin that every name still reads what it always did, in explanations too.
namespace {

const char* every_name =
    R"({"and": [{"!": {"var": "transaction.id"}}, {"var": "transaction.id"}, {"var": "transaction.store_id"}, {"var": "transaction.channel"}, {"var": "transaction.currency"}, {"var": "transaction.occurred_at"}, {"var": "transaction.total"}, {"var": "transaction.eligible_spend"}, {"var": "transaction.quantity"}, {"var": "transaction.line_count"}, {"var": "transaction.categories"}, {"var": "transaction.skus"}, {"var": "transaction.tags"}, {"var": "transaction.tags.1"}, {"var": "transaction.local.date"}, {"var": "transaction.local.year"}, {"var": "transaction.local.month"}, {"var": "transaction.local.day"}, {"var": "transaction.local.weekday"}, {"var": "transaction.local.hour"}, {"var": "transaction.local.minute"}, {"var": "member.id"}, {"var": "member.tier"}, {"var": "member.tier_since"}, {"var": "member.tier_until"}, {"var": "member.metric"}, {"var": "member.enrolled_at"}, {"var": "member.birthday"}, {"var": "member.referred_by"}, {"var": "member.balance.available"}, {"var": "member.balance.pending"}, {"var": "member.lifetime.purchases"}, {"var": "member.lifetime.spend"}, {"var": "member.lifetime.points"}, {"var": "member.days_enrolled"}]})";

const char* app_orders_when = R"({"==": [{"var": "transaction.channel"}, "app"]})";

// A Gold member with a birthday, a referrer, points available and pending, and history.
member_state seasoned_member() {
    member_state m = enrolled_member("gold");
    m.birthday = date::year{1990} / 6 / 15;
    m.referred_by = "friend \"7\"";
    m.tier.since = at("2026-03-01T12:00:00Z");
    m.tier.valid_until = at("2027-03-01T12:00:00Z");
    m.lots.push_back({1, 120, 120, at("2026-10-01T12:00:00Z"), at("2026-10-01T12:00:00Z"),
                      std::nullopt, "base", true, false});
    m.lots.push_back({2, 30, 30, at("2026-11-20T12:00:00Z"), at("2026-12-04T12:00:00Z"),
                      std::nullopt, "base", true, false});
    m.metric.push_back({at("2026-10-01T12:00:00Z"), 520, "t-old"});
    m.lifetime_purchases = 7;
    m.lifetime_spend = 12345;
    m.lifetime_points = 640;
    m.next_lot_id = 3;
    return m;
}

purchase tagged_basket() {
    purchase p = basket("2026-11-24T15:05:00Z",
                        {line("1", "coffee", 2, 525), line("2", "bakery", 3, 375)}, "app");
    p.transaction_id = "t1"; // basket() numbers them in the order the tests run
    p.lines[0].tags = {"hot", "espresso"};
    p.lines[1].tags = {"fresh", "hot"};
    p.lines[1].discount = 75;
    return p;
}

// The sample program with two pieces of text replaced.
program::program_ptr variant(const std::string& from, const std::string& to,
                             const std::string& from2, const std::string& to2) {
    std::string text = test::sample_text_with(from, to);
    auto at2 = text.find(from2);
    REQUIRE(at2 != std::string::npos);
    text.replace(at2, from2.size(), to2);
    auto loaded = program::load_program(text, "variant.yaml");
    REQUIRE(loaded);
    return *loaded;
}

const rule_result& rule_of(const tl::expected<outcome, rejection>& o, const std::string& id) {
    REQUIRE(o);
    return rule(*o, id);
}

} // namespace

TEST_CASE("conditions read every name of a purchase's data, and explanations show it",
          "[earn][conditions]") {
    auto p = test::sample_variant(app_orders_when, every_name);
    auto o = evaluate(*p, seasoned_member(), tagged_basket(), at("2026-11-24T15:05:00Z"));
    CHECK(
        rule_of(o, "app_orders").reason ==
        R"(condition earn[4].when is false (transaction.id is "t1", transaction.store_id is "s1", )"
        R"(transaction.channel is "app", transaction.currency is "USD", )"
        R"(transaction.occurred_at is "2026-11-24T15:05:00Z", transaction.total is 2100, )"
        R"(transaction.eligible_spend is 2100, transaction.quantity is 5, )"
        R"(transaction.line_count is 2, transaction.categories is ["bakery","coffee"], )"
        R"(transaction.skus is ["SKU-1","SKU-2"], transaction.tags is ["espresso","fresh","hot"], )"
        R"(transaction.tags.1 is "fresh", transaction.local.date is "2026-11-24", )"
        R"(transaction.local.year is 2026, transaction.local.month is 11, )"
        R"(transaction.local.day is 24, transaction.local.weekday is 2, )"
        R"(transaction.local.hour is 10, transaction.local.minute is 5, member.id is "m1", )"
        R"(member.tier is "gold", member.tier_since is "2026-03-01T12:00:00Z", )"
        R"(member.tier_until is "2027-03-01T12:00:00Z", member.metric is 520, )"
        R"(member.enrolled_at is "2026-01-05T15:00:00Z", member.birthday is "1990-06-15", )"
        R"(member.referred_by is "friend \"7\"", member.balance.available is 120, )"
        R"(member.balance.pending is 30, member.lifetime.purchases is 7, )"
        R"(member.lifetime.spend is 12345, member.lifetime.points is 640, )"
        R"(member.days_enrolled is 323))");
}

TEST_CASE("a name of an enclosing object reads all of it", "[earn][conditions]") {
    auto p = test::sample_variant(
        app_orders_when,
        R"({"or": [{"==": [{"var": "transaction.local"}, 1]}, {"==": [{"var": "member.balance"}, 1]}, {"==": [{"var": "member.lifetime"}, 1]}, {"==": [{"var": "member"}, 1]}, {"==": [{"var": "transaction"}, 1]}]})");
    auto o = evaluate(*p, seasoned_member(), tagged_basket(), at("2026-11-24T15:05:00Z"));
    // Values longer than 60 characters are cut short.
    CHECK(rule_of(o, "app_orders").reason ==
          R"(condition earn[4].when is false (transaction.local is )"
          R"({"date":"2026-11-24","day":24,"hour":10,"minute":5,"month":1..., )"
          R"(member.balance is {"available":120,"pending":30}, )"
          R"(member.lifetime is {"points":640,"purchases":7,"spend":12345}, )"
          R"(member is {"balance":{"available":120,"pending":30},"birthday":"1990-0..., )"
          R"(transaction is {"categories":["bakery","coffee"],"channel":"app","currency"...))");
}

TEST_CASE("line conditions read the line, the purchase and the member", "[earn][conditions]") {
    const std::string when =
        R"({"and": [{"==": [{"var": "line.category"}, "bakery"]}, {"in": ["hot", {"var": "line.tags"}]}, {"==": [{"var": "member.tier"}, "gold"]}, {">=": [{"var": "transaction.total"}, 2100]}, {"<": [{"var": "line.discount"}, 100]}, {"==": [{"var": "line.sku"}, "SKU-2"]}, {"var": "line.line_id"}, {">": [{"var": "line.amount"}, 1000]}, {"==": [{"var": "line.quantity"}, 3]}, {"==": [{"var": "line.unit_price"}, 375]}]})";
    auto p =
        test::sample_variant("lines:\n      categories: [bakery]", "lines:\n      when: " + when);
    auto o = evaluate(*p, seasoned_member(), tagged_basket(), at("2026-11-24T15:05:00Z"));
    CHECK(rule_of(o, "bakery").reason == "1 per unit on 3 units"); // the bakery line only
    member_state green = seasoned_member();
    green.tier.tier = "green";
    auto none = evaluate(*p, green, tagged_basket(), at("2026-11-24T15:05:00Z"));
    CHECK(rule_of(none, "bakery").reason == "no line matched");
}

TEST_CASE("the whole data, computed names and missing read all of the data", "[earn][conditions]") {
    const std::string when =
        R"({"and": [{"!!": [{"var": ""}]}, {"==": [{"var": {"cat": ["li", "ne.sku"]}}, "SKU-2"]}, {"!": {"missing": ["member.tier"]}}]})";
    auto p = test::sample_variant(app_orders_when, when);
    auto o = evaluate(*p, seasoned_member(), tagged_basket(), at("2026-11-24T15:05:00Z"));
    // The names given to missing are checked at load time and shown like those of var.
    CHECK(rule_of(o, "app_orders").reason ==
          R"(condition earn[4].when is false (member.tier is "gold"))");
    // Purchase conditions run after the line selectors of the rules before them, whose last
    // line is still in the data: names computed at evaluation can see it.
    auto stale = variant(
        app_orders_when, when, "lines:\n      categories: [bakery]",
        "lines:\n      categories: [bakery]\n      when: {\"!!\": [{\"var\": \"line.sku\"}]}");
    auto o2 = evaluate(*stale, seasoned_member(), tagged_basket(), at("2026-11-24T15:05:00Z"));
    CHECK(rule_of(o2, "app_orders").reason == "conditions met");
}

TEST_CASE("conditions read the length of lists and text", "[earn][conditions]") {
    auto many = test::sample_variant(
        app_orders_when,
        R"({"and": [{">": [{"var": "transaction.categories.length"}, 1]}, {"==": [{"var": "transaction.channel.length"}, 3]}]})");
    auto o = evaluate(*many, seasoned_member(), tagged_basket(), at("2026-11-24T15:05:00Z"));
    CHECK(rule_of(o, "app_orders").reason == "conditions met");
    auto few = test::sample_variant(app_orders_when,
                                    R"({">": [{"var": "transaction.categories.length"}, 10]})");
    auto o2 = evaluate(*few, seasoned_member(), tagged_basket(), at("2026-11-24T15:05:00Z"));
    CHECK(rule_of(o2, "app_orders").reason ==
          "condition earn[4].when is false (transaction.categories.length is 2)");
}

TEST_CASE("event, enrollment and referral conditions read their data", "[earn][conditions]") {
    auto p = variant("    event: review_posted\n    fixed: 5",
                     R"(    event: review_posted
    fixed: 5
    when: {"and": [{"var": "event.id"}, {"var": "event.type"}, {"var": "event.occurred_at"}, {"var": "event.attributes.stars"}, {"var": "event.local"}, {"var": "member.balance"}, {"var": "member.birthday"}, {"!": {"var": "event.id"}}]})",
                     "    on: enrollment\n    fixed: 25",
                     R"(    on: enrollment
    fixed: 25
    when: {"and": [{"var": "member.tier"}, {"var": "member.days_enrolled"}, {"var": "member.referred_by"}, {"var": "member.tier_until"}, {"!": {"var": "member.tier"}}]})");
    custom_event review{"e1", "review_posted", at("2026-11-24T15:05:00Z"), {{"stars", 4}}};
    auto o = evaluate(*p, seasoned_member(), review, review.occurred_at);
    CHECK(rule_of(o, "reviews").reason ==
          R"(condition earn[6].when is false (event.id is "e1", event.type is "review_posted", )"
          R"(event.occurred_at is "2026-11-24T15:05:00Z", event.attributes.stars is 4, )"
          R"(event.local is {"date":"2026-11-24","day":24,"hour":10,"minute":5,"month":1..., )"
          R"(member.balance is {"available":120,"pending":30}, member.birthday is "1990-06-15"))");
    enrollment joined{"m2", at("2026-11-24T15:05:00Z"), std::nullopt, "m1"};
    auto j = evaluate(*p, new_member(*p, joined), joined, joined.enrolled_at);
    CHECK(rule_of(j, "enrollment").reason ==
          R"(condition earn[5].when is false (member.tier is "green", member.days_enrolled is 0, )"
          R"(member.referred_by is "m1", member.tier_until is null))");
    auto r = test::sample_variant("    on: referral\n    fixed: 100", R"(    on: referral
    fixed: 100
    when: {"and": [{"var": "transaction.eligible_spend"}, {"var": "member.lifetime.purchases"}, {"var": "member.balance.available"}, {"!": {"var": "transaction.eligible_spend"}}]})");
    // Seen on the friend's first purchase, as the friend was before it.
    member_state referred = seasoned_member();
    referred.lifetime_purchases = 0;
    auto first = evaluate(*r, referred, tagged_basket(), at("2026-11-24T15:05:00Z"));
    CHECK(rule_of(first, "referral").reason ==
          "condition earn[7].when is false (transaction.eligible_spend is 2100, "
          "member.lifetime.purchases is 0, member.balance.available is 120)");
}

TEST_CASE("amounts that would leave 64 bits are refused, naming the lines", "[earn]") {
    // 500 lines each at the line limits: 5 * 10^18, more than one purchase may be.
    std::vector<purchase_line> lines;
    for (int i = 0; i < 500; ++i) {
        lines.push_back(line(std::to_string(i).c_str(), "coffee", 1'000'000, 10'000'000'000));
    }
    const member_state m = enrolled_member();
    auto big = evaluate(sample_program(), m, basket("2026-11-23T15:00:00Z", lines),
                        at("2026-11-23T15:00:00Z"));
    REQUIRE_FALSE(big);
    CHECK(big.error().code == rejection_code::out_of_range);
    CHECK(big.error().field == "lines");
    CHECK(big.error().message == "the lines total more than 10000000000000000, the most one "
                                 "purchase may be (minor units)");

    // One line at its limits is as much as a purchase may be.
    const purchase most = basket("2026-11-23T15:00:00Z", {lines[0]});
    outcome o = run(m, most);
    CHECK(o.state.lifetime_spend == 10'000'000'000'000'000);

    // A member whose totals are near the limit: the purchase that would pass it is refused.
    member_state near = m;
    near.lifetime_spend = max_member_total - 10'000'000'000'000'000 + 1;
    auto spend = evaluate(sample_program(), near, most, most.occurred_at);
    REQUIRE_FALSE(spend);
    CHECK(spend.error().code == rejection_code::out_of_range);
    CHECK(spend.error().field == "lines");
    CHECK(spend.error().message == "the member's lifetime spend would be past 1000000000000000000");
    near.lifetime_spend -= 1; // exactly at the limit after it
    CHECK(evaluate(sample_program(), near, most, most.occurred_at));

    near = m;
    near.lifetime_points = max_member_total - 1;
    auto points = evaluate(sample_program(), near, most, most.occurred_at);
    REQUIRE_FALSE(points);
    CHECK(points.error().message ==
          "the member's lifetime points would be past 1000000000000000000");

    // A rule whose rate would pay past what one rule may pay at once.
    auto generous =
        test::sample_variant("rate: {points: 2, per: 100}", "rate: {points: 1000000, per: 1}");
    auto rich = evaluate(*generous, m, most, most.occurred_at);
    REQUIRE_FALSE(rich);
    CHECK(rich.error().code == rejection_code::out_of_range);
    CHECK(rich.error().field == "lines");
    CHECK(rich.error().message == "rule base would pay more than 10000000000000000 points at once");
}

TEST_CASE("an adjustment that would take the balance past the limit is refused", "[earn]") {
    member_state m = enrolled_member();
    m.lots.push_back({1, max_member_total, max_member_total, at("2026-01-05T15:00:00Z"),
                      at("2026-01-05T15:00:00Z"), std::nullopt, "adjust", false, true});
    m.lifetime_points = 0; // only the balance is near its limit
    adjustment credit{"a-1", 1, "goodwill", "", "", at("2026-11-23T15:00:00Z")};
    auto r = evaluate(sample_program(), m, credit, credit.occurred_at);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == rejection_code::out_of_range);
    CHECK(r.error().field == "points");
    CHECK(r.error().message == "the member's available balance would be past 1000000000000000000");
}
