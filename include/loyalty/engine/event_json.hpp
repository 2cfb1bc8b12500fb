#pragma once
// Events and member states from JSON, as point-of-sale systems post them and as `loyalty
// simulate --member` reads them. Strict: unknown fields, wrong types and impossible values are
// refused with the offending field's path.

#include "loyalty/engine/event.hpp"
#include "loyalty/engine/member_state.hpp"
#include "loyalty/engine/outcome.hpp"

#include <nlohmann/json.hpp>
#include <tl/expected.hpp>

namespace loyalty::engine {

// {transaction_id, member_id, store_id, channel, occurred_at, currency,
//  lines: [{line_id, sku, category, quantity, unit_price, discount, tags}]}
tl::expected<purchase, rejection> purchase_from_json(const nlohmann::json& j);

// docs/engine.md ("Member files") describes the format.
tl::expected<member_state, rejection> member_from_json(const nlohmann::json& j);

// "2026-03-14T09:30:00Z" or with an offset "2026-03-14T05:30:00-04:00".
std::optional<timestamp> parse_rfc3339(std::string_view text);

} // namespace loyalty::engine
