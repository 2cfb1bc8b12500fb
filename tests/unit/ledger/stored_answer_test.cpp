// An answer kept without its movements (src/ledger/stored_answer.hpp): only the top-level
// "movements" is emptied and filled again, whatever the other members hold, and an answer put
// back is the answer that was stored, byte for byte.
#include "stored_answer.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <random>
#include <string>

using loyalty::ledger::detail::answer_with_movements;
using loyalty::ledger::detail::movements_span;
using loyalty::ledger::detail::stored_answer;

TEST_CASE("an answer is kept with its top-level movements emptied, and given back whole") {
    const std::string movements =
        R"([{"cause":"base","explanation":"79 leaves: 2 per $1 (floor) \"quoted\" [x]",)"
        R"("kind":"earn","lot":2,"pending":true,"points":79},{"cause":"b}","explanation":"",)"
        R"("kind":"burn","lot":0,"pending":false,"points":-5}])";
    // A custom event's echo may carry a member of its own named "movements"; strings may spell
    // the key, quotes and brackets; the member may come first or last.
    const std::string before =
        R"({"balance":{"available":25,"pending":132},"event":{"movements":[1,2],)"
        R"("note":"\"movements\":[3] {[\\"},"event_type":"event","movements":)";
    const std::string after = R"(,"points":{"earned":79},"rules":[{"reason":"a ] b"}],)"
                              R"("unit":"leaves","vouchers":[]})";
    const std::string answer = before + movements + after;

    auto span = movements_span(answer);
    REQUIRE(span);
    CHECK(span->begin == before.size());
    CHECK(span->end == before.size() + movements.size());
    std::string stored = stored_answer(answer);
    CHECK(stored == before + "[]" + after);
    CHECK(answer_with_movements(stored, movements) == answer);
    // The stored form is JSON and says what nlohmann reads in the answer, movements aside.
    auto read = nlohmann::json::parse(answer);
    read["movements"] = nlohmann::json::array();
    CHECK(nlohmann::json::parse(stored) == read);

    const std::string first = R"({"movements":)" + movements + R"(,"x":1})";
    CHECK(stored_answer(first) == R"({"movements":[],"x":1})");
    CHECK(answer_with_movements(stored_answer(first), movements) == first);
    const std::string at_end = R"({"x":[{"movements":[9]}], "movements" : )" + movements + "\n}";
    CHECK(stored_answer(at_end) == R"({"x":[{"movements":[9]}], "movements" : [])"
                                   "\n}");
    CHECK(answer_with_movements(stored_answer(at_end), movements) == at_end);
}

TEST_CASE("an answer without top-level movements is kept as it is") {
    for (std::string text : {
             R"({"member_id":"m-1","changed":["name"]})",
             R"({"event":{"movements":[1]},"x":2})", // only a nested one
             R"({"movements":null})",                // not an array
             R"({"\u006dovements":[1]})",            // an escaped spelling is not ours
             R"([{"movements":[1]}])",               // not an object
             R"({"movements":[1,2)",                 // cut short
             R"({"a":"movements\":[1]"})",
             "",
             "{}",
         }) {
        INFO(text);
        CHECK_FALSE(movements_span(text));
        CHECK(stored_answer(text) == text);
        CHECK(answer_with_movements(text, "[1]") == text);
    }
}

TEST_CASE("cut answers never read past their end") {
    const std::string answer =
        R"({"event":{"id":"e\"1"},"movements":[{"cause":"a","points":1}],"unit":"leaves"})";
    for (std::size_t n = 0; n <= answer.size(); ++n) {
        std::string cut = answer.substr(0, n);
        auto span = movements_span(cut);
        if (span) {
            CHECK(span->end <= cut.size());
            CHECK(cut[span->begin] == '[');
            CHECK(cut[span->end - 1] == ']');
        }
    }
    // Random bytes: whatever is found lies inside the text.
    std::mt19937 random(11);
    for (int round = 0; round < 2000; ++round) {
        std::string text = answer;
        for (int k = 0; k < 3; ++k) {
            text[random() % text.size()] = "{}[]\",:\\ a"[random() % 11];
        }
        auto span = movements_span(text);
        if (span) {
            CHECK(span->begin < span->end);
            CHECK(span->end <= text.size());
        }
    }
}
