#pragma once
// Copies the write-ahead log back into the database file on a thread and connection of its own.
//
// Why not on the writer: a checkpoint of 250 pages took the writer 3 to 8 ms, most of it
// waiting for the database file's fsync (3 ms at the median on the benchmark's VM), and the
// writer checkpointed some 20 to 50 times a second under load: a third of its time, during which
// nothing was written and every request waited. Here the copy and its fsync go on beside the
// writer's batches. A checkpoint beside steady writes never reaches the log's end, though, and
// SQLite starts the log over only once a checkpoint has: so the writer still completes one
// itself when the log gets long (writer.cpp), which then has only the last few pages to copy.

#include "sqlite.hpp"

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>

namespace loyalty::ledger::detail {

class checkpointer {
public:
    // Opens its own connection to `path` (the writer's database, already in WAL mode).
    checkpointer(const std::string& path, bool synchronous_full);
    ~checkpointer(); // finishes a checkpoint in progress, then stops
    checkpointer(const checkpointer&) = delete;
    checkpointer& operator=(const checkpointer&) = delete;

    // Asks for a passive checkpoint (it copies what no reader still needs), unless one is
    // running or already asked for. Returns at once.
    void request();
    // Returns once no pass is running, and drops a request not yet taken: the caller is about to
    // checkpoint itself, and a pass starting meanwhile would only make its checkpoint busy.
    void wait_for_pass();
    // Whether no pass is running or asked for.
    bool idle() const;
    // Passes that completed (SQLite answered OK), for the metrics.
    std::uint64_t done() const;

private:
    void loop();

    connection db_;
    mutable std::mutex mutex_;
    std::condition_variable wake_;
    std::condition_variable idle_;
    bool wanted_ = false;
    bool running_ = false;
    bool stopping_ = false;
    std::uint64_t done_ = 0;
    std::thread thread_; // last: started once everything above exists
};

} // namespace loyalty::ledger::detail
