#pragma once
// What a valid program will not do today: earn rules and rewards whose `active` window has
// ended or not yet begun. The loader cannot say it (it has no clock, and a window in the past
// is right for purchases posted late); a merchant reading only "ok" would not know that a rule
// earns nothing now. Notes, never errors.

#include "loyalty/program/diagnostic.hpp"
#include "loyalty/program/program.hpp"

#include <chrono>
#include <string>

namespace loyalty::program {

// One note per window that is not open at `now`, in document order, at the `from` or `until`
// that closes it (or at the alias that brought it in).
diagnostics schedule_notes(const program& p, std::string file_name, std::chrono::sys_seconds now);

} // namespace loyalty::program
