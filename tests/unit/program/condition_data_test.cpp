#include "loyalty/program/condition_data.hpp"

#include <catch2/catch.hpp>

using namespace loyalty::program;

TEST_CASE("conditions read the names their scope provides", "[conditions]") {
    CHECK_FALSE(check_variable(condition_scope::purchase, "transaction.local.weekday"));
    CHECK_FALSE(check_variable(condition_scope::purchase, "transaction.local")); // the object
    CHECK_FALSE(check_variable(condition_scope::purchase, "transaction"));
    CHECK_FALSE(check_variable(condition_scope::purchase, "transaction.tags"));
    CHECK_FALSE(check_variable(condition_scope::purchase, "transaction.tags.0")); // a list element
    CHECK_FALSE(check_variable(condition_scope::purchase, "member.balance.available"));
    CHECK_FALSE(check_variable(condition_scope::purchase, "")); // all the data
    CHECK_FALSE(check_variable(condition_scope::line, "line.amount"));
    CHECK_FALSE(check_variable(condition_scope::event, "event.attributes.stars"));
    CHECK_FALSE(check_variable(condition_scope::event, "event.attributes.photo.width"));
}

TEST_CASE("length is read on lists and text, as JsonLogic reads it", "[conditions]") {
    CHECK_FALSE(check_variable(condition_scope::purchase, "transaction.categories.length"));
    CHECK_FALSE(check_variable(condition_scope::purchase, "transaction.channel.length"));
    CHECK_FALSE(check_variable(condition_scope::line, "line.tags.length"));
    CHECK_FALSE(check_variable(condition_scope::line, "line.sku.length"));
    CHECK_FALSE(check_variable(condition_scope::event, "event.type.length"));
    CHECK_FALSE(check_variable(condition_scope::event, "event.attributes.name.length"));
    // A number has no length: JavaScript's is undefined, so the condition would never hold.
    CHECK(check_variable(condition_scope::purchase, "transaction.total.length").has_value());
    CHECK(check_variable(condition_scope::purchase, "member.balance.length").has_value());
}

TEST_CASE("names outside the scope are refused with the alternatives", "[conditions]") {
    CHECK(check_variable(condition_scope::purchase, "transaction.tags.first") ==
          std::optional<std::string>{
              "unknown data \"transaction.tags.first\"; expected one of: transaction.id, "
              "transaction.store_id, transaction.channel, transaction.currency, "
              "transaction.occurred_at, transaction.total, transaction.eligible_spend, "
              "transaction.quantity, transaction.line_count, transaction.categories[], "
              "transaction.skus[], transaction.tags[], transaction.local.date, "
              "transaction.local.year, transaction.local.month, transaction.local.day, "
              "transaction.local.weekday, transaction.local.hour, transaction.local.minute"});
    CHECK(check_variable(condition_scope::enrollment, "transaction.total") ==
          std::optional<std::string>{"unknown data \"transaction.total\"; here a condition can "
                                     "read member.*"});
    CHECK(check_variable(condition_scope::event, "event.attributes").has_value() == false);
    CHECK(check_variable(condition_scope::event, "member.balance.availabel").has_value());
    CHECK(check_variable(condition_scope::purchase, "transactions.total").has_value());
}

TEST_CASE("each scope lists its names", "[conditions]") {
    auto line = variable_names(condition_scope::line);
    CHECK(std::find(line.begin(), line.end(), "line.sku") != line.end());
    CHECK(std::find(line.begin(), line.end(), "transaction.total") != line.end());
    auto purchase = variable_names(condition_scope::purchase);
    CHECK(std::find(purchase.begin(), purchase.end(), "line.sku") == purchase.end());
    CHECK(variable_names(condition_scope::enrollment).size() == 14);
}
