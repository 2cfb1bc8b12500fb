#pragma once
// A JavaScript value as a JsonLogic rule sees it: undefined, null, boolean, number (an IEEE
// double, so NaN, ±Infinity and -0 occur), string, array or object.
//
// A value read from the data by `var` borrows the node inside the data instead of copying it:
// reading is cheap, and two reads of the same array or object are the same JavaScript object,
// which `==` and `===` observe (they compare arrays and objects by identity). Values computed by
// a rule own what they hold and are cheap to copy (shared, immutable).

#include <cstddef>
#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace loyalty::logic {

enum class value_kind : std::uint8_t { undefined, null, boolean, number, string, array, object };

// Deepest nesting of arrays and objects in a value that evaluate() returns or that an operation
// builds; deeper is refused (size_limit) so that no walk over a value can exhaust the stack.
inline constexpr std::size_t max_value_nesting = 256;

class value;
using value_list = std::vector<value>;
using value_members = std::vector<std::pair<std::string, value>>;

namespace detail {
struct value_access;
}

class value {
public:
    value() noexcept {} // undefined

    static value null() noexcept {
        value v;
        v.kind_ = value_kind::null;
        return v;
    }
    static value boolean(bool b) noexcept {
        value v;
        v.kind_ = value_kind::boolean;
        v.u_.boolean = b;
        return v;
    }
    static value number(double d) noexcept {
        value v;
        v.kind_ = value_kind::number;
        v.u_.number = d;
        return v;
    }
    static value string(std::string text);
    static value array(value_list items);
    // Members in order; keys are expected to be distinct.
    static value object(value_members members);
    // Refers to `node` without copying; `node` must outlive the value and its copies.
    static value borrow(const nlohmann::json& node) noexcept {
        value v;
        v.kind_ = kind_of(node);
        if (v.kind_ != value_kind::null) {
            v.rep_ = rep::json;
            v.u_.json = &node;
        }
        return v;
    }

    value_kind kind() const noexcept { return kind_; }
    bool is_undefined() const noexcept { return kind_ == value_kind::undefined; }
    bool is_null() const noexcept { return kind_ == value_kind::null; }
    bool is_boolean() const noexcept { return kind_ == value_kind::boolean; }
    bool is_number() const noexcept { return kind_ == value_kind::number; }
    bool is_string() const noexcept { return kind_ == value_kind::string; }
    bool is_array() const noexcept { return kind_ == value_kind::array; }
    bool is_object() const noexcept { return kind_ == value_kind::object; }

    // Preconditions: the matching kind.
    bool as_boolean() const noexcept {
        return rep_ == rep::json ? *u_.json->get_ptr<const bool*>() : u_.boolean;
    }
    double as_number() const noexcept {
        if (rep_ != rep::json) {
            return u_.number;
        }
        switch (u_.json->type()) {
        case nlohmann::json::value_t::number_integer:
            return static_cast<double>(*u_.json->get_ptr<const std::int64_t*>());
        case nlohmann::json::value_t::number_unsigned:
            return static_cast<double>(*u_.json->get_ptr<const std::uint64_t*>());
        default:
            return *u_.json->get_ptr<const double*>();
        }
    }
    std::string_view as_string() const noexcept {
        return rep_ == rep::json ? std::string_view(*u_.json->get_ptr<const std::string*>())
                                 : std::string_view(*u_.text);
    }

    // Items of an array, members of an object; 0 for anything else.
    std::size_t size() const noexcept;
    // Precondition: an array and index < size().
    value item(std::size_t index) const;
    // The object's own member `key`; undefined when absent or when this is not an object.
    value member(std::string_view key) const;
    // The object's members in storage order (sorted by key for objects read from JSON).
    value_members members() const;

    // JavaScript identity of arrays and objects (what === compares for them): true for two
    // reads of the same data node, false for two arrays built separately, even if equal.
    bool identical(const value& other) const noexcept;

private:
    friend struct detail::value_access;

    enum class rep : std::uint8_t { scalar, json, text, list, record };
    struct list_rep;
    struct record_rep;

    static value_kind kind_of(const nlohmann::json& node) noexcept {
        switch (node.type()) {
        case nlohmann::json::value_t::boolean:
            return value_kind::boolean;
        case nlohmann::json::value_t::number_integer:
        case nlohmann::json::value_t::number_unsigned:
        case nlohmann::json::value_t::number_float:
            return value_kind::number;
        case nlohmann::json::value_t::string:
            return value_kind::string;
        case nlohmann::json::value_t::array:
            return value_kind::array;
        case nlohmann::json::value_t::object:
            return value_kind::object;
        default:
            // null, discarded, and binary (not produced by JSON parsing)
            return value_kind::null;
        }
    }

    value_kind kind_ = value_kind::undefined;
    rep rep_ = rep::scalar;
    // Borrowed from the compiled rule's own document rather than from the data; evaluate()
    // copies such parts before returning so that a result never outlives what it refers to.
    bool from_rule_ = false;
    // Arrays written in a rule are rebuilt each time the rule reaches them, so each evaluation
    // of one is a distinct JavaScript object: the generation tells them apart without copying.
    std::uint32_t generation_ = 0;
    union {
        bool boolean;
        double number;
        const nlohmann::json* json;
        const std::string* text;
        const list_rep* list;
        const record_rep* record;
    } u_{};
    std::shared_ptr<const void> owner_;
};

// JsonLogic truthiness: JavaScript's, except that an empty array is false.
inline bool truthy(const value& v) noexcept {
    switch (v.kind()) {
    case value_kind::undefined:
    case value_kind::null:
        return false;
    case value_kind::boolean:
        return v.as_boolean();
    case value_kind::number: {
        double d = v.as_number();
        return d == d && d != 0;
    }
    case value_kind::string:
        return !v.as_string().empty();
    case value_kind::array:
        return v.size() != 0;
    case value_kind::object:
        return true;
    }
    return false;
}

// JSON.stringify's view as a JSON document: NaN and ±Infinity become null, undefined becomes
// null at the top and in arrays and is left out of objects, integral numbers become JSON
// integers (-0 becomes 0). Bytes that are not UTF-8 and lone surrogates become U+FFFD.
nlohmann::json to_json(const value& v);

// The text JSON.stringify prints (compact), numbers formatted as JavaScript does ("1e-7",
// "1e+21", "0.30000000000000004"); undefined prints "null". Object members come in storage
// order.
std::string stringify(const value& v);

// An unambiguous text for comparing results with the reference implementation: undefined,
// null, true, false; numbers as n:<JavaScript string> with n:-0 for negative zero; strings
// quoted with every code unit outside printable ASCII written \uXXXX (lowercase hex); arrays
// [a,b]; objects {"k":v} with keys sorted by their encoded form. tests/differential's Node
// runner implements the same encoding.
std::string canonical_encoding(const value& v);

// JSON's escape of an ASCII character that needs one (quote, backslash, a control character, as
// \u00XX in lowercase hex, as nlohmann's dump and JSON.stringify write it); any other character
// as it is.
void append_json_ascii(std::string& out, char c);

} // namespace loyalty::logic

namespace loyalty::logic::detail {

// The evaluator's access to a value's representation; not for other callers.
struct value_access {
    // Borrows part of the rule's own document; arrays get `generation` as their identity.
    static value borrow_rule(const nlohmann::json& node, std::uint32_t generation) noexcept {
        value v = value::borrow(node);
        v.from_rule_ = true;
        v.generation_ = v.kind_ == value_kind::array ? generation : 0;
        return v;
    }
    static bool from_rule(const value& v) noexcept { return v.from_rule_; }
    // Nesting of the arrays and objects this value owns (borrowed ones count 1).
    static std::size_t owned_nesting(const value& v) noexcept;
    // The value with every part borrowed from the rule replaced by an owned copy.
    static value detach_from_rule(const value& v);
    // The JSON node a borrowed value refers to, or nullptr.
    static const nlohmann::json* json_node(const value& v) noexcept {
        return v.rep_ == value::rep::json ? v.u_.json : nullptr;
    }
    // The generation of a borrowed array (see value::generation_).
    static std::uint32_t generation(const value& v) noexcept { return v.generation_; }
    // `node`, a part of the JSON node `parent` borrows, read as value::item() and
    // value::member() read it: same origin (rule or data) and owner; arrays get `generation`.
    static value borrow_part(const value& parent, const nlohmann::json& node,
                             std::uint32_t generation) {
        value v = value::borrow(node);
        v.from_rule_ = parent.from_rule_;
        v.generation_ = v.kind_ == value_kind::array ? generation : 0;
        v.owner_ = parent.owner_;
        return v;
    }
    // The member `key` of a JSON object, or nullptr; `object` must be an object.
    static const nlohmann::json* json_member(const nlohmann::json& object,
                                             std::string_view key) noexcept;
};

} // namespace loyalty::logic::detail
