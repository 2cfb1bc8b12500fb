// The server over real sockets on 127.0.0.1 and a real ledger: keep-alive, pipelining, every
// limit answered with its status and problem type, and a shutdown that still answers the request
// in flight. Each client operation gives up after a few seconds, so no test can hang.

#include "loyalty/http/router.hpp"
#include "loyalty/http/server.hpp"
#include "loyalty/ledger/api_keys.hpp"
#include "loyalty/ledger/ledger.hpp"
#include "support/sample_program.hpp"
#include "support/temp_dir.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <catch2/catch.hpp>
#include <csignal>
#include <future>
#include <nlohmann/json.hpp>
#include <regex>
#include <thread>

using namespace loyalty;
using namespace std::chrono_literals;

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;
using reply_message = bhttp::response<bhttp::string_body>;

constexpr auto io_timeout = 5s;

// A raw HTTP client: bytes out, parsed responses in.
class raw_client {
public:
    explicit raw_client(std::uint16_t port) : stream_(ioc_) {
        error_code result = asio::error::would_block;
        stream_.expires_after(io_timeout);
        stream_.async_connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port),
                              [&](error_code ec) { result = ec; });
        run();
        REQUIRE_FALSE(result);
    }

    void send(const std::string& bytes) {
        error_code result = asio::error::would_block;
        stream_.expires_after(io_timeout);
        asio::async_write(stream_, asio::buffer(bytes),
                          [&](error_code ec, std::size_t) { result = ec; });
        run();
        REQUIRE_FALSE(result);
    }

    struct reply {
        error_code ec;
        reply_message message;
    };

    // The next response, or the error that ended the connection instead. A response to HEAD
    // has no body whatever its Content-Length says.
    reply read(bool to_head = false) {
        reply r;
        r.ec = asio::error::would_block;
        bhttp::response_parser<bhttp::string_body> parser;
        parser.body_limit(16 * 1024 * 1024);
        parser.skip(to_head);
        stream_.expires_after(io_timeout);
        bhttp::async_read(stream_, buffer_, parser, [&](error_code ec, std::size_t) { r.ec = ec; });
        run();
        if (!r.ec) {
            r.message = parser.release();
        }
        return r;
    }

    reply_message response(bool to_head = false) {
        auto r = read(to_head);
        INFO(r.ec.message());
        REQUIRE_FALSE(r.ec);
        return std::move(r.message);
    }

    // Reads until the server closes the connection or `within` passes: the error that ended it
    // (end of file or reset when closed, beast::error::timeout when still open).
    error_code wait_closed(std::chrono::milliseconds within) {
        error_code result;
        stream_.expires_after(within);
        std::array<char, 1024> sink{};
        for (int reads = 0; reads < 10'000 && !result; ++reads) {
            result = asio::error::would_block;
            stream_.async_read_some(asio::buffer(sink),
                                    [&](error_code ec, std::size_t) { result = ec; });
            run();
        }
        return result;
    }

private:
    void run() {
        ioc_.restart();
        ioc_.run();
    }

    asio::io_context ioc_;
    beast::tcp_stream stream_;
    beast::flat_buffer buffer_;
};

bool closed(const error_code& ec) {
    return ec == asio::error::eof || ec == asio::error::connection_reset;
}

http::server_options test_options() {
    http::server_options o;
    o.address = "127.0.0.1";
    o.port = 0;
    o.threads = 2;
    o.body_limit = 1024;
    o.header_limit = 2048;
    o.read_timeout = 1s;
    o.idle_timeout = 30s;
    return o;
}

// A server over a fresh ledger, running on its own thread until the test ends.
struct fresh_server {
    test::temp_dir dir;
    std::string secret;
    std::unique_ptr<ledger::ledger> ledger;
    std::unique_ptr<http::server> server;
    std::promise<void> returned_promise;
    std::future<void> returned = returned_promise.get_future();
    std::thread thread;

    explicit fresh_server(http::server_options options = test_options(),
                          std::chrono::microseconds batch_window = 1ms,
                          bool handle_signals = false) {
        secret = ledger::create_api_key(dir / "loyalty.db", ledger::role::admin, {}, "test").secret;
        ledger::ledger_options lo;
        lo.database = dir / "loyalty.db";
        lo.batch_window = batch_window;
        lo.synchronous_full = false;
        ledger = std::make_unique<ledger::ledger>(lo, test::sample_path());
        server = std::make_unique<http::server>(options, *ledger);
        REQUIRE(server->port() != 0);
        thread = std::thread([this, handle_signals] {
            server->run(handle_signals);
            returned_promise.set_value();
        });
    }

    fresh_server(const fresh_server&) = delete;
    fresh_server& operator=(const fresh_server&) = delete;

    ~fresh_server() {
        server->stop();
        thread.join();
    }

    std::uint16_t port() const { return server->port(); }

    bool returned_within(std::chrono::milliseconds limit) {
        return returned.wait_for(limit) == std::future_status::ready;
    }
};

std::string get(const std::string& target, const std::string& extra_headers = "") {
    return "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" + extra_headers + "\r\n";
}

std::string enroll(const fresh_server& s, const std::string& member_id,
                   const std::string& extra_headers = "") {
    std::string body = nlohmann::json{{"member_id", member_id}}.dump();
    return "POST /v1/members HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + s.secret +
           "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
           "\r\n" + extra_headers + "\r\n" + body;
}

// The problem type of a problem+json response, after checking its media type.
std::string problem_type(const reply_message& m) {
    CHECK(m[bhttp::field::content_type] == "application/problem+json");
    auto body = nlohmann::json::parse(m.body(), nullptr, false);
    REQUIRE(body.is_object());
    CHECK(body.at("status") == m.result_int());
    std::string type = body.at("type");
    const std::string prefix = "https://loyalty.example/problems/";
    REQUIRE(type.rfind(prefix, 0) == 0);
    return type.substr(prefix.size());
}

bool generated_id(std::string_view id) {
    return id.size() == 16 && id.find_first_not_of("0123456789abcdef") == std::string_view::npos;
}

} // namespace

TEST_CASE("server: answers GET /healthz on an ephemeral port", "[server]") {
    fresh_server s;
    raw_client c(s.port());
    c.send(get("/healthz"));
    auto res = c.response();
    CHECK(res.result() == bhttp::status::ok);
    CHECK(res[bhttp::field::content_type] == "application/json");
    CHECK(nlohmann::json::parse(res.body()).at("status") == "ok");
    CHECK(generated_id(res["X-Request-Id"]));
}

TEST_CASE("server: echoes a valid X-Request-Id and replaces an invalid one", "[server]") {
    fresh_server s;
    raw_client c(s.port());
    c.send(get("/healthz", "X-Request-Id: abc.DEF_123-x\r\n"));
    CHECK(c.response()["X-Request-Id"] == "abc.DEF_123-x");
    c.send(get("/healthz", "X-Request-Id: not valid!\r\n"));
    CHECK(generated_id(c.response()["X-Request-Id"]));
    c.send(get("/healthz", "X-Request-Id: " + std::string(65, 'a') + "\r\n"));
    auto third = c.response();
    CHECK(generated_id(third["X-Request-Id"]));
    // Generated ids differ from one request to the next.
    c.send(get("/healthz"));
    CHECK(c.response()["X-Request-Id"] != third["X-Request-Id"]);
}

TEST_CASE("server: keeps a connection alive across requests", "[server]") {
    fresh_server s;
    raw_client c(s.port());
    c.send(get("/healthz"));
    auto first = c.response();
    CHECK(first.result() == bhttp::status::ok);
    CHECK(first.keep_alive());
    c.send(enroll(s, "m-keep"));
    auto second = c.response();
    CHECK(second.result() == bhttp::status::created);
    CHECK(second.keep_alive());
    // Connection: close is honoured: answered, then closed.
    c.send(get("/healthz", "Connection: close\r\n"));
    auto last = c.response();
    CHECK(last.result() == bhttp::status::ok);
    CHECK_FALSE(last.keep_alive());
    CHECK(closed(c.wait_closed(3s)));
}

TEST_CASE("server: a response to HEAD carries no body", "[server]") {
    fresh_server s;
    raw_client c(s.port());
    c.send(get("/healthz"));
    auto whole = c.response();
    c.send("HEAD /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    auto head = c.response(true);
    // The GET's status and length, without its body.
    CHECK(head.result() == bhttp::status::ok);
    CHECK(head[bhttp::field::content_length] == std::to_string(whole.body().size()));
    CHECK(head.body().empty());
    // An API read too, with its key.
    c.send(enroll(s, "m-head"));
    CHECK(c.response().result() == bhttp::status::created);
    std::string key = "Authorization: Bearer " + s.secret + "\r\n";
    c.send(get("/v1/members/m-head", key));
    auto member = c.response();
    c.send("HEAD /v1/members/m-head HTTP/1.1\r\nHost: 127.0.0.1\r\n" + key + "\r\n");
    auto member_head = c.response(true);
    CHECK(member_head.result() == bhttp::status::ok);
    CHECK(member_head[bhttp::field::content_length] == std::to_string(member.body().size()));
    CHECK(member_head.body().empty());
    // Had a body been sent, it would now be read as the next response.
    c.send(get("/healthz", "X-Request-Id: after-head\r\n"));
    auto next = c.response();
    CHECK(next.result() == bhttp::status::ok);
    CHECK(next["X-Request-Id"] == "after-head");
}

TEST_CASE("server: answers pipelined requests in order", "[server]") {
    fresh_server s(test_options(), 50ms);
    raw_client c(s.port());
    // The write waits for the writer's batch window; the read after it is instant. Both are
    // sent at once and must come back in the order asked.
    c.send(enroll(s, "m-pipe", "X-Request-Id: first\r\n") +
           get("/healthz", "X-Request-Id: second\r\n") +
           get("/v1/members/m-pipe",
               "Authorization: Bearer " + s.secret + "\r\nX-Request-Id: third\r\n"));
    auto first = c.response();
    auto second = c.response();
    auto third = c.response();
    CHECK(first["X-Request-Id"] == "first");
    CHECK(first.result() == bhttp::status::created);
    CHECK(second["X-Request-Id"] == "second");
    CHECK(second.result() == bhttp::status::ok);
    CHECK(third["X-Request-Id"] == "third");
    CHECK(third.result() == bhttp::status::ok);
}

TEST_CASE("server: reads a request that arrives a few bytes at a time", "[server]") {
    fresh_server s;
    raw_client c(s.port());
    // Pieces of 7 bytes with a pause between them: the header and the body each come in many
    // reads, so the server must wait for more after parsing what it holds, more than once.
    auto trickle = [&](const std::string& request) {
        for (std::size_t at = 0; at < request.size(); at += 7) {
            c.send(request.substr(at, 7));
            std::this_thread::sleep_for(2ms);
        }
    };
    trickle(enroll(s, "m-trickle", "X-Request-Id: slow-one\r\n"));
    auto created = c.response();
    CHECK(created.result() == bhttp::status::created);
    CHECK(created["X-Request-Id"] == "slow-one");
    // A whole request after a partial one in the same piece: the second waits in the buffer.
    std::string lookup = get("/v1/members/m-trickle", "Authorization: Bearer " + s.secret + "\r\n");
    trickle(lookup.substr(0, 20));
    c.send(lookup.substr(20) + get("/healthz"));
    auto member = c.response();
    CHECK(member.result() == bhttp::status::ok);
    CHECK(nlohmann::json::parse(member.body()).at("member_id") == "m-trickle");
    CHECK(c.response().result() == bhttp::status::ok);
}

TEST_CASE("server: answers Expect: 100-continue before the body", "[server]") {
    fresh_server s;
    raw_client c(s.port());
    std::string body = nlohmann::json{{"member_id", "m-continue"}}.dump();
    c.send("POST /v1/members HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + s.secret +
           "\r\nContent-Type: application/json\r\nExpect: 100-continue\r\nContent-Length: " +
           std::to_string(body.size()) + "\r\n\r\n");
    CHECK(c.response().result() == bhttp::status::continue_);
    c.send(body);
    CHECK(c.response().result() == bhttp::status::created);
}

TEST_CASE("server: a body over the limit gets 413 and the server serves on", "[server]") {
    fresh_server s;
    {
        raw_client c(s.port());
        std::string body(2000, 'x');
        c.send("POST /v1/members HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Request-Id: big-one\r\n"
               "Content-Type: application/json\r\nContent-Length: " +
               std::to_string(body.size()) + "\r\n\r\n" + body);
        auto res = c.response();
        CHECK(res.result() == bhttp::status::payload_too_large);
        CHECK(problem_type(res) == "body-too-large");
        CHECK(res["X-Request-Id"] == "big-one");
        CHECK_FALSE(res.keep_alive());
        CHECK(closed(c.wait_closed(3s)));
    }
    {
        // Chunked: the limit holds without a Content-Length too.
        raw_client c(s.port());
        std::string chunk(800, 'y');
        c.send("POST /v1/members HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n"
               "Content-Type: application/json\r\n\r\n320\r\n" +
               chunk + "\r\n320\r\n" + chunk + "\r\n0\r\n\r\n");
        auto res = c.response();
        CHECK(res.result() == bhttp::status::payload_too_large);
        CHECK(problem_type(res) == "body-too-large");
    }
    raw_client other(s.port());
    other.send(get("/healthz"));
    CHECK(other.response().result() == bhttp::status::ok);
    other.send(get("/metrics"));
    CHECK_THAT(other.response().body(),
               Catch::Contains("loyalty_http_limit_hits_total{limit=\"body_size\"} 2\n"));
}

TEST_CASE("server: headers over the limit get 431", "[server]") {
    fresh_server s;
    raw_client c(s.port());
    c.send(get("/healthz", "X-Filler: " + std::string(4000, 'a') + "\r\n"));
    auto res = c.response();
    CHECK(res.result() == bhttp::status::request_header_fields_too_large);
    CHECK(problem_type(res) == "headers-too-large");
    CHECK(generated_id(res["X-Request-Id"]));
    CHECK(closed(c.wait_closed(3s)));

    raw_client other(s.port());
    other.send(get("/healthz"));
    CHECK(other.response().result() == bhttp::status::ok);
}

TEST_CASE("server: malformed HTTP gets 400 and the connection is closed", "[server]") {
    fresh_server s;
    for (std::string garbage :
         {std::string("this is not http\r\n\r\n"),
          std::string("GET / HTTP/1.1\r\nBad Header\r\n\r\n"),
          std::string("POST /v1/members HTTP/1.1\r\nContent-Length: 12x\r\n\r\n")}) {
        INFO(garbage);
        raw_client c(s.port());
        c.send(garbage);
        auto res = c.response();
        CHECK(res.result() == bhttp::status::bad_request);
        CHECK(problem_type(res) == "bad-http");
        CHECK(generated_id(res["X-Request-Id"]));
        CHECK_FALSE(res.keep_alive());
        CHECK(closed(c.wait_closed(3s)));
    }
    raw_client other(s.port());
    other.send(get("/metrics"));
    CHECK_THAT(other.response().body(),
               Catch::Contains("loyalty_http_limit_hits_total{limit=\"bad_http\"} 3\n"));
}

TEST_CASE("server: trailer fields are refused, never read as headers", "[server]") {
    // Beast adds a chunked body's trailer to the header fields: an Authorization (or an
    // Idempotency-Key) in the trailer was used as if a proxy in front had seen it as a header.
    fresh_server s;
    const std::string body = nlohmann::json{{"member_id", "m-trailer"}}.dump();
    char size[16];
    std::snprintf(size, sizeof size, "%zx", body.size());
    for (const std::string& trailer :
         {"Authorization: Bearer " + s.secret, std::string("X-Anything: 1")}) {
        INFO(trailer);
        raw_client c(s.port());
        c.send(
            "POST /v1/members HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n" +
            std::string(
                trailer.rfind("Auth", 0) == 0 ? "" : "Authorization: Bearer " + s.secret + "\r\n") +
            "Transfer-Encoding: chunked\r\n\r\n" + size + "\r\n" + body + "\r\n0\r\n" + trailer +
            "\r\n\r\n");
        auto res = c.response();
        CHECK(res.result() == bhttp::status::bad_request);
        CHECK(problem_type(res) == "bad-http");
        CHECK_THAT(res.body(), Catch::Contains("Trailer fields are not accepted"));
        CHECK(closed(c.wait_closed(3s)));
    }
    // Nothing was enrolled; without a trailer the same request is.
    raw_client c(s.port());
    c.send(get("/v1/members/m-trailer", "Authorization: Bearer " + s.secret + "\r\n"));
    CHECK(c.response().result() == bhttp::status::not_found);
    c.send("POST /v1/members HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
           "Authorization: Bearer " +
           s.secret + "\r\nTransfer-Encoding: chunked\r\n\r\n" + size + "\r\n" + body +
           "\r\n0\r\n\r\n");
    CHECK(c.response().result() == bhttp::status::created);
}

TEST_CASE("server: a header that could be read two ways is refused", "[server]") {
    fresh_server s;
    const std::string auth = "Authorization: Bearer " + s.secret + "\r\n";
    struct row {
        std::string request;
        bhttp::status status;
        std::string type;
        std::string detail;
    } rows[] = {
        // A coding this server cannot decode: the body would be read as if it were not encoded.
        {"POST /v1/members HTTP/1.1\r\nHost: x\r\n" + auth +
             "Content-Type: application/json\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
         bhttp::status::not_implemented, "unsupported-transfer-coding",
         "Transfer-Encoding: gzip is not supported"},
        {"POST /v1/members HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, chunked\r\n\r\n",
         bhttp::status::bad_request, "bad-http", "chunked is applied once"},
        {"POST /v1/members HTTP/1.0\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n",
         bhttp::status::bad_request, "bad-http", "HTTP/1.0"},
        {"GET /healthz HTTP/1.1\r\n\r\n", bhttp::status::bad_request, "bad-http",
         "one Host header field; this one has 0"},
        {"GET /healthz HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", bhttp::status::bad_request,
         "bad-http", "this one has 2"},
        {"GET /v1/members/m-1 HTTP/1.1\r\nHost: a\r\n" + auth + auth + "\r\n",
         bhttp::status::bad_request, "bad-http", "Authorization is given more than once"},
        {"POST /v1/members HTTP/1.1\r\nHost: a\r\n" + auth +
             "Idempotency-Key: k1\r\nIdempotency-Key: k2\r\nContent-Type: application/json\r\n"
             "Content-Length: 2\r\n\r\n{}",
         bhttp::status::bad_request, "bad-http", "Idempotency-Key is given more than once"},
        {"POST /v1/members HTTP/1.1\r\nHost: a\r\n" + auth +
             "Content-Type: application/json\r\nContent-Type: text/plain\r\n"
             "Content-Length: 2\r\n\r\n{}",
         bhttp::status::bad_request, "bad-http", "Content-Type is given more than once"},
    };
    for (const row& r : rows) {
        INFO(r.request);
        raw_client c(s.port());
        c.send(r.request);
        auto res = c.response();
        CHECK(res.result() == r.status);
        CHECK(problem_type(res) == r.type);
        CHECK_THAT(res.body(), Catch::Contains(r.detail));
        CHECK_FALSE(res.keep_alive());
        CHECK(closed(c.wait_closed(3s)));
    }
    // HTTP/1.0 needs no Host; one is still enough.
    raw_client c(s.port());
    c.send("GET /healthz HTTP/1.0\r\n\r\n");
    CHECK(c.response().result() == bhttp::status::ok);
}

TEST_CASE("server: a Transfer-Encoding other than a final chunked is refused, not smuggled",
          "[server]") {
    fresh_server s;
    for (const char* coding : {"xchunked", "chunked, identity", "identity", "gzip"}) {
        INFO(coding);
        raw_client c(s.port());
        c.send(std::string("POST /v1/members HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: ") + coding +
               "\r\n\r\n" + get("/healthz"));
        auto res = c.response();
        CHECK(res.result() == bhttp::status::bad_request);
        CHECK(problem_type(res) == "bad-http");
        CHECK_FALSE(res.keep_alive());
        // The request hidden behind it is never answered.
        CHECK(closed(c.wait_closed(3s)));
    }
}

TEST_CASE("server: a request that stalls is cut after the read timeout", "[server]") {
    fresh_server s; // read_timeout 1 s
    raw_client c(s.port());
    auto started = std::chrono::steady_clock::now();
    c.send("POST /v1/members HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 50\r\n\r\n{\"mem");
    auto ended = c.wait_closed(4s);
    auto waited = std::chrono::steady_clock::now() - started;
    CHECK(closed(ended));
    CHECK(waited >= 900ms);
    CHECK(waited < 3s);

    // The client may see the close a moment before the server has counted it: ask again for a
    // bounded while.
    std::string metrics;
    for (int attempt = 0; attempt < 40; ++attempt) {
        raw_client other(s.port());
        other.send(get("/metrics"));
        metrics = other.response().body();
        if (metrics.find("loyalty_http_limit_hits_total{limit=\"timeout\"} 1\n") !=
            std::string::npos) {
            break;
        }
        std::this_thread::sleep_for(50ms);
    }
    CHECK_THAT(metrics, Catch::Contains("loyalty_http_limit_hits_total{limit=\"timeout\"} 1\n"));
}

TEST_CASE("server: an idle keep-alive connection is closed after the idle timeout", "[server]") {
    auto options = test_options();
    options.idle_timeout = 1s;
    options.read_timeout = 10s;
    fresh_server s(options);
    raw_client c(s.port());
    c.send(get("/healthz"));
    CHECK(c.response().result() == bhttp::status::ok);
    auto started = std::chrono::steady_clock::now();
    CHECK(closed(c.wait_closed(4s)));
    auto waited = std::chrono::steady_clock::now() - started;
    CHECK(waited >= 900ms);
    CHECK(waited < 3s);
}

TEST_CASE("server: connections beyond max_connections get 503", "[server]") {
    auto options = test_options();
    options.max_connections = 2;
    fresh_server s(options);
    raw_client first(s.port());
    raw_client second(s.port());
    // A request on each makes sure both were accepted before the third comes.
    first.send(get("/healthz"));
    CHECK(first.response().result() == bhttp::status::ok);
    second.send(get("/healthz"));
    CHECK(second.response().result() == bhttp::status::ok);

    {
        raw_client third(s.port());
        third.send(get("/healthz"));
        auto res = third.response();
        CHECK(res.result() == bhttp::status::service_unavailable);
        CHECK(problem_type(res) == "too-many-connections");
        CHECK(res[bhttp::field::retry_after] == "1");
        CHECK_FALSE(res.keep_alive());
        CHECK(generated_id(res["X-Request-Id"]));
        CHECK(closed(third.wait_closed(3s)));
    }

    // The two served connections still work; once one is done, a new one is served.
    first.send(get("/healthz"));
    CHECK(first.response().result() == bhttp::status::ok);
    second.send(get("/healthz", "Connection: close\r\n"));
    CHECK(second.response().result() == bhttp::status::ok);
    CHECK(closed(second.wait_closed(3s)));

    // Its place was freed when it stopped serving, before it even finished closing.
    raw_client next(s.port());
    next.send(get("/healthz"));
    CHECK(next.response().result() == bhttp::status::ok);
}

TEST_CASE("server: stop() answers the request in flight, closes idle connections and returns",
          "[server]") {
    fresh_server s(test_options(), 300ms);
    raw_client idle(s.port());
    idle.send(get("/healthz"));
    CHECK(idle.response().result() == bhttp::status::ok);

    raw_client busy(s.port());
    busy.send(enroll(s, "m-in-flight"));
    // The enrollment now waits in the writer's 300 ms batch window.
    std::this_thread::sleep_for(100ms);
    auto stop_called = std::chrono::steady_clock::now();
    std::thread stopper([&] { s.server->stop(); });

    auto res = busy.response();
    CHECK(res.result() == bhttp::status::created);
    CHECK_FALSE(res.keep_alive());
    CHECK(closed(busy.wait_closed(3s)));
    CHECK(closed(idle.wait_closed(3s)));

    CHECK(s.returned_within(5s));
    CHECK(std::chrono::steady_clock::now() - stop_called < 3s);
    stopper.join();

    // The listener is closed: nobody connects any more.
    asio::io_context ioc;
    tcp::socket late(ioc);
    error_code ec;
    late.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), s.port()), ec);
    CHECK(ec == asio::error::connection_refused);

    // The enrollment was committed.
    auto member = s.ledger->member(
        "m-in-flight", std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now()));
    CHECK(member);
}

TEST_CASE("server: SIGTERM stops it like stop()", "[server]") {
    fresh_server s(test_options(), 1ms, true);
    raw_client c(s.port());
    // Answered: run() has installed its signal handling.
    c.send(get("/healthz"));
    CHECK(c.response().result() == bhttp::status::ok);
    REQUIRE(::kill(::getpid(), SIGTERM) == 0);
    CHECK(closed(c.wait_closed(3s)));
    CHECK(s.returned_within(3s));
}

TEST_CASE("server: stop() before any connection returns at once", "[server]") {
    fresh_server s;
    auto started = std::chrono::steady_clock::now();
    s.server->stop();
    CHECK(s.returned_within(3s));
    CHECK(std::chrono::steady_clock::now() - started < 1s);
}

TEST_CASE("server: refuses an address it cannot listen on", "[server]") {
    test::temp_dir dir;
    ledger::ledger_options lo;
    lo.database = dir / "loyalty.db";
    ledger::ledger l(lo, test::sample_path());
    auto options = test_options();
    options.address = "not an address";
    CHECK_THROWS_WITH(http::server(options, l),
                      "invalid listen address 'not an address': expected an IP address such as "
                      "127.0.0.1 or 0.0.0.0, or localhost");
    // localhost is the loopback.
    options.address = "localhost";
    http::server local(options, l);
    CHECK(local.port() != 0);

    http::server taken(test_options(), l);
    options = test_options();
    options.port = taken.port();
    CHECK_THROWS_AS(http::server(options, l), std::runtime_error);
}

TEST_CASE("server: HEAD answers every GET route with the GET's status and headers, a refusal too",
          "[server][head]") {
    fresh_server s;
    const std::string till =
        ledger::create_api_key(s.dir / "loyalty.db", ledger::role::pos, {}, "till").secret;
    raw_client c(s.port());
    int compared = 0;
    for (const auto& route : http::router::routes()) {
        // /metrics counts the GET before it, so its HEAD is one line longer by design.
        if (route.method != "GET" || route.pattern == "/metrics") {
            continue;
        }
        const std::string target =
            std::regex_replace(route.pattern, std::regex(R"(\{[a-z_]+\})"), "x1");
        for (const std::string& key : {till, s.secret}) {
            const std::string headers =
                "Authorization: Bearer " + key + "\r\nX-Request-Id: same-request\r\n";
            c.send(get(target, headers));
            auto whole = c.response();
            c.send("HEAD " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" + headers + "\r\n");
            auto head = c.response(true);
            INFO(target << " as " << (key == till ? "pos" : "admin") << ": GET answered "
                        << whole.result_int() << " " << whole.body());
            CHECK(head.result() == whole.result());
            CHECK(head[bhttp::field::content_length] == whole[bhttp::field::content_length]);
            CHECK(head[bhttp::field::content_type] == whole[bhttp::field::content_type]);
            CHECK(head.body().empty());
            ++compared;
        }
    }
    // Support-only reads refuse the till: those are among the answers compared.
    CHECK(compared >= 20);
}
