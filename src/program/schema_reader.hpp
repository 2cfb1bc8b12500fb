#pragma once
// Reading a validated structure out of a source_document while collecting every problem.

#include "loyalty/program/diagnostic.hpp"
#include "loyalty/program/source_document.hpp"

#include <cstdint>
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace loyalty::program::detail {

// "a list", "\"text\"", "2.5": how a found value is named in a message.
std::string describe(const nlohmann::json& value);

class schema_reader {
public:
    schema_reader(const source_document& doc, diagnostics& problems)
        : doc_(doc), problems_(problems) {}

    void at_value(const std::string& path, std::string message);
    void at_key(const std::string& path, std::string message);
    std::size_t error_count() const { return problems_.size(); }

private:
    void report(const std::string& path, source_position written,
                std::optional<source_position> alias, std::string message);

    const source_document& doc_;
    diagnostics& problems_;
};

// One mapping of the document, read key by key. Keys outside `allowed` are reported when the
// view is made: a typo must never silently do nothing.
class mapping {
public:
    mapping(schema_reader& reader, const nlohmann::json* node, std::string path,
            std::vector<std::string> allowed);

    bool valid() const { return node_ != nullptr; }
    const std::string& path() const { return path_; }
    std::string child(std::string_view key) const { return append_key(path_, key); }
    bool has(std::string_view key) const;

    // The raw value, or nullptr when absent (or when the node is not a mapping).
    const nlohmann::json* get(std::string_view key) const;
    // As get(), reporting a missing key.
    const nlohmann::json* require(std::string_view key) const;

    std::optional<std::int64_t> integer(std::string_view key, std::int64_t min, std::int64_t max,
                                        bool required = false) const;
    std::optional<std::string> text(std::string_view key, bool required = false) const;
    // Lowercase letters, digits, '_' and '-': ids that appear in URLs, logs and other rules.
    std::optional<std::string> identifier(std::string_view key, bool required = false) const;
    std::optional<bool> boolean(std::string_view key) const;
    std::vector<std::string> identifiers(std::string_view key) const;
    std::vector<std::string> texts(std::string_view key) const;
    // A list; reports anything else. Absent: nullptr.
    const nlohmann::json* list(std::string_view key, bool required = false) const;

    template <class E>
    std::optional<E> choice(std::string_view key,
                            std::initializer_list<std::pair<std::string_view, E>> options,
                            bool required = false) const {
        const nlohmann::json* value = required ? require(key) : get(key);
        if (value == nullptr) {
            return std::nullopt;
        }
        if (value->is_string()) {
            for (const auto& [name, e] : options) {
                if (value->get_ref<const std::string&>() == name) {
                    return e;
                }
            }
        }
        std::vector<std::string> names;
        for (const auto& option : options) {
            names.emplace_back(option.first);
        }
        reader_.at_value(child(key), expected_one_of(names, *value));
        return std::nullopt;
    }

    schema_reader& reader() const { return reader_; }

    static std::string expected_one_of(const std::vector<std::string>& names,
                                       const nlohmann::json& found);

private:
    schema_reader& reader_;
    const nlohmann::json* node_;
    std::string path_;
    std::vector<std::string> allowed_;
};

// Reads a value that is not inside a mapping being read (a list element, say).
std::optional<std::string> read_identifier(schema_reader& reader, const nlohmann::json& value,
                                           const std::string& path);

} // namespace loyalty::program::detail
