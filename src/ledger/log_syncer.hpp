#pragma once
// Makes the writer's commits durable on a thread of its own, so the writer does not wait for
// the disk between two batches.
//
// With synchronous=FULL, SQLite flushes the write-ahead log inside every COMMIT: the writer
// thread sits in fdatasync (0.5 to 2 ms on the benchmark's VM) while requests queue, and its
// core idles. Instead the writer's connection runs with synchronous=NORMAL (in WAL mode a commit
// then writes its frames to the log without flushing it; SQLite still flushes the log before
// every checkpoint copies it, and the database file after) and hands the committed batch here.
// This thread flushes the log with fdatasync on its own descriptor of the file (a flush is per
// file, not per descriptor) and only then calls the batch's answers. Meanwhile the writer runs
// the next batch, and one flush covers every batch committed before it started: the log is
// appended in commit order, so a later flush never leaves an earlier commit behind.
//
// What this changes for readers: a lookup can see a commit up to one flush before it is durable
// (SQLite makes a commit visible when it returns). Every answer of a write, an idempotent replay
// included, still waits for a flush that began after its own commit, so nothing is acknowledged
// that a power cut could take back. See docs/ledger.md, "Durability".
//
// When a flush fails, what it covered is not known to be on the disk, and a later flush cannot
// say so either (Linux may drop the pages it failed to write and report success next time). So
// the syncer answers those batches `unavailable` and stays failed: every later batch is answered
// so too, and the writer refuses new writes until the server restarts and SQLite reads the log
// back from the disk.

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace loyalty::ledger::detail {

class log_syncer {
public:
    // Flushes `log_path` (the database's -wal file). `flush` is fdatasync on a descriptor of it,
    // returning 0 or an errno; tests replace it to make a flush fail.
    using flush_fn = std::function<int(int fd)>;
    explicit log_syncer(std::string log_path, flush_fn flush = {});
    ~log_syncer(); // flushes and answers what it holds, then stops
    log_syncer(const log_syncer&) = delete;
    log_syncer& operator=(const log_syncer&) = delete;

    // A batch whose COMMIT returned: `answer(true)` runs after a flush that began after this
    // call succeeded, `answer(false)` when it failed. Returns at once.
    void after_flush(std::function<void(bool durable)> answer);
    // False once a flush failed: nothing written since is known to be durable.
    bool healthy() const;
    // Flushes that succeeded, for stats (each covers one or more batches).
    std::uint64_t flushes() const;

private:
    void loop();
    int flush_log(); // 0 or an errno

    const std::string log_path_;
    const flush_fn flush_;
    int fd_ = -1; // syncer thread only; opened at the first flush

    mutable std::mutex mutex_;
    std::condition_variable wake_;
    std::vector<std::function<void(bool)>> waiting_;
    bool stopping_ = false;
    bool failed_ = false;
    std::uint64_t flushes_ = 0;
    std::thread thread_; // last: started once everything above exists
};

} // namespace loyalty::ledger::detail
