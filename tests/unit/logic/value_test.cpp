#include "loyalty/logic/js_number.hpp"
#include "loyalty/logic/value.hpp"

#include <catch2/catch.hpp>
#include <cmath>
#include <limits>
#include <string>

using loyalty::logic::canonical_encoding;
using loyalty::logic::js_infinity;
using loyalty::logic::stringify;
using loyalty::logic::to_json;
using loyalty::logic::truthy;
using loyalty::logic::value;
using loyalty::logic::value_kind;
using nlohmann::json;

namespace {
constexpr double not_a_number = std::numeric_limits<double>::quiet_NaN();
} // namespace

TEST_CASE("a borrowed value reads the JSON node it refers to", "[value]") {
    const json doc = json::parse(R"({"n":3,"u":18446744073709551615,"f":1.5,"s":"txt","b":true,
                                     "z":null,"a":[1,"x"],"o":{"k":"v"}})");
    value v = value::borrow(doc);
    REQUIRE(v.kind() == value_kind::object);
    CHECK(v.size() == 8);
    CHECK(v.member("n").as_number() == 3);
    CHECK(v.member("u").as_number() == 18446744073709551615.0);
    CHECK(v.member("f").as_number() == 1.5);
    CHECK(v.member("s").as_string() == "txt");
    CHECK(v.member("b").as_boolean());
    CHECK(v.member("z").is_null());
    CHECK(v.member("nope").is_undefined());
    CHECK(v.member("a").item(1).as_string() == "x");
    CHECK(v.member("o").members().at(0).first == "k");
    // The string is not copied.
    CHECK(v.member("s").as_string().data() == doc["s"].get_ref<const std::string&>().data());
}

TEST_CASE("arrays and objects compare by identity", "[value]") {
    const json doc = json::parse(R"({"a":[1],"b":[1]})");
    value a1 = value::borrow(doc["a"]);
    value a2 = value::borrow(doc).member("a");
    value b = value::borrow(doc["b"]);
    CHECK(a1.identical(a2));
    CHECK_FALSE(a1.identical(b));
    value built = value::array({value::number(1)});
    value copy = built;
    CHECK(built.identical(copy));
    CHECK_FALSE(built.identical(value::array({value::number(1)})));
    CHECK_FALSE(value::number(1).identical(value::number(1))); // identity is for objects only
}

TEST_CASE("truthiness is JavaScript's except for empty arrays", "[value]") {
    CHECK_FALSE(truthy(value()));
    CHECK_FALSE(truthy(value::null()));
    CHECK_FALSE(truthy(value::boolean(false)));
    CHECK_FALSE(truthy(value::number(0)));
    CHECK_FALSE(truthy(value::number(-0.0)));
    CHECK_FALSE(truthy(value::number(not_a_number)));
    CHECK_FALSE(truthy(value::string("")));
    CHECK_FALSE(truthy(value::array({})));
    CHECK(truthy(value::string("0")));
    CHECK(truthy(value::number(-1)));
    CHECK(truthy(value::array({value::number(0)})));
    CHECK(truthy(value::object({})));
}

TEST_CASE("stringify prints what JSON.stringify prints", "[value]") {
    struct row {
        value v;
        const char* text;
    };
    const row table[] = {
        {value(), "null"},
        {value::null(), "null"},
        {value::boolean(true), "true"},
        {value::number(1e-7), "1e-7"},
        {value::number(1e21), "1e+21"},
        {value::number(0.1 + 0.2), "0.30000000000000004"},
        {value::number(-0.0), "0"},
        {value::number(not_a_number), "null"},
        {value::number(-js_infinity), "null"},
        {value::number(1e20), "100000000000000000000"},
        {value::string("a\"b\\c\n\t\x01"), R"("a\"b\\c\n\t\u0001")"},
        {value::string("caf\xC3\xA9 \xF0\x9F\x98\x80"), "\"caf\xC3\xA9 \xF0\x9F\x98\x80\""},
        {value::string("\xED\xA0\xBD"), R"("\ud83d")"},
        {value::string("a\xFF"), "\"a\xEF\xBF\xBD\""},
        {value::array({value(), value::number(1), value::string("x")}), R"([null,1,"x"])"},
        {value::object({{"a", value()}, {"b", value::number(2)}}), R"({"b":2})"},
        {value::object({}), "{}"},
    };
    for (const auto& r : table) {
        INFO(r.text);
        CHECK(stringify(r.v) == r.text);
    }
}

TEST_CASE("to_json follows JSON.stringify", "[value]") {
    CHECK(to_json(value()) == json(nullptr));
    CHECK(to_json(value::number(not_a_number)) == json(nullptr));
    CHECK(to_json(value::number(js_infinity)) == json(nullptr));
    json three = to_json(value::number(3.0));
    CHECK(three.is_number_integer());
    CHECK(three == 3);
    CHECK(to_json(value::number(-0.0)).dump() == "0");
    CHECK(to_json(value::number(2.5)) == 2.5);
    CHECK(to_json(value::number(1e19)).is_number_unsigned());
    CHECK(to_json(value::array({value(), value::boolean(false)})) == json::parse("[null,false]"));
    CHECK(to_json(value::object({{"gone", value()}, {"kept", value::null()}})) ==
          json::parse(R"({"kept":null})"));
    // Not UTF-8 in, well-formed out: dump() must not throw.
    CHECK(to_json(value::string("\xED\xA0\xBDx\xFF")).dump() == "\"\xEF\xBF\xBDx\xEF\xBF\xBD\"");
    const json doc = json::parse(R"({"a":[1,{"b":null}]})");
    CHECK(to_json(value::borrow(doc)) == doc);
}

TEST_CASE("the canonical encoding tells every JavaScript value apart", "[value]") {
    CHECK(canonical_encoding(value()) == "undefined");
    CHECK(canonical_encoding(value::null()) == "null");
    CHECK(canonical_encoding(value::number(0)) == "n:0");
    CHECK(canonical_encoding(value::number(-0.0)) == "n:-0");
    CHECK(canonical_encoding(value::number(not_a_number)) == "n:NaN");
    CHECK(canonical_encoding(value::number(-js_infinity)) == "n:-Infinity");
    CHECK(canonical_encoding(value::number(1e21)) == "n:1e+21");
    CHECK(canonical_encoding(value::string("1")) == "\"1\"");
    CHECK(canonical_encoding(value::string("\xC3\xA9\xF0\x9F\x98\x80\"\\")) ==
          R"("\u00e9\ud83d\ude00\"\\")");
    CHECK(canonical_encoding(value::array({value(), value::boolean(true)})) == "[undefined,true]");
    CHECK(canonical_encoding(value::object({{"b", value::number(1)}, {"a", value()}})) ==
          R"({"a":undefined,"b":n:1})");
}
