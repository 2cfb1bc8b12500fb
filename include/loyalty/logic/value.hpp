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

    static value null() noexcept;
    static value boolean(bool b) noexcept;
    static value number(double d) noexcept;
    static value string(std::string text);
    static value array(value_list items);
    // Members in order; keys are expected to be distinct.
    static value object(value_members members);
    // Refers to `node` without copying; `node` must outlive the value and its copies.
    static value borrow(const nlohmann::json& node) noexcept;

    value_kind kind() const noexcept { return kind_; }
    bool is_undefined() const noexcept { return kind_ == value_kind::undefined; }
    bool is_null() const noexcept { return kind_ == value_kind::null; }
    bool is_boolean() const noexcept { return kind_ == value_kind::boolean; }
    bool is_number() const noexcept { return kind_ == value_kind::number; }
    bool is_string() const noexcept { return kind_ == value_kind::string; }
    bool is_array() const noexcept { return kind_ == value_kind::array; }
    bool is_object() const noexcept { return kind_ == value_kind::object; }

    // Preconditions: the matching kind.
    bool as_boolean() const noexcept;
    double as_number() const noexcept;
    std::string_view as_string() const noexcept;

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
bool truthy(const value& v) noexcept;

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

} // namespace loyalty::logic

namespace loyalty::logic::detail {

// The evaluator's access to a value's representation; not for other callers.
struct value_access {
    // Borrows part of the rule's own document; arrays get `generation` as their identity.
    static value borrow_rule(const nlohmann::json& node, std::uint32_t generation) noexcept;
    static bool from_rule(const value& v) noexcept { return v.from_rule_; }
    // Nesting of the arrays and objects this value owns (borrowed ones count 1).
    static std::size_t owned_nesting(const value& v) noexcept;
    // The value with every part borrowed from the rule replaced by an owned copy.
    static value detach_from_rule(const value& v);
    // The JSON node a borrowed value refers to, or nullptr.
    static const nlohmann::json* json_node(const value& v) noexcept;
};

} // namespace loyalty::logic::detail
