#include "loyalty/program/load.hpp"
#include "support/sample_program.hpp"

#include <catch2/catch.hpp>
#include <fstream>
#include <regex>
#include <sstream>
using namespace loyalty::program;
using loyalty::test::sample_text;

namespace {

// Every problem the loader reports for `text`, one per line, as `loyalty check` prints them.
std::string problems(const std::string& text, const std::string& name = "p.yaml") {
    auto loaded = load_program(text, name);
    if (loaded) {
        return "ok";
    }
    std::string out;
    for (const auto& d : loaded.error()) {
        out += to_string(d) + "\n";
    }
    return out;
}

program_ptr load_ok(const std::string& text) {
    auto loaded = load_program(text, "p.yaml");
    INFO(problems(text));
    REQUIRE(loaded);
    return *loaded;
}

// A small valid program; tests append to it or replace parts of it.
const std::string header = R"(program:
  id: shop
  name: Shop
  currency: USD
  time_zone: America/New_York
)";

const std::string base_rule = R"(earn:
  - id: base
    on: purchase
    rate: {points: 1, per: 100}
)";

// Two tiers, for the checks that name tiers.
const std::string green_gold = R"(tiers:
  levels:
    - {id: green, threshold: 0}
    - {id: gold, threshold: 500}
)";

} // namespace

TEST_CASE("the sample program loads with every rule as written", "[load]") {
    auto p = load_ok(sample_text());
    CHECK(p->id == "bean-and-leaf");
    CHECK(p->name == "Bean & Leaf Rewards");
    CHECK(p->currency.code == "USD");
    CHECK(p->currency.minor_digits == 2);
    CHECK(p->time_zone->name() == "America/New_York");
    CHECK(p->points.name == "leaves");
    CHECK(p->points.singular == "leaf");
    CHECK(p->points.pending_days == 14);
    CHECK(p->points.expiry.policy == expiry_policy::after);
    CHECK(p->points.expiry.months == 6);
    CHECK(p->points.expiry.round_to_end_of_month);
    CHECK(p->points.expiry.exempt_tiers == std::vector<std::string>{"reserve"});
    CHECK(p->spend.excluded_categories == std::vector<std::string>{"gift_card"});

    REQUIRE(p->tiers.levels.size() == 3);
    CHECK(p->tiers.levels[1].id == "gold");
    CHECK(p->tiers.levels[1].threshold == 500);
    CHECK(p->tiers.levels[2].threshold == 2500);
    CHECK(p->tiers.window == tier_window_kind::rolling_months);
    CHECK(p->tiers.window_months == 12);
    CHECK(p->tiers.status_months == 12);
    CHECK(p->tiers.level_for(499) == 0);
    CHECK(p->tiers.level_for(500) == 1);
    CHECK(p->tiers.level_for(2499) == 1);
    CHECK(p->tiers.level_for(2500) == 2);

    REQUIRE(p->earn.size() == 8);
    const earn_rule* base = p->find_earn_rule("base");
    REQUIRE(base != nullptr);
    CHECK(base->kind == earn_kind::rate);
    CHECK(base->rate.points == 2);
    CHECK(base->rate.per == 100);
    CHECK(base->tier_rates.at("gold").points == 3);
    CHECK(base->tier_rates.at("reserve").points == 4);
    CHECK(base->qualifying);

    const earn_rule* tuesday = p->find_earn_rule("double_tuesday");
    REQUIRE(tuesday != nullptr);
    CHECK(tuesday->kind == earn_kind::multiply);
    CHECK(tuesday->multiply.rules == std::vector<std::string>{"base"});
    CHECK(tuesday->multiply.percent == 200);
    REQUIRE(tuesday->when);
    CHECK(tuesday->when->path == "earn[1].when");

    const earn_rule* basket = p->find_earn_rule("big_basket");
    REQUIRE(basket != nullptr);
    CHECK(basket->min_spend == 3000);
    REQUIRE(basket->limits.per_member.size() == 1);
    CHECK(basket->limits.per_member[0].times == 1);
    CHECK(basket->limits.per_member[0].per.kind == period_kind::calendar_month);

    const earn_rule* reviews = p->find_earn_rule("reviews");
    REQUIRE(reviews != nullptr);
    CHECK(reviews->on == earn_trigger::event);
    CHECK(reviews->event_type == "review_posted");

    CHECK(p->find_earn_rule("referral")->on == earn_trigger::referral);
    CHECK(p->find_reward("mug")->cost == 400);
    CHECK(p->payment.enabled);
    CHECK(p->payment.max_share_percent == 50);
    REQUIRE(p->benefits.size() == 2);
    CHECK(p->benefits[0].trigger == benefit_trigger::tier_entry);
    CHECK(p->benefits[0].tier == "gold");
    CHECK(p->benefits[0].grant.validity.days == 30);
    CHECK(p->benefits[1].birthday == birthday_granularity::month);
    CHECK(p->benefits[1].grant.validity.until_end_of_month);
    CHECK(p->content_hash().size() == 64);
    CHECK(summary(*p) ==
          "Bean & Leaf Rewards (bean-and-leaf, USD, America/New_York): 8 earn rules, "
          "3 tiers, 4 rewards, 2 benefits, purchases and events at most 60 days late");
}

TEST_CASE("the same program written as JSON loads the same", "[load]") {
    auto p = load_ok(R"({
  "program": {"id": "shop", "name": "Shop", "currency": "EUR", "time_zone": "Europe/Paris"},
  "earn": [
    {"id": "base", "on": "purchase", "rate": {"points": 1, "per": 100},
     "when": {">=": [{"var": "transaction.total"}, 500]}}
  ]
})");
    CHECK(p->currency.code == "EUR");
    CHECK(p->earn.at(0).rate.per == 100);
    CHECK(p->tiers.levels.size() == 1); // no tiers: everyone is a member
    CHECK(p->tiers.levels[0].id == "member");
}

TEST_CASE("unknown keys are errors at the key, with a suggestion", "[load][errors]") {
    CHECK(problems(header + base_rule + "teirs:\n  metric: purchases\n") ==
          "p.yaml:10:1: teirs: unknown key \"teirs\"; expected one of: program, points, spend, "
          "events, tiers, earn, rewards, payment, benefits, returns, late_posting; did you mean "
          "\"tiers\"?\n");
    CHECK(problems(header + R"(earn:
  - id: base
    on: purchase
    rate: {poitns: 1, per: 100}
)") == "p.yaml:9:11: earn[0].rate: missing required key \"points\"\n"
       "p.yaml:9:12: earn[0].rate.poitns: unknown key \"poitns\"; expected one of: points, per; "
       "did you mean \"points\"?\n");
}

TEST_CASE("wrong types and out-of-range values say what was expected and what was found",
          "[load][errors]") {
    CHECK(problems(header + R"(earn:
  - id: base
    on: purchase
    fixed: 2.5
)") == "p.yaml:9:12: earn[0].fixed: expected a whole number from 1 to 1000000000, found 2.5\n");
    CHECK(problems(header + R"(earn:
  - id: base
    on: purchase
    fixed: "10"
)") == "p.yaml:9:12: earn[0].fixed: expected a whole number from 1 to 1000000000, found \"10\"\n");
    CHECK(problems(header + base_rule +
                   "payment: {points: 100, value: 100, max_share_percent: 150}\n") ==
          "p.yaml:10:55: payment.max_share_percent: expected a whole number from 1 to 100, found "
          "150\n");
    CHECK(problems(header + R"(earn:
  - id: base
    on: purchse
    fixed: 1
)") == "p.yaml:8:9: earn[0].on: expected one of purchase, event, enrollment or referral, found "
       "\"purchse\"; did you mean \"purchase\"?\n");
    CHECK(problems(header + base_rule + "points: {allow_negative_balance: yes}\n") ==
          "p.yaml:10:34: points.allow_negative_balance: expected true or false, found \"yes\"\n");
}

TEST_CASE("missing required keys are reported at the mapping that lacks them", "[load][errors]") {
    CHECK(problems(R"(program:
  id: shop
  name: Shop
  time_zone: UTC
)" + base_rule) == "p.yaml:2:3: program: missing required key \"currency\"\n");
    CHECK(problems(header) == "p.yaml:1:1: missing required key \"earn\"\n");
}

TEST_CASE("currency and time zone must exist", "[load][errors]") {
    CHECK(problems(R"(program:
  id: shop
  name: Shop
  currency: USX
  time_zone: America/New_Yrok
)" + base_rule) ==
          "p.yaml:4:13: program.currency: expected an ISO 4217 currency code such as USD or EUR, "
          "found \"USX\"\n"
          "p.yaml:5:14: program.time_zone: expected an IANA time zone such as America/New_York, "
          "found \"America/New_Yrok\"\n");
    auto yen = load_ok(R"(program: {id: shop, name: Shop, currency: JPY, time_zone: Asia/Tokyo}
)" + base_rule);
    CHECK(yen->currency.minor_digits == 0);
}

TEST_CASE("impossible dates are errors", "[load][errors]") {
    CHECK(problems(header + R"(earn:
  - id: base
    on: purchase
    fixed: 1
    active: {from: 2026-02-30, until: 2026-13-01}
)") == "p.yaml:10:20: earn[0].active.from: expected a local date YYYY-MM-DD or date and time "
       "YYYY-MM-DDTHH:MM[:SS] that exists, found \"2026-02-30\"\n"
       "p.yaml:10:39: earn[0].active.until: expected a local date YYYY-MM-DD or date and time "
       "YYYY-MM-DDTHH:MM[:SS] that exists, found \"2026-13-01\"\n");
    CHECK(problems(header + R"(earn:
  - id: base
    on: purchase
    fixed: 1
    active: {from: 2026-06-01, until: 2026-05-31}
)") == "p.yaml:10:39: earn[0].active.until: expected until to be after from\n");
    auto leap = load_ok(header + R"(earn:
  - id: base
    on: purchase
    fixed: 1
    active: {from: 2028-02-29, until: 2028-03-01T09:30}
)");
    const validity& v = *leap->earn[0].active;
    CHECK(v.contains(date::local_days{date::year{2028} / 2 / 29}));
    CHECK(
        v.contains(date::local_days{date::year{2028} / 3 / 1} + std::chrono::minutes{9 * 60 + 29}));
    CHECK_FALSE(
        v.contains(date::local_days{date::year{2028} / 3 / 1} + std::chrono::minutes{9 * 60 + 30}));
}

TEST_CASE("an until date runs through the end of that day", "[load]") {
    auto p = load_ok(header + R"(earn:
  - id: base
    on: purchase
    fixed: 1
    active: {until: 2026-12-31}
)");
    const validity& v = *p->earn[0].active;
    auto last_day = date::local_days{date::year{2026} / 12 / 31};
    CHECK(v.contains(last_day + std::chrono::hours{23} + std::chrono::minutes{59}));
    CHECK_FALSE(v.contains(last_day + date::days{1}));
}

TEST_CASE("duplicate ids and duplicate keys are errors", "[load][errors]") {
    CHECK(problems(header + R"(earn:
  - id: base
    on: purchase
    fixed: 1
  - id: base
    on: purchase
    fixed: 2
)") == "p.yaml:10:9: earn[1].id: duplicate rule id \"base\"; it is already used at earn[0].id\n");
    CHECK(problems(header + base_rule + "earn: []\n") ==
          "p.yaml:10:1: earn: duplicate key \"earn\"; it was already given at line 6\n");
    CHECK(problems(header + base_rule + R"(rewards:
  - {id: mug, name: Mug, cost: 400}
  - {id: mug, name: Big mug, cost: 500}
)") == "p.yaml:12:10: rewards[1].id: duplicate reward id \"mug\"\n");
}

TEST_CASE("tier thresholds start at zero, rise, and ids are unique", "[load][errors]") {
    CHECK(problems(header + base_rule + R"(tiers:
  levels:
    - {id: green, threshold: 100}
    - {id: gold, threshold: 500}
    - {id: silver, threshold: 500}
    - {id: gold, threshold: 900}
)") == "p.yaml:12:30: tiers.levels[0].threshold: the first tier must start at 0 so that every "
       "member has a tier, found 100\n"
       "p.yaml:14:31: tiers.levels[2].threshold: tiers must be listed from lowest to highest with "
       "rising thresholds: expected more than 500 (tier \"gold\"), found 500\n"
       "p.yaml:15:12: tiers.levels[3].id: duplicate tier id \"gold\"\n");
}

TEST_CASE("references to tiers, rewards, rules and event types must resolve", "[load][errors]") {
    CHECK(problems(header + R"(tiers:
  levels:
    - {id: green, threshold: 0}
earn:
  - id: base
    on: purchase
    rate: {points: 1, per: 100}
    tier_rates:
      gold: {points: 2, per: 100}
  - id: double
    on: purchase
    multiply: {rules: [base, bonus], percent: 200}
  - id: review
    on: event
    event: review_posted
    fixed: 5
benefits:
  - id: welcome
    trigger: {tier_entry: platinum}
    grant: {reward: latte, valid_days: 30}
)") == "p.yaml:14:7: earn[0].tier_rates.gold: unknown tier \"gold\"; expected one of: green\n"
       "p.yaml:17:30: earn[1].multiply.rules[1]: unknown earn rule \"bonus\"; expected one of: "
       "base, double, review\n"
       "p.yaml:20:12: earn[2].event: unknown event type \"review_posted\"; none are defined; list "
       "the event types the program accepts under events:\n"
       "p.yaml:24:27: benefits[0].trigger.tier_entry: unknown tier \"platinum\"; expected one of: "
       "green\n"
       "p.yaml:25:21: benefits[0].grant.reward: unknown reward \"latte\"; none are defined\n");
}

TEST_CASE("an id that is not one is reported once, not again at every use of it",
          "[load][errors]") {
    // "Gold" is not an id: said at the id. Its uses (a rate, a condition) name the tier it was
    // meant to be, and are not reported as unknown tiers in a list with a blank; so for an event
    // type.
    CHECK(problems(header + R"(tiers:
  levels:
    - {id: green, threshold: 0}
    - {id: Gold, threshold: 500}
events: [Review-Posted]
earn:
  - id: base
    on: purchase
    rate: {points: 1, per: 100}
    tier_rates:
      gold: {points: 2, per: 100}
  - id: gold_bonus
    on: purchase
    when: {"==": [{"var": "member.tier"}, "gold"]}
    fixed: 5
  - id: review
    on: event
    event: review-posted
    fixed: 5
)") == "p.yaml:9:12: tiers.levels[1].id: expected an id (lowercase letters, digits, '_' or '-', "
       "at most 64), found \"Gold\"\n"
       "p.yaml:10:10: events[0]: expected an id (lowercase letters, digits, '_' or '-', at most "
       "64), found \"Review-Posted\"\n");
    // With every id readable, the same uses are unknown tiers and event types, as before.
    CHECK(problems(header + green_gold + R"(earn:
  - id: base
    on: purchase
    rate: {points: 1, per: 100}
    tier_rates:
      golden: {points: 2, per: 100}
)") == "p.yaml:15:7: earn[0].tier_rates.golden: unknown tier \"golden\"; expected one of: green, "
       "gold\n");
}

TEST_CASE("a rule earns in exactly one way that fits its trigger", "[load][errors]") {
    CHECK(problems(header + R"(earn:
  - id: base
    on: purchase
)") == "p.yaml:7:5: earn[0]: a rule must say what it earns: expected one of the keys rate, "
       "per_unit, fixed or multiply\n");
    CHECK(problems(header + R"(earn:
  - id: base
    on: purchase
    rate: {points: 1, per: 100}
    fixed: 5
)") == "p.yaml:10:5: earn[0].fixed: a rule earns in one way only: found both rate and fixed\n");
    CHECK(problems(header + R"(events: [signup]
earn:
  - id: signup
    on: event
    event: signup
    rate: {points: 1, per: 100}
    min_spend: 100
)") == "p.yaml:11:5: earn[0].rate: rate is earned on spend or units: it needs on: purchase\n"
       "p.yaml:12:5: earn[0].min_spend: min_spend applies to rules with on: purchase only\n");
}

TEST_CASE("conditions are compiled at load time and errors point inside them", "[load][errors]") {
    CHECK(problems(header + R"(earn:
  - id: base
    on: purchase
    fixed: 1
    when:
      and:
        - {">=": [{var: transaction.total}, 100]}
        - {bteween: [1, 2]}
)")
              .find("p.yaml:13:12: earn[0].when.and[1].bteween: unknown operator \"bteween\"") ==
          0);
}

TEST_CASE("conditions may read only the data their rule gets", "[load][errors]") {
    CHECK(problems(header + R"(earn:
  - id: base
    on: purchase
    fixed: 1
    when: {"==": [{var: transaction.chanel}, app]}
)") == "p.yaml:10:20: earn[0].when[\"==\"][0].var: unknown data \"transaction.chanel\"; expected "
       "one "
       "of: transaction.id, transaction.store_id, transaction.channel, transaction.currency, "
       "transaction.occurred_at, transaction.total, transaction.eligible_spend, "
       "transaction.quantity, transaction.line_count, transaction.categories[], "
       "transaction.skus[], transaction.tags[], transaction.local.date, transaction.local.year, "
       "transaction.local.month, transaction.local.day, transaction.local.weekday, "
       "transaction.local.hour, transaction.local.minute\n");
    // Line data is for line selectors, not for the whole purchase.
    CHECK(problems(header + R"(earn:
  - id: base
    on: purchase
    fixed: 1
    when: {"==": [{var: line.sku}, A1]}
)") == "p.yaml:10:20: earn[0].when[\"==\"][0].var: unknown data \"line.sku\"; here a condition can "
       "read transaction.*, member.*\n");
    load_ok(header + R"(earn:
  - id: bakery
    on: purchase
    per_unit: 1
    lines:
      when: {in: [fresh, {var: line.tags}]}
)");
}

TEST_CASE("a condition that reads no data is refused, saying what it always is", "[load][errors]") {
    auto with_when = [](const std::string& when) {
        return problems(header + "earn:\n  - id: base\n    on: purchase\n    fixed: 1\n    when: " +
                        when + "\n");
    };
    // Text is true as text: the rule would apply to every purchase.
    CHECK(with_when("\"transaction.local.weekday == 2\"")
              .find("p.yaml:10:11: earn[0].when: this condition reads no data, so it is always "
                    "true; a condition is a JsonLogic operation on the data") == 0);
    CHECK(with_when("\"transaction.local.weekday == 2\"").find("(text is not read as one)") !=
          std::string::npos);
    for (const char* never :
         {"false", "0", "[]", "{\"==\": [1, 2]}", "{and: [{\">=\": [3, 1]}, false]}"}) {
        INFO(never);
        CHECK(with_when(never).find("reads no data, so it is always false") != std::string::npos);
    }
    CHECK(with_when("").find("reads no data, so it is always false") != std::string::npos);
    CHECK(with_when("true").find("reads no data, so it is always true") != std::string::npos);
    // Reading the data in any way is enough, whatever the answer.
    CHECK(with_when("{\"!\": {missing: transaction.channel}}") == "ok");
    CHECK(with_when("{some: [{var: transaction.skus}, {\"==\": [{var: \"\"}, A1]}]}") == "ok");
    // Line selectors too.
    CHECK(problems(header + R"(earn:
  - id: bakery
    on: purchase
    per_unit: 1
    lines:
      when: true
)")
              .find("p.yaml:11:13: earn[0].lines.when: this condition reads no data") == 0);
}

TEST_CASE("a part of a condition that gives one answer whatever the data is refused where it is",
          "[load][errors]") {
    auto with_when = [](const std::string& when) {
        return problems(header + "earn:\n  - id: base\n    on: purchase\n    fixed: 1\n    when: " +
                        when + "\n");
    };
    // "app or web" with the second comparison left out: every purchase would pay.
    CHECK(with_when(R"({"or": [{"==": [{"var": "transaction.channel"}, "app"]}, "web"]})") ==
          "p.yaml:10:68: earn[0].when.or[1]: this part of the or reads no data, so it is always "
          "true (text is not read as a condition; a comparison such as {\"==\": [{\"var\": "
          "\"transaction.channel\"}, \"web\"]} is)\n");
    // A comparison that forgot its var: the rule would never pay.
    CHECK(
        with_when(
            R"({"and": [{"==": ["transaction.channel", "app"]}, {">=": [{"var": "transaction.total"}, 100]}]})") ==
        "p.yaml:10:20: earn[0].when.and[0]: this part of the and reads no data, so it is always "
        "false; a var is missing?\n");
    // Values the data never has.
    for (const char* never : {R"({"==": [{"var": "transaction.local.weekday"}, "Tuesday"]})",
                              R"({"==": [{"var": "transaction.local.weekday"}, 8]})",
                              R"({"===": [{"var": "transaction.local.weekday"}, "2"]})",
                              R"({">=": [{"var": "transaction.local.hour"}, 24]})",
                              R"({"==": [{"var": "transaction.local.month"}, 13]})",
                              R"({"==": [{"var": "transaction.currency"}, "EUR"]})",
                              R"({"in": [{"var": "transaction.currency"}, ["usd", "EUR"]]})"}) {
        INFO(never);
        CHECK(with_when(never).find("so this comparison is always false") != std::string::npos);
    }
    // Always true does no harm where it stands: the rule applies as it would without it.
    CHECK(with_when(R"({"<": [{"var": "transaction.local.hour"}, 24]})") == "ok");
    // What can go either way is fine: loose equality reads "2" as 2, as json-logic-js does.
    for (
        const char* fine :
        {R"({"==": [{"var": "transaction.local.weekday"}, "2"]})",
         R"({"<": [{"var": "transaction.local.hour"}, 12]})",
         R"({"==": [{"var": "transaction.currency"}, "USD"]})",
         R"({"or": [{"==": [{"var": "transaction.channel"}, "app"]}, {"==": [{"var": "transaction.channel"}, "web"]}]})",
         R"({"!": {"==": [{"var": "transaction.channel"}, "app"]}})"}) {
        INFO(fine);
        CHECK(with_when(fine) == "ok");
    }
    // An event rule's condition on its own event type.
    CHECK(problems(header + R"(events: [review_posted]
earn:
  - id: reviews
    on: event
    event: review_posted
    fixed: 5
    when: {"==": [{"var": "event.type"}, "review"]}
)") == "p.yaml:12:11: earn[0].when: event.type is always the rule's event, \"review_posted\", "
       "so this comparison is always false\n");
}

TEST_CASE("names given to missing are checked like those of var", "[load][errors]") {
    CHECK(problems(header + R"(earn:
  - id: base
    on: purchase
    fixed: 1
    when: {"!": {missing: transaction.chanel}}
)")
              .find("p.yaml:10:18: earn[0].when[\"!\"].missing: unknown data "
                    "\"transaction.chanel\"") == 0);
    CHECK(problems(header + R"(earn:
  - id: base
    on: purchase
    fixed: 1
    when: {"!": {missing_some: [1, [transaction.channel, member.teir]]}}
)")
              .find("earn[0].when[\"!\"].missing_some[1][1]: unknown data \"member.teir\"") !=
          std::string::npos);
}

TEST_CASE("the three errors of the issue are all reported, in order, with lines",
          "[load][errors]") {
    std::string text = sample_text();
    auto replace = [&](const std::string& from, const std::string& to) {
        auto at = text.find(from);
        REQUIRE(at != std::string::npos);
        text.replace(at, from.size(), to);
    };
    replace("  pending_days: 14", "  pending_dayz: 14");
    replace("    rate: {points: 2, per: 100}",
            "    rate: {points: 2, per: 100}\n    active: {from: 2026-02-30}");
    replace("{\"==\": [{\"var\": \"transaction.local.weekday\"}, 2]}",
            "{\"is_tuesday\": [{\"var\": \"transaction.local.weekday\"}]}");
    auto loaded = load_program(text, "program.yaml");
    REQUIRE_FALSE(loaded);
    REQUIRE(loaded.error().size() == 3);
    CHECK(loaded.error()[0].at.line == 14);
    CHECK(loaded.error()[0].path == "points.pending_dayz");
    CHECK(loaded.error()[1].at.line == 52);
    CHECK(loaded.error()[1].path == "earn[0].active.from");
    CHECK(loaded.error()[2].at.line == 65);
    CHECK(loaded.error()[2].path == "earn[1].when.is_tuesday");
}

TEST_CASE("syntax errors carry their position", "[load][errors]") {
    CHECK(problems("program:\n  id: [shop\n") ==
          "p.yaml:2:7: not valid YAML or JSON: this [ is never closed (the file ends without its "
          "])\n");
    CHECK(problems("{\"program\": {\"id\": \"shop\",}\n", "p.json").find("p.json:") == 0);
    CHECK(problems("", "empty.yaml") ==
          "empty.yaml: the file is empty; a program needs at least the keys program and earn\n");
    CHECK(problems("- 1\n- 2\n") ==
          "p.yaml:1:1: expected a mapping of keys to values, found a list\n");
}

TEST_CASE("an alias bomb is refused instead of expanded", "[load][errors]") {
    std::string bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n";
    char previous = 'a';
    for (char name = 'b'; name <= 'h'; ++name) {
        bomb += std::string(1, name) + ": &" + name + " [";
        for (int i = 0; i < 10; ++i) {
            bomb += std::string(i ? ", " : "") + "*" + previous;
        }
        bomb += "]\n";
        previous = name;
    }
    auto loaded = load_program(bomb, "bomb.yaml");
    REQUIRE_FALSE(loaded);
    REQUIRE(loaded.error().size() == 1); // nothing else is validated in such a document
    CHECK(to_string(loaded.error().front()).find("more than 50000 values") != std::string::npos);
}

TEST_CASE("a mistake brought in by an alias stands at the alias, naming where it is written",
          "[load][errors]") {
    // Lines: header 1-5, `earn:` 6, a 7-10, b 11-14, c 15-17.
    CHECK(problems(header + R"(earn:
  - id: a
    on: purchase
    when: &big {">=": [{var: total}, 500, 3]}
    fixed: 1
  - id: b
    on: purchase
    when: *big
    rate: &rate {points: 1, per: 100, bogus: 2}
  - id: c
    on: purchase
    rate: *rate
)") == "p.yaml:9:17: earn[0].when[\">=\"]: \">=\" expects exactly 2 arguments, found 3\n"
       "p.yaml:13:11: earn[1].when[\">=\"]: \">=\" expects exactly 2 arguments, found 3 (the "
       "alias here brings in the value written at line 9, column 17)\n"
       "p.yaml:14:39: earn[1].rate.bogus: unknown key \"bogus\"; expected one of: points, "
       "per\n"
       "p.yaml:17:11: earn[2].rate.bogus: unknown key \"bogus\"; expected one of: points, "
       "per (the alias here brings in the value written at line 14, column 39)\n");

    // An anchor in a part that is not read (a repeated key's value) is still counted, and so is
    // an alias used as a key, so the aliases after them are matched to the right place.
    CHECK(problems(header + R"(earn:
  - id: a
    &on on: purchase
    fixed: &one 1
    fixed: &two {points: 1}
  - id: b
    *on : purchase
    fixed: *one
    limits: {per_member: [{points: *two, period: calendar_month}]}
)") == "p.yaml:10:5: earn[0].fixed: duplicate key \"fixed\"; it was already given at line 9\n"
       "p.yaml:14:36: earn[1].limits.per_member[0].points: expected a whole number from 1 "
       "to 1000000000, found a mapping (the alias here brings in the value written at line "
       "10, column 12)\n");

    // A problem the file's reading finds (a repeated key) stands at each alias too.
    CHECK(problems(header + R"(earn:
  - id: a
    on: purchase
    fixed: &c {points: 1, points: 2}
  - id: b
    on: purchase
    fixed: *c
)") == "p.yaml:9:12: earn[0].fixed: expected a whole number from 1 to 1000000000, found a "
       "mapping\n"
       "p.yaml:9:27: earn[0].fixed.points: duplicate key \"points\"; it was already given at "
       "line 9\n"
       "p.yaml:12:12: earn[1].fixed.points: duplicate key \"points\"; it was already given "
       "at line 9 (the alias here brings in the value written at line 9, column 27)\n"
       "p.yaml:12:12: earn[1].fixed: expected a whole number from 1 to 1000000000, found a "
       "mapping (the alias here brings in the value written at line 9, column 12)\n");

    CHECK(problems(header + R"(earn:
  - &a
    id: a
    on: purchase
    fixed: 1
  - <<: *a
    id: b
)") == "p.yaml:11:5: earn[1][\"<<\"]: YAML merge keys (<<) are not supported: write the "
       "keys out, or reuse a whole value with an alias (*name)\n"
       "p.yaml:11:5: earn[1]: missing required key \"on\"\n"
       "p.yaml:11:5: earn[1]: a rule must say what it earns: expected one of the keys rate, "
       "per_unit, fixed or multiply\n");
}

TEST_CASE("limits count times or points in a period", "[load][errors]") {
    CHECK(problems(header + R"(earn:
  - id: base
    on: purchase
    fixed: 1
    limits:
      per_member:
        - {times: 1, points: 10, period: calendar_month}
        - {times: 1, period: fortnight}
        - {times: 1}
)") == "p.yaml:12:11: earn[0].limits.per_member[0]: a limit counts either times or points: "
       "expected exactly one of them\n"
       "p.yaml:13:30: earn[0].limits.per_member[1].period: expected one of day, calendar_week, "
       "calendar_month, calendar_year, lifetime or {rolling_days: N}, found \"fortnight\"\n"
       "p.yaml:14:11: earn[0].limits.per_member[2]: missing required key \"period\"\n");
    auto p = load_ok(header + R"(earn:
  - id: base
    on: purchase
    fixed: 1
    limits:
      per_transaction: 100
      budget: 100000
      per_member:
        - {points: 500, period: {rolling_days: 30}}
)");
    const rule_limits& l = p->earn[0].limits;
    CHECK(l.per_transaction == 100);
    CHECK(l.budget == 100000);
    CHECK(l.per_member.at(0).points == 500);
    CHECK(l.per_member.at(0).per.kind == period_kind::rolling_days);
    CHECK(l.per_member.at(0).per.days == 30);
}

TEST_CASE("expiry policies take the keys that fit them", "[load][errors]") {
    CHECK(problems(header + base_rule + R"(points:
  expiry: {policy: after, days: 30, months: 6}
)") == "p.yaml:11:11: points.expiry: policy after needs exactly one of days or months\n");
    CHECK(problems(header + base_rule + R"(points:
  expiry: {policy: fixed_date, date: 02-29}
)") == "p.yaml:11:38: points.expiry.date: expected a yearly date MM-DD that exists every year, "
       "such as 12-31, found \"02-29\"\n");
    auto p = load_ok(header + base_rule + "points:\n  expiry: {policy: fixed_date, date: 12-31}\n");
    CHECK(p->points.expiry.date.month == 12);
    CHECK(p->points.expiry.date.day == 31);
    auto idle =
        load_ok(header + base_rule + "points:\n  expiry: {policy: inactivity, months: 18}\n");
    CHECK(idle->points.expiry.policy == expiry_policy::inactivity);
    CHECK(idle->points.expiry.months == 18);
}

TEST_CASE("an expiry counted from earning that a pending period outlasts is refused",
          "[load][errors]") {
    // 14 days pending, 14 days to expire: available and expired at the same instant.
    CHECK(problems(header + base_rule + R"(points:
  pending_days: 14
  expiry: {policy: after, days: 14}
)") == "p.yaml:11:17: points.pending_days: points pending for 14 days would expire before they "
       "could be spent: points.expiry.days is 14, counted from when they are earned; make the "
       "pending period shorter than the expiry\n");
    // A rule's own pending period, against months: a month can be 28 days (31 January to 28
    // February).
    CHECK(problems(header + R"(earn:
  - id: base
    on: purchase
    rate: {points: 1, per: 100}
    pending_days: 28
points:
  expiry: {policy: after, months: 1, round_to: end_of_month}
)") == "p.yaml:10:19: earn[0].pending_days: points pending for 28 days would expire before they "
       "could be spent: points.expiry.months is 1 (a month can be 28 days), counted from when "
       "they are earned; make the pending period shorter than the expiry\n");
    // Inactivity counts from the member's last activity, and the purchase is that activity: a
    // member who bought once would lose the points while they were pending.
    CHECK(problems(header + base_rule + R"(points:
  pending_days: 30
  expiry: {policy: inactivity, days: 30}
)") == "p.yaml:11:17: points.pending_days: points pending for 30 days would expire before they "
       "could be spent if the member did nothing else: points.expiry.days is 30, counted from "
       "the member's last activity, which the purchase itself is; make the pending period "
       "shorter than the expiry\n");
    // One day shorter is fine; so is any pending period under a yearly date (counted from when
    // points become available).
    load_ok(header + base_rule +
            "points:\n  pending_days: 13\n  expiry: {policy: after, days: 14}\n");
    load_ok(header + base_rule +
            "points:\n  pending_days: 29\n  expiry: {policy: inactivity, days: 30}\n");
    load_ok(header + base_rule +
            "points:\n  pending_days: 27\n  expiry: {policy: inactivity, months: 1}\n");
    load_ok(header + base_rule +
            "points:\n  pending_days: 27\n  expiry: {policy: after, months: 1}\n");
    load_ok(header + base_rule +
            "points:\n  pending_days: 400\n  expiry: {policy: fixed_date, date: 12-31}\n");
}

TEST_CASE("line selectors that select nothing are refused", "[load][errors]") {
    // An empty list was read as no criterion and selected every line.
    CHECK(problems(header + R"(earn:
  - id: bakery
    on: purchase
    per_unit: 1
    lines:
      categories: []
)") == "p.yaml:11:19: earn[0].lines.categories: expected at least one value; an empty list "
       "selects no line (remove categories to select by the rest)\n");
    // Excluded lines never earn, so naming them selects nothing.
    CHECK(problems(header + R"(spend:
  exclude:
    categories: [gift_card]
    skus: [GC-50]
earn:
  - id: cards
    on: purchase
    per_unit: 1
    lines:
      categories: [bakery, gift_card]
      skus: [GC-50]
)") == "p.yaml:15:28: earn[0].lines.categories[1]: category \"gift_card\" is excluded from spend "
       "(spend.exclude.categories), so its lines never earn from this rule\n"
       "p.yaml:16:14: earn[0].lines.skus[0]: SKU \"GC-50\" is excluded from spend "
       "(spend.exclude.skus), so its lines never earn from this rule\n");
}

TEST_CASE("conditions on what a member cannot have yet, or on excluded lines, are refused",
          "[load][errors]") {
    // At enrollment nothing has happened; a referral or first-purchase rule runs before the
    // first purchase; an excluded line is never read by a line condition. Each of these
    // comparisons would make its rule pay nobody, without a word.
    CHECK(problems(header + R"(spend:
  exclude:
    categories: [gift_card]
    skus: [GC-50]
tiers:
  levels:
    - {id: green, threshold: 0}
    - {id: gold, threshold: 500}
earn:
  - id: welcome
    on: enrollment
    fixed: 100
    when: {">": [{var: member.lifetime.purchases}, 0]}
  - id: welcome_gold
    on: enrollment
    fixed: 100
    when: {"==": [{var: member.tier}, gold]}
  - id: welcome_green
    on: enrollment
    fixed: 100
    when: {"==": [{var: member.tier}, green]}
  - id: friend
    on: referral
    fixed: 100
    when: {">=": [{var: member.lifetime.spend}, 5000]}
  - id: first
    on: purchase
    fixed: 100
    first_purchase: true
    when: {and: [{">=": [{var: member.lifetime.purchases}, 1]}, {"==": [{var: transaction.channel}, app]}]}
  - id: cards
    on: purchase
    per_unit: 1
    lines:
      when: {or: [{"==": [{var: line.category}, gift_card]}, {in: [{var: line.sku}, [A1, GC-50]]}]}
  - id: later
    on: purchase
    fixed: 5
    when: {">": [{var: member.lifetime.purchases}, 0]}
)") == "p.yaml:18:11: earn[0].when: member.lifetime.purchases is always 0 when a member enrolls "
       "(nothing has happened yet), so this comparison is always false\n"
       "p.yaml:22:11: earn[1].when: member.tier is always \"green\" when a member enrolls (the "
       "lowest tier, where members start), so this comparison is always false\n"
       "p.yaml:30:11: earn[3].when: member.lifetime.spend is always 0 for a referral rule (it "
       "runs on the friend's first purchase, before it), so this comparison is always false\n"
       "p.yaml:35:18: earn[4].when.and[0]: member.lifetime.purchases is always 0 for a "
       "first_purchase rule (it runs before the member's first purchase), so this comparison "
       "is always false\n"
       "p.yaml:40:49: earn[5].lines.when.or[0][\"==\"][1]: \"gift_card\" is excluded from "
       "spend (spend.exclude.categories), so no line this condition reads has it\n"
       "p.yaml:40:90: earn[5].lines.when.or[1].in[1][1]: \"GC-50\" is excluded from spend "
       "(spend.exclude.skus), so no line this condition reads has it\n");
}

TEST_CASE("multipliers that would count twice, take points or never apply are refused",
          "[load][errors]") {
    const std::string events = "events: [photo, review_posted]\n";
    auto with = [&](const std::string& multiply, const std::string& extra = "") {
        return problems(header + events + base_rule + extra +
                        "  - id: boost\n    on: purchase\n    multiply: " + multiply + "\n");
    };
    CHECK(with("{rules: [base, base], percent: 200}") ==
          "p.yaml:13:30: earn[1].multiply.rules[1]: \"base\" is listed twice\n");
    CHECK(with("{rules: [base], percent: 50}") ==
          "p.yaml:13:40: earn[1].multiply.percent: expected a whole number from 101 to 100000, "
          "found 50\n");
    CHECK(with("{rules: [base], percent: 100}").find("found 100") != std::string::npos);
    CHECK(with("{rules: [base], percent: 101}") == "ok");
    CHECK(problems(header + events + R"(earn:
  - id: reviews
    on: event
    event: review_posted
    fixed: 10
  - id: boost
    on: event
    event: photo
    multiply: {rules: [reviews], percent: 200}
)") == "p.yaml:15:24: earn[1].multiply.rules[0]: \"reviews\" fires on event \"review_posted\" "
       "and this multiplier on \"photo\", so it never applies; expected the same event:\n");
}

TEST_CASE("tier entry benefits that would never be given or ignore their tiers are refused",
          "[load][errors]") {
    auto with = [&](const std::string& benefit) {
        return problems(header + green_gold + base_rule + "benefits:\n  - id: welcome\n" + benefit);
    };
    CHECK(with("    trigger: {tier_entry: gold}\n    grant: {points: 50}\n") == "ok");
    CHECK(with("    trigger: {tier_entry: green}\n    grant: {points: 50}\n") ==
          "p.yaml:16:27: benefits[0].trigger.tier_entry: \"green\" is the lowest tier, where "
          "members start: nobody enters it, so this benefit would never be given\n");
    CHECK(with("    trigger: {tier_entry: gold}\n    tiers: [green]\n    grant: {points: 50}\n") ==
          "p.yaml:17:5: benefits[0].tiers: tiers does not apply to a tier_entry benefit: it goes "
          "to every member entering tier \"gold\"\n");
}

TEST_CASE("rules that can never pay are refused", "[load][errors]") {
    CHECK(problems(header + R"(earn:
  - id: second
    on: purchase
    fixed: 10
    first_purchase: true
    nth_purchase: {n: 2, period: lifetime}
)") == "p.yaml:11:5: earn[0].nth_purchase: first_purchase and nth_purchase together: a rule "
       "pays on the first purchase or on the nth, not both; keep one\n");
    CHECK(problems(header + R"(earn:
  - id: base
    on: purchase
    rate: {points: 0, per: 100}
)") == "p.yaml:9:20: earn[0].rate.points: a rate of 0 points earns nothing in every tier; "
       "expected more than 0, or tier_rates giving some tier more\n");
    CHECK(problems(header + green_gold + R"(earn:
  - id: base
    on: purchase
    rate: {points: 0, per: 100}
    tier_rates:
      gold: {points: 2, per: 100}
)") == "ok");
    // A window whose ends fall in the hour the clocks skip (New York, 2026-03-08) is empty.
    CHECK(problems(header + R"(earn:
  - id: base
    on: purchase
    fixed: 1
    active: {from: "2026-03-08T02:30", until: "2026-03-08T04:00"}
)") == "p.yaml:10:20: earn[0].active.from: \"2026-03-08T02:30\" does not exist in "
       "America/New_York: the clocks skip it (daylight saving time)\n");
}

TEST_CASE("a tier window that is none of the forms lists the rolling one too", "[load][errors]") {
    CHECK(problems(header + base_rule + R"(tiers:
  window: rolling_12_months
  levels:
    - {id: green, threshold: 0}
)") == "p.yaml:11:11: tiers.window: expected one of calendar_year, enrollment_year, lifetime or "
       "{rolling_months: N}, found \"rolling_12_months\"\n");
}

TEST_CASE("late posting is unbounded unless the program bounds it in days", "[load][errors]") {
    CHECK_FALSE(load_ok(header + base_rule)->late_posting.max_days.has_value());
    CHECK(load_ok(header + base_rule + "late_posting:\n  max_days: 60\n")->late_posting.max_days ==
          60);
    CHECK(load_ok(sample_text())->late_posting.max_days == 60);
    CHECK(problems(header + base_rule + "late_posting:\n  max_days: 0\n") ==
          "p.yaml:11:13: late_posting.max_days: expected a whole number from 1 to 36500, found "
          "0\n");
    CHECK(problems(header + base_rule + "late_posting: {}\n") ==
          "p.yaml:10:15: late_posting: missing required key \"max_days\"\n");
    CHECK(problems(header + base_rule + "late_posting:\n  max_day: 60\n") ==
          "p.yaml:11:3: late_posting.max_day: unknown key \"max_day\"; expected one of: "
          "max_days; did you mean \"max_days\"?\n"
          "p.yaml:11:3: late_posting: missing required key \"max_days\"\n");
}

TEST_CASE("member.tier compared with a tier the program does not have is refused",
          "[load][errors]") {
    auto with_when = [&](const std::string& when) {
        return problems(header + green_gold +
                        "earn:\n  - id: base\n    on: purchase\n    fixed: 1\n" +
                        "    when: " + when + "\n");
    };
    CHECK(with_when(R"({"==": [{var: member.tier}, gold]})") == "ok");
    CHECK(with_when(R"({in: [{var: member.tier}, [green, gold]]})") == "ok");
    CHECK(with_when(R"({"!==": [platinum, {var: member.tier}]})") ==
          "p.yaml:14:20: earn[0].when[\"!==\"][0]: unknown tier \"platinum\"; expected one of: "
          "green, gold (member.tier is always one of them, as text)\n");
    CHECK(with_when(R"({and: [{in: [{var: member.tier}, [gold, Gold]]}]})") ==
          "p.yaml:14:51: earn[0].when.and[0].in[1][1]: unknown tier \"Gold\"; expected one of: "
          "green, gold (member.tier is always one of them, as text)\n");
}

TEST_CASE("member.tier compared with a number or ordered by < and > is refused", "[load][errors]") {
    // "Silver and above" written as >= silver compares the ids as text: gold < silver, so gold
    // members would not earn. A number is never a tier id unless one is spelt with its digits.
    auto with_when = [&](const std::string& when) {
        return problems(header + "tiers:\n  levels:\n    - {id: green, threshold: 0}\n" +
                        "    - {id: silver, threshold: 500}\n    - {id: gold, threshold: 1000}\n" +
                        "earn:\n  - id: base\n    on: purchase\n    fixed: 1\n" +
                        "    when: " + when + "\n");
    };
    CHECK(with_when(R"({">=": [{var: member.tier}, silver]})") ==
          "p.yaml:15:18: earn[0].when[\">=\"]: member.tier is a tier id, and >= compares ids as "
          "text, not by the tiers' order; for the tiers from \"silver\" up write "
          "{\"in\":[{\"var\":\"member.tier\"},[\"silver\",\"gold\"]]}\n");
    CHECK(
        with_when(R"({"<": [{var: member.tier}, gold]})") ==
        "p.yaml:15:17: earn[0].when[\"<\"]: member.tier is a tier id, and < compares ids as text, "
        "not by the tiers' order; for the tiers below \"gold\" write "
        "{\"in\":[{\"var\":\"member.tier\"},[\"green\",\"silver\"]]}\n");
    // With the tier on the right, "green < member.tier" is the tiers above green.
    CHECK(
        with_when(R"({"<": [green, {var: member.tier}]})") ==
        "p.yaml:15:17: earn[0].when[\"<\"]: member.tier is a tier id, and < compares ids as text, "
        "not by the tiers' order; for the tiers above \"green\" write "
        "{\"in\":[{\"var\":\"member.tier\"},[\"silver\",\"gold\"]]}\n");
    CHECK(
        with_when(R"({">": [{var: member.tier}, gold]})") ==
        "p.yaml:15:17: earn[0].when[\">\"]: member.tier is a tier id, and > compares ids as text, "
        "not by the tiers' order; no tier is above \"gold\"\n");
    CHECK(with_when(R"({"<=": [{var: member.tier}, 2]})") ==
          "p.yaml:15:18: earn[0].when[\"<=\"]: member.tier is a tier id, and <= compares ids as "
          "text, "
          "not by the tiers' order; list the tiers meant with {\"in\": [{\"var\": "
          "\"member.tier\"}, [...]]}\n");
    CHECK(with_when(R"({"==": [{var: member.tier}, 2]})") ==
          "p.yaml:15:39: earn[0].when[\"==\"][1]: unknown tier \"2\"; expected one of: green, "
          "silver, gold (member.tier is always one of them, as text)\n");
    CHECK(with_when(R"({"!=": [{var: member.tier}, null]})") ==
          "p.yaml:15:39: earn[0].when[\"!=\"][1]: unknown tier \"null\"; expected one of: "
          "green, silver, gold (member.tier is always one of them, as text)\n");
    CHECK(with_when(R"({in: [{var: member.tier}, [silver, gold]]})") == "ok");
}

TEST_CASE("the API guide's examples carry the sample program's content hash", "[load][docs]") {
    // A reader compares the hash of their own server with the guide's: a stale one says the
    // guide describes another program.
    std::ifstream in(std::string(LOYALTY_SOURCE_DIR) + "/docs/api.md");
    REQUIRE(in);
    std::ostringstream text;
    text << in.rdbuf();
    const std::string guide = text.str();
    const std::string& hash = loyalty::test::sample_program().content_hash();
    std::regex full("[0-9a-f]{64}");
    int seen = 0;
    for (auto it = std::sregex_iterator(guide.begin(), guide.end(), full);
         it != std::sregex_iterator(); ++it, ++seen) {
        CHECK(it->str() == hash);
    }
    CHECK(seen >= 3);
    // Shortened, beside the sample's name.
    std::regex shortened(R"re("content_hash": "([0-9a-f]{8})…", "name": "Bean & Leaf Rewards")re");
    int short_seen = 0;
    for (auto it = std::sregex_iterator(guide.begin(), guide.end(), shortened);
         it != std::sregex_iterator(); ++it, ++short_seen) {
        CHECK((*it)[1].str() == hash.substr(0, 8));
    }
    CHECK(short_seen >= 2);
}

TEST_CASE("tiers on qualifying points with no rule that qualifies are an error", "[load][errors]") {
    std::string text = loyalty::test::sample_text();
    for (auto at = text.find("    on: "); at != std::string::npos;
         at = text.find("    on: ", at + 1)) {
        text.insert(at, "    qualifying: false\n");
        at += 22;
    }
    auto loaded = load_program(text, "p.yaml");
    REQUIRE_FALSE(loaded);
    REQUIRE(loaded.error().size() == 1);
    CHECK(loaded.error()[0].path == "tiers.metric");
    CHECK(loaded.error()[0].message ==
          "the tiers are measured on qualifying points, and every earn rule says qualifying: "
          "false, so no member can reach Gold; let some rules qualify, or measure on "
          "eligible_spend or purchases");
    // One rule that qualifies is enough.
    auto first = text.find("    qualifying: false\n");
    text.erase(first, 22);
    CHECK(load_program(text, "p.yaml"));
}

TEST_CASE("settings that a program's other settings make meaningless are errors",
          "[load][errors]") {
    // A payment minimum between two steps: the least a member can use is the next step.
    auto payment = load_program(
        loyalty::test::sample_text_with("  step: 100\n", "  step: 100\n  minimum: 150\n"),
        "p.yaml");
    REQUIRE_FALSE(payment);
    CHECK(payment.error()[0].path == "payment.minimum");
    CHECK(payment.error()[0].message ==
          "points are used in steps of 100, so the least a member can use is 200, not 150; "
          "expected a multiple of step");
    CHECK(load_program(
        loyalty::test::sample_text_with("  step: 100\n", "  step: 100\n  minimum: 200\n"),
        "p.yaml"));

    // A downgrade rule or grace days for a status that never ends.
    auto tiers =
        load_program(loyalty::test::sample_text_with("  status_months: 12\n",
                                                     "  downgrade: one_level\n  grace_days: 30\n"),
                     "p.yaml");
    REQUIRE_FALSE(tiers);
    REQUIRE(tiers.error().size() == 2);
    CHECK(tiers.error()[0].path == "tiers.downgrade");
    CHECK(tiers.error()[1].path == "tiers.grace_days");
    CHECK(tiers.error()[1].message ==
          "grace_days applies when a status ends, and without status_months (or with 0) a status "
          "never ends; expected status_months too, or no grace_days");

    // A category with a space at its end, or a zero-width space inside.
    for (const char* category : {"\"bakery \"", "\"bak\\u200Bery\""}) {
        INFO(category);
        auto lines =
            load_program(loyalty::test::sample_text_with(
                             "categories: [bakery]", std::string("categories: [") + category + "]"),
                         "p.yaml");
        REQUIRE_FALSE(lines);
        CHECK(lines.error()[0].path == "earn[2].lines.categories[0]");
        CHECK(lines.error()[0].message.find("so it never equals what a till sends") !=
              std::string::npos);
    }
}
