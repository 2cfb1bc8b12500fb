#include "constant_conditions.hpp"

#include <algorithm>
#include <optional>
#include <set>

namespace loyalty::program::detail {

namespace {

using nlohmann::json;

// A variable that takes only these values, and how a merchant would name them.
struct value_range {
    std::vector<json> values;
    std::string said;
};

json integers(int from, int to) {
    json out = json::array();
    for (int v = from; v <= to; ++v) {
        out.push_back(v);
    }
    return out;
}

std::optional<value_range> range_of(std::string_view name, const known_values& known) {
    for (const auto& f : known.fixed) {
        if (f.name == name) {
            return value_range{{f.value}, f.value.dump() + " " + f.why};
        }
    }
    auto local = [&](std::string_view field) {
        return name == "transaction.local." + std::string(field) ||
               name == "event.local." + std::string(field);
    };
    if (local("weekday")) {
        return value_range{integers(1, 7), "a number from 1 (Monday) to 7 (Sunday)"};
    }
    if (local("hour")) {
        return value_range{integers(0, 23), "a number from 0 to 23"};
    }
    if (local("minute")) {
        return value_range{integers(0, 59), "a number from 0 to 59"};
    }
    if (local("month")) {
        return value_range{integers(1, 12), "a number from 1 to 12"};
    }
    if (local("day")) {
        return value_range{integers(1, 31), "a number from 1 to 31"};
    }
    if (name == "transaction.currency" && !known.currency.empty()) {
        return value_range{{std::string(known.currency)},
                           "the program's currency, \"" + std::string(known.currency) +
                               "\" (a purchase in another is refused)"};
    }
    if (name == "event.type" && !known.event_type.empty()) {
        return value_range{{std::string(known.event_type)},
                           "the rule's event, \"" + std::string(known.event_type) + "\""};
    }
    return std::nullopt;
}

// {"transaction": {"local": {"weekday": 3}}} for "transaction.local.weekday" and 3.
json data_with(std::string_view name, const json& value) {
    json data = value;
    std::string path(name);
    while (!path.empty()) {
        auto dot = path.rfind('.');
        std::string key = dot == std::string::npos ? path : path.substr(dot + 1);
        data = json{{key, std::move(data)}};
        path = dot == std::string::npos ? "" : path.substr(0, dot);
    }
    return data;
}

std::string answer_text(const tl::expected<bool, logic::eval_error>& answer) {
    return !answer   ? "always fails (" + answer.error().message + ")"
           : *answer ? "always true"
                     : "always false";
}

class finder {
public:
    explicit finder(const known_values& known) : known_(known) {}

    void visit(const json& node, logic::json_path at) {
        if (node.is_array()) {
            for (std::size_t i = 0; i < node.size(); ++i) {
                auto inner = at;
                inner.emplace_back(i);
                visit(node[i], inner);
            }
            return;
        }
        if (!node.is_object() || node.size() != 1) {
            return;
        }
        auto only = node.begin();
        const std::string& op = only.key();
        const json& args = only.value();
        logic::json_path here = at;
        here.emplace_back(op);
        static const std::set<std::string> logical{"and", "or", "!", "!!"};
        static const std::set<std::string> comparisons{"==", "===", "!=", "!==", "<",
                                                       "<=", ">",   ">=", "in"};
        if (logical.contains(op)) {
            operands_of(op, args, here);
        } else if (comparisons.contains(op) &&
                   (compared_with_range(node, at) || compared_with_excluded(op, args, here))) {
            return; // said once, for the whole comparison
        }
        // Scoped operations (map, filter, some...) read their elements, not the data: their
        // logic is not this condition's to judge.
        static const std::set<std::string> scoped{"map", "filter", "reduce", "all", "some", "none"};
        if (scoped.contains(op)) {
            return;
        }
        visit(args, here);
    }

    std::vector<constant_part> found;

private:
    // An operand of and, or, ! or !! that reads no data decides the same way for every event.
    void operands_of(const std::string& op, const json& args, const logic::json_path& here) {
        auto one = [&](const json& operand, logic::json_path where) {
            auto compiled = logic::compile(operand);
            if (!compiled || compiled->reads_data()) {
                return;
            }
            auto answer = logic::test(*compiled, json(nullptr));
            found.push_back(
                {where, "this part of the " + op + " reads no data, so it is " +
                            answer_text(answer) +
                            (operand.is_string() ? " (text is not read as a condition; a "
                                                   "comparison such as {\"==\": [{\"var\": "
                                                   "\"transaction.channel\"}, \"web\"]} is)"
                                                 : "; a var is missing?")});
        };
        if (!args.is_array()) {
            one(args, here);
            return;
        }
        for (std::size_t i = 0; i < args.size(); ++i) {
            auto where = here;
            where.emplace_back(i);
            one(args[i], where);
        }
    }

    // A comparison of one variable with a known range of values, and literals, that has the
    // same answer for every value of the range: true when it was reported.
    bool compared_with_range(const json& node, const logic::json_path& at) {
        auto compiled = logic::compile(node);
        if (!compiled || !compiled->reads_data()) {
            return false;
        }
        const auto& vars = compiled->variables();
        if (vars.empty()) {
            return false;
        }
        const std::string& name = vars.front().name;
        for (const auto& v : vars) {
            if (v.name != name) {
                return false;
            }
        }
        auto range = range_of(name, known_);
        if (!range) {
            return false;
        }
        std::optional<tl::expected<bool, logic::eval_error>> first;
        for (const json& value : range->values) {
            auto answer = logic::test(*compiled, data_with(name, value));
            if (!answer) {
                return false;
            }
            if (!first) {
                first = answer;
            } else if (**first != *answer) {
                return false;
            }
        }
        // Always true does no harm where it stands (currency == "USD" on a USD program): the
        // rule applies as it would without it. Always false is a rule that never pays.
        if (**first) {
            return false;
        }
        found.push_back({at, name + " is always " + range->said + ", so this comparison is " +
                                 answer_text(*first)});
        return true;
    }

    // line.category or line.sku equal to (or in a list with) a value the program excludes from
    // spend: such a line is never eligible, so this part never holds for a line the rule reads.
    bool compared_with_excluded(const std::string& op, const json& args,
                                const logic::json_path& here) {
        static const std::set<std::string> equalities{"==", "==="};
        if (!args.is_array() || args.size() != 2 || (!equalities.contains(op) && op != "in")) {
            return false;
        }
        bool said = false;
        for (std::size_t side = 0; side < 2; ++side) {
            const json& var = args[side];
            if (!var.is_object() || var.size() != 1 || !var.contains("var") ||
                !var["var"].is_string() || (op == "in" && side != 0)) {
                continue;
            }
            const std::string& name = var["var"].get_ref<const std::string&>();
            const auto* excluded = name == "line.category" ? &known_.excluded_categories
                                   : name == "line.sku"    ? &known_.excluded_skus
                                                           : nullptr;
            if (excluded == nullptr) {
                continue;
            }
            auto literal_at = here;
            literal_at.emplace_back(1 - side);
            const json& other = args[1 - side];
            auto check = [&](const json& literal, const logic::json_path& where) {
                if (literal.is_string() &&
                    std::find(excluded->begin(), excluded->end(), literal.get<std::string>()) !=
                        excluded->end()) {
                    found.push_back(
                        {where, "\"" + literal.get<std::string>() + "\" is excluded from spend (" +
                                    (name == "line.category" ? "spend.exclude.categories"
                                                             : "spend.exclude.skus") +
                                    "), so no line this condition reads has it"});
                    said = true;
                }
            };
            if (op == "in" && other.is_array()) {
                for (std::size_t k = 0; k < other.size(); ++k) {
                    auto item = literal_at;
                    item.emplace_back(k);
                    check(other[k], item);
                }
            } else if (op != "in") {
                check(other, literal_at);
            }
        }
        return said;
    }

    const known_values& known_;
};

} // namespace

std::vector<constant_part> constant_parts(const nlohmann::json& condition,
                                          const known_values& known) {
    finder f(known);
    f.visit(condition, {});
    return f.found;
}

} // namespace loyalty::program::detail
