#pragma once
// The rules engine: a pure function of a program, a member's state, an event and the time.
// No I/O, no clock, no globals: the same inputs always give the same outcome.

#include "loyalty/engine/event.hpp"
#include "loyalty/engine/member_state.hpp"
#include "loyalty/engine/outcome.hpp"
#include "loyalty/program/program.hpp"

#include <tl/expected.hpp>

namespace loyalty::engine {

tl::expected<outcome, rejection> evaluate(const program::program& p, const member_state& member,
                                          const event& e, timestamp now);

// The state of a member who has just enrolled, before any rule ran (the enrollment event
// credits the enrollment rules).
member_state new_member(const program::program& p, const enrollment& e);

// Available and pending points at `now`.
balance balance_at(const member_state& member, timestamp now);
// The same, as the program sees it: what an event at `now` finds (caught_up). What the member
// view shows.
balance balance_at(const program::program& p, const member_state& member, timestamp now);

// The member as an event at `now` finds them, before it acts: a tier status that ended by then
// reassessed (with an exempt tier's lots kept for a renewed status), and past an `inactivity`
// deadline what was held at it expired. The jobs' visit records the same.
member_state caught_up(const program::program& p, const member_state& member, timestamp now);

// When time_passes next has something to do for this member, after `now`: pending points
// maturing, lots expiring, the tier status ending, and, for programs with birthday or
// anniversary benefits or inactivity expiry, the next local midnight (those are decided by the
// local day). Never later than the first such moment; never when nothing will ever fall due.
std::optional<timestamp> next_due(const program::program& p, const member_state& member,
                                  timestamp now);

// The tier metric in the program's window at `now`.
std::int64_t metric_at(const program::program& p, const member_state& member, timestamp now);

// The member's tier status at `now`: the stored one, or when it has ended by then, what the
// jobs make of it: reassessed on the metric at its end (and again for each status that ended
// since). What the member view shows before the jobs' visit, and what an event is decided at.
tier_status tier_status_at(const program::program& p, const member_state& member, timestamp now);

// Under `inactivity` expiry, when everything the member holds expires unless they are active
// again (their last activity, or enrollment, plus the program's period); nullopt under any
// other policy.
std::optional<timestamp> inactivity_deadline(const program::program& p, const member_state& member);

// Why a purchase or custom event that happened at `occurred_at` may not be posted at `now`: it
// is more than the program's late_posting.max_days old (an event earns as of its own time, so a
// receipt found a year later would earn under last year's rules and tiers). Empty when it may;
// the ledger, POST /v1/simulate and `loyalty simulate --now` refuse with this text alike.
std::optional<std::string> too_late_to_post(const program::program& p, timestamp occurred_at,
                                            timestamp now);

} // namespace loyalty::engine
