#pragma once
// Requests handed to an http::router in process, for the tests that walk every route: the
// OpenAPI document's roles (tests/unit/http/openapi_test.cpp) and the roles table of
// docs/security.md (tests/integration/fault_test.cpp).

#include "loyalty/http/router.hpp"

#include <future>
#include <regex>
#include <spdlog/spdlog.h>
#include <string>

namespace loyalty::test {

// The router logs every request; in a walk over every route those lines only bury a failure.
class quiet_logs {
public:
    quiet_logs() { spdlog::set_level(spdlog::level::warn); }
    quiet_logs(const quiet_logs&) = delete;
    quiet_logs& operator=(const quiet_logs&) = delete;
    ~quiet_logs() { spdlog::set_level(was_); }

private:
    spdlog::level::level_enum was_ = spdlog::default_logger()->level();
};

// A target for a route's pattern: every {parameter} becomes "x1".
inline std::string target_of(const std::string& pattern) {
    return std::regex_replace(pattern, std::regex(R"(\{[a-z_]+\})"), "x1");
}

// Asks the router (with the API key `secret`, none when empty, and a JSON body when given) and
// waits for its answer.
inline http::response ask(http::router& api, const std::string& method, const std::string& target,
                          const std::string& secret, const std::string& body = "") {
    http::request req{http::beast_http::string_to_verb(method), target, 11};
    if (!secret.empty()) {
        req.set(http::beast_http::field::authorization, "Bearer " + secret);
    }
    if (!body.empty()) {
        req.set(http::beast_http::field::content_type, "application/json");
        req.body() = body;
        req.prepare_payload();
    }
    std::promise<http::response> answered;
    auto answer = answered.get_future();
    api.handle(std::move(req), "test-request",
               [&answered](http::response res) { answered.set_value(std::move(res)); });
    return answer.get();
}

} // namespace loyalty::test
