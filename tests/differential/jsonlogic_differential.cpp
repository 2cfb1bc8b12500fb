// Compares our evaluation of the differential corpus with json-logic-js's (written by
// run_reference.js), case by case, in the canonical encoding of value.hpp.
//
// usage: jsonlogic_differential CORPUS_JSON REFERENCE_JSON

#include "loyalty/logic/rule.hpp"

#include <cstddef>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

namespace {

constexpr std::size_t minimum_cases = 400;

std::optional<nlohmann::json> read_json(const char* path) {
    std::ifstream in(path);
    if (!in) {
        std::cerr << "cannot open " << path << '\n';
        return std::nullopt;
    }
    auto doc = nlohmann::json::parse(in, nullptr, false);
    if (doc.is_discarded()) {
        std::cerr << path << " is not valid JSON\n";
        return std::nullopt;
    }
    return doc;
}

std::string ours(const nlohmann::json& rule_doc, const nlohmann::json& data) {
    auto compiled = loyalty::logic::compile(rule_doc);
    if (!compiled) {
        std::string text = "compile error:";
        for (const auto& e : compiled.error()) {
            text += " [" + loyalty::logic::to_string(e.where) + "] " + e.message;
        }
        return text;
    }
    auto result = loyalty::logic::evaluate(*compiled, data);
    if (!result) {
        return "throws";
    }
    return loyalty::logic::canonical_encoding(*result);
}

} // namespace

int main(int argc, char** argv) {
    if (argc != 3) {
        std::cerr << "usage: jsonlogic_differential CORPUS_JSON REFERENCE_JSON\n";
        return 2;
    }
    auto corpus = read_json(argv[1]);
    auto reference = read_json(argv[2]);
    if (!corpus || !reference) {
        return 2;
    }
    const auto& cases = corpus->at("cases");
    const auto& results = reference->at("results");
    if (cases.size() != results.size()) {
        std::cerr << "the corpus has " << cases.size() << " cases but the reference answered "
                  << results.size() << '\n';
        return 1;
    }
    std::size_t passed = 0;
    std::size_t failed = 0;
    for (std::size_t i = 0; i < cases.size(); ++i) {
        const auto& c = cases[i];
        const std::string name = c.at("name").get<std::string>();
        if (results[i].at("name").get<std::string>() != name) {
            std::cerr << "case " << i << ": reference is for \"" << results[i].at("name")
                      << "\", corpus has \"" << name << "\"\n";
            return 1;
        }
        const nlohmann::json data = c.contains("data") ? c.at("data") : nlohmann::json();
        std::string mine = ours(c.at("rule"), data);
        std::string theirs = results[i].at("result").get<std::string>();
        if (mine == theirs) {
            ++passed;
            continue;
        }
        ++failed;
        std::cout << "MISMATCH " << name << "\n  rule:   " << c.at("rule").dump()
                  << "\n  data:   " << data.dump() << "\n  ours:   " << mine
                  << "\n  theirs: " << theirs << '\n';
    }
    std::cout << passed << " passed, " << failed << " failed\n";
    if (cases.size() < minimum_cases) {
        std::cout << "the corpus must hold at least " << minimum_cases << " cases, it has "
                  << cases.size() << '\n';
        return 1;
    }
    return failed == 0 ? 0 : 1;
}
