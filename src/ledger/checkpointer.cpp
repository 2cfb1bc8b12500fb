#include "checkpointer.hpp"

#include <pthread.h>
#include <spdlog/spdlog.h>

namespace loyalty::ledger::detail {

checkpointer::checkpointer(const std::string& path, bool synchronous_full)
    : db_(path, connection::mode::existing_file) {
    // The checkpoint's fsync of the database file follows this connection's setting.
    db_.execute(synchronous_full ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL");
    thread_ = std::thread([this] {
        pthread_setname_np(pthread_self(), "checkpointer");
        loop();
    });
}

checkpointer::~checkpointer() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_all();
    thread_.join();
}

void checkpointer::request() {
    {
        std::lock_guard lock(mutex_);
        if (wanted_) {
            return;
        }
        wanted_ = true;
    }
    wake_.notify_one();
}

void checkpointer::wait_for_pass() {
    std::unique_lock lock(mutex_);
    wanted_ = false;
    idle_.wait(lock, [&] { return !running_; });
}

bool checkpointer::idle() const {
    std::lock_guard lock(mutex_);
    return !running_ && !wanted_;
}

std::uint64_t checkpointer::done() const {
    std::lock_guard lock(mutex_);
    return done_;
}

void checkpointer::loop() {
    for (;;) {
        {
            std::unique_lock lock(mutex_);
            wake_.wait(lock, [&] { return stopping_ || wanted_; });
            if (stopping_) {
                return;
            }
            wanted_ = false;
            running_ = true;
        }
        // Passive: never waits for the writer or for readers. A request made meanwhile is taken
        // by the next turn of the loop.
        int rc = sqlite3_wal_checkpoint_v2(db_.handle(), nullptr, SQLITE_CHECKPOINT_PASSIVE,
                                           nullptr, nullptr);
        if (rc != SQLITE_OK && rc != SQLITE_BUSY) {
            // Not fatal: the writer completes a checkpoint itself when the log gets long.
            spdlog::warn("ledger: background checkpoint failed: {}", sqlite3_errmsg(db_.handle()));
        }
        {
            std::lock_guard lock(mutex_);
            running_ = false;
            done_ += rc == SQLITE_OK ? 1 : 0;
        }
        idle_.notify_all();
    }
}

} // namespace loyalty::ledger::detail
