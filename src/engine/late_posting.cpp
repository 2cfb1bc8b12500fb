#include "loyalty/engine/evaluate.hpp"
#include "loyalty/engine/local_time.hpp"

namespace loyalty::engine {

std::optional<std::string> too_late_to_post(const program::program& p, timestamp occurred_at,
                                            timestamp now) {
    if (!p.late_posting.max_days || occurred_at >= now - date::days{*p.late_posting.max_days}) {
        return std::nullopt;
    }
    auto late = date::floor<date::days>(now - occurred_at);
    return "occurred_at is " + std::to_string(late.count()) + " days ago (" +
           format_rfc3339(occurred_at) + ", now " + format_rfc3339(now) +
           "); the program takes purchases and events at most " +
           std::to_string(*p.late_posting.max_days) + " days late (late_posting.max_days)";
}

} // namespace loyalty::engine
