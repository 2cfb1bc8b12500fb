#pragma once
// A program file (YAML, or JSON, which YAML 1.2 reads too) as a JSON tree plus where each node was
// written, so that validation can report `file:line:column` for anything it finds.

#include "loyalty/program/diagnostic.hpp"

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace loyalty::program {

// Paths are written as in messages: `earn[2].when.and[0][">="]`; the root is "".
std::string append_key(const std::string& path, std::string_view key);
std::string append_index(const std::string& path, std::size_t index);

// What a diagnostic reported at an alias adds: where the text it brings in is written.
std::string alias_note(source_position written);

struct document_limits {
    std::size_t max_nodes = 50'000; // aliases can make a small file expand enormously
    std::size_t max_depth = 128;
};

class source_document {
public:
    // Parses text; problems (syntax, duplicate keys, limits) are appended to `problems`. The tree
    // holds what could be read; after a syntax error it is null.
    static source_document parse(std::string_view text, std::string file_name,
                                 diagnostics& problems, const document_limits& limits = {});

    const nlohmann::json& root() const noexcept { return root_; }
    const std::string& file_name() const noexcept { return file_name_; }

    // Where the value at `path` starts, and where the key naming it was written (for a mapping
    // entry); both fall back to the nearest enclosing node that has a position.
    source_position value_position(const std::string& path) const;
    source_position key_position(const std::string& path) const;

    // Where the YAML alias (`*name`) was written that brought the value at `path`, or one
    // enclosing it, in from its anchor elsewhere in the file; value_position then points into
    // the anchor's text. nullopt when the value was written where it is used. With `for_key`,
    // for the key naming `path`, which an alias's own key is not part of.
    std::optional<source_position> alias_use(std::string path, bool for_key) const;

private:
    struct marks {
        source_position key;
        source_position value;
    };
    source_position lookup(std::string path, bool want_key) const;

    std::string file_name_;
    nlohmann::json root_;
    std::unordered_map<std::string, marks> marks_;
    std::unordered_map<std::string, source_position> alias_uses_; // path -> the alias's position

    friend class document_builder;
};

} // namespace loyalty::program
