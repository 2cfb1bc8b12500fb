#include "loyalty/cli/commands.hpp"
#include "loyalty/logic/rule.hpp"

#include <nlohmann/json.hpp>
#include <ostream>

namespace loyalty::cli {

namespace {

// nlohmann's parse_error says "[json.exception.parse_error.101] parse error at line 1, column 5:
// ..."; the merchant needs the part after the prefix.
std::string without_prefix(const std::string& what) {
    auto at = what.find("] ");
    return at == std::string::npos ? what : what.substr(at + 2);
}

std::optional<nlohmann::json> parse_argument(const std::string& text, const char* name,
                                             std::ostream& err) {
    try {
        return nlohmann::json::parse(text);
    } catch (const nlohmann::json::parse_error& e) {
        err << "loyalty logic: " << name << " is not valid JSON: " << without_prefix(e.what())
            << '\n';
        return std::nullopt;
    }
}

} // namespace

int evaluate_logic(const std::string& rule_json, const std::optional<std::string>& data_json,
                   std::ostream& out, std::ostream& err) {
    auto rule_doc = parse_argument(rule_json, "RULE_JSON", err);
    if (!rule_doc) {
        return 2;
    }
    nlohmann::json data;
    if (data_json) {
        auto parsed = parse_argument(*data_json, "DATA_JSON", err);
        if (!parsed) {
            return 2;
        }
        data = std::move(*parsed);
    }
    auto compiled = logic::compile(*rule_doc);
    if (!compiled) {
        for (const auto& e : compiled.error()) {
            std::string where = logic::to_string(e.where);
            err << "loyalty logic: " << (where.empty() ? "rule" : where) << ": " << e.message
                << '\n';
        }
        return 2;
    }
    auto result = logic::evaluate(*compiled, data);
    if (!result) {
        err << "loyalty logic: the rule failed on this data: " << result.error().message << '\n';
        return 2;
    }
    out << logic::stringify(*result) << '\n';
    return 0;
}

} // namespace loyalty::cli
