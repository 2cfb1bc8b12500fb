#pragma once
// The HTTP/1.1 server: Boost.Beast sessions on a pool of Asio threads in front of the router.
// Keep-alive, pipelined requests answered in order, hard limits, graceful shutdown.

#include "loyalty/http/metrics.hpp"
#include "loyalty/http/router.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace loyalty::http {

struct server_options {
    std::string address = "127.0.0.1";
    std::uint16_t port = 8080; // 0: an ephemeral port, see server::port()
    unsigned threads = 2;
    std::size_t body_limit = 1024 * 1024;
    std::size_t header_limit = 16 * 1024;
    std::chrono::seconds read_timeout{10}; // to receive a whole request once it started
    std::chrono::seconds idle_timeout{60}; // a keep-alive connection with no request
    std::size_t max_connections = 1024;
    router_options routing;
};

class server {
public:
    // Binds and listens (throws std::runtime_error if it cannot); serving starts with run().
    server(server_options options, ledger::ledger& ledger);
    ~server();
    server(const server&) = delete;
    server& operator=(const server&) = delete;

    std::uint16_t port() const;
    // Serves until stop() or SIGINT/SIGTERM (when `handle_signals`): then stops accepting,
    // answers the requests in flight, closes the connections and returns. `ready` runs once the
    // signals are handled and before the first connection is accepted: announcing the server
    // any earlier let a SIGTERM sent on the announcement kill the process without a clean stop.
    void run(bool handle_signals = true, const std::function<void()>& ready = {});
    // Thread-safe; run() returns once the requests in flight are answered.
    void stop();

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

} // namespace loyalty::http
