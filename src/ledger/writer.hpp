#pragma once
// The single writer: one thread owns the read-write connection, takes requests from a queue in
// batches and runs each batch in one SQLite transaction, so one flush of the log covers the batch
// (or several, with a log syncer). A request that fails after writing is undone by starting the
// batch over without it (run_batch): the others run again, and nothing of it is kept. Every
// request is answered only after the batch committed and the log holding it was flushed.
//
// The write-ahead log is copied back into the database file (checkpointed) outside any COMMIT:
// SQLite's automatic checkpoint would run inside the COMMIT that crossed its threshold and make
// the whole batch wait for the page writes and an fsync of the main file. Once a commit brings
// the log to `checkpoint_pages`, the writer asks its checkpointer (checkpointer.hpp) to copy the
// log on a thread of its own, beside the next batches (next_log_step says when). Such a
// checkpoint cannot reach the end of a log that keeps growing, and SQLite starts the log over
// only after one has; so from four times the threshold, the writer completes a checkpoint itself
// between two batches, once the checkpointer has ended the pass it was running (which copied
// most of the log), or at five times at once, waiting for that pass; the next write starts the
// log over.
// Without a checkpointer, the writer checkpoints at the threshold itself. On stopping, the log is
// emptied into the file.
//
// With a log syncer (log_syncer.hpp), a COMMIT does not wait for the disk: the writer hands the
// batch's answers to the syncer, which calls them once a flush of the log covers the commit, and
// goes on with the next batch meanwhile.

#include "checkpointer.hpp"
#include "log_syncer.hpp"
#include "loyalty/ledger/views.hpp"
#include "sqlite.hpp"
#include "store.hpp"

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

namespace loyalty::ledger::detail {

// How a batch ended. `unavailable`: the database refused it for now (full disk, read-only file,
// I/O error), so its requests are answered 503 and clients retry; `failed`: anything else.
enum class batch_fate { committed, failed, unavailable };

struct write_task {
    // Runs inside the batch's transaction on the writer thread; keeps its own answer. Returns
    // false when what it wrote must not be kept. Requests have no savepoint each: one kept the
    // original of every page the request changed, 6 % of a purchase's instructions, to undo
    // what almost never needs undoing. So when a task returns false after writing, the writer
    // rolls the batch back and runs it again without that task, whose answer stays the one it
    // gave. A task may therefore run more than once before its batch commits, each time on the
    // database as it was before it; a task that writes and then fails as an ordinary outcome
    // should undo itself in a savepoint of its own and return true.
    std::function<bool(store&)> run;
    // Called once the batch's fate is known: committed or rolled back as a whole.
    std::function<void(batch_fate)> finish;
    // May change much of the file (a program's activation makes every member due). Runs in a
    // batch of its own, whose savepoints keep the pages they change in a temporary file past
    // 64 KiB; other batches keep them in memory, which is cheaper for a request's few pages
    // but grows with what the batch changes.
    bool large = false;
};

// What the log calls for between two batches, at `log_pages` pages with the threshold
// `checkpoint_pages` (`checkpointer`: whether there is one, and whether a pass of it is running
// or asked for):
// - below the threshold, nothing;
// - with a checkpointer, a pass of it each time the log has grown by the threshold since the
//   last ask (`asked_at`, updated here), and after every batch from three times the threshold
//   on, so that the writer's own checkpoint at four times finds little left to copy;
// - from four times the threshold, a checkpoint by the writer itself once the checkpointer is
//   idle: asked for nothing more, it ends the pass it is running while the writer goes on
//   writing, and the writer's checkpoint then copies only what was committed meanwhile. From
//   five times, the writer checkpoints at once, waiting for a running pass to end (the log's
//   bound);
// - without a checkpointer, a checkpoint by the writer at the threshold.
// Asked after every batch past the threshold, the checkpointer ran a pass (and two flushes) for
// every two to four purchases in small batches, a few pages each; asked only once per threshold,
// it left up to a threshold of pages to the writer's own checkpoint, during which writes wait
// (4 ms on average at 1,600 purchases/s on the benchmark's machine against 6 to 7 ms). Waiting
// at four times for the pass running made every such checkpoint two passes long, each with its
// flush of the database file (4.5 ms waiting, then 7 ms copying, at 5,500 purchases/s).
enum class log_step { none, ask_checkpointer, checkpoint_here };
enum class checkpointer_state { absent, idle, busy };
log_step next_log_step(int log_pages, int checkpoint_pages, checkpointer_state checkpointer,
                       int& asked_at);

class writer {
public:
    writer(connection db, std::chrono::microseconds window, std::size_t max_batch,
           std::size_t max_queue, int checkpoint_pages,
           std::unique_ptr<checkpointer> background = nullptr,
           std::unique_ptr<log_syncer> syncer = nullptr);
    ~writer(); // finishes what is queued, then stops
    writer(const writer&) = delete;
    writer& operator=(const writer&) = delete;

    // False when the queue is full or the writer is stopping: the task was not taken.
    bool submit(write_task task);
    writer_stats stats() const;

private:
    void loop();
    void run_batch(std::vector<write_task>& batch);
    // sqlite3_wal_hook: after each commit on the writer's connection, the log's size in pages.
    static int on_commit(void* self, sqlite3* db, const char* schema, int pages);

    // Between two batches: hands the log to the checkpointer, or checkpoints it here.
    void checkpoint();
    // Counts a batch in the stats, whatever its fate.
    void count(std::size_t requests, batch_fate fate);
    // Answers the batch now, or hands its answers to the syncer once committed.
    void answer(std::vector<write_task>& batch, batch_fate fate);

    connection db_;
    store store_;
    std::unique_ptr<checkpointer> checkpointer_; // before the thread, stopped after it
    std::unique_ptr<log_syncer> syncer_;         // likewise; null: COMMIT flushes the log itself
    const int checkpoint_pages_;
    int log_pages_ = 0;      // writer thread only
    int asked_at_pages_ = 0; // writer thread only: see next_log_step
    const std::chrono::microseconds window_;
    const std::size_t max_batch_;
    const std::size_t max_queue_;

    mutable std::mutex mutex_;
    std::condition_variable wake_;
    std::deque<write_task> queue_;
    bool stopping_ = false;
    writer_stats stats_;
    std::thread thread_; // started by the constructor once everything above exists
};

} // namespace loyalty::ledger::detail
