// The ledger under concurrent writers: the same purchases posted from many threads at once are
// stored once, answered identically, and leave exactly the state a serial run in the writer's
// order leaves; concurrent redemptions never spend the same points twice.

#include "loyalty/engine/event_json.hpp"
#include "loyalty/engine/local_time.hpp"
#include "loyalty/ledger/ledger.hpp"
#include "loyalty/ledger/maintenance.hpp"
#include "support/ledger_calls.hpp"
#include "support/row_count.hpp"
#include "support/sample_program.hpp"
#include "support/temp_dir.hpp"
#include "support/times.hpp"

#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <map>
#include <numeric>
#include <random>
#include <set>
#include <sqlite3.h>
#include <thread>

using namespace loyalty;
using namespace loyalty::ledger;
using engine::money_t;
using engine::points_t;
using engine::timestamp;

using loyalty::test::at;
using loyalty::test::count;
using loyalty::test::pos;

namespace {

constexpr int thread_count = 8;
constexpr int member_count = 50;
constexpr int purchase_count = 1000;

// Every write of both runs happens at this instant, so that an outcome depends only on the
// member's state and the event, never on when the writer got to it.
timestamp fixed_now() {
    static const timestamp now = at("2026-11-23T15:00:00Z");
    return now;
}

ledger_options options(const std::filesystem::path& database) {
    ledger_options o;
    o.database = database;
    o.batch_window = std::chrono::microseconds{200};
    // synchronous=NORMAL only changes when WAL frames reach the disk, which matters on power
    // loss; what this file tests (one writer, batches, idempotency, isolation between requests
    // of a batch) runs the same code either way. The crash test keeps FULL.
    o.synchronous_full = false;
    o.clock = [] {
        return fixed_now();
    };
    return o;
}

std::string member_name(int n) {
    return "m-" + std::string(n < 10 ? "0" : "") + std::to_string(n);
}

// 1,000 mixed baskets from a fixed seed, over two calendar months and several weeks so that
// the monthly big-basket limit, the weekly app limit, Double Tuesdays and Gold rates all apply,
// and their outcome depends on the order in which a member's purchases arrive.
std::vector<engine::purchase> purchases() {
    static const char* const categories[] = {"coffee", "bakery", "tea", "merch", "gift_card"};
    std::mt19937 rng(20261123);
    auto pick = [&](int lo, int hi) {
        return std::uniform_int_distribution<int>(lo, hi)(rng);
    };
    std::vector<engine::purchase> all;
    for (int i = 0; i < purchase_count; ++i) {
        engine::purchase p;
        p.transaction_id = "t-" + std::to_string(10000 + i);
        p.member_id = member_name(pick(0, member_count - 1));
        p.store_id = "s-" + std::to_string(pick(1, 3));
        p.channel = pick(0, 3) == 0 ? "app" : "store";
        p.currency = "USD";
        p.occurred_at = fixed_now() - std::chrono::seconds(pick(60, 45 * 24 * 3600));
        int lines = pick(1, 3);
        for (int l = 0; l < lines; ++l) {
            std::string category = categories[pick(0, 4)];
            std::int64_t quantity = pick(1, 4);
            money_t price = pick(150, 2500);
            money_t discount = pick(0, 4) == 0 ? pick(0, static_cast<int>(price) / 2) : 0;
            p.lines.push_back({std::to_string(l + 1),
                               "SKU-" + category,
                               category,
                               quantity,
                               price,
                               discount,
                               {}});
        }
        all.push_back(std::move(p));
    }
    return all;
}

void enroll_members(class ledger& l) {
    for (int n = 0; n < member_count; ++n) {
        REQUIRE(l.enroll(pos(),
                         {member_name(n), std::nullopt, std::nullopt, std::nullopt, std::nullopt}));
    }
}

// Rows of a query, read straight from the file with a connection of its own.
std::vector<std::vector<std::string>> rows(const std::filesystem::path& database,
                                           const std::string& sql) {
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open_v2(database.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK);
    sqlite3_stmt* s = nullptr;
    REQUIRE(sqlite3_prepare_v2(db, sql.c_str(), -1, &s, nullptr) == SQLITE_OK);
    std::vector<std::vector<std::string>> out;
    int rc = SQLITE_OK;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        std::vector<std::string> row;
        for (int c = 0; c < sqlite3_column_count(s); ++c) {
            auto text = sqlite3_column_text(s, c);
            row.emplace_back(text != nullptr ? reinterpret_cast<const char*>(text) : "NULL");
        }
        out.push_back(std::move(row));
    }
    CHECK(rc == SQLITE_DONE);
    sqlite3_finalize(s);
    sqlite3_close(db);
    return out;
}

// What a member's numbers are, to compare two databases member by member.
struct member_numbers {
    points_t available = 0;
    points_t pending = 0;
    points_t lifetime_points = 0;
    std::int64_t lifetime_purchases = 0;
    money_t lifetime_spend = 0;
    std::string tier;
    std::int64_t metric = 0;
    std::int64_t revision = 0;

    bool operator==(const member_numbers&) const = default;
};

member_numbers numbers(const class ledger& l, const std::string& id) {
    auto v = l.member(id, fixed_now());
    REQUIRE(v);
    return {v->balance.available, v->balance.pending, v->lifetime_points, v->lifetime_purchases,
            v->lifetime_spend,    v->tier.tier,       v->metric,          v->revision};
}

} // namespace

namespace Catch {
template <>
struct StringMaker<member_numbers> {
    static std::string convert(const member_numbers& n) {
        return "{available " + std::to_string(n.available) + ", pending " +
               std::to_string(n.pending) + ", lifetime " + std::to_string(n.lifetime_points) +
               " points / " + std::to_string(n.lifetime_purchases) + " purchases / " +
               std::to_string(n.lifetime_spend) + " spent, " + n.tier + " at " +
               std::to_string(n.metric) + ", revision " + std::to_string(n.revision) + "}";
    }
};
} // namespace Catch

TEST_CASE("purchases posted by many threads at once are stored once and serialize",
          "[concurrency]") {
    test::temp_dir dir;
    const auto all = purchases();
    std::map<std::string, std::size_t> index_of;
    for (std::size_t i = 0; i < all.size(); ++i) {
        index_of[all[i].transaction_id] = i;
    }
    REQUIRE(index_of.size() == all.size());

    // Every thread posts every purchase, each in its own order.
    const auto concurrent_db = dir / "concurrent.db";
    std::vector<std::vector<result<write_result>>> answers(thread_count);
    {
        class ledger l(options(concurrent_db), test::sample_path());
        enroll_members(l);
        std::vector<std::thread> threads;
        for (int t = 0; t < thread_count; ++t) {
            threads.emplace_back([&, t] {
                std::vector<std::size_t> order(all.size());
                std::iota(order.begin(), order.end(), 0);
                std::shuffle(order.begin(), order.end(), std::mt19937(1000 + t));
                auto& mine = answers[t];
                mine.assign(all.size(), tl::unexpected(error{}));
                for (std::size_t i : order) {
                    mine[i] = l.post_purchase(pos(), all[i]);
                }
            });
        }
        for (auto& th : threads) {
            th.join();
        }
        auto stats = l.stats();
        INFO("batches " << stats.batches << " for " << stats.requests << " requests");
        CHECK(stats.batches < stats.requests); // requests did share batches
        // The log syncer acknowledged every committed batch, each after a flush of its own or
        // one shared with the batches committed while the previous flush ran.
        CHECK(stats.log_flushes >= 1);
        CHECK(stats.log_flushes <= stats.batches);
    }

    // One original per purchase; the seven others replay its bytes.
    int originals = 0;
    for (std::size_t i = 0; i < all.size(); ++i) {
        INFO("purchase " << all[i].transaction_id);
        int originals_of_this = 0;
        for (int t = 0; t < thread_count; ++t) {
            const auto& a = answers[t][i];
            REQUIRE(a);
            CHECK(a->status == 201);
            CHECK(a->body == answers[0][i]->body);
            originals_of_this += a->replayed ? 0 : 1;
        }
        CHECK(originals_of_this == 1);
        originals += originals_of_this;
    }
    CHECK(originals == purchase_count);
    CHECK(count(concurrent_db, "purchases") == purchase_count);
    CHECK(count(concurrent_db, "operations WHERE kind = 'purchase'") == purchase_count);
    CHECK(count(concurrent_db, "idempotency_keys WHERE key LIKE 'purchase %'") == purchase_count);
    CHECK(verify_database(concurrent_db).empty());

    // The same purchases, one at a time, in the order the writer applied them.
    const auto applied = rows(concurrent_db, "SELECT request FROM operations"
                                             " WHERE kind = 'purchase' ORDER BY id");
    REQUIRE(applied.size() == all.size());
    const auto serial_db = dir / "serial.db";
    {
        class ledger serial(options(serial_db), test::sample_path());
        enroll_members(serial);
        for (const auto& row : applied) {
            auto request = nlohmann::json::parse(row[0]);
            std::size_t i = index_of.at(request.at("transaction_id").get<std::string>());
            INFO("purchase " << all[i].transaction_id);
            auto answer = serial.post_purchase(pos(), all[i]);
            REQUIRE(answer);
            CHECK_FALSE(answer->replayed);
            // Outcomes depend on the member's earlier purchases (limits, first purchase, Gold
            // rates): the same order must give the same answer, byte for byte.
            CHECK(answer->body == answers[0][i]->body);
        }

        class ledger concurrent(options(concurrent_db));
        for (int n = 0; n < member_count; ++n) {
            INFO("member " << member_name(n));
            CHECK(numbers(concurrent, member_name(n)) == numbers(serial, member_name(n)));
        }
    }
    // The order did matter: some members reached Gold part-way, and some baskets found the
    // monthly big-basket bonus already used.
    CHECK(count(serial_db, "members WHERE tier <> 'green'") > 0);
    // (big_basket is the only rule limited to once a period.)
    CHECK(count(serial_db, "operations WHERE kind = 'purchase'"
                           " AND outcome LIKE '%limit reached: 1 per calendar_month%'") > 0);

    // Not only the numbers: the stored member states and ledger entries are the same.
    const std::string states = "SELECT id, tier, state, revision FROM members ORDER BY id";
    CHECK(rows(concurrent_db, states) == rows(serial_db, states));
    const std::string entries = "SELECT member_id, operation_id, kind, points, lot_id, pending,"
                                " cause FROM ledger_entries ORDER BY member_id, id";
    CHECK(rows(concurrent_db, entries) == rows(serial_db, entries));
    CHECK(verify_database(serial_db).empty());
}

TEST_CASE("concurrent redemptions never spend the same points twice", "[concurrency]") {
    test::temp_dir dir;
    const auto database = dir / "loyalty.db";
    class ledger l(options(database), test::sample_path());
    REQUIRE(l.enroll(pos(), {"m-1", std::nullopt, std::nullopt, std::nullopt, std::nullopt}));
    engine::adjustment credit{"a-1", 75, "goodwill", "to 100 with the joining 25", "", {}};
    REQUIRE(l.adjust(pos(), "m-1", credit));
    REQUIRE(l.member("m-1", fixed_now())->balance.available == 100);

    constexpr int attempts_per_thread = 20;
    std::vector<std::vector<result<write_result>>> answers(thread_count);
    std::atomic<bool> racing{true};
    std::atomic<points_t> lowest{100};
    std::atomic<int> failed_reads{0};
    // A reader watches the balance on its snapshots while the redemptions race.
    std::thread watcher([&] {
        while (racing) {
            auto v = l.member("m-1", fixed_now());
            if (!v) {
                ++failed_reads;
                continue;
            }
            points_t seen = v->balance.available;
            points_t low = lowest;
            while (seen < low && !lowest.compare_exchange_weak(low, seen)) {
            }
        }
    });
    std::vector<std::thread> threads;
    for (int t = 0; t < thread_count; ++t) {
        threads.emplace_back([&, t] {
            for (int k = 0; k < attempts_per_thread; ++k) {
                std::string id = "r-" + std::to_string(t) + "-" + std::to_string(k);
                answers[t].push_back(
                    l.redeem_reward(pos(), "m-1", {id, "espresso_shot", fixed_now()}));
            }
        });
    }
    for (auto& th : threads) {
        th.join();
    }
    racing = false;
    watcher.join();
    auto stats = l.stats();
    INFO("batches " << stats.batches << " for " << stats.requests << " requests");
    CHECK(stats.batches < stats.requests); // redemptions did share batches

    int redeemed = 0;
    int refused = 0;
    for (const auto& mine : answers) {
        for (const auto& a : mine) {
            if (a) {
                ++redeemed;
                CHECK_FALSE(a->replayed);
                continue;
            }
            CHECK(a.error().code == error_code::rejected);
            CHECK(a.error().rejection == engine::rejection_code::insufficient_points);
            ++refused;
        }
    }
    CHECK(redeemed == 4);
    CHECK(refused == thread_count * attempts_per_thread - 4);
    CHECK(failed_reads == 0);
    CHECK(lowest >= 0);
    auto v = l.member("m-1", fixed_now());
    REQUIRE(v);
    CHECK(v->balance.available == 0);
    CHECK(v->balance.pending == 0);
    CHECK(count(database, "redemptions") == 4);
    CHECK(count(database, "ledger_entries WHERE kind = 'burn'") >= 4);
    CHECK(rows(database, "SELECT SUM(points) FROM ledger_entries WHERE kind = 'burn'")[0][0] ==
          "-100");
    CHECK(count(database, "lots WHERE remaining < 0") == 0);
    CHECK(verify_database(database).empty());
}

TEST_CASE("programs activated while purchases flow are each a batch of their own",
          "[concurrency]") {
    // An activation changes every member's row, so the writer runs it alone, with its journal
    // in a file (writer.hpp): the batches before and after it must still take every request.
    test::temp_dir dir;
    const auto db = dir / "activations.db";
    const auto all = purchases();
    const std::string v2 =
        test::sample_text_with("rate: {points: 2, per: 100}", "rate: {points: 3, per: 100}");
    std::vector<result<write_result>> answers(all.size(), tl::unexpected(error{}));
    std::vector<std::string> activated;
    {
        class ledger l(options(db), test::sample_path());
        enroll_members(l);
        std::vector<std::thread> threads;
        for (int t = 0; t < 4; ++t) {
            threads.emplace_back([&, t] {
                for (std::size_t i = static_cast<std::size_t>(t); i < all.size(); i += 4) {
                    answers[i] = l.post_purchase(pos(), all[i]);
                }
            });
        }
        for (int n = 0; n < 20; ++n) {
            auto v = l.activate_program({}, n % 2 == 0 ? v2 : test::sample_text(), "p.yaml");
            REQUIRE(v);
            activated.push_back(v->content_hash);
        }
        for (auto& th : threads) {
            th.join();
        }
    }
    std::set<std::string> versions(activated.begin(), activated.end());
    REQUIRE(versions.size() == 2);
    std::set<std::string> used;
    for (std::size_t i = 0; i < all.size(); ++i) {
        INFO("purchase " << all[i].transaction_id);
        REQUIRE(answers[i]);
        CHECK(answers[i]->status == 201);
        std::string version = nlohmann::json::parse(answers[i]->body).at("program_version");
        used.insert(version);
    }
    // Purchases were answered under both versions, and the answers were all stored.
    CHECK(used.size() == 2);
    CHECK(count(db, "operations WHERE kind = 'purchase'") == purchase_count);
    CHECK(count(db, "audit_log WHERE action = 'activate_program'") == 21); // and at start-up
    CHECK(verify_database(db).empty());
}
