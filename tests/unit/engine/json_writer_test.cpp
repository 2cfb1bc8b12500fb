// json_writer.hpp: the text it writes is byte for byte nlohmann's dump() of the same values.
#include "loyalty/engine/json_writer.hpp"

#include <catch2/catch.hpp>
#include <cstdint>
#include <limits>
#include <nlohmann/json.hpp>
#include <random>

namespace {

using loyalty::engine::json_writer;
using nlohmann::json;

// Writes `j` with the writer, in nlohmann's own key order (objects are sorted maps).
void write(json_writer& w, const json& j) {
    switch (j.type()) {
    case json::value_t::object:
        w.begin_object();
        for (const auto& [k, v] : j.items()) {
            w.key(k);
            write(w, v);
        }
        w.end_object();
        break;
    case json::value_t::array:
        w.begin_array();
        for (const auto& v : j) {
            write(w, v);
        }
        w.end_array();
        break;
    case json::value_t::string:
        w.value(j.get_ref<const std::string&>());
        break;
    case json::value_t::boolean:
        w.value(j.get<bool>());
        break;
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
        w.value(j.get<std::int64_t>());
        break;
    case json::value_t::null:
        w.null();
        break;
    default:
        FAIL("the writer has no floating-point or binary values");
    }
}

std::string written(const json& j) {
    json_writer w;
    write(w, j);
    return std::move(w).text();
}

json random_document(std::mt19937& rng, int depth) {
    static const std::vector<std::string> words = {"",
                                                   "a",
                                                   "earn",
                                                   "34 leaves: 2 per $1",
                                                   "quote\"d",
                                                   "back\\slash",
                                                   "tab\there",
                                                   "line\nbreak",
                                                   "caf\xc3\xa9",
                                                   "\xe2\x82\xac 5",
                                                   "\x01\x1f\x7f",
                                                   "emoji \xf0\x9f\x8d\xb5"};
    int kind = std::uniform_int_distribution<int>(0, depth > 3 ? 3 : 5)(rng);
    switch (kind) {
    case 0:
        return words[rng() % words.size()];
    case 1:
        return static_cast<std::int64_t>(rng()) - static_cast<std::int64_t>(rng());
    case 2:
        return rng() % 2 == 0;
    case 3:
        return nullptr;
    case 4: {
        json a = json::array();
        for (unsigned n = rng() % 4; n > 0; --n) {
            a.push_back(random_document(rng, depth + 1));
        }
        return a;
    }
    default: {
        json o = json::object();
        for (unsigned n = rng() % 4; n > 0; --n) {
            o[words[rng() % words.size()]] = random_document(rng, depth + 1);
        }
        return o;
    }
    }
}

} // namespace

TEST_CASE("every ASCII character is escaped as nlohmann escapes it") {
    for (int c = 0; c < 0x80; ++c) {
        std::string s = "x" + std::string(1, static_cast<char>(c)) + "y";
        INFO("character " << c);
        REQUIRE(written(json(s)) == json(s).dump());
    }
}

TEST_CASE("every ASCII character is escaped alike in a key, first, last or alone") {
    // A string is copied whole when nothing in it needs escaping, and escaped from the first
    // byte that does: the character is put at each end of the string and in keys as in values.
    for (int c = 0; c < 0x80; ++c) {
        std::string ch(1, static_cast<char>(c));
        for (const std::string& s : {ch, ch + "ab", "ab" + ch, ch + ch}) {
            INFO("character " << c << " in \"" << s << "\"");
            json doc = {{s, s}};
            REQUIRE(written(doc) == doc.dump());
        }
    }
}

TEST_CASE("a character to escape is found at any place of a long string") {
    // Strings are scanned eight bytes at a time, a last part-word padded: each character to
    // escape, and some that are not (0x7f, a three-byte UTF-8 sequence), at every place of
    // strings of every length up to three words and a bit, among ASCII letters and among
    // two-byte UTF-8 sequences.
    const std::vector<std::string> specials = {
        "\"", "\\", "\x1f", "\n", std::string(1, '\0'), "\x7f", "\xe2\x82\xac"};
    for (const std::string& special : specials) {
        for (std::size_t length = 1; length <= 27; ++length) {
            for (std::size_t before = 0; before < length; ++before) {
                std::string ascii =
                    std::string(before, 'a') + special + std::string(length - 1 - before, 'b');
                std::string utf8 = std::string(before % 2, 'a');
                for (std::size_t i = 0; i < before / 2; ++i) {
                    utf8 += "\xc3\xa9";
                }
                utf8 += special + "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9";
                for (const std::string& s : {ascii, utf8}) {
                    INFO("\"" << s << "\"");
                    json doc = {{s, s}};
                    REQUIRE(written(doc) == doc.dump());
                }
            }
        }
    }
}

TEST_CASE("an empty view is written as an empty string, in a key and in a value") {
    // A default-constructed view holds no pointer: under UBSan, copying from it would stop the
    // test (the request log writes an absent key id this way).
    json_writer w;
    w.begin_object().field("key", std::string_view()).field(std::string_view(), "").end_object();
    REQUIRE(w.text() == R"({"key":"","":""})");
}

TEST_CASE("UTF-8 passes through unescaped, as nlohmann writes it without ensure_ascii") {
    std::string s = "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x8d\xb5";
    REQUIRE(written(json(s)) == json(s).dump());
    REQUIRE(written(json(s)) == "\"" + s + "\"");
}

TEST_CASE("integers at their limits") {
    for (std::int64_t n :
         {std::int64_t{0}, std::int64_t{-1}, std::int64_t{9'007'199'254'740'993},
          std::numeric_limits<std::int64_t>::min(), std::numeric_limits<std::int64_t>::max()}) {
        REQUIRE(written(json(n)) == json(n).dump());
    }
}

TEST_CASE("commas and colons in nested and empty containers") {
    json j = {{"a", json::array()},
              {"b", json::object()},
              {"c", {1, json::array(), json::object(), {{"d", nullptr}}}},
              {"e", {{"f", {{"g", true}}}, {"h", false}}}};
    REQUIRE(written(j) == j.dump());
    REQUIRE(written(json::array()) == "[]");
    REQUIRE(written(json::object()) == "{}");
}

TEST_CASE("field() writes a key and its value, raw() inserts a JSON text as one value") {
    json_writer w;
    w.begin_object().field("points", 34).key("stored").raw(R"({"x":[1,2]})").field("ok", true);
    w.field("name", std::string("Ada")).end_object();
    REQUIRE(w.text() == R"({"points":34,"stored":{"x":[1,2]},"ok":true,"name":"Ada"})");
}

TEST_CASE("random documents are written exactly as nlohmann dumps them") {
    std::mt19937 rng(20261202);
    for (int i = 0; i < 2000; ++i) {
        json j = random_document(rng, 0);
        INFO(j.dump());
        REQUIRE(written(j) == j.dump());
    }
}

TEST_CASE("a writer appends to the text it was given") {
    json_writer w(std::string("prefix "));
    w.begin_array().value(1).value("two").end_array();
    REQUIRE(w.text() == "prefix [1,\"two\"]");
}
