#pragma once
// A lot with every field given, pending for 14 days after it was earned: for the tests of the
// engine's and the ledger's encodings of a member's state.

#include "loyalty/engine/member_state.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

namespace loyalty::test {

inline engine::lot make_lot(std::int64_t id, engine::points_t earned, engine::points_t remaining,
                            engine::timestamp earned_at,
                            std::optional<engine::timestamp> expires_at, std::string cause,
                            bool qualifying, bool matured) {
    engine::lot l;
    l.id = id;
    l.earned = earned;
    l.remaining = remaining;
    l.earned_at = earned_at;
    l.available_at = earned_at + std::chrono::hours{24 * 14};
    l.expires_at = expires_at;
    l.cause = std::move(cause);
    l.qualifying = qualifying;
    l.matured = matured;
    return l;
}

} // namespace loyalty::test
