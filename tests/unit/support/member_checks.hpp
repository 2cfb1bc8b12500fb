#pragma once
// What the engine's tests read off a member's state and an evaluation. One definition for every
// test file: a unity build compiles several test files as one, where two helpers of the same name
// would clash.

#include "loyalty/engine/evaluate.hpp"
#include "loyalty/engine/member_state.hpp"

#include <catch2/catch.hpp>
#include <cstdint>
#include <tl/expected.hpp>

namespace loyalty::test {

// What is left of one lot; fails the test when the member has no such lot.
inline engine::points_t remaining(const engine::member_state& m, std::int64_t lot_id) {
    for (const engine::lot& l : m.lots) {
        if (l.id == lot_id) {
            return l.remaining;
        }
    }
    FAIL("no lot " << lot_id);
    return 0;
}

// The sum of the member's tier-metric entries.
inline std::int64_t metric_sum(const engine::member_state& m) {
    std::int64_t sum = 0;
    for (const engine::metric_entry& e : m.metric) {
        sum += e.amount;
    }
    return sum;
}

// The outcome of an evaluation; fails the test when it was refused.
inline engine::outcome outcome_of(tl::expected<engine::outcome, engine::rejection> r) {
    if (!r) {
        FAIL("refused: " << r.error().message);
    }
    return std::move(*r);
}

// Why an evaluation was refused; fails the test when it was not.
inline engine::rejection rejected(const tl::expected<engine::outcome, engine::rejection>& r) {
    REQUIRE_FALSE(r);
    return r.error();
}

} // namespace loyalty::test
