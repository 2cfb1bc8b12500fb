#pragma once
// A loyalty program as the engine sees it: immutable, and validated before anyone sees it.
// docs/program-reference.md describes the file each field comes from.

#include "loyalty/logic/rule.hpp"
#include "loyalty/program/calendar.hpp"
#include "loyalty/program/currency.hpp"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <date/tz.h>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace loyalty::program {

using points_t = std::int64_t; // whole points; never fractional
using money_t = std::int64_t;  // integer minor units of the program's currency

// How an exact rational number of points becomes whole points.
enum class rounding { floor, half_up, ceil };

// `points` per `per` minor units of eligible spend: 2 points per 100 cents.
struct earn_rate {
    points_t points = 0;
    money_t per = 1;
};

// A JsonLogic condition with the place it was written, for explanations.
struct condition {
    logic::rule rule;
    std::string path; // "earn[3].when"
};

// Which lines of a purchase a rule looks at. All given criteria must hold.
struct line_selector {
    std::vector<std::string> categories;
    std::vector<std::string> skus;
    std::vector<std::string> tags; // a line with any of these tags
    std::optional<condition> when; // JsonLogic over `line.*`, `transaction.*`, `member.*`
};

struct usage_limit {
    std::optional<std::int64_t> times; // at most this many times the rule pays out
    std::optional<points_t> points;    // at most this many points from the rule
    period per;
};

struct rule_limits {
    std::optional<points_t> per_transaction; // points from the rule in one event
    std::vector<usage_limit> per_member;
    std::optional<points_t> budget; // points from the rule across the whole program
};

enum class earn_trigger { purchase, event, enrollment, referral };
enum class earn_kind { rate, per_unit, fixed, multiply };
enum class stacking { additive, multiplicative };

struct multiplier {
    std::vector<std::string> rules; // the earn rules whose points it multiplies
    std::int64_t percent = 100;     // 200 = x2, 150 = x1.5
    stacking stack = stacking::multiplicative;
};

// The Nth purchase within a period ("every 5th visit this month").
struct nth_purchase {
    std::int64_t n = 1;
    period per;
};

struct earn_rule {
    std::string id;
    std::string description;
    earn_trigger on = earn_trigger::purchase;
    std::string event_type; // for on == event
    earn_kind kind = earn_kind::fixed;

    earn_rate rate;                              // kind == rate
    std::map<std::string, earn_rate> tier_rates; // kind == rate, by tier id
    points_t points = 0;                         // kind == per_unit (per unit) or fixed
    multiplier multiply;                         // kind == multiply

    std::optional<condition> when;
    std::optional<line_selector> lines;
    std::optional<money_t> min_spend; // eligible spend threshold
    bool first_purchase = false;
    std::optional<nth_purchase> nth;
    std::optional<validity> active;

    rounding round = rounding::floor;
    bool qualifying = true;
    std::optional<std::int64_t> pending_days; // overrides the program default
    rule_limits limits;
};

enum class expiry_policy { never, after, fixed_date, inactivity };

struct expiry_rule {
    expiry_policy policy = expiry_policy::never;
    std::int64_t days = 0;   // after / inactivity: days, or
    std::int64_t months = 0; // months
    bool round_to_end_of_month = false;
    month_day_rule date{}; // fixed_date: every year on this local date, end of day
    std::vector<std::string> exempt_tiers;

    // Whether a member holding `tier` keeps every point while they hold it.
    bool exempts(const std::string& tier) const {
        return std::find(exempt_tiers.begin(), exempt_tiers.end(), tier) != exempt_tiers.end();
    }
};

struct points_policy {
    std::string name = "points";
    std::string singular = "point";
    std::int64_t pending_days = 0; // default for purchase rules
    bool allow_negative_balance = false;
    expiry_rule expiry;
};

struct spend_policy {
    std::vector<std::string> excluded_categories;
    std::vector<std::string> excluded_skus;
};

enum class tier_metric { qualifying_points, eligible_spend, purchases };
enum class tier_window_kind { rolling_months, calendar_year, enrollment_year, lifetime };
enum class downgrade_rule { to_metric, one_level };

struct tier_level {
    std::string id;
    std::string name;
    std::int64_t threshold = 0;
};

struct tier_policy {
    tier_metric metric = tier_metric::qualifying_points;
    tier_window_kind window = tier_window_kind::lifetime;
    std::int64_t window_months = 0; // for rolling_months
    std::int64_t status_months = 0; // 0: status never ends by itself
    downgrade_rule downgrade = downgrade_rule::to_metric;
    std::int64_t grace_days = 0;
    std::vector<tier_level> levels; // ascending thresholds, the first at 0

    const tier_level* find(std::string_view id) const;
    // Position of the level with this id in `levels`, lowest first.
    std::optional<std::size_t> index_of(std::string_view id) const;
    // Index of the highest level whose threshold `metric_value` reaches.
    std::size_t level_for(std::int64_t metric_value) const;
};

struct voucher_validity {
    std::optional<std::int64_t> days; // valid this many days from issue
    bool until_end_of_month = false;  // valid to the end of the local month of issue
};

struct reward {
    std::string id;
    std::string name;
    points_t cost = 0;
    std::vector<std::string> tiers; // empty: every tier
    std::optional<validity> active;
    std::optional<usage_limit> limit;
    voucher_validity voucher{std::int64_t{30}, false};
};

struct payment_policy {
    bool enabled = false;
    points_t points = 100; // this many points ...
    money_t value = 100;   // ... pay this much
    points_t step = 100;   // used in multiples of this
    points_t minimum = 0;
    std::int64_t max_share_percent = 100; // of the purchase's total
};

enum class benefit_trigger { tier_entry, birthday, enrollment_anniversary, nth_purchase };
enum class birthday_granularity { day, month };

struct benefit_grant {
    std::string reward;  // issue a voucher for this reward, or
    points_t points = 0; // grant points
    voucher_validity validity;
};

struct benefit {
    std::string id;
    std::string description;
    benefit_trigger trigger = benefit_trigger::tier_entry;
    std::string tier; // tier_entry
    birthday_granularity birthday = birthday_granularity::day;
    std::optional<nth_purchase> nth; // nth_purchase
    std::vector<std::string> tiers;  // empty: every tier
    benefit_grant grant;
    std::optional<period> once_per; // defaults by trigger (see reference)
};

enum class clawback_policy { recompute, keep };
enum class shortfall_policy { negative_balance, record_shortfall };

struct returns_policy {
    clawback_policy bonus_clawback = clawback_policy::recompute;
    shortfall_policy shortfall = shortfall_policy::record_shortfall;
};

// How late a till may post what happened: a purchase or event is evaluated at its own
// `occurred_at`, so one posted long after rewrites history support can no longer explain (a
// tier earned a year ago, a limit of a month long closed). Unbounded when empty.
struct late_posting_policy {
    std::optional<std::int64_t> max_days; // 24-hour days before the ledger receives it
};

// The validated program. Built only by the loader (load.hpp); immutable afterwards and shared
// between threads through std::shared_ptr<const program>.
class program {
public:
    struct passkey {
    private:
        friend class loader;
        passkey() = default;
    };

    program(passkey, std::string source_text, std::string content_hash);

    std::string id;
    std::string name;
    currency_info currency;
    const date::time_zone* time_zone = nullptr;
    points_policy points;
    spend_policy spend;
    std::vector<std::string> event_types;
    tier_policy tiers;
    std::vector<earn_rule> earn;
    std::vector<reward> rewards;
    payment_policy payment;
    std::vector<benefit> benefits;
    returns_policy returns;
    late_posting_policy late_posting;

    const std::string& source_text() const noexcept { return source_text_; }
    // SHA-256 of the source text, hex: identifies a program version.
    const std::string& content_hash() const noexcept { return content_hash_; }

    const earn_rule* find_earn_rule(std::string_view id) const;
    const reward* find_reward(std::string_view id) const;

private:
    std::string source_text_;
    std::string content_hash_;
};

} // namespace loyalty::program
