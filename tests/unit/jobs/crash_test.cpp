// Exactly once under SIGKILL: `loyalty jobs run` over 3,000 members with work due at the same
// instant is killed again and again at random moments, then run to completion. The database must
// verify after every kill and end exactly as a copy on which the jobs ran once, uninterrupted:
// the same balances, the same ledger entries, never a lot matured or expired twice, never a
// second birthday drink.

#include "loyalty/engine/event_json.hpp"
#include "loyalty/engine/local_time.hpp"
#include "loyalty/ledger/ledger.hpp"
#include "loyalty/ledger/maintenance.hpp"
#include "support/ledger_calls.hpp"
#include "support/sample_program.hpp"
#include "support/temp_dir.hpp"
#include "support/times.hpp"

#include <atomic>
#include <catch2/catch.hpp>
#include <cerrno>
#include <csignal>
#include <fcntl.h>
#include <fstream>
#include <functional>
#include <optional>
#include <random>
#include <spawn.h>
#include <sqlite3.h>
#include <sstream>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

extern char** environ;

using namespace loyalty;
using namespace loyalty::ledger;
using engine::timestamp;
using std::chrono::milliseconds;
using steady = std::chrono::steady_clock;

using loyalty::test::at;
using loyalty::test::describe;
using loyalty::test::pos;
using loyalty::test::write_answers;

namespace {

constexpr std::size_t member_count = 3000;
// Midnight EDT on 1 October 2026: the March enrolment leaves expire, the purchases of
// 17 September mature, and October birthdays begin.
constexpr const char* due_text = "2026-10-01T04:00:00Z";

std::string member_id(std::size_t i) {
    std::string n = std::to_string(i);
    return "m-" + std::string(4 - n.size(), '0') + n;
}

std::string read_text(const std::filesystem::path& file) {
    std::ifstream in(file, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

// Rows of a query, each row's columns joined by '|', in the query's order.
std::vector<std::string> rows(const std::filesystem::path& database, const std::string& sql) {
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open_v2(database.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK);
    sqlite3_stmt* s = nullptr;
    int prepared = sqlite3_prepare_v2(db, sql.c_str(), -1, &s, nullptr);
    INFO(sqlite3_errmsg(db));
    REQUIRE(prepared == SQLITE_OK);
    std::vector<std::string> out;
    while (sqlite3_step(s) == SQLITE_ROW) {
        std::string row;
        for (int c = 0; c < sqlite3_column_count(s); ++c) {
            const unsigned char* text = sqlite3_column_text(s, c);
            row += (c > 0 ? "|" : "") +
                   std::string(text ? reinterpret_cast<const char*>(text) : "null");
        }
        out.push_back(std::move(row));
    }
    sqlite3_finalize(s);
    sqlite3_close(db);
    return out;
}

// The members visited so far by a jobs run that may be writing: nothing when the database
// cannot be read right now (the run holds it while it opens or checkpoints).
std::optional<std::int64_t> visits_so_far(const std::filesystem::path& database) {
    sqlite3* db = nullptr;
    std::optional<std::int64_t> visited;
    if (sqlite3_open_v2(database.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
        sqlite3_stmt* s = nullptr;
        if (sqlite3_prepare_v2(db, "SELECT COUNT(*) FROM operations WHERE kind = 'time'", -1, &s,
                               nullptr) == SQLITE_OK &&
            sqlite3_step(s) == SQLITE_ROW) {
            visited = sqlite3_column_int64(s, 0);
        }
        sqlite3_finalize(s);
    }
    sqlite3_close(db);
    return visited;
}

std::int64_t count(const std::filesystem::path& database, const std::string& sql) {
    auto r = rows(database, sql);
    REQUIRE(r.size() == 1);
    return std::stoll(r[0]);
}

// The first row where two listings differ, or "" when they are the same.
std::string first_difference(const std::vector<std::string>& a, const std::vector<std::string>& b) {
    for (std::size_t i = 0; i < std::max(a.size(), b.size()); ++i) {
        std::string left = i < a.size() ? a[i] : "(none)";
        std::string right = i < b.size() ? b[i] : "(none)";
        if (left != right) {
            return "row " + std::to_string(i) + ": killed " + left + " / uninterrupted " + right;
        }
    }
    return "";
}

// 3,000 members enrolled in March and buying on 17 September at midnight EDT: at `due_text` every
// one has leaves maturing; those who are not Reserve also lose their enrolment leaves, and the
// Gold and Reserve members born in October get their birthday drink.
void prepare(const std::filesystem::path& database) {
    auto seconds = std::make_shared<std::atomic<std::int64_t>>(
        at("2026-03-10T15:00:00Z").time_since_epoch().count());
    ledger_options o;
    o.database = database;
    o.synchronous_full = false; // closed cleanly before anyone copies it
    o.clock = [seconds] {
        return timestamp(std::chrono::seconds(seconds->load()));
    };
    class ledger book(o, test::sample_path());
    write_answers enrolled;
    for (std::size_t i = 0; i < member_count; ++i) {
        std::optional<date::year_month_day> birthday;
        if (i % 3 == 0) {
            birthday = date::year{1980 + static_cast<int>(i % 30)} / date::October / 15;
        }
        book.enroll_async(pos(), {member_id(i), std::nullopt, std::nullopt, birthday, std::nullopt},
                          enrolled.expect());
    }
    REQUIRE(enrolled.wait(member_count) == 0);

    *seconds = at("2026-09-17T04:00:00Z").time_since_epoch().count();
    write_answers bought;
    for (std::size_t i = 0; i < member_count; ++i) {
        // Reserve ($1,300: 2,600 + 50), Gold ($250: 500 + 50) or Green ($20: 40 leaves).
        engine::money_t price = i % 10 == 0 ? 130000 : i % 3 == 0 ? 25000 : 2000;
        engine::purchase p;
        p.transaction_id = "t-" + member_id(i);
        p.member_id = member_id(i);
        p.store_id = "s-1";
        p.channel = "store";
        p.currency = "USD";
        p.occurred_at = *engine::parse_rfc3339("2026-09-17T04:00:00Z");
        p.lines.push_back({"1", "LATTE", "coffee", 1, price, 0, {}});
        book.post_purchase_async(pos(), p, bought.expect());
    }
    REQUIRE(bought.wait(member_count) == 0);
}

void copy_database(const std::filesystem::path& from, const std::filesystem::path& to) {
    for (const char* suffix : {"", "-wal", "-shm"}) {
        std::filesystem::path source = from.string() + suffix;
        if (std::filesystem::exists(source)) {
            std::filesystem::copy_file(source, to.string() + suffix);
        }
    }
}

// `loyalty jobs run --db DATABASE --now due_text`, its output in files.
class jobs_run {
public:
    jobs_run(const std::filesystem::path& binary, const std::filesystem::path& database,
             const std::filesystem::path& out, const std::filesystem::path& err) {
        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init(&actions);
        posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, out.c_str(),
                                         O_WRONLY | O_CREAT | O_TRUNC, 0644);
        posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, err.c_str(),
                                         O_WRONLY | O_CREAT | O_APPEND, 0644);
        std::vector<std::string> args = {binary.string(),   "jobs",  "run",   "--db",
                                         database.string(), "--now", due_text};
        std::vector<char*> argv;
        for (auto& a : args) {
            argv.push_back(a.data());
        }
        argv.push_back(nullptr);
        int rc = ::posix_spawn(&pid_, binary.c_str(), &actions, nullptr, argv.data(), environ);
        posix_spawn_file_actions_destroy(&actions);
        REQUIRE(rc == 0);
    }
    jobs_run(const jobs_run&) = delete;
    jobs_run& operator=(const jobs_run&) = delete;
    ~jobs_run() {
        if (pid_ > 0) {
            kill();
        }
    }

    // SIGKILL (a no-op when it already ended), then its status.
    int kill() {
        ::kill(pid_, SIGKILL);
        return reap();
    }

    // Waits for the end, up to `limit`; killed when it takes longer. `meanwhile`, when given,
    // is called about every millisecond until the end.
    int wait(milliseconds limit, const std::function<void()>& meanwhile = {}) {
        auto deadline = steady::now() + limit;
        int status = 0;
        for (;;) {
            pid_t done = ::waitpid(pid_, &status, WNOHANG);
            if (done == pid_) {
                pid_ = -1;
                return status;
            }
            if (steady::now() > deadline) {
                FAIL_CHECK("loyalty jobs run did not end within " << limit.count() << " ms");
                return kill();
            }
            if (meanwhile) {
                meanwhile();
            }
            std::this_thread::sleep_for(milliseconds{meanwhile ? 1 : 5});
        }
    }

private:
    int reap() {
        int status = 0;
        while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
        }
        pid_ = -1;
        return status;
    }

    pid_t pid_ = -1;
};

bool exited_cleanly(int status) {
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

std::string changed_line(std::size_t n) {
    return std::to_string(n) + " member(s) changed by the work due at " + due_text + "\n";
}

// Balances through the ledger's own read path, one line per member.
// Every lot, open or archived, as a line to compare.
std::vector<std::string> lot_rows(const std::filesystem::path& database) {
    std::vector<std::string> out;
    for (const stored_lot& l : stored_lots(database)) {
        out.push_back(l.member_id + "|" + std::to_string(l.lot.id) + "|" +
                      std::to_string(l.lot.remaining) + "|" + std::to_string(l.lot.matured) + "|" +
                      (l.lot.expires_at ? engine::format_rfc3339(*l.lot.expires_at) : ""));
    }
    return out;
}

std::vector<std::string> balances(const std::filesystem::path& database) {
    ledger_options o;
    o.database = database;
    class ledger book(o);
    std::vector<std::string> out;
    for (std::size_t i = 0; i < member_count; ++i) {
        auto v = book.member(member_id(i), at(due_text));
        REQUIRE(v);
        out.push_back(member_id(i) + "|" + std::to_string(v->balance.available) + "|" +
                      std::to_string(v->balance.pending) + "|" + v->tier.tier + "|" +
                      std::to_string(v->vouchers.size()));
    }
    return out;
}

} // namespace

TEST_CASE("killing jobs run half-way changes nothing but when the work is done", "[jobs-crash]") {
    test::temp_dir dir;
    auto base = dir / "base.db";
    auto killed = dir / "killed.db";
    auto once = dir / "once.db";
    auto out = dir / "out.txt";
    auto err = dir / "err.txt";

    // A copy of the binary: every run compared is of one build, even while it is rebuilt.
    auto binary = dir / "loyalty";
    std::filesystem::copy_file(LOYALTY_BINARY, binary);

    auto preparing = steady::now();
    prepare(base);
    auto prepared = steady::now() - preparing;
    copy_database(base, killed);
    copy_database(base, once);

    // The uninterrupted run, timed and watched to place the kills: when it had committed its
    // first visit and its last. Before the first, a run starts and opens the ledger; that part
    // took half of a run once the visits got faster (tcmalloc), and kills placed on the whole
    // run's time then all fell before the first visit.
    auto started = steady::now();
    std::optional<steady::duration> first_visit;
    steady::duration last_visit{};
    {
        jobs_run uninterrupted(binary, once, out, err);
        std::int64_t seen = 0;
        int status = uninterrupted.wait(milliseconds{120'000}, [&] {
            auto visited = visits_so_far(once);
            if (visited && *visited > seen) {
                seen = *visited;
                last_visit = steady::now() - started;
                if (!first_visit) {
                    first_visit = last_visit;
                }
            }
        });
        INFO(read_text(err));
        REQUIRE(exited_cleanly(status));
    }
    auto full_run = steady::now() - started;
    CHECK(read_text(out) == changed_line(member_count));
    REQUIRE(first_visit); // seen at least once while the run went on

    // Kills at random moments, each later than the one before. Each run starts over and then
    // resumes the visits where the last one was killed, so the delays past the start add up to
    // a little less than the visits took: the kills land before, while and after the ledger
    // opens and between batches of visits.
    std::random_device seed_source;
    auto seed = seed_source();
    std::mt19937 random(seed);
    using std::chrono::microseconds;
    const std::int64_t start_us = std::chrono::duration_cast<microseconds>(*first_visit).count();
    const std::int64_t visits_us = std::max<std::int64_t>(
        std::chrono::duration_cast<microseconds>(last_visit - *first_visit).count(), 3'000);
    INFO("seed " << seed << ", prepared in "
                 << std::chrono::duration_cast<milliseconds>(prepared).count()
                 << " ms, uninterrupted run "
                 << std::chrono::duration_cast<milliseconds>(full_run).count()
                 << " ms: first visit seen after " << start_us / 1000 << " ms, the last "
                 << visits_us / 1000 << " ms later");
    constexpr int kills = 10;
    // Delay k is the start and [k, k + 1] slices of the visits; the ten add up to about 50
    // slices of 60. The first kill may land anywhere in the start.
    const std::int64_t slice = visits_us / 60;
    std::vector<std::int64_t> visited_after;
    std::size_t half_way = 0;
    for (int k = 0; k < kills; ++k) {
        std::uniform_int_distribution<std::int64_t> within(k == 0 ? 0 : start_us + slice * k,
                                                           start_us + slice * (k + 1));
        auto delay = microseconds{within(random)};
        jobs_run victim(binary, killed, out, err);
        std::this_thread::sleep_for(delay);
        int status = victim.kill();
        // Killed, or it finished first: never a failure of its own.
        bool was_killed = WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
        INFO("kill " << k << " after " << delay.count() << " us; " << read_text(err));
        CHECK((was_killed || exited_cleanly(status)));

        auto found = verify_database(killed);
        INFO(describe(found));
        CHECK(found.empty());
        std::int64_t visited =
            count(killed, "SELECT COUNT(DISTINCT member_id) FROM operations WHERE kind = 'time'");
        CHECK(count(killed, "SELECT COUNT(*) FROM operations WHERE kind = 'time'") == visited);
        if (!visited_after.empty()) {
            CHECK(visited >= visited_after.back());
        }
        visited_after.push_back(visited);
        if (visited > 0 && visited < std::int64_t{member_count}) {
            ++half_way;
        }
    }
    // At least one kill landed while members were being visited.
    std::string progress;
    for (std::int64_t v : visited_after) {
        progress += std::to_string(v) + " ";
    }
    INFO("members visited after each kill: " << progress);
    CHECK(half_way >= 1);

    // Then to completion: it does what the killed runs left, and only that.
    {
        jobs_run last(binary, killed, out, err);
        int status = last.wait(milliseconds{120'000});
        INFO(read_text(err));
        REQUIRE(exited_cleanly(status));
    }
    CHECK(read_text(out) ==
          changed_line(member_count - static_cast<std::size_t>(visited_after.back())));
    {
        auto found = verify_database(killed);
        INFO(describe(found));
        CHECK(found.empty());
    }
    // Running again finds nothing.
    {
        jobs_run again(binary, killed, out, err);
        REQUIRE(exited_cleanly(again.wait(milliseconds{120'000})));
    }
    CHECK(read_text(out) == changed_line(0));

    // The same end, member by member.
    CHECK(first_difference(balances(killed), balances(once)) == "");
    const std::string per_kind = "SELECT member_id, kind, COUNT(*), SUM(points) "
                                 "FROM ledger_entries GROUP BY 1, 2"
                                 " ORDER BY 1, 2";
    CHECK(first_difference(rows(killed, per_kind), rows(once, per_kind)) == "");
    CHECK(first_difference(lot_rows(killed), lot_rows(once)) == "");
    const std::string vouchers = "SELECT member_id, reward_id, cause, issued_at, "
                                 "valid_until FROM vouchers ORDER BY 1, 3";
    CHECK(first_difference(rows(killed, vouchers), rows(once, vouchers)) == "");
    const std::string operations = "SELECT member_id, kind, COUNT(*) FROM "
                                   "operations GROUP BY 1, 2 ORDER BY 1, 2";
    CHECK(first_difference(rows(killed, operations), rows(once, operations)) == "");

    for (const auto& database : {killed, once}) {
        INFO(database.filename());
        // One visit that changed each member; no lot matured or expired twice; one birthday
        // drink at most.
        CHECK(count(database, "SELECT COUNT(*) FROM operations WHERE kind = 'time'") ==
              std::int64_t{member_count});
        CHECK(count(database, "SELECT COUNT(*) FROM (SELECT 1 FROM ledger_entries WHERE kind IN"
                              " ('mature', 'expire') GROUP BY member_id, lot_id, kind"
                              " HAVING COUNT(*) > 1)") == 0);
        CHECK(count(database, "SELECT COUNT(*) FROM (SELECT 1 FROM vouchers WHERE cause ="
                              " 'birthday_drink' GROUP BY member_id HAVING COUNT(*) > 1)") == 0);
        // What was due, all of it: every purchase lot matured, every enrolment lot outside
        // Reserve expired, a drink for each Gold or Reserve member born in October.
        auto lots = stored_lots(database);
        CHECK(std::count_if(lots.begin(), lots.end(), [](const stored_lot& l) {
                  return l.lot.cause != "enrollment" && !l.lot.matured;
              }) == 0);
        CHECK(count(database, "SELECT COUNT(*) FROM ledger_entries WHERE kind = 'expire'") ==
              std::int64_t{member_count - member_count / 10});
        CHECK(count(database, "SELECT COUNT(*) FROM vouchers WHERE cause = 'birthday_drink'") ==
              std::int64_t{member_count / 3});
    }
}
