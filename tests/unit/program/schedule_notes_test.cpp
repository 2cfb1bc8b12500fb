// Notes on windowed_parts closed at a given time: what `loyalty check` and the program endpoints
// add to "ok".
#include "loyalty/program/load.hpp"
#include "loyalty/program/schedule_notes.hpp"

#include <catch2/catch.hpp>
#include <date/date.h>
using namespace loyalty::program;

namespace {

std::chrono::sys_seconds utc_time(const char* text) {
    std::istringstream in(text);
    std::chrono::sys_seconds t;
    in >> date::parse("%FT%TZ", t);
    REQUIRE_FALSE(in.fail());
    return t;
}

// The notes for `text` at `now`, one per line, as `loyalty check` prints them after "note: ".
std::string notes_at(const std::string& text, const char* now, const std::string& name = "p.yaml") {
    auto loaded = load_program(text, name);
    REQUIRE(loaded);
    std::string out;
    for (const auto& d : schedule_notes(**loaded, name, utc_time(now))) {
        out += to_string(d) + "\n";
    }
    return out;
}

const std::string shop_header = R"(program:
  id: shop
  name: Shop
  currency: USD
  time_zone: America/New_York
)";

// A summer promotion (through 31 August, New York time) and a reward from 1 December 18:00.
const std::string windowed_parts = R"(earn:
  - id: base
    on: purchase
    rate: {points: 1, per: 100}
  - id: summer
    on: purchase
    rate: {points: 1, per: 100}
    active: {from: 2026-06-01, until: 2026-08-31}
rewards:
  - id: mug
    name: Mug
    cost: 100
    active:
      from: 2026-12-01T18:00
)";

} // namespace

TEST_CASE("a rule whose window ended is noted, with what it can still earn on", "[load]") {
    // Without a bound on lateness, anything dated inside the window may still come.
    CHECK(notes_at(shop_header + windowed_parts, "2026-10-01T12:00:00Z") ==
          "p.yaml:13:39: earn[1].active.until: earn rule summer ended at the end of 2026-08-31 "
          "(America/New_York): it earns only on purchases and events dated before then, posted "
          "late\n"
          "p.yaml:19:13: rewards[0].active.from: reward mug cannot be redeemed before its window "
          "opens at 2026-12-01 18:00 (America/New_York)\n");

    // With one, only until the last purchase dated inside the window is too late to post: the
    // window ended at 04:00 UTC on 1 September.
    const std::string bounded = shop_header + windowed_parts + "late_posting:\n  max_days: 30\n";
    CHECK(
        notes_at(bounded, "2026-10-01T03:59:59Z")
            .find(
                "earn rule summer ended at the end of 2026-08-31 (America/New_York): it earns only "
                "on purchases and events dated before then, posted late (at most 30 days)\n") !=
        std::string::npos);
    CHECK(
        notes_at(bounded, "2026-10-01T04:00:00Z")
            .find("earn rule summer ended at the end of 2026-08-31 (America/New_York): it can earn "
                  "nothing any more, as whatever is dated before then is more than 30 days late "
                  "(late_posting.max_days)\n") != std::string::npos);
}

TEST_CASE("windows open at the time give no notes, those not yet open do", "[load]") {
    // 1 December 18:00 in New York is 23:00 UTC.
    CHECK(notes_at(shop_header + windowed_parts, "2026-12-01T23:00:00Z") ==
          "p.yaml:13:39: earn[1].active.until: earn rule summer ended at the end of 2026-08-31 "
          "(America/New_York): it earns only on purchases and events dated before then, posted "
          "late\n");
    CHECK(notes_at(shop_header + windowed_parts, "2026-07-01T12:00:00Z") ==
          "p.yaml:19:13: rewards[0].active.from: reward mug cannot be redeemed before its window "
          "opens at 2026-12-01 18:00 (America/New_York)\n");
    CHECK(notes_at(shop_header + windowed_parts, "2026-05-31T12:00:00Z")
              .find("p.yaml:13:20: earn[1].active.from: earn rule summer starts on 2026-06-01 "
                    "(America/New_York): purchases and events dated before then earn nothing from "
                    "it\n") == 0);
    // The sample program has no windowed_parts.
    CHECK(notes_at(shop_header +
                       "earn:\n  - id: base\n    on: purchase\n    rate: {points: 1, per: "
                       "100}\n",
                   "2026-07-01T12:00:00Z")
              .empty());
}

TEST_CASE("a note on a window brought in by an alias stands at the alias", "[load]") {
    const std::string text = shop_header + R"(earn:
  - id: spring
    on: purchase
    rate: {points: 1, per: 100}
    active: &spring_window {from: 2026-03-01, until: 2026-05-31}
  - id: spring_app
    on: purchase
    rate: {points: 1, per: 100}
    active: *spring_window
)";
    CHECK(notes_at(text, "2026-07-01T12:00:00Z") ==
          "p.yaml:10:54: earn[0].active.until: earn rule spring ended at the end of 2026-05-31 "
          "(America/New_York): it earns only on purchases and events dated before then, posted "
          "late\n"
          "p.yaml:14:13: earn[1].active.until: earn rule spring_app ended at the end of "
          "2026-05-31 (America/New_York): it earns only on purchases and events dated before "
          "then, posted late (the alias here brings in the value written at line 10, column "
          "54)\n");
}

TEST_CASE("notes on a program written in JSON have its lines", "[load]") {
    const std::string text = R"({"program": {"id": "shop", "name": "Shop", "currency": "USD",
             "time_zone": "America/New_York"},
 "earn": [{"id": "base", "on": "purchase", "rate": {"points": 1, "per": 100},
           "active": {"until": "2026-08-31T20:30"}}]}
)";
    CHECK(notes_at(text, "2026-10-01T12:00:00Z", "p.json") ==
          "p.json:4:32: earn[0].active.until: earn rule base ended at 2026-08-31 20:30 "
          "(America/New_York): it earns only on purchases and events dated before then, posted "
          "late\n");
}
