#pragma once
// Copies the write-ahead log back into the database file on a thread of its own, so the writer's
// COMMIT never does it. SQLite's automatic checkpoint runs inside the COMMIT that crosses the
// threshold: that request and every request batched with it wait for thousands of page writes
// and an fsync of the main file (the p99 of purchases in scripts/bench). Here the writer only
// reports the log's size after each commit; a passive checkpoint on another connection copies
// what no reader still needs, and the writer restarts the log from its start once everything
// was copied. If the log still outgrows `hard_limit_pages` (readers pinning old snapshots), the
// checkpointer waits for them (RESTART) so the file cannot grow without bound.

#include "sqlite.hpp"

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>

namespace loyalty::ledger::detail {

class checkpointer {
public:
    // Opens its own connection to `path`; checkpoints once the log holds `threshold_pages`.
    checkpointer(const std::string& path, int threshold_pages, int hard_limit_pages);
    ~checkpointer(); // stops; the last connection to close checkpoints what is left
    checkpointer(const checkpointer&) = delete;
    checkpointer& operator=(const checkpointer&) = delete;

    // From the writer after each commit: the log now holds `pages` pages.
    void log_size(int pages);
    // Called by the writer's connection after every commit (sqlite3_wal_hook).
    static int on_commit(void* self, sqlite3* db, const char* schema, int pages);

    std::uint64_t checkpoints() const;

private:
    void loop();

    connection db_;
    const int threshold_;
    const int hard_limit_;
    mutable std::mutex mutex_;
    std::condition_variable wake_;
    int pages_ = 0;
    bool stopping_ = false;
    std::uint64_t done_ = 0;
    std::thread thread_; // last: starts after everything above exists
};

} // namespace loyalty::ledger::detail
