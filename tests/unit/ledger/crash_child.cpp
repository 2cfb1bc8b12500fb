// The process crash_test.cpp kills: it posts purchases from several threads, so that batches
// hold several requests, and logs each acknowledged one before posting the next.
//
//   ledger_crash_child <database> <ack log> <first index> <program file>
//
// Purchase n is "c-<n>" of member "c-m-<n % members>"; each run starts at a new first index, so
// every run posts purchases the database has not seen. A line of the log is
// "<transaction id>\t<request JSON>\t<answer body>\n".

#include "loyalty/engine/state_json.hpp"
#include "loyalty/ledger/ledger.hpp"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <future>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>

using namespace loyalty;

namespace {

constexpr int members = 50;
// Enough posters that a batch (one fsync) holds many requests, as under real load.
constexpr int threads = 16;
constexpr int purchases_per_thread = 10'000; // far more than a run lives to post

[[noreturn]] void die(const std::string& message) {
    std::fprintf(stderr, "ledger_crash_child: %s\n", message.c_str());
    std::_Exit(2);
}

std::string member_id(std::int64_t n) {
    return "c-m-" + std::to_string(n % members);
}

engine::purchase purchase(std::int64_t n, engine::timestamp now) {
    engine::purchase p;
    p.transaction_id = "c-" + std::to_string(n);
    p.member_id = member_id(n);
    p.store_id = "s-crash";
    p.channel = n % 5 == 0 ? "app" : "store";
    p.currency = "USD";
    p.occurred_at = now - std::chrono::seconds(n % 3600);
    p.lines.push_back({"1", "SKU-LATTE", "coffee", 1 + n % 3, 450 + n % 700, 0, {}});
    if (n % 4 == 0) {
        p.lines.push_back({"2", "SKU-CROISSANT", "bakery", 2, 325, n % 8 == 0 ? 100 : 0, {}});
    }
    return p;
}

// A completed write(2) is in the kernel's page cache, which SIGKILL does not touch: the line
// outlives the process without an fsync. One write per line keeps lines from interleaving under
// O_APPEND; a kill can still cut the write short, and the test drops such a last line.
void log_ack(int fd, const std::string& line) {
    std::size_t done = 0;
    while (done < line.size()) {
        ssize_t n = ::write(fd, line.data() + done, line.size() - done);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            die(std::string("cannot write the ack log: ") + std::strerror(errno));
        }
        done += static_cast<std::size_t>(n);
    }
}

} // namespace

int main(int argc, char** argv) {
    if (argc != 5) {
        die("usage: ledger_crash_child <database> <ack log> <first index> <program file>");
    }
    const std::int64_t first = std::stoll(argv[3]);
    int log = ::open(argv[2], O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (log < 0) {
        die(std::string("cannot open ") + argv[2] + ": " + std::strerror(errno));
    }
    try {
        ledger::ledger_options options;
        options.database = argv[1]; // synchronous=FULL, the default
        ledger::ledger l(options, std::filesystem::path(argv[4]));
        ledger::request_context who;
        who.actor = "crash-child";
        who.role = "pos";
        // Enrolled together, so that a new database takes one commit for them all; on a
        // database that has them, these are replays.
        std::vector<std::future<ledger::result<ledger::write_result>>> enrollments;
        for (int m = 0; m < members; ++m) {
            auto promise = std::make_shared<std::promise<ledger::result<ledger::write_result>>>();
            enrollments.push_back(promise->get_future());
            l.enroll_async(who,
                           {member_id(m), std::nullopt, std::nullopt, std::nullopt, std::nullopt},
                           [promise](auto r) { promise->set_value(std::move(r)); });
        }
        for (int m = 0; m < members; ++m) {
            auto enrolled = enrollments[m].get();
            if (!enrolled && enrolled.error().code != ledger::error_code::already_exists) {
                die("enrolling " + member_id(m) + " failed: " + enrolled.error().message);
            }
        }
        // The test waits for this line before it counts down to the kill.
        std::fputs("ready\n", stdout);
        std::fflush(stdout);
        std::vector<std::thread> posters;
        for (int t = 0; t < threads; ++t) {
            posters.emplace_back([&, t] {
                for (std::int64_t k = 0; k < purchases_per_thread; ++k) {
                    std::int64_t n = first + k * threads + t;
                    auto p = purchase(n, std::chrono::floor<std::chrono::seconds>(
                                             std::chrono::system_clock::now()));
                    auto answer = l.post_purchase(who, p);
                    if (!answer) {
                        die("purchase " + p.transaction_id + " failed: " + answer.error().message);
                    }
                    log_ack(log, p.transaction_id + "\t" + engine::purchase_to_json(p).dump() +
                                     "\t" + answer->body + "\n");
                }
            });
        }
        for (auto& poster : posters) {
            poster.join();
        }
    } catch (const std::exception& e) {
        die(e.what());
    }
    ::close(log);
    return 0;
}
