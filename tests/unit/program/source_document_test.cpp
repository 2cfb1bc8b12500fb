#include "loyalty/program/source_document.hpp"

#include <catch2/catch.hpp>

using namespace loyalty::program;

namespace {
source_document parse_ok(const std::string& text) {
    diagnostics problems;
    auto doc = source_document::parse(text, "f.yaml", problems);
    INFO((problems.empty() ? std::string() : to_string(problems.front())));
    REQUIRE(problems.empty());
    return doc;
}
} // namespace

TEST_CASE("plain scalars resolve by the YAML 1.2 core schema, quoted ones stay text",
          "[document]") {
    auto doc = parse_ok(R"(a: 12
b: -7
c: 0x1F
d: 2.50
e: true
f: null
g: ~
h: "12"
i: yes
j: 2026-03-01
k: 'true'
l: 99999999999999999999
m:
)");
    const auto& r = doc.root();
    CHECK(r["a"] == 12);
    CHECK(r["a"].is_number_integer());
    CHECK(r["b"] == -7);
    CHECK(r["c"] == 31);
    CHECK(r["d"].is_number_float());
    CHECK(r["d"] == 2.5);
    CHECK(r["e"] == true);
    CHECK(r["f"].is_null());
    CHECK(r["g"].is_null());
    CHECK(r["h"] == "12");
    CHECK(r["i"] == "yes");
    CHECK(r["j"] == "2026-03-01");
    CHECK(r["k"] == "true");
    CHECK(r["l"].is_number_float()); // too large for an integer: still a number, never wrapped
    CHECK(r["m"].is_null());
}

TEST_CASE("positions of keys and values are 1-based and follow paths", "[document]") {
    auto doc = parse_ok(R"(earn:
  - id: base
    when: {">=": [{var: x}, 3]}
)");
    CHECK(doc.key_position("earn").line == 1);
    CHECK(doc.key_position("earn").column == 1);
    CHECK(doc.value_position("earn[0]").line == 2);
    CHECK(doc.value_position("earn[0]").column == 5);
    CHECK(doc.key_position("earn[0].id").column == 5);
    CHECK(doc.value_position("earn[0].id").column == 9);
    CHECK(doc.key_position("earn[0].when[\">=\"]").line == 3);
    CHECK(doc.key_position("earn[0].when[\">=\"]").column == 12);
    CHECK(doc.value_position("earn[0].when[\">=\"][1]").column == 29);
    // A path that does not exist is placed at its nearest existing parent.
    CHECK(doc.value_position("earn[0].missing").line == 2);
}

TEST_CASE("JSON text is read with positions too", "[document]") {
    auto doc = parse_ok("{\n  \"program\": {\"id\": \"shop\",\n\t\"n\": 1.5}\n}\n");
    CHECK(doc.root()["program"]["id"] == "shop");
    CHECK(doc.root()["program"]["n"] == 1.5);
    CHECK(doc.value_position("program.id").line == 2);
    CHECK(doc.value_position("program.id").column == 21);
}

TEST_CASE("paths quote keys that are not identifiers", "[document]") {
    CHECK(append_key("", "earn") == "earn");
    CHECK(append_key("earn[0].when", "and") == "earn[0].when.and");
    CHECK(append_key("when", ">=") == "when[\">=\"]");
    CHECK(append_key("when", "a\"b") == "when[\"a\\\"b\"]");
    CHECK(append_index("earn", 12) == "earn[12]");
}

TEST_CASE("documents that are too deep are refused", "[document]") {
    diagnostics problems;
    std::string deep(200, '[');
    deep += std::string(200, ']');
    source_document::parse(deep, "deep.yaml", problems, {.max_nodes = 1000, .max_depth = 50});
    REQUIRE_FALSE(problems.empty());
    CHECK(problems.front().message == "nesting deeper than 50 levels");
}
