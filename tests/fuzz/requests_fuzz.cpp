// Fuzz target: the request parsers of event_json.hpp (purchases, returns, custom events,
// redemptions, adjustments, member files) on bodies read as the router reads them, and the
// engine on what they accept, for a member of the sample program.
//
// Input: a JSON body. An object is one request; an array of up to 16 objects is a member's
// history, applied in order to one member who enrolled on 2026-03-10. Every parser sees every
// object (each is strict, so at most one accepts it); what one accepts is evaluated. Three objects
// that are not requests steer the history: {"advance_days": N} lets N days pass (time_passes),
// {"cancel": ID} cancels a redemption and {"use_voucher": ID} uses a voucher. A member file
// replaces the member, as `loyalty simulate
// --member` does. Times the API leaves to the ledger (returns, redemptions, adjustments) are
// the member's clock, which moves forward to each event's time.
//
// Checks: no parser or engine step throws or crashes; what a parser accepts survives the format
// the ledger stores it in (purchase_to_json, state_to_json); a purchase the router's fast path
// reads from the text (purchase_fast_path.hpp) is the one purchase_from_json reads from the
// parsed body; see engine_steps.hpp for the rest.

#include "engine_steps.hpp"
#include "fuzz_support.hpp"
#include "loyalty/engine/evaluate.hpp"
#include "loyalty/engine/event_json.hpp"
#include "loyalty/engine/purchase_fast_path.hpp"
#include "loyalty/engine/state_json.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <variant>

using namespace loyalty;
using nlohmann::json;

namespace {

struct history {
    const program::program& p;
    engine::member_state member;
    engine::timestamp now;
    std::string last_transaction = "t-1";

    // The member's clock never runs backwards; an event from the past is still accepted.
    void reach(engine::timestamp t) { now = std::max(now, t); }
    bool apply(const engine::event& e) { return fuzz::apply(p, member, e, now); }
};

void one_request(history& h, const json& body) {
    if (auto p = engine::purchase_from_json(body)) {
        auto stored = engine::purchase_to_json(*p);
        auto back = engine::purchase_from_json(stored);
        fuzz::check(back.has_value(), "a stored purchase does not read back",
                    back ? std::string() : back.error().field + ": " + back.error().message);
        fuzz::check(engine::purchase_to_json(*back) == stored, "a purchase does not round-trip",
                    stored.dump());
        // A quote for someone not enrolled yet, as /v1/simulate and `loyalty simulate` give one.
        engine::member_state fresh =
            engine::new_member(h.p, {p->member_id, p->occurred_at, std::nullopt, std::nullopt});
        fuzz::apply(h.p, fresh, *p, std::max(h.now, p->occurred_at));
        h.reach(p->occurred_at);
        if (h.apply(*p)) {
            h.last_transaction = p->transaction_id;
        }
    }
    if (auto r = engine::return_from_json(body, h.last_transaction)) {
        r->occurred_at = h.now;
        h.apply(*r);
    }
    if (auto e = engine::custom_event_from_json(body)) {
        h.reach(e->occurred_at);
        h.apply(*e);
    }
    if (auto r = engine::redemption_from_json(body)) {
        if (auto* reward = std::get_if<engine::reward_redemption>(&*r)) {
            reward->occurred_at = h.now;
            h.apply(*reward);
        } else {
            auto& payment = std::get<engine::points_payment>(*r);
            payment.occurred_at = h.now;
            h.apply(payment);
        }
    }
    if (auto a = engine::adjustment_from_json(body)) {
        a->occurred_at = h.now;
        a->actor = "key_fuzz";
        h.apply(*a);
    }
    if (auto m = engine::member_from_json(body)) {
        // As `loyalty simulate --member` (simulate_command.cpp): the lowest tier when none is
        // given; an unknown tier is refused there.
        if (m->tier.tier.empty()) {
            m->tier.tier = h.p.tiers.levels.front().id;
        }
        if (h.p.tiers.find(m->tier.tier) != nullptr) {
            h.reach(m->enrolled_at);
            fuzz::check_state(h.p, *m, h.now);
            h.member = std::move(*m);
        }
    }
    if (body.is_object() && body.size() == 1) {
        const json& v = body.begin().value();
        if (body.begin().key() == "advance_days" && v.is_number_unsigned() &&
            v.get<std::uint64_t>() <= 3660) {
            h.now += date::days{v.get<std::int64_t>()};
            h.apply(engine::time_passes{h.now});
        } else if (body.begin().key() == "cancel" && v.is_string()) {
            h.apply(engine::redemption_cancellation{v.get<std::string>(), h.now});
        } else if (body.begin().key() == "use_voucher" && v.is_string()) {
            h.apply(engine::voucher_use{v.get<std::string>(), "t-fuzz", h.now});
        }
    }
}

// The router reads a purchase with read_purchase_fast first and, when it declines, as every
// other body: whatever the fast path reads must be what the other way reads.
void same_purchase_both_ways(std::string_view text, const std::optional<json>& body) {
    constexpr std::size_t max_lines = 16;
    auto fast = engine::read_purchase_fast(text, max_lines);
    if (!fast) {
        return;
    }
    fuzz::check(body && body->is_object(), "the fast path read a body that is not an object",
                std::string(text));
    auto lines = body->find("lines");
    fuzz::check(lines != body->end() && lines->is_array() && lines->size() <= max_lines,
                "the fast path read more lines than allowed", std::string(text));
    auto slow = engine::purchase_from_json(*body);
    fuzz::check(slow.has_value(), "the fast path read a purchase purchase_from_json refuses",
                slow ? std::string(text) : slow.error().field + ": " + slow.error().message);
    fuzz::check(engine::purchase_text(*fast) == engine::purchase_text(*slow),
                "the fast path read another purchase", std::string(text));
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    auto body = fuzz::parse_body(fuzz::text_of(data, size));
    same_purchase_both_ways(fuzz::text_of(data, size), body);
    if (!body) {
        return -1; // the router answers 400 or 422 before any parser sees it
    }
    const program::program& p = *fuzz::sample_program();
    engine::timestamp start = fuzz::at(2026, 3, 10, 14);
    engine::enrollment joined{"m-1", start, date::year{1990} / 3 / 12, std::nullopt};
    history h{p, engine::new_member(p, joined), start};
    h.apply(joined);

    if (body->is_array()) {
        std::size_t n = std::min<std::size_t>(body->size(), 16);
        for (std::size_t i = 0; i < n; ++i) {
            one_request(h, (*body)[i]);
        }
    } else {
        one_request(h, *body);
    }
    return 0;
}
