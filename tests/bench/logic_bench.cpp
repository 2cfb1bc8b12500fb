// Rule evaluations per second of our JsonLogic against json-logic-js on Node
// (tests/bench/jsonlogic_bench.mjs), on the same rules and the same data: scripts/bench prints
// the ratio of the two, both measured in the same run on the same core.
//
// The rules are the sample program's conditions, read from the program file: every `when` of an
// earn rule (on the purchase's data) and of a line selector (on each line's data). The program's
// other per-line and per-purchase tests, which the engine decides in C++ rather than with
// JsonLogic, are written as the equivalent JsonLogic so the comparison covers every condition the
// program states: each line selector's categories, SKUs and tags, the spend exclusions and
// min_spend. The data is the condition data with every field a condition may read (the engine
// builds only the fields the program reads: src/engine/rule_data.hpp) for a five-line purchase
// on a Tuesday afternoon in the app by a member enrolled four days earlier.
//
// One evaluation is logic::test(rule, data): the compiled rule run against the data, then
// JsonLogic truthiness, as the engine does for a `when`. Rules are compiled once, outside the
// timing (json-logic-js has no compile step; it walks the rule each time).
//
// Usage: logic_bench [--program FILE] [--dump FILE] [--rounds N] [--round-ms N]
// --dump writes {"rules": [...], "data": [...], "cases": [[rule, data], ...], "expected": [...]}
// for the Node side. Prints one JSON object: evaluations per second, the median over rounds of
// wall time (both sides are timed the same way), and CPU time beside it.

#include "loyalty/logic/rule.hpp"
#include "loyalty/program/load.hpp"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

using nlohmann::json;
namespace logic = loyalty::logic;
namespace program = loyalty::program;

namespace {

[[noreturn]] void usage(const std::string& problem) {
    std::cerr << "logic_bench: " << problem
              << "\nusage: logic_bench [--program FILE] [--dump FILE] [--rounds N] [--round-ms "
                 "N]\n";
    std::exit(2);
}

json strings(const std::vector<std::string>& v) {
    json a = json::array();
    for (const auto& s : v) {
        a.push_back(s);
    }
    return a;
}

// The line selector's criteria as JsonLogic over `line.*`, as src/engine/earn.cpp tests them.
json selector_logic(const program::line_selector& s) {
    json all = json::array();
    if (!s.categories.empty()) {
        all.push_back({{"in", {{{"var", "line.category"}}, strings(s.categories)}}});
    }
    if (!s.skus.empty()) {
        all.push_back({{"in", {{{"var", "line.sku"}}, strings(s.skus)}}});
    }
    if (!s.tags.empty()) {
        all.push_back(
            {{"some", {{{"var", "line.tags"}}, {{"in", {{{"var", ""}}, strings(s.tags)}}}}}});
    }
    if (all.size() == 1) {
        return all[0];
    }
    return {{"and", all}};
}

struct line {
    std::string id, sku, category;
    std::int64_t quantity, unit_price, discount;
    std::vector<std::string> tags;
};

// The five lines of engine_bench's purchase.
const std::vector<line> lines = {
    {"1", "LATTE-L", "coffee", 2, 525, 0, {"hot", "espresso"}},
    {"2", "CROISSANT", "bakery", 3, 375, 75, {"fresh"}},
    {"3", "BEANS-ETH-250", "beans", 1, 1800, 0, {"whole_bean", "single_origin"}},
    {"4", "GIFT-25", "gift_card", 1, 2500, 0, {"gift"}},
    {"5", "COLD-BREW", "coffee", 1, 495, 0, {"cold"}},
};

// The purchase's condition data, shaped as src/engine/rule_data.cpp builds it.
json purchase_data(const program::program& p) {
    std::int64_t total = 0, eligible = 0, quantity = 0;
    std::vector<std::string> categories, skus, tags;
    for (const line& l : lines) {
        std::int64_t amount = l.quantity * l.unit_price - l.discount;
        total += amount;
        quantity += l.quantity;
        if (std::find(p.spend.excluded_categories.begin(), p.spend.excluded_categories.end(),
                      l.category) == p.spend.excluded_categories.end()) {
            eligible += amount;
        }
        categories.push_back(l.category);
        skus.push_back(l.sku);
        tags.insert(tags.end(), l.tags.begin(), l.tags.end());
    }
    for (auto* v : {&categories, &skus, &tags}) {
        std::sort(v->begin(), v->end());
        v->erase(std::unique(v->begin(), v->end()), v->end());
    }
    return {{"transaction",
             {{"id", "t-90210"},
              {"store_id", "s-12"},
              {"channel", "app"},
              {"currency", "USD"},
              {"occurred_at", "2026-11-24T20:00:00Z"},
              {"total", total},
              {"eligible_spend", eligible},
              {"quantity", quantity},
              {"line_count", lines.size()},
              {"categories", strings(categories)},
              {"skus", strings(skus)},
              {"tags", strings(tags)},
              {"local",
               {{"date", "2026-11-24"},
                {"year", 2026},
                {"month", 11},
                {"day", 24},
                {"weekday", 2},
                {"hour", 15},
                {"minute", 0}}}}},
            {"member",
             {{"id", "m-new"},
              {"tier", "green"},
              {"tier_since", "2026-11-20T15:00:00Z"},
              {"tier_until", nullptr},
              {"metric", 25},
              {"enrolled_at", "2026-11-20T15:00:00Z"},
              {"birthday", nullptr},
              {"referred_by", nullptr},
              {"balance", {{"available", 0}, {"pending", 25}}},
              {"lifetime", {{"purchases", 0}, {"spend", 0}, {"points", 25}}},
              {"days_enrolled", 4}}}};
}

json line_data(const json& purchase, const line& l) {
    json d = purchase;
    d["line"] = {{"line_id", l.id},
                 {"sku", l.sku},
                 {"category", l.category},
                 {"quantity", l.quantity},
                 {"unit_price", l.unit_price},
                 {"discount", l.discount},
                 {"amount", l.quantity * l.unit_price - l.discount},
                 {"tags", strings(l.tags)}};
    return d;
}

double thread_cpu_ns() {
    timespec t{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return static_cast<double>(t.tv_sec) * 1e9 + static_cast<double>(t.tv_nsec);
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v.empty() ? 0 : v[v.size() / 2];
}

} // namespace

int main(int argc, char** argv) {
    std::string program_file = std::string(LOYALTY_SOURCE_DIR) + "/config/program.yaml";
    std::string dump;
    int rounds = 15;
    double round_ms = 100;
    for (int i = 1; i < argc; ++i) {
        std::string_view arg = argv[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= argc) {
                usage(std::string(arg) + " needs a value");
            }
            return argv[++i];
        };
        if (arg == "--program") {
            program_file = value();
        } else if (arg == "--dump") {
            dump = value();
        } else if (arg == "--rounds") {
            rounds = std::max(1, std::atoi(value().c_str()));
        } else if (arg == "--round-ms") {
            round_ms = std::max(1.0, std::atof(value().c_str()));
        } else {
            usage("unknown argument " + std::string(arg));
        }
    }
    auto loaded = program::load_program_file(program_file);
    if (!loaded) {
        std::cerr << "logic_bench: " << program_file << " is not a valid program\n";
        return 1;
    }
    const program::program& p = **loaded;

    // The rules: (document, applies per line?)
    std::vector<std::pair<json, bool>> sources;
    for (const auto& r : p.earn) {
        if (r.on != program::earn_trigger::purchase) {
            continue;
        }
        if (r.when) {
            sources.emplace_back(r.when->rule.source(), false);
        }
        if (r.lines) {
            sources.emplace_back(selector_logic(*r.lines), true);
            if (r.lines->when) {
                sources.emplace_back(r.lines->when->rule.source(), true);
            }
        }
        if (r.min_spend) {
            sources.emplace_back(
                json{{">=", {{{"var", "transaction.eligible_spend"}}, *r.min_spend}}}, false);
        }
    }
    if (!p.spend.excluded_categories.empty()) {
        sources.emplace_back(
            json{{"!",
                  {{{"in", {{{"var", "line.category"}}, strings(p.spend.excluded_categories)}}}}}},
            true);
    }
    if (!p.spend.excluded_skus.empty()) {
        sources.emplace_back(
            json{{"!", {{{"in", {{{"var", "line.sku"}}, strings(p.spend.excluded_skus)}}}}}}, true);
    }

    std::vector<logic::rule> rules;
    for (const auto& [doc, per_line] : sources) {
        auto compiled = logic::compile(doc);
        if (!compiled) {
            std::cerr << "logic_bench: cannot compile " << doc.dump() << ": "
                      << compiled.error().front().message << "\n";
            return 1;
        }
        rules.push_back(*compiled);
    }
    std::vector<json> data;
    data.push_back(purchase_data(p));
    for (const line& l : lines) {
        data.push_back(line_data(data[0], l));
    }
    std::vector<std::pair<std::size_t, std::size_t>> cases;
    for (std::size_t r = 0; r < sources.size(); ++r) {
        if (sources[r].second) {
            for (std::size_t d = 1; d < data.size(); ++d) {
                cases.emplace_back(r, d);
            }
        } else {
            cases.emplace_back(r, 0);
        }
    }

    json expected = json::array();
    for (auto [r, d] : cases) {
        auto result = logic::test(rules[r], data[d]);
        if (!result) {
            std::cerr << "logic_bench: rule " << r << " failed: " << result.error().message << "\n";
            return 1;
        }
        expected.push_back(*result);
    }
    if (!dump.empty()) {
        json doc = {{"rules", json::array()},
                    {"data", data},
                    {"cases", json::array()},
                    {"expected", expected}};
        for (const auto& s : sources) {
            doc["rules"].push_back(s.first);
        }
        for (auto [r, d] : cases) {
            doc["cases"].push_back({r, d});
        }
        std::ofstream(dump) << doc.dump() << "\n";
    }

    // One pass evaluates every case once.
    std::uint64_t sink = 0;
    auto pass = [&] {
        for (auto [r, d] : cases) {
            auto result = logic::test(rules[r], data[d]);
            sink += result && *result ? 1 : 0;
        }
    };
    // Calibrate the passes per round to about round_ms, then time the rounds.
    std::size_t passes = 1;
    for (;;) {
        auto start = std::chrono::steady_clock::now();
        for (std::size_t i = 0; i < passes; ++i) {
            pass();
        }
        double ms =
            std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
                .count();
        if (ms >= round_ms || passes >= (std::size_t{1} << 30)) {
            break;
        }
        passes *= 2;
    }
    std::vector<double> wall_rate, cpu_rate;
    const double per_round = static_cast<double>(passes * cases.size());
    for (int round = 0; round < rounds; ++round) {
        double cpu0 = thread_cpu_ns();
        auto start = std::chrono::steady_clock::now();
        for (std::size_t i = 0; i < passes; ++i) {
            pass();
        }
        double wall =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        double cpu = (thread_cpu_ns() - cpu0) * 1e-9;
        wall_rate.push_back(per_round / wall);
        cpu_rate.push_back(per_round / cpu);
    }
    std::printf("{\"engine\":\"loyalty::logic\",\"rules\":%zu,\"cases\":%zu,"
                "\"evaluations_per_s\":%.0f,\"cpu_evaluations_per_s\":%.0f,\"rounds\":%d,"
                "\"true\":%d,\"sink\":%llu}\n",
                rules.size(), cases.size(), median(wall_rate), median(cpu_rate), rounds,
                static_cast<int>(std::count(expected.begin(), expected.end(), true)),
                static_cast<unsigned long long>(sink));
    return 0;
}
