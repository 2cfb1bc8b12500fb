#pragma once
// Counters and latency histograms for /metrics, in the Prometheus text format.

#include "loyalty/ledger/views.hpp"

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <tuple>

namespace loyalty::http {

class metrics {
public:
    // One answered request: its route pattern ("/v1/members/{id}"), method and status.
    void observe(const std::string& method, const std::string& route, unsigned status,
                 std::chrono::microseconds latency);
    // Connections refused or cut for a limit ("body_size", "connections", "timeout"...).
    void limit_hit(const std::string& limit);

    // Everything in Prometheus text exposition format 0.0.4, with the writer's batch sizes and
    // queue depth.
    std::string prometheus(const ledger::writer_stats& writer) const;

private:
    struct series {
        std::uint64_t count = 0;
        std::uint64_t sum_us = 0;
        std::uint64_t buckets[12] = {}; // cumulative counts at the bounds in metrics.cpp
    };
    mutable std::mutex mutex_;
    std::map<std::tuple<std::string, std::string, unsigned>, series> requests_;
    std::map<std::string, std::uint64_t> limits_;
};

} // namespace loyalty::http
