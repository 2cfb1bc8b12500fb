#pragma once
// Events and member states from JSON, as point-of-sale systems post them and as `loyalty
// simulate --member` reads them. Strict: unknown fields, wrong types and impossible values are
// refused with the offending field's path.

#include "loyalty/engine/event.hpp"
#include "loyalty/engine/member_state.hpp"
#include "loyalty/engine/outcome.hpp"

#include <nlohmann/json.hpp>
#include <tl/expected.hpp>
#include <variant>

namespace loyalty::engine {

// A posted purchase's limits, read alike by purchase_from_json and read_purchase_fast.
struct purchase_limits {
    static constexpr std::int64_t min_quantity = 1;
    static constexpr std::int64_t max_quantity = 1'000'000;
    static constexpr money_t max_unit_price = 10'000'000'000;
    static constexpr money_t max_discount = 10'000'000'000'000;
    // All lines together, as much as one line may be: checked by the engine
    // (rejection_code::out_of_range on `lines`), so that a member's totals keep their room.
    static constexpr money_t max_total = 10'000'000'000'000'000;
    static constexpr std::size_t max_tags = 64; // per line
};

// {transaction_id, member_id, store_id, channel, occurred_at, currency,
//  lines: [{line_id, sku, category, quantity, unit_price, discount, tags}]}
tl::expected<purchase, rejection> purchase_from_json(const nlohmann::json& j);

// The other writes point-of-sale systems and support staff post (docs/api.md). Times the body
// does not carry are left for the ledger to set to the time of processing.
// {return_id, store_id, lines?: [{line_id, quantity}]}: no lines returns all of it.
tl::expected<purchase_return, rejection> return_from_json(const nlohmann::json& j,
                                                          std::string transaction_id);
// {event_id, type, occurred_at, attributes?}
tl::expected<custom_event, rejection> custom_event_from_json(const nlohmann::json& j);
// {redemption_id, reward_id} for a reward, or {redemption_id, points, transaction_id,
// purchase_total?} for points as payment (without a total, 0: the posted purchase's).
tl::expected<std::variant<reward_redemption, points_payment>, rejection>
redemption_from_json(const nlohmann::json& j);
// {adjustment_id, points, reason, note?}: points other than zero, a reason always.
tl::expected<adjustment, rejection> adjustment_from_json(const nlohmann::json& j);

// docs/engine.md ("Member files") describes the format.
tl::expected<member_state, rejection> member_from_json(const nlohmann::json& j);

// "2026-03-14T09:30:00Z" or with an offset "2026-03-14T05:30:00-04:00", from earliest_time to
// latest_time once in UTC; nothing for other text.
std::optional<timestamp> parse_rfc3339(std::string_view text);
// The same without the range, so that a well-formed time outside it can be told from a
// malformed one.
std::optional<timestamp> parse_rfc3339_unbounded(std::string_view text);

} // namespace loyalty::engine
