// A return that takes away what an upgrade stood on undoes the upgrade, through evaluate(): the
// sample program's Gold at 500 qualifying leaves and Reserve at 2,500, 2 leaves per $1 at Green.
#include "loyalty/engine/evaluate.hpp"
#include "support/sample_program.hpp"
#include "support/times.hpp"

#include <catch2/catch.hpp>

using namespace loyalty::engine;
using loyalty::test::at;
using loyalty::test::sample_program;

namespace {

member_state enrolled() {
    return new_member(sample_program(),
                      {"m1", at("2026-01-05T15:00:00Z"), std::nullopt, std::nullopt});
}

purchase coffee(std::string id, money_t price, const char* when, std::int64_t quantity = 1) {
    purchase p{std::move(id), "m1", "s1", "store", "USD", at(when), {}};
    p.lines.push_back({"1", "SKU-1", "coffee", quantity, price, 0, {}});
    return p;
}

outcome run(const member_state& m, const event& e, timestamp now) {
    auto o = evaluate(sample_program(), m, e, now);
    INFO((o ? "" : o.error().message));
    REQUIRE(o);
    return *o;
}

purchase_return full_return(std::string id, std::string transaction, timestamp when) {
    return purchase_return{std::move(id), std::move(transaction), "s1", when, {}};
}

bool said(const outcome& o, const std::string& text) {
    return std::any_of(o.movements.begin(), o.movements.end(), [&](const movement& mv) {
        return mv.explanation.find(text) != std::string::npos;
    });
}

} // namespace

TEST_CASE("returning the purchase that reached Gold puts back Green and cancels the welcome",
          "[returns][tiers]") {
    // $250 at Green: 500 base leaves and the $30 basket's 50, so Gold and its welcome drink.
    auto bought =
        run(enrolled(), coffee("t1", 25000, "2026-03-10T15:00:00Z"), at("2026-03-10T15:00:00Z"));
    REQUIRE(bought.state.tier.tier == "gold");
    REQUIRE(bought.state.vouchers.size() == 1);
    REQUIRE(bought.state.tier.replaced.size() == 1);
    CHECK(bought.state.tier.replaced.front().tier == "green");

    const timestamp later = at("2026-03-12T15:00:00Z");
    auto back = run(bought.state, full_return("r1", "t1", later), later);
    CHECK(back.state.tier.tier == "green");
    CHECK(back.state.tier.since == at("2026-01-05T15:00:00Z"));
    CHECK_FALSE(back.state.tier.valid_until);
    CHECK(back.state.tier.replaced.empty());
    CHECK(back.tier.changed);
    CHECK(back.tier.before == "gold");
    // Dated at the return, not at the Green status's start.
    REQUIRE(back.tier.changed_at);
    CHECK(*back.tier.changed_at == later);
    CHECK(back.tier.metric_at_change == 0);
    REQUIRE(back.state.vouchers.size() == 1);
    CHECK(back.state.vouchers.front().cancelled);
    CHECK(said(back, "the gold_welcome voucher of entering gold"));

    // Bought again: Gold again, and its welcome again (the once-per use was freed).
    const timestamp again_at = at("2026-03-20T15:00:00Z");
    auto again = run(back.state, coffee("t2", 25000, "2026-03-20T15:00:00Z"), again_at);
    CHECK(again.state.tier.tier == "gold");
    CHECK(again.state.tier.since == again_at);
    CHECK(std::count_if(again.state.vouchers.begin(), again.state.vouchers.end(),
                        [](const voucher& v) { return !v.cancelled; }) == 1);
}

TEST_CASE("an upgrade before the purchase returned, or still supported, stays",
          "[returns][tiers]") {
    auto gold =
        run(enrolled(), coffee("t1", 25000, "2026-03-10T15:00:00Z"), at("2026-03-10T15:00:00Z"));
    REQUIRE(gold.state.tier.tier == "gold");
    // Bought at Gold after the upgrade: returning it takes nothing the upgrade stood on.
    const timestamp second_at = at("2026-03-11T15:00:00Z");
    auto second = run(gold.state, coffee("t2", 1000, "2026-03-11T15:00:00Z"), second_at);
    const timestamp later = at("2026-03-12T15:00:00Z");
    auto kept = run(second.state, full_return("r2", "t2", later), later);
    CHECK(kept.state.tier.tier == "gold");
    CHECK_FALSE(kept.tier.changed);
    CHECK_FALSE(kept.state.vouchers.front().cancelled);

    // With enough bought since, the metric still supports Gold without the first purchase.
    auto more = run(gold.state, coffee("t3", 30000, "2026-03-11T15:00:00Z"), second_at);
    auto still = run(more.state, full_return("r1", "t1", later), later);
    CHECK(still.state.tier.tier == "gold");
    CHECK_FALSE(still.tier.changed);
}

TEST_CASE("returning the purchase that reached Reserve puts back the Gold status it replaced",
          "[returns][tiers]") {
    auto gold =
        run(enrolled(), coffee("t1", 25000, "2026-03-10T15:00:00Z"), at("2026-03-10T15:00:00Z"));
    REQUIRE(gold.state.tier.tier == "gold");
    const tier_status gold_status = gold.state.tier;
    // $700 at Gold's 3 per $1: 2,100 more, 2,650 in all.
    auto reserve =
        run(gold.state, coffee("t2", 70000, "2026-04-01T15:00:00Z"), at("2026-04-01T15:00:00Z"));
    REQUIRE(reserve.state.tier.tier == "reserve");
    REQUIRE(reserve.state.tier.replaced.size() == 2);

    const timestamp later = at("2026-04-03T15:00:00Z");
    auto back = run(reserve.state, full_return("r2", "t2", later), later);
    CHECK(back.state.tier.tier == "gold");
    CHECK(back.state.tier.since == gold_status.since);
    CHECK(back.state.tier.valid_until == gold_status.valid_until);
    REQUIRE(back.state.tier.replaced.size() == 1);
    CHECK(back.state.tier.replaced.front().tier == "green");
    // Gold's welcome stays: Gold was reached on what was kept.
    CHECK_FALSE(back.state.vouchers.front().cancelled);
}

TEST_CASE("a welcome already used stays used when its tier is undone", "[returns][tiers]") {
    auto gold =
        run(enrolled(), coffee("t1", 25000, "2026-03-10T15:00:00Z"), at("2026-03-10T15:00:00Z"));
    REQUIRE(gold.state.vouchers.size() == 1);
    const timestamp used_at = at("2026-03-11T15:00:00Z");
    auto used =
        run(gold.state, voucher_use{gold.state.vouchers.front().id, "t9", used_at, "s1"}, used_at);
    const timestamp later = at("2026-03-12T15:00:00Z");
    auto back = run(used.state, full_return("r1", "t1", later), later);
    CHECK(back.state.tier.tier == "green");
    CHECK(back.state.vouchers.front().redeemed);
    CHECK_FALSE(back.state.vouchers.front().cancelled);
    CHECK(said(back, "used already, it stays used"));
}

TEST_CASE("a partial return of a jump from Green to Reserve leaves the Gold the rest reached",
          "[returns][tiers]") {
    // 13 bags at $100 at Green: 2,600 base leaves, 50 for the basket, 25 for joining: Reserve,
    // passing Gold (whose welcome is granted on the way).
    const char* when = "2026-03-10T15:00:00Z";
    auto reserve = run(enrolled(), coffee("t1", 10000, when, 13), at(when));
    REQUIRE(reserve.state.tier.tier == "reserve");
    REQUIRE(reserve.state.vouchers.size() == 1);

    // Ten returned: 600 + 50 + 25 = 675 left, past Gold's 500.
    const timestamp later = at("2026-03-12T15:00:00Z");
    auto back = run(reserve.state, purchase_return{"r1", "t1", "s1", later, {{"1", 10}}}, later);
    CHECK(back.state.tier.tier == "gold");
    CHECK(back.state.tier.since == at(when));
    REQUIRE(back.state.tier.valid_until);
    // 12 local months later: 11:00 in New York, under winter time again by then.
    CHECK(*back.state.tier.valid_until == at("2027-03-10T16:00:00Z"));
    REQUIRE(back.state.tier.replaced.size() == 1);
    CHECK(back.state.tier.replaced.front().tier == "green");
    CHECK(back.tier.before == "reserve");
    CHECK(back.tier.after == "gold");
    // Gold was reached on what was kept: its welcome stays.
    CHECK_FALSE(back.state.vouchers.front().cancelled);
}

TEST_CASE("an upgrade is judged by the threshold it was entered on, not one a later version raised",
          "[returns][tiers]") {
    // 20 bags at $25 at Green: 1,000 base leaves, 50 for the basket, 25 for joining: Gold at 500.
    const char* when = "2026-03-10T15:00:00Z";
    auto gold = run(enrolled(), coffee("t1", 2500, when, 20), at(when));
    REQUIRE(gold.state.tier.tier == "gold");
    CHECK(gold.state.tier.entry_threshold == std::optional<std::int64_t>(500));

    // A version raises Gold to 1,000; seven bags go back: 725 left, past the 500 Gold was
    // entered on. Gold stays until it ends, as its welcome does.
    auto raised = loyalty::test::sample_variant("threshold: 500", "threshold: 1000");
    const timestamp later = at("2026-03-12T15:00:00Z");
    auto back =
        evaluate(*raised, gold.state, purchase_return{"r1", "t1", "s1", later, {{"1", 7}}}, later);
    REQUIRE(back);
    CHECK(back->state.tier.tier == "gold");
    CHECK_FALSE(back->tier.changed);
    CHECK_FALSE(back->state.vouchers.front().cancelled);

    // Under it, twelve more go back: 75 left (one bag, and the basket bonus gone), below even
    // the 500 Gold was entered on.
    auto more = evaluate(*raised, back->state,
                         purchase_return{"r2", "t1", "s1", later, {{"1", 12}}}, later);
    REQUIRE(more);
    CHECK(more->state.tier.tier == "green");
    CHECK(more->state.vouchers.front().cancelled);
}
