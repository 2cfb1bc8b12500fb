#pragma once
// Events through the engine as the ledger runs them, with the checks every accepted event must
// pass: the outcome serialises as the ledger stores it, the member state survives its storage
// format, and a program without negative balances never shows one.

#include "fuzz_support.hpp"
#include "loyalty/engine/evaluate.hpp"
#include "loyalty/engine/outcome.hpp"
#include "loyalty/engine/state_json.hpp"

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>

namespace loyalty::fuzz {

// The member state as the ledger stores and reloads it (store.cpp: state_to_json(...).dump()),
// and the questions the ledger and the jobs ask about it.
inline void check_state(const program::program& p, const engine::member_state& s,
                        engine::timestamp now) {
    nlohmann::json stored = engine::state_to_json(s);
    (void)stored.dump(); // strict: invalid UTF-8 throws, as it would in the ledger
    auto back = engine::state_from_json(stored);
    check(back.has_value(), "a stored member state does not read back",
          back ? std::string() : back.error());
    check(engine::state_to_json(*back) == stored, "a member state does not round-trip",
          stored.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    (void)engine::balance_at(s, now);
    (void)engine::next_due(p, s, now);
    (void)engine::metric_at(p, s, now);
}

// Evaluates `e` at `now` (never before the event); when the engine accepts it, checks the
// outcome and the new state and makes it the member's state.
inline bool apply(const program::program& p, engine::member_state& state, const engine::event& e,
                  engine::timestamp now) {
    auto o = engine::evaluate(p, state, e, now);
    if (!o) {
        check(!o.error().message.empty(), "a rejection without a message");
        return false;
    }
    // The answer the ledger stores and sends (ledger.cpp: engine::to_json(...).dump()).
    (void)engine::to_json(*o, p).dump();
    if (!p.points.allow_negative_balance &&
        p.returns.shortfall != program::shortfall_policy::negative_balance) {
        check(o->balance_after.available >= 0, "a negative balance the program does not allow",
              std::to_string(o->balance_after.available) + " after " + o->event_type);
    }
    check_state(p, o->state, now);
    state = std::move(o->state);
    return true;
}

inline engine::timestamp at(int y, unsigned m, unsigned d, int hours = 12) {
    return engine::timestamp{date::sys_days{date::year{y} / m / d}} + std::chrono::hours{hours};
}

} // namespace loyalty::fuzz
