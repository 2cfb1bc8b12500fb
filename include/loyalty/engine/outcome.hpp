#pragma once
// What evaluate() decided, and why: the new member state, the ledger movements that explain
// the change, and an explanation of every rule considered.

#include "loyalty/engine/member_state.hpp"

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace loyalty::engine {

enum class movement_kind { earn, mature, burn, expire, reverse, adjust };

// One line of the append-only ledger. Credits are positive, debits negative.
struct movement {
    movement_kind kind = movement_kind::earn;
    points_t points = 0;
    std::int64_t lot_id = 0; // the lot credited or drawn from; 0 when none
    std::string cause;       // rule, reward, benefit, adjustment or return id
    std::string explanation; // for people: "34 leaves: 2 per $1 on $17.45 (floor)"
    bool pending = false;    // an earn that is not yet available
};

// Why a rule did or did not pay.
struct rule_result {
    std::string id;
    bool matched = false;
    std::string reason;   // "condition false: transaction.local.weekday is 3, not 2"
    std::string exact;    // the points before rounding, e.g. "20.98"; empty when not matched
    points_t rounded = 0; // after the rule's rounding (and multipliers)
    points_t awarded = 0; // after limits
};

struct points_summary {
    points_t earned = 0;
    points_t pending = 0;
    std::optional<timestamp> available_from;
    points_t burned = 0;
    points_t restored = 0; // given back to lots by a cancelled redemption
    points_t expired = 0;
    points_t reversed = 0;
    points_t adjusted = 0;
    points_t matured = 0;
    points_t shortfall = 0;
};

struct balance {
    points_t available = 0;
    points_t pending = 0;
};

struct tier_change {
    std::string before;
    std::string after;
    bool changed = false;
    std::int64_t metric = 0;
    // When changed: the metric as of the new status's start (state.tier.since), which decided
    // it. A status that ended is reassessed on the metric at its end, and a late purchase's
    // upgrade dates from the purchase: the metric after the event may count more. Not part of
    // the outcome's JSON; the tier history records it.
    std::int64_t metric_at_change = 0;
    // When changed other than at the new status's start (state.tier.since): a return that
    // undid an upgrade changed the tier when it was made. Not part of the JSON either.
    std::optional<timestamp> changed_at = std::nullopt;
};

// Points the event earns for another member: the referrer, on a friend's first purchase.
struct referral_credit {
    std::string member_id;
    std::string rule_id;
    points_t points = 0;
    bool qualifying = false;
    std::string explanation;
};

struct outcome {
    std::string event_type; // "purchase", "return", ...
    nlohmann::json event;   // echo of the event's ids
    std::string program_version;
    points_summary points;
    balance balance_after;
    tier_change tier;
    std::vector<voucher> vouchers; // issued by this event
    std::vector<rule_result> rules;
    std::vector<movement> movements;
    std::vector<referral_credit> referrals;
    member_state state; // the member after the event
};

// Why an event was refused; nothing about the member changes.
enum class rejection_code {
    invalid_event,  // malformed for this program: unknown event type, currency, negative amounts
    unknown_record, // the purchase or redemption the event refers to is not there
    insufficient_points,
    not_eligible, // tier restriction, validity window, per-member limit
    payment_rule, // step, minimum, maximum share
    already_done, // a redemption cancelled twice, more returned than bought
    out_of_range, // an amount, or a member total it would make, past the limits (member_state.hpp)
};

struct rejection {
    rejection_code code = rejection_code::invalid_event;
    std::string field; // "lines[2].quantity", empty when the event as a whole
    std::string message;
};

std::string to_string(movement_kind kind);
std::string to_string(rejection_code code);

// The outcome as JSON, the contract shown to point-of-sale systems and support staff.
nlohmann::json to_json(const outcome& o, const program::program& p);

// Exactly the bytes of to_json(o, p).dump(), written straight into a string (json_writer.hpp):
// every purchase answers with this text, and building the tree only to dump it cost more than
// evaluating the purchase (docs/benchmarks.md). Strings must be UTF-8, as json_writer requires.
std::string to_json_text(const outcome& o, const program::program& p);

// The "movements" array of to_json_text, byte for byte: the ledger keeps an answer without its
// movements (they are its ledger entries) and writes them back from the entries for a replay.
std::string movements_text(const std::vector<movement>& movements);

} // namespace loyalty::engine
