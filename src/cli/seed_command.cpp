// `loyalty seed`: enrolls many members quickly, for benchmarks and load tests (scripts/bench),
// and optionally gives some of them a purchase.
//
// Every member and purchase goes through the ledger's own write path (ledger::enroll_async and
// post_purchase_async: the idempotency key, the engine, the member row, the operation, lots and
// ledger entries), so a seeded database is one the server could have written. Only durability
// is traded for speed: synchronous=NORMAL (in WAL mode a commit is not flushed; a crash can lose
// the last commits but never corrupts), large batches, and enough requests in flight that the
// writer never waits.
//
// Why purchases: members enrolled in key order leave every page of the members table packed
// full, and a member's first purchase grows its row, so on a freshly enrolled file each of the
// first tens of thousands of purchases split a page (three more pages written, and as many
// copied back by the checkpointer): on 1,000,000 members the benchmark's first seconds of
// purchases cost half as much again as its later ones. A file in use has pages split already.

#include "loyalty/cli/commands.hpp"
#include "loyalty/ledger/ledger.hpp"

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <ostream>
#include <string>

namespace loyalty::cli {

namespace {

using clock = std::chrono::steady_clock;

// SplitMix64: the draw of purchases' members, the same on every machine and in every run.
std::uint64_t mix(std::uint64_t x) {
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

struct tally {
    std::uint64_t written = 0;
    // Already there from an earlier seeding: the member enrolled, the purchase replayed (or, with
    // another time, refused as a different request under the same transaction id).
    std::uint64_t existing = 0;
    std::uint64_t failed = 0;
    std::string first_failure;
};

// Submits `count` writes through `post(i, done)` with at most `window` in flight, and waits for
// every answer. `already` says which refusal means the write was there before.
tally submit_all(std::uint64_t count, std::size_t window, const char* what, std::ostream& err,
                 ledger::error_code already,
                 const std::function<void(std::uint64_t, ledger::ledger::write_callback)>& post) {
    std::mutex mutex;
    std::condition_variable done_one;
    std::size_t in_flight = 0;
    tally t;
    const auto started = clock::now();
    const std::uint64_t report_every = count >= 1'000'000 ? 100'000 : 0;
    for (std::uint64_t i = 0; i < count; ++i) {
        {
            std::unique_lock lock(mutex);
            done_one.wait(lock, [&] { return in_flight < window; });
            ++in_flight;
        }
        post(i, [&](ledger::result<ledger::write_result> answer) {
            std::lock_guard lock(mutex);
            --in_flight;
            if (answer) {
                ++(answer->replayed ? t.existing : t.written);
            } else if (answer.error().code == already) {
                ++t.existing;
            } else if (t.failed++ == 0) {
                t.first_failure =
                    ledger::to_string(answer.error().code) + ": " + answer.error().message;
            }
            done_one.notify_one();
        });
        if (report_every != 0 && (i + 1) % report_every == 0) {
            double s = std::chrono::duration<double>(clock::now() - started).count();
            err << "seed: " << (i + 1) << " " << what << " submitted, " << s << " s\n";
        }
    }
    std::unique_lock lock(mutex);
    done_one.wait(lock, [&] { return in_flight == 0; });
    return t;
}

// The benchmark's basket (scripts/bench posts the same lines): 39.75 in three categories.
engine::purchase basket(std::string transaction_id, std::string member_id, engine::timestamp at) {
    engine::purchase p;
    p.transaction_id = std::move(transaction_id);
    p.member_id = std::move(member_id);
    p.store_id = "s-12";
    p.channel = "store";
    p.currency = "USD";
    p.occurred_at = at;
    p.lines.push_back({"1", "LATTE-L", "coffee", 2, 525, 0, {}});
    p.lines.push_back({"2", "CROISSANT", "bakery", 3, 375, 0, {}});
    p.lines.push_back({"3", "BEANS-ETH-250", "beans", 1, 1800, 0, {}});
    return p;
}

} // namespace

int seed_members(const seed_options& o, std::ostream& out, std::ostream& err) {
    if (o.members == 0) {
        err << "--members: expected at least 1\n";
        return 2;
    }
    const auto started = clock::now();
    try {
        ledger::ledger_options lo;
        lo.database = o.database;
        lo.synchronous_full = false;
        lo.program_activated_by = "cli";
        lo.max_batch = o.batch;
        lo.max_queue = 4 * o.batch;
        ledger::ledger book(lo, o.program);
        const std::size_t window = 2 * o.batch; // one batch committing, the next one queued

        tally members =
            submit_all(o.members, window, "members", err, ledger::error_code::already_exists,
                       [&](std::uint64_t i, ledger::ledger::write_callback done) {
                           const std::string id = o.prefix + std::to_string(o.start + i);
                           ledger::request_context who;
                           who.actor = "cli";
                           who.request_id = "seed-" + id;
                           ledger::enrollment_request r;
                           r.member_id = id;
                           r.name = "Member " + std::to_string(o.start + i);
                           r.email = id + "@example.com";
                           book.enroll_async(std::move(who), std::move(r), std::move(done));
                       });
        if (members.failed != 0) {
            err << "seed: " << members.failed
                << " enrollment(s) failed, the first: " << members.first_failure << "\n";
            return 1;
        }

        // After every enrollment, so that no purchase is older than its member.
        const auto bought_at =
            std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
        tally purchases = submit_all(
            o.purchases, window, "purchases", err, ledger::error_code::idempotency_conflict,
            [&](std::uint64_t i, ledger::ledger::write_callback done) {
                const std::string member = o.prefix + std::to_string(o.start + mix(i) % o.members);
                ledger::request_context who;
                who.actor = "cli";
                who.request_id = "seed-purchase-" + std::to_string(i);
                book.post_purchase_async(std::move(who),
                                         basket("seed-" + std::to_string(i), member, bought_at),
                                         std::move(done));
            });
        if (purchases.failed != 0) {
            err << "seed: " << purchases.failed
                << " purchase(s) failed, the first: " << purchases.first_failure << "\n";
            return 1;
        }

        double seconds = std::chrono::duration<double>(clock::now() - started).count();
        out << "seeded " << members.written << " member(s) (" << members.existing
            << " already enrolled)";
        if (o.purchases != 0) {
            out << " and " << purchases.written << " purchase(s) (" << purchases.existing
                << " already posted)";
        }
        out << " into " << o.database << " in " << seconds << " s, "
            << static_cast<double>(o.members + o.purchases) / seconds << " writes per second\n";
        // The ledger's destructor finishes the writes and checkpoints the WAL into the file.
    } catch (const std::exception& e) {
        err << "loyalty seed: " << e.what() << "\n";
        return 1;
    }
    return 0;
}

} // namespace loyalty::cli
