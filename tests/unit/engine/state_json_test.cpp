// The ledger's storage format for member states (state_json.hpp): every field comes back as it
// was written, and malformed input is refused with the field's path.
#include "loyalty/engine/event_json.hpp"
#include "loyalty/engine/state_json.hpp"
#include "support/make_lot.hpp"
#include "support/times.hpp"
#include "support/timestamp_text.hpp"

#include <catch2/catch.hpp>
#include <cstdint>
#include <limits>

using loyalty::test::utc;

namespace {

using namespace date::literals;
using namespace loyalty::engine;
using loyalty::test::make_lot;
using nlohmann::json;

// Above 2^53: lost if anything went through a double.
constexpr std::int64_t huge = 9'007'199'254'740'993;

purchase sample_purchase() {
    purchase p;
    p.transaction_id = "t-100";
    p.member_id = "m-42";
    p.store_id = "s-7";
    p.channel = "online";
    p.currency = "EUR";
    p.occurred_at = utc(2026_y / 11 / 24, 15);
    p.lines.push_back({"l1", "SKU-1", "coffee", 3, 450, 50, {"organic", "promo"}});
    p.lines.push_back({"l2", "SKU-2", "tea", 1, 1200, 0, {}});
    return p;
}

// A member with every field, and every optional both set and empty somewhere.
member_state full_member() {
    member_state m;
    m.id = "m-42";
    m.enrolled_at = utc(2025_y / 1 / 5, 9, 0, 7);
    m.birthday = 1990_y / 5 / 17;
    m.referred_by = "m-7";

    m.tier.tier = "gold";
    m.tier.since = utc(2026_y / 2 / 1);
    m.tier.valid_until = utc(2027_y / 2 / 1);

    m.lots.push_back(make_lot(3, 1350, 1000, utc(2026_y / 11 / 24, 15), utc(2027_y / 12 / 1),
                              "base_rate", true, true));
    m.lots.push_back(make_lot(4, 500, 500, utc(2026_y / 11 / 24, 15), std::nullopt, "coffee_bonus",
                              false, false));
    m.lots.push_back(make_lot(5, huge, huge - 1, utc(2026_y / 12 / 1, 23, 0, 59),
                              utc(2028_y / 1 / 1), "adjustment-9", true, false));
    m.lots.back().expired_points = 7;

    m.metric.push_back({utc(2026_y / 11 / 24, 15), 1350, "t-100"});
    m.metric.push_back({utc(2026_y / 11 / 30, 10), -450, "r-1"});

    m.usage.push_back({"coffee_bonus", utc(2026_y / 11 / 24, 15), 2, 500});
    m.usage.push_back({"welcome", utc(2025_y / 1 / 5, 9), 1, 0});

    m.vouchers.push_back({"V-000001", "free_coffee", utc(2026_y / 11 / 25, 8),
                          utc(2026_y / 12 / 25, 8), "red-1", true, false,
                          utc(2026_y / 11 / 30, 12, 5), "t-77", "s-3"});
    m.vouchers.push_back({"V-000002", "birthday_cake", utc(2026_y / 5 / 17), utc(2026_y / 6 / 17),
                          "birthday", false, true, std::nullopt, ""});

    m.purchase_times = {utc(2026_y / 11 / 24, 15), utc(2026_y / 11 / 28, 11, 0, 30)};

    m.lifetime_purchases = 17;
    m.lifetime_spend = huge;
    m.lifetime_points = 24'680;
    m.last_activity = utc(2026_y / 11 / 28, 11, 0, 30);
    m.shortfall = 120;

    purchase_record pr;
    pr.request = sample_purchase();
    pr.lines.push_back({"l1", 3, 1300, {{"base_rate", 1300}, {"coffee_bonus", 300}}});
    pr.lines.push_back({"l2", 1, 1200, {{"base_rate", 50}}});
    pr.awards.push_back({"base_rate", 1350, 3, true, true, std::nullopt});
    pr.awards.push_back({"big_basket", 500, 4, false, false, 2000});
    pr.returned_quantity = {{"l1", 1}, {"l2", 1}};
    pr.clawed_back = {"big_basket"};
    pr.return_ids = {"r-1", "r-2"};
    m.purchases.push_back(pr);

    purchase_record plain;
    plain.request = sample_purchase();
    plain.request.transaction_id = "t-101";
    plain.request.channel = "";
    plain.request.lines.pop_back();
    m.purchases.push_back(plain);

    m.redemptions.push_back({"red-1",
                             "free_coffee",
                             350,
                             {{3, 300}, {5, 50}},
                             "V-000001",
                             utc(2026_y / 11 / 25, 8),
                             false,
                             std::nullopt});
    m.redemptions.push_back(
        {"pay-1", "", 200, {{3, 200}}, std::nullopt, utc(2026_y / 11 / 26, 12), true, 200});

    m.budget_used = {{"coffee_bonus", 10'500}, {"launch_bonus", huge}};
    m.next_lot_id = 6;
    m.next_voucher_number = 3;
    return m;
}

void check_same(const purchase& a, const purchase& b) {
    CHECK(a.transaction_id == b.transaction_id);
    CHECK(a.member_id == b.member_id);
    CHECK(a.store_id == b.store_id);
    CHECK(a.channel == b.channel);
    CHECK(a.currency == b.currency);
    CHECK(a.occurred_at == b.occurred_at);
    REQUIRE(a.lines.size() == b.lines.size());
    for (std::size_t i = 0; i < a.lines.size(); ++i) {
        INFO("line " << i);
        CHECK(a.lines[i].line_id == b.lines[i].line_id);
        CHECK(a.lines[i].sku == b.lines[i].sku);
        CHECK(a.lines[i].category == b.lines[i].category);
        CHECK(a.lines[i].quantity == b.lines[i].quantity);
        CHECK(a.lines[i].unit_price == b.lines[i].unit_price);
        CHECK(a.lines[i].discount == b.lines[i].discount);
        CHECK(a.lines[i].tags == b.lines[i].tags);
    }
}

void check_same(const lot& a, const lot& b) {
    CHECK(a.id == b.id);
    CHECK(a.earned == b.earned);
    CHECK(a.remaining == b.remaining);
    CHECK(a.earned_at == b.earned_at);
    CHECK(a.available_at == b.available_at);
    CHECK(a.expires_at == b.expires_at);
    CHECK(a.cause == b.cause);
    CHECK(a.qualifying == b.qualifying);
    CHECK(a.matured == b.matured);
    CHECK(a.expired_points == b.expired_points);
}

void check_same(const voucher& a, const voucher& b) {
    CHECK(a.id == b.id);
    CHECK(a.reward_id == b.reward_id);
    CHECK(a.issued_at == b.issued_at);
    CHECK(a.valid_until == b.valid_until);
    CHECK(a.cause == b.cause);
    CHECK(a.redeemed == b.redeemed);
    CHECK(a.cancelled == b.cancelled);
    CHECK(a.used_at == b.used_at);
    CHECK(a.used_transaction_id == b.used_transaction_id);
    CHECK(a.used_store_id == b.used_store_id);
}

void check_same(const purchase_record& a, const purchase_record& b) {
    check_same(a.request, b.request);
    REQUIRE(a.lines.size() == b.lines.size());
    for (std::size_t i = 0; i < a.lines.size(); ++i) {
        INFO("allocation " << i);
        CHECK(a.lines[i].line_id == b.lines[i].line_id);
        CHECK(a.lines[i].quantity == b.lines[i].quantity);
        CHECK(a.lines[i].eligible_spend == b.lines[i].eligible_spend);
        CHECK(a.lines[i].points_by_rule == b.lines[i].points_by_rule);
    }
    REQUIRE(a.awards.size() == b.awards.size());
    for (std::size_t i = 0; i < a.awards.size(); ++i) {
        INFO("award " << i);
        CHECK(a.awards[i].rule_id == b.awards[i].rule_id);
        CHECK(a.awards[i].points == b.awards[i].points);
        CHECK(a.awards[i].lot_id == b.awards[i].lot_id);
        CHECK(a.awards[i].qualifying == b.awards[i].qualifying);
        CHECK(a.awards[i].per_line == b.awards[i].per_line);
        CHECK(a.awards[i].min_spend == b.awards[i].min_spend);
    }
    CHECK(a.returned_quantity == b.returned_quantity);
    CHECK(a.clawed_back == b.clawed_back);
    CHECK(a.return_ids == b.return_ids);
}

void check_same(const redemption_record& a, const redemption_record& b) {
    CHECK(a.redemption_id == b.redemption_id);
    CHECK(a.reward_id == b.reward_id);
    CHECK(a.points == b.points);
    REQUIRE(a.draws.size() == b.draws.size());
    for (std::size_t i = 0; i < a.draws.size(); ++i) {
        CHECK(a.draws[i].lot_id == b.draws[i].lot_id);
        CHECK(a.draws[i].points == b.draws[i].points);
    }
    CHECK(a.voucher_id == b.voucher_id);
    CHECK(a.at == b.at);
    CHECK(a.cancelled == b.cancelled);
}

void check_same(const member_state& a, const member_state& b) {
    CHECK(a.id == b.id);
    CHECK(a.enrolled_at == b.enrolled_at);
    CHECK(a.birthday == b.birthday);
    CHECK(a.referred_by == b.referred_by);
    CHECK(a.tier.tier == b.tier.tier);
    CHECK(a.tier.since == b.tier.since);
    CHECK(a.tier.valid_until == b.tier.valid_until);
    REQUIRE(a.lots.size() == b.lots.size());
    for (std::size_t i = 0; i < a.lots.size(); ++i) {
        INFO("lot " << i);
        check_same(a.lots[i], b.lots[i]);
    }
    REQUIRE(a.metric.size() == b.metric.size());
    for (std::size_t i = 0; i < a.metric.size(); ++i) {
        INFO("metric " << i);
        CHECK(a.metric[i].at == b.metric[i].at);
        CHECK(a.metric[i].amount == b.metric[i].amount);
        CHECK(a.metric[i].cause == b.metric[i].cause);
    }
    REQUIRE(a.usage.size() == b.usage.size());
    for (std::size_t i = 0; i < a.usage.size(); ++i) {
        INFO("usage " << i);
        CHECK(a.usage[i].rule_id == b.usage[i].rule_id);
        CHECK(a.usage[i].at == b.usage[i].at);
        CHECK(a.usage[i].times == b.usage[i].times);
        CHECK(a.usage[i].points == b.usage[i].points);
    }
    REQUIRE(a.vouchers.size() == b.vouchers.size());
    for (std::size_t i = 0; i < a.vouchers.size(); ++i) {
        INFO("voucher " << i);
        check_same(a.vouchers[i], b.vouchers[i]);
    }
    CHECK(a.purchase_times == b.purchase_times);
    CHECK(a.lifetime_purchases == b.lifetime_purchases);
    CHECK(a.lifetime_spend == b.lifetime_spend);
    CHECK(a.lifetime_points == b.lifetime_points);
    CHECK(a.last_activity == b.last_activity);
    CHECK(a.shortfall == b.shortfall);
    REQUIRE(a.purchases.size() == b.purchases.size());
    for (std::size_t i = 0; i < a.purchases.size(); ++i) {
        INFO("purchase " << i);
        check_same(a.purchases[i], b.purchases[i]);
    }
    REQUIRE(a.redemptions.size() == b.redemptions.size());
    for (std::size_t i = 0; i < a.redemptions.size(); ++i) {
        INFO("redemption " << i);
        check_same(a.redemptions[i], b.redemptions[i]);
    }
    CHECK(a.budget_used == b.budget_used);
    CHECK(a.next_lot_id == b.next_lot_id);
    CHECK(a.next_voucher_number == b.next_voucher_number);
}

// The error state_from_json gives for the full member's JSON after `change`.
template <class F>
std::string state_error(F change) {
    json j = state_to_json(full_member());
    change(j);
    auto read = state_from_json(j);
    REQUIRE_FALSE(read);
    return read.error();
}

} // namespace

TEST_CASE("a member state with every field set round-trips through JSON", "[state_json]") {
    const member_state original = full_member();
    const json written = state_to_json(original);
    // Through text, as the ledger stores it.
    auto read = state_from_json(json::parse(written.dump()));
    REQUIRE(read);
    check_same(original, *read);
    CHECK(state_to_json(*read) == written);
    CHECK(state_to_json(*read).dump() == written.dump());

    // Spot checks on the result, so a field left out of both writing and reading still shows.
    const member_state& m = *read;
    CHECK(m.id == "m-42");
    CHECK(m.enrolled_at == utc(2025_y / 1 / 5, 9, 0, 7));
    CHECK(m.birthday == std::optional(1990_y / 5 / 17));
    CHECK(m.referred_by == std::optional<std::string>("m-7"));
    CHECK(m.tier.tier == "gold");
    CHECK(m.tier.valid_until == std::optional(utc(2027_y / 2 / 1)));
    REQUIRE(m.lots.size() == 3);
    CHECK(m.lots[0].remaining == 1000);
    CHECK(m.lots[0].matured);
    CHECK(m.lots[0].expires_at == std::optional(utc(2027_y / 12 / 1)));
    CHECK_FALSE(m.lots[1].expires_at.has_value());
    CHECK_FALSE(m.lots[1].qualifying);
    CHECK(m.lots[2].earned == huge);
    CHECK(m.lots[2].remaining == huge - 1);
    CHECK(m.lots[2].earned_at == utc(2026_y / 12 / 1, 23, 0, 59));
    CHECK(m.lots[2].available_at == utc(2026_y / 12 / 15, 23, 0, 59));
    REQUIRE(m.metric.size() == 2);
    CHECK(m.metric[1].amount == -450);
    CHECK(m.metric[1].cause == "r-1");
    REQUIRE(m.usage.size() == 2);
    CHECK(m.usage[0].times == 2);
    CHECK(m.usage[0].points == 500);
    REQUIRE(m.vouchers.size() == 2);
    CHECK(m.vouchers[0].redeemed);
    CHECK(m.vouchers[0].used_at == std::optional(utc(2026_y / 11 / 30, 12, 5)));
    CHECK(m.vouchers[0].used_transaction_id == "t-77");
    CHECK(m.vouchers[0].used_store_id == "s-3");
    CHECK(m.vouchers[1].cancelled);
    CHECK_FALSE(m.vouchers[1].used_at);
    CHECK(m.vouchers[1].valid_until == utc(2026_y / 6 / 17));
    CHECK(m.purchase_times.size() == 2);
    CHECK(m.lifetime_purchases == 17);
    CHECK(m.lifetime_spend == huge);
    CHECK(m.lifetime_points == 24'680);
    CHECK(m.last_activity == std::optional(utc(2026_y / 11 / 28, 11, 0, 30)));
    CHECK(m.shortfall == 120);
    REQUIRE(m.purchases.size() == 2);
    const purchase_record& pr = m.purchases[0];
    CHECK(pr.request.transaction_id == "t-100");
    REQUIRE(pr.request.lines.size() == 2);
    CHECK(pr.request.lines[0].tags == std::vector<std::string>{"organic", "promo"});
    CHECK(pr.request.lines[0].discount == 50);
    REQUIRE(pr.lines.size() == 2);
    CHECK(pr.lines[0].points_by_rule.at("coffee_bonus") == 300);
    CHECK(pr.lines[0].eligible_spend == 1300);
    REQUIRE(pr.awards.size() == 2);
    CHECK_FALSE(pr.awards[0].min_spend.has_value());
    CHECK(pr.awards[0].per_line);
    CHECK(pr.awards[1].min_spend == std::optional<std::int64_t>(2000));
    CHECK(pr.awards[1].lot_id == 4);
    CHECK(pr.returned_quantity.at("l1") == 1);
    CHECK(pr.clawed_back == std::vector<std::string>{"big_basket"});
    CHECK(pr.return_ids == std::vector<std::string>{"r-1", "r-2"});
    CHECK(m.purchases[1].request.channel.empty());
    CHECK(m.purchases[1].awards.empty());
    REQUIRE(m.redemptions.size() == 2);
    CHECK(m.redemptions[0].voucher_id == std::optional<std::string>("V-000001"));
    REQUIRE(m.redemptions[0].draws.size() == 2);
    CHECK(m.redemptions[0].draws[1].lot_id == 5);
    CHECK(m.redemptions[0].draws[1].points == 50);
    CHECK_FALSE(m.redemptions[1].voucher_id.has_value());
    CHECK(m.redemptions[1].reward_id.empty());
    CHECK(m.redemptions[1].cancelled);
    CHECK(m.budget_used.at("launch_bonus") == huge);
    CHECK(m.next_lot_id == 6);
    CHECK(m.next_voucher_number == 3);
}

TEST_CASE("the written JSON has the documented shape", "[state_json]") {
    const json j = state_to_json(full_member());
    CHECK(j.at("format") == 1);
    CHECK(j.at("enrolled_at") == "2025-01-05T09:00:07Z");
    CHECK(j.at("birthday") == "1990-05-17");
    CHECK(j.at("lots").at(0).at("expires_at") == "2027-12-01T00:00:00Z");
    CHECK_FALSE(j.at("lots").at(1).contains("expires_at"));
    CHECK(j.at("lots").at(2).at("earned").get<std::int64_t>() == huge);
    CHECK(j.at("lots").at(2).at("earned").is_number_integer());
    CHECK(j.at("budget_used") == json{{"coffee_bonus", 10'500}, {"launch_bonus", huge}});
    CHECK_FALSE(j.at("purchases").at(0).at("awards").at(0).contains("min_spend"));
    CHECK_FALSE(j.at("redemptions").at(1).contains("voucher_id"));

    const json empty = state_to_json(member_state{});
    for (const char* key : {"birthday", "referred_by", "last_activity"}) {
        INFO(key);
        CHECK_FALSE(empty.contains(key));
    }
    CHECK_FALSE(empty.at("tier").contains("valid_until"));
}

TEST_CASE("a default member state round-trips", "[state_json]") {
    const member_state original;
    const json written = state_to_json(original);
    auto read = state_from_json(json::parse(written.dump()));
    REQUIRE(read);
    check_same(original, *read);
    CHECK(state_to_json(*read) == written);
    CHECK_FALSE(read->birthday.has_value());
    CHECK_FALSE(read->referred_by.has_value());
    CHECK_FALSE(read->last_activity.has_value());
    CHECK_FALSE(read->tier.valid_until.has_value());
    CHECK(read->next_lot_id == 1);
    CHECK(read->next_voucher_number == 1);
}

TEST_CASE("records stored on their own round-trip", "[state_json]") {
    const member_state m = full_member();
    for (const auto& l : m.lots) {
        auto read = lot_from_json(json::parse(lot_to_json(l).dump()));
        REQUIRE(read);
        check_same(l, *read);
    }
    for (const auto& v : m.vouchers) {
        auto read = voucher_from_json(json::parse(voucher_to_json(v).dump()));
        REQUIRE(read);
        check_same(v, *read);
    }
    for (const auto& r : m.purchases) {
        auto read = purchase_record_from_json(json::parse(purchase_record_to_json(r).dump()));
        REQUIRE(read);
        check_same(r, *read);
    }
    for (const auto& r : m.redemptions) {
        auto read = redemption_record_from_json(json::parse(redemption_record_to_json(r).dump()));
        REQUIRE(read);
        check_same(r, *read);
    }
    auto award = purchase_record_from_json(purchase_record_to_json(m.purchases[0]));
    REQUIRE(award);
    CHECK(award->awards[1].min_spend == std::optional<std::int64_t>(2000));
}

TEST_CASE("purchase_to_json is what purchase_from_json reads", "[state_json]") {
    const purchase original = sample_purchase();
    const json j = purchase_to_json(original);
    CHECK(j.at("occurred_at") == "2026-11-24T15:00:00Z");
    CHECK(j.at("lines").at(0).at("tags") == json{"organic", "promo"});
    auto read = purchase_from_json(json::parse(j.dump()));
    REQUIRE(read);
    check_same(original, *read);
    CHECK(read->lines.at(0).discount == 50);
    CHECK(read->store_id == "s-7");
    CHECK(purchase_to_json(*read) == j);
}

TEST_CASE("malformed member states are refused with the field's path", "[state_json]") {
    CHECK(state_error([](json& j) { j.erase("next_lot_id"); }) == "next_lot_id: required");
    CHECK(state_error([](json& j) { j["lots"][0].erase("earned_at"); }) ==
          "lots[0].earned_at: required");
    CHECK(state_error([](json& j) {
              j["purchases"][0]["request"]["lines"][1]["quantity"] = "1";
          }) == "purchases[0].request.lines[1].quantity: expected a whole number");
    CHECK(state_error([](json& j) { j["metric"][0]["amount"] = 1.5; }) ==
          "metric[0].amount: expected a whole number");
    CHECK(state_error([](json& j) {
              j["lifetime_spend"] = std::numeric_limits<std::uint64_t>::max();
          }) == "lifetime_spend: expected a whole number");
    CHECK(
        state_error([](json& j) { j["redemptions"][0]["at"] = "2026-13-01T00:00:00Z"; }) ==
        "redemptions[0].at: expected an RFC 3339 time to the second, such as 2026-11-24T15:00:00Z");
    CHECK(
        state_error([](json& j) { j["purchase_times"][1] = "yesterday"; }) ==
        "purchase_times[1]: expected an RFC 3339 time to the second, such as 2026-11-24T15:00:00Z");
    CHECK(
        state_error([](json& j) { j["tier"]["valid_until"] = nullptr; }) ==
        "tier.valid_until: expected an RFC 3339 time to the second, such as 2026-11-24T15:00:00Z");
    CHECK(state_error([](json& j) { j["birthday"] = "1990-02-30"; }) ==
          "birthday: expected a date YYYY-MM-DD");
    CHECK(state_error([](json& j) { j["vouchers"][1]["redeemed"] = 0; }) ==
          "vouchers[1].redeemed: expected true or false");
    CHECK(state_error([](json& j) { j["budget_used"]["coffee_bonus"] = "10"; }) ==
          "budget_used.coffee_bonus: expected a whole number");
    CHECK(state_error([](json& j) {
              j["purchases"][0]["lines"][0]["points_by_rule"] = json::array();
          }) == "purchases[0].lines[0].points_by_rule: expected an object of whole numbers");
    CHECK(state_error([](json& j) { j["redemptions"][0]["draws"] = json::object(); }) ==
          "redemptions[0].draws: expected a list");
    CHECK(state_error([](json& j) { j["lots"][2] = "lot"; }) == "lots[2]: expected an object");
    CHECK(state_error([](json& j) { j["lots"][0]["expires"] = "2027-12-01T00:00:00Z"; }) ==
          "lots[0].expires: unknown field");
    CHECK(state_error([](json& j) { j["format"] = 2; }) ==
          "format: unsupported format 2; expected 1");
    CHECK(state_error([](json& j) { j.erase("format"); }) == "format: required");

    auto not_object = state_from_json(json::array());
    REQUIRE_FALSE(not_object);
    CHECK(not_object.error() == "expected an object");
}

TEST_CASE("malformed records are refused with the field's path", "[state_json]") {
    const member_state m = full_member();

    json l = lot_to_json(m.lots[0]);
    l.erase("id");
    REQUIRE_FALSE(lot_from_json(l));
    CHECK(lot_from_json(l).error() == "id: required");

    json v = voucher_to_json(m.vouchers[0]);
    v["issued_at"] = "2026-11-25 08:00:00";
    REQUIRE_FALSE(voucher_from_json(v));
    CHECK(voucher_from_json(v).error() ==
          "issued_at: expected an RFC 3339 time to the second, such as 2026-11-24T15:00:00Z");

    json p = purchase_record_to_json(m.purchases[0]);
    p["request"]["lines"][0]["tags"][1] = 7;
    REQUIRE_FALSE(purchase_record_from_json(p));
    CHECK(purchase_record_from_json(p).error() == "request.lines[0].tags[1]: expected a string");

    json r = redemption_record_to_json(m.redemptions[0]);
    r["voucher_id"] = 12;
    REQUIRE_FALSE(redemption_record_from_json(r));
    CHECK(redemption_record_from_json(r).error() == "voucher_id: expected a string");

    CHECK_FALSE(lot_from_json(json("not a lot")));
    CHECK_FALSE(redemption_record_from_json(json()));
}

TEST_CASE("request texts refuse control characters, an adjustment's note keeps line breaks",
          "[state_json]") {
    for (const std::string& bad :
         {std::string("t\x01"), std::string("a\0b", 3), std::string("\n"), std::string("t\x7f")}) {
        json j = purchase_to_json(sample_purchase());
        j["transaction_id"] = bad;
        auto read = purchase_from_json(j);
        REQUIRE_FALSE(read);
        CHECK(read.error().field == "transaction_id");
        j = purchase_to_json(sample_purchase());
        j["store_id"] = bad;
        read = purchase_from_json(j);
        REQUIRE_FALSE(read);
        CHECK(read.error().field == "store_id");
    }
    json a = {{"adjustment_id", "adj-1"},
              {"points", 50},
              {"reason", "goodwill"},
              {"note", "called twice\n\tsecond time by phone"}};
    auto ok = adjustment_from_json(a);
    REQUIRE(ok);
    CHECK(ok->note == "called twice\n\tsecond time by phone");
    a["note"] = std::string("bell\x07");
    CHECK_FALSE(adjustment_from_json(a));
    a["note"] = "fine";
    a["reason"] = "two\nlines";
    auto refused = adjustment_from_json(a);
    REQUIRE_FALSE(refused);
    CHECK(refused.error().field == "reason");
}

TEST_CASE("purchase_text and purchase_record_text are the JSON dumps, byte for byte") {
    member_state m = full_member();
    purchase odd = sample_purchase();
    odd.store_id = "s-\"7\"\n";
    odd.lines[0].tags = {"caf\xc3\xa9", "\\"};
    purchase none = sample_purchase();
    none.lines.clear();
    for (const purchase& p : {sample_purchase(), odd, none}) {
        CHECK(purchase_text(p) == purchase_to_json(p).dump());
    }
    REQUIRE(m.purchases.size() == 2);
    for (const purchase_record& r : m.purchases) {
        CHECK(purchase_record_text(r) == purchase_record_to_json(r).dump());
        // As the ledger stores it: the same record without its request, which reads back whole
        // once the request is put back.
        nlohmann::json stored = purchase_record_to_json(r);
        stored.erase("request");
        std::string left_out = purchase_record_text(r, record_request::left_out);
        CHECK(left_out == stored.dump());
        auto back = nlohmann::json::parse(left_out);
        back["request"] = nlohmann::json::parse(purchase_text(r.request));
        auto read = purchase_record_from_json(back);
        REQUIRE(read);
        CHECK(purchase_record_to_json(*read) == purchase_record_to_json(r));
    }
    purchase_record empty;
    CHECK(purchase_record_text(empty) == purchase_record_to_json(empty).dump());
}
