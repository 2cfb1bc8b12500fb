// Fuzz target: the program loader (YAML and JSON: one parser reads both), as `loyalty check`,
// `POST /v1/program/check` and `POST /v1/program/versions` use it, then a program that loads
// through the engine.
//
// Input: a program file. The corpus holds YAML and JSON programs.
//
// Checks: the loader never throws or crashes; a refused program comes with at least one
// diagnostic, each with a message. A program that loads loads again from its own source text
// to the same version and summary, and a member's life under it (enrollment, purchases, events,
// rewards, points as payment, a return, adjustments, time passing, a cancellation) passes the
// engine's checks (engine_steps.hpp) whatever the program says.

#include "engine_steps.hpp"
#include "fuzz_support.hpp"
#include "loyalty/engine/evaluate.hpp"
#include "loyalty/program/diagnostic.hpp"
#include "loyalty/program/load.hpp"
#include "loyalty/program/schedule_notes.hpp"

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

using namespace loyalty;

namespace {

engine::purchase_line line(std::string id, std::string sku, std::string category,
                           std::int64_t quantity, program::money_t unit_price,
                           std::vector<std::string> tags = {}) {
    engine::purchase_line l;
    l.line_id = std::move(id);
    l.sku = std::move(sku);
    l.category = std::move(category);
    l.quantity = quantity;
    l.unit_price = unit_price;
    l.tags = std::move(tags);
    return l;
}

engine::purchase basket(const program::program& p, std::string id, engine::timestamp t,
                        std::string channel) {
    engine::purchase x;
    x.transaction_id = std::move(id);
    x.member_id = "m-1";
    x.store_id = "s-1";
    x.channel = std::move(channel);
    x.currency = std::string(p.currency.code);
    x.occurred_at = t;
    x.lines = {line("1", "LATTE-L", "coffee", 2, 525, {"promo"}),
               line("2", "CROISSANT", "bakery", 3, 350), line("3", "GIFT-25", "gift_card", 1, 2500),
               line("4", "BEANS", "retail", 1, 1'000'000)};
    x.lines[1].discount = 100;
    return x;
}

// One member's year under program `p`; every step may be refused, none may break a check.
void live(const program::program& p) {
    using std::chrono::hours;
    using days = date::days;
    engine::timestamp t = fuzz::at(2026, 3, 10, 14); // a Tuesday afternoon in New York
    engine::enrollment joined{"m-1", t, date::year{1990} / 3 / 12, std::nullopt};
    engine::member_state m = engine::new_member(p, joined);
    fuzz::check_state(p, m, t);
    fuzz::apply(p, m, joined, t);

    fuzz::apply(p, m, basket(p, "t-1", t + hours{1}, "store"), t + hours{1});
    fuzz::apply(p, m, basket(p, "t-2", t + days{1}, "app"), t + days{1});
    t += days{2};
    for (const std::string& type : p.event_types) {
        engine::custom_event e{"e-" + type, type, t, {{"stars", 5}, {"text", "fine"}}};
        fuzz::apply(p, m, e, t);
    }
    fuzz::apply(p, m, engine::adjustment{"adj-1", 5000, "goodwill", "", "key_fuzz", t}, t);
    for (const program::reward& r : p.rewards) {
        fuzz::apply(p, m, engine::reward_redemption{"r-" + r.id, r.id, t}, t);
    }
    program::points_t step = p.payment.step > 0 ? p.payment.step : 100;
    fuzz::apply(p, m, engine::points_payment{"pay-1", "t-1", step, 0, t}, t);
    fuzz::apply(p, m, engine::points_payment{"pay-2", "", step * 2, 100'000, t}, t);
    fuzz::apply(p, m, engine::purchase_return{"ret-1", "t-1", "s-1", t, {{"2", 2}}}, t);
    fuzz::apply(p, m, engine::purchase_return{"ret-2", "t-2", "s-1", t, {}}, t);
    fuzz::apply(p, m, engine::adjustment{"adj-2", -40, "correction", "note", "key_fuzz", t}, t);
    if (!p.rewards.empty()) {
        fuzz::apply(p, m, engine::redemption_cancellation{"r-" + p.rewards.front().id, t}, t);
    }
    // A year in steps: maturing, expiry, tier ends, birthdays and anniversaries.
    for (int month = 0; month < 14; ++month) {
        t += days{31};
        fuzz::apply(p, m, engine::time_passes{t}, t);
        if (month == 5) {
            fuzz::apply(p, m, basket(p, "t-3", t, "web"), t);
        }
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view text = fuzz::text_of(data, size);
    auto loaded = program::load_program(text, "fuzz.yaml");
    if (!loaded) {
        fuzz::check(!loaded.error().empty(), "a program refused without a diagnostic");
        // A diagnostic's place is in the text (an alias's, or the anchor's it names).
        auto lines = static_cast<int>(std::count(text.begin(), text.end(), '\n')) + 1;
        for (const program::diagnostic& d : loaded.error()) {
            fuzz::check(!d.message.empty(), "a diagnostic without a message", d.path);
            fuzz::check(d.at.line >= 0 && d.at.line <= lines, "a diagnostic outside the text",
                        program::to_string(d));
            (void)program::to_string(d);
        }
        return 0;
    }
    const program::program& p = **loaded;
    std::string summary = program::summary(p);
    fuzz::check(p.source_text() == text, "the program's source is not the text it came from");

    auto again = program::load_program(p.source_text(), "again.json");
    fuzz::check(again.has_value(), "a program's own source does not load again");
    fuzz::check((*again)->content_hash() == p.content_hash(), "the content hash changed");
    fuzz::check(program::summary(**again) == summary, "the summary changed", summary);

    // Notes on closed windows, at a time inside most windows a file writes and at both ends of
    // what a time can be: each at a place in the text, on an earn rule or a reward.
    auto lines = static_cast<int>(std::count(text.begin(), text.end(), '\n')) + 1;
    for (auto now : {std::chrono::sys_seconds{std::chrono::seconds{1'796'000'000}},
                     std::chrono::sys_seconds{std::chrono::seconds{-62'135'596'800}},
                     std::chrono::sys_seconds{std::chrono::seconds{253'402'300'799}}}) {
        for (const program::diagnostic& note : program::schedule_notes(p, "fuzz.yaml", now)) {
            fuzz::check(note.at.line >= 1 && note.at.line <= lines, "a note outside the text",
                        program::to_string(note));
            fuzz::check(note.path.rfind("earn[", 0) == 0 || note.path.rfind("rewards[", 0) == 0,
                        "a note on neither a rule nor a reward", program::to_string(note));
        }
    }

    live(p);
    return 0;
}
