#include "loyalty/http/json_body.hpp"

#include <algorithm>

namespace loyalty::http {

tl::expected<nlohmann::json, body_error> parse_json_body(std::string_view text) {
    std::size_t depth = 0;
    auto track = [&](int d, nlohmann::json::parse_event_t event, nlohmann::json&) {
        // The depth passed is the container's own level; what it opens is one deeper.
        bool opens = event == nlohmann::json::parse_event_t::object_start ||
                     event == nlohmann::json::parse_event_t::array_start;
        depth = std::max(depth, static_cast<std::size_t>(d) + (opens ? 1 : 0));
        return true;
    };
    auto body = nlohmann::json::parse(text, track, false);
    if (body.is_discarded()) {
        return tl::unexpected(body_error::malformed);
    }
    if (depth > max_json_depth) {
        return tl::unexpected(body_error::too_deep);
    }
    return body;
}

} // namespace loyalty::http
