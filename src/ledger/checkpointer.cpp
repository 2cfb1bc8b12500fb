#include "checkpointer.hpp"

#include <spdlog/spdlog.h>

namespace loyalty::ledger::detail {

namespace {

connection open_for_checkpoints(const std::string& path) {
    connection db(path, connection::mode::existing_file);
    // A connection learns that the file is in WAL mode on its first read; until then a
    // checkpoint through it does nothing (and says the log is -1 pages).
    db.execute("PRAGMA journal_mode");
    return db;
}

} // namespace

checkpointer::checkpointer(const std::string& path, int threshold_pages, int hard_limit_pages)
    : db_(open_for_checkpoints(path)), threshold_(std::max(1, threshold_pages)),
      hard_limit_(std::max(threshold_pages, hard_limit_pages)), thread_([this] { loop(); }) {}

checkpointer::~checkpointer() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_all();
    thread_.join();
}

void checkpointer::log_size(int pages) {
    bool due = false;
    {
        std::lock_guard lock(mutex_);
        pages_ = pages;
        due = pages >= threshold_;
    }
    if (due) {
        wake_.notify_one();
    }
}

int checkpointer::on_commit(void* self, sqlite3*, const char*, int pages) {
    static_cast<checkpointer*>(self)->log_size(pages);
    return SQLITE_OK;
}

std::uint64_t checkpointer::checkpoints() const {
    std::lock_guard lock(mutex_);
    return done_;
}

void checkpointer::loop() {
    std::unique_lock lock(mutex_);
    for (;;) {
        wake_.wait(lock, [&] { return stopping_ || pages_ >= threshold_; });
        if (stopping_) {
            return;
        }
        bool wait_for_readers = pages_ >= hard_limit_;
        pages_ = 0; // the writer reports again after its next commit
        lock.unlock();
        int log = 0, copied = 0;
        int rc = sqlite3_wal_checkpoint_v2(db_.handle(), nullptr,
                                           wait_for_readers ? SQLITE_CHECKPOINT_RESTART
                                                            : SQLITE_CHECKPOINT_PASSIVE,
                                           &log, &copied);
        if (rc != SQLITE_OK && rc != SQLITE_BUSY) {
            // Not fatal: the next one tries again; the log only grows meanwhile.
            spdlog::warn("ledger: checkpoint failed: {}", sqlite3_errmsg(db_.handle()));
        }
        lock.lock();
        ++done_;
    }
}

} // namespace loyalty::ledger::detail
