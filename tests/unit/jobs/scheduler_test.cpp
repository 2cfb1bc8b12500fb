// The scheduler (include/loyalty/jobs/scheduler.hpp) on a real ledger: due work happens without
// any request, the scheduler stops at once when destroyed, and purchases posted while it works
// through thousands of due members are not held up behind them.

#include "loyalty/engine/event_json.hpp"
#include "loyalty/engine/local_time.hpp"
#include "loyalty/jobs/scheduler.hpp"
#include "loyalty/ledger/ledger.hpp"
#include "loyalty/ledger/maintenance.hpp"
#include "support/ledger_calls.hpp"
#include "support/sample_program.hpp"
#include "support/temp_dir.hpp"
#include "support/times.hpp"

#include <atomic>
#include <catch2/catch.hpp>
#include <sqlite3.h>
#include <thread>

using namespace loyalty;
using namespace loyalty::ledger;
using engine::timestamp;
using std::chrono::milliseconds;
using steady = std::chrono::steady_clock;

using loyalty::test::at;
using loyalty::test::pos;
using loyalty::test::write_answers;

namespace {

engine::purchase coffee(const std::string& id, const std::string& member, timestamp when) {
    engine::purchase p;
    p.transaction_id = id;
    p.member_id = member;
    p.store_id = "s-1";
    p.channel = "store";
    p.currency = "USD";
    p.occurred_at = when;
    p.lines.push_back({"1", "LATTE", "coffee", 1, 1000, 0, {}}); // 20 leaves, pending 14 days
    return p;
}

// A ledger on a fresh file with a clock the test moves; the scheduler reads the same clock.
struct fixture {
    test::temp_dir dir;
    std::shared_ptr<std::atomic<std::int64_t>> seconds =
        std::make_shared<std::atomic<std::int64_t>>(
            at("2026-11-02T15:00:00Z").time_since_epoch().count());
    std::unique_ptr<class ledger> book;

    explicit fixture(bool synchronous_full = true) {
        ledger_options o;
        o.database = dir / "loyalty.db";
        o.synchronous_full = synchronous_full;
        o.clock = clock();
        book = std::make_unique<class ledger>(o, test::sample_path());
    }

    std::function<timestamp()> clock() const {
        auto s = seconds;
        return [s] {
            return timestamp(std::chrono::seconds(s->load()));
        };
    }
    timestamp now() const { return clock()(); }
    void advance(std::chrono::seconds by) { *seconds += by.count(); }

    std::int64_t count(const std::string& sql) {
        sqlite3* db = nullptr;
        REQUIRE(sqlite3_open_v2((dir / "loyalty.db").c_str(), &db, SQLITE_OPEN_READONLY, nullptr) ==
                SQLITE_OK);
        sqlite3_busy_timeout(db, 1000);
        sqlite3_stmt* s = nullptr;
        REQUIRE(sqlite3_prepare_v2(db, sql.c_str(), -1, &s, nullptr) == SQLITE_OK);
        REQUIRE(sqlite3_step(s) == SQLITE_ROW);
        std::int64_t n = sqlite3_column_int64(s, 0);
        sqlite3_finalize(s);
        sqlite3_close(db);
        return n;
    }
};

// Waits for `done` to hold, up to `limit`.
template <class Condition>
bool eventually(Condition done, milliseconds limit) {
    auto deadline = steady::now() + limit;
    while (!done()) {
        if (steady::now() > deadline) {
            return false;
        }
        std::this_thread::sleep_for(milliseconds{5});
    }
    return true;
}

} // namespace

TEST_CASE("pending points mature by themselves when the scheduler runs", "[scheduler]") {
    fixture f;
    REQUIRE(f.book->enroll(pos(), {"m-1", "Ada", std::nullopt, std::nullopt, std::nullopt}));
    REQUIRE(f.book->post_purchase(pos(), coffee("t-1", "m-1", f.now())));
    timestamp available = f.now() + std::chrono::days{14};

    auto started = steady::now();
    {
        jobs::scheduler runner(*f.book, milliseconds{20}, f.clock());
        // Runs come and go while nothing is due: the points stay pending.
        REQUIRE(eventually([&] { return runner.runs() >= 3; }, milliseconds{5000}));
        CHECK(runner.members_changed() == 0);
        CHECK(f.book->member("m-1", f.now())->balance.pending == 20);

        f.advance(std::chrono::days{14});
        REQUIRE(f.now() == available);
        // The member view counts the points as available from that instant; the ledger entry
        // that records it is the scheduler's, written without any request.
        CHECK(f.book->member("m-1", f.now())->balance.available == 45);
        REQUIRE(eventually([&] { return runner.members_changed() == 1; }, milliseconds{5000}));
        auto page = f.book->activity("m-1", 1, std::nullopt);
        REQUIRE(page);
        REQUIRE(page->entries.size() == 1);
        const activity_entry& e = page->entries[0];
        CHECK(e.kind == engine::movement_kind::mature);
        CHECK(e.operation == "time");
        CHECK(e.points == 20);
        CHECK(e.explanation == "20 leaves became available (pending since 2026-11-02)");
        CHECK(engine::format_rfc3339(e.at) == "2026-11-16T15:00:00Z");

        // Later runs find nothing more to do.
        auto runs = runner.runs();
        REQUIRE(eventually([&] { return runner.runs() >= runs + 3; }, milliseconds{5000}));
        CHECK(runner.members_changed() == 1);
    }
    CHECK(steady::now() - started < milliseconds{10'000});
    CHECK(f.count("SELECT COUNT(*) FROM operations WHERE kind = 'time'") == 1);
    CHECK(verify_database(f.dir / "loyalty.db").empty());
}

TEST_CASE("the scheduler stops at once when destroyed, not at the next interval", "[scheduler]") {
    fixture f;
    auto runner = std::make_unique<jobs::scheduler>(*f.book, std::chrono::hours{1}, f.clock());
    REQUIRE(eventually([&] { return runner->runs() == 1; }, milliseconds{5000}));
    auto stopping = steady::now();
    runner.reset();
    CHECK(steady::now() - stopping < milliseconds{500});
}

TEST_CASE("purchases are not held up by runs over 2,000 due members", "[scheduler]") {
    // Full sync off while preparing: 4,000 writes, and a disk flush each is not what is tested.
    fixture f(false);
    constexpr std::size_t members = 2000;
    auto preparing = steady::now();
    {
        write_answers enrolled;
        for (std::size_t i = 0; i < members; ++i) {
            f.book->enroll_async(pos(), {"m-" + std::to_string(10000 + i), {}, {}, {}, {}},
                                 enrolled.expect());
        }
        REQUIRE(enrolled.wait(members) == 0);
        write_answers bought;
        for (std::size_t i = 0; i < members; ++i) {
            std::string id = std::to_string(10000 + i);
            f.book->post_purchase_async(pos(), coffee("t-" + id, "m-" + id, f.now()),
                                        bought.expect());
        }
        REQUIRE(bought.wait(members) == 0);
    }
    REQUIRE(f.book->enroll(pos(), {"walk-in", {}, {}, {}, {}}));
    auto prepared = steady::now() - preparing;
    INFO("prepared in " << std::chrono::duration_cast<milliseconds>(prepared).count() << " ms");
    int walk_ins = 0;
    auto walk_in = [&] {
        auto sent = steady::now();
        auto r = f.book->post_purchase(
            pos(), coffee("walk-in-" + std::to_string(walk_ins++), "walk-in", f.now()));
        REQUIRE(r);
        return steady::now() - sent;
    };
    auto time_operations = [&] {
        return f.count("SELECT COUNT(*) FROM operations WHERE kind = 'time'");
    };
    // Members the run has not visited yet: their queue entries, read through the queue's index
    // (well under a millisecond, where counting the operations scans megabytes).
    auto still_due = [&] {
        return f.count("SELECT COUNT(*) FROM due_queue WHERE due_at <= '" +
                       engine::format_rfc3339(f.now()) + "'");
    };

    {
        // The scheduler's run, 256 members a chunk: everyone's leaves are due to mature; one
        // run, started at once.
        f.advance(std::chrono::days{14});
        REQUIRE(still_due() == std::int64_t{members});
        std::size_t during = 0;
        std::size_t posted = 0;
        steady::duration slowest{};
        steady::duration run_took{};
        {
            auto started = steady::now();
            jobs::scheduler runner(*f.book, std::chrono::hours{1}, f.clock());
            for (; runner.runs() == 0 && posted < 10'000; ++posted) {
                std::int64_t due_before = still_due();
                auto took = walk_in();
                slowest = std::max(slowest, took);
                // The run had started when the purchase was sent and had not finished when it
                // was answered: the purchase did not wait for the rest of the run.
                std::int64_t due_after = still_due();
                if (runner.runs() == 0 && due_before < std::int64_t{members} && due_after > 0) {
                    ++during;
                }
                // No pause between purchases: the run takes about eight chunks (140 ms at -Og);
                // with a pause of 10 ms and a scan of the operations (10 ms) between purchases,
                // CI saw only two purchases answered half-way.
            }
            REQUIRE(eventually([&] { return runner.runs() == 1; }, milliseconds{60'000}));
            run_took = steady::now() - started;
            CHECK(runner.members_changed() == members);
        }
        INFO(posted << " purchases, " << during << " while the run was half-way, slowest "
                    << std::chrono::duration_cast<milliseconds>(slowest).count()
                    << " ms; the run took "
                    << std::chrono::duration_cast<milliseconds>(run_took).count() << " ms");
        // Purchases sent after the run had begun were answered before it ended (seven to eleven
        // of them here, with two busy loops beside it): had the writer queued them behind the
        // whole run, none would be. This is the check that does not hang on the machine's speed;
        // a bound on the slowest purchase against the run's length (once a third) failed with
        // six copies of this test on two cores, where the scheduler alone can stall a thread for
        // a fifth of a second.
        CHECK(during >= 3);
        // A purchase waits for at most the chunk of 256 visits queued before it (about 0.4 s in
        // a Debug build). The strict 1 s bound is the next run's, with small chunks: on a loaded
        // machine a chunk of 256 can take longer.
        CHECK(slowest < milliseconds{2000});
        CHECK(time_operations() == std::int64_t{members});
        CHECK(still_due() == 0);
        auto page = f.book->activity("m-11999", 1, std::nullopt);
        REQUIRE(page);
        CHECK(page->entries.at(0).kind == engine::movement_kind::mature);
    }

    {
        // run_due, 16 members a chunk: the enrolment and purchase lots of November expire at the
        // end of May, New York time.
        *f.seconds = at("2027-06-01T04:00:00Z").time_since_epoch().count();
        std::atomic<bool> finished{false};
        result<std::size_t> changed = 0;
        std::thread run([&] {
            changed = f.book->run_due(f.now(), 16);
            finished = true;
        });
        std::size_t during = 0;
        std::size_t posted = 0;
        steady::duration slowest{};
        for (; !finished && posted < 10'000; ++posted) {
            auto took = walk_in();
            slowest = std::max(slowest, took);
            during += finished ? 0 : 1;
        }
        run.join();
        REQUIRE(changed);
        // And the walk-in, whose enrolment leaves expire too.
        CHECK(*changed == members + 1);
        INFO(posted << " purchases, " << during << " during the run, slowest "
                    << std::chrono::duration_cast<milliseconds>(slowest).count() << " ms");
        CHECK(during >= 3);
        CHECK(slowest < milliseconds{1000});
        auto again = f.book->run_due(f.now(), 16);
        REQUIRE(again);
        CHECK(*again == 0);
        CHECK(f.book->member("m-10000", f.now())->balance.available == 0);
    }
    CHECK(verify_database(f.dir / "loyalty.db").empty());
}
