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
                             at("2026-12-31T10:00:00Z"), "gold_welcome", false, false});
    full.vouchers.push_back({"V-2", "mug", at("2026-12-02T10:00:00Z"), at("2027-01-31T05:00:00Z"),
                             "red-1", false, false});
    full.lifetime_points = 9'007'199'254'740'993;
    full.lifetime_purchases = 17;
    full.lifetime_spend = 123'456;
    full.revision = 42;
    CHECK(to_json_text(full, *p) == to_json(full, *p).dump());

    member_view unknown_tier = full;
    unknown_tier.tier.tier = "retired-tier"; // a tier the program no longer has: named by its id
    CHECK(to_json_text(unknown_tier, *p) == to_json(unknown_tier, *p).dump());
}
