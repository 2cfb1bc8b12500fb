#pragma once
// Runs the ledger's due time-driven work on a schedule, on its own thread, through the same
// writer as every other write (ledger::run_due visits due members in bounded chunks).

#include "loyalty/ledger/ledger.hpp"

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

namespace loyalty::jobs {

class scheduler {
public:
    // Runs once at start, then every `interval`. `clock` is the system clock unless a test sets
    // it.
    scheduler(ledger::ledger& ledger, std::chrono::milliseconds interval,
              std::function<engine::timestamp()> clock = {});
    ~scheduler(); // stops and waits for a run in progress
    scheduler(const scheduler&) = delete;
    scheduler& operator=(const scheduler&) = delete;

    // Runs completed since start, and members changed by them.
    std::uint64_t runs() const;
    std::uint64_t members_changed() const;

private:
    void loop();

    ledger::ledger& ledger_;
    std::chrono::milliseconds interval_;
    std::function<engine::timestamp()> clock_;
    mutable std::mutex mutex_;
    std::condition_variable wake_;
    bool stopping_ = false;
    std::uint64_t runs_ = 0;
    std::uint64_t changed_ = 0;
    std::thread thread_; // last: starts once the rest exists
};

} // namespace loyalty::jobs
