#pragma once
// What the ledger's and the jobs' tests call the ledger with and read back from it: the request
// context of a point-of-sale key, the async writes' answers, and verify's findings as text. One
// definition for every test file: a unity build compiles several test files as one, where two
// helpers of the same name would clash.

#include "loyalty/ledger/ledger.hpp"
#include "loyalty/ledger/maintenance.hpp"

#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <string>
#include <vector>

namespace loyalty::test {

// A request as a point-of-sale key makes it.
inline ledger::request_context pos() {
    ledger::request_context who;
    who.actor = "key-pos";
    who.role = "pos";
    return who;
}

// A request as support staff make it (adjustments, cancellations).
inline ledger::request_context support_staff() {
    ledger::request_context who;
    who.actor = "key-support";
    who.role = "support";
    return who;
}

// verify's findings, one per line, for a failure message.
inline std::string describe(const std::vector<ledger::violation>& found) {
    std::string text;
    for (const auto& v : found) {
        text += v.check + ": " + v.detail + "\n";
    }
    return text;
}

// Counts the answers to async writes, and the failures among them.
class write_answers {
public:
    ledger::ledger::write_callback expect() {
        return [this](ledger::result<ledger::write_result> r) {
            std::lock_guard lock(mutex_);
            ++answered_;
            if (!r) {
                ++failed_;
            }
            done_.notify_all();
        };
    }
    // Waits for `n` answers; returns how many failed.
    std::size_t wait(std::size_t n) {
        std::unique_lock lock(mutex_);
        done_.wait(lock, [&] { return answered_ >= n; });
        return failed_;
    }

private:
    std::mutex mutex_;
    std::condition_variable done_;
    std::size_t answered_ = 0;
    std::size_t failed_ = 0;
};

} // namespace loyalty::test
