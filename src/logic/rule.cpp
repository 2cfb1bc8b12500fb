// Compilation and evaluation of JsonLogic rules, following json-logic-js 2.0.5 (logic.js) step
// by step. Where this file says "JavaScript", it means what that implementation does when run
// by a conforming engine.

#include "loyalty/logic/rule.hpp"

#include "loyalty/logic/js_number.hpp"
#include "loyalty/logic/js_string.hpp"
#include "loyalty/logic/suggest.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <limits>
#include <optional>
#include <string_view>

namespace loyalty::logic {

namespace detail {

enum class op_code : std::uint8_t {
    constant, // a literal
    array,    // a literal array holding logic: each element evaluated
    var,
    missing,
    missing_some,
    if_,
    and_,
    or_,
    equal,
    strict_equal,
    not_equal,
    strict_not_equal,
    not_,
    double_not,
    greater,
    greater_equal,
    less,
    less_equal,
    max,
    min,
    add,
    subtract,
    multiply,
    divide,
    modulo,
    map,
    reduce,
    filter,
    all,
    none,
    some,
    merge,
    in,
    cat,
    substr,
    log,
};

// One step of a literal `var` path, split at compile time.
struct var_step {
    std::string key;
    // Set when `key` is a canonical array index ("0", "12", not "01"): indexes arrays and
    // strings.
    std::optional<std::size_t> index;
};

struct node {
    op_code code = op_code::constant;
    // For constant arrays: a new JavaScript array each time the rule reaches it.
    bool fresh_array = false;
    // Written in the rule as data, without logic (unlike a constant computed at compile time).
    bool literal = false;
    value constant;
    std::vector<node> args;
    // `var` with a literal path.
    bool literal_path = false;
    bool whole_data = false;
    std::vector<var_step> path;
    // Storage for a string computed at compile time (constant borrows it; the address is stable).
    std::shared_ptr<const nlohmann::json> folded;
};

} // namespace detail

namespace {

using detail::node;
using detail::op_code;
using detail::value_access;
using detail::var_step;
using json = nlohmann::json;

// ---------------------------------------------------------------------------------------------
// Operator table

struct operator_info {
    std::string_view name;
    op_code code;
    std::size_t min_args;
    std::size_t max_args; // npos: no limit
};

constexpr std::size_t any = std::numeric_limits<std::size_t>::max();

constexpr auto operators = std::to_array<operator_info>({
    {"==", op_code::equal, 2, 2},
    {"===", op_code::strict_equal, 2, 2},
    {"!=", op_code::not_equal, 2, 2},
    {"!==", op_code::strict_not_equal, 2, 2},
    {"!", op_code::not_, 1, 1},
    {"!!", op_code::double_not, 1, 1},
    {">", op_code::greater, 2, 2},
    {">=", op_code::greater_equal, 2, 2},
    {"<", op_code::less, 2, 3},
    {"<=", op_code::less_equal, 2, 3},
    {"and", op_code::and_, 0, any},
    {"or", op_code::or_, 0, any},
    {"if", op_code::if_, 0, any},
    {"?:", op_code::if_, 0, any},
    {"var", op_code::var, 0, 2},
    {"missing", op_code::missing, 0, any},
    {"missing_some", op_code::missing_some, 2, 2},
    {"max", op_code::max, 0, any},
    {"min", op_code::min, 0, any},
    {"+", op_code::add, 0, any},
    {"-", op_code::subtract, 1, 2},
    {"*", op_code::multiply, 1, any},
    {"/", op_code::divide, 2, 2},
    {"%", op_code::modulo, 2, 2},
    {"map", op_code::map, 2, 2},
    {"filter", op_code::filter, 2, 2},
    {"reduce", op_code::reduce, 2, 3},
    {"all", op_code::all, 2, 2},
    {"none", op_code::none, 2, 2},
    {"some", op_code::some, 2, 2},
    {"merge", op_code::merge, 0, any},
    {"in", op_code::in, 2, 2},
    {"cat", op_code::cat, 0, any},
    {"substr", op_code::substr, 2, 3},
    {"log", op_code::log, 1, 1},
});

const operator_info* find_operator(std::string_view name) {
    for (const auto& info : operators) {
        if (info.name == name) {
            return &info;
        }
    }
    return nullptr;
}

std::string json_quoted(std::string_view text) {
    return json(std::string(text)).dump(-1, ' ', false, json::error_handler_t::replace);
}

// ---------------------------------------------------------------------------------------------
// Evaluation state and JavaScript's abstract operations

struct context {
    explicit context(const eval_limits& l) : limits(l) {}

    const eval_limits& limits;
    std::size_t steps = 0;
    std::uint32_t generation = 0;
    std::optional<eval_error> error;

    bool failed() const noexcept { return error.has_value(); }

    void fail(eval_errc code, std::string message) {
        if (!error) {
            error = eval_error{code, std::move(message)};
        }
    }

    // Counts `n` units of work; false once the budget is spent.
    bool charge(std::size_t n) {
        steps += n;
        if (steps > limits.max_steps) [[unlikely]] {
            fail_steps();
            return false;
        }
        return true;
    }

    [[gnu::noinline, gnu::cold]] void fail_steps() {
        fail(eval_errc::step_limit,
             "the rule needed more than " + std::to_string(limits.max_steps) + " evaluation steps");
    }

    // Work on strings counts one step per 64 bytes.
    bool charge_bytes(std::size_t bytes) { return bytes < 64 || charge(bytes / 64); }

    bool check_string(std::size_t bytes, std::string_view op) {
        if (bytes > limits.max_string_bytes) {
            fail(eval_errc::size_limit, json_quoted(op) + " would build a string longer than " +
                                            std::to_string(limits.max_string_bytes) + " bytes");
            return false;
        }
        return true;
    }

    bool check_items(std::size_t items, std::string_view op) {
        if (items > limits.max_array_items) {
            fail(eval_errc::size_limit, json_quoted(op) + " would build an array longer than " +
                                            std::to_string(limits.max_array_items) + " items");
            return false;
        }
        return true;
    }
};

bool is_nullish(const value& v) {
    return v.is_undefined() || v.is_null();
}

// Makes an array an operation built, refusing what exceeds the nesting bound.
value make_array(value_list items, context& cx, std::string_view op) {
    std::size_t deepest = 0;
    for (const auto& item : items) {
        deepest = std::max(deepest, value_access::owned_nesting(item));
    }
    if (deepest + 1 > max_value_nesting) {
        cx.fail(eval_errc::size_limit, json_quoted(op) + " would build arrays nested deeper than " +
                                           std::to_string(max_value_nesting) + " levels");
        return {};
    }
    return value::array(std::move(items));
}

void append_to_string(std::string& out, const value& v, context& cx, std::size_t depth);

// Array.prototype.join(","): null and undefined items print as nothing.
void append_joined(std::string& out, const value& array, context& cx, std::size_t depth) {
    if (depth >= max_value_nesting) {
        cx.fail(eval_errc::type_error, "an array nested deeper than " +
                                           std::to_string(max_value_nesting) +
                                           " levels cannot be converted to a string");
        return;
    }
    std::size_t n = array.size();
    if (!cx.charge(n)) {
        return;
    }
    for (std::size_t i = 0; i < n; ++i) {
        if (i != 0) {
            out += ',';
        }
        value item = array.item(i);
        if (!is_nullish(item)) {
            append_to_string(out, item, cx, depth + 1);
        }
        if (cx.failed() || !cx.check_string(out.size(), "to string")) {
            return;
        }
    }
}

// ToString (String(v)).
void append_to_string(std::string& out, const value& v, context& cx, std::size_t depth) {
    switch (v.kind()) {
    case value_kind::undefined:
        out += "undefined";
        return;
    case value_kind::null:
        out += "null";
        return;
    case value_kind::boolean:
        out += v.as_boolean() ? "true" : "false";
        return;
    case value_kind::number:
        out += js_number_to_string(v.as_number());
        return;
    case value_kind::string:
        utf16_append(out, v.as_string());
        return;
    case value_kind::array:
        append_joined(out, v, cx, depth);
        return;
    case value_kind::object:
        out += "[object Object]";
        return;
    }
}

// ToString without copying a string that already is one; `storage` holds the text otherwise.
std::string_view string_of(const value& v, context& cx, std::string& storage) {
    if (v.is_string()) {
        return v.as_string();
    }
    append_to_string(storage, v, cx, 0);
    return storage;
}

// ToPrimitive: arrays and objects become strings.
value to_primitive(const value& v, context& cx) {
    if (v.is_array() || v.is_object()) {
        std::string text;
        append_to_string(text, v, cx, 0);
        return value::string(std::move(text));
    }
    return v;
}

// ToNumber.
double to_number(const value& v, context& cx) {
    switch (v.kind()) {
    case value_kind::undefined:
        return js_nan;
    case value_kind::null:
        return 0;
    case value_kind::boolean:
        return v.as_boolean() ? 1 : 0;
    case value_kind::number:
        return v.as_number();
    case value_kind::string:
        cx.charge_bytes(v.as_string().size());
        return js_string_to_number(v.as_string());
    case value_kind::array: {
        std::string text;
        append_to_string(text, v, cx, 0);
        cx.charge_bytes(text.size());
        return js_string_to_number(text);
    }
    case value_kind::object:
        return js_nan;
    }
    return js_nan;
}

// ToIntegerOrInfinity.
double to_integer(const value& v, context& cx) {
    double d = to_number(v, cx);
    if (std::isnan(d)) {
        return 0;
    }
    return std::trunc(d) + 0.0; // -0 becomes +0
}

// parseFloat(v): reads the string form.
double parse_float(const value& v, context& cx) {
    if (v.is_number()) {
        double d = v.as_number();
        return d == 0 ? 0.0 : d; // String(-0) is "0"
    }
    std::string storage;
    std::string_view text = string_of(v, cx, storage);
    cx.charge_bytes(text.size());
    return js_parse_float(text);
}

// a == b for texts, inline: those compared by rules are mostly short, where a call to memcmp
// would cost more than the comparison.
bool same_text(std::string_view a, std::string_view b) noexcept {
    if (a.size() != b.size()) {
        return false;
    }
    std::size_t i = 0;
    for (; i + 8 <= a.size(); i += 8) {
        std::uint64_t wa = 0;
        std::uint64_t wb = 0;
        std::memcpy(&wa, a.data() + i, 8);
        std::memcpy(&wb, b.data() + i, 8);
        if (wa != wb) {
            return false;
        }
    }
    for (; i < a.size(); ++i) {
        if (a[i] != b[i]) {
            return false;
        }
    }
    return true;
}

// IsStrictlyEqual.
bool strict_equals(const value& a, const value& b, context& cx) {
    if (a.kind() != b.kind()) {
        return false;
    }
    switch (a.kind()) {
    case value_kind::undefined:
    case value_kind::null:
        return true;
    case value_kind::boolean:
        return a.as_boolean() == b.as_boolean();
    case value_kind::number:
        return a.as_number() == b.as_number();
    case value_kind::string: {
        std::string_view sa = a.as_string();
        std::string_view sb = b.as_string();
        cx.charge_bytes(std::min(sa.size(), sb.size()));
        return same_text(sa, sb);
    }
    case value_kind::array:
    case value_kind::object:
        return a.identical(b);
    }
    return false;
}

// IsLooselyEqual.
bool loose_equals(const value& a0, const value& b0, context& cx) {
    if (a0.kind() == b0.kind() ||
        ((a0.is_array() || a0.is_object()) && (b0.is_array() || b0.is_object()))) {
        return !cx.failed() && strict_equals(a0, b0, cx);
    }
    value a = a0;
    value b = b0;
    for (int round = 0; round < 4 && !cx.failed(); ++round) {
        if (a.kind() == b.kind() ||
            ((a.is_array() || a.is_object()) && (b.is_array() || b.is_object()))) {
            return strict_equals(a, b, cx);
        }
        if (is_nullish(a) || is_nullish(b)) {
            return is_nullish(a) && is_nullish(b);
        }
        if (a.is_number() && b.is_string()) {
            return a.as_number() == to_number(b, cx);
        }
        if (a.is_string() && b.is_number()) {
            return to_number(a, cx) == b.as_number();
        }
        if (a.is_boolean()) {
            a = value::number(a.as_boolean() ? 1 : 0);
            continue;
        }
        if (b.is_boolean()) {
            b = value::number(b.as_boolean() ? 1 : 0);
            continue;
        }
        if (b.is_array() || b.is_object()) {
            b = to_primitive(b, cx);
            continue;
        }
        if (a.is_array() || a.is_object()) {
            a = to_primitive(a, cx);
            continue;
        }
        return false;
    }
    return false;
}

enum class tri { no, yes, undefined };

// IsLessThan(a, b): undefined when a number is NaN.
tri less_than(const value& a, const value& b, context& cx) {
    value pa = to_primitive(a, cx);
    value pb = to_primitive(b, cx);
    if (pa.is_string() && pb.is_string()) {
        std::string_view sa = pa.as_string();
        std::string_view sb = pb.as_string();
        cx.charge_bytes(std::min(sa.size(), sb.size()));
        return utf16_compare(sa, sb) < 0 ? tri::yes : tri::no;
    }
    double na = to_number(pa, cx);
    double nb = to_number(pb, cx);
    if (std::isnan(na) || std::isnan(nb)) {
        return tri::undefined;
    }
    return na < nb ? tri::yes : tri::no;
}

bool js_less(const value& a, const value& b, context& cx) {
    return less_than(a, b, cx) == tri::yes;
}

bool js_less_equal(const value& a, const value& b, context& cx) {
    return less_than(b, a, cx) == tri::no;
}

// String.prototype.substr(start, length) on an already converted string.
value js_substr(std::string_view text, const value& start, const value* length, context& cx) {
    cx.charge_bytes(text.size());
    const double size = static_cast<double>(utf16_length(text));
    double from = to_integer(start, cx);
    if (from < 0) {
        from = std::max(size + from, 0.0);
    } else {
        from = std::min(from, size);
    }
    double count = (length == nullptr || length->is_undefined()) ? size : to_integer(*length, cx);
    count = std::clamp(count, 0.0, size);
    double to = std::min(from + count, size);
    return value::string(
        utf16_slice(text, static_cast<std::size_t>(from), static_cast<std::size_t>(to)));
}

// A property read `object[key]` for a key given as text (and its index form when canonical).
// Only own properties: inherited ones (toString, constructor, ...) read as undefined.
value get_property(const value& object, std::string_view key, std::optional<std::size_t> index) {
    switch (object.kind()) {
    case value_kind::string: {
        std::string_view text = object.as_string();
        if (key == "length") {
            return value::number(static_cast<double>(utf16_length(text)));
        }
        if (index) {
            if (auto unit = utf16_unit_at(text, *index)) {
                return value::string(std::move(*unit));
            }
        }
        return {};
    }
    case value_kind::array:
        if (key == "length") {
            return value::number(static_cast<double>(object.size()));
        }
        if (index && *index < object.size()) {
            return object.item(*index);
        }
        return {};
    case value_kind::object:
        return object.member(key);
    default:
        return {};
    }
}

// The array index a property key denotes, if it is one: canonical decimal below 2^32 - 1.
std::optional<std::size_t> array_index_of(std::string_view key) {
    if (key.empty() || key.size() > 10 || (key.size() > 1 && key[0] == '0')) {
        return std::nullopt;
    }
    std::uint64_t n = 0;
    for (char c : key) {
        if (c < '0' || c > '9') {
            return std::nullopt;
        }
        n = n * 10 + static_cast<std::uint64_t>(c - '0');
    }
    if (n >= 4294967295ULL) {
        return std::nullopt;
    }
    return static_cast<std::size_t>(n);
}

std::vector<var_step> split_path(std::string_view path) {
    std::vector<var_step> steps;
    std::size_t start = 0;
    while (true) {
        std::size_t dot = path.find('.', start);
        std::string_view part = path.substr(
            start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
        steps.push_back(var_step{std::string(part), array_index_of(part)});
        if (dot == std::string_view::npos) {
            break;
        }
        start = dot + 1;
    }
    return steps;
}

// The operation `var` with evaluated arguments (json-logic-js operations.var).
value var_lookup(const value& path, const value& fallback, const value& data, context& cx) {
    value not_found = fallback.is_undefined() ? value::null() : fallback;
    if (is_nullish(path) || (path.is_string() && path.as_string().empty())) {
        return data;
    }
    std::string storage;
    std::string_view text = string_of(path, cx, storage);
    if (cx.failed()) {
        return {};
    }
    cx.charge_bytes(text.size());
    value current = data;
    std::size_t start = 0;
    while (true) {
        std::size_t dot = text.find('.', start);
        std::string_view part = text.substr(
            start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
        if (is_nullish(current)) {
            return not_found;
        }
        current = get_property(current, part, array_index_of(part));
        if (current.is_undefined()) {
            return not_found;
        }
        if (dot == std::string_view::npos) {
            return current;
        }
        start = dot + 1;
    }
}

// json-logic-js evaluates some values a second time as logic (the names given to missing and
// missing_some): arrays are walked and an object with one key would run as an operation. Such an
// object can only come from the data; we refuse to run data as logic.
bool refuse_logic_in(const value& v, context& cx, std::string_view op, std::size_t depth = 0) {
    if (v.is_object() && v.size() == 1) {
        cx.fail(eval_errc::type_error,
                json_quoted(op) +
                    " was given an object with one key, which JsonLogic would run as an "
                    "operation; data is never evaluated as logic");
        return false;
    }
    if (v.is_array()) {
        if (depth >= max_value_nesting) {
            cx.fail(eval_errc::type_error, json_quoted(op) +
                                               " was given names nested deeper than " +
                                               std::to_string(max_value_nesting) + " levels");
            return false;
        }
        if (!cx.charge(v.size())) {
            return false;
        }
        for (std::size_t i = 0; i < v.size(); ++i) {
            if (!refuse_logic_in(v.item(i), cx, op, depth + 1)) {
                return false;
            }
        }
    }
    return true;
}

// operations.missing applied to already evaluated arguments.
value missing_of(const value_list& args, const value& data, context& cx, std::string_view op) {
    value_list missing;
    auto check = [&](const value& key) {
        if (!refuse_logic_in(key, cx, op) || !cx.charge(1)) {
            return false;
        }
        value found;
        if (key.is_array()) {
            value path = key.size() > 0 ? key.item(0) : value{};
            value fallback = key.size() > 1 ? key.item(1) : value{};
            found = var_lookup(path, fallback, data, cx);
        } else {
            found = var_lookup(key, value{}, data, cx);
        }
        if (cx.failed()) {
            return false;
        }
        if (found.is_null() || (found.is_string() && found.as_string().empty())) {
            missing.push_back(key);
            return cx.check_items(missing.size(), op);
        }
        return true;
    };
    if (!args.empty() && args[0].is_array()) {
        const value& keys = args[0];
        for (std::size_t i = 0; i < keys.size(); ++i) {
            if (!check(keys.item(i))) {
                return {};
            }
        }
    } else {
        for (const auto& key : args) {
            if (!check(key)) {
                return {};
            }
        }
    }
    return make_array(std::move(missing), cx, op);
}

// ---------------------------------------------------------------------------------------------
// The evaluator

value eval_operation(const node& n, const value& data, context& cx);

// Constants are answered here, inline; operations go through eval_operation().
[[gnu::always_inline]] inline value eval(const node& n, const value& data, context& cx) {
    if (n.code == op_code::constant) {
        if (n.fresh_array) {
            return value_access::borrow_rule(*value_access::json_node(n.constant), ++cx.generation);
        }
        return n.constant;
    }
    return eval_operation(n, data, cx);
}

// Reads path[next..] from `from` as JavaScript property reads; `fallback` (null when
// undefined) for what is not there.
value read_path(const std::vector<var_step>& path, std::size_t next, value current,
                const value& fallback) {
    for (; next < path.size(); ++next) {
        if (is_nullish(current)) {
            return fallback.is_undefined() ? value::null() : fallback;
        }
        current = get_property(current, path[next].key, path[next].index);
        if (current.is_undefined()) {
            return fallback.is_undefined() ? value::null() : fallback;
        }
    }
    return current;
}

value eval_var(const node& n, const value& data, context& cx) {
    value path;
    if (!n.literal_path && !n.args.empty()) {
        path = eval(n.args[0], data, cx);
        if (cx.failed()) {
            return {};
        }
    }
    value fallback;
    if (n.args.size() > 1) {
        fallback = eval(n.args[1], data, cx);
        if (cx.failed()) {
            return {};
        }
    }
    if (!n.literal_path) {
        return var_lookup(path, fallback, data, cx);
    }
    if (n.whole_data) {
        return data;
    }
    const json* node = value_access::json_node(data);
    if (node == nullptr) {
        return read_path(n.path, 0, data, fallback);
    }
    // Data read from JSON: walk its nodes, making a value only of what is found. Arrays read by
    // index keep the generation of the array they are read from (value::item()), members start
    // over (value::member()).
    std::uint32_t generation = value_access::generation(data);
    std::size_t next = 0;
    for (; next < n.path.size(); ++next) {
        const var_step& step = n.path[next];
        if (node->is_object()) {
            node = value_access::json_member(*node, step.key);
            if (node == nullptr) {
                return fallback.is_undefined() ? value::null() : fallback;
            }
            generation = 0;
        } else if (node->is_array() && step.index) {
            if (*step.index >= node->size()) {
                return fallback.is_undefined() ? value::null() : fallback;
            }
            node = &(*node)[*step.index];
            generation = node->is_array() ? generation : 0;
        } else {
            break; // strings, "length", and what has no properties: the general way
        }
    }
    if (next == n.path.size()) {
        return value_access::borrow_part(data, *node, generation);
    }
    return read_path(n.path, next, value_access::borrow_part(data, *node, generation), fallback);
}

// Evaluates every argument (JavaScript evaluates them all before the operation runs).
bool eval_args(const node& n, const value& data, context& cx, value_list& out) {
    out.reserve(n.args.size());
    for (const auto& arg : n.args) {
        out.push_back(eval(arg, data, cx));
        if (cx.failed()) {
            return false;
        }
    }
    return true;
}

value eval_scoped(const node& n, const value& data, context& cx) {
    value scoped = eval(n.args[0], data, cx);
    if (cx.failed()) {
        return {};
    }
    const node& logic = n.args[1];
    switch (n.code) {
    case op_code::map: {
        value_list out;
        if (!scoped.is_array()) {
            return make_array(std::move(out), cx, "map");
        }
        if (!cx.check_items(scoped.size(), "map")) {
            return {};
        }
        out.reserve(scoped.size());
        for (std::size_t i = 0; i < scoped.size(); ++i) {
            if (!cx.charge(1)) {
                return {};
            }
            out.push_back(eval(logic, scoped.item(i), cx));
            if (cx.failed()) {
                return {};
            }
        }
        return make_array(std::move(out), cx, "map");
    }
    case op_code::filter: {
        value_list out;
        if (!scoped.is_array()) {
            return make_array(std::move(out), cx, "filter");
        }
        if (!cx.check_items(scoped.size(), "filter")) {
            return {};
        }
        for (std::size_t i = 0; i < scoped.size(); ++i) {
            if (!cx.charge(1)) {
                return {};
            }
            value item = scoped.item(i);
            bool keep = truthy(eval(logic, item, cx));
            if (cx.failed()) {
                return {};
            }
            if (keep) {
                out.push_back(std::move(item));
            }
        }
        return make_array(std::move(out), cx, "filter");
    }
    case op_code::reduce: {
        value accumulator = value::null();
        if (n.args.size() > 2) {
            accumulator = eval(n.args[2], data, cx);
            if (cx.failed()) {
                return {};
            }
        }
        if (!scoped.is_array()) {
            return accumulator;
        }
        for (std::size_t i = 0; i < scoped.size(); ++i) {
            if (!cx.charge(1)) {
                return {};
            }
            if (value_access::owned_nesting(accumulator) + 1 > max_value_nesting) {
                cx.fail(eval_errc::size_limit,
                        "\"reduce\" built an accumulator nested deeper than " +
                            std::to_string(max_value_nesting) + " levels");
                return {};
            }
            value scope =
                value::object({{"current", scoped.item(i)}, {"accumulator", accumulator}});
            accumulator = eval(logic, scope, cx);
            if (cx.failed()) {
                return {};
            }
        }
        return accumulator;
    }
    case op_code::all:
    case op_code::none:
    case op_code::some: {
        // all: false for an empty or non-array set; none: true; some: false.
        bool empty_result = n.code == op_code::none;
        if (!scoped.is_array() || scoped.size() == 0) {
            return value::boolean(empty_result);
        }
        for (std::size_t i = 0; i < scoped.size(); ++i) {
            if (!cx.charge(1)) {
                return {};
            }
            bool t = truthy(eval(logic, scoped.item(i), cx));
            if (cx.failed()) {
                return {};
            }
            if (n.code == op_code::all && !t) {
                return value::boolean(false);
            }
            if (n.code == op_code::none && t) {
                return value::boolean(false);
            }
            if (n.code == op_code::some && t) {
                return value::boolean(true);
            }
        }
        return value::boolean(n.code != op_code::some);
    }
    default:
        return {};
    }
}

value eval_missing_some(const node& n, const value& data, context& cx) {
    value need = eval(n.args[0], data, cx);
    if (cx.failed()) {
        return {};
    }
    value options = eval(n.args[1], data, cx);
    if (cx.failed() || !refuse_logic_in(options, cx, "missing_some")) {
        return {};
    }
    // jsonLogic.apply({"missing": options}): the options (or the one non-array option) become
    // the arguments of missing.
    value_list args;
    if (options.is_array()) {
        args.reserve(options.size());
        for (std::size_t i = 0; i < options.size(); ++i) {
            args.push_back(options.item(i));
        }
    } else {
        args.push_back(options);
    }
    value are_missing = missing_of(args, data, cx, "missing_some");
    if (cx.failed()) {
        return {};
    }
    if (is_nullish(options)) {
        cx.fail(eval_errc::type_error, std::string("the names given to \"missing_some\" are ") +
                                           (options.is_null() ? "null" : "undefined") +
                                           ", not an array");
        return {};
    }
    double present = to_number(get_property(options, "length", std::nullopt), cx) -
                     static_cast<double>(are_missing.size());
    if (less_than(value::number(present), need, cx) == tri::no) {
        return make_array({}, cx, "missing_some");
    }
    return are_missing;
}

value arithmetic_of(const node& n, const value& data, context& cx) {
    switch (n.code) {
    case op_code::add: {
        double sum = 0;
        for (const auto& arg : n.args) {
            value v = eval(arg, data, cx);
            if (cx.failed()) {
                return {};
            }
            sum = (sum == 0 ? 0.0 : sum) + parse_float(v, cx);
        }
        return value::number(sum);
    }
    case op_code::multiply: {
        value first = eval(n.args[0], data, cx);
        if (cx.failed() || n.args.size() == 1) {
            return first; // reduce without initial value returns a lone argument unchanged
        }
        double product = parse_float(first, cx);
        for (std::size_t i = 1; i < n.args.size(); ++i) {
            value v = eval(n.args[i], data, cx);
            if (cx.failed()) {
                return {};
            }
            product = (product == 0 ? 0.0 : product) * parse_float(v, cx);
        }
        return value::number(product);
    }
    case op_code::max:
    case op_code::min: {
        bool is_max = n.code == op_code::max;
        double result = is_max ? -js_infinity : js_infinity;
        bool saw_nan = false;
        for (const auto& arg : n.args) {
            value v = eval(arg, data, cx);
            if (cx.failed()) {
                return {};
            }
            double d = to_number(v, cx);
            if (std::isnan(d)) {
                saw_nan = true;
            } else if (is_max ? (d > result || (d == 0 && result == 0 && !std::signbit(d)))
                              : (d < result || (d == 0 && result == 0 && std::signbit(d)))) {
                result = d;
            }
        }
        return value::number(saw_nan ? js_nan : result);
    }
    default:
        break;
    }
    value a = eval(n.args[0], data, cx);
    if (cx.failed()) {
        return {};
    }
    value b = n.args.size() > 1 ? eval(n.args[1], data, cx) : value{};
    if (cx.failed()) {
        return {};
    }
    switch (n.code) {
    case op_code::subtract:
        if (b.is_undefined()) {
            return value::number(-to_number(a, cx));
        }
        return value::number(to_number(a, cx) - to_number(b, cx));
    case op_code::divide:
        return value::number(to_number(a, cx) / to_number(b, cx));
    case op_code::modulo:
        return value::number(std::fmod(to_number(a, cx), to_number(b, cx)));
    default:
        return {};
    }
}

value text_of(const node& n, const value& data, context& cx) {
    if (n.code == op_code::cat) {
        std::string out;
        for (const auto& arg : n.args) {
            value v = eval(arg, data, cx);
            if (cx.failed()) {
                return {};
            }
            if (!is_nullish(v)) {
                if (v.is_string()) {
                    cx.charge_bytes(v.as_string().size());
                    if (!cx.check_string(out.size() + v.as_string().size(), "cat")) {
                        return {};
                    }
                }
                append_to_string(out, v, cx, 0);
            }
            if (cx.failed() || !cx.check_string(out.size(), "cat")) {
                return {};
            }
        }
        return value::string(std::move(out));
    }
    // substr
    value source = eval(n.args[0], data, cx);
    if (cx.failed()) {
        return {};
    }
    value start = eval(n.args[1], data, cx);
    if (cx.failed()) {
        return {};
    }
    value end = n.args.size() > 2 ? eval(n.args[2], data, cx) : value{};
    if (cx.failed()) {
        return {};
    }
    std::string storage;
    std::string_view text = string_of(source, cx, storage);
    if (cx.failed()) {
        return {};
    }
    if (js_less(end, value::number(0), cx)) {
        // logic.js emulates PHP: substr(start), then drop -end units from the end, computing
        // temp.length + end with JavaScript's +, which concatenates when end is not a number.
        value temp = js_substr(text, start, nullptr, cx);
        double length = static_cast<double>(utf16_length(temp.as_string()));
        value count;
        if (end.is_number()) {
            count = value::number(length + end.as_number());
        } else {
            std::string joined = js_number_to_string(length);
            append_to_string(joined, to_primitive(end, cx), cx, 0);
            count = value::string(std::move(joined));
        }
        if (cx.failed()) {
            return {};
        }
        return js_substr(temp.as_string(), value::number(0), &count, cx);
    }
    return js_substr(text, start, &end, cx);
}

// The JSON node a `var` of a literal path names in JSON data, or null when the general way
// must decide: data that is not JSON, a default, a missing member, a step through an array or a
// string. Reading it this way makes no value and charges nothing; the caller charges the step
// eval() would have.
const json* literal_member(const node& n, const value& data) noexcept {
    if (n.code != op_code::var || !n.literal_path || n.whole_data || n.args.size() > 1) {
        return nullptr;
    }
    const json* at = value_access::json_node(data);
    for (const var_step& step : n.path) {
        if (at == nullptr || !at->is_object()) {
            return nullptr;
        }
        at = value_access::json_member(*at, step.key);
    }
    return at;
}

// A string among JSON items: compares the texts without making values of them.
value string_among(std::string_view text, const json& items, context& cx) {
    for (const json& item : *items.get_ptr<const json::array_t*>()) {
        if (!cx.charge(1)) {
            return {};
        }
        if (const auto* s = item.get_ptr<const std::string*>()) {
            cx.charge_bytes(std::min(text.size(), s->size()));
            if (same_text(text, *s)) {
                return value::boolean(true);
            }
        }
    }
    return value::boolean(false);
}

value eval_in(const node& n, const value& data, context& cx) {
    // `{"in": [{"var": "line.category"}, ["bakery", ...]]}`, a string member among the rule's
    // own strings: read in place, with the steps the general way below charges (the var's one,
    // and the new array a literal array is each time, which nothing else can see here).
    if (const node& list = n.args[1]; list.code == op_code::constant && list.fresh_array) {
        const json* needle = literal_member(n.args[0], data);
        const json* items = value_access::json_node(list.constant);
        if (needle != nullptr && needle->is_string() && items != nullptr && items->is_array()) {
            if (!cx.charge(1)) {
                return {};
            }
            ++cx.generation;
            return string_among(*needle->get_ptr<const std::string*>(), *items, cx);
        }
    }
    value needle = eval(n.args[0], data, cx);
    if (cx.failed()) {
        return {};
    }
    value haystack = eval(n.args[1], data, cx);
    if (cx.failed()) {
        return {};
    }
    if (haystack.is_string()) {
        std::string_view text = haystack.as_string();
        if (text.empty()) {
            return value::boolean(false); // !b: the empty string is falsy
        }
        std::string storage;
        std::string_view part = string_of(needle, cx, storage);
        cx.charge_bytes(text.size());
        return value::boolean(!cx.failed() && utf16_contains(text, part));
    }
    if (haystack.is_array()) {
        std::size_t count = haystack.size();
        const json* items = value_access::json_node(haystack);
        if (items != nullptr && needle.is_string()) {
            return string_among(needle.as_string(), *items, cx);
        }
        for (std::size_t i = 0; i < count; ++i) {
            if (!cx.charge(1)) {
                return {};
            }
            if (strict_equals(needle, haystack.item(i), cx)) {
                return value::boolean(true);
            }
        }
        return value::boolean(false);
    }
    return value::boolean(false);
}

value eval_merge(const node& n, const value& data, context& cx) {
    value_list out;
    for (const auto& arg : n.args) {
        value v = eval(arg, data, cx);
        if (cx.failed()) {
            return {};
        }
        if (v.is_array()) {
            std::size_t count = v.size();
            if (!cx.check_items(out.size() + count, "merge") || !cx.charge(count)) {
                return {};
            }
            for (std::size_t i = 0; i < count; ++i) {
                out.push_back(v.item(i));
            }
        } else {
            if (!cx.check_items(out.size() + 1, "merge")) {
                return {};
            }
            out.push_back(std::move(v));
        }
    }
    return make_array(std::move(out), cx, "merge");
}

// The cases of eval_operation() that need more than a few locals live in functions of their
// own, so that the dispatch itself keeps a small frame.
[[gnu::noinline]] value eval_array(const node& n, const value& data, context& cx) {
    value_list items;
    if (!eval_args(n, data, cx, items)) {
        return {};
    }
    return make_array(std::move(items), cx, "array");
}

// `{"op": [{"var": "a.b"}, constant]}` when both sides are numbers, strings or booleans of the
// same kind (the shape of nearly every condition in a program): compared in place, with the
// results and the steps charged of the general way below, whose equality and ordering reduce to
// these for two primitives of one kind. Nothing when another case has to go the general way.
std::optional<bool> compare_member_with_constant(const node& n, const value& data, context& cx) {
    const node& left = n.args[0];
    const node& right = n.args[1];
    if (right.code != op_code::constant || right.fresh_array) {
        return std::nullopt;
    }
    const json* a = literal_member(left, data);
    if (a == nullptr) {
        return std::nullopt;
    }
    const value& b = right.constant;
    const bool ordering = n.code == op_code::greater || n.code == op_code::greater_equal;
    if (a->is_number() && b.is_number()) {
        double x = a->get<double>();
        double y = b.as_number();
        if (std::isnan(x) || std::isnan(y)) {
            return std::nullopt;
        }
        if (!cx.charge(1)) { // the var's step
            return std::nullopt;
        }
        switch (n.code) {
        case op_code::equal:
        case op_code::strict_equal:
            return x == y;
        case op_code::not_equal:
        case op_code::strict_not_equal:
            return x != y;
        case op_code::greater:
            return y < x;
        default: // greater_equal: not (x < y)
            return !(x < y);
        }
    }
    if (ordering) {
        return std::nullopt;
    }
    bool same = false;
    if (const auto* text = a->get_ptr<const std::string*>(); text != nullptr && b.is_string()) {
        if (!cx.charge(1)) {
            return std::nullopt;
        }
        std::string_view other = b.as_string();
        cx.charge_bytes(std::min(text->size(), other.size()));
        same = same_text(*text, other);
    } else if (a->is_boolean() && b.is_boolean()) {
        if (!cx.charge(1)) {
            return std::nullopt;
        }
        same = a->get<bool>() == b.as_boolean();
    } else {
        return std::nullopt;
    }
    const bool negated = n.code == op_code::not_equal || n.code == op_code::strict_not_equal;
    return negated ? !same : same;
}

[[gnu::noinline]] value eval_compare(const node& n, const value& data, context& cx) {
    if (auto fused = compare_member_with_constant(n, data, cx)) {
        return cx.failed() ? value{} : value::boolean(*fused);
    }
    if (cx.failed()) {
        return {};
    }
    value a = eval(n.args[0], data, cx);
    if (cx.failed()) {
        return {};
    }
    value b = eval(n.args[1], data, cx);
    if (cx.failed()) {
        return {};
    }
    bool result = false;
    switch (n.code) {
    case op_code::equal:
        result = loose_equals(a, b, cx);
        break;
    case op_code::not_equal:
        result = !loose_equals(a, b, cx);
        break;
    case op_code::strict_equal:
        result = strict_equals(a, b, cx);
        break;
    case op_code::strict_not_equal:
        result = !strict_equals(a, b, cx);
        break;
    case op_code::greater:
        result = js_less(b, a, cx);
        break;
    default:
        result = less_than(a, b, cx) == tri::no;
        break;
    }
    if (cx.failed()) {
        return {};
    }
    return value::boolean(result);
}

[[gnu::noinline]] value eval_between(const node& n, const value& data, context& cx) {
    value a = eval(n.args[0], data, cx);
    if (cx.failed()) {
        return {};
    }
    value b = eval(n.args[1], data, cx);
    if (cx.failed()) {
        return {};
    }
    value c = n.args.size() > 2 ? eval(n.args[2], data, cx) : value{};
    if (cx.failed()) {
        return {};
    }
    auto compare = n.code == op_code::less ? js_less : js_less_equal;
    bool result = compare(a, b, cx);
    if (!c.is_undefined()) {
        result = result && compare(b, c, cx);
    }
    if (cx.failed()) {
        return {};
    }
    return value::boolean(result);
}

value eval_arithmetic(const node& n, const value& data, context& cx) {
    value result = arithmetic_of(n, data, cx);
    return cx.failed() ? value{} : result;
}

value eval_text(const node& n, const value& data, context& cx) {
    value result = text_of(n, data, cx);
    return cx.failed() ? value{} : result;
}

value eval_if(const node& n, const value& data, context& cx) {
    std::size_t i = 0;
    for (; i + 1 < n.args.size(); i += 2) {
        bool condition = truthy(eval(n.args[i], data, cx));
        if (cx.failed()) {
            return {};
        }
        if (condition) {
            return eval(n.args[i + 1], data, cx);
        }
    }
    if (n.args.size() == i + 1) {
        return eval(n.args[i], data, cx);
    }
    return value::null();
}

value eval_not(const node& n, const value& data, context& cx) {
    bool t = truthy(eval(n.args[0], data, cx));
    if (cx.failed()) {
        return {};
    }
    return value::boolean(n.code == op_code::not_ ? !t : t);
}

// The first argument whose truthiness decides (falsy for and, truthy for or), or the last.
[[gnu::noinline]] value eval_and_or(const node& n, const value& data, context& cx) {
    const bool decides = n.code == op_code::or_;
    for (std::size_t i = 0; i < n.args.size(); ++i) {
        value current = eval(n.args[i], data, cx);
        if (cx.failed()) {
            return {};
        }
        if (i + 1 == n.args.size() || truthy(current) == decides) {
            return current;
        }
    }
    return {};
}

[[gnu::noinline]] value eval_missing(const node& n, const value& data, context& cx) {
    value_list args;
    if (!eval_args(n, data, cx, args)) {
        return {};
    }
    return missing_of(args, data, cx, "missing");
}

value eval_operation(const node& n, const value& data, context& cx) {
    if (!cx.charge(1)) {
        return {};
    }
    switch (n.code) {
    case op_code::constant:
        return n.constant;
    case op_code::var:
        return eval_var(n, data, cx);
    case op_code::array:
        return eval_array(n, data, cx);
    case op_code::if_:
        return eval_if(n, data, cx);
    case op_code::and_:
    case op_code::or_:
        return eval_and_or(n, data, cx);
    case op_code::equal:
    case op_code::not_equal:
    case op_code::strict_equal:
    case op_code::strict_not_equal:
    case op_code::greater:
    case op_code::greater_equal:
        return eval_compare(n, data, cx);
    case op_code::less:
    case op_code::less_equal:
        return eval_between(n, data, cx);
    case op_code::not_:
    case op_code::double_not:
        return eval_not(n, data, cx);
    case op_code::log:
        return eval(n.args[0], data, cx);
    case op_code::add:
    case op_code::subtract:
    case op_code::multiply:
    case op_code::divide:
    case op_code::modulo:
    case op_code::max:
    case op_code::min:
        return eval_arithmetic(n, data, cx);
    case op_code::map:
    case op_code::filter:
    case op_code::reduce:
    case op_code::all:
    case op_code::none:
    case op_code::some:
        return eval_scoped(n, data, cx);
    case op_code::merge:
        return eval_merge(n, data, cx);
    case op_code::in:
        return eval_in(n, data, cx);
    case op_code::cat:
    case op_code::substr:
        return eval_text(n, data, cx);
    case op_code::missing:
        return eval_missing(n, data, cx);
    case op_code::missing_some:
        return eval_missing_some(n, data, cx);
    }
    return {};
}

// Depth of arrays and objects in a value, stopping once it exceeds `limit`.
std::size_t nesting_of(const value& v, std::size_t limit, std::size_t depth = 0) {
    if (!v.is_array() && !v.is_object()) {
        return depth;
    }
    if (depth + 1 > limit) {
        return depth + 1;
    }
    std::size_t deepest = depth + 1;
    if (v.is_array()) {
        for (std::size_t i = 0; i < v.size() && deepest <= limit; ++i) {
            deepest = std::max(deepest, nesting_of(v.item(i), limit, depth + 1));
        }
    } else {
        for (const auto& m : v.members()) {
            deepest = std::max(deepest, nesting_of(m.second, limit, depth + 1));
            if (deepest > limit) {
                break;
            }
        }
    }
    return deepest;
}

// ---------------------------------------------------------------------------------------------
// The compiler

std::string describe(const json& j) {
    switch (j.type()) {
    case json::value_t::null:
        return "null";
    case json::value_t::boolean:
        return std::string("a boolean (") + (j.get<bool>() ? "true" : "false") + ")";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
    case json::value_t::number_float:
        return "a number (" + j.dump() + ")";
    case json::value_t::string:
        return "a string (" + json_quoted(j.get_ref<const std::string&>()) + ")";
    case json::value_t::array:
        return "an array";
    case json::value_t::object:
        return "an object";
    default:
        return "a value";
    }
}

bool is_operation(const json& j) {
    return j.is_object() && j.size() == 1;
}

double json_number(const json& j) {
    if (j.is_number_unsigned()) {
        return static_cast<double>(j.get<std::uint64_t>());
    }
    if (j.is_number_integer()) {
        return static_cast<double>(j.get<std::int64_t>());
    }
    return j.get<double>();
}

// Whether the nesting of arrays and objects in `j` exceeds `limit`, without recursion (the
// document may be arbitrarily deep).
bool nesting_exceeds(const json& j, std::size_t limit) {
    std::vector<std::pair<const json*, std::size_t>> stack{{&j, 0}};
    while (!stack.empty()) {
        auto [at, depth] = stack.back();
        stack.pop_back();
        if (at->is_array() || at->is_object()) {
            if (depth + 1 > limit) {
                return true;
            }
            for (const auto& child : *at) {
                stack.emplace_back(&child, depth + 1);
            }
        }
    }
    return false;
}

std::size_t bounded_nesting(const json& j, std::size_t limit, std::size_t depth = 0) {
    if (!j.is_array() && !j.is_object()) {
        return depth;
    }
    if (depth + 1 > limit) {
        return depth + 1;
    }
    std::size_t deepest = depth + 1;
    for (const auto& child : j) {
        deepest = std::max(deepest, bounded_nesting(child, limit, depth + 1));
        if (deepest > limit) {
            break;
        }
    }
    return deepest;
}

class compiler {
public:
    explicit compiler(const compile_options& options) : options_(options) {}

    node compile_root(const json& j) { return compile_expr(j, 0, false, false); }

    std::vector<compile_error> take_errors() { return std::move(errors_); }
    std::vector<variable_reference> take_variables() { return std::move(variables_); }
    bool reads_data() const { return reads_data_; }

private:
    const compile_options& options_;
    std::vector<compile_error> errors_;
    std::vector<variable_reference> variables_;
    bool reads_data_ = false;
    json_path path_;
    bool depth_reported_ = false;

    void error(std::string message) { errors_.push_back({path_, std::move(message)}); }

    // Out of line: inlined, it makes GCC 12 warn (falsely) of an uninitialized path step.
    [[gnu::noinline]] void error_at(const path_step& step, std::string message) {
        path_.push_back(step);
        error(std::move(message));
        path_.pop_back();
    }

    bool too_deep(std::size_t depth) {
        if (depth <= options_.max_depth) {
            return false;
        }
        if (!depth_reported_) {
            depth_reported_ = true;
            error("the rule nests deeper than " + std::to_string(options_.max_depth) +
                  " levels of operations and literal arrays");
        }
        return true;
    }

    static node constant_of(const json& j) {
        node n;
        n.code = op_code::constant;
        n.literal = true;
        if (j.is_number()) {
            n.constant = value::number(json_number(j));
        } else if (j.is_boolean()) {
            n.constant = value::boolean(j.get<bool>());
        } else if (j.is_null()) {
            n.constant = value::null();
        } else {
            n.constant = value_access::borrow_rule(j, 0);
        }
        return n;
    }

    node compile_expr(const json& j, std::size_t depth, bool scoped, bool in_literal_array) {
        if (j.is_array()) {
            if (too_deep(depth + 1)) {
                return {};
            }
            node n;
            n.code = op_code::array;
            bool all_constant = true;
            n.args.reserve(j.size());
            for (std::size_t i = 0; i < j.size(); ++i) {
                path_.push_back(i);
                n.args.push_back(compile_expr(j[i], depth + 1, scoped, true));
                path_.pop_back();
                all_constant = all_constant && n.args.back().literal;
            }
            if (all_constant) {
                // No logic inside: the rule's own array, with a new identity per evaluation.
                node c = constant_of(j);
                c.fresh_array = true;
                return c;
            }
            return n;
        }
        if (!j.is_object()) {
            return constant_of(j);
        }
        if (j.size() != 1) {
            if (in_literal_array) {
                // A data literal inside a literal array: returned as is, like JavaScript.
                if (too_deep(bounded_nesting(j, options_.max_depth, depth))) {
                    return {};
                }
                return constant_of(j);
            }
            error("an object with " + std::to_string(j.size()) +
                  (j.size() == 1 ? " key" : " keys") +
                  " is not an operation; an operation has exactly one key, the operator");
            return {};
        }
        if (too_deep(depth + 1)) {
            return {};
        }
        auto item = j.begin();
        const std::string& name = item.key();
        const json& values = item.value();
        path_.push_back(name);
        node n = compile_operation(name, values, depth + 1, scoped);
        path_.pop_back();
        return n;
    }

    std::string unknown_message(const std::string& name) {
        std::string message = "unknown operator " + json_quoted(name);
        std::string_view best;
        std::size_t best_distance = any;
        for (const auto& info : operators) {
            std::size_t d = edit_distance(name, info.name);
            if (d < best_distance) {
                best_distance = d;
                best = info.name;
            }
        }
        // Close enough to be a slip of the keyboard, not merely short.
        if (best_distance <= 2 && 2 * best_distance <= std::max(name.size(), best.size())) {
            message += " (did you mean " + json_quoted(best) + "?)";
        }
        if (name == "method") {
            message += "; calling methods of values is not supported";
        }
        message += "; expected one of: ";
        for (std::size_t i = 0; i < operators.size(); ++i) {
            if (i != 0) {
                message += ", ";
            }
            message += operators[i].name;
        }
        return message;
    }

    static std::string arity_message(const operator_info& info, std::size_t found) {
        std::string message = json_quoted(info.name) + " expects ";
        auto plural = [](std::size_t k) {
            return std::to_string(k) + (k == 1 ? " argument" : " arguments");
        };
        if (info.min_args == info.max_args) {
            message += "exactly " + plural(info.min_args);
        } else if (info.max_args == any) {
            message += "at least " + plural(info.min_args);
        } else if (info.max_args == info.min_args + 1) {
            message += std::to_string(info.min_args) + " or " + plural(info.max_args);
        } else {
            message += std::to_string(info.min_args) + " to " + plural(info.max_args);
        }
        return message + ", found " + std::to_string(found);
    }

    // Literal types an argument may have (operations are always allowed).
    enum literal_types : unsigned {
        strings = 1,
        numbers = 2,
        arrays = 4,
        nulls = 8,
        booleans = 16,
    };

    // Rejects a literal argument whose type can never be meant. `where` is the argument's index,
    // or nothing for the single argument of the unary form, which sits at the operator's path.
    void check_literal(const json& arg, std::optional<std::size_t> where, unsigned allowed,
                       const std::string& what, const std::string& expected) {
        if (arg.is_object()) {
            return; // operations are fine; other objects are reported on their own
        }
        bool ok = (arg.is_string() && (allowed & strings) != 0) ||
                  (arg.is_number() && (allowed & numbers) != 0) ||
                  (arg.is_array() && (allowed & arrays) != 0) ||
                  (arg.is_null() && (allowed & nulls) != 0) ||
                  (arg.is_boolean() && (allowed & booleans) != 0);
        if (ok) {
            return;
        }
        std::string message = what + " must be " + expected + "; found " + describe(arg);
        if (where) {
            error_at(*where, std::move(message));
        } else {
            error(std::move(message));
        }
    }

    node compile_operation(const std::string& name, const json& values, std::size_t depth,
                           bool scoped) {
        // Arguments: an array is the argument list; anything else is the single argument.
        std::vector<const json*> args;
        if (values.is_array()) {
            for (std::size_t i = 0; i < values.size(); ++i) {
                args.push_back(&values[i]);
            }
        } else {
            args.push_back(&values);
        }

        const operator_info* info = find_operator(name);
        node n;
        if (info == nullptr) {
            error(unknown_message(name));
            for (std::size_t i = 0; i < args.size(); ++i) {
                compile_arg(*args[i], i, values.is_array(), depth, scoped);
            }
            return {};
        }
        n.code = info->code;
        const std::size_t count = args.size();
        bool arity_ok = count >= info->min_args && count <= info->max_args;
        if (!arity_ok) {
            error(arity_message(*info, count));
        }

        // Literal arguments of a type that can never be meant.
        const std::string op = json_quoted(name);
        auto check = [&](std::size_t i, unsigned allowed, const std::string& what,
                         const std::string& expected) {
            if (i < count) {
                check_literal(*args[i],
                              values.is_array() ? std::optional<std::size_t>(i) : std::nullopt,
                              allowed, what, expected);
            }
        };
        const std::string a_name = "a string, a number or an operation";
        switch (info->code) {
        case op_code::var:
            check(0, strings | numbers | nulls, "the path of " + op, a_name);
            break;
        case op_code::missing_some:
            check(0, numbers, "the count of " + op, "a number or an operation");
            check(1, arrays, "the names of " + op, "an array of names or an operation");
            break;
        case op_code::missing:
            for (std::size_t i = 0; i < count; ++i) {
                check(i, strings | numbers | (i == 0 ? arrays : 0u), "a name given to " + op,
                      a_name);
            }
            if (count > 0 && args[0]->is_array()) {
                // The first argument's elements are the names.
                path_.push_back(std::size_t{0});
                for (std::size_t k = 0; k < args[0]->size(); ++k) {
                    check_literal((*args[0])[k], k, strings | numbers, "a name given to " + op,
                                  a_name);
                }
                path_.pop_back();
            }
            break;
        case op_code::substr:
            check(1, strings | numbers, "the start of " + op, "a number or an operation");
            check(2, strings | numbers, "the length of " + op, "a number or an operation");
            break;
        case op_code::map:
        case op_code::filter:
        case op_code::reduce:
        case op_code::all:
        case op_code::none:
        case op_code::some:
            check(0, arrays, "the first argument of " + op, "an array or an operation");
            break;
        case op_code::in:
            check(1, strings | arrays, "the second argument of " + op,
                  "a string, an array or an operation");
            break;
        default:
            break;
        }

        bool is_scoping = info->code == op_code::map || info->code == op_code::filter ||
                          info->code == op_code::reduce || info->code == op_code::all ||
                          info->code == op_code::none || info->code == op_code::some;
        n.args.reserve(count);
        for (std::size_t i = 0; i < count; ++i) {
            bool arg_scoped = scoped || (is_scoping && i == 1);
            n.args.push_back(compile_arg(*args[i], i, values.is_array(), depth, arg_scoped));
        }
        if (!arity_ok) {
            return {};
        }
        if (info->code == op_code::var) {
            prepare_var(n, count > 0 ? args[0] : nullptr, scoped);
        } else if ((info->code == op_code::missing || info->code == op_code::missing_some) &&
                   !scoped) {
            reads_data_ = true;
            note_missing_names(info->code, args, values.is_array());
        }
        return fold(std::move(n));
    }

    node compile_arg(const json& arg, std::size_t i, bool listed, std::size_t depth, bool scoped) {
        if (listed) {
            path_.push_back(i);
        }
        node n = compile_expr(arg, depth, scoped, false);
        if (listed) {
            path_.pop_back();
        }
        return n;
    }

    // The literal names `missing` and `missing_some` look for are references to data like a
    // `var`'s, so that a misspelt one is reported too (it would always be missing).
    void note_missing_names(op_code code, const std::vector<const json*>& args, bool listed) {
        auto note = [&](const json& name, std::optional<path_step> outer, path_step inner) {
            if (!name.is_string()) {
                return;
            }
            if (outer) {
                path_.push_back(*outer);
            }
            path_.push_back(inner);
            variables_.push_back({name.get<std::string>(), path_});
            path_.pop_back();
            if (outer) {
                path_.pop_back();
            }
        };
        for (std::size_t i = code == op_code::missing_some ? 1 : 0; i < args.size(); ++i) {
            const json& arg = *args[i];
            std::optional<path_step> at = listed ? std::optional<path_step>(i) : std::nullopt;
            if (arg.is_array()) {
                for (std::size_t k = 0; k < arg.size(); ++k) {
                    note(arg[k], at, k);
                }
            } else if (arg.is_string() && code == op_code::missing) {
                if (at) {
                    note(arg, std::nullopt, *at);
                } else {
                    variables_.push_back({arg.get<std::string>(), path_});
                }
            }
        }
    }

    void prepare_var(node& n, const json* path, bool scoped) {
        if (!scoped) {
            reads_data_ = true;
        }
        if (path != nullptr && is_operation(*path)) {
            return; // computed at evaluation
        }
        n.literal_path = true;
        std::string text;
        if (path == nullptr || path->is_null()) {
            n.whole_data = true;
        } else if (path->is_string()) {
            text = path->get<std::string>();
            n.whole_data = text.empty();
        } else if (path->is_number()) {
            text = js_number_to_string(json_number(*path));
        } else {
            n.literal_path = false; // reported already
            return;
        }
        if (!n.whole_data) {
            n.path = split_path(text);
            if (!scoped) {
                variables_.push_back({text, path_});
            }
        }
    }

    // Operations on literals only are computed now when the result is a primitive: the
    // evaluator then returns it directly. Arrays are left alone (each evaluation is a new array).
    static node fold(node n) {
        switch (n.code) {
        case op_code::var:
        case op_code::missing:
        case op_code::missing_some:
            return n;
        default:
            break;
        }
        for (const auto& arg : n.args) {
            if (arg.code != op_code::constant) {
                return n;
            }
        }
        eval_limits limits;
        context cx(limits);
        value result = eval(n, value{}, cx);
        if (cx.failed() || result.is_array() || result.is_object()) {
            return n;
        }
        node c;
        c.code = op_code::constant;
        if (result.is_string()) {
            c.folded = std::make_shared<const json>(std::string(result.as_string()));
            c.constant = value_access::borrow_rule(*c.folded, 0);
        } else {
            c.constant = result;
        }
        return c;
    }
};

} // namespace

const std::vector<std::string>& operator_names() {
    static const std::vector<std::string> names = [] {
        std::vector<std::string> out;
        for (const auto& info : operators) {
            out.emplace_back(info.name);
        }
        return out;
    }();
    return names;
}

std::string to_string(const json_path& path) {
    std::string out;
    for (const auto& step : path) {
        if (const auto* index = std::get_if<std::size_t>(&step)) {
            out += '[' + std::to_string(*index) + ']';
            continue;
        }
        const std::string& key = std::get<std::string>(step);
        bool identifier = !key.empty() && !(key[0] >= '0' && key[0] <= '9') &&
                          std::all_of(key.begin(), key.end(), [](char c) {
                              return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                                     (c >= '0' && c <= '9') || c == '_';
                          });
        if (identifier) {
            if (!out.empty()) {
                out += '.';
            }
            out += key;
        } else {
            out += '[' + json_quoted(key) + ']';
        }
    }
    return out;
}

tl::expected<rule, std::vector<compile_error>> compile(const nlohmann::json& logic,
                                                       const compile_options& options) {
    // A valid rule nests at most two JSON levels per operation (the object and its argument
    // list). A deeper document is reported from the original, without copying it: copying
    // recurses.
    const std::size_t raw_limit = 2 * options.max_depth + 2;
    if (nesting_exceeds(logic, raw_limit)) {
        compiler c(options);
        c.compile_root(logic);
        return tl::unexpected(c.take_errors());
    }
    auto source = std::make_shared<const nlohmann::json>(logic);
    compiler c(options);
    node root = c.compile_root(*source);
    auto errors = c.take_errors();
    if (!errors.empty()) {
        return tl::unexpected(std::move(errors));
    }
    rule r;
    r.source_ = std::move(source);
    r.root_ = std::make_shared<const node>(std::move(root));
    r.variables_ = c.take_variables();
    r.reads_data_ = c.reads_data();
    return r;
}

tl::expected<value, eval_error> evaluate(const rule& r, const nlohmann::json& data,
                                         const eval_limits& limits) {
    context cx(limits);
    value result = eval(*r.root_, value::borrow(data), cx);
    if (cx.failed()) {
        return tl::unexpected(std::move(*cx.error));
    }
    if ((result.is_array() || result.is_object()) &&
        nesting_of(result, max_value_nesting) > max_value_nesting) {
        return tl::unexpected(
            eval_error{eval_errc::size_limit, "the result is nested deeper than " +
                                                  std::to_string(max_value_nesting) + " levels"});
    }
    return value_access::detach_from_rule(result);
}

tl::expected<bool, eval_error> test(const rule& r, const nlohmann::json& data,
                                    const eval_limits& limits) {
    // evaluate() without its copy of what the result borrows from the rule, which truthiness
    // does not need.
    context cx(limits);
    value result = eval(*r.root_, value::borrow(data), cx);
    if (cx.failed()) {
        return tl::unexpected(std::move(*cx.error));
    }
    if ((result.is_array() || result.is_object()) &&
        nesting_of(result, max_value_nesting) > max_value_nesting) {
        return tl::unexpected(
            eval_error{eval_errc::size_limit, "the result is nested deeper than " +
                                                  std::to_string(max_value_nesting) + " levels"});
    }
    return truthy(result);
}

} // namespace loyalty::logic
