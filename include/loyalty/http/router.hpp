#pragma once
// The REST API as a function of a request: `route(request) -> response`, knowing nothing of
// sockets. The server's sessions do the I/O; tests call handle() directly.

#include "loyalty/http/metrics.hpp"
#include "loyalty/ledger/ledger.hpp"

#include <boost/beast/http.hpp>
#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace loyalty::http {

namespace beast_http = boost::beast::http;
using request = beast_http::request<beast_http::string_body>;
using response = beast_http::response<beast_http::string_body>;
using respond_fn = std::function<void(response)>;

struct router_options {
    std::size_t max_lines = 500; // per purchase or return
    // Per API key token bucket: `rate_per_second` tokens added, at most `burst` held.
    double rate_per_second = 100;
    double burst = 200;
    // The console's static files; other GET paths are looked up here. Empty: none served.
    std::filesystem::path web_root;
};

// A route as the API documents it, e.g. {"POST", "/v1/members/{id}/events"}.
struct route_info {
    std::string method;
    std::string pattern;
};

class router {
public:
    router(ledger::ledger& ledger, router_options options, metrics& m);
    ~router();
    router(const router&) = delete;
    router& operator=(const router&) = delete;

    // Answers `req` through `respond` exactly once, maybe from the ledger's writer thread (the
    // callback must only hand the response over). `request_id` is echoed in X-Request-Id.
    void handle(request req, std::string request_id, respond_fn respond);

    // Every route served, for the OpenAPI document's test.
    static const std::vector<route_info>& routes();

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

// An application/problem+json response (RFC 9457): `type` is a stable slug, expanded to
// "https://loyalty.example/problems/<type>".
response problem(unsigned version, bool keep_alive, beast_http::status status,
                 const std::string& type, const std::string& title, const std::string& detail,
                 const std::vector<std::string>& fields = {});

} // namespace loyalty::http
