// outcome.hpp: to_json_text(o, p) is byte for byte to_json(o, p).dump(), and movements_text its
// movements, on outcomes of every kind of event, on the outcomes of random histories, and with
// strings that need escaping.
#include "loyalty/engine/evaluate.hpp"
#include "loyalty/engine/event_json.hpp"
#include "loyalty/engine/local_time.hpp"
#include "loyalty/engine/outcome.hpp"
#include "random_history.hpp"
#include "support/sample_program.hpp"
#include "support/times.hpp"

#include <catch2/catch.hpp>
#include <limits>
#include <string>
#include <vector>

using namespace loyalty::engine;

using loyalty::test::at;

namespace {

void check_same(const outcome& o, const loyalty::program::program& p) {
    std::string expected = to_json(o, p).dump();
    INFO(expected);
    CHECK(to_json_text(o, p) == expected);
    // The movements alone, as the ledger writes them back for a replay.
    CHECK(movements_text(o.movements) == to_json(o, p)["movements"].dump());
}

// Evaluates `e` for `m`, which must be accepted; checks both texts; returns the member after.
member_state accepted(const loyalty::program::program& p, const member_state& m, const event& e,
                      timestamp now) {
    auto o = evaluate(p, m, e, now);
    if (!o) {
        FAIL("refused: " << o.error().message);
    }
    check_same(*o, p);
    return std::move(o->state);
}

// Text that JSON must escape: quotes, backslashes, every kind of control character, DEL (which
// it must not escape) and UTF-8 beyond ASCII.
const std::string awkward = std::string("q\"b\\s/n\nr\rt\tb\bf\fnul") + '\0' + "\x01\x1f\x7f" +
                            "caf\xc3\xa9 \xe2\x98\x95 \xf0\x9f\x8c\xbf";

// Every kind of event, each accepted, for a member referred by a friend, under `p`; ids carry
// `text` so that the event echo and the explanations hold it.
void every_event_kind(const loyalty::program::program& p, const std::string& text) {
    const timestamp joined_at = at("2026-11-02T15:00:00Z");
    enrollment joined{"m-" + text, joined_at, date::year{1990} / 11 / 14, "friend-" + text};
    member_state m = accepted(p, new_member(p, joined), joined, joined_at);

    // A Tuesday in the app: base, double_tuesday, bakery, big_basket, app_orders; the first
    // purchase of a referred member also credits the referrer.
    purchase bought;
    bought.transaction_id = "t-" + text;
    bought.member_id = m.id;
    bought.store_id = "s-" + text;
    bought.channel = "app";
    bought.currency = "USD";
    bought.occurred_at = at("2026-11-03T15:00:00Z");
    bought.lines = {{"1-" + text, "LATTE", "coffee", 2, 525, 0, {"hot", text}},
                    {"2", "CROISSANT", "bakery", 3, 375, 75, {}},
                    {"3", "GIFT", "gift_card", 1, 2500, 0, {}},
                    {"4", "BEANS", "beans", 40, 1800, 0, {}}};
    m = accepted(p, m, bought, bought.occurred_at);

    purchase_return returned{"r-" + text,
                             bought.transaction_id,
                             bought.store_id,
                             at("2026-11-04T15:00:00Z"),
                             {{"2", 1}}};
    m = accepted(p, m, returned, returned.occurred_at);

    custom_event review{"e-" + text, "review_posted", at("2026-11-05T15:00:00Z"),
                        nlohmann::json::object({{"stars", 5}, {"text", text}})};
    m = accepted(p, m, review, review.occurred_at);

    // Time passes: the purchase's points mature.
    const timestamp later = at("2026-11-20T15:00:00Z");
    m = accepted(p, m, time_passes{later}, later);

    reward_redemption drink{"x1-" + text, "handcrafted_drink", later};
    m = accepted(p, m, drink, later);

    points_payment paid{"x2-" + text, "t2-" + text, 100, 1000, later};
    m = accepted(p, m, paid, later);

    redemption_cancellation cancelled{"x1-" + text, later};
    m = accepted(p, m, cancelled, later);

    adjustment credit{"a1-" + text, 40, "goodwill " + text, "note " + text, "k-" + text, later};
    m = accepted(p, m, credit, later);
    adjustment debit{"a2-" + text, -15, "correction " + text, "", "k-" + text, later};
    m = accepted(p, m, debit, later);

    referral_reward referral{"friend-" + text, "referral", later};
    m = accepted(p, m, referral, later);
}

} // namespace

TEST_CASE("to_json_text writes to_json().dump() for every kind of event") {
    every_event_kind(loyalty::test::sample_program(), "plain");
}

TEST_CASE("to_json_text escapes ids, reasons and names as dump() does") {
    every_event_kind(loyalty::test::sample_program(), awkward);

    // The unit and the rules' descriptions (in movement explanations) come from the program.
    auto p = loyalty::test::sample_variant("name: leaves\n  singular: leaf",
                                           "name: \"le\\\"av\\\\es\\t\\u00e9\"\n  singular: "
                                           "\"le\\\"af\\x01\"");
    auto described = loyalty::test::sample_variant(
        "description: 2 leaves per $1 (Gold 3, Reserve 4)",
        "description: \"2 \\\"leaves\\\" per $1\\\\\\n(Gold 3)\\x7f \\u2615\"");
    REQUIRE(p->points.name == "le\"av\\es\t\xc3\xa9");
    every_event_kind(*p, awkward);
    every_event_kind(*described, "d");
}

TEST_CASE("to_json_text writes any event echo and summary as dump() does") {
    const auto& p = loyalty::test::sample_program();
    outcome empty;
    check_same(empty, p); // null event, empty lists, no available_from

    outcome o;
    o.event_type = awkward;
    o.program_version = "v";
    o.event = {{"z", nlohmann::json::array({1, -2, nullptr, true, false, "s", awkward})},
               {"a", {{"nested", nlohmann::json::object()}, {"list", nlohmann::json::array()}}},
               {"max", std::numeric_limits<std::int64_t>::max()},
               {"min", std::numeric_limits<std::int64_t>::min()},
               {"unsigned", std::numeric_limits<std::uint64_t>::max()},
               {"float", 2.5},
               {awkward, awkward},
               {"", ""}};
    o.points = {1, 2, at("2026-11-03T15:00:00Z"), 3, 4, 5, 6, -7, 8, 9};
    o.balance_after = {-10, 11};
    o.tier = {"green", awkward, true, -12};
    o.vouchers.push_back({awkward, "mug", at("2026-11-03T15:00:00Z"), at("2026-12-03T15:00:00Z"),
                          awkward, false, false, std::nullopt, ""});
    o.vouchers.push_back({"v2", awkward, {}, {}, "", true, true, std::nullopt, ""});
    o.rules.push_back({awkward, true, awkward, awkward, 13, 14});
    o.rules.push_back({"r", false, "", "", 0, 0});
    for (movement_kind kind :
         {movement_kind::earn, movement_kind::mature, movement_kind::burn, movement_kind::expire,
          movement_kind::reverse, movement_kind::adjust}) {
        o.movements.push_back({kind, -15, 16, awkward, awkward, kind == movement_kind::earn});
    }
    o.referrals.push_back({awkward, awkward, 17, true, awkward});
    check_same(o, p);

    o.event = awkward; // a value other than an object
    check_same(o, p);
    o.event = nlohmann::json::array({nlohmann::json::object({{"b", 1}, {"a", 2}})});
    check_same(o, p);
}

TEST_CASE("to_json_text writes to_json().dump() for the outcomes of random histories") {
    using namespace loyalty::test::random_history;
    std::int64_t compared = 0;
    for (int c = 0; c < 40; ++c) {
        rng g(0x0c0e'2026'1124ULL + static_cast<std::uint64_t>(c));
        random_program rp = make_program(g);
        const loyalty::program::program& p = *rp.program;
        walk(g, p, 25,
             [&](int s, const member_state&, const event& e, timestamp,
                 const tl::expected<outcome, rejection>& result) {
                 if (!result) {
                     return;
                 }
                 INFO("case " << c << ", step " << s << ": " << describe(e));
                 std::string expected = to_json(*result, p).dump();
                 std::string text = to_json_text(*result, p);
                 if (text != expected) {
                     CHECK(text == expected); // reported only when they differ
                 }
                 ++compared;
             });
    }
    CHECK(compared > 500);
}
