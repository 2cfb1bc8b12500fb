#include "constant_conditions.hpp"
#include "loyalty/program/condition_data.hpp"
#include "loyalty/program/content_hash.hpp"
#include "loyalty/program/load.hpp"
#include "schema_reader.hpp"

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <system_error>

namespace loyalty::program {

using detail::mapping;
using nlohmann::json;

namespace {

constexpr std::int64_t max_points = 1'000'000'000;    // per rule, reward or grant
constexpr std::int64_t max_money = 1'000'000'000'000; // minor units
constexpr std::int64_t max_days = 36'500;
constexpr std::int64_t max_months = 1'200;
constexpr std::int64_t max_percent = 100'000;

// A reference to something defined elsewhere in the file, checked once everything is read.
struct reference {
    enum class kind { tier, reward, event_type } what;
    std::string id;
    std::string path;
    bool at_key = false; // the id is written as a key (tier_rates), not as a value
};

std::string render(const std::string& base, const logic::json_path& where) {
    std::string path = base;
    for (const auto& step : where) {
        if (const auto* key = std::get_if<std::string>(&step)) {
            path = append_key(path, *key);
        } else {
            path = append_index(path, std::get<std::size_t>(step));
        }
    }
    return path;
}

} // namespace

// Reads the document section by section into a program, collecting every problem on the way.
// Nothing is returned unless the whole file is valid.
class loader {
public:
    loader(const source_document& doc, diagnostics& problems)
        : doc_(doc), problems_(problems), reader_(doc, problems) {}

    program_ptr load(std::string_view text) {
        auto built =
            std::make_shared<program>(program::passkey{}, std::string(text), sha256_hex(text));
        program& p = *built;
        if (doc_.root().is_null()) {
            if (problems_.empty()) {
                reader_.at_value("", "the file is empty; a program needs at least the keys "
                                     "program and earn");
            }
            return nullptr;
        }
        mapping top(reader_, &doc_.root(), "",
                    {"program", "points", "spend", "events", "tiers", "earn", "rewards", "payment",
                     "benefits", "returns", "late_posting"});
        if (!top.valid()) {
            return nullptr;
        }
        read_header(p, mapping(reader_, top.require("program"), "program",
                               {"id", "name", "currency", "time_zone"}));
        zone_ = p.time_zone;
        read_events(p, top);
        read_tiers(p, top.get("tiers"));
        for (const auto& level : p.tiers.levels) {
            if (level.id.empty()) {
                tier_unread_ = true; // its id did not read, and says so
            } else {
                tier_ids_.push_back(level.id);
            }
        }
        read_points(p, top.get("points"));
        read_spend(p, top.get("spend"));
        read_earn(p, top);
        read_rewards(p, top);
        read_payment(p, top.get("payment"));
        read_benefits(p, top);
        read_returns(p, top.get("returns"));
        read_late_posting(p, top.get("late_posting"));
        check_references(p);
        check_expiry_outlasts_pending(p);
        check_tiers_reachable(p);
        if (!problems_.empty()) {
            return nullptr;
        }
        return built;
    }

private:
    void read_header(program& p, const mapping& m) {
        if (auto id = m.identifier("id", true)) {
            p.id = *id;
        }
        if (auto name = m.text("name", true)) {
            p.name = *name;
        }
        if (auto code = m.text("currency", true)) {
            if (const currency_info* c = find_currency(*code)) {
                p.currency = *c;
            } else {
                reader_.at_value(m.child("currency"),
                                 "expected an ISO 4217 currency code such as USD or EUR, found \"" +
                                     *code + "\"");
            }
        }
        if (auto zone = m.text("time_zone", true)) {
            try {
                p.time_zone = date::locate_zone(*zone);
            } catch (const std::exception&) {
                reader_.at_value(m.child("time_zone"),
                                 "expected an IANA time zone such as America/New_York, found \"" +
                                     *zone + "\"");
            }
        }
    }

    void read_events(program& p, const mapping& top) {
        const json* list = top.list("events");
        if (list == nullptr) {
            return;
        }
        for (std::size_t i = 0; i < list->size(); ++i) {
            std::string path = append_index("events", i);
            if (auto type = detail::read_identifier(reader_, (*list)[i], path)) {
                if (std::find(p.event_types.begin(), p.event_types.end(), *type) !=
                    p.event_types.end()) {
                    reader_.at_value(path, "event type \"" + *type + "\" is listed twice");
                } else {
                    p.event_types.push_back(*type);
                }
            } else {
                event_type_unread_ = true;
            }
        }
    }

    void read_tiers(program& p, const json* node) {
        tier_policy& t = p.tiers;
        if (node == nullptr) {
            // Without tiers everyone is simply a member: one level from 0.
            t.levels.push_back({"member", "Member", 0});
            return;
        }
        mapping m(reader_, node, "tiers",
                  {"metric", "window", "status_months", "downgrade", "grace_days", "levels"});
        if (!m.valid()) {
            return;
        }
        t.metric =
            m.choice<tier_metric>("metric", {{"qualifying_points", tier_metric::qualifying_points},
                                             {"eligible_spend", tier_metric::eligible_spend},
                                             {"purchases", tier_metric::purchases}})
                .value_or(tier_metric::qualifying_points);
        read_window(t, m);
        t.status_months = m.integer("status_months", 0, max_months).value_or(0);
        t.downgrade =
            m.choice<downgrade_rule>("downgrade", {{"to_metric", downgrade_rule::to_metric},
                                                   {"one_level", downgrade_rule::one_level}})
                .value_or(downgrade_rule::to_metric);
        t.grace_days = m.integer("grace_days", 0, max_days).value_or(0);
        // Both apply when a status ends, which without status_months it never does.
        if (t.status_months == 0) {
            for (const char* key : {"downgrade", "grace_days"}) {
                if (m.has(key)) {
                    reader_.at_key(m.child(key),
                                   std::string(key) +
                                       " applies when a status ends, and without status_months "
                                       "(or with 0) a status never ends; expected status_months "
                                       "too, or no " +
                                       key);
                }
            }
        }

        const json* levels = m.list("levels", true);
        if (levels == nullptr) {
            return;
        }
        if (levels->empty()) {
            reader_.at_value("tiers.levels", "expected at least one tier, found an empty list");
            return;
        }
        for (std::size_t i = 0; i < levels->size(); ++i) {
            std::string path = append_index("tiers.levels", i);
            mapping level(reader_, &(*levels)[i], path, {"id", "name", "threshold"});
            if (!level.valid()) {
                continue;
            }
            tier_level tl;
            tl.id = level.identifier("id", true).value_or("");
            tl.name = level.text("name").value_or(tl.id);
            auto threshold = level.integer("threshold", 0, max_money, true);
            tl.threshold = threshold.value_or(0);
            if (!tl.id.empty() && t.find(tl.id) != nullptr) {
                reader_.at_value(level.child("id"), "duplicate tier id \"" + tl.id + "\"");
                continue;
            }
            if (threshold) {
                if (t.levels.empty() && tl.threshold != 0) {
                    reader_.at_value(level.child("threshold"),
                                     "the first tier must start at 0 so that every member has a "
                                     "tier, found " +
                                         std::to_string(tl.threshold));
                } else if (!t.levels.empty() && tl.threshold <= t.levels.back().threshold) {
                    reader_.at_value(level.child("threshold"),
                                     "tiers must be listed from lowest to highest with rising "
                                     "thresholds: expected more than " +
                                         std::to_string(t.levels.back().threshold) + " (tier \"" +
                                         t.levels.back().id + "\"), found " +
                                         std::to_string(tl.threshold));
                }
            }
            t.levels.push_back(std::move(tl));
        }
    }

    void read_window(tier_policy& t, const mapping& m) {
        const json* window = m.get("window");
        if (window == nullptr) {
            return;
        }
        if (window->is_object()) {
            mapping w(reader_, window, m.child("window"), {"rolling_months"});
            if (auto months = w.integer("rolling_months", 1, max_months, true)) {
                t.window = tier_window_kind::rolling_months;
                t.window_months = *months;
            }
            return;
        }
        static const std::vector<std::pair<std::string, tier_window_kind>> names{
            {"calendar_year", tier_window_kind::calendar_year},
            {"enrollment_year", tier_window_kind::enrollment_year},
            {"lifetime", tier_window_kind::lifetime}};
        if (auto kind = named(*window, m.child("window"), names, "{rolling_months: N}")) {
            t.window = *kind;
        }
    }

    void read_points(program& p, const json* node) {
        mapping m(reader_, node, "points",
                  {"name", "singular", "pending_days", "allow_negative_balance", "expiry"});
        if (!m.valid()) {
            return;
        }
        points_policy& pp = p.points;
        pp.name = m.text("name").value_or(pp.name);
        pp.singular = m.text("singular").value_or(pp.name == "points" ? "point" : pp.name);
        pp.pending_days = m.integer("pending_days", 0, max_days).value_or(0);
        pp.allow_negative_balance = m.boolean("allow_negative_balance").value_or(false);

        mapping e(reader_, m.get("expiry"), "points.expiry",
                  {"policy", "days", "months", "round_to", "date", "exempt_tiers"});
        if (!e.valid()) {
            return;
        }
        expiry_rule& x = pp.expiry;
        auto policy = e.choice<expiry_policy>("policy",
                                              {{"never", expiry_policy::never},
                                               {"after", expiry_policy::after},
                                               {"fixed_date", expiry_policy::fixed_date},
                                               {"inactivity", expiry_policy::inactivity}},
                                              true);
        x.policy = policy.value_or(expiry_policy::never);
        x.days = e.integer("days", 1, max_days).value_or(0);
        x.months = e.integer("months", 1, max_months).value_or(0);
        if (e.has("round_to")) {
            x.round_to_end_of_month =
                e.choice<bool>("round_to", {{"end_of_month", true}}).value_or(false);
        }
        x.exempt_tiers = e.identifiers("exempt_tiers");
        for (std::size_t i = 0; i < x.exempt_tiers.size(); ++i) {
            refer(reference::kind::tier, x.exempt_tiers[i],
                  append_index("points.expiry.exempt_tiers", i));
        }
        if (!policy) {
            return;
        }
        bool timed = x.policy == expiry_policy::after || x.policy == expiry_policy::inactivity;
        if (timed && e.has("days") == e.has("months")) {
            reader_.at_value(
                e.path(),
                "policy " + std::string(x.policy == expiry_policy::after ? "after" : "inactivity") +
                    " needs exactly one of days or months");
        }
        if (!timed) {
            for (const char* key : {"days", "months"}) {
                if (e.has(key)) {
                    reader_.at_key(e.child(key), std::string(key) +
                                                     " applies to the policies after and "
                                                     "inactivity only");
                }
            }
        }
        if (e.has("round_to") && x.policy != expiry_policy::after) {
            reader_.at_key(e.child("round_to"), "round_to applies to the policy after only");
        }
        if (x.policy == expiry_policy::fixed_date) {
            read_month_day(x, e);
        } else if (e.has("date")) {
            reader_.at_key(e.child("date"), "date applies to the policy fixed_date only");
        }
    }

    void read_month_day(expiry_rule& x, const mapping& e) {
        auto text = e.text("date", true);
        if (!text) {
            return;
        }
        // "MM-DD": the same local date every year; February 29 would skip three years in four.
        auto valid = [&]() -> bool {
            if (text->size() != 5 || (*text)[2] != '-') {
                return false;
            }
            auto parsed = parse_local_time("2025-" + *text);
            if (!parsed) {
                return false;
            }
            date::year_month_day ymd{date::floor<date::days>(*parsed)};
            x.date = {static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day())};
            return true;
        }();
        if (!valid) {
            reader_.at_value(e.child("date"),
                             "expected a yearly date MM-DD that exists every year, such as 12-31, "
                             "found \"" +
                                 *text + "\"");
        }
    }

    void read_spend(program& p, const json* node) {
        mapping m(reader_, node, "spend", {"exclude"});
        mapping x(reader_, m.get("exclude"), "spend.exclude", {"categories", "skus"});
        p.spend.excluded_categories = x.texts("categories");
        p.spend.excluded_skus = x.texts("skus");
    }

    // A value written as one of `names`, or else an error listing every form accepted, the
    // mapping form the caller reads itself (`other`) last: a plain choice would leave it out.
    template <class Kind>
    std::optional<Kind> named(const json& node, const std::string& path,
                              const std::vector<std::pair<std::string, Kind>>& names,
                              const char* other) {
        if (node.is_string()) {
            for (const auto& [name, kind] : names) {
                if (node.get_ref<const std::string&>() == name) {
                    return kind;
                }
            }
        }
        std::vector<std::string> options;
        for (const auto& n : names) {
            options.push_back(n.first);
        }
        options.push_back(other);
        reader_.at_value(path, mapping::expected_one_of(options, node));
        return std::nullopt;
    }

    std::optional<period> read_period(const json* node, const std::string& path) {
        if (node == nullptr) {
            return std::nullopt;
        }
        if (node->is_object()) {
            mapping m(reader_, node, path, {"rolling_days"});
            if (auto days = m.integer("rolling_days", 1, max_days, true)) {
                return period{period_kind::rolling_days, *days};
            }
            return std::nullopt;
        }
        static const std::vector<std::pair<std::string, period_kind>> names{
            {"day", period_kind::day},
            {"calendar_week", period_kind::calendar_week},
            {"calendar_month", period_kind::calendar_month},
            {"calendar_year", period_kind::calendar_year},
            {"lifetime", period_kind::lifetime}};
        if (auto kind = named(*node, path, names, "{rolling_days: N}")) {
            return period{*kind, 0};
        }
        return std::nullopt;
    }

    std::optional<validity> read_validity(const json* node, const std::string& path) {
        mapping m(reader_, node, path, {"from", "until"});
        if (!m.valid()) {
            return std::nullopt;
        }
        validity v;
        auto read_time = [&](const char* key,
                             bool end_of_day) -> std::optional<date::local_seconds> {
            auto text = m.text(key);
            if (!text) {
                return std::nullopt;
            }
            auto t = parse_local_time(*text);
            if (!t) {
                reader_.at_value(m.child(key), "expected a local date YYYY-MM-DD or date and time "
                                               "YYYY-MM-DDTHH:MM[:SS] that exists, found \"" +
                                                   *text + "\"");
                return std::nullopt;
            }
            // A time the clocks skip in the program's zone: a window from or until it would
            // start or end at the hour after, and one inside the gap would never be open.
            if (zone_ != nullptr && zone_->get_info(*t).result == date::local_info::nonexistent) {
                reader_.at_value(m.child(key), "\"" + *text + "\" does not exist in " +
                                                   zone_->name() +
                                                   ": the clocks skip it (daylight saving time)");
                return std::nullopt;
            }
            // `until: 2026-12-31` means through that day.
            return end_of_day && is_date_only(*text) ? *t + date::days{1} : *t;
        };
        v.from = read_time("from", false);
        v.until = read_time("until", true);
        if (v.from && v.until && *v.until <= *v.from) {
            reader_.at_value(m.child("until"), "expected until to be after from");
        }
        if (!m.has("from") && !m.has("until")) {
            reader_.at_value(path, "expected from, until or both");
        }
        return v;
    }

    std::optional<usage_limit> read_usage_limit(const json* node, const std::string& path) {
        mapping m(reader_, node, path, {"times", "points", "period"});
        if (!m.valid()) {
            return std::nullopt;
        }
        usage_limit limit;
        limit.times = m.integer("times", 1, max_points);
        limit.points = m.integer("points", 1, max_points);
        if (m.has("times") == m.has("points")) {
            reader_.at_value(path, "a limit counts either times or points: expected exactly one "
                                   "of them");
        }
        if (!m.has("period")) {
            reader_.at_value(path, "missing required key \"period\"");
        }
        auto per = read_period(m.get("period"), m.child("period"));
        if (!per) {
            return std::nullopt;
        }
        limit.per = *per;
        return limit;
    }

    std::optional<condition> read_condition(const json* node, const std::string& path,
                                            condition_scope scope,
                                            const detail::known_values& known_values) {
        if (node == nullptr) {
            return std::nullopt;
        }
        auto compiled = logic::compile(*node);
        if (!compiled) {
            for (const auto& e : compiled.error()) {
                reader_.at_key(render(path, e.where), e.message);
            }
            return std::nullopt;
        }
        bool known = true;
        for (const auto& v : compiled->variables()) {
            if (auto problem = check_variable(scope, v.name)) {
                reader_.at_key(render(path, v.where), *problem);
                known = false;
            }
        }
        if (!known) {
            return std::nullopt;
        }
        check_tier_literals(*node, path, {});
        if (!compiled->reads_data()) {
            // A condition that reads nothing gives one answer for ever: the rule would always
            // or never apply, without a word (text such as "weekday == 2" is true as text).
            auto answer = logic::test(*compiled, json(nullptr));
            std::string always = !answer   ? "always fails (" + answer.error().message + ")"
                                 : *answer ? "is always true"
                                           : "is always false";
            reader_.at_value(path, "this condition reads no data, so it " + always +
                                       "; a condition is a JsonLogic operation on the data, "
                                       "such as {\"==\": [{\"var\": \"transaction.channel\"}, "
                                       "\"app\"]}" +
                                       (node->is_string() ? " (text is not read as one)" : ""));
            return std::nullopt;
        }
        auto constant = detail::constant_parts(*node, known_values);
        for (const auto& part : constant) {
            reader_.at_value(render(path, part.where), part.message);
        }
        if (!constant.empty()) {
            return std::nullopt;
        }
        return condition{std::move(*compiled), path};
    }

    // Lists of a line selector that would silently select nothing, or everything: an empty list
    // (read as no criterion at all) and values the program excludes from spend.
    void check_line_lists(const program& p, const mapping& l) {
        for (const char* key : {"categories", "skus", "tags"}) {
            const json* items = l.get(key);
            if (items != nullptr && items->is_array() && items->empty()) {
                reader_.at_value(l.child(key), "expected at least one value; an empty list "
                                               "selects no line (remove " +
                                                   std::string(key) + " to select by the rest)");
            }
        }
        auto check_excluded = [&](const char* key, const std::vector<std::string>& excluded,
                                  const char* noun) {
            const json* items = l.get(key);
            if (items == nullptr || !items->is_array()) {
                return;
            }
            for (std::size_t i = 0; i < items->size(); ++i) {
                const json& item = (*items)[i];
                if (item.is_string() && std::find(excluded.begin(), excluded.end(),
                                                  item.get<std::string>()) != excluded.end()) {
                    reader_.at_value(append_index(l.child(key), i),
                                     std::string(noun) + " \"" + item.get<std::string>() +
                                         "\" is excluded from spend (spend.exclude." + key +
                                         "), so its lines never earn from this rule");
                }
            }
        };
        check_excluded("categories", p.spend.excluded_categories, "category");
        check_excluded("skus", p.spend.excluded_skus, "SKU");
        // A space at either end, or a character nobody sees, makes a value that looks like the
        // one a till sends and never equals it.
        for (const char* key : {"categories", "skus", "tags"}) {
            const json* items = l.get(key);
            if (items == nullptr || !items->is_array()) {
                continue;
            }
            for (std::size_t i = 0; i < items->size(); ++i) {
                const json& item = (*items)[i];
                if (!item.is_string()) {
                    continue;
                }
                if (auto why = invisible_part(item.get_ref<const std::string&>())) {
                    reader_.at_value(append_index(l.child(key), i),
                                     "\"" + item.get<std::string>() + "\" " + *why +
                                         ", so it never equals what a till sends");
                }
            }
        }
    }

    // Why `text` holds something a reader does not see: a space at an end, a zero-width or
    // no-break space.
    static std::optional<std::string> invisible_part(const std::string& text) {
        if (!text.empty() && (text.front() == ' ' || text.back() == ' ' || text.front() == '\t' ||
                              text.back() == '\t')) {
            return "has a space at its start or end";
        }
        for (const char* hidden : {"\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00a0"}) {
            if (text.find(hidden) != std::string::npos) {
                return "holds an invisible character (a zero-width or no-break space)";
            }
        }
        return std::nullopt;
    }

    // `member.tier` compared with a tier id the program does not have is never equal: a
    // misspelt or renamed tier would make the condition silently never (or always) hold. Tier
    // ids are checked once the tiers are read (read_tiers comes before every condition).
    void check_tier_literals(const json& logic, const std::string& path, logic::json_path at) {
        auto is_tier_var = [](const json& j) {
            if (!j.is_object() || j.size() != 1 || !j.contains("var")) {
                return false;
            }
            const json& name = j["var"].is_array() && !j["var"].empty() ? j["var"][0] : j["var"];
            return name == "member.tier";
        };
        auto check = [&](const json& literal, const logic::json_path& where) {
            if (tier_unread_ || literal.is_object() || literal.is_array()) {
                return;
            }
            // A number is loosely equal to the text of its digits, so 2 finds a tier "2".
            std::string text = literal.is_string() ? literal.get<std::string>() : literal.dump();
            if (std::find(tier_ids_.begin(), tier_ids_.end(), text) == tier_ids_.end()) {
                reader_.at_value(render(path, where),
                                 unknown("tier", text, tier_ids_) +
                                     " (member.tier is always one of them, as text)");
            }
        };
        if (logic.is_array()) {
            for (std::size_t i = 0; i < logic.size(); ++i) {
                auto inner = at;
                inner.emplace_back(i);
                check_tier_literals(logic[i], path, inner);
            }
            return;
        }
        if (!logic.is_object() || logic.size() != 1) {
            return;
        }
        // By iterator: a structured binding to *items().begin() would refer into a temporary.
        auto only = logic.begin();
        const std::string& op = only.key();
        const json& args = only.value();
        logic::json_path here = at;
        here.emplace_back(op);
        if (args.is_array() && args.size() == 2) {
            static const std::set<std::string> equalities{"==", "===", "!=", "!=="};
            static const std::set<std::string> orderings{"<", "<=", ">", ">="};
            for (std::size_t side = 0; side < 2; ++side) {
                if (!is_tier_var(args[side])) {
                    continue;
                }
                auto other = here;
                other.emplace_back(1 - side);
                if (equalities.contains(op)) {
                    check(args[1 - side], other);
                } else if (orderings.contains(op)) {
                    reader_.at_value(render(path, here),
                                     tier_ordering_mistake(op, side, args[1 - side]));
                } else if (op == "in" && side == 0 && args[1].is_array()) {
                    for (std::size_t k = 0; k < args[1].size(); ++k) {
                        auto item = other;
                        item.emplace_back(k);
                        check(args[1][k], item);
                    }
                }
            }
        }
        check_tier_literals(args, path, here);
    }

    // `member.tier` under <, <=, > or >= compares tier ids as text ("gold" < "silver"), not by
    // the tiers' order: "silver and above" would pay by the alphabet. What to write instead.
    std::string tier_ordering_mistake(const std::string& op, std::size_t tier_side,
                                      const json& other) const {
        std::string said = "member.tier is a tier id, and " + op +
                           " compares ids as text, not by the tiers' order";
        auto at = other.is_string()
                      ? std::find(tier_ids_.begin(), tier_ids_.end(), other.get<std::string>())
                      : tier_ids_.end();
        if (tier_unread_ || at == tier_ids_.end()) {
            return said + "; list the tiers meant with {\"in\": [{\"var\": \"member.tier\"}, "
                          "[...]]}";
        }
        // Read as "member.tier OP other": with the tier on the right, the comparison turns.
        bool above = (op[0] == '>') == (tier_side == 0);
        bool inclusive = op.size() == 2;
        auto from = above ? (inclusive ? at : at + 1) : tier_ids_.begin();
        auto to = above ? tier_ids_.end() : (inclusive ? at + 1 : at);
        json meant = json::array();
        for (auto it = from; it < to; ++it) {
            meant.push_back(*it);
        }
        if (meant.empty()) {
            return said + "; no tier is " + (above ? "above" : "below") + " \"" + *at + "\"";
        }
        json written = {{"in", json::array({json{{"var", "member.tier"}}, meant})}};
        std::string which = above
                                ? (inclusive ? "from \"" + *at + "\" up" : "above \"" + *at + "\"")
                                : (inclusive ? "up to \"" + *at + "\"" : "below \"" + *at + "\"");
        return said + "; for the tiers " + which + " write " + written.dump();
    }

    // What a rule's condition always finds of the member, by when the rule is evaluated: at
    // enrollment nothing has happened yet; a referral or first-purchase rule runs before the
    // member's first purchase. A comparison no such value can make true never pays.
    std::vector<detail::fixed_value> fixed_member_values(earn_trigger on,
                                                         bool first_purchase) const {
        std::vector<detail::fixed_value> out;
        if (on == earn_trigger::enrollment) {
            const std::string why = "when a member enrolls (nothing has happened yet)";
            for (const char* name :
                 {"member.balance.available", "member.balance.pending", "member.lifetime.purchases",
                  "member.lifetime.spend", "member.lifetime.points", "member.metric",
                  "member.days_enrolled"}) {
                out.push_back({name, 0, why});
            }
            if (!tier_unread_ && !tier_ids_.empty()) {
                out.push_back({"member.tier", tier_ids_.front(),
                               "when a member enrolls (the lowest tier, where members start)"});
            }
        } else if (on == earn_trigger::referral || first_purchase) {
            const std::string why =
                on == earn_trigger::referral
                    ? "for a referral rule (it runs on the friend's first purchase, before it)"
                    : "for a first_purchase rule (it runs before the member's first purchase)";
            out.push_back({"member.lifetime.purchases", 0, why});
            out.push_back({"member.lifetime.spend", 0, why});
        }
        return out;
    }

    std::optional<earn_rate> read_rate(const json* node, const std::string& path) {
        mapping m(reader_, node, path, {"points", "per"});
        if (!m.valid()) {
            return std::nullopt;
        }
        auto points = m.integer("points", 0, max_points, true);
        auto per = m.integer("per", 1, max_money, true);
        if (!points || !per) {
            return std::nullopt;
        }
        return earn_rate{*points, *per};
    }

    void read_earn(program& p, const mapping& top) {
        const json* rules = top.list("earn", true);
        if (rules == nullptr) {
            return;
        }
        for (std::size_t i = 0; i < rules->size(); ++i) {
            read_earn_rule(p, (*rules)[i], append_index("earn", i));
        }
    }

    void read_earn_rule(program& p, const json& node, const std::string& path) {
        mapping m(reader_, &node, path,
                  {"id", "description", "on", "event", "rate", "tier_rates", "per_unit", "fixed",
                   "multiply", "when", "lines", "min_spend", "first_purchase", "nth_purchase",
                   "active", "rounding", "qualifying", "pending_days", "limits"});
        if (!m.valid()) {
            return;
        }
        earn_rule r;
        r.id = m.identifier("id", true).value_or("");
        claim_id(r.id, m.child("id"));
        r.description = m.text("description").value_or("");
        auto on = m.choice<earn_trigger>("on",
                                         {{"purchase", earn_trigger::purchase},
                                          {"event", earn_trigger::event},
                                          {"enrollment", earn_trigger::enrollment},
                                          {"referral", earn_trigger::referral}},
                                         true);
        r.on = on.value_or(earn_trigger::purchase);
        bool purchase = r.on == earn_trigger::purchase;

        if (r.on == earn_trigger::event) {
            if (auto type = m.identifier("event", true)) {
                r.event_type = *type;
                refer(reference::kind::event_type, *type, m.child("event"));
            }
        } else if (m.has("event") && on) {
            reader_.at_key(m.child("event"), "event applies to rules with on: event only");
        }

        // What the rule earns: exactly one of these.
        std::vector<std::string> kinds;
        for (const char* k : {"rate", "per_unit", "fixed", "multiply"}) {
            if (m.has(k)) {
                kinds.emplace_back(k);
            }
        }
        if (kinds.empty()) {
            reader_.at_value(path, "a rule must say what it earns: expected one of the keys rate, "
                                   "per_unit, fixed or multiply");
        } else if (kinds.size() > 1) {
            reader_.at_key(m.child(kinds[1]), "a rule earns in one way only: found both " +
                                                  kinds[0] + " and " + kinds[1]);
        }
        std::string kind = kinds.empty() ? "" : kinds.front();
        if (kind == "rate") {
            r.kind = earn_kind::rate;
            if (auto rate = read_rate(m.get("rate"), m.child("rate"))) {
                r.rate = *rate;
            }
        } else if (kind == "per_unit") {
            r.kind = earn_kind::per_unit;
            r.points = m.integer("per_unit", 1, max_points).value_or(0);
        } else if (kind == "fixed") {
            r.kind = earn_kind::fixed;
            r.points = m.integer("fixed", 1, max_points).value_or(0);
        } else if (kind == "multiply") {
            r.kind = earn_kind::multiply;
            read_multiplier(r, m);
        }
        if ((r.kind == earn_kind::rate || r.kind == earn_kind::per_unit) && !kind.empty() &&
            !purchase && on) {
            reader_.at_key(m.child(kind),
                           kind + " is earned on spend or units: it needs on: purchase");
        }

        if (const json* rates = m.get("tier_rates")) {
            if (r.kind != earn_kind::rate) {
                reader_.at_key(m.child("tier_rates"), "tier_rates applies to rate rules only");
            } else if (!rates->is_object()) {
                reader_.at_value(m.child("tier_rates"),
                                 "expected a mapping of tier id to rate, found " +
                                     detail::describe(*rates));
            } else {
                for (const auto& [tier, rate_node] : rates->items()) {
                    std::string tier_path = append_key(m.child("tier_rates"), tier);
                    refer(reference::kind::tier, tier, tier_path, true);
                    if (auto rate = read_rate(&rate_node, tier_path)) {
                        r.tier_rates[tier] = *rate;
                    }
                }
            }
        }
        const json* rate_node = m.get("rate");
        bool zero_rate = r.kind == earn_kind::rate && rate_node != nullptr &&
                         rate_node->is_object() && rate_node->contains("points") &&
                         (*rate_node)["points"] == 0;
        if (zero_rate && std::none_of(r.tier_rates.begin(), r.tier_rates.end(),
                                      [](const auto& t) { return t.second.points > 0; })) {
            // 0 points is a rate for the tiers tier_rates does not name; alone it earns nothing.
            reader_.at_value(m.child("rate") + ".points",
                             "a rate of 0 points earns nothing in every tier; expected more than "
                             "0, or tier_rates giving some tier more");
        }

        condition_scope scope = r.on == earn_trigger::purchase   ? condition_scope::purchase
                                : r.on == earn_trigger::event    ? condition_scope::event
                                : r.on == earn_trigger::referral ? condition_scope::referral
                                                                 : condition_scope::enrollment;
        detail::known_values known{p.currency.code, r.event_type, {}, {}, {}};
        const json* first = m.get("first_purchase");
        known.fixed = fixed_member_values(r.on, first != nullptr && *first == true);
        r.when = read_condition(m.get("when"), m.child("when"), scope, known);
        known.excluded_categories = p.spend.excluded_categories;
        known.excluded_skus = p.spend.excluded_skus;

        if (m.has("lines")) {
            if (on && !(purchase && (r.kind == earn_kind::rate || r.kind == earn_kind::per_unit))) {
                reader_.at_key(m.child("lines"),
                               "lines selects purchase lines: it applies to rate and per_unit "
                               "rules with on: purchase");
            }
            mapping l(reader_, m.get("lines"), m.child("lines"),
                      {"categories", "skus", "tags", "when"});
            if (l.valid()) {
                line_selector s;
                s.categories = l.texts("categories");
                s.skus = l.texts("skus");
                s.tags = l.texts("tags");
                s.when =
                    read_condition(l.get("when"), l.child("when"), condition_scope::line, known);
                if (!l.has("categories") && !l.has("skus") && !l.has("tags") && !l.has("when")) {
                    reader_.at_value(l.path(), "expected categories, skus, tags or when");
                }
                check_line_lists(p, l);
                r.lines = std::move(s);
            }
        }

        for (const char* key : {"min_spend", "first_purchase", "nth_purchase"}) {
            if (m.has(key) && on && !purchase) {
                reader_.at_key(m.child(key),
                               std::string(key) + " applies to rules with on: purchase only");
            }
        }
        r.min_spend = m.integer("min_spend", 1, max_money);
        r.first_purchase = m.boolean("first_purchase").value_or(false);
        if (const json* nth = m.get("nth_purchase")) {
            mapping n(reader_, nth, m.child("nth_purchase"), {"n", "period"});
            if (n.valid()) {
                auto count = n.integer("n", 1, max_points, true);
                if (!n.has("period")) {
                    reader_.at_value(n.path(), "missing required key \"period\"");
                }
                auto per = read_period(n.get("period"), n.child("period"));
                if (count && per) {
                    r.nth = nth_purchase{*count, *per};
                }
            }
        }
        if (r.first_purchase && m.has("nth_purchase")) {
            // The first purchase is nobody's second: together they would never pay (or, for
            // n: 1 in a lifetime, say the same thing twice).
            reader_.at_key(m.child("nth_purchase"),
                           "first_purchase and nth_purchase together: a rule pays on the first "
                           "purchase or on the nth, not both; keep one");
        }
        if (m.has("active")) {
            r.active = read_validity(m.get("active"), m.child("active"));
        }
        r.round = m.choice<rounding>("rounding", {{"floor", rounding::floor},
                                                  {"half_up", rounding::half_up},
                                                  {"ceil", rounding::ceil}})
                      .value_or(rounding::floor);
        r.qualifying = m.boolean("qualifying").value_or(true);
        r.pending_days = m.integer("pending_days", 0, max_days);
        read_rule_limits(r, m.get("limits"), m.child("limits"));
        p.earn.push_back(std::move(r));
        earn_paths_.push_back(path);
    }

    void read_multiplier(earn_rule& r, const mapping& m) {
        mapping x(reader_, m.get("multiply"), m.child("multiply"),
                  {"rules", "percent", "stacking"});
        if (!x.valid()) {
            return;
        }
        if (x.list("rules", true) != nullptr) {
            r.multiply.rules = x.identifiers("rules");
            if (r.multiply.rules.empty()) {
                reader_.at_value(x.child("rules"),
                                 "expected at least one rule id, found an empty list");
            }
        }
        // The points after multiplying, in percent of those before: 100 would add nothing and
        // less would take points away, which a multiplier's explanation cannot show.
        r.multiply.percent = x.integer("percent", 101, max_percent, true).value_or(100);
        r.multiply.stack =
            x.choice<stacking>("stacking", {{"multiplicative", stacking::multiplicative},
                                            {"additive", stacking::additive}})
                .value_or(stacking::multiplicative);
    }

    void read_rule_limits(earn_rule& r, const json* node, const std::string& path) {
        mapping m(reader_, node, path, {"per_transaction", "per_member", "budget"});
        if (!m.valid()) {
            return;
        }
        r.limits.per_transaction = m.integer("per_transaction", 1, max_points);
        r.limits.budget = m.integer("budget", 1, max_money);
        if (const json* list = m.list("per_member")) {
            for (std::size_t i = 0; i < list->size(); ++i) {
                if (auto limit =
                        read_usage_limit(&(*list)[i], append_index(m.child("per_member"), i))) {
                    r.limits.per_member.push_back(*limit);
                }
            }
        }
    }

    std::optional<voucher_validity> read_voucher_validity(const mapping& m) {
        voucher_validity v{std::nullopt, false};
        v.days = m.integer("valid_days", 1, max_days);
        if (m.has("valid_until")) {
            v.until_end_of_month =
                m.choice<bool>("valid_until", {{"end_of_month", true}}).value_or(false);
        }
        if (m.has("valid_days") && m.has("valid_until")) {
            reader_.at_key(m.child("valid_until"),
                           "expected one of valid_days or valid_until, not both");
            return std::nullopt;
        }
        if (!v.days && !v.until_end_of_month) {
            return std::nullopt;
        }
        return v;
    }

    void read_rewards(program& p, const mapping& top) {
        const json* list = top.list("rewards");
        if (list == nullptr) {
            return;
        }
        std::set<std::string> ids;
        for (std::size_t i = 0; i < list->size(); ++i) {
            std::string path = append_index("rewards", i);
            mapping m(reader_, &(*list)[i], path,
                      {"id", "name", "cost", "tiers", "active", "limit", "voucher"});
            if (!m.valid()) {
                continue;
            }
            reward rw;
            rw.id = m.identifier("id", true).value_or("");
            if (!rw.id.empty() && !ids.insert(rw.id).second) {
                reader_.at_value(m.child("id"), "duplicate reward id \"" + rw.id + "\"");
            }
            rw.name = m.text("name", true).value_or(rw.id);
            rw.cost = m.integer("cost", 1, max_points, true).value_or(0);
            rw.tiers = m.identifiers("tiers");
            for (std::size_t t = 0; t < rw.tiers.size(); ++t) {
                refer(reference::kind::tier, rw.tiers[t], append_index(m.child("tiers"), t));
            }
            if (m.has("active")) {
                rw.active = read_validity(m.get("active"), m.child("active"));
            }
            if (m.has("limit")) {
                rw.limit = read_usage_limit(m.get("limit"), m.child("limit"));
            }
            if (m.has("voucher")) {
                mapping v(reader_, m.get("voucher"), m.child("voucher"),
                          {"valid_days", "valid_until"});
                if (v.valid()) {
                    if (auto validity = read_voucher_validity(v)) {
                        rw.voucher = *validity;
                    } else if (!v.has("valid_days") && !v.has("valid_until")) {
                        reader_.at_value(v.path(), "expected valid_days or valid_until");
                    }
                }
            }
            p.rewards.push_back(std::move(rw));
        }
    }

    void read_payment(program& p, const json* node) {
        mapping m(reader_, node, "payment",
                  {"points", "value", "step", "minimum", "max_share_percent"});
        if (!m.valid()) {
            return;
        }
        payment_policy& pay = p.payment;
        pay.enabled = true;
        pay.points = m.integer("points", 1, max_points, true).value_or(1);
        pay.value = m.integer("value", 1, max_money, true).value_or(1);
        pay.step = m.integer("step", 1, max_points).value_or(pay.points);
        pay.minimum = m.integer("minimum", 0, max_points).value_or(0);
        pay.max_share_percent = m.integer("max_share_percent", 1, 100).value_or(100);
        // Points are used in steps: a minimum between two steps is the next step up, not what
        // the file says.
        if (m.has("minimum") && pay.minimum % pay.step != 0) {
            reader_.at_value(m.child("minimum"),
                             "points are used in steps of " + std::to_string(pay.step) +
                                 ", so the least a member can use is " +
                                 std::to_string((pay.minimum / pay.step + 1) * pay.step) +
                                 ", not " + std::to_string(pay.minimum) +
                                 "; expected a multiple of step");
        }
    }

    void read_benefits(program& p, const mapping& top) {
        const json* list = top.list("benefits");
        if (list == nullptr) {
            return;
        }
        for (std::size_t i = 0; i < list->size(); ++i) {
            std::string path = append_index("benefits", i);
            mapping m(reader_, &(*list)[i], path,
                      {"id", "description", "trigger", "tiers", "grant", "once_per"});
            if (!m.valid()) {
                continue;
            }
            benefit b;
            b.id = m.identifier("id", true).value_or("");
            claim_id(b.id, m.child("id"));
            b.description = m.text("description").value_or("");
            read_trigger(b, m);
            b.tiers = m.identifiers("tiers");
            for (std::size_t t = 0; t < b.tiers.size(); ++t) {
                refer(reference::kind::tier, b.tiers[t], append_index(m.child("tiers"), t));
            }
            if (b.trigger == benefit_trigger::tier_entry) {
                check_tier_entry(p, b, m);
            }
            mapping g(reader_, m.require("grant"), m.child("grant"),
                      {"reward", "points", "valid_days", "valid_until"});
            if (g.valid()) {
                if (auto reward_id = g.identifier("reward")) {
                    b.grant.reward = *reward_id;
                    refer(reference::kind::reward, *reward_id, g.child("reward"));
                }
                b.grant.points = g.integer("points", 1, max_points).value_or(0);
                if (g.has("reward") == g.has("points")) {
                    reader_.at_value(g.path(), "a grant gives either a reward voucher or points: "
                                               "expected exactly one of reward or points");
                }
                if (auto v = read_voucher_validity(g)) {
                    b.grant.validity = *v;
                    if (g.has("points")) {
                        reader_.at_key(g.child(g.has("valid_days") ? "valid_days" : "valid_until"),
                                       "validity applies to reward vouchers only");
                    }
                } else if (g.has("reward") && !g.has("valid_days") && !g.has("valid_until")) {
                    reader_.at_value(g.path(), "a voucher needs its validity: expected valid_days "
                                               "or valid_until");
                }
            }
            if (m.has("once_per")) {
                b.once_per = read_period(m.get("once_per"), m.child("once_per"));
            }
            p.benefits.push_back(std::move(b));
        }
    }

    // An entry benefit goes to whoever enters its tier, on the way up: a `tiers` list would be
    // ignored, and the lowest tier is where members start, never entered.
    void check_tier_entry(const program& p, const benefit& b, const mapping& m) {
        if (m.has("tiers")) {
            reader_.at_key(m.child("tiers"), "tiers does not apply to a tier_entry benefit: it "
                                             "goes to every member entering tier \"" +
                                                 b.tier + "\"");
        }
        if (!p.tiers.levels.empty() && b.tier == p.tiers.levels.front().id) {
            reader_.at_value(m.child("trigger") + ".tier_entry",
                             "\"" + b.tier +
                                 "\" is the lowest tier, where members start: nobody enters it, "
                                 "so this benefit would never be given");
        }
    }

    void read_trigger(benefit& b, const mapping& m) {
        const json* node = m.require("trigger");
        if (node == nullptr) {
            return;
        }
        std::string path = m.child("trigger");
        mapping t(reader_, node, path,
                  {"tier_entry", "birthday", "enrollment_anniversary", "nth_purchase"});
        if (!t.valid()) {
            return;
        }
        if (node->size() != 1) {
            reader_.at_value(path, "expected exactly one trigger: tier_entry, birthday, "
                                   "enrollment_anniversary or nth_purchase");
            return;
        }
        if (auto tier = t.identifier("tier_entry")) {
            b.trigger = benefit_trigger::tier_entry;
            b.tier = *tier;
            refer(reference::kind::tier, *tier, t.child("tier_entry"));
        } else if (t.has("birthday")) {
            b.trigger = benefit_trigger::birthday;
            b.birthday =
                t.choice<birthday_granularity>("birthday", {{"day", birthday_granularity::day},
                                                            {"month", birthday_granularity::month}})
                    .value_or(birthday_granularity::day);
        } else if (t.has("enrollment_anniversary")) {
            b.trigger = benefit_trigger::enrollment_anniversary;
            if (!t.boolean("enrollment_anniversary").value_or(true)) {
                reader_.at_value(t.child("enrollment_anniversary"),
                                 "expected true (remove the benefit to turn it off), found false");
            }
        } else if (const json* nth = t.get("nth_purchase")) {
            b.trigger = benefit_trigger::nth_purchase;
            mapping n(reader_, nth, t.child("nth_purchase"), {"n", "period"});
            auto count = n.integer("n", 1, max_points, true);
            if (n.valid() && !n.has("period")) {
                reader_.at_value(n.path(), "missing required key \"period\"");
            }
            auto per = read_period(n.get("period"), n.child("period"));
            if (count && per) {
                b.nth = nth_purchase{*count, *per};
            }
        }
    }

    void read_returns(program& p, const json* node) {
        mapping m(reader_, node, "returns", {"bonus_clawback", "shortfall"});
        if (!m.valid()) {
            return;
        }
        p.returns.bonus_clawback =
            m.choice<clawback_policy>("bonus_clawback", {{"recompute", clawback_policy::recompute},
                                                         {"keep", clawback_policy::keep}})
                .value_or(clawback_policy::recompute);
        p.returns.shortfall =
            m.choice<shortfall_policy>("shortfall",
                                       {{"record_shortfall", shortfall_policy::record_shortfall},
                                        {"negative_balance", shortfall_policy::negative_balance}})
                .value_or(shortfall_policy::record_shortfall);
    }

    void read_late_posting(program& p, const json* node) {
        mapping m(reader_, node, "late_posting", {"max_days"});
        if (!m.valid()) {
            return;
        }
        p.late_posting.max_days = m.integer("max_days", 1, max_days, true);
    }

    // Earn rules and benefits share one namespace: both are the cause of ledger entries.
    void claim_id(const std::string& id, const std::string& path) {
        if (id.empty()) {
            return;
        }
        if (auto [it, inserted] = rule_ids_.emplace(id, path); !inserted) {
            reader_.at_value(path, "duplicate rule id \"" + id + "\"; it is already used at " +
                                       it->second);
        }
    }

    void refer(reference::kind what, const std::string& id, const std::string& path,
               bool at_key = false) {
        references_.push_back({what, id, path, at_key});
    }

    // Under `after`, a lot's expiry counts from when it was earned: a pending period as long
    // (or a month as short as 28 days) would let points expire before they could be spent,
    // every time or on some dates. Under `inactivity` the deadline counts from the member's last
    // activity, and the purchase that earned the points is that activity: a member who buys once
    // and nothing more loses every point of it while it is still pending. Said at each pending
    // period that does.
    void check_expiry_outlasts_pending(const program& p) {
        const expiry_rule& x = p.points.expiry;
        const bool idle = x.policy == expiry_policy::inactivity;
        if ((x.policy != expiry_policy::after && !idle) || (x.days <= 0 && x.months <= 0)) {
            return;
        }
        const std::int64_t shortest = x.months > 0 ? 28 * x.months : x.days;
        const std::string expiry =
            (x.months > 0 ? "points.expiry.months is " + std::to_string(x.months) +
                                " (a month can be 28 days)"
                          : "points.expiry.days is " + std::to_string(x.days)) +
            (idle ? ", counted from the member's last activity, which the purchase itself is"
                  : ", counted from when they are earned");
        auto check = [&](std::int64_t pending_days, const std::string& path) {
            if (pending_days > 0 && pending_days >= shortest) {
                reader_.at_value(path, "points pending for " + std::to_string(pending_days) +
                                           " days would expire before they could be spent" +
                                           (idle ? " if the member did nothing else: " : ": ") +
                                           expiry +
                                           "; make the pending period shorter than the expiry");
            }
        };
        check(p.points.pending_days, "points.pending_days");
        for (std::size_t i = 0; i < p.earn.size() && i < earn_paths_.size(); ++i) {
            if (p.earn[i].pending_days) {
                check(*p.earn[i].pending_days, earn_paths_[i] + ".pending_days");
            }
        }
    }

    // Tiers measured on qualifying points, and no rule that earns any: every tier above the
    // first would be out of every member's reach, without a word.
    void check_tiers_reachable(const program& p) {
        const tier_policy& t = p.tiers;
        if (t.metric != tier_metric::qualifying_points || t.levels.size() < 2 || p.earn.empty() ||
            std::any_of(p.earn.begin(), p.earn.end(),
                        [](const earn_rule& r) { return r.qualifying; })) {
            return;
        }
        reader_.at_value("tiers.metric",
                         "the tiers are measured on qualifying points, and every earn rule says "
                         "qualifying: false, so no member can reach " +
                             (t.levels[1].name.empty() ? t.levels[1].id : t.levels[1].name) +
                             "; let some rules qualify, or measure on eligible_spend or "
                             "purchases");
    }

    void check_references(const program& p) {
        // An id that did not read (its own error says why) is left out of the lists; and while
        // one of a kind did not read, a reference to that kind that matches no other is not
        // reported: it most likely names the one whose id is wrong ("Gold" for gold), and
        // every use of it would repeat the one mistake.
        // The tiers' are tier_ids_ and tier_unread_, kept as the tiers were read.
        std::vector<std::string> rules, rewards;
        bool unread_rule = false, unread_reward = false;
        auto keep = [](std::vector<std::string>& list, bool& unread, const std::string& id) {
            if (id.empty()) {
                unread = true;
            } else {
                list.push_back(id);
            }
        };
        for (const auto& r : p.earn) {
            keep(rules, unread_rule, r.id);
        }
        for (const auto& r : p.rewards) {
            keep(rewards, unread_reward, r.id);
        }

        // Multipliers: their targets exist, are not multipliers, and fire on the same trigger.
        for (std::size_t i = 0; i < p.earn.size(); ++i) {
            const earn_rule& r = p.earn[i];
            if (r.kind != earn_kind::multiply) {
                continue;
            }
            for (std::size_t j = 0; j < r.multiply.rules.size(); ++j) {
                std::string path = append_index(earn_paths_[i] + ".multiply.rules", j);
                const earn_rule* target = p.find_earn_rule(r.multiply.rules[j]);
                auto listed = r.multiply.rules.begin() + static_cast<std::ptrdiff_t>(j);
                if (std::find(r.multiply.rules.begin(), listed, *listed) != listed) {
                    // Each listing multiplies again: twice would be x4 for a "x2" rule.
                    reader_.at_value(path, "\"" + *listed + "\" is listed twice");
                } else if (target == nullptr) {
                    if (!unread_rule) {
                        reader_.at_value(path, unknown("earn rule", r.multiply.rules[j], rules));
                    }
                } else if (target->kind == earn_kind::multiply) {
                    reader_.at_value(path, "\"" + target->id +
                                               "\" is itself a multiplier; a "
                                               "multiplier applies to rules that earn points");
                } else if (target->on != r.on) {
                    reader_.at_value(path, "\"" + target->id +
                                               "\" fires on a different trigger "
                                               "than this multiplier; expected the same on:");
                } else if (r.on == earn_trigger::event && target->event_type != r.event_type) {
                    reader_.at_value(path, "\"" + target->id + "\" fires on event \"" +
                                               target->event_type + "\" and this multiplier on \"" +
                                               r.event_type +
                                               "\", so it never applies; expected the same event:");
                }
            }
        }
        for (const reference& ref : references_) {
            const std::vector<std::string>* known = nullptr;
            const char* noun = "";
            bool unread = false;
            switch (ref.what) {
            case reference::kind::tier:
                known = &tier_ids_;
                noun = "tier";
                unread = tier_unread_;
                break;
            case reference::kind::reward:
                known = &rewards;
                noun = "reward";
                unread = unread_reward;
                break;
            case reference::kind::event_type:
                known = &p.event_types;
                noun = "event type";
                unread = event_type_unread_;
                break;
            }
            if (!unread && std::find(known->begin(), known->end(), ref.id) == known->end()) {
                std::string message = unknown(noun, ref.id, *known);
                if (ref.what == reference::kind::event_type) {
                    message += "; list the event types the program accepts under events:";
                }
                if (ref.at_key) {
                    reader_.at_key(ref.path, message);
                } else {
                    reader_.at_value(ref.path, message);
                }
            }
        }
    }

    static std::string unknown(const char* noun, const std::string& id,
                               const std::vector<std::string>& known) {
        std::string message = "unknown " + std::string(noun) + " \"" + id + "\"; expected one of: ";
        if (known.empty()) {
            return "unknown " + std::string(noun) + " \"" + id + "\"; none are defined";
        }
        for (std::size_t i = 0; i < known.size(); ++i) {
            message += (i == 0 ? "" : ", ") + known[i];
        }
        return message;
    }

    const source_document& doc_;
    diagnostics& problems_;
    detail::schema_reader reader_;
    std::map<std::string, std::string> rule_ids_;
    std::vector<std::string> earn_paths_;
    std::vector<reference> references_;
    bool event_type_unread_ = false;        // an entry of events: that is not an id
    const date::time_zone* zone_ = nullptr; // the program's, once read
    std::vector<std::string> tier_ids_;     // the program's, once read
    bool tier_unread_ = false;              // a tier whose id is not one: see check_references
};

program::program(passkey, std::string source_text, std::string content_hash)
    : source_text_(std::move(source_text)), content_hash_(std::move(content_hash)) {}

const earn_rule* program::find_earn_rule(std::string_view rule_id) const {
    auto it =
        std::find_if(earn.begin(), earn.end(), [&](const earn_rule& r) { return r.id == rule_id; });
    return it == earn.end() ? nullptr : &*it;
}

const reward* program::find_reward(std::string_view reward_id) const {
    auto it = std::find_if(rewards.begin(), rewards.end(),
                           [&](const reward& r) { return r.id == reward_id; });
    return it == rewards.end() ? nullptr : &*it;
}

std::optional<std::size_t> tier_policy::index_of(std::string_view tier_id) const {
    auto it = std::find_if(levels.begin(), levels.end(),
                           [&](const tier_level& t) { return t.id == tier_id; });
    if (it == levels.end()) {
        return std::nullopt;
    }
    return static_cast<std::size_t>(it - levels.begin());
}

const tier_level* tier_policy::find(std::string_view tier_id) const {
    auto index = index_of(tier_id);
    return index ? &levels[*index] : nullptr;
}

std::size_t tier_policy::level_for(std::int64_t metric_value) const {
    std::size_t index = 0;
    for (std::size_t i = 0; i < levels.size(); ++i) {
        if (metric_value >= levels[i].threshold) {
            index = i;
        }
    }
    return index;
}

tl::expected<program_ptr, diagnostics> load_program(std::string_view text, std::string file_name) {
    diagnostics problems;
    source_document doc = source_document::parse(text, std::move(file_name), problems);
    if (!problems.empty() && doc.root().is_null()) {
        return tl::unexpected(std::move(problems));
    }
    loader l(doc, problems);
    program_ptr p = l.load(text);
    if (!p) {
        std::stable_sort(
            problems.begin(), problems.end(), [](const diagnostic& a, const diagnostic& b) {
                return std::pair(a.at.line, a.at.column) < std::pair(b.at.line, b.at.column);
            });
        return tl::unexpected(std::move(problems));
    }
    return p;
}

tl::expected<program_ptr, diagnostics> load_program_file(const std::filesystem::path& file) {
    auto unreadable = [&](const std::string& why) {
        return tl::unexpected(diagnostics{{file.string(), {}, "", "cannot read the file: " + why}});
    };
    // A folder opens like a file and reads as nothing: it would be reported as an empty program.
    std::error_code ec;
    if (std::filesystem::is_directory(file, ec)) {
        return unreadable("it is a folder");
    }
    std::ifstream in(file, std::ios::binary);
    if (!in) {
        return unreadable(std::generic_category().message(errno));
    }
    std::ostringstream text;
    text << in.rdbuf();
    if (in.bad()) {
        return unreadable(std::generic_category().message(errno));
    }
    return load_program(text.str(), file.string());
}

std::string summary(const program& p) {
    auto count = [](std::size_t n, const char* one, const char* many) {
        return std::to_string(n) + " " + (n == 1 ? one : many);
    };
    return p.name + " (" + p.id + ", " + std::string(p.currency.code) + ", " + p.time_zone->name() +
           "): " + count(p.earn.size(), "earn rule", "earn rules") + ", " +
           count(p.tiers.levels.size(), "tier", "tiers") + ", " +
           count(p.rewards.size(), "reward", "rewards") + ", " +
           count(p.benefits.size(), "benefit", "benefits") +
           (p.late_posting.max_days
                ? ", purchases and events at most " +
                      count(static_cast<std::size_t>(*p.late_posting.max_days), "day", "days") +
                      " late"
                : std::string());
}

} // namespace loyalty::program
