#include "loyalty/logic/rule.hpp"

#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

using namespace loyalty::logic;
using nlohmann::json;

namespace {

const std::string all_operators =
    "==, ===, !=, !==, !, !!, >, >=, <, <=, and, or, if, ?:, var, missing, missing_some, max, "
    "min, +, -, *, /, %, map, filter, reduce, all, none, some, merge, in, cat, substr, log";

rule compiled(const std::string& text) {
    auto r = compile(json::parse(text));
    if (!r) {
        FAIL("does not compile: " << text << ": " << r.error().front().message);
    }
    return *r;
}

// The result in the canonical encoding, or "error: <code>".
std::string run(const std::string& rule_text, const std::string& data_text = "null") {
    const json data = json::parse(data_text); // the result may borrow from it
    auto result = evaluate(compiled(rule_text), data);
    if (!result) {
        return "error: " + std::to_string(static_cast<int>(result.error().code));
    }
    return canonical_encoding(*result);
}

std::vector<compile_error> errors_of(const std::string& text, const compile_options& options = {}) {
    auto r = compile(json::parse(text), options);
    REQUIRE_FALSE(r);
    return r.error();
}

std::string type_error = "error: " + std::to_string(static_cast<int>(eval_errc::type_error));
std::string step_limit = "error: " + std::to_string(static_cast<int>(eval_errc::step_limit));
std::string size_limit = "error: " + std::to_string(static_cast<int>(eval_errc::size_limit));

} // namespace

TEST_CASE("an unknown operator is reported with the list of operators", "[rule][compile]") {
    auto errors = errors_of(R"({"and":[{"bteween":1}]})");
    REQUIRE(errors.size() == 1);
    CHECK(errors[0].where == json_path{"and", std::size_t{0}, "bteween"});
    CHECK(to_string(errors[0].where) == "and[0].bteween");
    CHECK(errors[0].message == "unknown operator \"bteween\"; expected one of: " + all_operators);
}

TEST_CASE("a close operator name is suggested", "[rule][compile]") {
    auto errors = errors_of(R"({"fliter":[[1],true]})");
    REQUIRE(errors.size() == 1);
    CHECK(errors[0].message ==
          "unknown operator \"fliter\" (did you mean \"filter\"?); expected one of: " +
              all_operators);
    CHECK(errors_of(R"({"=":[1,1]})")[0].message.starts_with(
        "unknown operator \"=\" (did you mean \"==\"?)"));
    CHECK(errors_of(R"({"mapp":[[1],1]})")[0].message.starts_with(
        "unknown operator \"mapp\" (did you mean \"map\"?)"));
}

TEST_CASE("method is not an operator", "[rule][compile]") {
    auto errors = errors_of(R"({"method":["abc","toUpperCase"]})");
    REQUIRE(errors.size() == 1);
    CHECK(errors[0].where == json_path{"method"});
    CHECK(errors[0].message == "unknown operator \"method\"; calling methods of values is not "
                               "supported; expected one of: " +
                                   all_operators);
    auto names = operator_names();
    CHECK(names.size() == 35);
    CHECK(std::find(names.begin(), names.end(), "method") == names.end());
    CHECK(std::find(names.begin(), names.end(), "?:") != names.end());
}

TEST_CASE("arity is checked where the reference would be meaningless", "[rule][compile]") {
    struct row {
        const char* rule;
        const char* where;
        const char* message;
    };
    const row table[] = {
        {R"({"==":[1,2,3]})", R"(["=="])", R"("==" expects exactly 2 arguments, found 3)"},
        {R"({"!==":5})", R"(["!=="])", R"("!==" expects exactly 2 arguments, found 1)"},
        {R"({"<":[1]})", R"(["<"])", R"("<" expects 2 or 3 arguments, found 1)"},
        {R"({"!":[]})", R"(["!"])", R"("!" expects exactly 1 argument, found 0)"},
        {R"({"-":[1,2,3]})", R"(["-"])", R"("-" expects 1 or 2 arguments, found 3)"},
        {R"({"*":[]})", R"(["*"])", R"("*" expects at least 1 argument, found 0)"},
        {R"({"var":[1,2,3]})", "var", R"("var" expects 0 to 2 arguments, found 3)"},
        {R"({"substr":["a"]})", "substr", R"("substr" expects 2 or 3 arguments, found 1)"},
        {R"({"reduce":[[],1,2,3]})", "reduce", R"("reduce" expects 2 or 3 arguments, found 4)"},
        {R"({"some":[[]]})", "some", R"("some" expects exactly 2 arguments, found 1)"},
        {R"({"log":[1,2]})", "log", R"("log" expects exactly 1 argument, found 2)"},
        {R"({"missing_some":[1,[],3]})", "missing_some",
         R"("missing_some" expects exactly 2 arguments, found 3)"},
    };
    for (const auto& r : table) {
        INFO(r.rule);
        auto errors = errors_of(r.rule);
        REQUIRE(errors.size() == 1);
        CHECK(to_string(errors[0].where) == r.where);
        CHECK(errors[0].message == r.message);
    }
    // Variadic operators accept any count, including none.
    CHECK(run(R"({"and":[]})") == "undefined");
    CHECK(run(R"({"if":[]})") == "null");
    CHECK(run(R"({"cat":[]})") == R"("")");
}

TEST_CASE("literal arguments of an impossible type are rejected", "[rule][compile]") {
    struct row {
        const char* rule;
        const char* where;
        const char* message;
    };
    const row table[] = {
        {R"({"var":true})", "var",
         R"(the path of "var" must be a string, a number or an operation; found a boolean (true))"},
        {R"({"var":[["a"],1]})", "var[0]",
         R"(the path of "var" must be a string, a number or an operation; found an array)"},
        {R"({"missing_some":["1",["a"]]})", "missing_some[0]",
         R"(the count of "missing_some" must be a number or an operation; found a string ("1"))"},
        {R"({"missing_some":[1,null]})", "missing_some[1]",
         R"(the names of "missing_some" must be an array of names or an operation; found null)"},
        {R"({"missing":[["a",false]]})", "missing[0][1]",
         R"(a name given to "missing" must be a string, a number or an operation; found a boolean (false))"},
        {R"({"filter":[5,true]})", "filter[0]",
         R"(the first argument of "filter" must be an array or an operation; found a number (5))"},
        {R"({"in":["a",null]})", "in[1]",
         R"(the second argument of "in" must be a string, an array or an operation; found null)"},
        {R"({"substr":["abc",1,true]})", "substr[2]",
         R"(the length of "substr" must be a number or an operation; found a boolean (true))"},
    };
    for (const auto& r : table) {
        INFO(r.rule);
        auto errors = errors_of(r.rule);
        REQUIRE(errors.size() == 1);
        CHECK(to_string(errors[0].where) == r.where);
        CHECK(errors[0].message == r.message);
    }
    // An operation in the same place is fine: its value is only known with the data.
    CHECK(compile(json::parse(R"({"var":{"cat":["a",".b"]}})")).has_value());
    CHECK(compile(json::parse(R"({"map":[{"var":"x"},1]})")).has_value());
}

TEST_CASE("an object without exactly one key is not an operation", "[rule][compile]") {
    auto errors = errors_of(R"({"and":[true,{"==":[1,1],"<":[1,2]}]})");
    REQUIRE(errors.size() == 1);
    CHECK(errors[0].where == json_path{"and", std::size_t{1}});
    CHECK(errors[0].message == "an object with 2 keys is not an operation; an operation has "
                               "exactly one key, the operator");
    auto root = errors_of("{}");
    REQUIRE(root.size() == 1);
    CHECK(root[0].where.empty());
    CHECK(root[0].message == "an object with 0 keys is not an operation; an operation has exactly "
                             "one key, the operator");
    // Inside a literal array an object is data, returned as is.
    CHECK(run(R"([{"a":1,"b":2}])") == R"([{"a":n:1,"b":n:2}])");
}

TEST_CASE("every problem is reported, in document order", "[rule][compile]") {
    auto errors = errors_of(R"({"and":[{"==":[1]},{"bteween":1},{"var":true},{"or":[{"%":1}]}]})");
    REQUIRE(errors.size() == 4);
    CHECK(to_string(errors[0].where) == R"(and[0]["=="])");
    CHECK(to_string(errors[1].where) == "and[1].bteween");
    CHECK(to_string(errors[2].where) == "and[2].var");
    CHECK(to_string(errors[3].where) == R"(and[3].or[0]["%"])");
}

TEST_CASE("nesting deeper than max_depth is rejected", "[rule][compile]") {
    compile_options shallow;
    shallow.max_depth = 3;
    CHECK(compile(json::parse(R"({"!":{"!":{"!":true}}})"), shallow).has_value());
    auto errors = errors_of(R"({"!":{"!":{"!":{"!":true}}}})", shallow);
    REQUIRE(errors.size() == 1);
    CHECK(to_string(errors[0].where) == R"(["!"]["!"]["!"])");
    CHECK(errors[0].message == "the rule nests deeper than 3 levels of operations and literal "
                               "arrays");
    // Literal arrays count as levels too.
    CHECK_FALSE(compile(json::parse(R"({"in":[1,[[[1]]]]})"), shallow).has_value());

    // A hostile document, far deeper than any stack would survive if walked recursively.
    const std::size_t depth = 200'000;
    std::string text(depth, '[');
    text.append(depth, ']');
    auto deep_arrays = compile(json::parse(text));
    REQUIRE_FALSE(deep_arrays);
    CHECK(deep_arrays.error().size() == 1);
    std::string ops;
    for (std::size_t i = 0; i < depth; ++i) {
        ops += R"({"!":)";
    }
    ops += "true";
    ops.append(depth, '}');
    auto deep_ops = compile(json::parse(ops));
    REQUIRE_FALSE(deep_ops);
    CHECK(deep_ops.error()[0].where.size() == 64);
}

TEST_CASE("variables lists literal paths read from the rule's own data", "[rule][compile]") {
    rule r = compiled(R"({"and":[
        {"==":[{"var":"transaction.channel"},"web"]},
        {"some":[{"var":"lines"},{"==":[{"var":"category"},"coffee"]}]},
        {"reduce":[{"var":"x"},{"+":[{"var":"current"},{"var":"accumulator"}]},{"var":["init",0]}]},
        {"var":1},
        {"var":""},
        {"var":{"var":"dyn"}},
        {"map":[{"var":"items"},{"var":"price"}]}
    ]})");
    const auto& vars = r.variables();
    REQUIRE(vars.size() == 7);
    CHECK(vars[0].name == "transaction.channel");
    CHECK(to_string(vars[0].where) == R"(and[0]["=="][0].var)");
    CHECK(vars[1].name == "lines");
    CHECK(to_string(vars[1].where) == "and[1].some[0].var");
    CHECK(vars[2].name == "x");
    CHECK(vars[3].name == "init");
    CHECK(to_string(vars[3].where) == "and[2].reduce[2].var");
    CHECK(vars[4].name == "1");
    CHECK(vars[5].name == "dyn");
    CHECK(to_string(vars[5].where) == "and[5].var.var");
    CHECK(vars[6].name == "items");
}

TEST_CASE("paths render as accessors", "[rule]") {
    CHECK(to_string({}).empty());
    CHECK(to_string({"and", std::size_t{0}, "bteween"}) == "and[0].bteween");
    CHECK(to_string({"and", std::size_t{1}, ">=", std::size_t{0}}) == R"(and[1][">="][0])");
    CHECK(to_string({std::size_t{2}}) == "[2]");
    CHECK(to_string({"a b", "_ok9", "9lives", R"(q"uote)", ""}) ==
          R"(["a b"]._ok9["9lives"]["q\"uote"][""])");
}

TEST_CASE("operators evaluate as json-logic-js does", "[rule][evaluate]") {
    struct row {
        const char* rule;
        const char* data;
        const char* result;
    };
    const row table[] = {
        {R"({"var":"a.b.1"})", R"({"a":{"b":[5,6]}})", "n:6"},
        {R"({"var":["a.x","dflt"]})", R"({"a":{"x":null}})", "null"},
        {R"({"var":"s.length"})", R"({"s":"h\u00e9\ud83d\ude00"})", "n:4"},
        {R"({"var":"a.01"})", R"({"a":[1,2]})", "null"},
        {R"({"var":"toString"})", R"({})", "null"},
        {R"({"missing":["a","b","c"]})", R"({"a":0,"b":""})", R"(["b","c"])"},
        {R"({"missing_some":[1,["a","b"]]})", R"({"b":1})", "[]"},
        {R"({"missing_some":[2,["a","b"]]})", R"({"b":1})", R"(["a"])"},
        {R"({"if":[false,1,"",2,3]})", "null", "n:3"},
        {R"({"and":[1,0,2]})", "null", "n:0"},
        {R"({"or":[0,"",null]})", "null", "null"},
        {R"({"==":[[1,2],"1,2"]})", "null", "true"},
        {R"({"==":[[1],[1]]})", "null", "false"},
        {R"({"==":[{"var":"a"},{"var":"a"}]})", R"({"a":[1]})", "true"},
        {R"({"===":[1,"1"]})", "null", "false"},
        {R"({"!=":[null,{"and":[]}]})", "null", "false"},
        {R"({"!==":[0,{"-":[0]}]})", "null", "false"},
        {R"({"!":[[]]})", "null", "true"},
        {R"({"!!":"0"})", "null", "true"},
        {R"({">":["b","a"]})", "null", "true"},
        {R"({">=":[null,0]})", "null", "true"},
        {R"({"<":["10","9"]})", "null", "true"},
        {R"({"<":[1,2,3]})", "null", "true"},
        {R"({"<=":[1,4,3]})", "null", "false"},
        {R"({"max":[]})", "null", "n:-Infinity"},
        {R"({"min":[1,"a"]})", "null", "n:NaN"},
        {R"({"+":["3px",1]})", "null", "n:4"},
        {R"({"-":[[]]})", "null", "n:-0"},
        {R"({"*":["3"]})", "null", R"("3")"},
        {R"({"*":[-1,0]})", "null", "n:-0"},
        {R"({"/":[1,0]})", "null", "n:Infinity"},
        {R"({"%":[-7,3]})", "null", "n:-1"},
        {R"({"map":[[1,2],{"*":[{"var":""},2]}]})", "null", "[n:2,n:4]"},
        {R"({"filter":[[1,2,3],{">":[{"var":""},1]}]})", "null", "[n:2,n:3]"},
        {R"({"reduce":[[1,2],{"+":[{"var":"current"},{"var":"accumulator"}]},0]})", "null", "n:3"},
        {R"({"reduce":[[1],{"var":""}]})", "null", R"({"accumulator":null,"current":n:1})"},
        {R"({"all":[[],true]})", "null", "false"},
        {R"({"none":[[],true]})", "null", "true"},
        {R"({"some":[[0,1],{"var":""}]})", "null", "true"},
        {R"({"merge":[[1],[[2]],3]})", "null", "[n:1,[n:2],n:3]"},
        {R"({"in":["b","abc"]})", "null", "true"},
        {R"({"in":["1",[1]]})", "null", "false"},
        {R"({"cat":[null,1e21,[1,[2]],true]})", "null", R"("1e+211,2true")"},
        {R"({"substr":["abcdef",-3,-1]})", "null", R"("de")"},
        {R"({"substr":["a\ud83d\ude00b",1,1]})", "null", R"("\ud83d")"},
        {R"({"log":"x"})", "null", R"("x")"},
    };
    for (const auto& r : table) {
        INFO(r.rule << " on " << r.data);
        CHECK(run(r.rule, r.data) == r.result);
    }
}

TEST_CASE("where json-logic-js throws, evaluation reports a type error", "[rule][evaluate]") {
    rule r = compiled(R"({"missing_some":[1,{"var":"names"}]})");
    auto result = evaluate(r, json::parse(R"({"names":null})"));
    REQUIRE_FALSE(result);
    CHECK(result.error().code == eval_errc::type_error);
    CHECK(result.error().message == "the names given to \"missing_some\" are null, not an array");
    // Short-circuiting skips it, as in JavaScript.
    CHECK(run(R"({"or":[1,{"missing_some":[1,{"var":"names"}]}]})", "{}") == "n:1");
    CHECK(run(R"({"and":[1,{"missing_some":[1,{"var":"names"}]}]})", "{}") == type_error);
}

TEST_CASE("data is never evaluated as logic", "[rule][evaluate]") {
    rule r = compiled(R"({"missing":{"var":"keys"}})");
    auto result = evaluate(r, json::parse(R"({"keys":[{"var":"a"}]})"));
    REQUIRE_FALSE(result);
    CHECK(result.error().code == eval_errc::type_error);
    CHECK(result.error().message ==
          "\"missing\" was given an object with one key, which JsonLogic would run as an "
          "operation; data is never evaluated as logic");
    CHECK(run(R"({"missing":{"var":"keys"}})", R"({"keys":["a","b"],"a":1})") == R"(["b"])");
}

TEST_CASE("the step limit stops long evaluations", "[rule][limits]") {
    json data;
    data["items"] = json::array();
    for (int i = 0; i < 60'000; ++i) {
        data["items"].push_back(i);
    }
    rule r = compiled(R"({"map":[{"var":"items"},{"+":[{"var":""},1]}]})");
    auto result = evaluate(r, data);
    REQUIRE_FALSE(result);
    CHECK(result.error().code == eval_errc::step_limit);
    CHECK(result.error().message == "the rule needed more than 100000 evaluation steps");

    // some (1) + var (1) + one step per element visited (6) = 8 steps.
    const rule some = compiled(R"({"some":[{"var":"a"},false]})");
    const json six = json::parse(R"({"a":[1,2,3,4,5,6]})");
    eval_limits tight;
    tight.max_steps = 7;
    auto small = evaluate(some, six, tight);
    REQUIRE_FALSE(small);
    CHECK(small.error().code == eval_errc::step_limit);
    CHECK(small.error().message == "the rule needed more than 7 evaluation steps");
    eval_limits enough;
    enough.max_steps = 8;
    CHECK(evaluate(some, six, enough).has_value());
}

TEST_CASE("the size limits stop operations that build too much", "[rule][limits]") {
    json data;
    data["a"] = json::array();
    for (int i = 0; i < 40'000; ++i) {
        data["a"].push_back(i);
    }
    rule huge_map = compiled(R"({"map":[{"merge":[{"var":"a"},{"var":"a"}]},1]})");
    auto result = evaluate(huge_map, data);
    REQUIRE_FALSE(result);
    CHECK(result.error().code == eval_errc::size_limit);
    CHECK(result.error().message == "\"merge\" would build an array longer than 65536 items");

    data["s"] = std::string(600'000, 'x');
    auto cat = evaluate(compiled(R"({"cat":[{"var":"s"},{"var":"s"}]})"), data);
    REQUIRE_FALSE(cat);
    CHECK(cat.error().code == eval_errc::size_limit);
    CHECK(cat.error().message == "\"cat\" would build a string longer than 1048576 bytes");

    // Each reduce step wraps the accumulator in a new array.
    std::string nest = R"({"reduce":[{"var":"a"},[{"var":"accumulator"}],0]})";
    CHECK(run(nest, data.dump()) == size_limit);
}

TEST_CASE("deep data cannot exhaust the stack", "[rule][limits]") {
    const std::size_t depth = 100'000;
    std::string text(depth, '[');
    text += "1";
    text.append(depth, ']');
    json data = json::parse(text);
    CHECK(run(R"({"merge":[{"var":""},{"var":""}]})", text) == size_limit);
    CHECK(run(R"({"var":""})", text) == size_limit);
    CHECK(run(R"({"cat":[{"var":""}]})", text) == type_error);
    CHECK(run(R"({"==":[{"var":""},"1"]})", text) == type_error);
    CHECK(run(R"({"in":[1,{"var":""}]})", text) == "false");
    CHECK(run(R"({"var":"0.0.0.0"})", text) == size_limit);
}

TEST_CASE("invalid UTF-8 in data is handled byte by byte", "[rule][evaluate]") {
    json data;
    data["s"] = std::string("a\xFF"
                            "b\xC3");
    CHECK(run(R"({"var":"s.length"})", "null") == "null");
    auto length = evaluate(compiled(R"({"var":"s.length"})"), data);
    REQUIRE(length);
    CHECK(length->as_number() == 4);
    auto slice = evaluate(compiled(R"({"substr":[{"var":"s"},1,2]})"), data);
    REQUIRE(slice);
    CHECK(slice->as_string() == "\xFF"
                                "b");
    CHECK(stringify(*slice) == "\"\xEF\xBF\xBD"
                               "b\"");
    auto found = evaluate(compiled(R"({"in":["b",{"var":"s"}]})"), data);
    REQUIRE(found);
    CHECK(found->as_boolean());
}

TEST_CASE("a result outlives the rule that produced it", "[rule][evaluate]") {
    std::optional<value> kept;
    {
        rule r = compiled(R"({"if":[true,["a literal string longer than small buffers",[2]],0]})");
        auto result = evaluate(r, json());
        REQUIRE(result);
        kept = *result;
    }
    CHECK(stringify(*kept) == R"(["a literal string longer than small buffers",[2]])");
}

TEST_CASE("a compiled rule is evaluated from many threads at once", "[rule][evaluate]") {
    const rule r = compiled(R"({"if":[{">=":[{"var":"amount"},50]},
        {"cat":["big:",{"var":"amount"}]},
        {"reduce":[{"var":"lines"},{"+":[{"var":"accumulator"},{"var":"current"}]},0]}]})");
    std::atomic<int> wrong{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 8; ++t) {
        threads.emplace_back([&, t] {
            for (int i = 0; i < 2'000; ++i) {
                int amount = (t * 7 + i) % 100;
                json data = {{"amount", amount}, {"lines", {1, 2, amount}}};
                auto result = evaluate(r, data);
                std::string expected = amount >= 50 ? "\"big:" + std::to_string(amount) + "\""
                                                    : "n:" + std::to_string(3 + amount);
                if (!result || canonical_encoding(*result) != expected) {
                    ++wrong;
                }
            }
        });
    }
    for (auto& th : threads) {
        th.join();
    }
    CHECK(wrong.load() == 0);
}

TEST_CASE("test() applies JsonLogic truthiness", "[rule][evaluate]") {
    CHECK(test(compiled(R"({"var":"a"})"), json::parse(R"({"a":[]})")) == false);
    CHECK(test(compiled(R"({"var":"a"})"), json::parse(R"({"a":"0"})")) == true);
    CHECK(test(compiled(R"({"/":[0,0]})"), json()) == false);
    auto failed = test(compiled(R"({"missing_some":[1,{"var":"n"}]})"), json::object());
    REQUIRE_FALSE(failed);
    CHECK(failed.error().code == eval_errc::type_error);
}

TEST_CASE("the differential corpus's rejected rules are rejected", "[rule][compile]") {
    std::ifstream in(std::string(LOYALTY_SOURCE_DIR) + "/tests/differential/jsonlogic_corpus.json");
    REQUIRE(in);
    json corpus = json::parse(in);
    const auto& rejected = corpus.at("rejected");
    REQUIRE(rejected.size() >= 30);
    for (const auto& c : rejected) {
        INFO(c.at("name").get<std::string>());
        auto r = compile(c.at("rule"));
        REQUIRE_FALSE(r);
        const auto expected = c.at("error").get<std::string>();
        const auto where = c.at("where").get<std::string>();
        bool found = std::any_of(r.error().begin(), r.error().end(), [&](const compile_error& e) {
            return e.message.find(expected) != std::string::npos && to_string(e.where) == where;
        });
        INFO("first error: [" << to_string(r.error()[0].where) << "] " << r.error()[0].message);
        CHECK(found);
    }
    // And every case of the corpus compiles.
    for (const auto& c : corpus.at("cases")) {
        INFO(c.at("name").get<std::string>());
        CHECK(compile(c.at("rule")).has_value());
    }
}

TEST_CASE("a member compared with a constant answers as the general way does, step for step",
          "[rule][limits]") {
    // The evaluator reads {"op": [{"var": path}, constant]} in place (rule.cpp,
    // compare_member_with_constant and eval_in). A var with a default never takes that path, and a
    // null default changes nothing (a missing member is null either way), so each rule below is
    // evaluated both ways and must agree, on the answer and on where the step limit stops it.
    const json data = json::parse(R"({"t": {"n": 2, "m": -0.0, "f": 2.5, "big": 9007199254740993,
        "s": "store", "e": "", "u": "é", "b": true, "z": null, "arr": [1], "o": {}}})");
    const std::vector<std::string> paths = {"t.n", "t.m",  "t.f", "t.big",      "t.s",
                                            "t.e", "t.u",  "t.b", "t.z",        "t.arr",
                                            "t.o", "t.no", "t",   "t.s.length", "t.arr.0"};
    const std::vector<std::string> constants = {"2",         "0",     "2.5",   "9007199254740992",
                                                "\"store\"", "\"\"",  "\"2\"", "\"é\"",
                                                "true",      "false", "null",  "[]",
                                                "[1]"};
    const std::vector<std::string> operators = {"==", "!=", "===", "!==", ">", ">=", "<", "<="};
    auto outcome = [&](const rule& r, std::size_t steps) {
        eval_limits limits;
        limits.max_steps = steps;
        auto result = test(r, data, limits);
        return result ? std::string(*result ? "true" : "false") : result.error().message;
    };
    auto agree = [&](const std::string& fused_text, const std::string& general_text) {
        const rule fused = compiled(fused_text);
        const rule general = compiled(general_text);
        INFO(fused_text);
        for (std::size_t steps = 0; steps < 5; ++steps) {
            CHECK(outcome(fused, steps) == outcome(general, steps));
        }
        CHECK(run(fused_text, data.dump()) == run(general_text, data.dump()));
    };
    for (const auto& path : paths) {
        for (const auto& op : operators) {
            for (const auto& constant : constants) {
                agree(R"({")" + op + R"(": [{"var": ")" + path + R"("}, )" + constant + "]}",
                      R"({")" + op + R"(": [{"var": [")" + path + R"(", null]}, )" + constant +
                          "]}");
            }
        }
        for (const auto& list : {R"(["store", "x"])", R"(["x"])", R"([])", R"([2, "2"])"}) {
            agree(R"({"in": [{"var": ")" + path + R"("}, )" + list + "]}",
                  R"({"in": [{"var": [")" + path + R"(", null]}, )" + list + "]}");
        }
    }
}
