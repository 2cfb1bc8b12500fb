#pragma once
// Parts of a rule's condition that give one answer whatever the data: the loader reports them
// where they are written, as it reports a whole condition that reads no data. Inside `and` or
// `or`, such a part makes the rule always or never apply without a word ("app or web" written
// as {"or": [<channel is app>, "web"]} pays everyone), as does comparing a weekday with
// "Tuesday" or 8, or the currency with one the program never takes.

#include "loyalty/logic/rule.hpp"

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace loyalty::program::detail {

// A name that has one value wherever the rule reads it, and why.
struct fixed_value {
    std::string name; // "member.lifetime.purchases"
    nlohmann::json value;
    std::string why; // "before a member's first purchase"
};

// The values some data always has, as far as the program knows them.
struct known_values {
    std::string_view currency;   // the program's: every purchase is in it
    std::string_view event_type; // the rule's event, for a rule with on: event; else empty
    std::vector<fixed_value> fixed;
    // Lines of these are never eligible, so a line condition never sees them.
    std::vector<std::string> excluded_categories;
    std::vector<std::string> excluded_skus;
};

struct constant_part {
    logic::json_path where; // inside the condition
    std::string message;
};

std::vector<constant_part> constant_parts(const nlohmann::json& condition,
                                          const known_values& known);

} // namespace loyalty::program::detail
