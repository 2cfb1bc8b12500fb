#include "log_syncer.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <pthread.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

namespace loyalty::ledger::detail {

namespace {

int fdatasync_or_errno(int fd) {
    return ::fdatasync(fd) == 0 ? 0 : errno;
}

// The log's name in its folder must be durable too: SQLite syncs the folder at its own first
// flush of a new log, which under synchronous=NORMAL comes only with the first checkpoint.
int sync_folder_of(const std::string& path) {
    auto folder = std::filesystem::path(path).parent_path();
    int fd = ::open(folder.empty() ? "." : folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        return errno;
    }
    int rc = ::fsync(fd) == 0 ? 0 : errno;
    ::close(fd);
    return rc;
}

} // namespace

log_syncer::log_syncer(std::string log_path, flush_fn flush)
    : log_path_(std::move(log_path)), flush_(flush ? std::move(flush) : fdatasync_or_errno) {
    thread_ = std::thread([this] {
        pthread_setname_np(pthread_self(), "log-syncer");
        loop();
    });
}

log_syncer::~log_syncer() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_all();
    thread_.join();
    if (fd_ >= 0) {
        ::close(fd_);
    }
}

void log_syncer::after_flush(std::function<void(bool durable)> answer) {
    {
        std::lock_guard lock(mutex_);
        waiting_.push_back(std::move(answer));
    }
    wake_.notify_one();
}

bool log_syncer::healthy() const {
    std::lock_guard lock(mutex_);
    return !failed_;
}

std::uint64_t log_syncer::flushes() const {
    std::lock_guard lock(mutex_);
    return flushes_;
}

int log_syncer::flush_log() {
    if (fd_ < 0) {
        fd_ = ::open(log_path_.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd_ < 0) {
            return errno;
        }
        // As SQLite does with its own folder syncs, a folder that cannot be synced (some file
        // systems refuse fsync on a folder) is not a failed flush.
        if (int rc = sync_folder_of(log_path_); rc != 0) {
            spdlog::warn("ledger: syncing the folder of {} failed ({})", log_path_,
                         std::strerror(rc));
        }
    }
    return flush_(fd_);
}

void log_syncer::loop() {
    for (;;) {
        std::vector<std::function<void(bool)>> batch;
        bool failed = false;
        {
            std::unique_lock lock(mutex_);
            wake_.wait(lock, [&] { return stopping_ || !waiting_.empty(); });
            if (waiting_.empty()) {
                return; // stopping, and everything handed over was answered
            }
            batch.swap(waiting_);
            failed = failed_;
        }
        // Every batch taken here committed before this flush begins, so it covers them all.
        if (!failed) {
            int rc = flush_log();
            std::lock_guard lock(mutex_);
            if (rc == 0) {
                ++flushes_;
            } else {
                failed_ = failed = true;
                spdlog::critical("ledger: flushing the write-ahead log {} failed ({}); writes are "
                                 "refused until the server restarts",
                                 log_path_, std::strerror(rc));
            }
        }
        for (auto& answer : batch) {
            answer(!failed);
        }
    }
}

} // namespace loyalty::ledger::detail
