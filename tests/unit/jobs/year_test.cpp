// A year and a half of the sample program (config/program.yaml, America/New_York) through the real
// ledger on a SQLite file, with a clock the test moves: members earn, pending points mature after
// 14 days, tiers are reached, birthday drinks are granted, lots expire at the end of the sixth
// local month, statuses end and are reassessed, and Reserve keeps lots from expiring. The jobs
// run at every local midnight and at the exact instant of every effect, twice each time: the
// second run must find nothing (exactly once), and nothing may happen at any other midnight.

#include "loyalty/engine/event_json.hpp"
#include "loyalty/engine/local_time.hpp"
#include "loyalty/ledger/ledger.hpp"
#include "loyalty/ledger/maintenance.hpp"
#include "support/ledger_calls.hpp"
#include "support/sample_program.hpp"
#include "support/temp_dir.hpp"
#include "support/times.hpp"
#include "support/timestamp_text.hpp"

#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <fstream>
#include <sqlite3.h>

using namespace loyalty;
using namespace loyalty::ledger;
using engine::money_t;
using engine::points_t;
using engine::timestamp;

using loyalty::test::at;
using loyalty::test::describe;
using loyalty::test::pos;

namespace {

// A ledger on a fresh file and a clock that only moves forward. `walk_to` runs the jobs at every
// local midnight on the way (when birthday checks fall due) and then at the target instant.
class year {
public:
    explicit year(const std::string& program_file = test::sample_path()) {
        ledger_options o;
        o.database = dir_ / "loyalty.db";
        o.batch_window = std::chrono::microseconds{100};
        // Crash safety is not under test here; hundreds of commits should not each wait for a
        // disk flush.
        o.synchronous_full = false;
        auto c = clock_;
        o.clock = [c] {
            return timestamp(std::chrono::seconds(c->load()));
        };
        book_ = std::make_unique<class ledger>(o, program_file);
        zone_ = book_->active_program().program->time_zone;
    }

    class ledger& book() {
        return *book_;
    }
    timestamp now() const { return timestamp(std::chrono::seconds(clock_->load())); }
    const std::filesystem::path& folder() const { return dir_.path(); }

    // Runs the jobs at `t` twice: the second run must change nothing. Returns how many members
    // the first run changed.
    std::size_t run(timestamp t) {
        REQUIRE(t >= now());
        *clock_ = t.time_since_epoch().count();
        auto first = book_->run_due(t, 2);
        REQUIRE(first);
        auto second = book_->run_due(t, 2);
        REQUIRE(second);
        INFO("jobs at " << engine::format_rfc3339(t));
        CHECK(*second == 0);
        return *first;
    }

    // Every local midnight after now and before `target` changes nothing; then the jobs run at
    // `target`, and the database verifies. Returns the members changed at `target`.
    std::size_t walk_to(timestamp target) {
        for (timestamp tick = engine::end_of_local_day(zone_, now()); tick < target;
             tick = engine::end_of_local_day(zone_, tick)) {
            INFO("local midnight " << engine::format_rfc3339(tick));
            CHECK(run(tick) == 0);
        }
        std::size_t changed = run(target);
        auto found = verify_database(dir_ / "loyalty.db");
        INFO(describe(found));
        CHECK(found.empty());
        return changed;
    }

    void enroll(const std::string& id, std::optional<date::year_month_day> birthday) {
        REQUIRE(book_->enroll(pos(), {id, id, std::nullopt, birthday, std::nullopt}));
    }

    // A basket of coffee, posted now: 2 leaves per $1 for Green, 3 for Gold, 4 for Reserve, +50
    // for the first basket of $30 or more in the month. None of the dates used is a Tuesday.
    nlohmann::json buy(const std::string& transaction, const std::string& member, money_t price) {
        engine::purchase p;
        p.transaction_id = transaction;
        p.member_id = member;
        p.store_id = "s-1";
        p.channel = "store";
        p.currency = "USD";
        p.occurred_at = now();
        p.lines.push_back({"1", "LATTE", "coffee", 1, price, 0, {}});
        auto r = book_->post_purchase(pos(), p);
        REQUIRE(r);
        return nlohmann::json::parse(r->body);
    }

    member_view view(const std::string& id) { return view(id, now()); }
    member_view view(const std::string& id, timestamp t) {
        auto v = book_->member(id, t);
        REQUIRE(v);
        return *v;
    }

    // The member's ledger entries, oldest first.
    std::vector<activity_entry> entries(const std::string& id) {
        auto page = book_->activity(id, 10'000, std::nullopt);
        REQUIRE(page);
        std::vector<activity_entry> out = page->entries;
        std::reverse(out.begin(), out.end());
        return out;
    }

    // The entries written by the jobs, one line each: when, kind, points, lot, cause and the
    // explanation a member sees.
    std::vector<std::string> time_entries(const std::string& id) {
        std::vector<std::string> out;
        for (const activity_entry& e : entries(id)) {
            if (e.operation == "time") {
                out.push_back(engine::format_rfc3339(e.at) + " " + engine::to_string(e.kind) + " " +
                              std::to_string(e.points) + " lot " +
                              std::to_string(e.lot_id.value_or(0)) + " " + e.cause + ": " +
                              e.explanation);
            }
        }
        return out;
    }

    // Usable vouchers, as "reward cause valid_until".
    std::vector<std::string> vouchers(const std::string& id, timestamp t) {
        std::vector<std::string> out;
        for (const engine::voucher& v : view(id, t).vouchers) {
            out.push_back(v.reward_id + " " + v.cause + " " +
                          engine::format_rfc3339(v.valid_until));
        }
        return out;
    }

    // Every voucher ever issued to the member, usable or not.
    std::int64_t vouchers_issued(const std::string& id, const std::string& cause) {
        return count("SELECT COUNT(*) FROM vouchers WHERE member_id = '" + id + "' AND cause = '" +
                     cause + "'");
    }

    // When the jobs next visit the member (members.due_at), read straight from the file.
    std::string due_at(const std::string& id) {
        sqlite3* db = nullptr;
        REQUIRE(sqlite3_open_v2((dir_ / "loyalty.db").c_str(), &db, SQLITE_OPEN_READONLY,
                                nullptr) == SQLITE_OK);
        sqlite3_stmt* s = nullptr;
        REQUIRE(sqlite3_prepare_v2(db, "SELECT due_at FROM members WHERE id = ?", -1, &s,
                                   nullptr) == SQLITE_OK);
        sqlite3_bind_text(s, 1, id.c_str(), -1, SQLITE_TRANSIENT);
        REQUIRE(sqlite3_step(s) == SQLITE_ROW);
        const unsigned char* text = sqlite3_column_text(s, 0);
        std::string out = text ? reinterpret_cast<const char*>(text) : "null";
        sqlite3_finalize(s);
        sqlite3_close(db);
        return out;
    }

    std::int64_t count(const std::string& sql) {
        sqlite3* db = nullptr;
        REQUIRE(sqlite3_open_v2((dir_ / "loyalty.db").c_str(), &db, SQLITE_OPEN_READONLY,
                                nullptr) == SQLITE_OK);
        sqlite3_stmt* s = nullptr;
        REQUIRE(sqlite3_prepare_v2(db, sql.c_str(), -1, &s, nullptr) == SQLITE_OK);
        REQUIRE(sqlite3_step(s) == SQLITE_ROW);
        std::int64_t n = sqlite3_column_int64(s, 0);
        sqlite3_finalize(s);
        sqlite3_close(db);
        return n;
    }

private:
    test::temp_dir dir_;
    std::shared_ptr<std::atomic<std::int64_t>> clock_ = std::make_shared<std::atomic<std::int64_t>>(
        at("2026-01-01T12:00:00Z").time_since_epoch().count());
    std::unique_ptr<class ledger> book_;
    const date::time_zone* zone_ = nullptr;
};

std::string rfc(const std::optional<timestamp>& t) {
    return t ? engine::format_rfc3339(*t) : "never";
}

} // namespace

using namespace date::literals;

TEST_CASE("a year and a half of the sample program, exactly once, across DST", "[year]") {
    year y;
    // ada: born in November, Gold in April, lots expiring month by month, a birthday drink on
    // the day New York leaves daylight saving, Gold again after 12 months.
    // ben: Reserve from June, whose lots do not expire until the status ends.
    // cleo: born on 29 February, Gold from January, a birthday drink every February.

    // --- January and February 2026: enrolment, Gold at once for cleo, her birthday month.
    y.walk_to(at("2026-01-05T15:00:00Z"));
    y.enroll("ada", 1990_y / 11 / 20);
    CHECK(y.view("ada").balance.available == 25);

    y.walk_to(at("2026-01-10T15:00:00Z")); // Saturday 10:00 EST
    y.enroll("cleo", 2000_y / 2 / 29);
    y.walk_to(at("2026-01-11T15:00:00Z"));
    auto c1 = y.buy("c-1", "cleo", 25000);
    CHECK(c1["points"]["earned"] == 550); // 500 base + 50 big basket
    CHECK(c1["tier"]["after"] == "gold");
    auto cleo = y.view("cleo");
    CHECK(cleo.tier.tier == "gold");
    CHECK(rfc(cleo.tier.valid_until) == "2027-01-11T15:00:00Z");
    CHECK(cleo.balance.pending == 550);
    CHECK(y.vouchers("cleo", y.now()) ==
          std::vector<std::string>{"handcrafted_drink gold_welcome 2026-02-10T15:00:00Z"});

    y.walk_to(at("2026-01-25T14:59:00Z"));
    CHECK(y.view("cleo").balance.pending == 550);
    CHECK(y.walk_to(at("2026-01-25T15:00:00Z")) == 1);
    CHECK(y.view("cleo").balance.available == 575);

    // February begins at midnight EST: the birthday drink, once, whatever the runs.
    y.walk_to(at("2026-02-01T04:59:59Z"));
    CHECK(y.vouchers_issued("cleo", "birthday_drink") == 0);
    CHECK(y.walk_to(at("2026-02-01T05:00:00Z")) == 1);
    CHECK(y.vouchers_issued("cleo", "birthday_drink") == 1);
    CHECK(y.vouchers("cleo", y.now()) ==
          std::vector<std::string>{"handcrafted_drink gold_welcome 2026-02-10T15:00:00Z",
                                   "handcrafted_drink birthday_drink 2026-03-01T05:00:00Z"});

    y.walk_to(at("2026-02-02T17:00:00Z"));
    y.enroll("ben", std::nullopt);
    y.walk_to(at("2026-02-08T17:00:00Z"));
    CHECK(y.buy("b-1", "ben", 20000)["points"]["earned"] == 450);
    CHECK(y.view("ben").tier.tier == "green");
    y.walk_to(at("2026-02-22T16:59:00Z"));
    CHECK(y.walk_to(at("2026-02-22T17:00:00Z")) == 1);
    CHECK(y.view("ben").balance.available == 475);
    y.walk_to(at("2026-02-28T17:00:00Z"));
    CHECK(y.vouchers_issued("cleo", "birthday_drink") == 1);

    // --- March: a purchase at 23:30 EST on 1 March matures 14 x 24 hours later, which New York
    // reads as 00:30 EDT on 16 March since the clocks went forward on the 8th.
    y.walk_to(at("2026-03-02T04:30:00Z"));
    auto a1 = y.buy("a-1", "ada", 6000);
    CHECK(a1["points"]["earned"] == 170); // 120 base + 50 big basket
    CHECK(a1["points"]["available_from"] == "2026-03-16T04:30:00Z");
    // The daily birthday check moves with local midnight: 05:00Z before the change, 04:00Z
    // after it.
    y.walk_to(at("2026-03-07T12:00:00Z"));
    CHECK(y.due_at("ada") == "2026-03-08T05:00:00Z");
    y.walk_to(at("2026-03-08T12:00:00Z"));
    CHECK(y.due_at("ada") == "2026-03-09T04:00:00Z");

    y.walk_to(at("2026-03-16T04:29:00Z"));
    auto before = y.view("ada");
    CHECK(before.balance.pending == 170);
    CHECK(before.balance.available == 25);
    CHECK(y.walk_to(at("2026-03-16T04:30:00Z")) == 1);
    auto after = y.view("ada");
    CHECK(after.balance.pending == 0);
    CHECK(after.balance.available == 195);
    CHECK(y.time_entries("ada") ==
          std::vector<std::string>{
              "2026-03-16T04:30:00Z mature 120 lot 2 base: 120 leaves became available (pending "
              "since 2026-03-01)",
              "2026-03-16T04:30:00Z mature 50 lot 3 big_basket: 50 leaves became available "
              "(pending since 2026-03-01)"});

    // --- April: ada reaches Gold (25 + 170 + 350 = 545 qualifying leaves) and gets the welcome
    // drink; her status lasts 12 months.
    y.walk_to(at("2026-04-12T16:00:00Z"));
    auto a2 = y.buy("a-2", "ada", 15000);
    CHECK(a2["points"]["earned"] == 350); // Green rate: the tier is reached by this purchase
    CHECK(a2["tier"]["before"] == "green");
    CHECK(a2["tier"]["after"] == "gold");
    CHECK(a2["tier"]["metric"] == 545);
    auto ada = y.view("ada");
    CHECK(ada.tier.tier == "gold");
    CHECK(rfc(ada.tier.since) == "2026-04-12T16:00:00Z");
    CHECK(rfc(ada.tier.valid_until) == "2027-04-12T16:00:00Z");
    CHECK(y.vouchers("ada", y.now()) ==
          std::vector<std::string>{"handcrafted_drink gold_welcome 2026-05-12T16:00:00Z"});
    CHECK(y.walk_to(at("2026-04-26T16:00:00Z")) == 1);
    CHECK(y.view("ada").balance.available == 545);

    // --- June: ben jumps to Reserve (475 + 2,250), passing Gold on the way. His lots stop
    // expiring: those that would expire before the status ends now expire with it.
    y.walk_to(at("2026-06-14T16:00:00Z"));
    auto b2 = y.buy("b-2", "ben", 110000);
    CHECK(b2["points"]["earned"] == 2250);
    CHECK(b2["tier"]["after"] == "reserve");
    auto ben = y.view("ben");
    CHECK(rfc(ben.tier.valid_until) == "2027-06-14T16:00:00Z");
    CHECK(y.vouchers_issued("ben", "gold_welcome") == 1);
    CHECK(rfc(ben.next_expiry) == "2027-06-14T16:00:00Z");
    // Both his lots: the 475 available and the 2,250 still pending, which expire with them.
    CHECK(ben.next_expiring_points == std::optional<points_t>(475 + 2250));
    CHECK(y.walk_to(at("2026-06-28T16:00:00Z")) == 1);
    CHECK(y.view("ben").balance.available == 2725);

    // --- 1 August 04:00Z, midnight EDT: the January lots of ada and cleo expire; not a second
    // earlier.
    y.walk_to(at("2026-08-01T03:59:59Z"));
    CHECK(y.view("ada").balance.available == 545);
    CHECK(y.view("cleo").balance.available == 575);
    CHECK(y.walk_to(at("2026-08-01T04:00:00Z")) == 2);
    CHECK(y.view("ada").balance.available == 520);
    CHECK(y.view("cleo").balance.available == 0);
    CHECK(y.time_entries("cleo") ==
          std::vector<std::string>{
              "2026-01-25T15:00:00Z mature 500 lot 2 base: 500 leaves became available (pending "
              "since 2026-01-11)",
              "2026-01-25T15:00:00Z mature 50 lot 3 big_basket: 50 leaves became available "
              "(pending since 2026-01-11)",
              "2026-08-01T04:00:00Z expire -25 lot 1 enrollment: 25 leaves expired: earned "
              "2026-01, expired 2026-07-31",
              "2026-08-01T04:00:00Z expire -500 lot 2 base: 500 leaves expired: earned 2026-01, "
              "expired 2026-07-31",
              "2026-08-01T04:00:00Z expire -50 lot 3 big_basket: 50 leaves expired: earned "
              "2026-01, expired 2026-07-31"});

    // ben's February lots would have expired now; Reserve keeps them.
    y.walk_to(at("2026-09-01T04:00:00Z"));
    ben = y.view("ben");
    CHECK(ben.balance.available == 2725);
    CHECK(y.time_entries("ben").size() == 4); // the two maturings of February, two of June

    // --- 1 October: ada's March leaves expire at the end of September, New York time.
    y.walk_to(at("2026-10-01T03:59:00Z"));
    CHECK(y.view("ada").balance.available == 520);
    CHECK(y.walk_to(at("2026-10-01T04:00:00Z")) == 1);
    CHECK(y.view("ada").balance.available == 350);

    // --- November: the clocks go back at 02:00 EDT on the 1st. 23:30 EDT on 31 October is an
    // October purchase (03:30Z on 1 November); 01:30 EDT on 1 November is a November one.
    y.walk_to(at("2026-11-01T03:30:00Z"));
    auto a3 = y.buy("a-3", "ada", 1000);
    CHECK(a3["points"]["earned"] == 30); // Gold rate
    CHECK(a3["points"]["available_from"] == "2026-11-15T03:30:00Z");

    // Midnight EDT: the April leaves expire, and November is ada's birthday month: a drink,
    // valid until the end of November (midnight EST).
    y.walk_to(at("2026-11-01T03:59:59Z"));
    CHECK(y.vouchers_issued("ada", "birthday_drink") == 0);
    CHECK(y.view("ada").balance.available == 350);
    CHECK(y.walk_to(at("2026-11-01T04:00:00Z")) == 1);
    CHECK(y.view("ada").balance.available == 0);
    CHECK(y.view("ada").balance.pending == 30);
    CHECK(y.vouchers("ada", y.now()) ==
          std::vector<std::string>{"handcrafted_drink birthday_drink 2026-12-01T05:00:00Z"});
    CHECK(y.due_at("ada") == "2026-11-02T05:00:00Z"); // the next local midnight, now EST

    y.walk_to(at("2026-11-01T05:30:00Z")); // 01:30 EDT, the first of the two
    auto a4 = y.buy("a-4", "ada", 1000);
    CHECK(a4["points"]["available_from"] == "2026-11-15T05:30:00Z");

    // Pending is 14 x 24 hours: across the change, 22:30 EST on 14 November and 00:30 EST on the
    // 15th, an hour earlier on the wall clock than the purchases were made.
    y.walk_to(at("2026-11-15T03:29:00Z"));
    CHECK(y.view("ada").balance.pending == 60);
    CHECK(y.walk_to(at("2026-11-15T03:30:00Z")) == 1);
    CHECK(y.view("ada").balance.available == 30);
    y.walk_to(at("2026-11-15T05:29:00Z"));
    CHECK(y.view("ada").balance.pending == 30);
    CHECK(y.walk_to(at("2026-11-15T05:30:00Z")) == 1);
    CHECK(y.view("ada").balance.available == 60);

    // On the birthday itself, and however often the jobs run in November: no second drink.
    for (const char* t : {"2026-11-20T05:00:00Z", "2026-11-20T17:00:00Z", "2026-11-30T23:00:00Z"}) {
        CHECK(y.walk_to(at(t)) == 0);
    }
    CHECK(y.vouchers_issued("ada", "birthday_drink") == 1);
    CHECK(y.vouchers("ada", at("2026-12-01T04:59:59Z")).size() == 1);
    CHECK(y.vouchers("ada", at("2026-12-01T05:00:00Z")).empty());

    // --- December and January: cleo keeps Gold by buying again; so does ada.
    y.walk_to(at("2026-12-06T17:00:00Z"));
    CHECK(y.buy("c-2", "cleo", 20000)["points"]["earned"] == 650);
    CHECK(y.walk_to(at("2026-12-20T17:00:00Z")) == 1);
    // ben's June lots would have expired at the end of December: Reserve keeps them.
    CHECK(y.walk_to(at("2027-01-01T05:00:00Z")) == 0);
    CHECK(y.view("ben").balance.available == 2725);

    y.walk_to(at("2027-01-10T17:00:00Z"));
    CHECK(y.buy("a-5", "ada", 15000)["points"]["earned"] == 500);

    // cleo's status ends after 12 months and is reassessed on the 12 months before that
    // instant: c-1 (exactly 12 months earlier) is out, c-2 (650) supports Gold again.
    y.walk_to(at("2027-01-11T14:59:59Z"));
    CHECK(rfc(y.view("cleo").tier.valid_until) == "2027-01-11T15:00:00Z");
    CHECK(y.walk_to(at("2027-01-11T15:00:00Z")) == 1);
    cleo = y.view("cleo");
    CHECK(cleo.tier.tier == "gold");
    CHECK(rfc(cleo.tier.since) == "2027-01-11T15:00:00Z");
    CHECK(rfc(cleo.tier.valid_until) == "2028-01-11T15:00:00Z");
    CHECK(cleo.metric == 650);
    CHECK(y.vouchers_issued("cleo", "gold_welcome") == 1); // renewing is not entering

    CHECK(y.walk_to(at("2027-01-24T17:00:00Z")) == 1);
    CHECK(y.view("ada").balance.available == 560);

    // --- February 2027 has no 29th: cleo's birthday month is still February.
    y.walk_to(at("2027-02-01T04:59:59Z"));
    CHECK(y.vouchers_issued("cleo", "birthday_drink") == 1);
    CHECK(y.walk_to(at("2027-02-01T05:00:00Z")) == 1);
    CHECK(y.vouchers_issued("cleo", "birthday_drink") == 2);
    CHECK(y.vouchers("cleo", y.now()) ==
          std::vector<std::string>{"handcrafted_drink birthday_drink 2027-03-01T05:00:00Z"});
    y.walk_to(at("2027-03-01T05:00:00Z"));
    CHECK(y.vouchers_issued("cleo", "birthday_drink") == 2);

    // --- March 2027: ben buys at Reserve rates a week before the clocks go forward (14 March);
    // the leaves mature at 13:00 EDT, 14 x 24 hours after 12:00 EST.
    y.walk_to(at("2027-03-07T17:00:00Z"));
    auto b3 = y.buy("b-3", "ben", 30000);
    CHECK(b3["points"]["earned"] == 1250); // 1,200 at 4 per $1 + 50
    CHECK(b3["points"]["available_from"] == "2027-03-21T17:00:00Z");
    y.walk_to(at("2027-03-21T16:59:59Z"));
    CHECK(y.view("ben").balance.pending == 1250);
    CHECK(y.walk_to(at("2027-03-21T17:00:00Z")) == 1);
    CHECK(y.view("ben").balance.available == 3975);

    // --- April 2027: ada's Gold ends and is reassessed: a-3, a-4 and a-5 (560) support Gold.
    y.walk_to(at("2027-04-12T15:59:59Z"));
    CHECK(rfc(y.view("ada").tier.valid_until) == "2027-04-12T16:00:00Z");
    CHECK(y.walk_to(at("2027-04-12T16:00:00Z")) == 1);
    ada = y.view("ada");
    CHECK(ada.tier.tier == "gold");
    CHECK(rfc(ada.tier.since) == "2027-04-12T16:00:00Z");
    CHECK(rfc(ada.tier.valid_until) == "2028-04-12T16:00:00Z");
    CHECK(ada.metric == 560);

    y.walk_to(at("2027-05-01T03:59:59Z"));
    CHECK(y.walk_to(at("2027-05-01T04:00:00Z")) == 1);
    CHECK(y.walk_to(at("2027-06-01T04:00:00Z")) == 1);
    CHECK(y.view("ada").balance.available == 500);

    // --- June 2027: ben's Reserve ends. b-3 (1,250) supports Gold; every lot Reserve had kept
    // expires at that instant, and the lots of March 2027 keep their own date.
    y.walk_to(at("2027-06-14T15:59:59Z"));
    CHECK(y.view("ben").tier.tier == "reserve");
    CHECK(y.view("ben").balance.available == 3975);
    CHECK(y.walk_to(at("2027-06-14T16:00:00Z")) == 1);
    ben = y.view("ben");
    CHECK(ben.tier.tier == "gold");
    CHECK(rfc(ben.tier.valid_until) == "2028-06-14T16:00:00Z");
    CHECK(ben.balance.available == 1250);
    CHECK(rfc(ben.next_expiry) == "2027-10-01T04:00:00Z");
    CHECK(y.vouchers_issued("ben", "gold_welcome") == 1); // moving down into Gold is not a welcome

    CHECK(y.walk_to(at("2027-07-01T04:00:00Z")) == 1);
    CHECK(y.view("cleo").balance.available == 0);

    // --- The whole story, as each member sees it in the activity.
    CHECK(y.time_entries("ada") ==
          std::vector<std::string>{
              "2026-03-16T04:30:00Z mature 120 lot 2 base: 120 leaves became available (pending "
              "since 2026-03-01)",
              "2026-03-16T04:30:00Z mature 50 lot 3 big_basket: 50 leaves became available "
              "(pending since 2026-03-01)",
              "2026-04-26T16:00:00Z mature 300 lot 4 base: 300 leaves became available (pending "
              "since 2026-04-12)",
              "2026-04-26T16:00:00Z mature 50 lot 5 big_basket: 50 leaves became available "
              "(pending since 2026-04-12)",
              "2026-08-01T04:00:00Z expire -25 lot 1 enrollment: 25 leaves expired: earned "
              "2026-01, expired 2026-07-31",
              "2026-10-01T04:00:00Z expire -120 lot 2 base: 120 leaves expired: earned 2026-03, "
              "expired 2026-09-30",
              "2026-10-01T04:00:00Z expire -50 lot 3 big_basket: 50 leaves expired: earned "
              "2026-03, expired 2026-09-30",
              "2026-11-01T04:00:00Z expire -300 lot 4 base: 300 leaves expired: earned 2026-04, "
              "expired 2026-10-31",
              "2026-11-01T04:00:00Z expire -50 lot 5 big_basket: 50 leaves expired: earned "
              "2026-04, expired 2026-10-31",
              "2026-11-15T03:30:00Z mature 30 lot 6 base: 30 leaves became available (pending "
              "since 2026-10-31)",
              "2026-11-15T05:30:00Z mature 30 lot 7 base: 30 leaves became available (pending "
              "since 2026-11-01)",
              "2027-01-24T17:00:00Z mature 450 lot 8 base: 450 leaves became available (pending "
              "since 2027-01-10)",
              "2027-01-24T17:00:00Z mature 50 lot 9 big_basket: 50 leaves became available "
              "(pending since 2027-01-10)",
              "2027-05-01T04:00:00Z expire -30 lot 6 base: 30 leaves expired: earned 2026-10, "
              "expired 2027-04-30",
              "2027-06-01T04:00:00Z expire -30 lot 7 base: 30 leaves expired: earned 2026-11, "
              "expired 2027-05-31"});
    CHECK(y.time_entries("ben") ==
          std::vector<std::string>{
              "2026-02-22T17:00:00Z mature 400 lot 2 base: 400 leaves became available (pending "
              "since 2026-02-08)",
              "2026-02-22T17:00:00Z mature 50 lot 3 big_basket: 50 leaves became available "
              "(pending since 2026-02-08)",
              "2026-06-28T16:00:00Z mature 2200 lot 4 base: 2200 leaves became available "
              "(pending since 2026-06-14)",
              "2026-06-28T16:00:00Z mature 50 lot 5 big_basket: 50 leaves became available "
              "(pending since 2026-06-14)",
              "2027-03-21T17:00:00Z mature 1200 lot 6 base: 1200 leaves became available "
              "(pending since 2027-03-07)",
              "2027-03-21T17:00:00Z mature 50 lot 7 big_basket: 50 leaves became available "
              "(pending since 2027-03-07)",
              "2027-06-14T16:00:00Z expire -25 lot 1 enrollment: 25 leaves expired: earned "
              "2026-02, expired 2027-06-14",
              "2027-06-14T16:00:00Z expire -400 lot 2 base: 400 leaves expired: earned 2026-02, "
              "expired 2027-06-14",
              "2027-06-14T16:00:00Z expire -50 lot 3 big_basket: 50 leaves expired: earned "
              "2026-02, expired 2027-06-14",
              "2027-06-14T16:00:00Z expire -2200 lot 4 base: 2200 leaves expired: earned "
              "2026-06, expired 2027-06-14",
              "2027-06-14T16:00:00Z expire -50 lot 5 big_basket: 50 leaves expired: earned "
              "2026-06, expired 2027-06-14"});
    auto cleo_story = y.time_entries("cleo");
    REQUIRE(cleo_story.size() == 9);
    CHECK(cleo_story[5] == "2026-12-20T17:00:00Z mature 600 lot 4 base: 600 leaves became "
                           "available (pending since 2026-12-06)");
    CHECK(cleo_story[7] == "2027-07-01T04:00:00Z expire -600 lot 4 base: 600 leaves expired: "
                           "earned 2026-12, expired 2027-06-30");
    CHECK(cleo_story[8] == "2027-07-01T04:00:00Z expire -50 lot 5 big_basket: 50 leaves "
                           "expired: earned 2026-12, expired 2027-06-30");

    // Every point earned is accounted for: earned = available + matured-then-expired.
    for (const char* id : {"ada", "ben", "cleo"}) {
        points_t sum = 0;
        for (const activity_entry& e : y.entries(id)) {
            if (e.kind != engine::movement_kind::mature) {
                sum += e.points;
            }
        }
        auto v = y.view(id);
        INFO(id);
        CHECK(sum == v.balance.available + v.balance.pending);
    }
    // One `time` operation per instant something happened, never two for the same effect.
    CHECK(y.count("SELECT COUNT(*) FROM (SELECT member_id, lot_id, kind FROM ledger_entries"
                  " WHERE kind IN ('mature', 'expire') GROUP BY 1, 2, 3 HAVING COUNT(*) > 1)") ==
          0);
    CHECK(y.count("SELECT COUNT(*) FROM operations WHERE kind = 'time'") == 22);
}

TEST_CASE("born on 29 February, birthday by the day: 28 February in other years, 29th in leap "
          "years",
          "[year]") {
    test::temp_dir files;
    // The sample with a birthday drink on the day itself, and statuses that never end, so the
    // member stays Gold for the years walked.
    std::string text =
        test::sample_text_with("trigger: {birthday: month}", "trigger: {birthday: day}");
    auto months = text.find("status_months: 12");
    REQUIRE(months != std::string::npos);
    text.replace(months, 17, "status_months: 0");
    auto program_file = files / "program.yaml";
    std::ofstream(program_file) << text;

    year y(program_file.string());
    y.walk_to(at("2026-12-06T17:00:00Z"));
    y.enroll("leap", 2000_y / 2 / 29);
    CHECK(y.buy("l-1", "leap", 25000)["tier"]["after"] == "gold");
    CHECK_FALSE(y.view("leap").tier.valid_until);
    CHECK(y.walk_to(at("2026-12-20T17:00:00Z")) == 1); // the purchase matures

    // 2027: 28 February, from midnight EST, valid until the end of that day.
    CHECK(y.walk_to(at("2027-02-28T04:59:59Z")) == 0);
    CHECK(y.vouchers_issued("leap", "birthday_drink") == 0);
    CHECK(y.walk_to(at("2027-02-28T05:00:00Z")) == 1);
    CHECK(y.vouchers("leap", y.now()) ==
          std::vector<std::string>{"handcrafted_drink birthday_drink 2027-03-01T05:00:00Z"});
    CHECK(y.walk_to(at("2027-03-01T05:00:00Z")) == 0);
    CHECK(y.vouchers_issued("leap", "birthday_drink") == 1);

    // 2028 is a leap year: not on the 28th, on the 29th.
    CHECK(y.walk_to(at("2027-07-01T04:00:00Z")) == 1); // the December leaves expire
    CHECK(y.walk_to(at("2028-02-28T12:00:00Z")) == 0);
    CHECK(y.vouchers_issued("leap", "birthday_drink") == 1);
    CHECK(y.walk_to(at("2028-02-29T05:00:00Z")) == 1);
    CHECK(y.vouchers_issued("leap", "birthday_drink") == 2);
    CHECK(y.walk_to(at("2028-03-01T05:00:00Z")) == 0);
}

TEST_CASE("the birthday drink is for members Gold in their birthday month", "[year]") {
    // A member born in March who reaches Gold in May did not hold Gold in the birthday month:
    // the program grants "a handcrafted drink in the birthday month for Gold and Reserve".
    // A late run catches up only for members who held the tier during the occasion (found by
    // this test: the drink used to come in May, valid until the end of May).
    year y;
    y.walk_to(at("2026-01-05T15:00:00Z"));
    y.enroll("may", 1990_y / 3 / 20);
    y.walk_to(at("2026-05-03T16:00:00Z"));
    CHECK(y.buy("m-1", "may", 25000)["tier"]["after"] == "gold");
    y.walk_to(at("2026-05-04T04:00:00Z"));
    CHECK(y.vouchers_issued("may", "birthday_drink") == 0);
    CHECK(y.vouchers("may", y.now()) ==
          std::vector<std::string>{"handcrafted_drink gold_welcome 2026-06-02T16:00:00Z"});
}
