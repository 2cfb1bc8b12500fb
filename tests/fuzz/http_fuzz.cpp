// Fuzz target: HTTP request handling end to end, in process: raw bytes parsed as the server's
// sessions parse them (Beast's request_parser, 1 MiB body, 16 KiB header), then router::handle
// on a real ledger (SQLite in a temporary folder, opened once per process with the sample
// program) and a web root for static files.
//
// Input: raw HTTP/1.1, up to 8 pipelined requests (a member's journey can be one input); parsing
// stops at the first malformed one, as the server closes the connection there, and after one
// that does not keep the connection alive. Keys: an Authorization header "Bearer @admin",
// "Bearer @support", "Bearer @pos" or "Bearer @pos-s12" (a pos key bound to store s-12) is
// replaced by that key's secret, so the authenticated routes are reached; any other value is
// sent as it is.
//
// Checks, for every request handed over: handle() does not throw and answers exactly once,
// within 10 seconds, echoing the request id and the keep-alive of the request; never 500 (an
// exception in a handler, or a storage failure); no header value carries CR, LF or NUL; a
// Content-Length is the body's size (except for HEAD); JSON bodies are JSON and problems carry
// their type URI; the response serialises, and the head the session writes for it is Beast's; no
// byte of a file outside the web root (nor of a hidden file inside it, nor behind a symlink leaving
// it) is ever served. Every 256 inputs (every input when replaying) the database passes `loyalty
// verify`'s invariants. The sample program is activated again before an input when an earlier one
// activated another. LOYALTY_FUZZ_VERBOSE=1 prints every request line with the status and the start
// of the answer.

#include "fuzz_support.hpp"
#include "loyalty/engine/event_json.hpp"
#include "loyalty/http/metrics.hpp"
#include "loyalty/http/response_head.hpp"
#include "loyalty/http/router.hpp"
#include "loyalty/ledger/api_keys.hpp"
#include "loyalty/ledger/ledger.hpp"
#include "loyalty/ledger/maintenance.hpp"

#include <atomic>
#include <boost/asio/buffer.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>
#include <memory>
#include <random>
#include <spdlog/spdlog.h>
#include <sstream>
#include <string>
#include <string_view>
#include <unistd.h>

using namespace loyalty;
namespace bhttp = boost::beast::http;

namespace {

// In every file the web root must never give away.
constexpr std::string_view secret_marker = "LOYALTY-FUZZ-SECRET-2b7e151628aed2a6";

void write_file(const std::filesystem::path& file, std::string_view text) {
    std::ofstream out(file, std::ios::binary);
    out << text;
    fuzz::check(static_cast<bool>(out), "cannot write", file.string());
}

struct environment {
    std::filesystem::path dir;
    std::filesystem::path db;
    std::string program_text;
    std::string sample_hash;
    std::string admin, support, pos, pos_s12;
    std::unique_ptr<ledger::ledger> books;
    http::metrics measurements;
    std::unique_ptr<http::router> api;
    std::uint64_t inputs = 0;
    std::uint64_t requests = 0;

    environment() {
        spdlog::set_level(spdlog::level::err); // the 500s' "handler failed" lines, nothing else
        std::random_device seed;
        dir = std::filesystem::temp_directory_path() /
              ("loyalty-fuzz-http-" + std::to_string(::getpid()) + "-" + std::to_string(seed()));
        std::filesystem::create_directories(dir / "web" / "assets");
        write_file(dir / "web" / "index.html", "<!doctype html><title>console</title>");
        write_file(dir / "web" / "assets" / "app.js", "console.log('console');");
        write_file(dir / "web" / "assets" / "style.css", "body { margin: 0; }");
        write_file(dir / "web" / ".hidden.json", secret_marker);
        write_file(dir / "secret.txt", secret_marker);
        write_file(dir / "secret.html", secret_marker);
        std::error_code ignored;
        std::filesystem::create_symlink(dir / "secret.txt", dir / "web" / "link.txt", ignored);

        db = dir / "loyalty.db";
        // Keys are made before the ledger opens the file, as `loyalty keys create` does.
        admin = ledger::create_api_key(db, ledger::role::admin, std::nullopt, "fuzz").secret;
        support = ledger::create_api_key(db, ledger::role::support, std::nullopt, "fuzz").secret;
        pos = ledger::create_api_key(db, ledger::role::pos, std::nullopt, "fuzz").secret;
        pos_s12 = ledger::create_api_key(db, ledger::role::pos, "s-12", "fuzz").secret;

        ledger::ledger_options o;
        o.database = db;
        o.synchronous_full = false; // durability is not under test here
        o.batch_window = std::chrono::microseconds{0};
        // The ledger's clock stands still just after the corpus's latest date: the sample program
        // takes purchases and events at most 60 days late, and the corpus's (2026-01-10 to
        // 2026-03-11) must stay on time whenever the fuzzer runs, or the writes behind them would
        // all be refused. It also replays a regression at the time it was found.
        const engine::timestamp corpus_now = *engine::parse_rfc3339("2026-03-11T02:00:00Z");
        o.clock = [corpus_now] {
            return corpus_now;
        };
        books = std::make_unique<ledger::ledger>(o, std::filesystem::path(LOYALTY_SOURCE_DIR) /
                                                        "config" / "program.yaml");
        program_text = fuzz::read_source_file("config/program.yaml");
        sample_hash = books->active_program().content_hash;

        http::router_options r;
        r.rate_per_second = 1e9; // the limiter is not under test; its refusals would hide routes
        r.burst = 1e9;
        r.web_root = dir / "web";
        api = std::make_unique<http::router>(*books, r, measurements);
    }
    environment(const environment&) = delete;
    environment& operator=(const environment&) = delete;
    ~environment() {
        api.reset();
        books.reset(); // finishes the queued writes
        std::error_code ignored;
        std::filesystem::remove_all(dir, ignored);
    }

    // "Bearer @admin" and the like become real keys.
    void substitute_key(http::request& req) const {
        auto header = req[bhttp::field::authorization];
        const std::pair<std::string_view, const std::string*> keys[] = {
            {"Bearer @admin", &admin},
            {"Bearer @support", &support},
            {"Bearer @pos", &pos},
            {"Bearer @pos-s12", &pos_s12}};
        for (const auto& [placeholder, secret] : keys) {
            if (header == placeholder) {
                req.set(bhttp::field::authorization, "Bearer " + *secret);
                return;
            }
        }
    }

    void restore_sample_program() {
        if (books->active_program().content_hash == sample_hash) {
            return;
        }
        ledger::request_context who;
        who.actor = "fuzz";
        auto v = books->activate_program(who, program_text, "config/program.yaml");
        fuzz::check(v.has_value(), "the sample program cannot be activated again",
                    v ? std::string() : v.error().message);
    }

    void verify() const {
        auto violations = ledger::verify_database(db);
        if (!violations.empty()) {
            std::string all;
            for (const auto& v : violations) {
                all += "\n  " + v.check + ": " + v.detail;
            }
            fuzz::fail("the ledger's invariants do not hold", all);
        }
    }
};

environment& env() {
    static environment e;
    return e;
}

bool has_bad_byte(std::string_view value) {
    return value.find_first_of(std::string_view("\r\n\0", 3)) != std::string_view::npos;
}

void check_response(const http::request& req, const http::response& res, const std::string& id) {
    std::string what = std::string(req.method_string()) + " " + std::string(req.target()) + " -> " +
                       std::to_string(res.result_int());
    static const bool verbose = std::getenv("LOYALTY_FUZZ_VERBOSE") != nullptr;
    if (verbose) {
        std::fprintf(stderr, "%s %s\n", what.c_str(), res.body().substr(0, 300).c_str());
    }
    fuzz::check(res["X-Request-Id"] == id, "the answer does not echo the request id", what);
    fuzz::check(res.keep_alive() == req.keep_alive(), "the answer changes keep-alive", what);
    fuzz::check(res.result_int() != 500, "answered 500", what + " " + res.body());
    for (const auto& field : res) {
        fuzz::check(!has_bad_byte(field.name_string()) && !has_bad_byte(field.value()),
                    "a header with CR, LF or NUL", what);
    }
    if (res.has_content_length() && req.method() != bhttp::verb::head) {
        fuzz::check(res[bhttp::field::content_length] == std::to_string(res.body().size()),
                    "Content-Length is not the body's size", what);
    }
    auto type = res[bhttp::field::content_type];
    if (type.starts_with("application/json") || type.starts_with("application/problem+json")) {
        auto body = nlohmann::json::parse(res.body(), nullptr, false);
        fuzz::check(!body.is_discarded(), "a JSON answer is not JSON", what + " " + res.body());
        if (type.starts_with("application/problem+json")) {
            fuzz::check(body.is_object() && body.contains("type") && body["type"].is_string() &&
                            body["type"].get<std::string>().starts_with(
                                "https://loyalty.example/problems/"),
                        "a problem without its type", what + " " + res.body());
        }
    }
    // The fuzzer learns the marker from this very comparison; a request that carries it may
    // get it echoed (a 404 names its path, a 405 its method).
    auto carries = [](std::string_view text) {
        return text.find(secret_marker) != std::string_view::npos;
    };
    bool asked = carries(req.method_string()) || carries(req.target()) || carries(req.body());
    for (const auto& field : req) {
        asked = asked || carries(field.name_string()) || carries(field.value());
    }
    // Unasked, the marker comes from a file outside the web root or from an earlier request
    // kept somewhere it should not be (a made-up method once became a metrics label).
    fuzz::check(asked || !carries(res.body()),
                "the answer carries the marker: a file outside the web root or an earlier request",
                what);
    std::ostringstream wire;
    wire << res; // as Beast's serializer writes it
    fuzz::check(static_cast<bool>(wire), "the answer does not serialise", what);
    // The session writes the head itself (response_head), then the body: the same bytes.
    std::string head;
    http::response_head(res, head);
    fuzz::check(head + res.body() == wire.str(), "the session's head is not Beast's", what);
}

// Hands one request to the router and checks its one answer.
void handle(environment& e, http::request req) {
    std::string id = "fuzz-" + std::to_string(++e.requests);
    e.substitute_key(req);
    http::request copy = req; // the router takes its own

    auto answered = std::make_shared<std::promise<http::response>>();
    auto times = std::make_shared<std::atomic<int>>(0);
    auto future = answered->get_future();
    try {
        e.api->handle(std::move(req), id, [answered, times, id](http::response res) {
            if (times->fetch_add(1) != 0) {
                fuzz::fail("the router answered twice", id);
            }
            answered->set_value(std::move(res));
        });
    } catch (const std::exception& ex) {
        fuzz::fail("router::handle threw", ex.what());
    }
    fuzz::check(future.wait_for(std::chrono::seconds{10}) == std::future_status::ready,
                "no answer within 10 s", std::string(copy.target()));
    check_response(copy, future.get(), id);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    environment& e = env();
    e.restore_sample_program();
    std::string_view rest = fuzz::text_of(data, size);
    for (int n = 0; n < 8 && !rest.empty(); ++n) {
        bhttp::request_parser<bhttp::string_body> parser;
        parser.eager(true);
        parser.body_limit(1024 * 1024);
        parser.header_limit(16 * 1024);
        boost::beast::error_code ec;
        std::size_t used = 0;
        while (!parser.is_done()) {
            std::size_t consumed =
                parser.put(boost::asio::buffer(rest.data() + used, rest.size() - used), ec);
            used += consumed;
            if (ec == bhttp::error::need_more) {
                ec = {};
                if (consumed == 0 || used == rest.size()) {
                    parser.put_eof(ec); // the client sent nothing more
                    break;
                }
                continue;
            }
            if (ec || consumed == 0) {
                break;
            }
        }
        if (ec || !parser.is_done()) {
            break; // the server answers 400, 413 or 431 itself and closes the connection
        }
        http::request req = parser.release();
        bool keep_alive = req.keep_alive();
        handle(e, std::move(req));
        rest.remove_prefix(used);
        if (!keep_alive) {
            break; // the server closes after answering
        }
    }
#ifdef LOYALTY_FUZZ_REPLAY
    constexpr std::uint64_t verify_every = 1;
#else
    constexpr std::uint64_t verify_every = 256;
#endif
    if (++e.inputs % verify_every == 0) {
        e.verify();
    }
    return 0;
}
