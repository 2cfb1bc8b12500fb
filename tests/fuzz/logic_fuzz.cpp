// Fuzz target: the JsonLogic compiler and evaluator, as `loyalty logic RULE_JSON [DATA_JSON]`
// and the program's conditions use them.
//
// Input: the rule's JSON, a newline, then the data's JSON (no newline: the data is null, as
// without DATA_JSON). Inputs that are not JSON are dropped early: the JSON parser has its own
// fuzzing upstream.
//
// Checks: nothing throws or crashes; a refused rule says where and why; an evaluation within
// the default limits gives a result that converts to JSON and text, test() agrees with the
// truthiness of evaluate(), evaluating again gives the same result, and tighter limits refuse
// (step_limit, size_limit) or give the same result, never another one.

#include "fuzz_support.hpp"
#include "loyalty/logic/rule.hpp"
#include "loyalty/logic/value.hpp"

#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

using namespace loyalty;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view input = fuzz::text_of(data, size);
    auto newline = input.find('\n');
    std::string_view rule_text = input.substr(0, newline);
    std::string_view data_text =
        newline == std::string_view::npos ? std::string_view("null") : input.substr(newline + 1);

    auto rule_doc = nlohmann::json::parse(rule_text, nullptr, false);
    auto data_doc = nlohmann::json::parse(data_text, nullptr, false);
    if (rule_doc.is_discarded() || data_doc.is_discarded()) {
        return -1; // not JSON: not worth adding to the corpus
    }

    auto compiled = logic::compile(rule_doc);
    if (!compiled) {
        fuzz::check(!compiled.error().empty(), "compile refused a rule without saying why");
        for (const auto& e : compiled.error()) {
            fuzz::check(!e.message.empty(), "a compile error without a message");
            (void)logic::to_string(e.where);
        }
        return 0;
    }
    for (const auto& v : compiled->variables()) {
        (void)logic::to_string(v.where);
    }
    fuzz::check(compiled->source() == rule_doc, "the compiled rule's source is not the rule");

    auto result = logic::evaluate(*compiled, data_doc);
    auto tested = logic::test(*compiled, data_doc);
    fuzz::check(result.has_value() == tested.has_value(),
                "test() and evaluate() disagree on failing");
    if (!result) {
        fuzz::check(!result.error().message.empty(), "an evaluation error without a message");
        fuzz::check(tested.error().code == result.error().code,
                    "test() and evaluate() fail differently", result.error().message);
        return 0;
    }
    fuzz::check(*tested == logic::truthy(*result), "test() is not the truthiness of evaluate()");

    std::string text = logic::stringify(*result);
    std::string canonical = logic::canonical_encoding(*result);
    nlohmann::json as_json = logic::to_json(*result);
    // What `loyalty logic` prints must be JSON (nlohmann refuses the \uXXXX escapes of lone
    // surrogates that JSON.stringify writes), and the JSON view must serialise.
    fuzz::check(!nlohmann::json::parse(text, nullptr, false).is_discarded() ||
                    text.find("\\ud") != std::string::npos,
                "stringify() printed something that is not JSON", text);
    (void)as_json.dump();

    auto again = logic::evaluate(*compiled, data_doc);
    fuzz::check(again.has_value(), "a second evaluation failed", canonical);
    fuzz::check(logic::canonical_encoding(*again) == canonical, "evaluation is not deterministic",
                canonical);

    // Tighter limits may refuse the evaluation, never change its result.
    logic::eval_limits tight;
    tight.max_steps = 200;
    tight.max_string_bytes = 64;
    tight.max_array_items = 8;
    auto limited = logic::evaluate(*compiled, data_doc, tight);
    if (limited) {
        fuzz::check(logic::canonical_encoding(*limited) == canonical,
                    "a tighter limit changed the result", canonical);
    } else {
        fuzz::check(limited.error().code != logic::eval_errc::type_error,
                    "a tighter limit turned into a type error", limited.error().message);
    }
    return 0;
}
