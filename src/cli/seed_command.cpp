// `loyalty seed`: enrolls many members quickly, for benchmarks and load tests (scripts/bench).
//
// Every member goes through the ledger's own write path (ledger::enroll_async: the idempotency
// key, the engine's enrollment, the member row, the operation, lots and ledger entries), so a
// seeded database is one the server could have written. Only durability is traded for speed:
// synchronous=NORMAL (in WAL mode a commit is not flushed; a crash can lose the last commits but
// never corrupts), large batches, and enough requests in flight that the writer never waits.

#include "loyalty/cli/commands.hpp"
#include "loyalty/ledger/ledger.hpp"

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <ostream>
#include <spdlog/spdlog.h>
#include <string>

namespace loyalty::cli {

int seed_members(const seed_options& o, std::ostream& out, std::ostream& err) {
    if (o.members == 0) {
        err << "--members: expected at least 1\n";
        return 2;
    }
    using clock = std::chrono::steady_clock;
    const auto started = clock::now();
    try {
        ledger::ledger_options lo;
        lo.database = o.database;
        lo.synchronous_full = false;
        lo.max_batch = o.batch;
        lo.max_queue = 4 * o.batch;
        ledger::ledger book(lo, o.program);

        std::mutex mutex;
        std::condition_variable done_one;
        std::size_t in_flight = 0;
        std::uint64_t enrolled = 0, existing = 0, failed = 0;
        std::string first_failure;
        const std::size_t window = 2 * o.batch; // one batch committing, the next one queued
        const std::uint64_t report_every = o.members >= 1'000'000 ? 100'000 : 0;

        for (std::uint64_t i = 0; i < o.members; ++i) {
            {
                std::unique_lock lock(mutex);
                done_one.wait(lock, [&] { return in_flight < window; });
                ++in_flight;
            }
            const std::string id = o.prefix + std::to_string(o.start + i);
            ledger::request_context who;
            who.actor = "cli";
            who.request_id = "seed-" + id;
            ledger::enrollment_request r;
            r.member_id = id;
            r.name = "Member " + std::to_string(o.start + i);
            r.email = id + "@example.com";
            book.enroll_async(
                std::move(who), std::move(r), [&](ledger::result<ledger::write_result> answer) {
                    std::lock_guard lock(mutex);
                    --in_flight;
                    if (answer) {
                        ++enrolled;
                    } else if (answer.error().code == ledger::error_code::already_exists) {
                        ++existing;
                    } else {
                        if (failed++ == 0) {
                            first_failure = ledger::to_string(answer.error().code) + ": " +
                                            answer.error().message;
                        }
                    }
                    done_one.notify_one();
                });
            if (report_every != 0 && (i + 1) % report_every == 0) {
                double s = std::chrono::duration<double>(clock::now() - started).count();
                err << "seed: " << (i + 1) << " members submitted, " << s << " s\n";
            }
        }
        {
            std::unique_lock lock(mutex);
            done_one.wait(lock, [&] { return in_flight == 0; });
        }
        double seconds = std::chrono::duration<double>(clock::now() - started).count();
        if (failed != 0) {
            err << "seed: " << failed << " enrollment(s) failed, the first: " << first_failure
                << "\n";
            return 1;
        }
        out << "seeded " << enrolled << " member(s) (" << existing << " already enrolled) into "
            << o.database << " in " << seconds << " s, "
            << static_cast<double>(enrolled + existing) / seconds << " per second\n";
        // The ledger's destructor finishes the writes and checkpoints the WAL into the file.
    } catch (const std::exception& e) {
        err << "loyalty seed: " << e.what() << "\n";
        return 1;
    }
    return 0;
}

} // namespace loyalty::cli
