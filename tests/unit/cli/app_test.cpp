#include "loyalty/cli/app.hpp"
#include "loyalty/cli/commands.hpp"
#include "loyalty/ledger/ledger.hpp"
#include "support/sample_program.hpp"

#include <algorithm>
#include <array>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sched.h>
#include <sstream>
#include <sys/wait.h>

namespace {

struct result {
    int status;
    std::string out;
    std::string err;
};

result run(std::vector<std::string> args) {
    std::ostringstream out, err;
    int status = loyalty::cli::run(args, out, err);
    return {status, out.str(), err.str()};
}

const std::string sample = loyalty::test::sample_path();

// A temporary file that is removed when the test ends.
struct temp_file {
    std::filesystem::path path;
    explicit temp_file(const std::string& name, const std::string& text)
        : path(std::filesystem::temp_directory_path() /
               ("loyalty-cli-" + std::to_string(::getpid()) + "-" + name)) {
        std::ofstream(path) << text;
    }
    ~temp_file() { std::filesystem::remove(path); }
};

} // namespace

TEST_CASE("check prints ok and a summary for the sample program", "[cli]") {
    auto r = run({"check", sample});
    CHECK(r.status == 0);
    CHECK(r.out == "ok: Bean & Leaf Rewards (bean-and-leaf, USD, America/New_York): 8 earn rules, "
                   "3 tiers, 4 rewards, 2 benefits, purchases and events at most 60 days late\n");
    CHECK(r.err.empty());
}

TEST_CASE("check prints every error with its line and exits 1", "[cli]") {
    std::string text = loyalty::test::sample_text();
    auto swap = [&](const std::string& from, const std::string& to) {
        text.replace(text.find(from), from.size(), to);
    };
    swap("pending_days: 14", "pending_dais: 14");
    swap("  - id: espresso_shot\n    name: Espresso shot\n",
         "  - id: espresso_shot\n    name: Espresso shot\n    active: {until: 2026-02-30}\n");
    swap("{\"==\": [{\"var\": \"transaction.channel\"}, \"app\"]}",
         "{\"equals\": [{\"var\": \"transaction.channel\"}, \"app\"]}");
    temp_file bad("bad.yaml", text);
    auto r = run({"check", bad.path.string()});
    CHECK(r.status == 1);
    CHECK(r.out.empty());
    const std::string f = bad.path.string();
    CHECK(r.err.find(f + ":14:3: points.pending_dais: unknown key \"pending_dais\"; expected one "
                         "of: name, singular, pending_days, allow_negative_balance, expiry; did "
                         "you mean \"pending_days\"?\n") != std::string::npos);
    CHECK(r.err.find(f + ":86:12: earn[4].when.equals: unknown operator \"equals\"") !=
          std::string::npos);
    CHECK(r.err.find(f + ":113:21: rewards[0].active.until: expected a local date") !=
          std::string::npos);
    CHECK(r.err.substr(r.err.rfind('\n', r.err.size() - 2) + 1) == "3 errors in " + f + "\n");
}

TEST_CASE("check notes a rule whose window has ended, at the time --now gives", "[cli]") {
    temp_file windowed(
        "windowed.yaml",
        loyalty::test::sample_text_with(
            "    description: Double Tuesdays, base leaves x2\n",
            "    description: Double Tuesdays, base leaves x2\n    active: {until: 2026-11-30}\n"));
    const std::string f = windowed.path.string();
    auto r = run({"check", f, "--now", "2026-12-07T12:00:00Z"});
    CHECK(r.status == 0);
    CHECK(r.out == "ok: Bean & Leaf Rewards (bean-and-leaf, USD, America/New_York): 8 earn rules, "
                   "3 tiers, 4 rewards, 2 benefits, purchases and events at most 60 days late\n"
                   "note: " +
                       f +
                       ":59:21: earn[1].active.until: earn rule double_tuesday ended at the end "
                       "of 2026-11-30 (America/New_York): it earns only on purchases and events "
                       "dated before then, posted late (at most 60 days)\n");
    CHECK(r.err.empty());
    // Before the end there is nothing to note; a time that is not one is refused.
    CHECK(run({"check", f, "--now", "2026-11-30T12:00:00Z"}).out.find("note:") ==
          std::string::npos);
    auto bad = run({"check", f, "--now", "yesterday"});
    CHECK(bad.status == 2);
    CHECK(bad.err == "loyalty check: --now: expected an RFC 3339 time such as "
                     "2026-03-14T09:30:00Z\n");
}

TEST_CASE("check on a file that cannot be read", "[cli]") {
    auto r = run({"check", "/nonexistent/program.yaml"});
    CHECK(r.status == 1);
    CHECK(r.err == "/nonexistent/program.yaml: cannot read the file: No such file or "
                   "directory\n1 error in /nonexistent/program.yaml\n");
    // A folder opens like a file and reads as nothing: it is not called an empty program.
    auto folder = run({"check", "/tmp"});
    CHECK(folder.status == 1);
    CHECK(folder.err == "/tmp: cannot read the file: it is a folder\n1 error in /tmp\n");
}

TEST_CASE("keys and jobs refuse a database that is not there, and keys refuse bad text", "[cli]") {
    const auto dir =
        std::filesystem::temp_directory_path() / ("loyalty-cli-keys-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir);
    const std::string missing = (dir / "typo" / "loyalty.db").string();
    // Listing, revoking and running the jobs on a mistyped file create nothing.
    for (const std::vector<std::string>& args :
         {std::vector<std::string>{"keys", "list", "--db", missing},
          std::vector<std::string>{"keys", "revoke", "key_0123456789ab", "--db", missing},
          std::vector<std::string>{"jobs", "run", "--db", missing}}) {
        INFO(args[0] << " " << args[1]);
        auto r = run(args);
        CHECK(r.status == 2);
        CHECK(r.err ==
              "no database at " + missing + "; `loyalty serve --db " + missing + "` makes it\n");
    }
    CHECK_FALSE(std::filesystem::exists(dir));
    // A file that is not a database is named as such, not by the first statement that read it.
    {
        temp_file garbage("not-a-db", std::string(4096, 'x'));
        for (const std::vector<std::string>& args :
             {std::vector<std::string>{"verify", "--db", garbage.path.string()},
              std::vector<std::string>{"keys", "list", "--db", garbage.path.string()}}) {
            INFO(args[0]);
            auto r = run(args);
            CHECK(r.status != 0);
            CHECK(r.err.find("reading " + garbage.path.string() +
                             ": not a SQLite database (nor one of this program's)") !=
                  std::string::npos);
            CHECK(r.err.find("SELECT") == std::string::npos);
        }
    }
    // A key pasted where its id belongs is refused without being written back.
    auto pasted = run({"keys", "revoke", "lk_0123456789abcdef", "--db", missing});
    CHECK(pasted.status == 2);
    CHECK(pasted.err.find("lk_0123456789abcdef") == std::string::npos);
    CHECK(pasted.err.find("not its id") != std::string::npos);
    // A store id a purchase could not send, or a name that would break the list's lines.
    CHECK(run({"keys", "create", "--db", missing, "--role", "pos", "--store", ""}).status == 2);
    CHECK(
        run({"keys", "create", "--db", missing, "--role", "pos", "--store", std::string(257, 's')})
            .status == 2);
    CHECK(run({"keys", "create", "--db", missing, "--role", "admin", "--name", "a\nb"}).status ==
          2);
    CHECK_FALSE(std::filesystem::exists(dir));
    // Creating a key makes the file, and says so; on the file it made, nothing more is said.
    auto first = run({"keys", "create", "--db", missing, "--role", "admin", "--name", "me"});
    CHECK(first.status == 0);
    CHECK(first.err.find("note: " + missing + " did not exist and was created") !=
          std::string::npos);
    auto second = run({"keys", "create", "--db", missing, "--role", "pos", "--store", "s-1"});
    CHECK(second.status == 0);
    CHECK(second.err.find("note:") == std::string::npos);
    auto listed = run({"keys", "list", "--db", missing});
    CHECK(listed.status == 0);
    CHECK(std::count(listed.out.begin(), listed.out.end(), '\n') == 2);
    // On the file that exists, jobs run with a program activates it, and the audit log names
    // the command line, not a server's start-up.
    auto jobs = run({"jobs", "run", "--db", missing, "--program", sample});
    CHECK(jobs.status == 0);
    {
        loyalty::ledger::ledger_options o;
        o.database = missing;
        loyalty::ledger::ledger book(o);
        auto page = book.program_activations(10, std::nullopt);
        REQUIRE(page);
        REQUIRE(page->activations.size() == 1);
        CHECK(page->activations[0].actor == "cli");
    }
    std::filesystem::remove_all(dir);
}

TEST_CASE("logic evaluates a rule against data", "[cli]") {
    auto r =
        run({"logic",
             R"({"and":[{">=":[{"var":"total"},3000]},{"in":[{"var":"channel"},["app","web"]]}]})",
             R"({"total":3100,"channel":"app"})"});
    CHECK(r.status == 0);
    CHECK(r.out == "true\n");
    CHECK(run({"logic", R"({"+":[1,2.5]})"}).out == "3.5\n");
    CHECK(run({"logic", R"({"cat":["a",{"var":"x"}]})", R"({"x":[1,[2,3]]})"}).out ==
          "\"a1,2,3\"\n");
    CHECK(run({"logic", R"({"var":"x"})"}).out == "null\n");
}

TEST_CASE("logic refuses invalid JSON and invalid rules with exit 2", "[cli]") {
    auto bad_json = run({"logic", R"({"==":[1,)"});
    CHECK(bad_json.status == 2);
    CHECK(bad_json.out.empty());
    CHECK(bad_json.err.find("loyalty logic: RULE_JSON is not valid JSON: parse error at line 1, "
                            "column 10") == 0);
    auto bad_data = run({"logic", R"({"var":"a"})", "{a:1}"});
    CHECK(bad_data.status == 2);
    CHECK(bad_data.err.find("loyalty logic: DATA_JSON is not valid JSON") == 0);
    auto bad_rule = run({"logic", R"({"bteween":[1,2,3]})"});
    CHECK(bad_rule.status == 2);
    CHECK(bad_rule.err.find("loyalty logic: bteween: unknown operator \"bteween\"") == 0);
    CHECK(run({"logic"}).status == 2);
    CHECK(run({"frobnicate"}).status == 2);
}

TEST_CASE("the installed binary wires the same commands", "[cli]") {
    std::string command =
        std::string(LOYALTY_BINARY) +
        R"( logic '{"and":[{">=":[{"var":"total"},3000]},{"in":[{"var":"channel"},["app","web"]]}]}' '{"total":3100,"channel":"app"}')";
    std::unique_ptr<FILE, int (*)(FILE*)> pipe(::popen(command.c_str(), "r"), ::pclose);
    REQUIRE(pipe);
    std::array<char, 256> buffer{};
    std::string out;
    while (std::fgets(buffer.data(), buffer.size(), pipe.get()) != nullptr) {
        out += buffer.data();
    }
    int status = ::pclose(pipe.release());
    CHECK(out == "true\n");
    CHECK(WEXITSTATUS(status) == 0);
    int check_status =
        std::system((std::string(LOYALTY_BINARY) + " check " + sample + " >/dev/null").c_str());
    CHECK(WEXITSTATUS(check_status) == 0);
}

TEST_CASE("simulate prints the outcome of a purchase and stores nothing", "[cli]") {
    temp_file purchase("purchase.json", R"({"transaction_id": "t-1", "member_id": "m-1",
        "store_id": "s-1", "channel": "app", "occurred_at": "2026-11-24T15:00:00Z",
        "currency": "USD", "lines": [{"line_id": "1", "sku": "LATTE", "category": "coffee",
        "quantity": 2, "unit_price": 525}]})");
    auto r = run({"simulate", "--program", sample, "--transaction", purchase.path.string()});
    CHECK(r.status == 0);
    auto outcome = nlohmann::json::parse(r.out);
    // A new Green member on a Tuesday in New York: 21 base, 21 doubled, 10 for the app.
    CHECK(outcome["points"]["earned"] == 52);
    CHECK(outcome["points"]["available_from"] == "2026-12-08T15:00:00Z");
    CHECK(outcome["tier"]["after"] == "green");

    temp_file gold("member.json", R"({"id": "m-1", "enrolled_at": "2026-01-05T15:00:00Z",
        "tier": {"id": "gold"}})");
    auto as_gold = run({"simulate", "--program", sample, "--transaction", purchase.path.string(),
                        "--member", gold.path.string()});
    CHECK(nlohmann::json::parse(as_gold.out)["points"]["earned"] == 72);

    // Another member's file beside the purchase is refused, naming both.
    temp_file other("other.json", R"({"id": "m-9", "enrolled_at": "2026-01-05T15:00:00Z"})");
    auto mixed = run({"simulate", "--program", sample, "--transaction", purchase.path.string(),
                      "--member", other.path.string()});
    CHECK(mixed.status == 2);
    CHECK(mixed.err == "loyalty simulate: " + other.path.string() +
                           ": id: member \"m-9\", but the purchase is member \"m-1\"'s\n");
    CHECK(mixed.out.empty());
}

TEST_CASE("simulate at a later now keeps the program bound on late postings", "[cli]") {
    temp_file purchase("purchase.json", R"({"transaction_id": "t-1", "member_id": "m-1",
        "store_id": "s-1", "channel": "app", "occurred_at": "2026-09-01T15:00:00Z",
        "currency": "USD", "lines": [{"line_id": "1", "sku": "LATTE", "category": "coffee",
        "quantity": 2, "unit_price": 525}]})");
    // The sample program takes purchases at most 60 days late: 61 days on, the server would
    // refuse this one, and so does its simulation.
    auto late = run({"simulate", "--program", sample, "--transaction", purchase.path.string(),
                     "--now", "2026-11-01T15:00:01Z"});
    CHECK(late.status == 1);
    auto refused = nlohmann::json::parse(late.out);
    CHECK(refused["rejected"] == "invalid_event");
    CHECK(refused["field"] == "occurred_at");
    CHECK(refused["message"] == "occurred_at is 61 days ago (2026-09-01T15:00:00Z, now "
                                "2026-11-01T15:00:01Z); the program takes purchases and events "
                                "at most 60 days late (late_posting.max_days)");

    // At exactly 60 days it is taken, and earns as of its own time.
    auto in_time = run({"simulate", "--program", sample, "--transaction", purchase.path.string(),
                        "--now", "2026-10-31T15:00:00Z"});
    CHECK(in_time.status == 0);
    CHECK(nlohmann::json::parse(in_time.out)["points"]["earned"] == 52);

    // Before the purchase happened it cannot be posted: a slip of --now, said so.
    auto early = run({"simulate", "--program", sample, "--transaction", purchase.path.string(),
                      "--now", "2026-08-31T15:00:00Z"});
    CHECK(early.status == 2);
    CHECK(early.out.empty());
    CHECK(early.err == "loyalty simulate: --now: 2026-08-31T15:00:00Z is before the purchase's "
                       "occurred_at (2026-09-01T15:00:00Z); a purchase is posted when or after "
                       "it happens\n");
}

TEST_CASE("simulate refuses malformed files with the field", "[cli]") {
    temp_file bad("bad.json", R"({"transaction_id": "t-1", "member_id": "m-1", "store_id": "s-1",
        "occurred_at": "2026-11-24T15:00:00Z", "currency": "USD",
        "lines": [{"line_id": "1", "quantity": -2, "unit_price": 525}]})");
    auto r = run({"simulate", "--program", sample, "--transaction", bad.path.string()});
    CHECK(r.status == 2);
    CHECK(r.err == "loyalty simulate: " + bad.path.string() +
                       ": lines[0].quantity: expected a whole number from 1 to 1000000\n");
    CHECK(r.out.empty());
}

TEST_CASE("seed enrolls members and posts purchases for members drawn the same way each time",
          "[cli]") {
    const auto db = std::filesystem::temp_directory_path() /
                    ("loyalty-cli-seed-" + std::to_string(::getpid()) + ".db");
    auto remove_db = [&] {
        for (const char* suffix : {"", "-wal", "-shm"}) {
            std::filesystem::remove(db.string() + suffix);
        }
    };
    remove_db();
    const std::vector<std::string> args{"seed", "--db",      db.string(), "--program",
                                        sample, "--members", "50",        "--purchases",
                                        "40",   "--prefix",  "s-"};
    auto first = run(args);
    REQUIRE(first.status == 0);
    CHECK(first.out.find("seeded 50 member(s) (0 already enrolled) and 40 purchase(s) (0 "
                         "already posted)") != std::string::npos);

    // Seeding again finds everything there and writes nothing twice.
    auto again = run(args);
    REQUIRE(again.status == 0);
    CHECK(again.out.find("seeded 0 member(s) (50 already enrolled) and 0 purchase(s) (40 "
                         "already posted)") != std::string::npos);

    std::int64_t purchases = 0;
    int members_with_one = 0;
    {
        loyalty::ledger::ledger_options o;
        o.database = db.string();
        loyalty::ledger::ledger book(o);
        const auto now = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
        for (int i = 0; i < 50; ++i) {
            auto view = book.member("s-" + std::to_string(i), now, std::nullopt);
            REQUIRE(view);
            purchases += view->lifetime_purchases;
            members_with_one += view->lifetime_purchases > 0 ? 1 : 0;
            // The basket is the benchmark's: 39.75 USD.
            CHECK(view->lifetime_spend == 3975 * view->lifetime_purchases);
        }
        CHECK_FALSE(book.member("s-50", now, std::nullopt));
    }
    CHECK(purchases == 40);
    // Drawn at random, not the first 40 in order: some members got two or more.
    CHECK(members_with_one < 40);
    CHECK(members_with_one > 20);
    remove_db();
}

TEST_CASE("serve starts one I/O thread per CPU the process may run on unless told", "[cli]") {
    cpu_set_t allowed;
    CPU_ZERO(&allowed);
    REQUIRE(sched_getaffinity(0, sizeof allowed, &allowed) == 0);
    const int cpus = CPU_COUNT(&allowed);
    CHECK(loyalty::cli::default_io_threads() == static_cast<unsigned>(std::min(cpus, 64)));

    // Confined to one CPU, as `taskset -c 0` leaves it: one thread, whatever the machine has.
    int first = 0;
    while (!CPU_ISSET(first, &allowed)) {
        ++first;
    }
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(first, &one);
    REQUIRE(sched_setaffinity(0, sizeof one, &one) == 0);
    const unsigned confined = loyalty::cli::default_io_threads();
    REQUIRE(sched_setaffinity(0, sizeof allowed, &allowed) == 0);
    CHECK(confined == 1);
}
