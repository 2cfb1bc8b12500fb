#pragma once
// The ledger's one error vocabulary: what a write or a read can fail with, besides bugs.

#include "loyalty/engine/outcome.hpp"
#include "loyalty/program/diagnostic.hpp"

#include <optional>
#include <string>
#include <tl/expected.hpp>

namespace loyalty::ledger {

enum class error_code {
    invalid_request,      // malformed for the program; `field` names the culprit
    not_found,            // the member, purchase or redemption does not exist
    already_exists,       // enrolling a member id that is taken
    idempotency_conflict, // the key was used before with a different request
    rejected,             // the engine refused the event (insufficient points...); see `rejection`
    invalid_program,      // a program version that does not validate; see `diagnostics`
    unavailable,          // the writer queue is full or the ledger is shutting down
    storage_failure,      // the database failed; nothing of the request was kept
    unauthorized,         // the write's API key was revoked before the write ran
};

struct error {
    error_code code = error_code::invalid_request;
    std::string field;
    std::string message;
    std::optional<engine::rejection_code> rejection;
    program::diagnostics diagnostics;
};

template <class T>
using result = tl::expected<T, error>;

// "not_found", "idempotency_conflict"...: stable names for logs and problem types.
std::string to_string(error_code code);

} // namespace loyalty::ledger
