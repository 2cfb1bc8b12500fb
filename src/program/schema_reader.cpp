#include "schema_reader.hpp"

#include "loyalty/logic/suggest.hpp"

#include <algorithm>
#include <cmath>

namespace loyalty::program::detail {

std::string describe(const nlohmann::json& value) {
    switch (value.type()) {
    case nlohmann::json::value_t::null:
        return "nothing (null)";
    case nlohmann::json::value_t::object:
        return "a mapping";
    case nlohmann::json::value_t::array:
        return "a list";
    case nlohmann::json::value_t::string:
        return value.dump();
    case nlohmann::json::value_t::boolean:
        return value.get<bool>() ? "true" : "false";
    case nlohmann::json::value_t::number_float: {
        // nlohmann writes these as null, which is not what the file says.
        double number = value.get<double>();
        if (std::isnan(number)) {
            return "not a number (.nan)";
        }
        if (std::isinf(number)) {
            return number > 0 ? "infinity (.inf, or a number too large to hold)"
                              : "minus infinity (-.inf, or a number too large to hold)";
        }
        return value.dump();
    }
    default:
        return value.dump();
    }
}

void schema_reader::at_value(const std::string& path, std::string message) {
    report(path, doc_.value_position(path), doc_.alias_use(path, false), std::move(message));
}

void schema_reader::at_key(const std::string& path, std::string message) {
    report(path, doc_.key_position(path), doc_.alias_use(path, true), std::move(message));
}

void schema_reader::report(const std::string& path, source_position written,
                           std::optional<source_position> alias, std::string message) {
    // A mistake in an anchor's text shows wherever an alias uses it: the error stands at the
    // alias (which rule it broke), and says where the text is.
    if (alias) {
        message += alias_note(written);
        written = *alias;
    }
    problems_.push_back({doc_.file_name(), written, path, std::move(message)});
}

std::string mapping::expected_one_of(const std::vector<std::string>& names,
                                     const nlohmann::json& found) {
    std::string message = "expected one of ";
    for (std::size_t i = 0; i < names.size(); ++i) {
        message += (i == 0 ? "" : i + 1 == names.size() ? " or " : ", ") + names[i];
    }
    message += ", found " + describe(found);
    if (found.is_string()) {
        if (auto guess = logic::closest(found.get_ref<const std::string&>(), names);
            !guess.empty()) {
            message += "; did you mean \"" + guess + "\"?";
        }
    }
    return message;
}

mapping::mapping(schema_reader& reader, const nlohmann::json* node, std::string path,
                 std::vector<std::string> allowed)
    : reader_(reader), node_(node), path_(std::move(path)), allowed_(std::move(allowed)) {
    if (node_ == nullptr) {
        return;
    }
    if (!node_->is_object()) {
        reader_.at_value(path_, "expected a mapping of keys to values, found " + describe(*node_));
        node_ = nullptr;
        return;
    }
    for (const auto& [key, value] : node_->items()) {
        if (std::find(allowed_.begin(), allowed_.end(), key) != allowed_.end()) {
            continue;
        }
        if (key == "<<") {
            // YAML 1.1's merge key, which YAML 1.2 and yaml-cpp do not have: the keys it would
            // merge are not there, so say so rather than list the keys this mapping takes.
            reader_.at_key(child(key), "YAML merge keys (<<) are not supported: write the keys "
                                       "out, or reuse a whole value with an alias (*name)");
            continue;
        }
        std::string message = "unknown key \"" + key + "\"; expected one of: ";
        for (std::size_t i = 0; i < allowed_.size(); ++i) {
            message += (i == 0 ? "" : ", ") + allowed_[i];
        }
        if (auto guess = logic::closest(key, allowed_); !guess.empty()) {
            message += "; did you mean \"" + guess + "\"?";
        }
        reader_.at_key(child(key), message);
    }
}

bool mapping::has(std::string_view key) const {
    return get(key) != nullptr;
}

const nlohmann::json* mapping::get(std::string_view key) const {
    if (node_ == nullptr) {
        return nullptr;
    }
    auto it = node_->find(key);
    return it == node_->end() ? nullptr : &*it;
}

const nlohmann::json* mapping::require(std::string_view key) const {
    const nlohmann::json* value = get(key);
    if (value == nullptr && node_ != nullptr) {
        reader_.at_value(path_, "missing required key \"" + std::string(key) + "\"");
    }
    return value;
}

std::optional<std::int64_t> mapping::integer(std::string_view key, std::int64_t min,
                                             std::int64_t max, bool required) const {
    const nlohmann::json* value = required ? require(key) : get(key);
    if (value == nullptr) {
        return std::nullopt;
    }
    bool fits = value->is_number_integer() &&
                !(value->is_number_unsigned() && value->get<std::uint64_t>() > INT64_MAX);
    if (fits) {
        auto n = value->get<std::int64_t>();
        if (n >= min && n <= max) {
            return n;
        }
    }
    std::string range =
        max == INT64_MAX
            ? (min == 0 ? "a whole number, 0 or more"
                        : "a whole number of at least " + std::to_string(min))
            : "a whole number from " + std::to_string(min) + " to " + std::to_string(max);
    reader_.at_value(child(key), "expected " + range + ", found " + describe(*value));
    return std::nullopt;
}

std::optional<std::string> mapping::text(std::string_view key, bool required) const {
    const nlohmann::json* value = required ? require(key) : get(key);
    if (value == nullptr) {
        return std::nullopt;
    }
    if (value->is_string() && !value->get_ref<const std::string&>().empty()) {
        return value->get<std::string>();
    }
    reader_.at_value(child(key), "expected non-empty text, found " + describe(*value));
    return std::nullopt;
}

std::optional<std::string> read_identifier(schema_reader& reader, const nlohmann::json& value,
                                           const std::string& path) {
    if (value.is_string()) {
        const auto& s = value.get_ref<const std::string&>();
        bool ok = !s.empty() && s.size() <= 64 && std::all_of(s.begin(), s.end(), [](char c) {
            return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
        });
        if (ok) {
            return s;
        }
    }
    reader.at_value(path,
                    "expected an id (lowercase letters, digits, '_' or '-', at most 64), found " +
                        describe(value));
    return std::nullopt;
}

std::optional<std::string> mapping::identifier(std::string_view key, bool required) const {
    const nlohmann::json* value = required ? require(key) : get(key);
    if (value == nullptr) {
        return std::nullopt;
    }
    return read_identifier(reader_, *value, child(key));
}

std::optional<bool> mapping::boolean(std::string_view key) const {
    const nlohmann::json* value = get(key);
    if (value == nullptr) {
        return std::nullopt;
    }
    if (value->is_boolean()) {
        return value->get<bool>();
    }
    reader_.at_value(child(key), "expected true or false, found " + describe(*value));
    return std::nullopt;
}

const nlohmann::json* mapping::list(std::string_view key, bool required) const {
    const nlohmann::json* value = required ? require(key) : get(key);
    if (value == nullptr) {
        return nullptr;
    }
    if (!value->is_array()) {
        reader_.at_value(child(key), "expected a list, found " + describe(*value));
        return nullptr;
    }
    return value;
}

std::vector<std::string> mapping::identifiers(std::string_view key) const {
    std::vector<std::string> out;
    const nlohmann::json* items = list(key);
    if (items == nullptr) {
        return out;
    }
    for (std::size_t i = 0; i < items->size(); ++i) {
        if (auto id = read_identifier(reader_, (*items)[i], append_index(child(key), i))) {
            out.push_back(std::move(*id));
        }
    }
    return out;
}

std::vector<std::string> mapping::texts(std::string_view key) const {
    std::vector<std::string> out;
    const nlohmann::json* items = list(key);
    if (items == nullptr) {
        return out;
    }
    for (std::size_t i = 0; i < items->size(); ++i) {
        const auto& item = (*items)[i];
        if (item.is_string() && !item.get_ref<const std::string&>().empty()) {
            out.push_back(item.get<std::string>());
        } else {
            reader_.at_value(append_index(child(key), i),
                             "expected non-empty text, found " + describe(item));
        }
    }
    return out;
}

} // namespace loyalty::program::detail
