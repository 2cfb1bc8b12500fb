// `loyalty serve`: the ledger and the REST server on one database and one program.

#include "loyalty/cli/commands.hpp"
#include "loyalty/http/json_log.hpp"
#include "loyalty/http/server.hpp"
#include "loyalty/jobs/scheduler.hpp"
#include "loyalty/ledger/ledger.hpp"
#include "loyalty/program/schedule_notes.hpp"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <ostream>
#include <sched.h>
#include <spdlog/spdlog.h>
#include <thread>

namespace loyalty::cli {

unsigned default_io_threads() {
    cpu_set_t allowed;
    CPU_ZERO(&allowed);
    int cpus = 0;
    if (sched_getaffinity(0, sizeof allowed, &allowed) == 0) {
        cpus = CPU_COUNT(&allowed);
    } else {
        cpus = static_cast<int>(std::thread::hardware_concurrency()); // 0 when unknown
    }
    return static_cast<unsigned>(std::clamp(cpus, 1, 64));
}

int serve(const serve_options& o, std::ostream& out, std::ostream& err) {
    http::server_options options;
    auto colon = o.listen.rfind(':');
    unsigned port = 0;
    if (colon == std::string::npos ||
        std::from_chars(o.listen.data() + colon + 1, o.listen.data() + o.listen.size(), port).ec !=
            std::errc() ||
        port > 65535) {
        err << "--listen: expected ADDRESS:PORT such as 127.0.0.1:8080\n";
        return 2;
    }
    options.address = o.listen.substr(0, colon);
    options.port = static_cast<std::uint16_t>(port);
    options.threads = o.threads != 0 ? o.threads : default_io_threads();
    options.body_limit = o.body_limit;
    options.routing.max_lines = o.max_lines;
    options.routing.rate_per_second = o.rate;
    options.routing.burst = o.burst;
    options.max_connections = o.max_connections;
    options.routing.web_root = o.web_root;
    http::use_json_logs();
    try {
        ledger::ledger_options lo;
        lo.database = o.database;
        lo.batch_window = std::chrono::microseconds(o.batch_window_us);
        lo.max_batch = o.max_batch;
        lo.flush_beside_writer = !o.flush_in_commit;
        lo.gather_log_writes = !o.log_writes_apart;
        lo.checkpoint_pages = o.checkpoint_pages;
        ledger::ledger book(lo, o.program);
        // What `loyalty check` would note on the program (a rule whose window has ended, say):
        // whoever started the server without checking learns it from the log.
        auto started = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
        for (const auto& note :
             program::schedule_notes(*book.active_program().program, o.program, started)) {
            spdlog::warn("program: {}", program::to_string(note));
        }
        http::server server(options, book);
        std::optional<jobs::scheduler> scheduled;
        if (o.jobs_interval_seconds > 0) {
            scheduled.emplace(book, std::chrono::seconds(o.jobs_interval_seconds));
        }
        server.run(true, [&] {
            // The log is written out in batches: what start-up logged (migrations applied, the
            // address) goes out before the line that says the server is ready.
            spdlog::default_logger()->flush();
            out << "loyalty: serving " << book.active_program().name << " ("
                << book.active_program().content_hash.substr(0, 12) << ") on http://"
                << options.address << ":" << server.port() << " with " << o.database << std::endl;
        });
        spdlog::info("stopped; the ledger flushes and closes");
        // The ledger's destructor answers what is still queued and closes the database.
    } catch (const std::exception& e) {
        err << "loyalty serve: " << e.what() << "\n";
        return 1;
    }
    return 0;
}

} // namespace loyalty::cli
