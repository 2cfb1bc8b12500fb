#pragma once
// The ledger's storage format for member states and their records: a lossless JSON round trip,
// state_from_json(state_to_json(m)) == m for every field. Not the member-file format of
// `loyalty simulate` (event_json.hpp); that one is for people and fills in defaults.
//
// Format 1. Every field is written and every field is required when read, except the optional
// ones, which are absent when empty (never null). Unknown fields are refused. Integers are JSON
// integers (int64: points, minor units, counts, ids); there is no floating point. Times are
// RFC 3339 UTC with seconds, "2026-11-24T15:00:00Z"; the birthday is a date, "1990-05-17".
// Maps are JSON objects keyed by the map's key.
//
// member_state:
//   {"format": 1, "id", "enrolled_at", "birthday"?, "referred_by"?,
//    "tier": {"tier", "since", "valid_until"?},
//    "lots": [lot], "metric": [{"at", "amount", "cause"}],
//    "usage": [{"rule_id", "at", "times", "points"}], "vouchers": [voucher],
//    "purchase_times": [time], "lifetime_purchases", "lifetime_spend", "lifetime_points",
//    "last_activity"?, "shortfall", "purchases": [purchase_record],
//    "redemptions": [redemption_record], "budget_used": {rule_id: points},
//    "next_lot_id", "next_voucher_number"}
// lot:
//   {"id", "earned", "remaining", "earned_at", "available_at", "expires_at"?, "cause",
//    "qualifying", "matured"}
// voucher:
//   {"id", "reward_id", "issued_at", "valid_until", "cause", "redeemed", "cancelled"}
// purchase_record:
//   {"request": purchase,
//    "lines": [{"line_id", "quantity", "eligible_spend", "points_by_rule": {rule_id: points}}],
//    "awards": [{"rule_id", "points", "lot_id", "qualifying", "per_line", "min_spend"?}],
//    "returned_quantity": {line_id: quantity}, "clawed_back": [rule_id], "return_ids": [id]}
// purchase (as the point of sale posted it, readable by purchase_from_json):
//   {"transaction_id", "member_id", "store_id", "channel", "occurred_at", "currency",
//    "lines": [{"line_id", "sku", "category", "quantity", "unit_price", "discount", "tags"}]}
// redemption_record:
//   {"redemption_id", "reward_id", "points", "draws": [{"lot_id", "points"}], "voucher_id"?,
//    "at", "cancelled"}
//
// A new field or a changed meaning takes a new "format" number; state_from_json refuses
// numbers it does not know.
//
// The from_json functions never throw: a missing field, a wrong type or a bad value is returned
// as "path: message", e.g. "purchases[0].lines[1].quantity: expected a whole number".

#include "loyalty/engine/event.hpp"
#include "loyalty/engine/member_state.hpp"

#include <nlohmann/json.hpp>
#include <string>
#include <tl/expected.hpp>

namespace loyalty::engine {

inline constexpr std::int64_t state_json_format = 1;

nlohmann::json state_to_json(const member_state& m);
tl::expected<member_state, std::string> state_from_json(const nlohmann::json& j);

nlohmann::json lot_to_json(const lot& l);
tl::expected<lot, std::string> lot_from_json(const nlohmann::json& j);

nlohmann::json voucher_to_json(const voucher& v);
tl::expected<voucher, std::string> voucher_from_json(const nlohmann::json& j);

nlohmann::json purchase_record_to_json(const purchase_record& r);
tl::expected<purchase_record, std::string> purchase_record_from_json(const nlohmann::json& j);

nlohmann::json redemption_record_to_json(const redemption_record& r);
tl::expected<redemption_record, std::string> redemption_record_from_json(const nlohmann::json& j);

// The request as the point of sale posted it; purchase_from_json reads it back.
nlohmann::json purchase_to_json(const purchase& p);

// purchase_to_json(p).dump() and purchase_record_to_json(r).dump(), byte for byte, written
// directly (json_writer.hpp): every purchase stores both, and hashes the first for idempotency.
std::string purchase_text(const purchase& p);

// Whether a record's text carries its request. The ledger leaves it out: the purchase's
// operation row holds the same text (purchase_text of the request), and writing it twice cost
// every purchase about 480 bytes and their page space; it puts the request back on reading.
enum class record_request { included, left_out };
std::string purchase_record_text(const purchase_record& r,
                                 record_request request = record_request::included);

} // namespace loyalty::engine
