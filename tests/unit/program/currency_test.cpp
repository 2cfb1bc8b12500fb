#include "loyalty/program/currency.hpp"

#include <catch2/catch.hpp>

using namespace loyalty::program;

TEST_CASE("ISO 4217 codes carry their minor digits", "[currency]") {
    REQUIRE(find_currency("USD") != nullptr);
    CHECK(find_currency("USD")->minor_digits == 2);
    CHECK(find_currency("EUR")->minor_digits == 2);
    CHECK(find_currency("JPY")->minor_digits == 0);
    CHECK(find_currency("KWD")->minor_digits == 3);
    CHECK(find_currency("CLF")->minor_digits == 4);
    CHECK(find_currency("usd") == nullptr);
    CHECK(find_currency("USX") == nullptr);
    CHECK(find_currency("") == nullptr);
    CHECK(find_currency("AED")->code == "AED"); // first entry
    CHECK(find_currency("ZWL")->code == "ZWL"); // last entry
}
