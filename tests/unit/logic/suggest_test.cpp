#include "loyalty/logic/suggest.hpp"

#include <catch2/catch.hpp>

using namespace loyalty::logic;

TEST_CASE("edit distance counts a swap of neighbours as one edit", "[suggest]") {
    CHECK(edit_distance("teirs", "tiers") == 1);
    CHECK(edit_distance("points", "points") == 0);
    CHECK(edit_distance("", "abc") == 3);
    CHECK(edit_distance("kitten", "sitting") == 3);
    CHECK(edit_distance("ca", "abc") == 3); // optimal string alignment, not full Damerau
}

TEST_CASE("closest suggests only likely typos", "[suggest]") {
    std::vector<std::string> keys{"id", "name", "points", "tiers", "pending_days"};
    CHECK(closest("poitns", keys) == "points");
    CHECK(closest("teirs", keys) == "tiers");
    CHECK(closest("pending_dais", keys) == "pending_days");
    CHECK(closest("ix", keys) == "id");
    CHECK(closest("nmae", keys) == "name");
    CHECK(closest("currency", keys).empty());
    CHECK(closest("xy", keys).empty());
    CHECK(closest("anything", {}).empty());
}
