#pragma once
// JsonLogic (jsonlogic.com) conditions, compiled once and evaluated many times.
//
// Semantics follow the reference implementation json-logic-js 2.x exactly (truthiness, loose
// equality, string/number coercion, null and missing values); tests/differential compares the two
// on a corpus. Compilation rejects what can never be meant (unknown operators, wrong arity,
// literal arguments of the wrong type) so that a merchant's typo is a load-time error, not a rule
// that silently does nothing.

#include "loyalty/logic/value.hpp"

#include <cstddef>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <tl/expected.hpp>
#include <variant>
#include <vector>

namespace loyalty::logic {

// One step into a JSON document: an object key or an array index.
using path_step = std::variant<std::string, std::size_t>;
using json_path = std::vector<path_step>;

// Where a problem sits inside the rule document (relative to its root) and what it is, written
// for a merchant: what was expected and what was found.
struct compile_error {
    json_path where;
    std::string message;
};

struct compile_options {
    // Deepest nesting of operations accepted; deeper rules are rejected, which bounds the
    // evaluator's recursion.
    std::size_t max_depth = 64;
};

// A `var` whose path is a literal (or a literal name given to `missing` or `missing_some`), read
// against the rule's own data (not inside the scoped logic of map/filter/reduce/all/some/none,
// whose data is an element). Lets a caller check names against the data it will provide, so
// `transaction.chanel` is reported at load time.
struct variable_reference {
    std::string name; // as written, e.g. "transaction.local.weekday"
    json_path where;  // of the `var` operation inside the rule
};

struct eval_limits {
    std::size_t max_steps = 100'000;        // operations evaluated, counting each element visit
    std::size_t max_string_bytes = 1 << 20; // longest string an operation may build
    std::size_t max_array_items = 1 << 16;  // longest array an operation may build
};

// Why an evaluation produced no value. The reference implementation throws in these cases
// (type_error); the limits are ours.
enum class eval_errc { type_error, step_limit, size_limit };

struct eval_error {
    eval_errc code;
    std::string message;
};

namespace detail {
struct node;
}

// An immutable compiled rule; cheap to copy (shared), safe to evaluate from many threads.
class rule {
public:
    // The references to data the rule makes with literal paths, in document order.
    const std::vector<variable_reference>& variables() const noexcept { return variables_; }
    // Whether the rule reads its data at all: a `var`, `missing` or `missing_some` outside the
    // scoped logic of map, filter and the like. A rule that does not always gives one answer.
    bool reads_data() const noexcept { return reads_data_; }
    // The rule as written.
    const nlohmann::json& source() const noexcept { return *source_; }

private:
    friend tl::expected<rule, std::vector<compile_error>> compile(const nlohmann::json&,
                                                                  const compile_options&);
    friend tl::expected<value, eval_error> evaluate(const rule&, const nlohmann::json&,
                                                    const eval_limits&);
    friend tl::expected<bool, eval_error> test(const rule&, const nlohmann::json&,
                                               const eval_limits&);
    std::shared_ptr<const nlohmann::json> source_;
    std::shared_ptr<const detail::node> root_;
    std::vector<variable_reference> variables_;
    bool reads_data_ = true;
};

// Compiles a JsonLogic document. Every problem found is reported, each with its place.
tl::expected<rule, std::vector<compile_error>> compile(const nlohmann::json& logic,
                                                       const compile_options& options = {});

// Evaluates against data. The result may refer into `data`, which must outlive it.
tl::expected<value, eval_error> evaluate(const rule& r, const nlohmann::json& data,
                                         const eval_limits& limits = {});

// evaluate() followed by JsonLogic truthiness: what a rule's `when` means.
tl::expected<bool, eval_error> test(const rule& r, const nlohmann::json& data,
                                    const eval_limits& limits = {});

// The names of every operator compile() accepts.
const std::vector<std::string>& operator_names();

// "a.b[2]" style rendering of a path, for messages.
std::string to_string(const json_path& path);

} // namespace loyalty::logic
