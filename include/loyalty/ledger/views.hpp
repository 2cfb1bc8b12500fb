#pragma once
// What support staff and point-of-sale systems read about a member.

#include "loyalty/engine/member_state.hpp"
#include "loyalty/engine/outcome.hpp"
#include "loyalty/program/program.hpp"

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace loyalty::ledger {

using engine::points_t;
using engine::timestamp;

struct next_tier_progress {
    std::string tier;
    std::int64_t threshold = 0;
    std::int64_t needed = 0; // metric still missing
};

// What keeps the current tier when its status ends: the metric then, from what counts now.
struct tier_keep {
    std::int64_t threshold = 0;
    std::int64_t metric_at_end = 0;
    std::int64_t needed = 0;
};

struct member_view {
    std::string member_id;
    std::optional<std::string> name;
    std::optional<std::string> email;
    timestamp enrolled_at;
    std::optional<date::year_month_day> birthday;
    std::optional<std::string> referred_by;
    engine::balance balance;
    // What returns could not take back, the points having been spent (returns.shortfall:
    // record_shortfall): points spent that come back, a cancelled redemption's, settle it first.
    points_t owed = 0;
    std::optional<points_t> next_expiring_points; // the points expiring soonest, together
    std::optional<timestamp> next_expiry;
    // The pending points that become available soonest, together, and when: the member's
    // "when can I use them?".
    std::optional<points_t> next_available_points;
    std::optional<timestamp> next_available;
    engine::tier_status tier;
    std::int64_t metric = 0;
    std::optional<next_tier_progress> next_tier;
    std::optional<tier_keep> keep_tier;    // when the status ends (valid_until)
    std::vector<engine::voucher> vouchers; // usable: neither redeemed, cancelled nor past
    points_t lifetime_points = 0;
    std::int64_t lifetime_purchases = 0;
    engine::money_t lifetime_spend = 0;
    std::int64_t revision = 0; // writes applied to the member
};

// One ledger entry with its explanation, newest first in a page.
struct activity_entry {
    std::int64_t id = 0;
    timestamp at;
    engine::movement_kind kind = engine::movement_kind::earn;
    points_t points = 0;
    std::optional<std::int64_t> lot_id;
    bool pending = false;
    std::string cause;
    std::string explanation;
    std::string operation; // purchase, return, ...
    std::int64_t operation_id = 0;
    std::string actor; // who asked: an API key's id, "jobs" (time-driven work) or "cli"
    std::optional<std::string> actor_name; // the key's name, when the actor is a key
};

struct activity_page {
    std::vector<activity_entry> entries;
    std::optional<std::int64_t> next_cursor; // pass as `before_entry` for the next page
};

// One change of a member's tier: support's answer to "why is my tier what it is?".
struct tier_history_entry {
    timestamp at;
    std::optional<std::string> before; // none: the first tier, given at enrollment
    std::string after;
    std::int64_t metric = 0; // the tier metric when it changed, as the engine counted it
    std::string operation;   // what changed it: purchase, return, time (a status end), ...
    std::int64_t operation_id = 0;
};

// Every tier change of a member, newest first.
struct tier_history_page {
    std::string member_id;
    std::vector<tier_history_entry> changes;
};

// One activation of a program version, from the audit log: when, by whom, which version. A
// version activated again (a rollback) has an activation each time.
struct program_activation {
    std::int64_t id = 0; // its audit log entry: the cursor of the next page
    timestamp at;
    std::string actor;                     // API key id, "cli" or "startup"
    std::optional<std::string> actor_name; // the key's name, when a key activated it
    std::int64_t version_id = 0;
    std::string content_hash;
    std::string name;    // the program's name in that version
    bool active = false; // the newest activation: its version is the one in use
};

// One page of activations, newest first.
struct activation_page {
    std::vector<program_activation> activations;
    std::optional<std::int64_t> next_cursor; // pass as `before_id` for the next page
};

// A stored program version with its text, as uploaded.
struct program_version_text {
    std::int64_t id = 0;
    std::string content_hash;
    std::string name;
    std::string format; // yaml or json
    std::string source;
    timestamp created_at;
};

// Every voucher a member was ever given, newest first, with what became of each: support's answer
// to "where did my voucher go?".
struct voucher_history {
    std::string member_id;
    std::vector<engine::voucher> vouchers;
    timestamp as_of; // a voucher past its valid_until at this moment is expired
};

// usable, used, cancelled (its redemption was) or expired.
std::string_view voucher_status(const engine::voucher& v, timestamp as_of);

// Who did what to a member by hand: adjustments, profile changes, cancellations.
struct audit_entry {
    std::int64_t id = 0;
    timestamp at;
    std::string actor;                     // the API key's id
    std::optional<std::string> actor_name; // the key's name (support sees who, not an id)
    std::string role;
    std::string action; // adjust, profile_change, cancel_redemption
    std::optional<std::string> reason;
    std::string detail; // the request as the ledger stored it (JSON)
};

struct audit_page {
    std::vector<audit_entry> entries;        // newest first
    std::optional<std::int64_t> next_cursor; // pass as `before_id` for the next page
};

struct writer_stats {
    std::size_t queue_depth = 0;
    std::uint64_t batches = 0;
    std::uint64_t requests = 0;
    // Batches by size: 1, 2-4, 5-16, 17-64, 65+.
    std::uint64_t batch_sizes[5] = {0, 0, 0, 0, 0};
    // Flushes of the write-ahead log that acknowledged batches: one per batch when COMMIT
    // flushes, fewer when the log syncer covers several batches with one.
    std::uint64_t log_flushes = 0;
    // Checkpoints that copied the log into the database file: passes of the checkpointer
    // beside the writer, and the writer's own between two batches, which let the log start
    // over and during which writes wait (docs/ledger.md).
    std::uint64_t background_checkpoints = 0;
    std::uint64_t writer_checkpoints = 0;
    std::uint64_t writer_checkpoint_us = 0; // the writer's time in its own checkpoints
    // Batches rolled back and run again without a request that failed after writing (a storage
    // error or a bug; never an ordinary refusal, which comes before any write).
    std::uint64_t batch_restarts = 0;
};

nlohmann::json to_json(const member_view& v, const program::program& p);
nlohmann::json to_json(const activity_page& page);
nlohmann::json to_json(const voucher_history& h);
nlohmann::json to_json(const audit_page& page);
// Tiers are named as the program `p` names them now (by id when it no longer has one), and each
// change says whether it went up or down its order: joined, up, down, or changed when either
// tier is no longer in the program.
nlohmann::json to_json(const tier_history_page& h, const program::program& p);
// The same JSON as to_json(v, p).dump(), written directly (engine/json_writer.hpp): the member
// lookup is the most frequent read, and building the tree cost more than reading the member.
std::string to_json_text(const member_view& v, const program::program& p);
nlohmann::json to_json(const activation_page& page);
nlohmann::json to_json(const program_version_text& v);

} // namespace loyalty::ledger
