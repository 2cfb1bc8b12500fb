// writer.hpp: a task that fails after writing is undone by running its batch again without it.

#include "loyalty/ledger/ledger.hpp"
#include "sqlite.hpp"
#include "support/sample_program.hpp"
#include "support/temp_dir.hpp"
#include "writer.hpp"

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <vector>

using namespace loyalty;
using namespace loyalty::ledger;
using namespace std::chrono_literals;

namespace {

// The writer on a database the ledger created, with a table of its own to write to.
struct probe_writer {
    test::temp_dir dir;
    std::string path = (dir / "loyalty.db").string();
    std::unique_ptr<detail::writer> w;

    probe_writer() {
        {
            ledger_options o;
            o.database = path;
            class ledger created(o, test::sample_path());
        }
        detail::connection db(path, detail::connection::mode::existing_file);
        db.execute("PRAGMA journal_mode = WAL");
        db.execute("CREATE TABLE probe (n INTEGER)");
        w = std::make_unique<detail::writer>(std::move(db), 0us, 16, 100, 1000, nullptr, nullptr);
    }

    std::vector<std::int64_t> rows() {
        detail::connection db(path, detail::connection::mode::existing_file);
        auto s = db.prepare("SELECT n FROM probe ORDER BY n");
        std::vector<std::int64_t> out;
        while (s.step()) {
            out.push_back(s.integer(0));
        }
        return out;
    }
};

// One task: how many times it ran, and its batch's fate once answered.
struct probe_task {
    std::atomic<int> runs{0};
    std::promise<detail::batch_fate> fate;
};

enum class behaviour { write_and_keep, write_and_fail, fail_before_writing };

detail::write_task make_task(probe_task& t, int n, behaviour b) {
    detail::write_task task;
    task.run = [&t, n, b](detail::store& st) {
        ++t.runs;
        if (b == behaviour::fail_before_writing) {
            return false;
        }
        st.db().execute("INSERT INTO probe VALUES (" + std::to_string(n) + ")");
        return b == behaviour::write_and_keep;
    };
    task.finish = [&t](detail::batch_fate f) {
        t.fate.set_value(f);
    };
    return task;
}

detail::batch_fate fate_of(probe_task& t) {
    auto f = t.fate.get_future();
    REQUIRE(f.wait_for(5s) == std::future_status::ready);
    return f.get();
}

// Submits `first`, which holds the writer in a batch of its own until the returned function is
// called: what is submitted meanwhile queues behind it and makes one batch.
std::function<void()> hold_the_writer(probe_writer& p, probe_task& first, behaviour b) {
    auto gate = std::make_shared<std::promise<void>>();
    auto started = std::make_shared<std::promise<void>>();
    detail::write_task hold = make_task(first, 0, b);
    hold.run = [opened = gate->get_future().share(), run = hold.run, started,
                once = std::make_shared<std::once_flag>()](detail::store& st) {
        std::call_once(*once, [&] { started->set_value(); });
        opened.wait();
        return run(st);
    };
    REQUIRE(p.w->submit(std::move(hold)));
    REQUIRE(started->get_future().wait_for(5s) == std::future_status::ready);
    return [gate] {
        gate->set_value();
    };
}

} // namespace

TEST_CASE("a request that fails after writing leaves nothing, and the rest of its batch is kept",
          "[ledger][writer]") {
    probe_writer p;
    probe_task first;
    auto open_gate = hold_the_writer(p, first, behaviour::write_and_keep);

    probe_task kept, failed_after_writing, refused, later;
    REQUIRE(p.w->submit(make_task(kept, 1, behaviour::write_and_keep)));
    REQUIRE(p.w->submit(make_task(failed_after_writing, 2, behaviour::write_and_fail)));
    REQUIRE(p.w->submit(make_task(refused, 3, behaviour::fail_before_writing)));
    REQUIRE(p.w->submit(make_task(later, 4, behaviour::write_and_keep)));
    open_gate();

    for (probe_task* t : {&first, &kept, &failed_after_writing, &refused, &later}) {
        CHECK(fate_of(*t) == detail::batch_fate::committed);
    }
    CHECK(p.rows() == std::vector<std::int64_t>{0, 1, 4});
    // The task before the failure ran again once the batch started over; the failed one did
    // not; one that wrote nothing before failing made no restart.
    CHECK(kept.runs == 2);
    CHECK(failed_after_writing.runs == 1);
    CHECK(refused.runs == 1);
    CHECK(later.runs == 1);
    auto stats = p.w->stats();
    CHECK(stats.batch_restarts == 1);
    CHECK(stats.batches == 2);
    CHECK(stats.batch_sizes[1] == 1); // the four queued behind the first, in one batch
}

TEST_CASE("every request of a batch failing after writing leaves nothing, and each fails alone",
          "[ledger][writer]") {
    probe_writer p;
    probe_task first;
    auto open_gate = hold_the_writer(p, first, behaviour::fail_before_writing);
    std::vector<std::unique_ptr<probe_task>> tasks;
    for (int n = 1; n <= 5; ++n) {
        tasks.push_back(std::make_unique<probe_task>());
        REQUIRE(p.w->submit(make_task(*tasks.back(), n, behaviour::write_and_fail)));
    }
    open_gate();
    CHECK(fate_of(first) == detail::batch_fate::committed);
    for (auto& t : tasks) {
        CHECK(fate_of(*t) == detail::batch_fate::committed); // committed, as nothing of it
        CHECK(t->runs == 1);
    }
    CHECK(p.rows().empty());
    CHECK(p.w->stats().batch_restarts == 5);
}
