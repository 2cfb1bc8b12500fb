// Spending points: rewards, points as payment, cancellations and adjustments, through evaluate().
#include "loyalty/engine/evaluate.hpp"
#include "loyalty/engine/local_time.hpp"
#include "loyalty/engine/state_json.hpp"
#include "loyalty/program/load.hpp"
#include "support/member_checks.hpp"
#include "support/sample_program.hpp"
#include "support/times.hpp"

#include <catch2/catch.hpp>

using namespace loyalty::engine;
using loyalty::program::program_ptr;
using loyalty::test::at;
using loyalty::test::rejected;
using loyalty::test::remaining;
using loyalty::test::sample_program_ptr;
using loyalty::test::sample_variant;

namespace {

lot make_lot(std::int64_t id, points_t points, timestamp earned_at,
             std::optional<timestamp> expires_at) {
    lot l;
    l.id = id;
    l.earned = points;
    l.remaining = points;
    l.earned_at = earned_at;
    l.available_at = earned_at;
    l.expires_at = expires_at;
    l.cause = "base";
    l.qualifying = true;
    return l;
}

member_state member_without_lots() {
    member_state m;
    m.id = "m1";
    m.enrolled_at = at(2025, 1, 1);
    m.tier.tier = "green";
    m.tier.since = at(2025, 1, 1);
    m.next_lot_id = 100;
    return m;
}

// Four lots, 350 leaves, to show the order lots are spent in.
member_state member_with_lots() {
    member_state m = member_without_lots();
    m.lots.push_back(make_lot(1, 100, at(2026, 2, 1), at(2026, 9, 1)));
    m.lots.push_back(make_lot(2, 100, at(2026, 3, 1), at(2026, 8, 1)));
    m.lots.push_back(make_lot(3, 100, at(2025, 1, 1), std::nullopt));
    m.lots.push_back(make_lot(4, 50, at(2026, 1, 15), at(2026, 8, 1)));
    return m;
}

reward_redemption redeem(std::string id, std::string reward, timestamp t) {
    return reward_redemption{std::move(id), std::move(reward), t};
}

points_payment pay(std::string id, points_t points, money_t total, timestamp t) {
    return points_payment{std::move(id), "t1", points, total, t};
}

} // namespace

TEST_CASE("a redemption spends soonest-expiring lots first, then the oldest, never-expiring last",
          "[burn]") {
    auto p = sample_program_ptr();
    member_state m = member_with_lots();
    timestamp now = at(2026, 4, 10);
    auto r = evaluate(*p, m, redeem("r1", "handcrafted_drink", now), now);
    REQUIRE(r);

    // Lots 4 and 2 both expire 2026-08-01: lot 4 is older. Lot 3 never expires: untouched.
    CHECK(remaining(r->state, 4) == 0);
    CHECK(remaining(r->state, 2) == 0);
    CHECK(remaining(r->state, 1) == 50);
    CHECK(remaining(r->state, 3) == 100);
    CHECK(r->balance_after.available == 150);
    CHECK(r->points.burned == 200);

    REQUIRE(r->movements.size() == 3);
    CHECK(r->movements[0].kind == movement_kind::burn);
    CHECK(r->movements[0].lot_id == 4);
    CHECK(r->movements[0].points == -50);
    CHECK(r->movements[1].lot_id == 2);
    CHECK(r->movements[1].points == -100);
    CHECK(r->movements[2].lot_id == 1);
    CHECK(r->movements[2].points == -50);

    REQUIRE(r->vouchers.size() == 1);
    const voucher& v = r->vouchers[0];
    CHECK(v.reward_id == "handcrafted_drink");
    CHECK(v.issued_at == now);
    CHECK(v.valid_until == now + date::days{30});
    CHECK(v.cause == "r1");
    REQUIRE(r->state.vouchers.size() == 1);
    CHECK(r->state.vouchers[0].id == v.id);

    REQUIRE(r->state.redemptions.size() == 1);
    const redemption_record& rec = r->state.redemptions[0];
    CHECK(rec.redemption_id == "r1");
    CHECK(rec.reward_id == "handcrafted_drink");
    CHECK(rec.points == 200);
    CHECK(rec.voucher_id == v.id);
    REQUIRE(rec.draws.size() == 3);
    CHECK(rec.draws[0].lot_id == 4);
    CHECK(rec.draws[0].points == 50);
    CHECK(rec.draws[2].lot_id == 1);
    CHECK(rec.draws[2].points == 50);

    REQUIRE(r->state.usage.size() == 1);
    CHECK(r->state.usage[0].rule_id == "handcrafted_drink");
    CHECK(r->state.usage[0].points == 200);

    SECTION("the same redemption id twice is refused") {
        auto again = evaluate(*p, r->state, redeem("r1", "espresso_shot", now), now);
        CHECK(rejected(again).code == rejection_code::already_done);
    }
}

TEST_CASE("pending and expired lots are not spent", "[burn]") {
    auto p = sample_program_ptr();
    member_state m = member_without_lots();
    timestamp now = at(2026, 4, 10);
    lot pending = make_lot(1, 500, at(2026, 4, 5), std::nullopt);
    pending.available_at = at(2026, 4, 19);
    m.lots.push_back(pending);
    m.lots.push_back(make_lot(2, 500, at(2025, 9, 1), at(2026, 4, 1)));
    m.lots.push_back(make_lot(3, 30, at(2026, 1, 1), std::nullopt));

    rejection e = rejected(evaluate(*p, m, redeem("r1", "brewed_coffee", now), now));
    CHECK(e.code == rejection_code::insufficient_points);
    CHECK(e.message == "needs 100 leaves, has 30 leaves available");

    auto ok = evaluate(*p, m, redeem("r1", "espresso_shot", now), now);
    REQUIRE(ok);
    CHECK(remaining(ok->state, 3) == 5);
    CHECK(remaining(ok->state, 1) == 500);
}

TEST_CASE("a member below zero is told what is owed, not only that nothing is available",
          "[burn]") {
    auto p = sample_program_ptr();
    member_state m = member_without_lots();
    timestamp now = at(2026, 4, 10);
    // A return under negative_balance left 40 owed: the member's balance reads -40.
    lot debt = make_lot(1, 0, at(2026, 3, 1), std::nullopt);
    debt.remaining = -40;
    m.lots.push_back(debt);
    rejection e = rejected(evaluate(*p, m, redeem("r1", "espresso_shot", now), now));
    CHECK(e.code == rejection_code::insufficient_points);
    CHECK(e.message == "needs 25 leaves, has 0 leaves available and owes 40 leaves");
}

TEST_CASE("a redemption without enough points is refused and changes nothing", "[burn]") {
    auto p = sample_program_ptr();
    const member_state m = member_with_lots();
    timestamp now = at(2026, 4, 10);
    auto r = evaluate(*p, m, redeem("r1", "mug", now), now);
    rejection e = rejected(r);
    CHECK(e.code == rejection_code::insufficient_points);
    CHECK(e.message == "needs 400 leaves, has 350 leaves available");
    // The request names a reward, not points: the reward is what costs too much.
    CHECK(e.field == "reward_id");
    CHECK(remaining(m, 1) == 100);
    CHECK(m.redemptions.empty());
    CHECK(m.vouchers.empty());
}

TEST_CASE("an unknown reward is refused on reward_id", "[burn]") {
    auto p = sample_program_ptr();
    timestamp now = at(2026, 4, 10);
    rejection e = rejected(evaluate(*p, member_with_lots(), redeem("r1", "yacht", now), now));
    CHECK(e.code == rejection_code::invalid_event);
    CHECK(e.field == "reward_id");
}

TEST_CASE("a tier-restricted reward with a monthly limit", "[burn]") {
    auto p = sample_variant("  - id: mug\n", "  - id: lounge\n"
                                             "    name: Lounge pass\n"
                                             "    cost: 50\n"
                                             "    tiers: [gold, reserve]\n"
                                             "    limit: {times: 2, period: calendar_month}\n"
                                             "    active: {from: 2026-01-01, until: 2026-12-31}\n"
                                             "  - id: mug\n");
    member_state m = member_with_lots();
    timestamp now = at(2026, 4, 10);

    SECTION("a Green member is not eligible") {
        rejection e = rejected(evaluate(*p, m, redeem("r1", "lounge", now), now));
        CHECK(e.code == rejection_code::not_eligible);
        CHECK(e.field == "reward_id");
        CHECK(e.message == "Lounge pass is not available to tier green");
    }

    SECTION("a Gold member redeems twice a month, not three times") {
        m.tier.tier = "gold";
        auto first = evaluate(*p, m, redeem("r1", "lounge", now), now);
        REQUIRE(first);
        auto second = evaluate(*p, first->state, redeem("r2", "lounge", now + date::days{1}), now);
        REQUIRE(second);
        rejection e =
            rejected(evaluate(*p, second->state, redeem("r3", "lounge", now + date::days{2}), now));
        CHECK(e.code == rejection_code::not_eligible);
        CHECK(e.message.find("already redeemed 2") != std::string::npos);

        // A new calendar month starts a new count.
        auto may = evaluate(*p, second->state, redeem("r3", "lounge", at(2026, 5, 2)), now);
        REQUIRE(may);
        CHECK(may->points.burned == 50);

        SECTION("cancelling one frees its place in the limit") {
            auto cancelled = evaluate(*p, second->state,
                                      redemption_cancellation{"r2", now + date::days{2}}, now);
            REQUIRE(cancelled);
            CHECK(evaluate(*p, cancelled->state, redeem("r3", "lounge", now + date::days{2}), now));
        }
    }

    SECTION("outside its active window it is not eligible") {
        m.tier.tier = "gold";
        rejection e = rejected(evaluate(*p, m, redeem("r1", "lounge", at(2027, 1, 2)), now));
        CHECK(e.code == rejection_code::not_eligible);
    }
}

TEST_CASE("points as payment: step, minimum and the share of the purchase", "[burn]") {
    auto p = sample_program_ptr();
    member_state m = member_without_lots();
    m.lots.push_back(make_lot(1, 2000, at(2026, 1, 1), std::nullopt));
    timestamp now = at(2026, 4, 10);

    SECTION("within the rules the points are burned and recorded") {
        auto r = evaluate(*p, m, pay("pay1", 700, 1450, now), now);
        REQUIRE(r);
        CHECK(r->points.burned == 700);
        CHECK(r->balance_after.available == 1300);
        REQUIRE(r->state.redemptions.size() == 1);
        CHECK(r->state.redemptions[0].reward_id.empty());
        CHECK(r->state.redemptions[0].points == 700);
        CHECK_FALSE(r->state.redemptions[0].voucher_id);
        REQUIRE(r->movements.size() == 1);
        CHECK(r->movements[0].kind == movement_kind::burn);
        CHECK(r->movements[0].points == -700);
        CHECK(r->vouchers.empty());
    }

    SECTION("not a multiple of the step") {
        rejection e = rejected(evaluate(*p, m, pay("pay1", 150, 10000, now), now));
        CHECK(e.code == rejection_code::payment_rule);
        CHECK(e.field == "points");
        CHECK(e.message == "points are used in multiples of 100, asked 150");
    }

    SECTION("zero or negative points") {
        CHECK(rejected(evaluate(*p, m, pay("pay1", 0, 10000, now), now)).code ==
              rejection_code::payment_rule);
        CHECK(rejected(evaluate(*p, m, pay("pay1", -100, 10000, now), now)).code ==
              rejection_code::payment_rule);
    }

    SECTION("exactly 50% is allowed, one step more is not") {
        CHECK(evaluate(*p, m, pay("pay1", 700, 1400, now), now));
        rejection e = rejected(evaluate(*p, m, pay("pay1", 800, 1400, now), now));
        CHECK(e.code == rejection_code::payment_rule);
        CHECK(e.message == "at most 50% of the purchase may be paid with points: at most 700 "
                           "leaves for a 1400 purchase, asked 800");
    }

    SECTION("the share is floored: 800 on a 1450 purchase is 8.00 > 7.25") {
        rejection e = rejected(evaluate(*p, m, pay("pay1", 800, 1450, now), now));
        CHECK(e.message == "at most 50% of the purchase may be paid with points: at most 700 "
                           "leaves for a 1450 purchase, asked 800");
    }

    SECTION("earlier payments on the purchase count towards the share") {
        points_payment second = pay("pay2", 300, 1400, now);
        second.paid_before = 400;
        CHECK(evaluate(*p, m, second, now)); // 4.00 + 3.00 = 7.00, half of 14.00
        second.points = 400;
        rejection e = rejected(evaluate(*p, m, second, now));
        CHECK(e.code == rejection_code::payment_rule);
        CHECK(e.field == "points");
        CHECK(e.message == "at most 50% of the purchase may be paid with points: at most 300 "
                           "leaves for a 1400 purchase (400 of it paid with points already), asked "
                           "400");
        second.paid_before = 700; // the share is used up
        second.points = 100;
        CHECK(rejected(evaluate(*p, m, second, now)).message ==
              "at most 50% of the purchase may be paid with points: at most 0 leaves for a 1400 "
              "purchase (700 of it paid with points already), asked 100");
    }

    SECTION("earlier payments count at the value they were paid at, not at today's rate") {
        // 400 leaves paid 2.00 when 200 leaves made a dollar: 5.00 of the 7.00 share is left,
        // where today's rate would value the 400 leaves at 4.00 and leave 3.00.
        points_payment second = pay("pay2", 500, 1400, now);
        second.paid_before_value = 200;
        CHECK(evaluate(*p, m, second, now));
        second.points = 600;
        CHECK(rejected(evaluate(*p, m, second, now)).message ==
              "at most 50% of the purchase may be paid with points: at most 500 leaves for a "
              "1400 purchase (200 of it paid with points already), asked 600");
        // Both kinds together: 200 kept as value, 300 leaves from before it was kept.
        second.paid_before = 300;
        second.points = 200;
        CHECK(evaluate(*p, m, second, now));
        second.points = 300;
        CHECK(rejected(evaluate(*p, m, second, now)).code == rejection_code::payment_rule);
    }

    SECTION("a payment keeps its value in its record") {
        auto paid = evaluate(*p, m, pay("pay1", 700, 1400, now), now);
        REQUIRE(paid);
        REQUIRE(paid->state.redemptions.size() == 1);
        CHECK(paid->state.redemptions.back().value == 700);
        auto back =
            redemption_record_from_json(redemption_record_to_json(paid->state.redemptions.back()));
        REQUIRE(back);
        CHECK(back->value == 700);
    }

    SECTION("more than the balance") {
        rejection e = rejected(evaluate(*p, m, pay("pay1", 2100, 10000, now), now));
        CHECK(e.code == rejection_code::insufficient_points);
    }

    SECTION("a minimum") {
        auto q = sample_variant("  max_share_percent: 50\n",
                                "  max_share_percent: 50\n  minimum: 300\n");
        rejection e = rejected(evaluate(*q, m, pay("pay1", 200, 10000, now), now));
        CHECK(e.code == rejection_code::payment_rule);
        CHECK(e.message == "at least 300 leaves must be used at once, asked 200");
        CHECK(evaluate(*q, m, pay("pay1", 300, 10000, now), now));
    }

    SECTION("points that do not make whole cents") {
        auto q = sample_variant("  points: 100\n  value: 100\n  step: 100\n",
                                "  points: 3\n  value: 1\n  step: 1\n");
        CHECK(evaluate(*q, m, pay("pay1", 30, 10000, now), now));
        rejection e = rejected(evaluate(*q, m, pay("pay1", 31, 10000, now), now));
        CHECK(e.code == rejection_code::payment_rule);
    }

    SECTION("a program without payment refuses it") {
        auto q =
            sample_variant("payment:\n  # 100 leaves pay $1.00, in steps of 100 leaves, for at "
                           "most half of the purchase.\n  points: 100\n  value: 100\n  step: 100\n"
                           "  max_share_percent: 50\n",
                           "");
        CHECK(rejected(evaluate(*q, m, pay("pay1", 100, 10000, now), now)).code ==
              rejection_code::invalid_event);
    }
}

TEST_CASE("a voucher is used once, while valid, and never after its redemption is cancelled",
          "[burn]") {
    auto p = sample_program_ptr();
    timestamp now = at(2026, 4, 10);
    auto r = evaluate(*p, member_with_lots(), redeem("r1", "handcrafted_drink", now), now);
    REQUIRE(r);
    REQUIRE(r->vouchers.size() == 1);
    const std::string id = r->vouchers[0].id;
    const timestamp until = r->vouchers[0].valid_until;
    REQUIRE(until > now + date::days{1});

    auto used = evaluate(*p, r->state, voucher_use{id, "t9", now + date::days{1}, "s-12"}, now);
    REQUIRE(used);
    CHECK(used->event_type == "voucher_use");
    CHECK(used->event["voucher_id"] == id);
    CHECK(used->event["transaction_id"] == "t9");
    CHECK(used->event["reward_id"] == "handcrafted_drink");
    CHECK(used->state.vouchers[0].redeemed);
    CHECK_FALSE(used->state.vouchers[0].cancelled);
    // Kept for support's history of the member's vouchers.
    CHECK(used->state.vouchers[0].used_at == now + date::days{1});
    CHECK(used->state.vouchers[0].used_transaction_id == "t9");
    CHECK(used->state.vouchers[0].used_store_id == "s-12");
    CHECK(used->event["store_id"] == "s-12");
    CHECK_FALSE(r->state.vouchers[0].used_at);
    // Nothing else moves: the points were spent by the redemption.
    CHECK(used->movements.empty());
    CHECK(used->balance_after.available == r->balance_after.available);
    CHECK(used->vouchers.empty());

    rejection twice = rejected(evaluate(*p, used->state, voucher_use{id, "t10", now}, now));
    CHECK(twice.code == rejection_code::already_done);
    CHECK(twice.field == "voucher_id");
    CHECK(twice.message == "voucher " + id + " was already used");

    // Valid up to, not at, its valid_until.
    CHECK(evaluate(*p, r->state, voucher_use{id, "", until - std::chrono::seconds{1}}, now));
    rejection expired = rejected(evaluate(*p, r->state, voucher_use{id, "", until}, now));
    CHECK(expired.code == rejection_code::not_eligible);
    CHECK(expired.message == "voucher " + id + " was valid until " + format_rfc3339(until));

    auto cancelled = evaluate(*p, r->state, redemption_cancellation{"r1", now}, now);
    REQUIRE(cancelled);
    rejection gone = rejected(evaluate(*p, cancelled->state, voucher_use{id, "t9", now}, now));
    CHECK(gone.code == rejection_code::not_eligible);
    CHECK(gone.message == "voucher " + id + " was cancelled with its redemption r1");

    rejection unknown = rejected(evaluate(*p, r->state, voucher_use{"v-none", "t9", now}, now));
    CHECK(unknown.code == rejection_code::unknown_record);
    CHECK(unknown.field == "voucher_id");
}

TEST_CASE("a cancelled redemption gives its points back to their lots, once", "[burn]") {
    auto p = sample_program_ptr();
    member_state m = member_with_lots();
    timestamp now = at(2026, 4, 10);
    auto r = evaluate(*p, m, redeem("r1", "handcrafted_drink", now), now);
    REQUIRE(r);

    auto c = evaluate(*p, r->state, redemption_cancellation{"r1", now + date::days{1}}, now);
    REQUIRE(c);
    CHECK(remaining(c->state, 1) == 100);
    CHECK(remaining(c->state, 2) == 100);
    CHECK(remaining(c->state, 3) == 100);
    CHECK(remaining(c->state, 4) == 50);
    CHECK(c->balance_after.available == 350);
    CHECK(c->points.restored == 200);
    CHECK(c->points.burned == 0);
    REQUIRE(c->movements.size() == 3);
    for (const movement& mv : c->movements) {
        CHECK(mv.kind == movement_kind::reverse);
        CHECK(mv.points > 0);
    }
    CHECK(c->movements[0].lot_id == 4);
    CHECK(c->movements[0].points == 50);
    CHECK(c->state.redemptions[0].cancelled);
    CHECK(c->state.vouchers[0].cancelled);

    rejection twice =
        rejected(evaluate(*p, c->state, redemption_cancellation{"r1", now + date::days{2}}, now));
    CHECK(twice.code == rejection_code::already_done);

    rejection unknown =
        rejected(evaluate(*p, c->state, redemption_cancellation{"r9", now + date::days{2}}, now));
    CHECK(unknown.code == rejection_code::unknown_record);
    CHECK(unknown.field == "redemption_id");

    SECTION("not once its voucher was used") {
        auto used = evaluate(*p, r->state, voucher_use{r->vouchers[0].id, "t9", now}, now);
        REQUIRE(used);
        rejection refused =
            rejected(evaluate(*p, used->state, redemption_cancellation{"r1", now}, now));
        CHECK(refused.code == rejection_code::already_done);
        CHECK(refused.message ==
              "the voucher " + r->vouchers[0].id + " of redemption r1 was already used");
    }

    SECTION("points whose lot expired since stay expired") {
        auto late =
            evaluate(*p, r->state, redemption_cancellation{"r1", at(2026, 8, 15)}, at(2026, 8, 15));
        REQUIRE(late);
        CHECK(remaining(late->state, 4) == 0);
        CHECK(remaining(late->state, 2) == 0);
        CHECK(remaining(late->state, 1) == 100);
        CHECK(late->balance_after.available == 200);
        CHECK(late->state.redemptions[0].cancelled);
        bool explained = false;
        for (const movement& mv : late->movements) {
            explained =
                explained || mv.explanation.find("150 leaves not restored") != std::string::npos;
        }
        CHECK(explained);
    }
}

TEST_CASE("adjustments credit and debit with a reason", "[burn]") {
    auto p = sample_program_ptr();
    member_state m = member_without_lots();
    m.lots.push_back(make_lot(1, 100, at(2026, 1, 1), std::nullopt));
    timestamp now = at(2026, 4, 10);
    auto adj = [&](points_t points, std::string reason = "goodwill") {
        return adjustment{"adj1", points, std::move(reason), "", "key1", now};
    };

    SECTION("positive: a new lot, available now, never qualifying") {
        auto r = evaluate(*p, m, adj(30), now);
        REQUIRE(r);
        CHECK(r->balance_after.available == 130);
        CHECK(r->points.adjusted == 30);
        CHECK(r->points.earned == 0);
        REQUIRE(r->movements.size() == 1);
        CHECK(r->movements[0].kind == movement_kind::adjust);
        CHECK(r->movements[0].points == 30);
        CHECK(r->movements[0].explanation == "adjustment: goodwill");
        CHECK(r->state.lots.back().qualifying == false);
        CHECK(r->state.metric.empty());
    }

    SECTION("negative: drawn from the lots") {
        auto r = evaluate(*p, m, adj(-30), now);
        REQUIRE(r);
        CHECK(r->balance_after.available == 70);
        CHECK(r->points.adjusted == -30);
        REQUIRE(r->movements.size() == 1);
        CHECK(r->movements[0].kind == movement_kind::adjust);
        CHECK(r->movements[0].points == -30);
    }

    SECTION("beyond the balance: refused unless the program allows a negative balance") {
        CHECK(rejected(evaluate(*p, m, adj(-150), now)).code ==
              rejection_code::insufficient_points);
        auto q = sample_variant("allow_negative_balance: false", "allow_negative_balance: true");
        auto r = evaluate(*q, m, adj(-150), now);
        REQUIRE(r);
        CHECK(r->balance_after.available == -50);
        CHECK(r->points.adjusted == -150);
    }

    SECTION("a reason and non-zero points are required") {
        rejection e = rejected(evaluate(*p, m, adj(30, ""), now));
        CHECK(e.code == rejection_code::invalid_event);
        CHECK(e.field == "reason");
        CHECK(rejected(evaluate(*p, m, adj(0), now)).field == "points");
    }
}
