// application/problem+json responses (RFC 9457): one place builds them, so every error looks the
// same and its `type` stays stable.

#include "loyalty/http/router.hpp"

#include <nlohmann/json.hpp>

namespace loyalty::http {

response problem(unsigned version, bool keep_alive, beast_http::status status,
                 const std::string& type, const std::string& title, const std::string& detail,
                 const std::vector<std::string>& fields) {
    nlohmann::json body = {{"type", "https://loyalty.example/problems/" + type},
                           {"title", title},
                           {"status", static_cast<unsigned>(status)},
                           {"detail", detail}};
    if (!fields.empty()) {
        body["fields"] = fields;
    }
    response res{status, version};
    res.set(beast_http::field::content_type, "application/problem+json");
    res.set(beast_http::field::cache_control, "no-store");
    res.set("X-Content-Type-Options", "nosniff");
    res.keep_alive(keep_alive);
    res.body() = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    res.prepare_payload();
    return res;
}

} // namespace loyalty::http
