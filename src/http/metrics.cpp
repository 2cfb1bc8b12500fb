#include "loyalty/http/metrics.hpp"

#include <algorithm>
#include <array>
#include <iterator>
#include <string_view>

namespace loyalty::http {

namespace {

// Upper bounds of the latency buckets in microseconds, with their `le` labels in seconds. The
// +Inf bucket is the series' count.
constexpr std::array<std::uint64_t, 12> latency_bounds_us = {
    500,    1'000,   2'500,   5'000,   10'000,    25'000,
    50'000, 100'000, 250'000, 500'000, 1'000'000, 2'500'000};
constexpr std::array<std::string_view, 12> latency_labels = {"0.0005", "0.001", "0.0025", "0.005",
                                                             "0.01",   "0.025", "0.05",   "0.1",
                                                             "0.25",   "0.5",   "1",      "2.5"};

// The writer counts batches by size in these ranges: 1, 2-4, 5-16, 17-64, 65+.
constexpr std::array<std::string_view, 5> batch_size_labels = {"1", "4", "16", "64", "+Inf"};

// Limits that are always exported, so that a rate over them starts from zero.
constexpr std::array<std::string_view, 5> known_limits = {"bad_http", "body_size", "connections",
                                                          "header_size", "timeout"};

// A label value in the text format: backslash, double quote and line feed are escaped.
std::string escape_label(std::string_view value) {
    std::string out;
    out.reserve(value.size());
    for (char c : value) {
        switch (c) {
        case '\\':
            out += "\\\\";
            break;
        case '"':
            out += "\\\"";
            break;
        case '\n':
            out += "\\n";
            break;
        default:
            out += c;
        }
    }
    return out;
}

// Microseconds as seconds in decimal, exactly: 1500 -> "0.0015", 2000000 -> "2".
std::string seconds_text(std::uint64_t us) {
    std::string text = std::to_string(us / 1'000'000);
    std::uint64_t fraction = us % 1'000'000;
    if (fraction == 0) {
        return text;
    }
    std::string digits = std::to_string(fraction);
    digits.insert(0, 6 - digits.size(), '0');
    digits.erase(digits.find_last_not_of('0') + 1);
    return text + "." + digits;
}

void header(std::string& out, std::string_view name, std::string_view type, std::string_view help) {
    out.append("# HELP ").append(name).append(" ").append(help).append("\n");
    out.append("# TYPE ").append(name).append(" ").append(type).append("\n");
}

void sample(std::string& out, std::string_view name, std::string_view labels,
            std::string_view value) {
    out.append(name);
    if (!labels.empty()) {
        out.append("{").append(labels).append("}");
    }
    out.append(" ").append(value).append("\n");
}

} // namespace

void metrics::observe(const std::string& method, const std::string& route, unsigned status,
                      std::chrono::microseconds latency) {
    auto us = static_cast<std::uint64_t>(std::max<std::int64_t>(0, latency.count()));
    std::lock_guard lock(mutex_);
    series& s = requests_[{method, route, status}];
    ++s.count;
    s.sum_us += us;
    for (std::size_t i = 0; i < latency_bounds_us.size(); ++i) {
        if (us <= latency_bounds_us[i]) {
            ++s.buckets[i];
        }
    }
}

void metrics::limit_hit(const std::string& limit) {
    std::lock_guard lock(mutex_);
    ++limits_[limit];
}

std::string metrics::prometheus(const ledger::writer_stats& writer) const {
    static_assert(std::size(series{}.buckets) == latency_bounds_us.size());

    std::map<std::tuple<std::string, std::string, unsigned>, series> requests;
    std::map<std::string, std::uint64_t> limits;
    {
        std::lock_guard lock(mutex_);
        requests = requests_;
        limits = limits_;
    }
    for (auto known : known_limits) {
        limits.try_emplace(std::string(known), 0);
    }

    std::string out;

    header(out, "loyalty_http_requests_total", "counter",
           "HTTP requests answered, by method, route pattern and status.");
    for (const auto& [key, s] : requests) {
        const auto& [method, route, status] = key;
        sample(out, "loyalty_http_requests_total",
               "method=\"" + escape_label(method) + "\",route=\"" + escape_label(route) +
                   "\",status=\"" + std::to_string(status) + "\"",
               std::to_string(s.count));
    }

    // The histogram is per method and route: the statuses of one route are summed, and they are
    // adjacent in the map's order.
    std::map<std::pair<std::string, std::string>, series> durations;
    for (const auto& [key, s] : requests) {
        series& d = durations[{std::get<0>(key), std::get<1>(key)}];
        d.count += s.count;
        d.sum_us += s.sum_us;
        for (std::size_t i = 0; i < latency_bounds_us.size(); ++i) {
            d.buckets[i] += s.buckets[i];
        }
    }
    header(out, "loyalty_http_request_duration_seconds", "histogram",
           "Time from a complete request to its response, by method and route pattern.");
    for (const auto& [key, d] : durations) {
        std::string labels =
            "method=\"" + escape_label(key.first) + "\",route=\"" + escape_label(key.second) + "\"";
        for (std::size_t i = 0; i < latency_bounds_us.size(); ++i) {
            sample(out, "loyalty_http_request_duration_seconds_bucket",
                   labels + ",le=\"" + std::string(latency_labels[i]) + "\"",
                   std::to_string(d.buckets[i]));
        }
        sample(out, "loyalty_http_request_duration_seconds_bucket", labels + ",le=\"+Inf\"",
               std::to_string(d.count));
        sample(out, "loyalty_http_request_duration_seconds_sum", labels, seconds_text(d.sum_us));
        sample(out, "loyalty_http_request_duration_seconds_count", labels, std::to_string(d.count));
    }

    header(out, "loyalty_http_limit_hits_total", "counter",
           "Requests or connections refused or cut by a server limit.");
    for (const auto& [limit, hits] : limits) {
        sample(out, "loyalty_http_limit_hits_total", "limit=\"" + escape_label(limit) + "\"",
               std::to_string(hits));
    }

    header(out, "loyalty_writer_queue_depth", "gauge",
           "Write requests waiting for the ledger's writer.");
    sample(out, "loyalty_writer_queue_depth", "", std::to_string(writer.queue_depth));

    header(out, "loyalty_writer_batches_total", "counter",
           "Batches (SQLite transactions) committed by the ledger's writer.");
    sample(out, "loyalty_writer_batches_total", "", std::to_string(writer.batches));

    header(out, "loyalty_writer_log_flushes_total", "counter",
           "Flushes of the write-ahead log that acknowledged writes (one covers one or more "
           "batches).");
    sample(out, "loyalty_writer_log_flushes_total", "", std::to_string(writer.log_flushes));

    header(out, "loyalty_writer_checkpoints_total", "counter",
           "Checkpoints of the write-ahead log into the database file, by the checkpointer "
           "thread or by the writer itself (writes wait for the writer's).");
    sample(out, "loyalty_writer_checkpoints_total", "by=\"checkpointer\"",
           std::to_string(writer.background_checkpoints));
    sample(out, "loyalty_writer_checkpoints_total", "by=\"writer\"",
           std::to_string(writer.writer_checkpoints));

    header(out, "loyalty_writer_checkpoint_seconds_total", "counter",
           "Time the ledger's writer spent in its own checkpoints, when writes wait.");
    sample(out, "loyalty_writer_checkpoint_seconds_total", "",
           seconds_text(writer.writer_checkpoint_us));

    header(out, "loyalty_writer_batch_restarts_total", "counter",
           "Batches rolled back and run again without a request that failed after writing (a "
           "storage error or a bug).");
    sample(out, "loyalty_writer_batch_restarts_total", "", std::to_string(writer.batch_restarts));

    header(out, "loyalty_writer_requests_total", "counter",
           "Write requests processed by the ledger's writer.");
    sample(out, "loyalty_writer_requests_total", "", std::to_string(writer.requests));

    // The writer counts batches in disjoint size ranges; Prometheus buckets are cumulative.
    header(out, "loyalty_writer_batch_size", "histogram",
           "Write requests per batch of the ledger's writer.");
    std::uint64_t cumulative = 0;
    for (std::size_t i = 0; i < batch_size_labels.size(); ++i) {
        cumulative += writer.batch_sizes[i];
        sample(out, "loyalty_writer_batch_size_bucket",
               "le=\"" + std::string(batch_size_labels[i]) + "\"", std::to_string(cumulative));
    }
    // Every request belongs to exactly one batch, so the sizes sum to the requests.
    sample(out, "loyalty_writer_batch_size_sum", "", std::to_string(writer.requests));
    sample(out, "loyalty_writer_batch_size_count", "", std::to_string(cumulative));

    return out;
}

} // namespace loyalty::http
