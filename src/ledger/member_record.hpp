#pragma once
// The member's working state as the `members.state` column stores it: a compact binary record,
// read and written on every write to the member and on every lookup of it.
//
// Why binary, and why everything in one row: a purchase is priced in pages. The member row is
// the one page a purchase must change at a random place in the file (everything else it writes
// is appended), so it holds all the member's state the engine needs: the open lots (points not
// yet spent nor expired), the tier metric's contributions, the payouts of limited rules and the
// purchase times, besides the counters. As JSON with its field names, one lot took about 200
// bytes and an active member's state spilled over several pages; here a lot takes about 10.
// docs/ledger.md ("The member row") has the measurements.
//
// What the record leaves out lives elsewhere: the id, name, email, enrolment time and tier have
// columns of their own (readable in SQL); closed lots (nothing left to spend) are archived in
// `lots`; vouchers are in `vouchers`; purchase and redemption records in their tables, loaded
// when an event refers to them; rule budgets are program-wide in `rule_budgets`.
//
// Format 2, all integers as LEB128 varints, signed ones zigzag-encoded ("zz"); times are seconds
// since 1970 (zz), strings a varint length and UTF-8 bytes; a "name" (a cause or rule id) is
// varint 0 and its string the first time, then its 1-based place among the 16 names the record
// used most recently (each use moves the name to the front; member_record.cpp, recent_names):
//   u8 format = 2
//   varint flags: 1 birthday, 2 referred_by, 4 last_activity, 8 upgrade record
//   [zz birthday, days since 1970] [string referred_by] [zz last_activity]
//   [upgrade record: varint 0 or 1, [zz the status's entry_threshold when 1], varint count,
//    each status an upgrade replaced (tier_status::replaced): string tier, zz since, varint
//    flags (1 valid_until, 2 entry_threshold), [zz valid_until] [zz entry_threshold]]
//   zz lifetime_purchases, lifetime_spend, lifetime_points, shortfall, next_lot_id,
//      next_voucher_number
//   varint lot count, each lot, against the lot before it (0, 1970 and 0 for the first):
//      zz id - the previous id, earned
//      varint flags: 1 expires_at, 2 qualifying, 4 matured, 8 expired_points, 16 spent
//      [zz remaining, when spent: it differs from earned]
//      zz earned_at - the previous earned_at
//      zz (available_at - earned_at) - the previous lot's (available_at - earned_at)
//      [zz expires_at - earned_at] name cause [zz expired_points]
//   varint metric count, each: zz at - the previous at; zz amount; name cause
//   varint usage count, each: name rule_id; zz at - the previous at; zz times, points
//   varint purchase time count, each: zz seconds after the previous one (the first after 0)
// Differences are taken modulo 2^64, so every value round-trips. Format 1 (until 2026-12-07)
// wrote each lot's id, earned, remaining, earned_at and available_at - earned_at before its
// flags, every time and string whole; it is still read, and a row is written as format 2 the
// next time its member changes. The daily member of docs/ledger.md takes 37 KB instead of 93
// after three years.
// A record is refused when it is cut short, has bytes left over, an unknown format or flag, or a
// count larger than the bytes left could hold.

#include "loyalty/engine/member_state.hpp"

#include <string>
#include <string_view>
#include <tl/expected.hpp>

namespace loyalty::ledger::detail {

inline constexpr std::uint8_t member_record_format = 2;

// The record of `m`'s working state, with only the lots that are still open (remaining points
// other than zero) when `open_lots_only`.
std::string encode_member_record(const engine::member_state& m, bool open_lots_only = true);

// Fills the fields the record holds into `m`, which keeps its other fields (id, tier, ...).
// Errors name what was wrong, e.g. "lots[3].cause: cut short".
tl::expected<void, std::string> decode_member_record(std::string_view record,
                                                     engine::member_state& m);

} // namespace loyalty::ledger::detail
