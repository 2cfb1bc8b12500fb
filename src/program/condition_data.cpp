#include "loyalty/program/condition_data.hpp"

#include <algorithm>
#include <array>

namespace loyalty::program {

namespace {

// `*` after a name: any key below it (free-form attributes). `[]` after a name: a list, which
// may be indexed (`transaction.tags.0`) or read whole.
constexpr std::array transaction_names = {
    "transaction.id",
    "transaction.store_id",
    "transaction.channel",
    "transaction.currency",
    "transaction.occurred_at",
    "transaction.total",
    "transaction.eligible_spend",
    "transaction.quantity",
    "transaction.line_count",
    "transaction.categories[]",
    "transaction.skus[]",
    "transaction.tags[]",
    "transaction.local.date",
    "transaction.local.year",
    "transaction.local.month",
    "transaction.local.day",
    "transaction.local.weekday",
    "transaction.local.hour",
    "transaction.local.minute",
};
constexpr std::array member_names = {
    "member.id",
    "member.tier",
    "member.tier_since",
    "member.tier_until",
    "member.metric",
    "member.enrolled_at",
    "member.birthday",
    "member.referred_by",
    "member.balance.available",
    "member.balance.pending",
    "member.lifetime.purchases",
    "member.lifetime.spend",
    "member.lifetime.points",
    "member.days_enrolled",
};
constexpr std::array line_names = {
    "line.line_id",    "line.sku",      "line.category", "line.quantity",
    "line.unit_price", "line.discount", "line.amount",   "line.tags[]",
};
constexpr std::array event_names = {
    "event.id",           "event.type",         "event.occurred_at",
    "event.attributes.*", "event.local.date",   "event.local.year",
    "event.local.month",  "event.local.day",    "event.local.weekday",
    "event.local.hour",   "event.local.minute",
};

// The names whose values are text (or null): `length` counts their characters, as it counts a
// list's elements (docs/jsonlogic.md, "Path steps").
constexpr std::array text_names = {
    "transaction.id",
    "transaction.store_id",
    "transaction.channel",
    "transaction.currency",
    "transaction.occurred_at",
    "transaction.local.date",
    "member.id",
    "member.tier",
    "member.tier_since",
    "member.tier_until",
    "member.enrolled_at",
    "member.birthday",
    "member.referred_by",
    "line.line_id",
    "line.sku",
    "line.category",
    "event.id",
    "event.type",
    "event.occurred_at",
    "event.local.date",
};

template <class Names>
void add(std::vector<std::string>& out, const Names& names) {
    out.insert(out.end(), names.begin(), names.end());
}

bool is_index(std::string_view step) {
    return !step.empty() &&
           std::all_of(step.begin(), step.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// Does `name` read the declared name `pattern`, a part of it, or (for lists and open objects)
// something below it?
bool reads(std::string_view pattern, std::string_view name) {
    bool open = pattern.ends_with(".*");
    bool list = pattern.ends_with("[]");
    if (open || list) {
        pattern.remove_suffix(2);
    }
    if (pattern.starts_with(name) &&
        (pattern.size() == name.size() || pattern[name.size()] == '.')) {
        return true; // the name itself or an enclosing object
    }
    if (!name.starts_with(pattern) || name.size() <= pattern.size() ||
        name[pattern.size()] != '.') {
        return false;
    }
    std::string_view rest = name.substr(pattern.size() + 1);
    if (open) {
        return !rest.empty();
    }
    if (rest == "length") {
        return list || std::find(text_names.begin(), text_names.end(), pattern) != text_names.end();
    }
    // A list may be indexed once; its elements are plain values.
    return list && is_index(rest);
}

} // namespace

std::vector<std::string> variable_names(condition_scope scope) {
    std::vector<std::string> names;
    switch (scope) {
    case condition_scope::line:
        add(names, line_names);
        [[fallthrough]];
    case condition_scope::purchase:
    case condition_scope::referral:
        add(names, transaction_names);
        add(names, member_names);
        break;
    case condition_scope::event:
        add(names, event_names);
        add(names, member_names);
        break;
    case condition_scope::enrollment:
        add(names, member_names);
        break;
    }
    return names;
}

std::optional<std::string> check_variable(condition_scope scope, std::string_view name) {
    if (name.empty()) {
        return std::nullopt; // the whole data
    }
    auto names = variable_names(scope);
    if (std::any_of(names.begin(), names.end(),
                    [&](const std::string& p) { return reads(p, name); })) {
        return std::nullopt;
    }
    std::string root{name.substr(0, name.find('.'))};
    std::string message = "unknown data \"" + std::string(name) + "\"";
    bool root_known = std::any_of(names.begin(), names.end(),
                                  [&](const std::string& p) { return p.starts_with(root + "."); });
    if (!root_known) {
        std::string roots;
        for (const auto& p : names) {
            std::string r = p.substr(0, p.find('.'));
            if (roots.find(r + ".*") == std::string::npos) {
                roots += (roots.empty() ? "" : ", ") + r + ".*";
            }
        }
        return message + "; here a condition can read " + roots;
    }
    std::string known;
    for (const auto& p : names) {
        if (p.starts_with(root + ".")) {
            known += (known.empty() ? "" : ", ") + p;
        }
    }
    return message + "; expected one of: " + known;
}

} // namespace loyalty::program
