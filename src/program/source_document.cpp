#include "loyalty/program/source_document.hpp"

#include "flow_brackets.hpp"
#include "loyalty/program/utf8.hpp"
#include "yaml_stream.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <limits>
#include <optional>
#include <set>
#include <unordered_map>
#include <vector>
#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/yaml.h>

namespace loyalty::program {

namespace {

bool is_identifier(std::string_view key) {
    if (key.empty() || !(std::isalpha(static_cast<unsigned char>(key[0])) || key[0] == '_')) {
        return false;
    }
    for (char c : key) {
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_')) {
            return false;
        }
    }
    return true;
}

// yaml-cpp counts a column in bytes; editors, and people, count characters. Positions are
// 1-based; a mark that does not fit the text (never seen) keeps yaml-cpp's column.
source_position position_of(std::string_view text, const YAML::Mark& mark) {
    if (mark.is_null()) {
        return {};
    }
    auto at = static_cast<std::size_t>(mark.pos);
    auto column = static_cast<std::size_t>(mark.column);
    if (mark.pos < 0 || mark.column < 0 || at > text.size() || column > at) {
        return {mark.line + 1, mark.column + 1};
    }
    std::string_view before = text.substr(at - column, column);
    auto characters = std::count_if(before.begin(), before.end(), [](char c) {
        return (static_cast<unsigned char>(c) & 0xC0) != 0x80; // not a UTF-8 continuation byte
    });
    return {mark.line + 1, static_cast<int>(characters) + 1};
}

// The core schema's number forms, matched by hand: std::regex matched them by recursing once per
// character, and a run of some 60,000 digits overflowed the stack (of the checker, and of the
// server through POST /v1/program/check).
bool is_digit_in(char c, int base) {
    if (c >= '0' && c <= '9') {
        return c - '0' < base;
    }
    return base == 16 && ((c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'));
}

// How many characters from `at` on are digits of `base`.
std::size_t digits_at(std::string_view s, std::size_t at, int base = 10) {
    std::size_t end = at;
    while (end < s.size() && is_digit_in(s[end], base)) {
        ++end;
    }
    return end - at;
}

bool all_digits(std::string_view s, int base) {
    return !s.empty() && digits_at(s, 0, base) == s.size();
}

std::size_t sign_length(std::string_view s) {
    return !s.empty() && (s.front() == '-' || s.front() == '+') ? 1 : 0;
}

// [-+]?[0-9]+
bool is_decimal_integer(std::string_view s) {
    return all_digits(s.substr(sign_length(s)), 10);
}

// [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?
bool is_decimal_float(std::string_view s) {
    std::size_t at = sign_length(s);
    std::size_t whole = digits_at(s, at);
    at += whole;
    if (at < s.size() && s[at] == '.') {
        std::size_t fraction = digits_at(s, at + 1);
        if (whole == 0 && fraction == 0) {
            return false;
        }
        at += 1 + fraction;
    } else if (whole == 0) {
        return false;
    }
    if (at < s.size() && (s[at] == 'e' || s[at] == 'E')) {
        ++at;
        at += sign_length(s.substr(at));
        std::size_t exponent = digits_at(s, at);
        if (exponent == 0) {
            return false;
        }
        at += exponent;
    }
    return at == s.size();
}

// yaml-cpp's message for a line indented with a tab ("end of map not found", say) does not
// mention the tab, which YAML forbids in indentation and editors hide.
std::string tab_indent_hint(std::string_view text) {
    std::size_t line = 1;
    bool at_line_start = true;
    for (char c : text) {
        if (c == '\n') {
            ++line;
            at_line_start = true;
        } else if (at_line_start && c == '\t') {
            return " (line " + std::to_string(line) +
                   " is indented with a tab; YAML indents with spaces only)";
        } else if (c != ' ') {
            at_line_start = false;
        }
    }
    return "";
}

// YAML 1.2 core schema resolution of a plain (unquoted) scalar. JSON numbers, true, false and
// null are plain scalars too, so JSON files read the same as YAML ones.
nlohmann::json resolve_plain_scalar(const std::string& text) {
    static const std::set<std::string, std::less<>> nulls{"", "~", "null", "Null", "NULL"};
    static const std::set<std::string, std::less<>> trues{"true", "True", "TRUE"};
    static const std::set<std::string, std::less<>> falses{"false", "False", "FALSE"};
    if (nulls.contains(text)) {
        return nullptr;
    }
    if (trues.contains(text)) {
        return true;
    }
    if (falses.contains(text)) {
        return false;
    }
    auto integer = [&](std::string_view digits, int base) -> nlohmann::json {
        std::int64_t value = 0;
        auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value, base);
        if (ec == std::errc{} && end == digits.data() + digits.size()) {
            return value;
        }
        // Too large for an integer: keep it as a number so validation can say what it found
        // (infinite past a double's range, and for octal and hexadecimal, which strtod would
        // read as the 0 before the prefix).
        if (base == 10) {
            return std::strtod(text.c_str(), nullptr);
        }
        return std::numeric_limits<double>::infinity();
    };
    std::string_view view = text;
    if (is_decimal_integer(view)) {
        std::string_view digits = view;
        if (digits.front() == '+') {
            digits.remove_prefix(1);
        }
        return integer(digits, 10);
    }
    if (view.starts_with("0o") && view.size() > 2 && all_digits(view.substr(2), 8)) {
        return integer(view.substr(2), 8);
    }
    if (view.starts_with("0x") && view.size() > 2 && all_digits(view.substr(2), 16)) {
        return integer(view.substr(2), 16);
    }
    if (is_decimal_float(view)) {
        return std::strtod(text.c_str(), nullptr);
    }
    std::string_view unsigned_part = view;
    if (!unsigned_part.empty() && (unsigned_part.front() == '-' || unsigned_part.front() == '+')) {
        unsigned_part.remove_prefix(1);
    }
    if (unsigned_part == ".inf" || unsigned_part == ".Inf" || unsigned_part == ".INF") {
        return text.front() == '-' ? -std::numeric_limits<double>::infinity()
                                   : std::numeric_limits<double>::infinity();
    }
    if (view == ".nan" || view == ".NaN" || view == ".NAN") {
        return std::numeric_limits<double>::quiet_NaN();
    }
    return text;
}

// yaml-cpp 0.7 decodes the double-quoted escapes \N and \_ (U+0085, U+00A0) into the single bytes
// 0x85 and 0xA0 instead of their UTF-8, which nlohmann then refuses to dump (`loyalty check`
// aborted and the server's program check answered 500, found by the fuzzer). The text it decodes
// from was checked to be UTF-8 and its other escapes come out as UTF-8, so a lone byte is one of
// those two and is mended here; nullopt if anything else is ever left invalid.
std::optional<std::string> decoded_text(const std::string& scalar) {
    std::size_t bad = first_invalid_utf8(scalar);
    if (bad == std::string_view::npos) {
        return scalar;
    }
    std::string mended;
    std::size_t from = 0;
    while (bad != std::string_view::npos) {
        auto byte = static_cast<unsigned char>(scalar[from + bad]);
        if (byte != 0x85 && byte != 0xA0) {
            return std::nullopt;
        }
        mended.append(scalar, from, bad);
        mended += '\xC2';
        mended += static_cast<char>(byte);
        from += bad + 1;
        bad = first_invalid_utf8(std::string_view(scalar).substr(from));
    }
    mended.append(scalar, from);
    return mended;
}

// The line and column (in characters) of byte `offset`.
source_position position_at(std::string_view text, std::size_t offset) {
    source_position at{1, 1};
    for (std::size_t i = 0; i < offset; ++i) {
        if (text[i] == '\n') {
            ++at.line;
            at.column = 1;
        } else if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) {
            ++at.column;
        }
    }
    return at;
}

// Text yaml-cpp cannot read, at the place to fix. yaml-cpp says "end of map flow not found"
// wherever a `{...}` stops making sense: a bracket never closed (then reported where it was
// opened, not at the end of the file) or a missing comma (then at the parser's place, naming
// the bracket it was in).
diagnostic unreadable(const std::string& file_name, std::string_view text,
                      const YAML::Exception& e) {
    source_position at = position_of(text, e.mark);
    char opener = e.msg == YAML::ErrorMsg::END_OF_MAP_FLOW   ? '{'
                  : e.msg == YAML::ErrorMsg::END_OF_SEQ_FLOW ? '['
                                                             : '\0';
    std::size_t until = e.mark.pos < 0 ? text.size() : static_cast<std::size_t>(e.mark.pos);
    auto shape = detail::scan_text(text, until);
    const auto& open = shape.open;
    // A } or ] that is not the innermost bracket's partner: that one was left open.
    if (e.msg == YAML::ErrorMsg::FLOW_END && !open.empty() && until < text.size() &&
        (text[until] == '}' || text[until] == ']') &&
        (text[until] == '}') != (text[open.back()] == '{')) {
        return {file_name, position_at(text, open.back()), "",
                std::string("not valid YAML or JSON: this ") + text[open.back()] +
                    " is not closed before the " + text[until] + " at line " +
                    std::to_string(at.line) + ", column " + std::to_string(at.column) +
                    " (is its " + (text[open.back()] == '{' ? "}" : "]") + " missing?)"};
    }
    if (opener == '\0' || open.empty() || text[open.back()] != opener) {
        if (shape.quote_across_lines) {
            source_position quote = position_at(text, *shape.quote_across_lines);
            return {file_name, quote, "",
                    "not valid YAML or JSON: this quoted text runs on over line breaks, and the "
                    "parser gave up at line " +
                        std::to_string(at.line) + ", column " + std::to_string(at.column) + " (" +
                        e.msg + "): is its closing quote missing?"};
        }
        return {file_name, at, "", "not valid YAML or JSON: " + e.msg + tab_indent_hint(text)};
    }
    const std::size_t bracket = open.back();
    const std::string closer = opener == '{' ? "}" : "]";
    auto at_end = detail::scan_text(text, text.size()).open;
    if (std::find(at_end.begin(), at_end.end(), bracket) != at_end.end()) {
        return {file_name, position_at(text, bracket), "",
                std::string("not valid YAML or JSON: this ") + opener + " is never closed (" +
                    (until >= text.size()
                         ? std::string("the file ends")
                         : "the parser gave up at line " + std::to_string(at.line) + ", column " +
                               std::to_string(at.column)) +
                    " without its " + closer + ")"};
    }
    source_position from = position_at(text, bracket);
    return {file_name, at, "",
            "not valid YAML or JSON: expected a , or " + closer + " here, in the " + opener +
                " opened at line " + std::to_string(from.line) + ", column " +
                std::to_string(from.column) + " (a comma missing before this?)"};
}

// The path of the node enclosing `path`'s; false at the root.
bool to_parent(std::string& path) {
    if (path.empty()) {
        return false;
    }
    auto cut = path.find_last_of(".[");
    path.resize(cut == std::string::npos ? 0 : cut);
    return true;
}

} // namespace

std::string append_key(const std::string& path, std::string_view key) {
    if (is_identifier(key)) {
        return path.empty() ? std::string(key) : path + "." + std::string(key);
    }
    return path + nlohmann::json(std::string(key)).dump().insert(0, "[") + "]";
}

std::string append_index(const std::string& path, std::size_t index) {
    return path + "[" + std::to_string(index) + "]";
}

std::string alias_note(source_position written) {
    return " (the alias here brings in the value written at line " + std::to_string(written.line) +
           ", column " + std::to_string(written.column) + ")";
}

// Walks the yaml-cpp tree once, building the JSON value and recording marks by path.
class document_builder {
public:
    document_builder(source_document& doc, std::string_view text, diagnostics& problems,
                     const document_limits& limits, const std::vector<detail::alias_use>& aliases)
        : doc_(doc), text_(text), problems_(problems), limits_(limits), aliases_(aliases) {
        for (const auto& alias : aliases_) {
            anchored_.insert(alias.anchored_pos);
        }
    }

    // Past a limit the tree is not a program worth validating: the caller reports only the limit.
    bool too_large() const { return too_large_; }

    // Whether every alias of the text was met, in order, where the tree brings its anchor's node
    // in again; the positions recorded for aliases are only trusted if so.
    bool aliases_matched() const { return aliases_matched_ && next_alias_ == aliases_.size(); }

    nlohmann::json build(const YAML::Node& node, const std::string& path, std::size_t depth) {
        if (++nodes_ > limits_.max_nodes) {
            if (!too_large_) {
                report(position_of(text_, node.Mark()), path,
                       "the document has more than " + std::to_string(limits_.max_nodes) +
                           " values (aliases included); a program is never that large");
                too_large_ = true;
            }
            return nullptr;
        }
        if (depth > limits_.max_depth) {
            if (!too_large_) {
                report(position_of(text_, node.Mark()), path,
                       "nesting deeper than " + std::to_string(limits_.max_depth) + " levels");
                too_large_ = true;
            }
            return nullptr;
        }
        copy_scope copy(*this, brought_by_alias(node, &path));
        doc_.marks_[path].value = position_of(text_, node.Mark());
        switch (node.Type()) {
        case YAML::NodeType::Null:
        case YAML::NodeType::Undefined:
            return nullptr;
        case YAML::NodeType::Scalar:
            return scalar(node, path);
        case YAML::NodeType::Sequence: {
            nlohmann::json array = nlohmann::json::array();
            std::size_t index = 0;
            for (const auto& item : node) {
                array.push_back(build(item, append_index(path, index), depth + 1));
                ++index;
            }
            return array;
        }
        case YAML::NodeType::Map: {
            nlohmann::json object = nlohmann::json::object();
            for (const auto& entry : node) {
                const YAML::Node& key = entry.first;
                if (!key.IsScalar()) {
                    report(position_of(text_, key.Mark()), path,
                           "expected a plain text key, found a " +
                               std::string(key.IsMap() ? "mapping" : "list") + " used as a key");
                    pass_over(key);
                    pass_over(entry.second);
                    continue;
                }
                (void)brought_by_alias(key, nullptr);
                auto decoded = decoded_text(key.Scalar());
                if (!decoded) {
                    report(position_of(text_, key.Mark()), path, not_utf8);
                    pass_over(entry.second);
                    continue;
                }
                const std::string& name = *decoded;
                std::string child = append_key(path, name);
                if (object.contains(name)) {
                    report(position_of(text_, key.Mark()), child,
                           "duplicate key \"" + name + "\"; it was already given at line " +
                               std::to_string(doc_.marks_[child].key.line));
                    pass_over(entry.second);
                    continue;
                }
                doc_.marks_[child].key = position_of(text_, key.Mark());
                object[name] = build(entry.second, child, depth + 1);
            }
            return object;
        }
        }
        return nullptr;
    }

private:
    // yaml-cpp hands an alias's anchored node over as that very node, marks and all, so an
    // error in it would point at the anchor, far from the rule that uses it. A node met a second
    // time is such an alias: the one written next in the text, whose position is recorded for
    // `path` (nullptr: a key, or a part of the file not built). Inside a node brought in again,
    // nothing is: its own aliases were met where the anchor's node was written.
    bool brought_by_alias(const YAML::Node& node, const std::string* path) {
        int pos = node.Mark().pos;
        if (in_copy_ > 0 || !anchored_.contains(pos)) {
            return false;
        }
        // Never assigned to: assigning a YAML::Node changes the node it refers to.
        auto [first, inserted] = first_visit_.try_emplace(pos, node);
        if (inserted || !first->second.is(node)) {
            return false;
        }
        if (aliases_matched_ && next_alias_ < aliases_.size() &&
            aliases_[next_alias_].anchored_pos == pos) {
            copy_alias_ = position_of(text_, aliases_[next_alias_].at);
            if (path != nullptr) {
                doc_.alias_uses_[*path] = copy_alias_;
            }
        } else {
            copy_alias_ = {};
            aliases_matched_ = false;
        }
        ++next_alias_;
        return true;
    }

    // A part of the file that is not built (a duplicate key's value, say) still holds aliases
    // and anchors the ones after it are counted from. Inside a node an alias brought in there
    // is nothing to count, and no bound either: an anchor's node may hold an alias of itself, and
    // outside a copy the first alias met ends the walk.
    void pass_over(const YAML::Node& node) {
        if (in_copy_ > 0 || brought_by_alias(node, nullptr)) {
            return;
        }
        if (node.IsSequence()) {
            for (const auto& item : node) {
                pass_over(item);
            }
        } else if (node.IsMap()) {
            for (const auto& entry : node) {
                pass_over(entry.first);
                pass_over(entry.second);
            }
        }
    }

    // While a node brought in by an alias is built, its children are not aliases of their own.
    class copy_scope {
    public:
        copy_scope(document_builder& builder, bool active) : builder_(builder), active_(active) {
            builder_.in_copy_ += active_ ? 1 : 0;
        }
        ~copy_scope() { builder_.in_copy_ -= active_ ? 1 : 0; }
        copy_scope(const copy_scope&) = delete;
        copy_scope& operator=(const copy_scope&) = delete;

    private:
        document_builder& builder_;
        bool active_;
    };

    nlohmann::json scalar(const YAML::Node& node, const std::string& path) {
        auto decoded = decoded_text(node.Scalar());
        if (!decoded) {
            report(position_of(text_, node.Mark()), path, not_utf8);
            return nullptr;
        }
        const std::string& tag = node.Tag();
        // "!" marks a quoted scalar: always text. Core-schema tags written explicitly are honoured.
        if (tag == "!" || tag == "tag:yaml.org,2002:str") {
            return *decoded;
        }
        return resolve_plain_scalar(*decoded);
    }

    static constexpr const char* not_utf8 = "not valid UTF-8 once its escapes are read";

    void report(source_position at, const std::string& path, std::string message) {
        // Inside a node an alias brought in, `at` is in the anchor's text: the problem stands at
        // the alias, as the program's own checks do (schema_reader.cpp).
        if (in_copy_ > 0 && copy_alias_.line != 0) {
            message += alias_note(at);
            at = copy_alias_;
        }
        problems_.push_back({doc_.file_name_, at, path, std::move(message)});
    }

    source_document& doc_;
    std::string_view text_;
    diagnostics& problems_;
    const document_limits& limits_;
    std::size_t nodes_ = 0;
    bool too_large_ = false;
    const std::vector<detail::alias_use>& aliases_;
    std::set<int> anchored_;                          // where the nodes some alias names start
    std::unordered_map<int, YAML::Node> first_visit_; // each of them, as first built
    std::size_t next_alias_ = 0;
    bool aliases_matched_ = true;
    int in_copy_ = 0;
    source_position copy_alias_; // the alias that brought in the node being built, if known
};

source_document source_document::parse(std::string_view text, std::string file_name,
                                       diagnostics& problems, const document_limits& limits) {
    source_document doc;
    doc.file_name_ = std::move(file_name);
    // Control characters other than tab, LF and CR are not allowed in YAML nor raw in JSON; NUL
    // bytes would also make yaml-cpp read the text as UTF-16 or UTF-32.
    auto control = std::find_if(text.begin(), text.end(), [](char c) {
        return static_cast<unsigned char>(c) < 0x20 && c != '\t' && c != '\n' && c != '\r';
    });
    std::size_t bad = control != text.end() ? static_cast<std::size_t>(control - text.begin())
                                            : first_invalid_utf8(text);
    if (bad != std::string_view::npos) {
        char byte[8];
        std::snprintf(byte, sizeof byte, "0x%02X", static_cast<unsigned char>(text[bad]));
        problems.push_back({doc.file_name_, position_at(text, bad), "",
                            std::string(control != text.end() ? "the control character "
                                                              : "not valid UTF-8: the byte ") +
                                byte + " is not allowed in a program file"});
        return doc;
    }
    YAML::Node root;
    detail::stream_shape stream;
    try {
        // One document, and nothing after it: a program after a `---` would otherwise be
        // ignored without a word. (Not YAML::LoadAll: yaml_stream.cpp says why.)
        std::string source(text);
        root = YAML::Load(source);
        stream = detail::read_stream(source);
        if (stream.stray) {
            problems.push_back({doc.file_name_, position_of(text, stream.stray->mark), "",
                                std::move(stream.stray->message)});
            return doc;
        }
    } catch (const YAML::DeepRecursion& e) {
        // yaml-cpp stops at its own depth (about 500 levels, past ours) and calls it "bad file".
        problems.push_back({doc.file_name_, position_of(text, e.mark), "",
                            "nesting deeper than " + std::to_string(limits.max_depth) + " levels"});
        return doc;
    } catch (const YAML::Exception& e) {
        problems.push_back(unreadable(doc.file_name_, text, e));
        return doc;
    }
    document_builder builder(doc, text, problems, limits, stream.aliases);
    doc.root_ = builder.build(root, "", 0);
    if (builder.too_large()) {
        doc.root_ = nullptr;
    }
    if (!builder.aliases_matched()) {
        doc.alias_uses_.clear(); // never seen; the anchors' own positions are still right
    }
    return doc;
}

source_position source_document::lookup(std::string path, bool want_key) const {
    // Walk outwards until some enclosing node has a position: a missing key is reported at the
    // mapping that should hold it.
    while (true) {
        if (auto it = marks_.find(path); it != marks_.end()) {
            const marks& m = it->second;
            if (want_key && m.key.line != 0) {
                return m.key;
            }
            if (m.value.line != 0) {
                return m.value;
            }
            if (m.key.line != 0) {
                return m.key;
            }
        }
        if (!to_parent(path)) {
            return {};
        }
    }
}

std::optional<source_position> source_document::alias_use(std::string path, bool for_key) const {
    // An alias's own key is written where it is used; below it, everything is the anchor's.
    if (for_key && !to_parent(path)) {
        return std::nullopt;
    }
    while (true) {
        if (auto it = alias_uses_.find(path); it != alias_uses_.end()) {
            return it->second;
        }
        if (!to_parent(path)) {
            return std::nullopt;
        }
    }
}

source_position source_document::value_position(const std::string& path) const {
    return lookup(path, false);
}

source_position source_document::key_position(const std::string& path) const {
    return lookup(path, true);
}

} // namespace loyalty::program
