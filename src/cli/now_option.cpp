#include "now_option.hpp"

#include "loyalty/engine/event_json.hpp"

#include <ostream>

namespace loyalty::cli {

std::optional<engine::timestamp> now_option(const std::optional<std::string>& text,
                                            engine::timestamp fallback, std::string_view command,
                                            std::ostream& err) {
    if (!text) {
        return fallback;
    }
    auto parsed = engine::parse_rfc3339(*text);
    if (!parsed) {
        err << "loyalty " << command
            << ": --now: expected an RFC 3339 time such as 2026-03-14T09:30:00Z\n";
    }
    return parsed;
}

} // namespace loyalty::cli
