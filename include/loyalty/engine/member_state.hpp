#pragma once
// Everything the engine needs to know about a member to evaluate one event. The ledger loads it,
// evaluate() returns the state after the event, and the ledger stores the difference.

#include "loyalty/engine/event.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace loyalty::engine {

// Limits on amounts, so that nothing the ledger sums leaves 64 bits (docs/api.md, "Limits"). A
// member's totals (balance, lifetime spend and points, the tier metric, a rule's budget used)
// stay within max_member_total, and one rule pays at most max_award_points in one event; an
// event that would pass either is refused (rejection_code::out_of_range) and changes nothing.
// One event adds far less than the room 64 bits leave above max_member_total, so the sums that
// check it are exact.
inline constexpr std::int64_t max_member_total = 1'000'000'000'000'000'000;
inline constexpr std::int64_t max_award_points = 10'000'000'000'000'000;

// Points earned together, spent and expiring together. `remaining` only ever decreases except
// when a redemption is cancelled.
struct lot {
    std::int64_t id = 0;
    points_t earned = 0;
    points_t remaining = 0;
    timestamp earned_at;
    timestamp available_at;              // pending until then
    std::optional<timestamp> expires_at; // never, when empty
    std::string cause;                   // rule, benefit or adjustment id
    bool qualifying = false;
    // Whether the end of the pending period was recorded in the ledger (a `mature` movement).
    // Lots that were never pending need no such record; see time_driven.cpp.
    bool matured = false;
    // Points that expired from the lot and that no return has set against what it takes back
    // yet: returning the purchase does not take them a second time from the member's other
    // points (returns.cpp).
    points_t expired_points = 0;

    bool pending(timestamp now) const { return now < available_at; }
    bool expired(timestamp now) const { return expires_at && *expires_at <= now; }
};

struct tier_status {
    std::string tier;
    timestamp since;
    std::optional<timestamp> valid_until; // the status is reassessed then; never when empty
    // The statuses this one's upgrades replaced, the latest last: a return that takes away the
    // metric an upgrade stood on puts back the status it replaced (returns.cpp). Emptied when
    // the status ends and is reassessed; at most one per level.
    std::vector<tier_status> replaced = {};
    // For a status an upgrade began: the threshold of its tier then. A return judges the
    // upgrade by it, not by a threshold a later version raised.
    std::optional<std::int64_t> entry_threshold = std::nullopt;
};

// A contribution to the tier metric (qualifying points, eligible spend or a purchase), negative
// for returns. The metric is the sum of the contributions inside the program's window.
struct metric_entry {
    timestamp at;
    std::int64_t amount = 0;
    std::string cause;
};

// A payout of a limited rule, reward or benefit, for per-member limits over periods.
struct usage_entry {
    std::string rule_id;
    timestamp at;
    std::int64_t times = 1;
    points_t points = 0;
};

struct voucher {
    std::string id;
    std::string reward_id;
    timestamp issued_at;
    timestamp valid_until;
    std::string cause;     // redemption id or benefit id
    bool redeemed = false; // used at a till
    bool cancelled = false;
    // When and on which purchase it was used, so support can tell a member what became of it.
    std::optional<timestamp> used_at;
    std::string used_transaction_id; // empty when the use named no purchase
    std::string used_store_id = {};  // empty when the use named no store

    friend bool operator==(const voucher&, const voucher&) = default;
};

// What one line of a purchase earned, so a return reverses exactly that.
struct line_allocation {
    std::string line_id;
    std::int64_t quantity = 0;
    money_t eligible_spend = 0;
    std::map<std::string, points_t> points_by_rule;
};

// What a rule paid on a purchase, whether per line or for the whole purchase.
struct rule_award {
    std::string rule_id;
    points_t points = 0;
    std::int64_t lot_id = 0;
    bool qualifying = false;
    bool per_line = false;            // allocated to lines (rate, per_unit and their multipliers)
    std::optional<money_t> min_spend; // a threshold bonus: reconsidered when lines are returned
};

struct purchase_record {
    purchase request;
    std::vector<line_allocation> lines;
    std::vector<rule_award> awards;
    std::map<std::string, std::int64_t> returned_quantity; // by line id
    std::vector<std::string> clawed_back;                  // bonus rules already taken back
    std::vector<std::string> return_ids;                   // so a replayed return is refused
};

// Points taken from a lot by a redemption or a reversal.
struct lot_draw {
    std::int64_t lot_id = 0;
    points_t points = 0;
};

struct redemption_record {
    std::string redemption_id;
    std::string reward_id; // empty for points as payment
    points_t points = 0;
    std::vector<lot_draw> draws;
    std::optional<std::string> voucher_id;
    timestamp at;
    bool cancelled = false;
    // A payment's value in minor units at the program's rate when it was made: the maximum
    // share counts it at that value, whatever the rate later. Absent in payments made before
    // it was kept (2026-12-07), and in reward redemptions.
    std::optional<std::int64_t> value;
};

struct member_state {
    std::string id;
    timestamp enrolled_at;
    std::optional<date::year_month_day> birthday;
    std::optional<std::string> referred_by;

    tier_status tier;
    std::vector<lot> lots;
    std::vector<metric_entry> metric;
    std::vector<usage_entry> usage;
    std::vector<voucher> vouchers;
    std::vector<timestamp> purchase_times; // for nth-purchase challenges

    std::int64_t lifetime_purchases = 0;
    money_t lifetime_spend = 0;
    points_t lifetime_points = 0;
    std::optional<timestamp> last_activity; // last qualifying activity, for inactivity expiry
    points_t shortfall = 0;                 // points reversed that were already spent

    // Records the event refers to: the purchase being returned, the redemption being cancelled.
    std::vector<purchase_record> purchases;
    std::vector<redemption_record> redemptions;

    // Program-wide points paid by each rule with a budget (shared by all members).
    std::map<std::string, points_t> budget_used;

    // Ids for lots and vouchers created by the next event.
    std::int64_t next_lot_id = 1;
    std::int64_t next_voucher_number = 1;
};

} // namespace loyalty::engine
