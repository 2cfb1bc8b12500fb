#include "loyalty/program/source_document.hpp"

#include <catch2/catch.hpp>
#include <cmath>
#include <string>
#include <string_view>

using namespace loyalty::program;

namespace {
source_document parse_ok(const std::string& text) {
    diagnostics problems;
    auto doc = source_document::parse(text, "f.yaml", problems);
    INFO((problems.empty() ? std::string() : to_string(problems.front())));
    REQUIRE(problems.empty());
    return doc;
}

// Every diagnostic of parsing `text`, one per line, as a program check prints them.
std::string document_problems(std::string_view text) {
    diagnostics problems;
    (void)source_document::parse(text, "f.yaml", problems);
    std::string all;
    for (const auto& d : problems) {
        all += to_string(d) + "\n";
    }
    return all;
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

TEST_CASE("every number form of the core schema resolves, and only those", "[document]") {
    auto doc = parse_ok(R"(a: +5
b: 0o17
c: .5
d: -1.
e: 1e3
f: 2.5E-2
g: -.inf
h: .NaN
i: 1e
j: .
k: 0x
l: 0o8
m: 1.2.3
n: +-1
o: 0xffffffffffffffffff
p: 0o7777777777777777777777777
q: .Inf
)");
    const auto& r = doc.root();
    CHECK(r["a"] == 5);
    CHECK(r["b"] == 15);
    CHECK(r["c"] == 0.5);
    CHECK(r["d"] == -1.0);
    CHECK(r["e"] == 1000.0);
    CHECK(r["f"] == 0.025);
    CHECK(std::isinf(r["g"].get<double>()));
    CHECK(r["g"].get<double>() < 0);
    CHECK(std::isnan(r["h"].get<double>()));
    for (const char* text : {"i", "j", "k", "l", "m", "n"}) {
        INFO(text);
        CHECK(r[text].is_string());
    }
    // Past 64 bits: still numbers, never wrapped and never the 0 before the prefix.
    CHECK(std::isinf(r["o"].get<double>()));
    CHECK(std::isinf(r["p"].get<double>()));
    CHECK(std::isinf(r["q"].get<double>()));
}

TEST_CASE("a run of a hundred thousand digits is read as a number, not a crash", "[document]") {
    // std::regex recursed once per character here and overflowed the stack.
    std::string digits(100000, '9');
    auto doc = parse_ok("a: " + digits + "\nb: [" + digits + ".5]\nc: 1" + digits + "x\n");
    CHECK(std::isinf(doc.root()["a"].get<double>()));
    CHECK(std::isinf(doc.root()["b"][0].get<double>()));
    CHECK(doc.root()["c"].is_string());
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

TEST_CASE("a value an alias brings in keeps its anchor's positions and knows the alias",
          "[document]") {
    auto doc = parse_ok(R"(shared: &s
  x: {y: &inner 1}
  z: *inner
uses:
  - *s
  - plain: 2
)");
    // Positions stay where the text is written; the alias is where it was used.
    CHECK(doc.value_position("uses[0].x.y").line == 2);
    REQUIRE(doc.alias_use("uses[0].x.y", false));
    CHECK(doc.alias_use("uses[0].x.y", false)->line == 5);
    CHECK(doc.alias_use("uses[0].x.y", false)->column == 5);
    CHECK(doc.alias_use("uses[0]", false)->line == 5);
    // The key naming a node inside the anchor's text is the anchor's; an alias's own key is not.
    CHECK(doc.alias_use("uses[0].x", true)->line == 5);
    CHECK_FALSE(doc.alias_use("uses[0]", true));
    // An alias inside the anchor's own text is used there; below the outer alias, the outer one
    // is where the value is used.
    CHECK(doc.alias_use("shared.z", false)->line == 3);
    CHECK(doc.alias_use("uses[0].z", false)->line == 5);
    CHECK_FALSE(doc.alias_use("shared.x", false));
    CHECK_FALSE(doc.alias_use("uses[1].plain", false));
}

TEST_CASE("an anchor that holds an alias of itself, in a part not built, ends the reading",
          "[document]") {
    // The repeated key's value is walked for its aliases, not built; inside the alias's copy
    // that walk once followed *b into itself until the stack ran out.
    CHECK(document_problems("x: &a {k: 1, k: &b [*b]}\ny: *a\n") ==
          "f.yaml:1:14: x.k: duplicate key \"k\"; it was already given at line 1\n"
          "f.yaml:2:4: y.k: duplicate key \"k\"; it was already given at line 1 (the alias here "
          "brings in the value written at line 1, column 14)\n");
    CHECK(document_problems("x: {k: 1, k: &b [*b]}\n") ==
          "f.yaml:1:11: x.k: duplicate key \"k\"; it was already given at line 1\n");
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

TEST_CASE("nesting past yaml-cpp's own depth says so, not \"bad file\"", "[document]") {
    // yaml-cpp refuses about 500 levels itself, with the message "bad file"; a `when` of 3,000
    // nested conditions got that.
    std::string deep = "when: ";
    for (int i = 0; i < 3000; ++i) {
        deep += "{\"!\": ";
    }
    deep += "true" + std::string(3000, '}') + "\n";
    std::string said = document_problems(deep);
    CHECK(said.find("f.yaml:1:") == 0);
    CHECK(said.find(": nesting deeper than 128 levels\n") != std::string::npos);
    CHECK(said.find("bad file") == std::string::npos);
}

TEST_CASE("text that is not UTF-8 and control characters are refused", "[document]") {
    CHECK(document_problems("a: 1\nb: x\x8f y\n") ==
          "f.yaml:2:5: not valid UTF-8: the byte 0x8F is not allowed in a program file\n");
    CHECK(document_problems("a\xc3\xa9: \xc0\xaf\n") ==
          "f.yaml:1:5: not valid UTF-8: the byte 0xC0 is not allowed in a program file\n");
    CHECK(document_problems("\xed\xa0\x80: 1\n") ==
          "f.yaml:1:1: not valid UTF-8: the byte 0xED is not allowed in a program file\n");
    // NUL bytes would make yaml-cpp read the text as UTF-32.
    CHECK(document_problems(std::string_view("\x01\0\0\0\0\0\0-\n", 9)) ==
          "f.yaml:1:1: the control character 0x01 is not allowed in a program file\n");
    // yaml-cpp refuses escapes of lone surrogates itself.
    CHECK(document_problems("a: \"\\uD800\"\n") ==
          "f.yaml:1:11: not valid YAML or JSON: invalid unicode: 55296\n");
    // Tabs, CR LF, a BOM and characters of every length are fine.
    CHECK(document_problems("\xef\xbb\xbf"
                            "a:\t\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x8d\xb5\"\r\n") == "");
}

TEST_CASE("a second YAML document is refused at its first line, not ignored", "[document]") {
    diagnostics problems;
    source_document::parse("a: 1\n---\nearn: [{id: extra}]\n", "two.yaml", problems);
    REQUIRE(problems.size() == 1);
    CHECK(problems.front().at.line == 3);
    CHECK(problems.front().message.find("a second YAML document") == 0);

    problems.clear();
    source_document::parse("---\na: 1\n...\n", "one.yaml", problems);
    CHECK(problems.empty()); // a marked start and end of one document are fine
    source_document::parse("a: 1\n---\n", "trailing.yaml", problems);
    CHECK(problems.empty()); // an empty second document holds nothing to ignore
}

TEST_CASE("the escapes of U+0085 and U+00A0 come out as UTF-8, in values and in keys",
          "[document]") {
    // yaml-cpp 0.7 decodes them into the lone bytes 0x85 and 0xA0, which nlohmann refuses to
    // dump: the checker and the server's program check crashed on a key holding "\\_" (found
    // by the fuzzer).
    auto doc = parse_ok("a: \"no\\_break\\Nline\"\n\"k\\_ey\": 1\n");
    CHECK(doc.root()["a"] == "no\xc2\xa0"
                             "break\xc2\x85"
                             "line");
    CHECK(doc.root().contains("k\xc2\xa0"
                              "ey"));
    CHECK(doc.root().dump() == "{\"a\":\"no\xc2\xa0"
                               "break\xc2\x85"
                               "line\",\"k\xc2\xa0"
                               "ey\":1}");
}

TEST_CASE("a bracket never closed is reported where it was opened", "[document]") {
    // yaml-cpp gives up at the end of the file, or at the next key: lines from the bracket.
    CHECK(document_problems("name: x\nrules: {\n") ==
          "f.yaml:2:8: not valid YAML or JSON: this { is never closed (the file ends without its "
          "})\n");
    CHECK(document_problems("program: {id: x, name: y\nearn:\n  - id: a\n") ==
          "f.yaml:1:10: not valid YAML or JSON: this { is never closed (the parser gave up at "
          "line 2, column 5 without its })\n");
    CHECK(document_problems("program:\n  id: x\n  tags: [a, b\nearn: []\n") ==
          "f.yaml:3:9: not valid YAML or JSON: this [ is never closed (the parser gave up at "
          "line 4, column 5 without its ])\n");
    // JSON: the innermost one open, the list, not the object around it.
    CHECK(document_problems("{\"program\": {\"id\": \"x\"},\n \"earn\": [\n") ==
          "f.yaml:2:10: not valid YAML or JSON: this [ is never closed (the file ends without its "
          "])\n");
    // Brackets inside quotes, comments and plain scalars are not counted; closed ones are.
    CHECK(document_problems("a: \"{[\"\nb: 'x[''y'  # c {\nc: u{v}\nd: [1, {e: \"]\"}\n") ==
          "f.yaml:4:4: not valid YAML or JSON: this [ is never closed (the file ends without its "
          "])\n");
}

TEST_CASE("a missing comma is reported where the parser stopped, naming the bracket it was in",
          "[document]") {
    // yaml-cpp says "end of map flow not found" there too: the bracket is closed later, so
    // "never closed" would send the reader to the wrong place.
    CHECK(document_problems("{\"a\": {\"b\": 1\n  \"c\": 2},\n \"d\": 3}\n") ==
          "f.yaml:2:6: not valid YAML or JSON: expected a , or } here, in the { opened at line 1, "
          "column 7 (a comma missing before this?)\n");
    CHECK(document_problems("when: {\"==\": [{\"var\": \"x\"} \"app\"]}\n") ==
          "f.yaml:1:28: not valid YAML or JSON: expected a , or ] here, in the [ opened at line 1, "
          "column 14 (a comma missing before this?)\n");
}

TEST_CASE("a closing quote left out is reported at the quote", "[document]") {
    CHECK(document_problems("a: 1\nname: \"Bean & Leaf\nb: 2\nc:\n  d: 3\n  e: \"x\"\n") ==
          "f.yaml:2:7: not valid YAML or JSON: this quoted text runs on over line breaks, and the "
          "parser gave up at line 6, column 7 (end of map not found): is its closing quote "
          "missing?\n");
}

TEST_CASE("a bracket left open inside another is reported where it was opened", "[document]") {
    CHECK(document_problems("{\"r\": [\n  {\"id\": \"x\", \"cost\": 5\n  {\"id\": \"y\"}\n]}\n") ==
          "f.yaml:2:3: not valid YAML or JSON: this { is not closed before the ] at line 4, column "
          "1 (is its } missing?)\n");
}

TEST_CASE("a comma outside any list or mapping is an error at it, and the check ends",
          "[document]") {
    // yaml-cpp 0.7 reads an empty document at such a comma for ever: LoadAll never returned (the
    // program fuzzer's timeout on ", b"), and Load read the text before it, or nothing.
    CHECK(document_problems(", b\n") ==
          "f.yaml:1:1: not valid YAML or JSON: a `,` outside any [ ] or { }\n");
    CHECK(document_problems("[a], b\n") ==
          "f.yaml:1:4: not valid YAML or JSON: a `,` outside any [ ] or { }\n");
    CHECK(document_problems("currency: USD\n---\n, b\n") ==
          "f.yaml:3:1: not valid YAML or JSON: a `,` outside any [ ] or { }\n");
    CHECK(document_problems("- a\n,\n") ==
          "f.yaml:2:1: not valid YAML or JSON: a `,` outside any [ ] or { }\n");
    // Empty documents, and commas inside lists and mappings, are fine.
    CHECK(document_problems("---\n---\n---\n") == "");
    CHECK(document_problems("a: [1, 2]\nb: {c: 1, d: 2}\n") == "");
}

TEST_CASE("columns count characters, not bytes, on lines with other alphabets", "[document]") {
    // "é" is two bytes, "☕" three and "😀" four: yaml-cpp's columns count the bytes.
    auto doc = parse_ok("program: {name: \"Café ☕ Crème 😀\", time_zone: Nowhere/Zone}\n"
                        "x: [\"☕\", 1]\n");
    CHECK(doc.value_position("program.time_zone").line == 1);
    CHECK(doc.value_position("program.time_zone").column == 46);
    CHECK(doc.key_position("program.time_zone").column == 35);
    CHECK(doc.value_position("x[1]").column == 10);
    auto json = parse_ok("{\"n\": \"ü\", \"z\": 5}");
    CHECK(json.value_position("z").column == 17);
}

TEST_CASE("a line indented with a tab is named in the syntax error", "[document]") {
    diagnostics problems;
    source_document::parse("a:\n  b: 1\n\tc: 2\n", "tab.yaml", problems);
    REQUIRE(problems.size() == 1);
    CHECK(problems.front().message.find(
              "(line 3 is indented with a tab; YAML indents with spaces only)") !=
          std::string::npos);
    problems.clear();
    source_document::parse("a: [1,\n", "bad.yaml", problems); // no tab: no hint
    REQUIRE(problems.size() == 1);
    CHECK(problems.front().message.find("tab") == std::string::npos);
}
