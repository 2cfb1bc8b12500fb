#include "loyalty/http/json_body.hpp"

#include <algorithm>
#include <optional>
#include <unordered_set>
#include <vector>

namespace loyalty::http {

namespace {

// One container the parser is inside: an object with the keys it has had so far, or an array
// with the index of the element being read. Their chain names where a repeated key is.
struct open_body_container {
    bool is_object = false;
    std::unordered_set<std::string> keys;
    std::string latest_key;
    std::size_t index = 0;
};

std::string body_field_path(const std::vector<open_body_container>& open,
                            const std::string& repeated) {
    std::string path;
    for (std::size_t i = 0; i + 1 < open.size(); ++i) {
        if (open[i].is_object) {
            path += (path.empty() ? "" : ".") + open[i].latest_key;
        } else {
            path += "[" + std::to_string(open[i].index) + "]";
        }
    }
    return path + (path.empty() ? "" : ".") + repeated;
}

// Reads through a text nlohmann found malformed, only to learn where: its SAX interface reports
// the position without throwing (the request path does not use exceptions for bad input).
struct error_position : nlohmann::json_sax<nlohmann::json> {
    std::size_t bytes_read = 0; // up to and including the byte that broke the text

    bool null() override { return true; }
    bool boolean(bool) override { return true; }
    bool number_integer(number_integer_t) override { return true; }
    bool number_unsigned(number_unsigned_t) override { return true; }
    bool number_float(number_float_t, const string_t&) override { return true; }
    bool string(string_t&) override { return true; }
    bool binary(binary_t&) override { return true; }
    bool start_object(std::size_t) override { return true; }
    bool key(string_t&) override { return true; }
    bool end_object() override { return true; }
    bool start_array(std::size_t) override { return true; }
    bool end_array() override { return true; }
    bool parse_error(std::size_t position, const std::string&,
                     const nlohmann::detail::exception&) override {
        bytes_read = position;
        return false;
    }
};

} // namespace

tl::expected<nlohmann::json, body_error> parse_json_body(std::string_view text) {
    using event_t = nlohmann::json::parse_event_t;
    bool too_deep = false;
    std::optional<std::string> repeated; // the first key given twice, by its path
    std::vector<open_body_container> open;
    auto track = [&](int depth, event_t event, nlohmann::json& parsed) {
        // The depth passed is the container's own level; what it opens is one deeper. A
        // container past the limit is dropped as it opens (false), so a body of 300,000 nested
        // arrays is only read through, never built: under the sanitizers, building and freeing
        // it took longer than a client waits.
        bool opens = event == event_t::object_start || event == event_t::array_start;
        if (opens && static_cast<std::size_t>(depth) + 1 > max_json_depth) {
            too_deep = true;
            return false;
        }
        // Inside a dropped container the parser reports only some events, and once a key was
        // repeated the body is refused anyway: either way, no more tracking.
        if (too_deep || repeated) {
            return true;
        }
        // A finished element moves its array to the next one.
        auto element_done = [&] {
            if (!open.empty() && !open.back().is_object) {
                ++open.back().index;
            }
        };
        switch (event) {
        case event_t::object_start:
        case event_t::array_start:
            open.push_back({event == event_t::object_start, {}, {}, 0});
            break;
        case event_t::key: {
            auto& object = open.back();
            object.latest_key = parsed.get<std::string>();
            if (!object.keys.insert(object.latest_key).second) {
                repeated = body_field_path(open, object.latest_key);
            }
            break;
        }
        case event_t::object_end:
        case event_t::array_end:
            open.pop_back();
            element_done();
            break;
        case event_t::value:
            element_done();
            break;
        }
        return true;
    };
    auto body = nlohmann::json::parse(text, track, false);
    // The whole text is still read, so a syntax error anywhere wins over the depth, as before.
    if (body.is_discarded()) {
        error_position where;
        nlohmann::json::sax_parse(text, &where);
        std::size_t end = std::min(where.bytes_read, text.size());
        std::string_view before = text.substr(0, end);
        auto newline = before.rfind('\n');
        std::size_t line =
            1 + static_cast<std::size_t>(std::count(before.begin(), before.end(), '\n'));
        std::size_t column = newline == std::string_view::npos ? end : end - newline - 1;
        return tl::unexpected(
            body_error{body_problem::malformed, {}, line, std::max<std::size_t>(column, 1)});
    }
    if (too_deep) {
        return tl::unexpected(body_error{body_problem::too_deep, {}});
    }
    if (repeated) {
        return tl::unexpected(body_error{body_problem::repeated_key, std::move(*repeated)});
    }
    return body;
}

} // namespace loyalty::http
