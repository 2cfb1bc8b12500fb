#include "loyalty/jobs/scheduler.hpp"

#include <nlohmann/json.hpp>
#include <pthread.h>
#include <spdlog/spdlog.h>

namespace loyalty::jobs {

scheduler::scheduler(ledger::ledger& ledger, std::chrono::milliseconds interval,
                     std::function<engine::timestamp()> clock)
    : ledger_(ledger), interval_(interval), clock_(std::move(clock)), thread_([this] {
          pthread_setname_np(pthread_self(), "jobs");
          loop();
      }) {}

scheduler::~scheduler() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_all();
    thread_.join();
}

std::uint64_t scheduler::runs() const {
    std::lock_guard lock(mutex_);
    return runs_;
}

std::uint64_t scheduler::members_changed() const {
    std::lock_guard lock(mutex_);
    return changed_;
}

void scheduler::loop() {
    for (;;) {
        engine::timestamp now =
            clock_ ? clock_()
                   : std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
        auto started = std::chrono::steady_clock::now();
        auto changed = ledger_.run_due(now);
        auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
            std::chrono::steady_clock::now() - started);
        if (!changed) {
            spdlog::error(nlohmann::json{{"event", "jobs_run_failed"},
                                         {"error", ledger::to_string(changed.error().code)},
                                         {"detail", changed.error().message}}
                              .dump());
        } else if (*changed > 0) {
            spdlog::info(nlohmann::json{
                {"event", "jobs_run"}, {"members_changed", *changed}, {"ms", took.count()}}
                             .dump());
        }
        std::unique_lock lock(mutex_);
        ++runs_;
        changed_ += changed ? *changed : 0;
        if (wake_.wait_for(lock, interval_, [&] { return stopping_; })) {
            return;
        }
    }
}

} // namespace loyalty::jobs
