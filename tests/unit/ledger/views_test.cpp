// views.hpp: the member view written directly is the same text as its nlohmann tree dumped.
#include "loyalty/engine/event_json.hpp"
#include "loyalty/ledger/views.hpp"
#include "loyalty/program/load.hpp"
#include "support/sample_program.hpp"
#include "support/times.hpp"

#include <catch2/catch.hpp>
#include <fstream>
#include <sstream>

using namespace loyalty;
using namespace loyalty::ledger;

using loyalty::test::at;

namespace {

program::program_ptr sample() {
    std::ifstream in(test::sample_path());
    std::stringstream text;
    text << in.rdbuf();
    auto p = program::load_program(text.str(), "program.yaml");
    REQUIRE(p);
    return *p;
}

} // namespace

TEST_CASE("to_json_text writes a member view as to_json dumps it") {
    auto p = sample();
    member_view bare;
    bare.member_id = "m-1";
    bare.enrolled_at = at("2026-11-23T15:00:00Z");
    bare.tier = {"green", at("2026-11-23T15:00:00Z"), std::nullopt};
    CHECK(to_json_text(bare, *p) == to_json(bare, *p).dump());

    member_view full = bare;
    full.name = "Ada \"the\" L\xc3\xb6velace\n";
    full.email = "ada@example.com";
    full.birthday = date::year(1990) / 5 / 17;
    full.referred_by = "m-0";
    full.balance = {1234, -5};
    full.next_expiring_points = 25;
    full.next_expiry = at("2027-07-01T04:00:00Z");
    full.tier = {"gold", at("2026-12-01T10:00:00Z"), at("2027-12-01T10:00:00Z")};
    full.metric = 640;
    full.next_tier = next_tier_progress{"reserve", 2500, 1860};
    full.keep_tier = tier_keep{500, 420, 80};
    full.vouchers.push_back({"V-1", "handcrafted_drink", at("2026-12-01T10:00:00Z"),
                             at("2026-12-31T10:00:00Z"), "gold_welcome", false, false, std::nullopt,
                             ""});
    full.vouchers.push_back({"V-2", "mug", at("2026-12-02T10:00:00Z"), at("2027-01-31T05:00:00Z"),
                             "red-1", false, false, std::nullopt, ""});
    full.lifetime_points = 9'007'199'254'740'993;
    full.lifetime_purchases = 17;
    full.lifetime_spend = 123'456;
    full.revision = 42;
    CHECK(to_json_text(full, *p) == to_json(full, *p).dump());

    member_view unknown_tier = full;
    unknown_tier.tier.tier = "retired-tier"; // a tier the program no longer has: named by its id
    CHECK(to_json_text(unknown_tier, *p) == to_json(unknown_tier, *p).dump());
}

TEST_CASE("a voucher history says what became of each voucher at the moment asked") {
    const timestamp now = at("2026-12-05T12:00:00Z");
    voucher_history h{"m-1", {}, now};
    // Newest first, as the ledger lists them.
    h.vouchers.push_back(
        {"V-4", "mug", at("2026-12-04T10:00:00Z"), now, "red-4", false, false, std::nullopt, ""});
    h.vouchers.push_back({"V-3", "mug", at("2026-12-03T10:00:00Z"), at("2026-12-05T12:00:01Z"),
                          "red-3", false, false, std::nullopt, ""});
    h.vouchers.push_back({"V-2", "mug", at("2026-12-02T10:00:00Z"), at("2026-12-31T10:00:00Z"),
                          "red-2", false, true, std::nullopt, ""});
    h.vouchers.push_back({"V-1", "handcrafted_drink", at("2026-11-01T10:00:00Z"),
                          at("2026-11-02T10:00:00Z"), "gold_welcome", true, false,
                          at("2026-11-01T18:30:00Z"), "t-9", "s-12"});
    h.vouchers.push_back({"V-0", "mug", at("2026-10-01T10:00:00Z"), at("2026-10-31T10:00:00Z"),
                          "red-0", true, false, at("2026-10-02T09:00:00Z"), ""});

    const nlohmann::json j = to_json(h);
    CHECK(j["member_id"] == "m-1");
    CHECK(j["as_of"] == "2026-12-05T12:00:00Z");
    REQUIRE(j["vouchers"].size() == 5);
    // Expired at, not after, its valid_until; a used voucher stays used after it.
    CHECK(j["vouchers"][0]["status"] == "expired");
    CHECK(j["vouchers"][1]["status"] == "usable");
    CHECK(j["vouchers"][2]["status"] == "cancelled");
    CHECK(j["vouchers"][3]["status"] == "used");
    CHECK(j["vouchers"][4]["status"] == "used");
    CHECK(j["vouchers"][3] == nlohmann::json{{"id", "V-1"},
                                             {"reward_id", "handcrafted_drink"},
                                             {"cause", "gold_welcome"},
                                             {"issued_at", "2026-11-01T10:00:00Z"},
                                             {"valid_until", "2026-11-02T10:00:00Z"},
                                             {"status", "used"},
                                             {"used_at", "2026-11-01T18:30:00Z"},
                                             {"transaction_id", "t-9"},
                                             {"store_id", "s-12"}});
    // A use that named no purchase or store, and vouchers never used, have nulls.
    CHECK(j["vouchers"][4]["transaction_id"].is_null());
    CHECK(j["vouchers"][4]["store_id"].is_null());
    CHECK(j["vouchers"][4]["used_at"] == "2026-10-02T09:00:00Z");
    CHECK(j["vouchers"][1]["used_at"].is_null());
    CHECK(j["vouchers"][1]["transaction_id"].is_null());
    CHECK(j["vouchers"][1]["store_id"].is_null());
}
