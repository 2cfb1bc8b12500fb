#include "writer.hpp"

#include <pthread.h>
#include <spdlog/spdlog.h>

namespace loyalty::ledger::detail {

writer::writer(connection db, std::chrono::microseconds window, std::size_t max_batch,
               std::size_t max_queue, int checkpoint_pages,
               std::unique_ptr<checkpointer> background, std::unique_ptr<log_syncer> syncer)
    : db_(std::move(db)), store_(db_), checkpointer_(std::move(background)),
      syncer_(std::move(syncer)), checkpoint_pages_(std::max(1, checkpoint_pages)), window_(window),
      max_batch_(std::max<std::size_t>(1, max_batch)), max_queue_(max_queue) {
    // Replaces SQLite's automatic checkpoint (wal_autocheckpoint) on this connection; set before
    // the thread that uses the connection starts.
    sqlite3_wal_hook(db_.handle(), &writer::on_commit, this);
    // A savepoint of a task (a visit of the jobs) keeps the original of every page it changes
    // in memory: in a temporary file past 64 KiB (SQLite's default), a visit's journal spilled
    // often enough to cost more than it saves. A large task's batch goes back to the default
    // (run_batch): making every member due changes every page of the members table, 347 MiB of
    // journal in memory at 1,000,000 members. Migrations and the start-up activation ran with
    // the default, before the writer.
    db_.execute("PRAGMA temp_store = MEMORY");
    thread_ = std::thread([this] {
        pthread_setname_np(pthread_self(), "ledger-writer"); // for top -H, perf and gdb
        loop();
    });
}

int writer::on_commit(void* self, sqlite3*, const char*, int pages) {
    static_cast<writer*>(self)->log_pages_ = pages;
    return SQLITE_OK;
}

writer::~writer() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_all();
    thread_.join();
}

bool writer::submit(write_task task) {
    {
        std::lock_guard lock(mutex_);
        if (stopping_ || queue_.size() >= max_queue_) {
            return false;
        }
        queue_.push_back(std::move(task));
    }
    wake_.notify_one();
    return true;
}

writer_stats writer::stats() const {
    std::lock_guard lock(mutex_);
    writer_stats s = stats_;
    s.queue_depth = queue_.size();
    if (syncer_) {
        s.log_flushes = syncer_->flushes();
    }
    if (checkpointer_) {
        s.background_checkpoints = checkpointer_->done();
    }
    return s;
}

void writer::loop() {
    for (;;) {
        std::vector<write_task> batch;
        {
            std::unique_lock lock(mutex_);
            wake_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
            if (queue_.empty()) {
                // Stopping, and nothing left to write: empty the log into the file, so a stopped
                // database is one file (readable on a read-only file system, copied alone).
                lock.unlock();
                syncer_.reset();       // answers every batch it still holds, after a flush
                checkpointer_.reset(); // a checkpoint of its own would keep this one from the end
                sqlite3_wal_checkpoint_v2(db_.handle(), nullptr, SQLITE_CHECKPOINT_TRUNCATE,
                                          nullptr, nullptr);
                return;
            }
            // A large task ends the batch before it, and is a batch alone.
            bool closed = false;
            auto take = [&] {
                while (!closed && !queue_.empty() && batch.size() < max_batch_) {
                    if (queue_.front().large && !batch.empty()) {
                        closed = true;
                        return;
                    }
                    batch.push_back(std::move(queue_.front()));
                    queue_.pop_front();
                    closed = batch.back().large;
                }
            };
            take();
            // Hold the batch open briefly for more requests, unless it is full or we stop:
            // a lone request waits at most one window.
            auto deadline = std::chrono::steady_clock::now() + window_;
            while (batch.size() < max_batch_ && !closed && !stopping_ &&
                   wake_.wait_until(lock, deadline, [&] { return stopping_ || !queue_.empty(); })) {
                take();
            }
        }
        run_batch(batch);
    }
}

void writer::run_batch(std::vector<write_task>& batch) {
    batch_fate fate = batch_fate::failed;
    if (syncer_ && !syncer_->healthy()) {
        // A flush failed: what is written now could not be made known to be durable either.
        count(batch.size(), batch_fate::unavailable);
        answer(batch, batch_fate::unavailable);
        return;
    }
    // SQLite decides where savepoint journals go when the transaction begins.
    bool large = batch.size() == 1 && batch.front().large;
    try {
        if (large) {
            db_.run("PRAGMA temp_store = FILE");
        }
        db_.run("BEGIN IMMEDIATE");
        std::vector<bool> left_out(batch.size(), false);
        for (std::size_t i = 0; i < batch.size(); ++i) {
            if (left_out[i]) {
                continue;
            }
            sqlite3_int64 changes = sqlite3_total_changes64(db_.handle());
            bool keep = batch[i].run(store_);
            // A full disk or an I/O error inside a request can make SQLite roll back the whole
            // transaction. The next request would then write outside any transaction, each
            // statement committed alone: stop here, the batch has failed.
            if (sqlite3_get_autocommit(db_.handle()) != 0) {
                throw sqlite_error(SQLITE_IOERR, "SQLite rolled the batch's transaction back");
            }
            // A task that failed before writing (a refusal, an idempotent replay) leaves nothing
            // to undo. total_changes counts every row a finished statement wrote; a statement
            // that failed half-way was undone by SQLite itself.
            if (!keep && sqlite3_total_changes64(db_.handle()) != changes) {
                spdlog::warn("ledger: a request failed after writing; its batch of {} starts over "
                             "without it",
                             batch.size());
                db_.run("ROLLBACK");
                left_out[i] = true;
                {
                    std::lock_guard lock(mutex_);
                    ++stats_.batch_restarts;
                }
                db_.run("BEGIN IMMEDIATE");
                i = static_cast<std::size_t>(-1); // from the first task again (++i wraps to 0)
            }
        }
        db_.run("COMMIT");
        fate = batch_fate::committed;
    } catch (const std::exception& e) {
        // Only BEGIN, COMMIT and a restart's ROLLBACK can get here (each task catches its own
        // failures), or a transaction SQLite rolled back: the whole batch is lost, and every
        // request in it is told so.
        fate = database_unavailable(e) ? batch_fate::unavailable : batch_fate::failed;
        spdlog::error("ledger: batch of {} not committed: {}", batch.size(), e.what());
        try {
            db_.run("ROLLBACK");
        } catch (const std::exception&) {
            // No transaction was open.
        }
    }
    if (large) {
        try {
            db_.run("PRAGMA temp_store = MEMORY");
        } catch (const std::exception& e) {
            // Only slower: the next batches' journals go to a file past 64 KiB.
            spdlog::warn("ledger: savepoint journals stay in files: {}", e.what());
        }
    }
    count(batch.size(), fate);
    answer(batch, fate);
    checkpoint();
}

void writer::count(std::size_t n, batch_fate fate) {
    std::lock_guard lock(mutex_);
    ++stats_.batches;
    stats_.requests += n;
    stats_.batch_sizes[n <= 1 ? 0 : n <= 4 ? 1 : n <= 16 ? 2 : n <= 64 ? 3 : 4] += 1;
    if (fate == batch_fate::committed && !syncer_) {
        ++stats_.log_flushes; // the COMMIT flushed the log (synchronous=FULL)
    }
}

void writer::answer(std::vector<write_task>& batch, batch_fate fate) {
    if (fate == batch_fate::committed && syncer_) {
        syncer_->after_flush([tasks = std::move(batch)](bool durable) mutable {
            for (write_task& t : tasks) {
                t.finish(durable ? batch_fate::committed : batch_fate::unavailable);
            }
        });
        return;
    }
    for (write_task& t : batch) {
        t.finish(fate);
    }
}

log_step next_log_step(int log_pages, int threshold, checkpointer_state checkpointer,
                       int& asked_at) {
    if (log_pages < asked_at) {
        asked_at = 0; // the log started over
    }
    if (log_pages < threshold) {
        return log_step::none;
    }
    if (checkpointer == checkpointer_state::absent || log_pages >= 5 * threshold) {
        return log_step::checkpoint_here;
    }
    if (log_pages >= 4 * threshold) {
        return checkpointer == checkpointer_state::idle ? log_step::checkpoint_here
                                                        : log_step::none;
    }
    if (log_pages - asked_at >= threshold || log_pages >= 3 * threshold) {
        asked_at = log_pages;
        return log_step::ask_checkpointer;
    }
    return log_step::none;
}

void writer::checkpoint() {
    auto state = !checkpointer_          ? checkpointer_state::absent
                 : checkpointer_->idle() ? checkpointer_state::idle
                                         : checkpointer_state::busy;
    switch (next_log_step(log_pages_, checkpoint_pages_, state, asked_at_pages_)) {
    case log_step::none:
        return;
    case log_step::ask_checkpointer:
        checkpointer_->request();
        return;
    case log_step::checkpoint_here:
        break;
    }
    // After the answers: this batch does not wait for it, the next one does. Passive: it does
    // not wait for readers, and copies what none of them still needs.
    int log = 0;
    int copied = 0;
    auto started = std::chrono::steady_clock::now();
    int rc =
        sqlite3_wal_checkpoint_v2(db_.handle(), nullptr, SQLITE_CHECKPOINT_PASSIVE, &log, &copied);
    if (rc == SQLITE_BUSY && checkpointer_) {
        // The checkpointer is copying (the log is at five times the threshold; below that, the
        // writer checkpoints only when it found the checkpointer idle, and only the writer asks
        // it for passes). Waiting for the end of its pass is what bounds the log:
        // going on, every batch committed meanwhile added to a log that cannot start over before
        // a checkpoint reaches its end (1,694 pages at a threshold of 64 once, in the
        // steady-writes test).
        checkpointer_->wait_for_pass();
        rc = sqlite3_wal_checkpoint_v2(db_.handle(), nullptr, SQLITE_CHECKPOINT_PASSIVE, &log,
                                       &copied);
    }
    if (rc != SQLITE_OK && rc != SQLITE_BUSY) {
        // Not fatal: the next batch tries again; the log only grows meanwhile.
        spdlog::warn("ledger: checkpoint failed: {}", sqlite3_errmsg(db_.handle()));
    }
    if (rc == SQLITE_OK) {
        log_pages_ = 0; // the next commit's hook says where the log stands
        auto took = std::chrono::duration_cast<std::chrono::microseconds>(
            std::chrono::steady_clock::now() - started);
        std::lock_guard lock(mutex_);
        ++stats_.writer_checkpoints;
        stats_.writer_checkpoint_us += static_cast<std::uint64_t>(took.count());
    }
}

} // namespace loyalty::ledger::detail
