#pragma once
// What every step of an evaluation works on, and the operations they share. Internal to the
// engine: evaluate.cpp dispatches each event to one step.

#include "loyalty/engine/evaluate.hpp"
#include "loyalty/engine/local_time.hpp"
#include "loyalty/engine/rounding.hpp"

#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <tl/expected.hpp>
#include <utility>
#include <vector>

namespace loyalty::engine::detail {

struct context {
    const program::program& program;
    timestamp now; // when the event happens
    // When it is recorded (now, or later for a purchase posted late): a lot whose pending
    // period ended before then is available from the start, as the balance counts it.
    timestamp posted_at;
    // Lots with this id or above are credited by this event.
    std::int64_t first_new_lot = 0;
    member_state& state; // the member, being changed
    outcome& out;
    // When points credited now expire, once worked out, by when they become available (every
    // lot of an event is credited now, most with one pending period, and the time zone
    // arithmetic is not free).
    std::optional<std::pair<timestamp, std::optional<timestamp>>> expiry_of_now = std::nullopt;
    // Set when a rule would pay more than max_award_points: evaluate() refuses the event.
    std::optional<std::string> out_of_range = std::nullopt;
    // When the tier changed, if not at the new status's start: a return that undid an upgrade
    // puts back a status that began long before.
    std::optional<timestamp> tier_changed_at = std::nullopt;
};

// `points` as what a rule pays, pinned to max_award_points, and the event marked to be refused
// when it is more: what follows sums pinned amounts, which stay far inside 64 bits.
points_t award_points(context& cx, wide_int points, const std::string& rule_id);

// The parts joined, in one allocation at most: the reasons and explanations every evaluation
// writes would otherwise grow their strings several times.
std::string concat(std::initializer_list<std::string_view> parts);

// "34 leaves", "1 leaf".
std::string points_text(const program::program& p, points_t points);

// The local date of `t` in the program's zone, "2026-11-23".
std::string local_date_text(const date::time_zone* zone, timestamp t);

// The last local day a lot expiring at `expires_at` (the first instant after it) was usable.
std::string last_day_text(const date::time_zone* zone, timestamp expires_at);

// Credits a new lot of `points` now: pending for `pending_days`, expiring by the program's
// policy, recorded as a movement of `kind` (earn, or adjust for staff credits, which are not
// counted as earned), counted in the tier metric when qualifying (and the metric is qualifying
// points). Returns the lot id.
std::int64_t credit(context& cx, points_t points, const std::string& cause, bool qualifying,
                    std::int64_t pending_days, std::string explanation,
                    movement_kind kind = movement_kind::earn);

// A lot's expiry under the program's policy (never, when empty; inactivity is decided by the
// time-driven step as a whole).
std::optional<timestamp> expiry_for(const context& cx, timestamp earned_at, timestamp available_at);

// Takes `points` from available lots, soonest-expiring first, then oldest, recording one
// movement of `kind` per lot drawn. Refuses with insufficient_points when the available balance
// is short, unless `allow_negative`, in which case the rest becomes a negative balance (a debt
// lot that later credits repay first).
tl::expected<std::vector<lot_draw>, rejection> draw(context& cx, points_t points,
                                                    movement_kind kind, const std::string& cause,
                                                    const std::string& explanation,
                                                    bool allow_negative);

// A negative balance (debt lots) is repaid from points available now, soonest-expiring first,
// before anything is spent: pending points that became available since the last event count,
// whether or not their maturing was recorded yet. The balance does not change.
void repay_debts(context& cx);

// A member holding a tier exempt from expiry keeps every lot until the status ends, from the
// moment the tier is reached (time_driven.cpp).
void keep_exempt_lots(context& cx);

// Points an event posted late credited that had expired before it was posted (and that an
// exempt tier does not keep) expire in the same outcome, saying so.
void expire_when_posted(context& cx);

// Expires what is left of `l` now, recorded as a movement explaining `why` ("expired
// 2026-09-30").
void expire_lot(context& cx, lot& l, const std::string& why);

// Payouts of `rule_id` in the period containing now (times, points).
std::int64_t times_used(const context& cx, const std::string& rule_id, const program::period& p);
// The same, in the period that contains `at`.
std::int64_t times_used_at(const context& cx, const std::string& rule_id, const program::period& p,
                           timestamp at);
points_t points_used(const context& cx, const std::string& rule_id, const program::period& p);

// Issues a voucher for `reward_id`, valid per `validity` from now.
voucher& issue_voucher(context& cx, const std::string& reward_id,
                       const program::voucher_validity& validity, const std::string& cause);

// When a status above the lowest tier begun at `from` ends: status_months later, local time,
// after the grace days; never when statuses do not end (status_months 0).
std::optional<timestamp> status_end(const program::program& p, timestamp from);

// Moves the member up to the tier the metric now supports (never down: downgrades happen only
// when a status ends), starting a new status period, and grants tier-entry benefits.
void upgrade_tier(context& cx);

// Grants one benefit now (points or a voucher) and records its use.
void grant_benefit(context& cx, const program::benefit& b);
// Recording its use at `at`, where the benefit counts once per period.
void grant_benefit(context& cx, const program::benefit& b, timestamp at);

// Tier-entry benefits for entering every level above `from` up to `to`, at `at`.
void grant_entry_benefits(context& cx, std::size_t from, std::size_t to, timestamp at);

// The steps, one per kind of event.
tl::expected<void, rejection> earn_purchase(context& cx, const purchase& e);
tl::expected<void, rejection> return_purchase(context& cx, const purchase_return& e);
tl::expected<void, rejection> earn_event(context& cx, const custom_event& e);
tl::expected<void, rejection> enroll(context& cx, const enrollment& e);
tl::expected<void, rejection> earn_referral(context& cx, const referral_reward& e);
tl::expected<void, rejection> redeem_reward(context& cx, const reward_redemption& e);
tl::expected<void, rejection> pay_with_points(context& cx, const points_payment& e);
tl::expected<void, rejection> cancel_redemption(context& cx, const redemption_cancellation& e);
tl::expected<void, rejection> use_voucher(context& cx, const voucher_use& e);
tl::expected<void, rejection> adjust(context& cx, const adjustment& e);
tl::expected<void, rejection> pass_time(context& cx, const time_passes& e);

// Before any other event: a tier status that ended by the event's time is reassessed, so that
// the event is decided at the tier the member holds then.
void catch_up(context& cx);

// Under inactivity expiry past the deadline, expires what was held at it: before an event (in
// catch_up), and after one that is not activity and brought back points earned before it (a
// cancelled redemption's).
void settle_inactivity(context& cx);

} // namespace loyalty::engine::detail
