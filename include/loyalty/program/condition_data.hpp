#pragma once
// The data a rule's `when` can read, by where the rule applies. The engine builds this data for
// each evaluation, only the fields the program's conditions read (src/engine/rule_data.hpp); the
// loader rejects a `var` outside it, so a misspelled name is a load-time error instead of a
// condition that is silently never true.
//
// docs/program-reference.md ("What conditions can read") lists every name with its meaning.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace loyalty::program {

enum class condition_scope {
    purchase,   // transaction.*, member.*
    line,       // line.*, transaction.*, member.*
    event,      // event.*, member.*
    enrollment, // member.*
    referral,   // transaction.* (the friend's first purchase), member.* (the friend)
};

// nullopt when `name` can be read in `scope`; otherwise why not, for a merchant.
std::optional<std::string> check_variable(condition_scope scope, std::string_view name);

// Every name readable in the scope, for documentation and suggestions.
std::vector<std::string> variable_names(condition_scope scope);

} // namespace loyalty::program
