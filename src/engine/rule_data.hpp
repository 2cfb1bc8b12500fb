#pragma once
// The data conditions read (program/condition_data.hpp lists every name), built only as far as
// the conditions of one evaluation can read it. Internal to the engine.
//
// Building all of it for every purchase (the member's balance, tier metric and dates, the
// purchase's category, SKU and tag sets, the local time) and tearing it down again was most of
// the cost of an evaluation, although the sample program's conditions read two names. A
// condition sees the same values either way: what it can read is built exactly as before, and
// what is left out is nothing it can reach.

#include "context.hpp"

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string_view>

namespace loyalty::engine::detail {

// Every leaf of the condition data, in the order of the names in rule_data.cpp.
enum class data_field : unsigned {
    transaction_id,
    transaction_store_id,
    transaction_channel,
    transaction_currency,
    transaction_occurred_at,
    transaction_total,
    transaction_eligible_spend,
    transaction_quantity,
    transaction_line_count,
    transaction_categories,
    transaction_skus,
    transaction_tags,
    transaction_local_date,
    transaction_local_year,
    transaction_local_month,
    transaction_local_day,
    transaction_local_weekday,
    transaction_local_hour,
    transaction_local_minute,
    member_id,
    member_tier,
    member_tier_since,
    member_tier_until,
    member_metric,
    member_enrolled_at,
    member_birthday,
    member_referred_by,
    member_balance_available,
    member_balance_pending,
    member_lifetime_purchases,
    member_lifetime_spend,
    member_lifetime_points,
    member_days_enrolled,
    line_line_id,
    line_sku,
    line_category,
    line_quantity,
    line_unit_price,
    line_discount,
    line_amount,
    line_tags,
    event_id,
    event_type,
    event_occurred_at,
    event_attributes,
    event_local_date,
    event_local_year,
    event_local_month,
    event_local_day,
    event_local_weekday,
    event_local_hour,
    event_local_minute,
    count
};

// The fields the conditions of one evaluation can read.
class data_needs {
public:
    // What `c` can read: the fields at, below or above each literal `var` name outside the
    // scoped logic of map, filter, reduce, all, none and some (which reads array elements).
    // A `var` of the whole data or with a computed name, and `missing` and `missing_some`
    // (whose names are values), can read anything: then every field is needed.
    void add(const program::condition& c);
    void add(const std::optional<program::condition>& c) {
        if (c) {
            add(*c);
        }
    }

    bool has(data_field f) const { return ((bits_ >> static_cast<unsigned>(f)) & 1U) != 0; }
    // Whether any field from `first` to `last` (inclusive) is needed.
    bool any(data_field first, data_field last) const;

private:
    void add_reads(const nlohmann::json& logic);
    void add_name(std::string_view name);
    void add_everything();

    std::uint64_t bits_ = 0;
};

struct purchase_totals {
    money_t total = 0;
    money_t eligible_spend = 0;
    std::int64_t quantity = 0;
};

// `transaction.*` of a purchase at cx.now; null when no field is needed.
nlohmann::json transaction_data(const data_needs& needs, const context& cx, const purchase& e,
                                const purchase_totals& totals);
// `line.*` of one line; null when no field is needed.
nlohmann::json line_data(const data_needs& needs, const purchase_line& l);
// `member.*` of the member as cx.state holds it now; null when no field is needed.
nlohmann::json member_data(const data_needs& needs, const context& cx);
// `event.*` of a custom event at cx.now; null when no field is needed.
nlohmann::json event_data(const data_needs& needs, const context& cx, const custom_event& e);

} // namespace loyalty::engine::detail
