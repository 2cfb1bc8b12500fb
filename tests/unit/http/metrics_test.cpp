// The /metrics exposition text, exactly: counters, cumulative buckets, label escaping and the
// writer's statistics.

#include "loyalty/http/metrics.hpp"

#include <catch2/catch.hpp>
#include <string>

using namespace loyalty;
using std::chrono::microseconds;

namespace {

// The lines of `text` that start with `prefix`, joined by newlines.
std::string lines_with(const std::string& text, const std::string& prefix) {
    std::string out;
    std::size_t start = 0;
    while (start < text.size()) {
        auto end = text.find('\n', start);
        auto line = text.substr(start, end - start);
        if (line.rfind(prefix, 0) == 0) {
            out += line + "\n";
        }
        if (end == std::string::npos) {
            break;
        }
        start = end + 1;
    }
    return out;
}

} // namespace

TEST_CASE("metrics: an empty registry exports every family with zeros", "[metrics]") {
    http::metrics m;
    ledger::writer_stats w;
    CHECK(
        m.prometheus(w) ==
        R"(# HELP loyalty_http_requests_total HTTP requests answered, by method, route pattern and status.
# TYPE loyalty_http_requests_total counter
# HELP loyalty_http_request_duration_seconds Time from a complete request to its response, by method and route pattern.
# TYPE loyalty_http_request_duration_seconds histogram
# HELP loyalty_http_limit_hits_total Requests or connections refused or cut by a server limit.
# TYPE loyalty_http_limit_hits_total counter
loyalty_http_limit_hits_total{limit="bad_http"} 0
loyalty_http_limit_hits_total{limit="body_size"} 0
loyalty_http_limit_hits_total{limit="connections"} 0
loyalty_http_limit_hits_total{limit="header_size"} 0
loyalty_http_limit_hits_total{limit="timeout"} 0
# HELP loyalty_writer_queue_depth Write requests waiting for the ledger's writer.
# TYPE loyalty_writer_queue_depth gauge
loyalty_writer_queue_depth 0
# HELP loyalty_writer_batches_total Batches (SQLite transactions) committed by the ledger's writer.
# TYPE loyalty_writer_batches_total counter
loyalty_writer_batches_total 0
# HELP loyalty_writer_log_flushes_total Flushes of the write-ahead log that acknowledged writes (one covers one or more batches).
# TYPE loyalty_writer_log_flushes_total counter
loyalty_writer_log_flushes_total 0
# HELP loyalty_writer_checkpoints_total Checkpoints of the write-ahead log into the database file, by the checkpointer thread or by the writer itself (writes wait for the writer's).
# TYPE loyalty_writer_checkpoints_total counter
loyalty_writer_checkpoints_total{by="checkpointer"} 0
loyalty_writer_checkpoints_total{by="writer"} 0
# HELP loyalty_writer_checkpoint_seconds_total Time the ledger's writer spent in its own checkpoints, when writes wait.
# TYPE loyalty_writer_checkpoint_seconds_total counter
loyalty_writer_checkpoint_seconds_total 0
# HELP loyalty_writer_batch_restarts_total Batches rolled back and run again without a request that failed after writing (a storage error or a bug).
# TYPE loyalty_writer_batch_restarts_total counter
loyalty_writer_batch_restarts_total 0
# HELP loyalty_writer_requests_total Write requests processed by the ledger's writer.
# TYPE loyalty_writer_requests_total counter
loyalty_writer_requests_total 0
# HELP loyalty_writer_batch_size Write requests per batch of the ledger's writer.
# TYPE loyalty_writer_batch_size histogram
loyalty_writer_batch_size_bucket{le="1"} 0
loyalty_writer_batch_size_bucket{le="4"} 0
loyalty_writer_batch_size_bucket{le="16"} 0
loyalty_writer_batch_size_bucket{le="64"} 0
loyalty_writer_batch_size_bucket{le="+Inf"} 0
loyalty_writer_batch_size_sum 0
loyalty_writer_batch_size_count 0
)");
}

TEST_CASE("metrics: requests are counted per method, route and status", "[metrics]") {
    http::metrics m;
    m.observe("GET", "/v1/members/{member_id}", 200, microseconds(300));
    m.observe("GET", "/v1/members/{member_id}", 200, microseconds(700));
    m.observe("GET", "/v1/members/{member_id}", 404, microseconds(100));
    m.observe("POST", "/v1/transactions", 201, microseconds(2'000));
    auto text = m.prometheus({});
    CHECK(lines_with(text, "loyalty_http_requests_total") ==
          "loyalty_http_requests_total{method=\"GET\",route=\"/v1/members/{member_id}\","
          "status=\"200\"} 2\n"
          "loyalty_http_requests_total{method=\"GET\",route=\"/v1/members/{member_id}\","
          "status=\"404\"} 1\n"
          "loyalty_http_requests_total{method=\"POST\",route=\"/v1/transactions\","
          "status=\"201\"} 1\n");
}

TEST_CASE("metrics: the latency histogram is cumulative, per method and route", "[metrics]") {
    http::metrics m;
    // Statuses of one route share its histogram.
    m.observe("GET", "/healthz", 200, microseconds(500));       // on the 0.0005 bound: le="0.0005"
    m.observe("GET", "/healthz", 503, microseconds(501));       // just over: le="0.001"
    m.observe("GET", "/healthz", 200, microseconds(30'000));    // le="0.05"
    m.observe("GET", "/healthz", 200, microseconds(3'000'000)); // beyond every bound: +Inf only
    auto text = m.prometheus({});
    CHECK(
        lines_with(text, "loyalty_http_request_duration_seconds_") ==
        R"(loyalty_http_request_duration_seconds_bucket{method="GET",route="/healthz",le="0.0005"} 1
loyalty_http_request_duration_seconds_bucket{method="GET",route="/healthz",le="0.001"} 2
loyalty_http_request_duration_seconds_bucket{method="GET",route="/healthz",le="0.0025"} 2
loyalty_http_request_duration_seconds_bucket{method="GET",route="/healthz",le="0.005"} 2
loyalty_http_request_duration_seconds_bucket{method="GET",route="/healthz",le="0.01"} 2
loyalty_http_request_duration_seconds_bucket{method="GET",route="/healthz",le="0.025"} 2
loyalty_http_request_duration_seconds_bucket{method="GET",route="/healthz",le="0.05"} 3
loyalty_http_request_duration_seconds_bucket{method="GET",route="/healthz",le="0.1"} 3
loyalty_http_request_duration_seconds_bucket{method="GET",route="/healthz",le="0.25"} 3
loyalty_http_request_duration_seconds_bucket{method="GET",route="/healthz",le="0.5"} 3
loyalty_http_request_duration_seconds_bucket{method="GET",route="/healthz",le="1"} 3
loyalty_http_request_duration_seconds_bucket{method="GET",route="/healthz",le="2.5"} 3
loyalty_http_request_duration_seconds_bucket{method="GET",route="/healthz",le="+Inf"} 4
loyalty_http_request_duration_seconds_sum{method="GET",route="/healthz"} 3.031001
loyalty_http_request_duration_seconds_count{method="GET",route="/healthz"} 4
)");
}

TEST_CASE("metrics: label values are escaped", "[metrics]") {
    http::metrics m;
    m.observe("GET", "/a\"b\\c\nd", 200, microseconds(1'000'000));
    m.limit_hit("odd\"limit");
    auto text = m.prometheus({});
    CHECK(lines_with(text, "loyalty_http_requests_total{") ==
          "loyalty_http_requests_total{method=\"GET\",route=\"/a\\\"b\\\\c\\nd\",status=\"200\"} "
          "1\n");
    CHECK(
        lines_with(text, "loyalty_http_request_duration_seconds_sum") ==
        "loyalty_http_request_duration_seconds_sum{method=\"GET\",route=\"/a\\\"b\\\\c\\nd\"} 1\n");
    CHECK(lines_with(text, "loyalty_http_limit_hits_total{limit=\"odd") ==
          "loyalty_http_limit_hits_total{limit=\"odd\\\"limit\"} 1\n");
}

TEST_CASE("metrics: limit hits add up per limit", "[metrics]") {
    http::metrics m;
    m.limit_hit("body_size");
    m.limit_hit("body_size");
    m.limit_hit("connections");
    CHECK(lines_with(m.prometheus({}), "loyalty_http_limit_hits_total{") ==
          R"(loyalty_http_limit_hits_total{limit="bad_http"} 0
loyalty_http_limit_hits_total{limit="body_size"} 2
loyalty_http_limit_hits_total{limit="connections"} 1
loyalty_http_limit_hits_total{limit="header_size"} 0
loyalty_http_limit_hits_total{limit="timeout"} 0
)");
}

TEST_CASE("metrics: the writer's batch sizes become a cumulative histogram, beside its counters",
          "[metrics]") {
    http::metrics m;
    ledger::writer_stats w;
    w.queue_depth = 7;
    w.batches = 10;
    w.requests = 1 + 1 + 1 + 1 + 3 + 4 + 10 + 20 + 64 + 100; // sizes of the ten batches
    // 1, 2-4, 5-16, 17-64, 65+
    w.batch_sizes[0] = 4;
    w.batch_sizes[1] = 2;
    w.batch_sizes[2] = 1;
    w.batch_sizes[3] = 2;
    w.batch_sizes[4] = 1;
    w.log_flushes = 6;
    w.background_checkpoints = 12;
    w.writer_checkpoints = 3;
    w.writer_checkpoint_us = 7'500;
    w.batch_restarts = 2;
    auto text = m.prometheus(w);
    CHECK(lines_with(text, "loyalty_writer_") == R"(loyalty_writer_queue_depth 7
loyalty_writer_batches_total 10
loyalty_writer_log_flushes_total 6
loyalty_writer_checkpoints_total{by="checkpointer"} 12
loyalty_writer_checkpoints_total{by="writer"} 3
loyalty_writer_checkpoint_seconds_total 0.0075
loyalty_writer_batch_restarts_total 2
loyalty_writer_requests_total 205
loyalty_writer_batch_size_bucket{le="1"} 4
loyalty_writer_batch_size_bucket{le="4"} 6
loyalty_writer_batch_size_bucket{le="16"} 7
loyalty_writer_batch_size_bucket{le="64"} 9
loyalty_writer_batch_size_bucket{le="+Inf"} 10
loyalty_writer_batch_size_sum 205
loyalty_writer_batch_size_count 10
)");
}
