// Returns reverse exactly what the returned units earned, through evaluate().
#include "loyalty/engine/evaluate.hpp"
#include "loyalty/engine/event_json.hpp"
#include "loyalty/program/load.hpp"
#include "support/member_checks.hpp"
#include "support/sample_program.hpp"
#include "support/times.hpp"

#include <catch2/catch.hpp>

using namespace loyalty::engine;
using loyalty::program::program_ptr;
using loyalty::test::at;
using loyalty::test::metric_sum;
using loyalty::test::outcome_of;
using loyalty::test::rejected;
using loyalty::test::remaining;
using loyalty::test::sample_program;
using loyalty::test::sample_program_ptr;
using loyalty::test::sample_text;

namespace {

// The sample program with a `returns` section.
program_ptr with_returns(const std::string& section) {
    auto loaded =
        loyalty::program::load_program(sample_text() + "\nreturns:\n" + section, "returns.yaml");
    REQUIRE(loaded);
    return *loaded;
}

const timestamp bought_at = at(2026, 3, 10);
const timestamp available_at = at(2026, 3, 24);
const timestamp expires_at = at(2026, 10, 1, 4);

lot make_lot(std::int64_t id, points_t points, std::string cause) {
    lot l;
    l.id = id;
    l.earned = points;
    l.remaining = points;
    l.earned_at = bought_at;
    l.available_at = available_at;
    l.expires_at = expires_at;
    l.cause = std::move(cause);
    l.qualifying = true;
    return l;
}

purchase_line sold_line(std::string id, std::string category, std::int64_t quantity,
                        money_t unit_price) {
    purchase_line l;
    l.line_id = std::move(id);
    l.sku = l.line_id;
    l.category = std::move(category);
    l.quantity = quantity;
    l.unit_price = unit_price;
    return l;
}

// A $35.00 purchase as the sample program paid it: base 71 (2 per $1 at the time, rounded per
// line as recorded), bakery 2, and the big_basket bonus of 50 for reaching $30.00.
//   l1: 3 coffees at $5.00, base 31 (not divisible by 3, to show the remainder)
//   l2: 2 pastries at $4.00, base 16, bakery 2
//   l3: 1 bag of beans at $12.00, base 24
// Lot 1 holds base, lot 2 bakery, lot 3 big_basket; lot 4 is 40 leaves from elsewhere.
member_state member_after_t1() {
    member_state m;
    m.id = "m1";
    m.enrolled_at = at(2025, 1, 1);
    m.tier.tier = "green";
    m.tier.since = at(2025, 1, 1);
    m.lots.push_back(make_lot(1, 71, "base"));
    m.lots.push_back(make_lot(2, 2, "bakery"));
    m.lots.push_back(make_lot(3, 50, "big_basket"));
    lot other = make_lot(4, 40, "enrollment");
    other.earned_at = at(2025, 1, 1);
    other.available_at = at(2025, 1, 1);
    other.expires_at.reset();
    m.lots.push_back(other);
    m.next_lot_id = 5;
    m.metric.push_back({bought_at, 71 + 2 + 50, "t1"});
    m.lifetime_spend = 3500;

    purchase_record r;
    r.request.transaction_id = "t1";
    r.request.member_id = "m1";
    r.request.store_id = "s1";
    r.request.currency = "USD";
    r.request.occurred_at = bought_at;
    r.request.lines = {sold_line("l1", "coffee", 3, 500), sold_line("l2", "bakery", 2, 400),
                       sold_line("l3", "beans", 1, 1200)};
    r.lines = {{"l1", 3, 1500, {{"base", 31}}},
               {"l2", 2, 800, {{"base", 16}, {"bakery", 2}}},
               {"l3", 1, 1200, {{"base", 24}}}};
    r.awards = {{"base", 71, 1, true, true, std::nullopt},
                {"bakery", 2, 2, true, true, std::nullopt},
                {"big_basket", 50, 3, true, false, money_t{3000}}};
    m.purchases.push_back(r);
    return m;
}

purchase_return ret(std::string id, std::vector<returned_line> lines, timestamp t) {
    return purchase_return{std::move(id), "t1", "s1", t, std::move(lines)};
}

} // namespace

TEST_CASE("a full return reverses every award exactly, even while pending", "[returns]") {
    auto p = sample_program_ptr();
    timestamp now = at(2026, 3, 20);
    auto r = evaluate(*p, member_after_t1(), ret("ret1", {}, now), now);
    REQUIRE(r);
    CHECK(r->points.reversed == 123);
    CHECK(r->points.shortfall == 0);
    CHECK(remaining(r->state, 1) == 0);
    CHECK(remaining(r->state, 2) == 0);
    CHECK(remaining(r->state, 3) == 0);
    CHECK(remaining(r->state, 4) == 40);
    CHECK(r->balance_after.available == 40);
    CHECK(r->balance_after.pending == 0);
    CHECK(metric_sum(r->state) == 0);
    CHECK(r->state.lifetime_spend == 0);
    const purchase_record& rec = r->state.purchases[0];
    CHECK(rec.returned_quantity.at("l1") == 3);
    CHECK(rec.returned_quantity.at("l2") == 2);
    CHECK(rec.returned_quantity.at("l3") == 1);
    CHECK(rec.clawed_back == std::vector<std::string>{"big_basket"});
    for (const movement& mv : r->movements) {
        CHECK(mv.kind == movement_kind::reverse);
        CHECK(mv.points < 0);
    }

    SECTION("a second full return finds nothing left") {
        CHECK(rejected(evaluate(*p, r->state, ret("ret2", {}, now), now)).code ==
              rejection_code::already_done);
    }
}

TEST_CASE("a return's loss of tier metric leaves the rolling window with its purchase",
          "[returns][tiers]") {
    // The sample's metric: qualifying points over a rolling 12 months. A purchase of 2026-03-10
    // (123 qualifying leaves) returned on 2026-12-01, then 200 leaves earned since.
    auto p = sample_program_ptr();
    member_state m = member_after_t1();
    m.metric.push_back({at(2026, 11, 1), 200, "t2"});
    timestamp returned_at = at(2026, 12, 1);
    auto r = evaluate(*p, m, ret("ret1", {}, returned_at), returned_at);
    REQUIRE(r);
    CHECK(metric_at(*p, r->state, returned_at) == 200);
    // A year after the purchase both its gain and its loss are out of the window: the points
    // of 2026-11 count in full, not less the returned purchase's.
    CHECK(metric_at(*p, r->state, at(2027, 3, 11)) == 200);
    CHECK(metric_at(*p, r->state, at(2027, 10, 31)) == 200);
}

TEST_CASE("returning 1 of 3 units reverses a third of what the line earned", "[returns]") {
    auto p = sample_program_ptr();
    timestamp now = at(2026, 3, 20);
    auto one = evaluate(*p, member_after_t1(), ret("ret1", {{"l1", 1}}, now), now);
    REQUIRE(one);
    // floor(31 × 1 / 3) = 10; $30.00 still reaches the big_basket threshold: the bonus stays.
    CHECK(one->points.reversed == 10);
    CHECK(remaining(one->state, 1) == 61);
    CHECK(remaining(one->state, 3) == 50);
    CHECK(one->state.purchases[0].returned_quantity.at("l1") == 1);
    CHECK(one->state.purchases[0].clawed_back.empty());
    CHECK(metric_sum(one->state) == 113);
    CHECK(one->state.lifetime_spend == 3000);
    REQUIRE(one->movements.size() == 1);
    CHECK(one->movements[0].lot_id == 1);
    CHECK(one->movements[0].points == -10);
    CHECK(one->movements[0].pending);

    // The second unit takes the spend to $25.00: below $30.00, the bonus goes back, once.
    auto two = evaluate(*p, one->state, ret("ret2", {{"l1", 1}}, now), now);
    REQUIRE(two);
    CHECK(two->points.reversed == 10 + 50);
    CHECK(remaining(two->state, 1) == 51);
    CHECK(remaining(two->state, 3) == 0);
    CHECK(two->state.purchases[0].clawed_back == std::vector<std::string>{"big_basket"});
    CHECK(metric_sum(two->state) == 53);

    // The last unit carries the remainder: 10 + 10 + 11 = 31, and no second clawback.
    auto three = evaluate(*p, two->state, ret("ret3", {{"l1", 1}}, now), now);
    REQUIRE(three);
    CHECK(three->points.reversed == 11);
    CHECK(remaining(three->state, 1) == 40);

    // Then the rest: every award is back, the balance is where it was before the purchase.
    auto rest = evaluate(*p, three->state, ret("ret4", {}, now), now);
    REQUIRE(rest);
    CHECK(rest->points.reversed == 16 + 2 + 24);
    CHECK(rest->balance_after.pending == 0);
    CHECK(rest->balance_after.available == 40);
    CHECK(metric_sum(rest->state) == 0);
}

TEST_CASE("with bonus_clawback keep, the bonus stays when the spend drops", "[returns]") {
    auto p = with_returns("  bonus_clawback: keep\n");
    timestamp now = at(2026, 3, 20);
    auto r = evaluate(*p, member_after_t1(), ret("ret1", {{"l3", 1}}, now), now);
    REQUIRE(r);
    CHECK(r->points.reversed == 24);
    CHECK(remaining(r->state, 3) == 50);
    CHECK(r->state.purchases[0].clawed_back.empty());
}

TEST_CASE("recompute takes the bonus back when the remaining spend falls below it", "[returns]") {
    auto p = sample_program_ptr();
    timestamp now = at(2026, 3, 20);
    // $35.00 - $12.00 = $23.00 < $30.00.
    auto r = evaluate(*p, member_after_t1(), ret("ret1", {{"l3", 1}}, now), now);
    REQUIRE(r);
    CHECK(r->points.reversed == 24 + 50);
    CHECK(remaining(r->state, 1) == 47);
    CHECK(remaining(r->state, 3) == 0);
    CHECK(r->state.purchases[0].clawed_back == std::vector<std::string>{"big_basket"});
    bool explained = false;
    for (const movement& mv : r->movements) {
        explained = explained || mv.explanation.find("2300 is below 3000") != std::string::npos;
    }
    CHECK(explained);
}

TEST_CASE("keeping only a free line takes a bonus for the purchase back as a full return",
          "[returns]") {
    // With keep, only a full return takes big_basket back: a free bag left unreturned must not
    // keep it for a basket that cost nothing.
    auto p = with_returns("  bonus_clawback: keep\n");
    member_state m = member_after_t1();
    m.purchases[0].request.lines.push_back(sold_line("l4", "bags", 1, 0));
    m.purchases[0].lines.push_back({"l4", 1, 0, {}});
    timestamp now = at(2026, 3, 20);
    auto r = evaluate(*p, m, ret("ret1", {{"l1", 3}, {"l2", 2}}, now), now);
    REQUIRE(r);
    CHECK(r->points.reversed == 31 + 16 + 2);
    CHECK(remaining(r->state, 3) == 50); // $12.00 of beans is still kept
    auto last = evaluate(*p, r->state, ret("ret2", {{"l3", 1}}, now), now);
    REQUIRE(last);
    CHECK(last->points.reversed == 24 + 50);
    CHECK(remaining(last->state, 3) == 0);
    CHECK(last->state.purchases[0].clawed_back == std::vector<std::string>{"big_basket"});
    bool explained = false;
    for (const movement& mv : last->movements) {
        explained = explained || mv.explanation.find("big_basket (nothing paid for remains") !=
                                     std::string::npos;
    }
    CHECK(explained);
    // Returning the bag afterwards takes nothing a second time.
    auto bag = evaluate(*p, last->state, ret("ret3", {{"l4", 1}}, now), now);
    REQUIRE(bag);
    CHECK(bag->points.reversed == 0);
}

TEST_CASE("a return after the points were spent", "[returns]") {
    timestamp now = at(2026, 4, 1);
    member_state m = member_after_t1();
    // The purchase's points matured and were mostly spent: 5 of base left, none of the bonus.
    m.lots[0].remaining = 5;
    m.lots[2].remaining = 0;
    m.lots[3].remaining = 20;
    // Returning the beans takes 24 (base) + 50 (bonus); 27 are left to take.

    SECTION("record_shortfall: the balance stops at zero and the rest is recorded") {
        auto p = sample_program_ptr();
        auto r = evaluate(*p, m, ret("ret1", {{"l3", 1}}, now), now);
        REQUIRE(r);
        CHECK(r->points.reversed == 27);
        CHECK(r->points.shortfall == 47);
        CHECK(r->state.shortfall == 47);
        CHECK(r->balance_after.available == 0);
        CHECK(remaining(r->state, 1) == 0);
        CHECK(remaining(r->state, 2) == 0);
        CHECK(remaining(r->state, 4) == 0);
        // The metric loses what the returned units earned, not only what could be taken.
        CHECK(metric_sum(r->state) == 123 - 74);
        // Each movement says its own points and where they came from.
        std::vector<std::string> said;
        for (const movement& mv : r->movements) {
            said.push_back(std::to_string(mv.points) + " " + mv.explanation);
        }
        CHECK(said == std::vector<std::string>{
                          "-5 return ret1 of t1: 5 leaves from base",
                          "-2 return ret1 of t1: for base, from other points (its own were "
                          "spent or expired)",
                          "-17 return ret1 of t1: for base, from other points (its own were "
                          "spent or expired)",
                          "-3 return ret1 of t1: for big_basket (bonus taken back: the "
                          "remaining spend 2300 is below 3000), from other points (its own "
                          "were spent or expired)",
                          "0 return ret1 of t1: 47 leaves from big_basket (bonus taken back: the "
                          "remaining spend 2300 is below 3000): spent already, not taken; owed "
                          "until points spent come back"});
    }

    SECTION("negative_balance: the balance goes below zero") {
        auto p = with_returns("  shortfall: negative_balance\n");
        auto r = evaluate(*p, m, ret("ret1", {{"l3", 1}}, now), now);
        REQUIRE(r);
        CHECK(r->points.reversed == 74);
        CHECK(r->points.shortfall == 0);
        CHECK(r->state.shortfall == 0);
        CHECK(r->balance_after.available == -47);
    }
}

TEST_CASE("each award of a return is taken from its own lot before any from other points",
          "[returns]") {
    // base's own points were spent; bakery's and the bonus's are intact. Taken one award after
    // the other, base's 71 came from the soonest-expiring lots, which are bakery's and the
    // bonus's own, and those two then said their own were spent.
    timestamp now = at(2026, 4, 1);
    member_state m = member_after_t1();
    m.lots[0].remaining = 0;
    auto p = sample_program_ptr();
    auto r = evaluate(*p, m, ret("ret1", {}, now), now);
    REQUIRE(r);
    std::vector<std::string> said;
    for (const movement& mv : r->movements) {
        said.push_back(std::to_string(mv.points) + " lot " + std::to_string(mv.lot_id) + " " +
                       mv.explanation);
    }
    CHECK(said ==
          std::vector<std::string>{
              "-2 lot 2 return ret1 of t1: 2 leaves from bakery",
              "-50 lot 3 return ret1 of t1: 50 leaves from big_basket (purchase returned in full)",
              "-40 lot 4 return ret1 of t1: for base, from other points (its own were spent or "
              "expired)",
              "0 lot 0 return ret1 of t1: 31 leaves from base: spent already, not taken; owed "
              "until points spent come back"});
    CHECK(r->points.reversed == 92);
    CHECK(r->points.shortfall == 31);
    CHECK(r->balance_after.available == 0);
}

TEST_CASE("returning a purchase, then cancelling what its points bought, leaves what the other "
          "order leaves",
          "[returns]") {
    // 163 leaves: the purchase's 123 and 40 from elsewhere. A brewed coffee (100) takes the
    // purchase's soonest-expiring leaves; the whole purchase is then returned and the coffee
    // cancelled, in one order and the other.
    const timestamp now = at(2026, 4, 1);
    auto p = sample_program_ptr();
    auto step = [&](const member_state& m, const auto& e) {
        auto o = evaluate(*p, m, e, now);
        INFO((o ? "" : o.error().message));
        REQUIRE(o);
        return *o;
    };
    const reward_redemption coffee{"red1", "brewed_coffee", now};
    const redemption_cancellation cancel{"red1", now};
    outcome bought = step(member_after_t1(), coffee);
    REQUIRE(bought.balance_after.available == 63);

    outcome cancelled_first = step(step(bought.state, cancel).state, ret("ret1", {}, now));
    CHECK(cancelled_first.balance_after.available == 40);
    CHECK(cancelled_first.state.shortfall == 0);

    outcome returned = step(bought.state, ret("ret1", {}, now));
    CHECK(returned.balance_after.available == 0);
    CHECK(returned.state.shortfall == 60);
    // The 100 leaves come back, and 60 of them settle the shortfall the return recorded.
    outcome returned_first = step(returned.state, cancel);
    CHECK(returned_first.points.restored == 100);
    CHECK(returned_first.points.reversed == 60);
    CHECK(returned_first.balance_after.available == 40);
    CHECK(returned_first.state.shortfall == 0);
    points_t moved = 0;
    for (const movement& mv : returned_first.movements) {
        moved += mv.points;
    }
    CHECK(moved == 40);
}

TEST_CASE("a return after the points expired takes back only what was spent of them",
          "[returns][expiry]") {
    // 30 of the 71 base leaves were spent; the rest of the purchase's points expired at
    // 2026-10-01 04:00. Points that expired are gone already: taken again from the 40 of lot 4,
    // they cost the member twice (123 to take, 40 taken, a shortfall of 83).
    auto p = sample_program_ptr();
    member_state m = member_after_t1();
    m.lots[0].remaining = 71 - 30;
    const timestamp now = at(2026, 10, 2);
    auto expired = evaluate(*p, m, time_passes{now}, now);
    REQUIRE(expired);
    REQUIRE(expired->points.expired == 41 + 2 + 50);
    REQUIRE(expired->balance_after.available == 40);

    SECTION("returned in full: the 30 spent come from other points, nothing else") {
        auto r = evaluate(*p, expired->state, ret("ret1", {}, now), now);
        REQUIRE(r);
        CHECK(r->points.reversed == 30);
        CHECK(r->points.shortfall == 0);
        CHECK(r->balance_after.available == 10);
        CHECK(remaining(r->state, 4) == 10);
        // The purchase no longer earned anything, expired or not.
        CHECK(metric_sum(r->state) == 0);
        CHECK(r->state.lifetime_points == m.lifetime_points - 123);
        std::vector<std::string> said;
        for (const movement& mv : r->movements) {
            said.push_back(std::to_string(mv.points) + " " + mv.explanation);
        }
        CHECK(said == std::vector<std::string>{
                          "0 return ret1 of t1: 2 leaves from bakery: expired already, not taken "
                          "again",
                          "0 return ret1 of t1: 41 leaves from base: expired already, not taken "
                          "again",
                          "0 return ret1 of t1: 50 leaves from big_basket (purchase returned in "
                          "full): expired already, not taken again",
                          "-30 return ret1 of t1: for base, from other points (its own were "
                          "spent or expired)"});
    }

    SECTION("in two parts: the expired points are set against the returns once") {
        // The beans: 24 base and the 50 bonus (the spend falls below $30.00), all of them
        // among the expired; 17 expired base leaves are left to set against.
        auto one = evaluate(*p, expired->state, ret("ret1", {{"l3", 1}}, now), now);
        REQUIRE(one);
        CHECK(one->points.reversed == 0);
        CHECK(one->balance_after.available == 40);
        // The other 47 base leaves: 17 expired, 30 spent; bakery's 2 expired.
        auto two = evaluate(*p, one->state, ret("ret2", {}, now), now);
        REQUIRE(two);
        CHECK(two->points.reversed == 30);
        CHECK(two->points.shortfall == 0);
        CHECK(two->balance_after.available == 10);
    }

    SECTION("before the run that records the expiry, the return takes them from their lots") {
        auto r = evaluate(*p, m, ret("ret1", {}, now), now);
        REQUIRE(r);
        CHECK(r->points.reversed == 41 + 2 + 50 + 30);
        CHECK(r->balance_after.available == 10);
        REQUIRE_FALSE(r->movements.empty());
        CHECK(r->movements[0].explanation ==
              "return ret1 of t1: 2 leaves from bakery, which had expired: they leave its lot, "
              "not the balance");
        // And the run finds nothing left to expire.
        auto later = evaluate(*p, r->state, time_passes{now}, now);
        REQUIRE(later);
        CHECK(later->points.expired == 0);
        CHECK(later->balance_after.available == 10);
    }

    SECTION("before the points expired, the same") {
        const timestamp earlier = at(2026, 9, 30);
        auto r = evaluate(*p, m, ret("ret1", {}, earlier), earlier);
        REQUIRE(r);
        CHECK(r->points.reversed == 41 + 2 + 50 + 30);
        CHECK(r->balance_after.available == 10);
    }
}

namespace {

// A $35.00 basket (a coffee at $5.00, beans at $30.00) at `t`: base, and big_basket's 50.
purchase basket_at(std::string id, timestamp t) {
    purchase x;
    x.transaction_id = std::move(id);
    x.member_id = "m1";
    x.store_id = "s1";
    x.channel = "store";
    x.currency = "USD";
    x.occurred_at = t;
    x.lines = {sold_line("l1", "coffee", 1, 500), sold_line("l2", "beans", 1, 3000)};
    return x;
}

points_t awarded(const outcome& o, const std::string& rule_id) {
    for (const rule_result& r : o.rules) {
        if (r.id == rule_id) {
            return r.awarded;
        }
    }
    return 0;
}

} // namespace

TEST_CASE("a payout a return takes back frees its room under the rule's limits",
          "[returns][limits]") {
    auto buy = [](const loyalty::program::program& p, const member_state& m, const char* id,
                  unsigned day) {
        timestamp t = at(2026, 3, day);
        return outcome_of(evaluate(p, m, basket_at(id, t), t));
    };
    auto give_back = [](const loyalty::program::program& p, const member_state& m,
                        std::vector<returned_line> lines) {
        timestamp t = at(2026, 3, 11);
        return outcome_of(evaluate(p, m, purchase_return{"ret1", "t1", "s1", t, lines}, t));
    };
    const member_state m = new_member(sample_program(), {"m1", at(2026, 3, 1), std::nullopt, {}});

    SECTION("per member: once a month, and the month's payout was returned") {
        const auto& p = sample_program();
        outcome t1 = buy(p, m, "t1", 10);
        REQUIRE(awarded(t1, "big_basket") == 50);
        // Bought again in the same month: the bonus pays, once.
        outcome t2 = buy(p, give_back(p, t1.state, {}).state, "t2", 12);
        CHECK(awarded(t2, "big_basket") == 50);
        CHECK(awarded(buy(p, t2.state, "t3", 13), "big_basket") == 0);
    }

    SECTION("per member: a partial return that keeps the bonus keeps its payout") {
        const auto& p = sample_program();
        outcome t1 = buy(p, m, "t1", 10);
        // The coffee back: $30.00 still reaches the threshold.
        outcome returned = give_back(p, t1.state, {{"l1", 1}});
        CHECK(awarded(buy(p, returned.state, "t2", 12), "big_basket") == 0);
    }

    SECTION("a program budget gets back the points no one kept") {
        auto p = loyalty::test::sample_variant("        - {times: 1, period: calendar_month}",
                                               "        - {times: 9, period: calendar_month}\n"
                                               "      budget: 120");
        outcome t2 = buy(*p, buy(*p, m, "t1", 10).state, "t2", 10);
        CHECK(t2.state.budget_used.at("big_basket") == 100);
        outcome returned = give_back(*p, t2.state, {});
        CHECK(returned.state.budget_used.at("big_basket") == 50);
        outcome t3 = buy(*p, returned.state, "t3", 12);
        CHECK(awarded(t3, "big_basket") == 50);
        CHECK(awarded(buy(*p, t3.state, "t4", 12), "big_basket") == 20);
    }
}

TEST_CASE("returns that do not match the purchase are refused", "[returns]") {
    auto p = sample_program_ptr();
    timestamp now = at(2026, 3, 20);
    const member_state m = member_after_t1();

    rejection more = rejected(evaluate(*p, m, ret("ret1", {{"l1", 4}}, now), now));
    CHECK(more.code == rejection_code::invalid_event);
    CHECK(more.field == "lines[0].quantity");
    CHECK(more.message == "line l1 bought 3, already returned 0, cannot return 4");

    rejection zero = rejected(evaluate(*p, m, ret("ret1", {{"l2", 1}, {"l1", 0}}, now), now));
    CHECK(zero.code == rejection_code::invalid_event);
    CHECK(zero.field == "lines[1].quantity");

    rejection unknown = rejected(evaluate(*p, m, ret("ret1", {{"l9", 1}}, now), now));
    CHECK(unknown.code == rejection_code::invalid_event);
    CHECK(unknown.field == "lines[0].line_id");

    purchase_return other = ret("ret1", {}, now);
    other.transaction_id = "t9";
    rejection no_purchase = rejected(evaluate(*p, m, other, now));
    CHECK(no_purchase.code == rejection_code::unknown_record);
    CHECK(no_purchase.field == "transaction_id");

    // After 2 of 3 were returned, 2 more is more than is left.
    auto two = evaluate(*p, m, ret("ret1", {{"l1", 2}}, now), now);
    REQUIRE(two);
    rejection again = rejected(evaluate(*p, two->state, ret("ret2", {{"l1", 2}}, now), now));
    CHECK(again.code == rejection_code::already_done);
    CHECK(again.field == "lines[0].quantity");
    CHECK(again.message == "line l1 bought 3, already returned 2, cannot return 2");

    // A replayed return id is refused even when the quantities would still fit.
    rejection replay = rejected(evaluate(*p, two->state, ret("ret1", {{"l2", 1}}, now), now));
    CHECK(replay.code == rejection_code::already_done);
    CHECK(replay.field == "return_id");

    // A purchase with that id at another store is another purchase.
    purchase_return elsewhere = ret("ret3", {}, now);
    elsewhere.store_id = "s2";
    CHECK(rejected(evaluate(*p, m, elsewhere, now)).code == rejection_code::unknown_record);

    // The same line twice in one return is refused, as in a purchase, even when the two
    // quantities together would fit.
    rejection split = rejected(evaluate(*p, m, ret("ret1", {{"l1", 1}, {"l1", 1}}, now), now));
    CHECK(split.code == rejection_code::invalid_event);
    CHECK(split.field == "lines[1].line_id");
    CHECK(split.message == "line l1 is named twice in this return");

    // Nothing changed by the refusals.
    CHECK(remaining(m, 1) == 71);
    CHECK(m.purchases[0].returned_quantity.empty());
}

TEST_CASE("a quantity past 64 bits is out of range as any other too large", "[returns]") {
    for (const char* quantity : {"1000001", "9223372036854775807", "9223372036854775808"}) {
        auto body = nlohmann::json::parse(
            std::string(R"({"return_id": "r1", "store_id": "s1", "lines": [{"line_id": "l1", )") +
            R"("quantity": )" + quantity + "}]}");
        auto r = return_from_json(body, "t1");
        INFO(quantity);
        REQUIRE_FALSE(r);
        CHECK(r.error().field == "lines[0].quantity");
        CHECK(r.error().message == "expected a whole number from 1 to 1000000");
    }
}
