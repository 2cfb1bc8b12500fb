#include "loyalty/http/json_body.hpp"

namespace loyalty::http {

tl::expected<nlohmann::json, body_error> parse_json_body(std::string_view text) {
    bool too_deep = false;
    auto track = [&](int depth, nlohmann::json::parse_event_t event, nlohmann::json&) {
        // The depth passed is the container's own level; what it opens is one deeper. A
        // container past the limit is dropped as it opens (false), so a body of 300,000 nested
        // arrays is only read through, never built: under the sanitizers, building and freeing
        // it took longer than a client waits.
        bool opens = event == nlohmann::json::parse_event_t::object_start ||
                     event == nlohmann::json::parse_event_t::array_start;
        if (opens && static_cast<std::size_t>(depth) + 1 > max_json_depth) {
            too_deep = true;
            return false;
        }
        return true;
    };
    auto body = nlohmann::json::parse(text, track, false);
    // The whole text is still read, so a syntax error anywhere wins over the depth, as before.
    if (body.is_discarded()) {
        return tl::unexpected(body_error::malformed);
    }
    if (too_deep) {
        return tl::unexpected(body_error::too_deep);
    }
    return body;
}

} // namespace loyalty::http
