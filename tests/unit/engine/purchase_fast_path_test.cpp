// purchase_fast_path.hpp: what the fast path reads, purchase_from_json reads the same; whatever
// it declines, valid or not, is left to purchase_from_json.
#include "loyalty/engine/event_json.hpp"
#include "loyalty/engine/purchase_fast_path.hpp"
#include "loyalty/engine/state_json.hpp"
#include "loyalty/http/json_body.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

namespace {

using loyalty::engine::purchase_from_json;
using loyalty::engine::purchase_text;
using loyalty::engine::read_purchase_fast;

constexpr std::size_t max_lines = 4;

// The purchase the slow path reads from `text`, as its canonical text, when it accepts it
// within `max_lines` (the router's limit, checked before purchase_from_json). The body is read
// as the router reads it, which refuses a key given twice.
std::optional<std::string> slow_reading(const std::string& text) {
    auto parsed = loyalty::http::parse_json_body(text);
    if (!parsed || !parsed->is_object()) {
        return std::nullopt;
    }
    const nlohmann::json& j = *parsed;
    auto lines = j.find("lines");
    if (lines != j.end() && lines->is_array() && lines->size() > max_lines) {
        return std::nullopt;
    }
    auto p = purchase_from_json(j);
    if (!p) {
        return std::nullopt;
    }
    return purchase_text(*p);
}

std::optional<std::string> fast_reading(const std::string& text) {
    auto p = read_purchase_fast(text, max_lines);
    if (!p) {
        return std::nullopt;
    }
    return purchase_text(*p);
}

const std::vector<std::string> accepted_bodies = {
    // The benchmark's purchase, as tills post it.
    R"({"transaction_id":"x-1","member_id":"m-5","store_id":"s-12","channel":"store",)"
    R"("occurred_at":"2026-12-06T10:14:06Z","currency":"USD","lines":[{"line_id":"1",)"
    R"("sku":"LATTE-L","category":"coffee","quantity":2,"unit_price":525},{"line_id":"2",)"
    R"("sku":"CROISSANT","category":"bakery","quantity":3,"unit_price":375},{"line_id":"3",)"
    R"("sku":"BEANS-ETH-250","category":"beans","quantity":1,"unit_price":1800}]})",
    // Every field of a line, an offset time, fields in another order, white space.
    "{ \"lines\" : [ { \"tags\" : [\"gift\", \"promo\"], \"discount\": 100, \"unit_price\": 0,\n"
    "  \"quantity\": 1000000, \"category\": \"\", \"sku\": \"\", \"line_id\": \"a b\" } ],\r\n"
    "\t\"currency\": \"EUR\", \"occurred_at\": \"2026-03-14T05:30:00-04:00\",\n"
    "  \"store_id\": \"s 1\", \"member_id\": \"m-1\", \"transaction_id\": \"t/1\" }",
    // No channel, no lines, empty tags, a sku of 256 bytes.
    R"({"transaction_id":"t","member_id":"m","store_id":"s","occurred_at":"2026-01-01T00:00:00Z",)"
    R"("currency":"USD","lines":[]})",
    // The first and last seconds a time may name, once in UTC.
    R"({"transaction_id":"t","member_id":"m","store_id":"s","occurred_at":"0001-01-01T00:01:00+00:01",)"
    R"("currency":"USD","lines":[]})",
    R"({"transaction_id":"t","member_id":"m","store_id":"s","occurred_at":"9999-12-31T00:00:59-23:59",)"
    R"("currency":"USD","lines":[]})",
    R"({"transaction_id":"t","member_id":"m","store_id":"s","occurred_at":"2026-01-01T00:00:00Z",)"
    R"("currency":"USD","lines":[{"line_id":"1","quantity":1,"unit_price":10000000000,"tags":[],)"
    R"("sku":")" +
        std::string(256, 'k') + R"("}]})",
};

} // namespace

TEST_CASE("the fast path reads the common purchase bodies as purchase_from_json does") {
    for (const std::string& body : accepted_bodies) {
        INFO(body);
        auto fast = fast_reading(body);
        REQUIRE(fast.has_value());
        auto slow = slow_reading(body);
        REQUIRE(slow.has_value());
        CHECK(*fast == *slow);
    }
    auto p = read_purchase_fast(accepted_bodies[1], max_lines);
    REQUIRE(p);
    REQUIRE(p->lines.size() == 1);
    CHECK(p->lines[0].tags == std::vector<std::string>{"gift", "promo"});
    CHECK(p->lines[0].discount == 100);
    CHECK(p->lines[0].quantity == 1'000'000);
    CHECK(p->channel.empty());
    CHECK(p->transaction_id == "t/1");
}

TEST_CASE("the fast path declines what it does not read, valid or not") {
    const std::string head = R"({"transaction_id":"t","member_id":"m","store_id":"s",)"
                             R"("occurred_at":"2026-01-01T00:00:00Z","currency":"USD",)";
    auto with_line = [&](const std::string& line) {
        return head + R"("lines":[)" + line + "]}";
    };
    const std::string line = R"({"line_id":"1","quantity":1,"unit_price":5})";
    std::string sixty_four_tags; // with one more after them, one too many
    for (int i = 0; i < 64; ++i) {
        sixty_four_tags += "\"t\",";
    }
    struct example {
        std::string body;
        bool valid; // purchase_from_json accepts it
    };
    const std::vector<example> examples = {
        // Accepted by purchase_from_json, read by it alone.
        {R"({"transaction_id":"t\u00e9","member_id":"m","store_id":"s",)"
         R"("occurred_at":"2026-01-01T00:00:00Z","currency":"USD","lines":[]})",
         true},
        {head + R"("channel":"caf)" + std::string("\xc3\xa9") + R"(","lines":[]})", true},
        {head + R"("channel":null,"lines":[]})", true},
        {with_line(R"({"line_id":"1","quantity":1,"unit_price":5,"sku":null})"), true},
        {with_line(R"({"line_id":"1","quantity":1,"unit_price":5,"discount":null})"), true},
        // Refused by purchase_from_json (or the router), with the field it names.
        {head + R"("channel":"a","channel":"b","lines":[]})", false},
        {with_line(R"({"line_id":"1","quantity":1,"quantity":1,"unit_price":5})"), false},
        {head + R"("lines":[],"extra":1})", false},
        {with_line(R"({"line_id":"1","quantity":1,"unit_price":5,"color":"red"})"), false},
        {with_line(R"({"line_id":"1","quantity":1.0,"unit_price":5})"), false},
        {with_line(R"({"line_id":"1","quantity":0,"unit_price":5})"), false},
        {with_line(R"({"line_id":"1","quantity":1000001,"unit_price":5})"), false},
        {with_line(R"({"line_id":"1","quantity":1,"unit_price":-1})"), false},
        {with_line(R"({"line_id":"1","quantity":1,"unit_price":9223372036854775808})"), false},
        {with_line(R"({"line_id":"1","quantity":1,"unit_price":5,"discount":10000000000001})"),
         false},
        {with_line(R"({"line_id":"","quantity":1,"unit_price":5})"), false},
        {with_line(R"({"quantity":1,"unit_price":5})"), false},
        {with_line(R"({"line_id":"1","unit_price":5})"), false},
        {with_line(R"({"line_id":"1","quantity":"1","unit_price":5})"), false},
        {with_line(R"({"line_id":"1","quantity":1,"unit_price":5,"tags":"gift"})"), false},
        {with_line(R"({"line_id":"1","quantity":1,"unit_price":5,"tags":[1]})"), false},
        {with_line(R"({"line_id":"1","quantity":1,"unit_price":5,"tags":[""]})"), false},
        {with_line(R"({"line_id":"1","quantity":1,"unit_price":5,"tags":["a\nb"]})"), false},
        {with_line(R"({"line_id":"1","quantity":1,"unit_price":5,"tags":[")" +
                   std::string(257, 't') + R"("]})"),
         false},
        {with_line(R"({"line_id":"1","quantity":1,"unit_price":5,"tags":[)" + sixty_four_tags +
                   R"("t"]})"),
         false},
        {with_line(R"("line")"), false},
        {with_line(line + "," + line + "," + line + "," + line + "," + line), false}, // 5 > 4
        {head + R"("lines":{}})", false},
        {R"({"transaction_id":"t","member_id":"m","store_id":"s","currency":"USD","lines":[]})",
         false},
        {head + R"("occurred_at":"2026-02-30T00:00:00Z","lines":[]})", false},
        // Well-formed times that are outside years 1 to 9999 once in UTC.
        {R"({"transaction_id":"t","member_id":"m","store_id":"s",)"
         R"("occurred_at":"0000-01-01T00:00:00+00:01","currency":"USD","lines":[]})",
         false},
        {R"({"transaction_id":"t","member_id":"m","store_id":"s",)"
         R"("occurred_at":"0001-01-01T00:00:00+00:01","currency":"USD","lines":[]})",
         false},
        {R"({"transaction_id":"t","member_id":"m","store_id":"s",)"
         R"("occurred_at":"9999-12-31T23:59:59-00:01","currency":"USD","lines":[]})",
         false},
        {R"({"transaction_id":"t","member_id":"m","store_id":"s",)"
         R"("occurred_at":"2026-02-30T00:00:00Z","currency":"USD","lines":[]})",
         false},
        {R"({"transaction_id":"","member_id":"m","store_id":"s",)"
         R"("occurred_at":"2026-01-01T00:00:00Z","currency":"USD","lines":[]})",
         false},
        {head + R"("channel":")" + std::string(257, 'c') + R"(","lines":[]})", false},
        {head + "\"channel\":\"a\x7f\",\"lines\":[]}", false},
        {head + R"("channel":"a\tb","lines":[]})", false},
        // Not JSON, or not an object.
        {head + R"("lines":[]} x)", false},
        {head + R"("lines":[]}})", false},
        {head + R"("lines":[],})", false},
        {head + R"("lines":[])", false},
        {head + "\"channel\":\"a\tb\",\"lines\":[]}", false},
        {"[]", false},
        {"", false},
    };
    // As many lines as allowed are read; one more is declined (above) and refused.
    REQUIRE(read_purchase_fast(with_line(line + "," + line + "," + line + "," + line), max_lines));
    for (const example& e : examples) {
        INFO(e.body);
        CHECK_FALSE(read_purchase_fast(e.body, max_lines).has_value());
        CHECK(slow_reading(e.body).has_value() == e.valid);
    }
}

// Bodies changed at random, a byte at a time: whenever the fast path reads one, purchase_from_json
// reads the same purchase from it. Changes inside strings and numbers keep many of them readable,
// so both sides of the comparison are exercised (counted below).
TEST_CASE("whatever the fast path reads from a damaged body, purchase_from_json reads the same") {
    std::mt19937 random(20261206);
    const std::string alphabet = "{}[]:,\" \t\n0123456789-+.eEtrufalsn\\/xAZ_\x7f\x01\xc3\xa9";
    std::size_t read_by_fast = 0;
    std::size_t declined = 0;
    for (int round = 0; round < 20000; ++round) {
        std::string body = accepted_bodies[random() % accepted_bodies.size()];
        int changes = 1 + static_cast<int>(random() % 3);
        for (int c = 0; c < changes && !body.empty(); ++c) {
            std::size_t at = random() % body.size();
            char ch = alphabet[random() % alphabet.size()];
            switch (random() % 4) {
            case 0:
                body.erase(at, 1);
                break;
            case 1:
                body.insert(at, 1, ch);
                break;
            case 2:
                body[at] = ch;
                break;
            default: // a span repeated, as a field or line written twice
                body.insert(at, body.substr(at, random() % 40));
                break;
            }
        }
        auto fast = fast_reading(body);
        if (!fast) {
            ++declined;
            continue;
        }
        ++read_by_fast;
        INFO(body);
        auto slow = slow_reading(body);
        REQUIRE(slow.has_value());
        REQUIRE(*fast == *slow);
    }
    CHECK(read_by_fast > 1000);
    CHECK(declined > 1000);
}
