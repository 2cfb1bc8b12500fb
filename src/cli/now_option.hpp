#pragma once
// The --now option of the commands that take one (check, simulate).

#include "loyalty/engine/event.hpp"

#include <iosfwd>
#include <optional>
#include <string>
#include <string_view>

namespace loyalty::cli {

// The time --now gives, or `fallback` without it; nullopt, after saying why on `err`, when it
// is not an RFC 3339 time (the command then exits 2).
std::optional<engine::timestamp> now_option(const std::optional<std::string>& text,
                                            engine::timestamp fallback, std::string_view command,
                                            std::ostream& err);

} // namespace loyalty::cli
