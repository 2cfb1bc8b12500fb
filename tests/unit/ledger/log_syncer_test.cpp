// The log syncer: the writer's answers wait for a flush of the log that began after their
// commit, and a failed flush stops every later write from being acknowledged.

#include "log_syncer.hpp"
#include "loyalty/ledger/ledger.hpp"
#include "sqlite.hpp"
#include "support/sample_program.hpp"
#include "support/temp_dir.hpp"
#include "writer.hpp"

#include <array>
#include <atomic>
#include <catch2/catch.hpp>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <fstream>
#include <future>
#include <mutex>
#include <unistd.h>

using namespace loyalty;
using namespace loyalty::ledger;
using namespace std::chrono_literals;

namespace {

// A flush that waits until the test opens the gate, and counts the flushes that began.
struct gated_flush {
    std::mutex mutex;
    std::condition_variable changed;
    int begun = 0;
    int allowed = 0;

    detail::log_syncer::flush_fn fn() {
        return [this](int fd) {
            std::unique_lock lock(mutex);
            int mine = ++begun;
            changed.notify_all();
            changed.wait(lock, [&] { return allowed >= mine; });
            return ::fdatasync(fd) == 0 ? 0 : errno;
        };
    }
    void wait_until_begun(int n) {
        std::unique_lock lock(mutex);
        REQUIRE(changed.wait_for(lock, 5s, [&] { return begun >= n; }));
    }
    void allow(int n) {
        std::lock_guard lock(mutex);
        allowed = n;
        changed.notify_all();
    }
};

// An answer the test can wait for.
struct answer_slot {
    std::promise<bool> promise;
    std::future<bool> future = promise.get_future();
    std::function<void(bool)> callback() {
        return [this](bool flushed) {
            promise.set_value(flushed);
        };
    }
    bool ready() { return future.wait_for(0s) == std::future_status::ready; }
    // Waits for the answer (at most 5 s) and says whether it was durable.
    bool durable() {
        REQUIRE(future.wait_for(5s) == std::future_status::ready);
        return future.get();
    }
};

std::string existing_log(const test::temp_dir& dir) {
    auto path = dir / "loyalty.db-wal";
    std::ofstream(path) << "frames";
    return path.string();
}

} // namespace

TEST_CASE("a batch is answered after a flush that began after its commit", "[ledger][syncer]") {
    test::temp_dir dir;
    gated_flush gate;
    detail::log_syncer syncer(existing_log(dir), gate.fn());

    answer_slot first;
    syncer.after_flush(first.callback());
    gate.wait_until_begun(1);
    // Handed over while the first flush runs: that flush may not have seen its frames.
    answer_slot second;
    syncer.after_flush(second.callback());
    CHECK_FALSE(first.ready());

    gate.allow(1);
    CHECK(first.durable());
    gate.wait_until_begun(2);
    CHECK_FALSE(second.ready());

    gate.allow(2);
    CHECK(second.durable());
    CHECK(syncer.flushes() == 2);
    CHECK(syncer.healthy());
}

TEST_CASE("one flush answers every batch handed over before it began", "[ledger][syncer]") {
    test::temp_dir dir;
    gated_flush gate;
    detail::log_syncer syncer(existing_log(dir), gate.fn());

    answer_slot first;
    syncer.after_flush(first.callback());
    gate.wait_until_begun(1);
    std::array<answer_slot, 5> queued;
    for (auto& q : queued) {
        syncer.after_flush(q.callback());
    }
    gate.allow(2);
    for (auto& q : queued) {
        CHECK(q.durable());
    }
    CHECK(syncer.flushes() == 2);
}

TEST_CASE("a failed flush answers its batches not durable, and every later one",
          "[ledger][syncer]") {
    test::temp_dir dir;
    std::atomic<int> calls{0};
    detail::log_syncer syncer(existing_log(dir), [&](int) {
        ++calls;
        return EIO;
    });
    answer_slot first;
    syncer.after_flush(first.callback());
    CHECK_FALSE(first.durable());
    CHECK_FALSE(syncer.healthy());

    // Linux may report a later flush successful after dropping the pages the failed one could
    // not write: nothing is flushed, or acknowledged, after a failure.
    answer_slot later;
    syncer.after_flush(later.callback());
    CHECK_FALSE(later.durable());
    CHECK(calls == 1);
    CHECK(syncer.flushes() == 0);
}

TEST_CASE("a log that cannot be opened is a failed flush", "[ledger][syncer]") {
    test::temp_dir dir;
    detail::log_syncer syncer((dir / "no-such-file-wal").string());
    answer_slot a;
    syncer.after_flush(a.callback());
    CHECK_FALSE(a.durable());
    CHECK_FALSE(syncer.healthy());
}

TEST_CASE("stopping the syncer answers what it holds", "[ledger][syncer]") {
    test::temp_dir dir;
    answer_slot a;
    {
        detail::log_syncer syncer(existing_log(dir));
        syncer.after_flush(a.callback());
    }
    REQUIRE(a.ready());
    CHECK(a.future.get());
}

TEST_CASE("the writer refuses writes once the log could not be flushed", "[ledger][syncer]") {
    test::temp_dir dir;
    auto path = (dir / "loyalty.db").string();
    {
        // A database in WAL mode with its log on the disk, as the ledger leaves it.
        ledger_options o;
        o.database = path;
        class ledger created(o, test::sample_path());
    }
    detail::connection db(path, detail::connection::mode::existing_file);
    db.execute("PRAGMA journal_mode = WAL");
    db.execute("PRAGMA synchronous = NORMAL");
    db.execute("CREATE TABLE IF NOT EXISTS probe (n INTEGER)");
    std::atomic<bool> fail_flush{false};
    auto syncer = std::make_unique<detail::log_syncer>(path + "-wal", [&](int fd) {
        return fail_flush ? EIO : (::fdatasync(fd) == 0 ? 0 : errno);
    });
    detail::writer w(std::move(db), 0us, 16, 100, 1000, nullptr, std::move(syncer));

    // Runs one write that inserts a row; returns its fate once answered, and whether it ran.
    auto write = [&](int n) {
        auto fate = std::make_shared<std::promise<detail::batch_fate>>();
        auto ran = std::make_shared<std::atomic<bool>>(false);
        detail::write_task t;
        t.run = [n, ran](detail::store& st) {
            *ran = true;
            st.db().execute("INSERT INTO probe VALUES (" + std::to_string(n) + ")");
            return true;
        };
        t.finish = [fate](detail::batch_fate f) {
            fate->set_value(f);
        };
        REQUIRE(w.submit(std::move(t)));
        auto f = fate->get_future();
        REQUIRE(f.wait_for(5s) == std::future_status::ready);
        return std::pair{f.get(), ran->load()};
    };

    CHECK(write(1) == std::pair{detail::batch_fate::committed, true});
    CHECK(w.stats().log_flushes == 1);
    fail_flush = true;
    // Committed in SQLite but not known to be on the disk: not acknowledged.
    CHECK(write(2) == std::pair{detail::batch_fate::unavailable, true});
    // Nothing runs any more: it could not be acknowledged either.
    CHECK(write(3) == std::pair{detail::batch_fate::unavailable, false});
    // Only the flush that acknowledged a write counts; every batch counts, refused or not.
    CHECK(w.stats().log_flushes == 1);
    CHECK(w.stats().batches == 3);
    CHECK(w.stats().requests == 3);
    CHECK(w.stats().batch_sizes[0] == 3);
}
