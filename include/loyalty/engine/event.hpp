#pragma once
// What can happen to a member: the inputs of evaluate(). Amounts are integer minor units of the
// program's currency; points are whole points; times are UTC instants (local time is derived
// from the program's time zone by the engine).

#include "loyalty/program/program.hpp"

#include <chrono>
#include <cstdint>
#include <date/date.h>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace loyalty::engine {

using program::money_t;
using program::points_t;
using timestamp = std::chrono::sys_seconds;

// The times a request may carry, once in UTC: what RFC 3339's four-digit years can write, so
// every time the ledger stores reads back (an offset can push 0000-12-31T23:59:59-00:01 or
// 0001-01-01T00:00:00+00:01 outside them).
inline constexpr timestamp earliest_time{date::sys_days{date::year{1} / 1 / 1}};
inline constexpr timestamp latest_time{date::sys_days{date::year{9999} / 12 / 31} +
                                       std::chrono::seconds{24 * 60 * 60 - 1}};

struct purchase_line {
    std::string line_id;
    std::string sku;
    std::string category;
    std::int64_t quantity = 0;
    money_t unit_price = 0;
    money_t discount = 0; // on the whole line
    std::vector<std::string> tags;

    money_t amount() const { return unit_price * quantity - discount; }
};

struct purchase {
    std::string transaction_id;
    std::string member_id;
    std::string store_id;
    std::string channel;
    std::string currency;
    timestamp occurred_at;
    std::vector<purchase_line> lines;
};

struct returned_line {
    std::string line_id;
    std::int64_t quantity = 0;
};

// A return of some lines (and quantities) of an earlier purchase; no lines means all of it.
struct purchase_return {
    std::string return_id;
    std::string transaction_id;
    std::string store_id;
    timestamp occurred_at;
    std::vector<returned_line> lines;
};

// A non-purchase event of a type the program lists (review_posted, social_share...).
struct custom_event {
    std::string event_id;
    std::string type;
    timestamp occurred_at;
    nlohmann::json attributes = nlohmann::json::object();
};

struct enrollment {
    std::string member_id;
    timestamp enrolled_at;
    std::optional<date::year_month_day> birthday;
    std::optional<std::string> referred_by;
};

struct reward_redemption {
    std::string redemption_id;
    std::string reward_id;
    timestamp occurred_at;
};

// Points used to pay part of a purchase of `purchase_total` minor units. A transaction id names
// a purchase only within its store (tills number their own receipts), so the till says which.
struct points_payment {
    std::string redemption_id;
    std::string transaction_id;
    points_t points = 0;
    money_t purchase_total = 0;
    timestamp occurred_at;
    std::string store_id = {}; // the till's store; empty when not known
    // Earlier payments on the same purchase, not cancelled, which the ledger looks up: the
    // maximum share bounds all of them together, not each payment alone. Each counts at the
    // value it was paid at (minor units); payments from before that value was kept count at
    // today's rate, by their points.
    std::int64_t paid_before_value = 0;
    points_t paid_before = 0; // points of the payments without a kept value
};

struct redemption_cancellation {
    std::string redemption_id;
    timestamp occurred_at;
};

// A voucher handed in at a till: used once, while valid. `transaction_id` names the purchase it
// was used on, when the point of sale gives it (the purchase may be posted later).
struct voucher_use {
    std::string voucher_id;
    std::string transaction_id;
    timestamp occurred_at;
    std::string store_id = {}; // the till's store; empty when not known
};

// A manual correction by support staff: positive credits, negative debits.
struct adjustment {
    std::string adjustment_id;
    points_t points = 0;
    std::string reason;
    std::string note;
    std::string actor; // API key id
    timestamp occurred_at;
};

// A correction of what the member told the program, by support staff. Of the profile only the
// birthday is the engine's (birthday benefits, and when the member is next due); the name and
// email are kept by the ledger.
struct profile_change {
    std::string change_id;
    bool sets_birthday = false;
    std::optional<date::year_month_day> birthday; // with sets_birthday: none clears it
    timestamp occurred_at;
};

// What a member earns for referring a friend: the friend's outcome lists it (referral_credit),
// and the ledger evaluates it for the referrer, whose own limits and multipliers apply.
struct referral_reward {
    std::string friend_id;
    std::string rule_id;
    timestamp occurred_at;
};

// Time-driven work due up to `now`: pending points mature, lots expire, tier statuses end,
// birthday and anniversary benefits are granted.
struct time_passes {
    timestamp now;
};

using event = std::variant<purchase, purchase_return, custom_event, enrollment, reward_redemption,
                           points_payment, redemption_cancellation, voucher_use, adjustment,
                           time_passes, referral_reward, profile_change>;

} // namespace loyalty::engine
