// The REST API, reached two ways by the same tests: in-process through router::handle, as the
// server's sessions call it, and over a real server on 127.0.0.1 with an ephemeral port, on one
// kept-alive connection. The whole member journey, every route against every role, every refusal
// with its exact status and problem type (and proof that it stored nothing), store-bound keys,
// idempotent retries, the per-key rate limit, media types and the nesting limit. Every request
// must be answered exactly once, echoing its id; over HTTP every answer must also carry an exact
// Content-Length and keep the connection open unless the request asked to close it.

#include "loyalty/engine/event_json.hpp"
#include "loyalty/engine/local_time.hpp"
#include "loyalty/http/metrics.hpp"
#include "loyalty/http/router.hpp"
#include "loyalty/http/server.hpp"
#include "loyalty/ledger/api_keys.hpp"
#include "loyalty/ledger/ledger.hpp"
#include "loyalty/program/load.hpp"
#include "support/http_client.hpp"
#include "support/sample_program.hpp"
#include "support/temp_dir.hpp"

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <exception>
#include <future>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <regex>
#include <set>
#include <spdlog/spdlog.h>
#include <sqlite3.h>
#include <string>
#include <thread>
#include <utility>
#include <vector>

using namespace loyalty;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

namespace bhttp = boost::beast::http;
using bhttp::verb;

const std::string problem_prefix = "https://loyalty.example/problems/";
const std::string bad_secret = "lk_not_a_key_anyone_was_given";

// One answer as a client sees it.
struct reply {
    std::string what; // "POST /v1/transactions", for failure messages
    http::response res;

    unsigned status() const { return res.result_int(); }
    std::string header(std::string_view name) const { return std::string(res[name]); }
    json body() const { return json::parse(res.body(), nullptr, false); }
};

http::router_options roomy() {
    http::router_options o;
    o.rate_per_second = 1e6;
    o.burst = 1e6;
    return o;
}

std::string now_text() {
    return engine::format_rfc3339(
        std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now()));
}

// Double Tuesdays double the base rule: the purchase's local weekday decides.
std::int64_t tuesday_factor(const std::string& occurred_at) {
    auto t = engine::parse_rfc3339(occurred_at);
    REQUIRE(t);
    return engine::local_fields_of(test::sample_program().time_zone, *t).weekday == 2 ? 2 : 1;
}

json line(const std::string& id, const std::string& sku, const std::string& category, json quantity,
          json unit_price) {
    return {{"line_id", id},
            {"sku", sku},
            {"category", category},
            {"quantity", std::move(quantity)},
            {"unit_price", std::move(unit_price)}};
}

// Two lattes at $5 and a croissant at $3: 26 base leaves (52 on a Tuesday) + 1 bakery leaf.
json basket(const std::string& transaction_id, const std::string& member_id,
            const std::string& store_id = "s-1") {
    return {{"transaction_id", transaction_id},
            {"member_id", member_id},
            {"store_id", store_id},
            {"channel", "store"},
            {"occurred_at", now_text()},
            {"currency", "USD"},
            {"lines", json::array({line("1", "LATTE", "coffee", 2, 500),
                                   line("2", "CROISSANT", "bakery", 1, 300)})}};
}

std::int64_t basket_points(const json& purchase) {
    return 26 * tuesday_factor(purchase.at("occurred_at").get<std::string>()) + 1;
}

// How the tests reach the API. Each test runs once per transport; the transport's name ends the
// test's name, so a failure says which.
enum class transport { in_process, over_http };
struct in_process {
    static constexpr transport kind = transport::in_process;
};
struct over_http {
    static constexpr transport kind = transport::over_http;
};

// One way to the API: hands over one request and returns its one answer. `id` is the request id
// the answer must echo in X-Request-Id.
class client {
public:
    virtual ~client() = default;
    virtual http::response send(http::request req, const std::string& id) = 0;
};

// Straight into router::handle, as the server's sessions call it. A second answer to a request
// is counted in `extra_answers`, which the owner checks once the ledger has finished its writes.
class router_client final : public client {
public:
    router_client(ledger::ledger& l, const http::router_options& options,
                  std::shared_ptr<std::atomic<int>> extra_answers)
        : router_(l, options, metrics_), extra_answers_(std::move(extra_answers)) {}

    http::response send(http::request req, const std::string& id) override {
        auto answered = std::make_shared<std::promise<http::response>>();
        auto times = std::make_shared<std::atomic<int>>(0);
        auto future = answered->get_future();
        router_.handle(std::move(req), id, [answered, times, extra = extra_answers_](auto res) {
            if (times->fetch_add(1) == 0) {
                answered->set_value(std::move(res));
            } else {
                extra->fetch_add(1);
            }
        });
        REQUIRE(future.wait_for(10s) == std::future_status::ready);
        return future.get();
    }

private:
    http::metrics metrics_;
    http::router router_;
    std::shared_ptr<std::atomic<int>> extra_answers_;
};

// A real server over the test's ledger, on 127.0.0.1 with an ephemeral port and otherwise the
// default limits, running on its own thread. Destroyed, it stops the server and joins the thread
// however the test ends: after a failed REQUIRE too.
class running_server {
public:
    running_server(ledger::ledger& l, const http::router_options& routing) {
        http::server_options o;
        o.address = "127.0.0.1";
        o.port = 0;
        o.threads = 2;
        o.routing = routing;
        server_ = std::make_unique<http::server>(o, l);
        REQUIRE(server_->port() != 0);
        thread_ = std::thread([this] {
            try {
                server_->run(false);
            } catch (...) {
                failure_ = std::current_exception();
            }
            returned_.set_value();
        });
    }
    running_server(const running_server&) = delete;
    running_server& operator=(const running_server&) = delete;
    ~running_server() {
        const auto stop_called = std::chrono::steady_clock::now();
        server_->stop();
        // With no request in flight, run() returns as soon as the connections are closed.
        const bool returned = returned_.get_future().wait_for(15s) == std::future_status::ready;
        const auto took = std::chrono::steady_clock::now() - stop_called;
        thread_.join();
        if (std::uncaught_exceptions() == 0) {
            CHECK(returned);
            CHECK(took < 3s);
            CHECK(failure_ == nullptr);
        }
    }

    std::uint16_t port() const { return server_->port(); }

private:
    std::unique_ptr<http::server> server_;
    std::promise<void> returned_;
    std::exception_ptr failure_;
    std::thread thread_;
};

// Over HTTP: every request on one kept-alive connection to a running server. Besides the answer
// itself, every response must be exactly as long as its Content-Length says and keep the
// connection open unless the request said Connection: close. A close nobody asked for is counted
// and fails the test; the connection is then reopened so the test goes on.
class http_transport_client final : public client {
public:
    http_transport_client(ledger::ledger& l, const http::router_options& options)
        : server_(l, options), connection_(server_.port()) {}
    http_transport_client(const http_transport_client&) = delete;
    http_transport_client& operator=(const http_transport_client&) = delete;
    ~http_transport_client() override {
        if (std::uncaught_exceptions() == 0) {
            INFO("over HTTP: " << connection_.connects() << " connection(s) for " << requests_
                               << " request(s), " << expected_closes_ << " close(s) asked for");
            CHECK(unexpected_closes_ == 0);
            // A connection is opened first and then only after a close.
            CHECK(connection_.connects() <= 1 + expected_closes_ + unexpected_closes_);
        }
        connection_.close(); // before the server stops: it has nothing left to wait for
    }

    http::response send(http::request req, const std::string& id) override {
        ++requests_;
        req.set("X-Request-Id", id);
        if (!req.body().empty() && !req.has_content_length() && !req.chunked()) {
            req.prepare_payload();
        }
        const bool keep_alive = req.keep_alive();
        auto x = connection_.round_trip(req);
        INFO("over HTTP, request " << requests_ << " on "
                                   << (x.reused ? "a reused connection" : "a new connection"));
        if (x.found_closed) {
            ++unexpected_closes_;
        }
        CHECK_FALSE(x.found_closed); // the server closed a kept-alive connection without a word
        CHECK(x.stray_bytes == 0);   // the server sent more than its last response
        INFO("failed at " << x.stage << ": " << x.ec.message());
        REQUIRE_FALSE(x.ec);
        if (requests_ > 1 && !previous_closed_) {
            CHECK(x.reused); // kept alive since the last answer
        }

        const http::response& res = x.res;
        INFO("answered " << res.result_int() << " " << res.body());
        CHECK(res.version() == 11);
        CHECK_FALSE(res.chunked());
        CHECK(res.has_content_length());
        CHECK(res[bhttp::field::content_length] == std::to_string(res.body().size()));
        if (keep_alive) {
            if (!res.keep_alive()) {
                ++unexpected_closes_;
            }
            CHECK(res.keep_alive());
        } else {
            CHECK_FALSE(res.keep_alive());
            ++expected_closes_;
        }
        previous_closed_ = !res.keep_alive();
        return std::move(x.res);
    }

private:
    running_server server_;
    test::http_client connection_; // after the server: closed before it stops
    int requests_ = 0;
    int expected_closes_ = 0;
    int unexpected_closes_ = 0;
    bool previous_closed_ = false;
};

// A ledger on a fresh file, its keys, and the API in front of it over the given transport.
class api {
public:
    explicit api(transport t, http::router_options options = roomy()) {
        previous_level_ = spdlog::get_level();
        spdlog::set_level(spdlog::level::warn); // one info line per request otherwise
        // Keys made before the ledger opens the file, as `loyalty keys create` does offline.
        admin = create_key(ledger::role::admin);
        support = create_key(ledger::role::support);
        pos = create_key(ledger::role::pos);
        ledger::ledger_options o;
        o.database = db();
        o.synchronous_full = false; // durability is the ledger's tests' business
        ledger_ = std::make_unique<ledger::ledger>(o, test::sample_path());
        if (t == transport::in_process) {
            client_ = std::make_unique<router_client>(*ledger_, options, extra_answers_);
        } else {
            client_ = std::make_unique<http_transport_client>(*ledger_, options);
        }
    }
    api(const api&) = delete;
    api& operator=(const api&) = delete;
    ~api() {
        client_.reset(); // the server stops, or the router goes, while the ledger is still there
        ledger_.reset(); // finishes queued writes: any late second answer has happened by now
        if (std::uncaught_exceptions() == 0) {
            CHECK(extra_answers_->load() == 0);
        }
        spdlog::set_level(previous_level_);
    }

    std::filesystem::path db() const { return dir_ / "loyalty.db"; }

    std::string create_key(ledger::role r, std::optional<std::string> store = std::nullopt) {
        return create_key_full(r, std::move(store)).secret;
    }
    ledger::created_key create_key_full(ledger::role r,
                                        std::optional<std::string> store = std::nullopt) {
        return ledger::create_api_key(db(), r, std::move(store), "test " + ledger::to_string(r));
    }

    static http::request make(verb method, const std::string& target, const std::string& secret) {
        http::request req{method, target, 11};
        req.set(bhttp::field::host, "loyalty.test");
        if (!secret.empty()) {
            req.set(bhttp::field::authorization, "Bearer " + secret);
        }
        return req;
    }

    // Sends `req` and returns its one answer, which must echo the request id.
    reply send(http::request req) {
        std::string id = "req-" + std::to_string(++requests_);
        reply r;
        r.what = std::string(req.method_string()) + " " + std::string(req.target());
        INFO(r.what);
        r.res = client_->send(std::move(req), id);
        CHECK(r.header("X-Request-Id") == id);
        return r;
    }

    reply get(const std::string& target, const std::string& secret) {
        return send(make(verb::get, target, secret));
    }
    reply post_text(const std::string& target, const std::string& secret, const std::string& body,
                    const std::string& content_type = "application/json",
                    const std::vector<std::pair<std::string, std::string>>& headers = {}) {
        auto req = make(verb::post, target, secret);
        if (!content_type.empty()) {
            req.set(bhttp::field::content_type, content_type);
        }
        for (const auto& [name, value] : headers) {
            req.set(name, value);
        }
        req.body() = body;
        req.prepare_payload();
        return send(std::move(req));
    }
    reply post(const std::string& target, const std::string& secret, const json& body,
               const std::vector<std::pair<std::string, std::string>>& headers = {}) {
        return post_text(target, secret, body.dump(), "application/json", headers);
    }

    void enroll(const std::string& member_id) {
        auto r = post("/v1/members", admin, {{"member_id", member_id}, {"name", "Ada"}});
        INFO(r.res.body());
        REQUIRE(r.status() == 201);
    }

    // The member as GET /v1/members/{id} shows it, byte for byte.
    std::string member_text(const std::string& member_id) {
        auto r = get("/v1/members/" + member_id, admin);
        INFO(r.res.body());
        REQUIRE(r.status() == 200);
        return r.res.body();
    }

    // Accepted writes, counted straight from the file.
    std::int64_t operations() const {
        sqlite3* handle = nullptr;
        REQUIRE(sqlite3_open_v2(db().c_str(), &handle, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK);
        sqlite3_stmt* s = nullptr;
        REQUIRE(sqlite3_prepare_v2(handle, "SELECT COUNT(*) FROM operations", -1, &s, nullptr) ==
                SQLITE_OK);
        REQUIRE(sqlite3_step(s) == SQLITE_ROW);
        std::int64_t n = sqlite3_column_int64(s, 0);
        sqlite3_finalize(s);
        sqlite3_close(handle);
        return n;
    }

    std::string admin;
    std::string support;
    std::string pos;

private:
    test::temp_dir dir_;
    std::unique_ptr<ledger::ledger> ledger_;
    std::shared_ptr<std::atomic<int>> extra_answers_ = std::make_shared<std::atomic<int>>(0);
    std::unique_ptr<client> client_; // after the ledger, which must outlive it
    int requests_ = 0;
    spdlog::level::level_enum previous_level_ = spdlog::level::info;
};

// What a member looks like and how many writes there are: a refused request changes neither.
struct snapshot {
    std::string member;
    std::int64_t operations = 0;

    static snapshot of(api& a, const std::string& member_id) {
        return {a.member_text(member_id), a.operations()};
    }
};

void check_unchanged(api& a, const snapshot& before, const std::string& member_id) {
    auto after = snapshot::of(a, member_id);
    CHECK(after.member == before.member);
    CHECK(after.operations == before.operations);
}

// An RFC 9457 answer with this status and type, naming `fields` when given.
void check_problem(const reply& r, unsigned status, const std::string& type,
                   const std::optional<std::vector<std::string>>& fields = std::nullopt) {
    INFO(r.what << " -> " << r.status() << " " << r.res.body());
    CHECK(r.status() == status);
    if (r.status() != status) {
        return; // the body above says what came instead
    }
    CHECK(r.header("Content-Type") == "application/problem+json");
    CHECK(r.header("Cache-Control") == "no-store");
    CHECK(r.header("X-Content-Type-Options") == "nosniff");
    json body = r.body();
    REQUIRE(body.is_object());
    CHECK(body.value("type", "") == problem_prefix + type);
    CHECK(body.value("status", 0u) == status);
    CHECK(body.value("title", "") != "");
    if (fields) {
        CHECK(body.value("fields", json::array()) == json(*fields));
    }
}

json ok_json(const reply& r, unsigned status) {
    INFO(r.what << " -> " << r.status() << " " << r.res.body());
    REQUIRE(r.status() == status);
    CHECK(r.header("Content-Type") == "application/json");
    CHECK(r.header("X-Content-Type-Options") == "nosniff");
    json body = r.body();
    REQUIRE_FALSE(body.is_discarded());
    return body;
}

} // namespace

TEMPLATE_TEST_CASE("router: a member's journey through the API, one answer per request", "[router]",
                   in_process, over_http) {
    api a(TestType::kind);

    // An address mistyped at the till is refused, and enrols no one.
    check_problem(a.post("/v1/members", a.pos,
                         {{"member_id", "m-1"}, {"name", "Ada"}, {"email", "ada@example,com"}}),
                  422, "validation-failed", std::vector<std::string>{"email"});
    check_problem(a.get("/v1/members/m-1", a.pos), 404, "not-found");
    // An id nobody who trims what they type could find, and a name that displays reversed.
    check_problem(a.post("/v1/members", a.pos, {{"member_id", " m-1"}}), 422, "validation-failed",
                  std::vector<std::string>{"member_id"});
    check_problem(a.post("/v1/members", a.pos, {{"member_id", "m-1"}, {"name", "Ada \u202eevil"}}),
                  422, "validation-failed", std::vector<std::string>{"name"});
    check_problem(a.post("/v1/members", a.pos, {{"member_id", "m-\u2066x"}}), 422,
                  "validation-failed", std::vector<std::string>{"member_id"});
    check_problem(a.get("/v1/members/m-1", a.pos), 404, "not-found");

    // Enrollment: 25 leaves at once.
    json enrolled = ok_json(a.post("/v1/members", a.pos,
                                   {{"member_id", "m-1"},
                                    {"name", "Ada"},
                                    {"email", "ada@example.com"},
                                    {"birthday", "1990-05-17"}}),
                            201);
    CHECK(enrolled["event_type"] == "enrollment");
    CHECK(enrolled["points"]["earned"] == 25);
    CHECK(enrolled["balance"]["available"] == 25);

    // A purchase: its leaves wait out the 14-day returns window.
    json purchase = basket("t-1", "m-1");
    const std::int64_t factor = tuesday_factor(purchase["occurred_at"].get<std::string>());
    const std::int64_t earned = basket_points(purchase);
    json bought = ok_json(a.post("/v1/transactions", a.pos, purchase), 201);
    CHECK(bought["event_type"] == "purchase");
    CHECK(bought["event"]["transaction_id"] == "t-1");
    CHECK(bought["unit"] == "leaves");
    CHECK(bought["points"]["earned"] == earned);
    CHECK(bought["points"]["pending"] == earned);
    CHECK(bought["balance"] == json{{"available", 25}, {"pending", earned}});

    json member = ok_json(a.get("/v1/members/m-1", a.pos), 200);
    CHECK(member["member_id"] == "m-1");
    CHECK(member["name"] == "Ada");
    CHECK(member["birthday"] == "1990-05-17");
    CHECK(member["balance"] == json{{"available", 25}, {"owed", 0}, {"pending", earned}});
    CHECK(member["tier"]["id"] == "green");
    CHECK(member["lifetime"]["purchases"] == 1);
    CHECK(member["lifetime"]["spend"] == 1300);

    // Returning one latte ($5) takes back its 10 base leaves (20 on a Tuesday).
    json returned = ok_json(a.post("/v1/transactions/t-1/returns", a.pos,
                                   {{"return_id", "ret-1"},
                                    {"store_id", "s-1"},
                                    {"lines", json::array({{{"line_id", "1"}, {"quantity", 1}}})}}),
                            201);
    CHECK(returned["event_type"] == "return");
    CHECK(returned["points"]["reversed"] == 10 * factor);
    CHECK(returned["balance"] == json{{"available", 25}, {"pending", earned - 10 * factor}});

    json adjusted = ok_json(a.post("/v1/members/m-1/adjustments", a.support,
                                   {{"adjustment_id", "adj-1"},
                                    {"points", 500},
                                    {"reason", "goodwill"},
                                    {"note", "late order"}}),
                            201);
    CHECK(adjusted["points"]["adjusted"] == 500);
    CHECK(adjusted["balance"]["available"] == 525);

    json redeemed = ok_json(a.post("/v1/members/m-1/redemptions", a.pos,
                                   {{"redemption_id", "red-1"}, {"reward_id", "brewed_coffee"}}),
                            201);
    CHECK(redeemed["event_type"] == "redemption");
    CHECK(redeemed["points"]["burned"] == 100);
    CHECK(redeemed["balance"]["available"] == 425);
    REQUIRE(redeemed["vouchers"].size() == 1);
    CHECK(redeemed["vouchers"][0]["reward_id"] == "brewed_coffee");
    CHECK(ok_json(a.get("/v1/members/m-1", a.pos), 200)["vouchers"].size() == 1);

    // Points as payment: 200 leaves pay $2 of the $13 purchase.
    json paid =
        ok_json(a.post("/v1/members/m-1/redemptions", a.pos,
                       {{"redemption_id", "pay-1"}, {"points", 200}, {"transaction_id", "t-1"}}),
                201);
    CHECK(paid["event_type"] == "payment");
    CHECK(paid["points"]["burned"] == 200);
    CHECK(paid["balance"]["available"] == 225);

    // Support cancels the coffee: its 100 leaves come back and the voucher goes.
    auto cancel_req = api::make(verb::post, "/v1/redemptions/red-1/cancel", a.support);
    cancel_req.prepare_payload();
    json cancelled = ok_json(a.send(std::move(cancel_req)), 201);
    CHECK(cancelled["event_type"] == "cancellation");
    CHECK(cancelled["points"]["restored"] == 100);
    CHECK(cancelled["balance"]["available"] == 325);
    member = ok_json(a.get("/v1/members/m-1", a.support), 200);
    CHECK(member["balance"] ==
          json{{"available", 325}, {"owed", 0}, {"pending", earned - 10 * factor}});
    CHECK(member["vouchers"].empty());

    // Activity, newest first, whole and in pages of two that chain by cursor.
    json all = ok_json(a.get("/v1/members/m-1/activity?limit=500", a.support), 200);
    CHECK(all["next_cursor"].is_null());
    const json& entries = all["entries"];
    REQUIRE(entries.size() >= 7);
    for (std::size_t i = 1; i < entries.size(); ++i) {
        CHECK(entries[i - 1]["id"].get<std::int64_t>() > entries[i]["id"].get<std::int64_t>());
    }
    // The cancellation restores the 100 leaves to the lots they came from, newest first.
    CHECK(entries.front()["operation"] == "cancellation");
    std::int64_t restored = 0;
    for (const auto& e : entries) {
        if (e["operation"] == "cancellation") {
            restored += e["points"].get<std::int64_t>();
        }
    }
    CHECK(restored == 100);
    // Each entry names the key that asked for its operation: support cancelled, and every
    // other step was one of the test's keys.
    // Each names the key by its name too, as GET /v1/key gives it.
    const std::string support_id = ok_json(a.get("/v1/key", a.support), 200)["id"];
    std::map<std::string, json> keys;
    for (const std::string& secret : {a.pos, a.support, a.admin}) {
        json me = ok_json(a.get("/v1/key", secret), 200);
        keys[me["id"].get<std::string>()] = me["name"];
    }
    for (const auto& e : entries) {
        INFO(e.dump());
        REQUIRE(keys.count(e["actor"].get<std::string>()) == 1);
        CHECK(e["actor_name"] == keys.at(e["actor"].get<std::string>()));
        if (e["operation"] == "cancellation") {
            CHECK(e["actor"] == support_id);
        }
    }
    CHECK(entries.back()["operation"] == "enrollment");
    CHECK(entries.back()["points"] == 25);
    std::set<std::string> operations;
    for (const auto& e : entries) {
        operations.insert(e["operation"].get<std::string>());
    }
    CHECK(operations == std::set<std::string>{"enrollment", "purchase", "return", "adjustment",
                                              "redemption", "payment", "cancellation"});

    json paged = json::array();
    std::string target = "/v1/members/m-1/activity?limit=2";
    for (int pages = 0;; ++pages) {
        REQUIRE(pages < 10);
        json page = ok_json(a.get(target, a.support), 200);
        CHECK(page["entries"].size() <= 2);
        for (const auto& e : page["entries"]) {
            paged.push_back(e);
        }
        if (page["next_cursor"].is_null()) {
            break;
        }
        REQUIRE(page["next_cursor"].is_string());
        CHECK(page["entries"].size() == 2);
        target =
            "/v1/members/m-1/activity?limit=2&cursor=" + page["next_cursor"].get<std::string>();
    }
    CHECK(paged == entries);
    // The empty pieces of "?" and a trailing "&" give nothing: they are no unknown parameter.
    CHECK(ok_json(a.get("/v1/members/m-1/activity?limit=500&", a.support), 200) == all);
    CHECK(ok_json(a.get("/v1/members/m-1/activity?", a.support), 200)["entries"].size() ==
          std::min<std::size_t>(entries.size(), 50));
    CHECK(ok_json(a.get("/v1/members/m-1?", a.support), 200)["member_id"] == "m-1");
    check_problem(a.get("/v1/members/m-1?=1", a.support), 422, "validation-failed",
                  std::vector<std::string>{""});

    // The catalog, with what this member can redeem now (325 available).
    json rewards = ok_json(a.get("/v1/rewards?member_id=m-1", a.pos), 200);
    CHECK(rewards["member_id"] == "m-1");
    REQUIRE(rewards["rewards"].size() == 4);
    std::map<std::string, bool> eligible;
    for (const auto& r : rewards["rewards"]) {
        eligible[r["id"].get<std::string>()] = r["eligible"].get<bool>();
        CHECK(r["reason"].is_null() == r["eligible"].get<bool>());
    }
    CHECK(eligible == std::map<std::string, bool>{{"espresso_shot", true},
                                                  {"brewed_coffee", true},
                                                  {"handcrafted_drink", true},
                                                  {"mug", false}});
    json catalog = ok_json(a.get("/v1/rewards", a.support), 200);
    CHECK(catalog["member_id"].is_null());
    REQUIRE(catalog["rewards"].size() == 4);
    CHECK_FALSE(catalog["rewards"][0].contains("eligible"));

    json program = ok_json(a.get("/v1/program", a.pos), 200);
    CHECK(program["program_id"] == "bean-and-leaf");
    CHECK(program["source"] == test::sample_text());
    const std::string first_hash = program["content_hash"].get<std::string>();
    CHECK_FALSE(first_hash.empty());

    // A quote stores nothing.
    auto before = snapshot::of(a, "m-1");
    json quote_body = basket("t-quote", "m-1");
    json quote = ok_json(a.post("/v1/simulate", a.pos, quote_body), 200);
    CHECK(quote["event_type"] == "purchase");
    CHECK(quote["points"]["earned"] == basket_points(quote_body));
    check_unchanged(a, before, "m-1");

    // A new program version, then one that does not validate: 422 with positions, nothing kept.
    std::string next_text =
        test::sample_text_with("name: Bean & Leaf Rewards", "name: Bean & Leaf Rewards II");
    json version =
        ok_json(a.post_text("/v1/program/versions", a.admin, next_text, "application/yaml"), 201);
    const std::string second_hash = version["content_hash"].get<std::string>();
    CHECK(second_hash != first_hash);
    CHECK(version["program_id"] == "bean-and-leaf");
    CHECK_FALSE(version["activated_at"].is_null());
    CHECK(version["notes"] == json::array()); // no rule or reward has a window
    program = ok_json(a.get("/v1/program", a.pos), 200);
    CHECK(program["content_hash"] == second_hash);
    CHECK(program["source"] == next_text);
    CHECK(program["notes"] == json::array());

    std::string broken = test::sample_text_with("    cost: 400", "    cost: lots");
    std::size_t broken_line = 1;
    for (std::size_t i = 0; i < broken.find("cost: lots"); ++i) {
        broken_line += broken[i] == '\n' ? 1 : 0;
    }
    auto expected = program::load_program(broken, "upload");
    REQUIRE_FALSE(expected);
    auto refused = a.post_text("/v1/program/versions", a.admin, broken, "application/yaml");
    check_problem(refused, 422, "invalid-program");
    json problem = refused.body();
    REQUIRE(problem["errors"].is_array());
    REQUIRE(problem["errors"].size() == expected.error().size());
    for (std::size_t i = 0; i < expected.error().size(); ++i) {
        const auto& d = expected.error()[i];
        CHECK(problem["errors"][i] == json{{"line", d.at.line},
                                           {"column", d.at.column},
                                           {"path", d.path},
                                           {"message", d.message}});
    }
    CHECK(problem["errors"][0]["line"] == broken_line);
    CHECK(problem["errors"][0]["column"].get<int>() > 0);
    CHECK(ok_json(a.get("/v1/program", a.pos), 200)["content_hash"] == second_hash);
    check_problem(a.post_text("/v1/program/versions", a.admin, next_text, "application/xml"), 415,
                  "unsupported-media-type");
    // A stray comma once sent yaml-cpp's LoadAll round for ever, allocating as it went: the check,
    // open to every role, never answered.
    auto stray = a.post_text("/v1/program/check", a.pos, ", b\n", "application/yaml");
    check_problem(stray, 422, "invalid-program");
    CHECK(json(stray.body())["errors"] == json::parse(R"([{"line": 1, "column": 1, "path": "",
                           "message": "not valid YAML or JSON: a `,` outside any [ ] or { }"}])"));

    // Valid, with a rule whose window ended long ago and a reward whose window opens far
    // ahead: both noted where the file says so, nothing stored.
    std::string windowed = test::sample_text_with(
        "    description: Double Tuesdays, base leaves x2\n",
        "    description: Double Tuesdays, base leaves x2\n    active: {until: 2020-01-31}\n");
    windowed.replace(windowed.find("    cost: 100\n"), 14,
                     "    cost: 100\n    active: {from: 2999-01-01}\n");
    json checked =
        ok_json(a.post_text("/v1/program/check", a.pos, windowed, "application/yaml"), 200);
    CHECK(checked["notes"] ==
          json::parse(R"j([{"line": 59, "column": 21, "path": "earn[1].active.until",
                           "message": "earn rule double_tuesday ended at the end of 2020-01-31 (America/New_York): it can earn nothing any more, as whatever is dated before then is more than 60 days late (late_posting.max_days)"
},
                          {"line": 118, "column": 20, "path": "rewards[1].active.from",
                           "message": "reward brewed_coffee cannot be redeemed before its window opens on 2999-01-01 (America/New_York)"}])j"));
    CHECK(ok_json(a.get("/v1/program", a.pos), 200)["content_hash"] == second_hash);

    json health = ok_json(a.get("/healthz", ""), 200);
    CHECK(health["status"] == "ok");
    CHECK(health["program_version"] == second_hash);

    // A client that asks to close is answered so; over HTTP the next request needs a new
    // connection, and only this once.
    auto closing = api::make(verb::get, "/healthz", "");
    closing.keep_alive(false);
    auto closed = a.send(std::move(closing));
    CHECK(closed.status() == 200);
    CHECK_FALSE(closed.res.keep_alive());

    auto metrics = a.get("/metrics", "");
    REQUIRE(metrics.status() == 200);
    CHECK(metrics.header("Content-Type").rfind("text/plain", 0) == 0);
    CHECK(metrics.res.body().find("loyalty_http_requests_total") != std::string::npos);
    CHECK(metrics.res.body().find("route=\"/v1/transactions\"") != std::string::npos);

    // Activated, the program with the closed windows says so on upload and whenever it is read.
    json noted =
        ok_json(a.post_text("/v1/program/versions", a.admin, windowed, "application/yaml"), 201);
    CHECK(noted["notes"] == checked["notes"]);
    CHECK(ok_json(a.get("/v1/program", a.support), 200)["notes"] == checked["notes"]);
}

namespace {

// Who may call what, written from the API's specification (not read from the router).
enum class who { pos, support, admin };

struct route_rule {
    std::string method;
    std::string pattern;
    bool open = false; // no key needed
    std::set<who> roles;
};

const std::vector<route_rule>& access_spec() {
    static const std::vector<route_rule> spec = {
        {"GET", "/healthz", true, {}},
        {"GET", "/metrics", true, {}},
        {"GET", "/v1/openapi.json", true, {}},
        {"POST", "/v1/members", false, {who::pos, who::admin}},
        {"GET", "/v1/members/{member_id}", false, {who::pos, who::support, who::admin}},
        {"GET", "/v1/members/{member_id}/activity", false, {who::support, who::admin}},
        {"GET", "/v1/members/{member_id}/vouchers", false, {who::support, who::admin}},
        {"GET", "/v1/members/{member_id}/audit", false, {who::support, who::admin}},
        {"GET", "/v1/members/{member_id}/tier-history", false, {who::support, who::admin}},
        {"POST", "/v1/members/{member_id}/events", false, {who::pos, who::admin}},
        {"POST", "/v1/members/{member_id}/redemptions", false, {who::pos, who::admin}},
        {"POST", "/v1/members/{member_id}/adjustments", false, {who::support, who::admin}},
        {"POST", "/v1/members/{member_id}/profile-changes", false, {who::support, who::admin}},
        {"POST", "/v1/transactions", false, {who::pos, who::admin}},
        {"POST", "/v1/transactions/{transaction_id}/returns", false, {who::pos, who::admin}},
        {"POST", "/v1/redemptions/{redemption_id}/cancel", false, {who::support, who::admin}},
        {"POST", "/v1/vouchers/{voucher_id}/use", false, {who::pos, who::admin}},
        {"GET", "/v1/key", false, {who::pos, who::support, who::admin}},
        {"GET", "/v1/rewards", false, {who::pos, who::support, who::admin}},
        {"GET", "/v1/program", false, {who::pos, who::support, who::admin}},
        {"GET", "/v1/program/versions", false, {who::support, who::admin}},
        {"POST", "/v1/program/versions", false, {who::admin}},
        {"GET", "/v1/program/versions/{version_id}", false, {who::support, who::admin}},
        {"POST", "/v1/program/check", false, {who::pos, who::support, who::admin}},
        {"POST", "/v1/simulate", false, {who::pos, who::support, who::admin}},
    };
    return spec;
}

// The pattern with each {name} filled in: /v1/members/{member_id} -> /v1/members/m-1.
std::string concrete(const std::string& pattern) {
    std::string out;
    std::size_t at = 0;
    while (at < pattern.size()) {
        auto open = pattern.find('{', at);
        if (open == std::string::npos) {
            out += pattern.substr(at);
            break;
        }
        auto close = pattern.find('}', open);
        out += pattern.substr(at, open - at);
        std::string name = pattern.substr(open + 1, close - open - 1);
        out += name == "member_id"        ? "m-1"
               : name == "transaction_id" ? "t-1"
               : name == "redemption_id"  ? "red-1"
                                          : "x-1";
        at = close + 1;
    }
    return out;
}

} // namespace

TEMPLATE_TEST_CASE("router: every route answers each kind of caller as its roles say", "[router]",
                   in_process, over_http) {
    api a(TestType::kind);
    a.enroll("m-1");
    auto revoked = a.create_key_full(ledger::role::admin);
    REQUIRE(a.get("/v1/program", revoked.secret).status() == 200);
    REQUIRE(ledger::revoke_api_key(a.db(), revoked.key.id));

    // The specification and the router list the same routes.
    std::set<std::pair<std::string, std::string>> served;
    for (const auto& r : http::router::routes()) {
        served.emplace(r.method, r.pattern);
    }
    std::set<std::pair<std::string, std::string>> specified;
    for (const auto& r : access_spec()) {
        specified.emplace(r.method, r.pattern);
    }
    for (const auto& r : served) {
        INFO("the router serves " << r.first << " " << r.second);
        CHECK(specified.count(r) == 1);
    }
    for (const auto& r : specified) {
        INFO("the specification lists " << r.first << " " << r.second);
        CHECK(served.count(r) == 1);
    }

    struct caller {
        std::string name;
        std::string secret;
        std::optional<who> role; // none: not authenticated
    };
    const std::vector<caller> callers = {
        {"no key", "", std::nullopt},
        {"bad key", bad_secret, std::nullopt},
        {"revoked key", revoked.secret, std::nullopt},
        {"pos", a.pos, who::pos},
        {"support", a.support, who::support},
        {"admin", a.admin, who::admin},
    };

    for (const auto& route : http::router::routes()) {
        const route_rule* rule = nullptr;
        for (const auto& r : access_spec()) {
            if (r.method == route.method && r.pattern == route.pattern) {
                rule = &r;
            }
        }
        if (rule == nullptr) {
            continue; // reported above
        }
        for (const auto& c : callers) {
            auto req =
                api::make(bhttp::string_to_verb(route.method), concrete(route.pattern), c.secret);
            if (route.method == "POST") {
                req.set(bhttp::field::content_type, "application/json");
                req.body() = "{}";
            }
            req.prepare_payload();
            auto r = a.send(std::move(req));
            INFO(c.name << ": " << route.method << " " << route.pattern << " -> " << r.status()
                        << " " << r.res.body());
            if (rule->open) {
                CHECK(r.status() != 401);
                CHECK(r.status() != 403);
                CHECK(r.status() < 500);
            } else if (!c.role) {
                check_problem(r, 401, "unauthorized");
                CHECK_FALSE(r.header("WWW-Authenticate").empty());
            } else if (rule->roles.count(*c.role) == 0) {
                check_problem(r, 403, "forbidden");
            } else {
                CHECK(r.status() != 401);
                CHECK(r.status() != 403);
                CHECK(r.status() < 500);
            }
        }
    }
}

TEMPLATE_TEST_CASE("router: a voucher is used once at a till, and its redemption stays", "[router]",
                   in_process, over_http) {
    api a(TestType::kind);
    a.enroll("m-1");
    ok_json(a.post("/v1/members/m-1/adjustments", a.support,
                   {{"adjustment_id", "adj-1"}, {"points", 500}, {"reason", "goodwill"}}),
            201);
    json redeemed = ok_json(a.post("/v1/members/m-1/redemptions", a.pos,
                                   {{"redemption_id", "red-1"}, {"reward_id", "brewed_coffee"}}),
                            201);
    REQUIRE(redeemed["vouchers"].size() == 1);
    const std::string target =
        "/v1/vouchers/" + redeemed["vouchers"][0]["id"].get<std::string>() + "/use";

    // Support staff do not hand over rewards; a body with other fields is refused; neither
    // changes anything.
    auto before = snapshot::of(a, "m-1");
    check_problem(a.post(target, a.support, {{"transaction_id", "t-1"}}), 403, "forbidden");
    check_problem(a.post(target, a.pos, {{"transaction_id", "t-1"}, {"points", 1}}), 422,
                  "validation-failed", std::vector<std::string>{"points"});
    check_problem(a.post(target, a.pos, {{"transaction_id", 7}}), 422, "validation-failed",
                  std::vector<std::string>{"transaction_id"});
    check_problem(a.post("/v1/vouchers/v-none/use", a.pos, {{"transaction_id", "t-1"}}), 404,
                  "not-found", std::vector<std::string>{"voucher_id"});
    check_unchanged(a, before, "m-1");

    reply first = a.post(target, a.pos, {{"transaction_id", "t-1"}});
    json used = ok_json(first, 201);
    CHECK(used["event_type"] == "voucher_use");
    CHECK(used["event"] == json{{"voucher_id", redeemed["vouchers"][0]["id"]},
                                {"transaction_id", "t-1"},
                                {"reward_id", "brewed_coffee"}});
    CHECK(used["movements"].empty());
    CHECK(used["balance"]["available"] == 425);
    CHECK(ok_json(a.get("/v1/members/m-1", a.pos), 200)["vouchers"].empty());

    reply again = a.post(target, a.pos, {{"transaction_id", "t-1"}});
    CHECK(again.header("Idempotent-Replayed") == "true");
    CHECK(again.res.body() == first.res.body());
    before = snapshot::of(a, "m-1");
    check_problem(a.post(target, a.pos, {{"transaction_id", "t-2"}}), 409, "already-done",
                  std::vector<std::string>{"voucher_id"});
    // The same voucher on the same purchase from another store's till reuses the natural key
    // (the voucher and the purchase): the conflict names the voucher, a field that exists.
    check_problem(a.post(target, a.pos, {{"transaction_id", "t-1"}, {"store_id", "s-9"}}), 409,
                  "idempotency-conflict", std::vector<std::string>{"voucher_id"});
    auto cancel = api::make(verb::post, "/v1/redemptions/red-1/cancel", a.support);
    cancel.prepare_payload();
    check_problem(a.send(std::move(cancel)), 409, "already-done",
                  std::vector<std::string>{"redemption_id"});
    check_unchanged(a, before, "m-1");

    // Without a body: a voucher used where the till names no purchase.
    json shot = ok_json(a.post("/v1/members/m-1/redemptions", a.pos,
                               {{"redemption_id", "red-2"}, {"reward_id", "espresso_shot"}}),
                        201);
    auto bare = api::make(
        verb::post, "/v1/vouchers/" + shot["vouchers"][0]["id"].get<std::string>() + "/use", a.pos);
    bare.prepare_payload();
    json shot_used = ok_json(a.send(std::move(bare)), 201);
    // No purchase is null, in the answer as in the member's vouchers below.
    CHECK(shot_used["event"]["transaction_id"].is_null());

    // Support sees both, newest first, with when and where each was used.
    json history = ok_json(a.get("/v1/members/m-1/vouchers", a.support), 200);
    CHECK(history["member_id"] == "m-1");
    REQUIRE(history["vouchers"].size() == 2);
    const json& drink = history["vouchers"][1];
    CHECK(drink["id"] == redeemed["vouchers"][0]["id"]);
    CHECK(drink["reward_id"] == "brewed_coffee");
    CHECK(drink["cause"] == "red-1");
    CHECK(drink["status"] == "used");
    // Used between its issue and the moment asked (RFC 3339 in UTC sorts as text).
    REQUIRE(drink["used_at"].is_string());
    CHECK(drink["used_at"].get<std::string>() >= drink["issued_at"].get<std::string>());
    CHECK(drink["used_at"].get<std::string>() <= history["as_of"].get<std::string>());
    CHECK(drink["transaction_id"] == "t-1");
    CHECK(history["vouchers"][0]["id"] == shot["vouchers"][0]["id"]);
    CHECK(history["vouchers"][0]["transaction_id"].is_null());
    CHECK(history["vouchers"][0]["status"] == "used");
    CHECK(history["vouchers"][0]["used_at"].get<std::string>() >=
          drink["used_at"].get<std::string>());
    CHECK(history["vouchers"][0]["transaction_id"].is_null());
    CHECK(drink["store_id"].is_null()); // the till's key is bound to no store, the body named none
    check_problem(a.get("/v1/members/m-1/vouchers", a.pos), 403, "forbidden");

    // A till bound to a store uses vouchers there: its store is recorded without being named,
    // and naming another is refused, changing nothing.
    auto bound = a.create_key_full(ledger::role::pos, "s-7");
    for (const char* r : {"red-3", "red-4"}) {
        ok_json(a.post("/v1/members/m-1/redemptions", a.pos,
                       {{"redemption_id", r}, {"reward_id", "espresso_shot"}}),
                201);
    }
    json usable = ok_json(a.get("/v1/members/m-1", a.pos), 200)["vouchers"];
    REQUIRE(usable.size() == 2);
    const std::string third = "/v1/vouchers/" + usable[0]["id"].get<std::string>() + "/use";
    const std::string fourth = "/v1/vouchers/" + usable[1]["id"].get<std::string>() + "/use";
    before = snapshot::of(a, "m-1");
    check_problem(a.post(third, bound.secret, {{"transaction_id", "t-3"}, {"store_id", "s-8"}}),
                  403, "forbidden", std::vector<std::string>{"store_id"});
    check_unchanged(a, before, "m-1");
    CHECK(ok_json(a.post(third, bound.secret, {{"transaction_id", "t-3"}}),
                  201)["event"]["store_id"] == "s-7");
    ok_json(a.post(fourth, a.pos, {{"transaction_id", "t-4"}, {"store_id", "s-1"}}), 201);
    history = ok_json(a.get("/v1/members/m-1/vouchers", a.support), 200);
    std::map<std::string, json> store_of;
    for (const json& v : history["vouchers"]) {
        store_of[v["transaction_id"].is_null() ? "" : v["transaction_id"].get<std::string>()] =
            v["store_id"];
    }
    CHECK(store_of["t-3"] == "s-7");
    CHECK(store_of["t-4"] == "s-1");
    CHECK(store_of["t-1"].is_null());
}

TEMPLATE_TEST_CASE("router: a key learns its own id, name, role and store, never its secret",
                   "[router]", in_process, over_http) {
    api a(TestType::kind);
    auto bound = a.create_key_full(ledger::role::pos, "s-7");
    reply r = a.get("/v1/key", bound.secret);
    json me = ok_json(r, 200);
    CHECK(me == json{{"id", bound.key.id},
                     {"name", bound.key.name},
                     {"role", "pos"},
                     {"store_id", "s-7"},
                     {"created_at", engine::format_rfc3339(bound.key.created_at)}});
    CHECK(r.res.body().find(bound.secret) == std::string::npos);
    for (const auto& [secret, role] :
         {std::pair{a.support, "support"}, std::pair{a.admin, "admin"}, std::pair{a.pos, "pos"}}) {
        json other = ok_json(a.get("/v1/key", secret), 200);
        CHECK(other["role"] == role);
        CHECK(other["id"] != me["id"]);
    }
    CHECK(ok_json(a.get("/v1/key", a.admin), 200)["store_id"].is_null());
    check_problem(a.get("/v1/key?verbose=1", a.admin), 422, "validation-failed",
                  std::vector<std::string>{"verbose"});
    REQUIRE(ledger::revoke_api_key(a.db(), bound.key.id));
    check_problem(a.get("/v1/key", bound.secret), 401, "unauthorized");
}

TEMPLATE_TEST_CASE("router: support corrects a profile, the view shows it, a till may not",
                   "[router]", in_process, over_http) {
    api a(TestType::kind);
    a.enroll("m-1");
    const std::string target = "/v1/members/m-1/profile-changes";
    const json fix = {{"change_id", "c-1"},
                      {"name", "Ada Lovelace"},
                      {"email", nullptr},
                      {"birthday", "1990-03-22"},
                      {"reason", "asked by phone"}};

    // Refused, each changing nothing: a till's key, nothing to change, a bad date, no reason, a
    // name that is not text, an unknown field, an address with no domain, no such member.
    auto before = snapshot::of(a, "m-1");
    check_problem(a.post(target, a.pos, fix), 403, "forbidden");
    check_problem(a.post(target, a.support, {{"change_id", "c-1"}, {"reason", "r"}}), 422,
                  "validation-failed", std::vector<std::string>{"name"});
    json bad_date = fix;
    bad_date["birthday"] = "1990-02-30";
    auto bad_date_reply = a.post(target, a.support, bad_date);
    check_problem(bad_date_reply, 422, "validation-failed", std::vector<std::string>{"birthday"});
    CHECK(bad_date_reply.body().value("detail", "") ==
          "birthday: 1990-02-30 is not a day of the calendar");
    // A birthday in the future is a typing mistake, here as at enrollment.
    json future = fix;
    future["birthday"] = "2999-01-01";
    check_problem(a.post(target, a.support, future), 422, "validation-failed",
                  std::vector<std::string>{"birthday"});
    check_problem(a.post("/v1/members", a.admin,
                         {{"member_id", "m-unborn"}, {"name", "Ada"}, {"birthday", "2999-01-01"}}),
                  422, "validation-failed", std::vector<std::string>{"birthday"});
    check_problem(a.get("/v1/members/m-unborn", a.admin), 404, "not-found");
    json no_reason = fix;
    no_reason.erase("reason");
    check_problem(a.post(target, a.support, no_reason), 422, "validation-failed",
                  std::vector<std::string>{"reason"});
    json number_name = fix;
    number_name["name"] = 7;
    check_problem(a.post(target, a.support, number_name), 422, "validation-failed",
                  std::vector<std::string>{"name"});
    json extra = fix;
    extra["points"] = 5;
    check_problem(a.post(target, a.support, extra), 422, "validation-failed",
                  std::vector<std::string>{"points"});
    json typo = fix;
    typo["email"] = "ada@example";
    check_problem(a.post(target, a.support, typo), 422, "validation-failed",
                  std::vector<std::string>{"email"});
    check_problem(a.post("/v1/members/m-none/profile-changes", a.support, fix), 404, "not-found",
                  std::vector<std::string>{"member_id"});
    check_unchanged(a, before, "m-1");

    reply first = a.post(target, a.support, fix);
    json changed = ok_json(first, 201);
    CHECK(changed["event_type"] == "profile_change");
    CHECK(changed["event"]["change_id"] == "c-1");
    CHECK(changed["movements"].empty());
    json member = ok_json(a.get("/v1/members/m-1", a.pos), 200);
    CHECK(member["name"] == "Ada Lovelace");
    CHECK(member["email"].is_null());
    CHECK(member["birthday"] == "1990-03-22");
    reply again = a.post(target, a.support, fix);
    CHECK(again.header("Idempotent-Replayed") == "true");
    CHECK(again.res.body() == first.res.body());
    json other = fix;
    other["name"] = "Grace";
    // The conflict names the body's field, change_id.
    check_problem(a.post(target, a.admin, other), 409, "idempotency-conflict",
                  std::vector<std::string>{"change_id"});
    CHECK(ok_json(a.get("/v1/members/m-1", a.pos), 200)["name"] == "Ada Lovelace");
}

TEMPLATE_TEST_CASE("router: program versions list every activation and roll back by their text",
                   "[router]", in_process, over_http) {
    api a(TestType::kind);
    const json first = ok_json(a.get("/v1/program", a.support), 200);
    json listed = ok_json(a.get("/v1/program/versions", a.support), 200);
    REQUIRE(listed["activations"].size() == 1); // the server's start activated the sample
    CHECK(listed["activations"][0]["actor"] == "startup");
    CHECK(listed["activations"][0]["actor_name"].is_null());
    CHECK(listed["activations"][0]["active"] == true);
    CHECK(listed["activations"][0]["version_id"] == first["id"]);

    // A new version by an admin, then the first one again from its stored text: a rollback.
    const std::string next_text =
        test::sample_text_with("name: Bean & Leaf Rewards", "name: Bean & Leaf Rewards II");
    json second =
        ok_json(a.post_text("/v1/program/versions", a.admin, next_text, "application/yaml"), 201);
    json old = ok_json(
        a.get("/v1/program/versions/" + std::to_string(first["id"].get<std::int64_t>()), a.support),
        200);
    CHECK(old["source"] == test::sample_text());
    CHECK(old["content_hash"] == first["content_hash"]);
    CHECK(old["format"] == "yaml");
    json back = ok_json(a.post_text("/v1/program/versions", a.admin,
                                    old["source"].get<std::string>(), "application/yaml"),
                        201);
    CHECK(back["id"] == first["id"]); // the same stored version, activated again
    CHECK(ok_json(a.get("/v1/program", a.pos), 200)["content_hash"] == first["content_hash"]);

    listed = ok_json(a.get("/v1/program/versions", a.admin), 200);
    const json& all = listed["activations"];
    REQUIRE(all.size() == 3);
    const json admin = ok_json(a.get("/v1/key", a.admin), 200);
    CHECK(all[0]["version_id"] == first["id"]);
    CHECK(all[0]["active"] == true);
    CHECK(all[0]["actor"] == admin["id"]);
    CHECK(all[0]["actor_name"] == admin["name"]);
    CHECK(all[1]["version_id"] == second["id"]);
    CHECK(all[1]["name"] == "Bean & Leaf Rewards II");
    CHECK(all[1]["active"] == false);
    CHECK(all[2]["actor"] == "startup");
    CHECK(all[2]["active"] == false);
    CHECK(all[0]["at"].get<std::string>() >= all[1]["at"].get<std::string>());

    // Tills do not read versions; unknown ids and query parameters are refused.
    check_problem(a.get("/v1/program/versions", a.pos), 403, "forbidden");
    check_problem(a.get("/v1/program/versions/1", a.pos), 403, "forbidden");
    check_problem(a.get("/v1/program/versions/999", a.support), 404, "not-found",
                  std::vector<std::string>{"version_id"});
    check_problem(a.get("/v1/program/versions/first", a.support), 404, "not-found",
                  std::vector<std::string>{"version_id"});
    check_problem(a.get("/v1/program/versions?limit=0", a.support), 422, "validation-failed",
                  std::vector<std::string>{"limit"});
    check_problem(a.get("/v1/program/versions?cursor=x", a.support), 422, "validation-failed",
                  std::vector<std::string>{"cursor"});
    check_problem(a.get("/v1/program/versions?page=2", a.support), 422, "validation-failed",
                  std::vector<std::string>{"page"});

    // A page at a time, newest first: the pages together are the whole list, and only the
    // newest activation is active, on the first page.
    CHECK(listed["next_cursor"].is_null());
    auto versions = [&](const std::string& query) {
        return ok_json(a.get("/v1/program/versions?" + query, a.support), 200);
    };
    json page = versions("limit=2");
    REQUIRE(page["activations"].size() == 2);
    CHECK(page["activations"][0] == all[0]);
    CHECK(page["activations"][1] == all[1]);
    REQUIRE(page["next_cursor"].is_string());
    const std::string after = "&cursor=" + page["next_cursor"].get<std::string>();
    json rest = versions("limit=2" + after);
    REQUIRE(rest["activations"].size() == 1);
    CHECK(rest["activations"][0] == all[2]);
    CHECK(rest["next_cursor"].is_null());
    json one = versions("limit=1" + after);
    CHECK(one["activations"] == rest["activations"]);
    CHECK(one["next_cursor"].is_null());
}

TEMPLATE_TEST_CASE("router: support reads a member's audit trail, a till may not", "[router]",
                   in_process, over_http) {
    api a(TestType::kind);
    a.enroll("m-1");
    ok_json(a.post("/v1/members/m-1/adjustments", a.support,
                   {{"adjustment_id", "adj-1"}, {"points", 5}, {"reason", "goodwill"}}),
            201);
    ok_json(a.post("/v1/members/m-1/profile-changes", a.admin,
                   {{"change_id", "c-1"}, {"email", "ada@example.org"}, {"reason", "moved"}}),
            201);
    json trail = ok_json(a.get("/v1/members/m-1/audit", a.support), 200);
    REQUIRE(trail["entries"].size() == 2);
    CHECK(trail["next_cursor"].is_null());
    const json& change = trail["entries"][0];
    CHECK(change["action"] == "profile_change");
    CHECK(change["actor"] == ok_json(a.get("/v1/key", a.admin), 200)["id"]);
    CHECK(change["actor_name"] == ok_json(a.get("/v1/key", a.admin), 200)["name"]);
    CHECK(change["role"] == "admin");
    CHECK(change["reason"] == "moved");
    CHECK(change["request"]["email"] == "ada@example.org");
    const json& adjust = trail["entries"][1];
    CHECK(adjust["action"] == "adjust");
    CHECK(adjust["actor"] == ok_json(a.get("/v1/key", a.support), 200)["id"]);
    CHECK(adjust["request"]["points"] == 5);

    json page = ok_json(a.get("/v1/members/m-1/audit?limit=1", a.admin), 200);
    REQUIRE(page["entries"].size() == 1);
    REQUIRE(page["next_cursor"].is_string());
    json rest = ok_json(
        a.get("/v1/members/m-1/audit?limit=1&cursor=" + page["next_cursor"].get<std::string>(),
              a.admin),
        200);
    CHECK(rest["entries"] == json::array({adjust}));
    check_problem(a.get("/v1/members/m-1/audit?limit=0", a.support), 422, "validation-failed",
                  std::vector<std::string>{"limit"});
    check_problem(a.get("/v1/members/m-1/audit", a.pos), 403, "forbidden");
    check_problem(a.get("/v1/members/m-none/audit", a.support), 404, "not-found");
}

TEMPLATE_TEST_CASE("router: a cancellation for one member never cancels another's, and keeps its "
                   "reason",
                   "[router]", in_process, over_http) {
    api a(TestType::kind);
    a.enroll("m-1");
    a.enroll("m-2");
    ok_json(a.post("/v1/members/m-1/adjustments", a.support,
                   {{"adjustment_id", "adj-1"}, {"points", 500}, {"reason", "goodwill"}}),
            201);
    ok_json(a.post("/v1/members/m-1/redemptions", a.pos,
                   {{"redemption_id", "red-1"}, {"reward_id", "brewed_coffee"}}),
            201);
    const json before = ok_json(a.get("/v1/members/m-1", a.support), 200);
    // Typed on m-2's page: not found, and nothing changes.
    reply other = a.post("/v1/redemptions/red-1/cancel", a.support, {{"member_id", "m-2"}});
    check_problem(other, 404, "not-found", std::vector<std::string>{"redemption_id"});
    CHECK(other.body().value("detail", "") == "no redemption red-1 of member m-2");
    CHECK(ok_json(a.get("/v1/members/m-1", a.support), 200) == before);
    check_problem(a.post("/v1/redemptions/red-1/cancel", a.support, {{"member", "m-1"}}), 422,
                  "validation-failed", std::vector<std::string>{"member"});
    check_problem(a.post("/v1/redemptions/red-1/cancel", a.support, {{"reason", 5}}), 422,
                  "validation-failed", std::vector<std::string>{"reason"});

    const json terms = {{"member_id", "m-1"}, {"reason", "drink spilled"}};
    json cancelled = ok_json(a.post("/v1/redemptions/red-1/cancel", a.support, terms), 201);
    CHECK(cancelled["points"]["restored"] == 100);
    // The same terms replay; other ones are another request under the same key.
    CHECK(ok_json(a.post("/v1/redemptions/red-1/cancel", a.support, terms), 201) == cancelled);
    check_problem(a.post("/v1/redemptions/red-1/cancel", a.support,
                         {{"member_id", "m-1"}, {"reason", "other"}}),
                  409, "idempotency-conflict");
    json trail = ok_json(a.get("/v1/members/m-1/audit", a.support), 200);
    REQUIRE(trail["entries"].size() == 2);
    CHECK(trail["entries"][0]["action"] == "cancel_redemption");
    CHECK(trail["entries"][0]["reason"] == "drink spilled");
    CHECK(trail["entries"][0]["request"]["member_id"] == "m-1");
}

TEMPLATE_TEST_CASE("router: support reads a member's tier history, a till may not", "[router]",
                   in_process, over_http) {
    api a(TestType::kind);
    a.enroll("m-1");
    json history = ok_json(a.get("/v1/members/m-1/tier-history", a.support), 200);
    CHECK(history["member_id"] == "m-1");
    REQUIRE(history["changes"].size() == 1);
    const json& joined = history["changes"][0];
    CHECK(joined["before"].is_null());
    CHECK(joined["after"] == json{{"id", "green"}, {"name", "Green"}});
    CHECK(joined["direction"] == "joined");
    CHECK(joined["operation"] == "enrollment");
    CHECK(joined["metric"].is_number_integer());
    CHECK(ok_json(a.get("/v1/members/m-1/tier-history", a.admin), 200) == history);
    check_problem(a.get("/v1/members/m-1/tier-history", a.pos), 403, "forbidden");
}

TEMPLATE_TEST_CASE("router: a point-of-sale key bound to a store posts only for that store",
                   "[router]", in_process, over_http) {
    api a(TestType::kind);
    std::string store_key = a.create_key(ledger::role::pos, "s-1");
    a.enroll("m-1");

    auto before = snapshot::of(a, "m-1");
    check_problem(a.post("/v1/transactions", store_key, basket("t-2", "m-1", "s-2")), 403,
                  "forbidden", std::vector<std::string>{"store_id"});
    check_unchanged(a, before, "m-1");

    json bought = ok_json(a.post("/v1/transactions", store_key, basket("t-1", "m-1", "s-1")), 201);
    CHECK(bought["event"]["store_id"] == "s-1");

    before = snapshot::of(a, "m-1");
    check_problem(a.post("/v1/transactions/t-1/returns", store_key,
                         {{"return_id", "ret-1"}, {"store_id", "s-2"}}),
                  403, "forbidden", std::vector<std::string>{"store_id"});
    check_unchanged(a, before, "m-1");
    ok_json(a.post("/v1/transactions/t-1/returns", store_key,
                   {{"return_id", "ret-1"}, {"store_id", "s-1"}}),
            201);
}

TEMPLATE_TEST_CASE("router: points pay for the purchase of the till's store, never a namesake",
                   "[router]", in_process, over_http) {
    api a(TestType::kind);
    std::string store_key = a.create_key(ledger::role::pos, "s-1");
    a.enroll("m-1");
    // Tills number their own receipts: the member has a $13 purchase t-1 at s-1 and a $53
    // purchase t-1 at s-2. Half of a purchase may be paid with points, in steps of 100.
    ok_json(a.post("/v1/transactions", store_key, basket("t-1", "m-1", "s-1")), 201);
    json big = basket("t-1", "m-1", "s-2");
    big["lines"][0]["quantity"] = 10;
    ok_json(a.post("/v1/transactions", a.pos, big), 201);
    ok_json(a.post("/v1/members/m-1/adjustments", a.support,
                   {{"adjustment_id", "adj-1"}, {"points", 3000}, {"reason", "test"}}),
            201);
    auto payment = [](const std::string& id, int points, const std::string& store = "") {
        json p = {{"redemption_id", id}, {"points", points}, {"transaction_id", "t-1"}};
        if (!store.empty()) {
            p["store_id"] = store;
        }
        return p;
    };
    const std::string target = "/v1/members/m-1/redemptions";

    // Without a store, t-1 names neither purchase: guessing would bound the payment by the
    // wrong one. Refused on store_id, nothing changed.
    auto before = snapshot::of(a, "m-1");
    check_problem(a.post(target, a.pos, payment("pay-1", 1000)), 422, "validation-failed",
                  std::vector<std::string>{"store_id"});
    check_unchanged(a, before, "m-1");
    // A till bound to s-1 may not name s-2.
    check_problem(a.post(target, store_key, payment("pay-1", 1000, "s-2")), 403, "forbidden",
                  std::vector<std::string>{"store_id"});
    check_unchanged(a, before, "m-1");
    // Naming none, it pays on its own store's $13 purchase: at most 600 points.
    check_problem(a.post(target, store_key, payment("pay-1", 1000)), 422, "payment-rule",
                  std::vector<std::string>{"points"});
    check_unchanged(a, before, "m-1");
    // A total sent larger than the purchase as posted does not widen the share.
    json widened = payment("pay-1", 1000);
    widened["purchase_total"] = 100000;
    check_problem(a.post(target, store_key, widened), 422, "payment-rule",
                  std::vector<std::string>{"points"});
    check_unchanged(a, before, "m-1");
    json paid = ok_json(a.post(target, store_key, payment("pay-1", 600)), 201);
    CHECK(paid["event"]["store_id"] == "s-1");
    CHECK(paid["points"]["burned"] == 600);
    // Named, the $53 purchase at s-2 takes 1,000.
    json other = ok_json(a.post(target, a.pos, payment("pay-2", 1000, "s-2")), 201);
    CHECK(other["event"]["store_id"] == "s-2");
    CHECK(other["points"]["burned"] == 1000);
    // A store where the member bought nothing t-1 asks for the total.
    check_problem(a.post(target, a.pos, payment("pay-3", 100, "s-3")), 422, "validation-failed",
                  std::vector<std::string>{"purchase_total"});

    // Support reads where each payment was made.
    std::set<std::string> explanations;
    json activity = ok_json(a.get("/v1/members/m-1/activity?limit=500", a.support), 200);
    INFO(activity.dump());
    for (const json& e : activity["entries"]) {
        if (e["operation"] == "payment") {
            explanations.insert(e["explanation"].get<std::string>());
        }
    }
    CHECK(explanations.count("payment of 600 on transaction t-1 at store s-1: 600 leaves") == 1);
    CHECK(explanations.count("payment of 1000 on transaction t-1 at store s-2: 1000 leaves") == 1);
    // A reward is no till's payment: it takes no store.
    check_problem(
        a.post(target, a.pos,
               {{"redemption_id", "red-1"}, {"reward_id", "brewed_coffee"}, {"store_id", "s-1"}}),
        422, "validation-failed", std::vector<std::string>{"store_id"});
}

TEMPLATE_TEST_CASE("router: refused requests answer with their exact problem and change nothing",
                   "[router]", in_process, over_http) {
    api a(TestType::kind);
    a.enroll("m-1");
    json purchase = basket("t-1", "m-1");
    ok_json(a.post("/v1/transactions", a.pos, purchase), 201);

    auto with = [&](const std::string& key, json value) {
        json p = basket("t-9", "m-1");
        p[key] = std::move(value);
        return p;
    };
    auto with_line = [&](const std::string& key, json value) {
        json p = basket("t-9", "m-1");
        p["lines"][0][key] = std::move(value);
        return p;
    };
    auto without = [&](const std::string& key) {
        json p = basket("t-9", "m-1");
        p.erase(key);
        return p;
    };
    json many = basket("t-9", "m-1");
    many["lines"] = json::array();
    for (int i = 0; i < 501; ++i) {
        many["lines"].push_back(line(std::to_string(i), "LATTE", "coffee", 1, 500));
    }
    json deep = json::object();
    for (int i = 0; i < 40; ++i) {
        deep = json{{"inner", deep}};
    }
    const std::string long_id(257, 'x');

    struct bad_request {
        std::string name;
        verb method;
        std::string target;
        std::string content_type;
        std::string body;
        unsigned status;
        std::string type;
        std::optional<std::vector<std::string>> fields;
    };
    using fields = std::vector<std::string>;
    const std::string json_type = "application/json";
    const std::vector<bad_request> cases = {
        {"malformed JSON", verb::post, "/v1/transactions", json_type,
         R"({"transaction_id": "t-9", "member_id": )", 400, "malformed-json", std::nullopt},
        {"not JSON at all", verb::post, "/v1/transactions", "text/plain", purchase.dump(), 415,
         "unsupported-media-type", std::nullopt},
        {"no content type", verb::post, "/v1/transactions", "", basket("t-9", "m-1").dump(), 415,
         "unsupported-media-type", std::nullopt},
        {"a list, not an object", verb::post, "/v1/transactions", json_type, "[1, 2]", 422,
         "validation-failed", std::nullopt},
        {"a string, not an object", verb::post, "/v1/members", json_type, R"("m-2")", 422,
         "validation-failed", std::nullopt},
        {"unknown field", verb::post, "/v1/transactions", json_type, with("coupon", "FREE").dump(),
         422, "validation-failed", fields{"coupon"}},
        {"unknown line field", verb::post, "/v1/transactions", json_type,
         with_line("colour", "red").dump(), 422, "validation-failed", fields{"lines[0].colour"}},
        {"quantity as a string", verb::post, "/v1/transactions", json_type,
         with_line("quantity", "2").dump(), 422, "validation-failed", fields{"lines[0].quantity"}},
        {"member id as a number", verb::post, "/v1/members", json_type, R"({"member_id": 42})", 422,
         "validation-failed", fields{"member_id"}},
        {"negative quantity", verb::post, "/v1/transactions", json_type,
         with_line("quantity", -1).dump(), 422, "validation-failed", fields{"lines[0].quantity"}},
        {"negative price", verb::post, "/v1/transactions", json_type,
         with_line("unit_price", -500).dump(), 422, "validation-failed",
         fields{"lines[0].unit_price"}},
        {"absurd quantity 1e12", verb::post, "/v1/transactions", json_type,
         with_line("quantity", 1e12).dump(), 422, "validation-failed", fields{"lines[0].quantity"}},
        {"absurd whole quantity", verb::post, "/v1/transactions", json_type,
         with_line("quantity", 1'000'000'000'000).dump(), 422, "validation-failed",
         fields{"lines[0].quantity"}},
        {"absurd price", verb::post, "/v1/transactions", json_type,
         with_line("unit_price", 1'000'000'000'000'000).dump(), 422, "validation-failed",
         fields{"lines[0].unit_price"}},
        {"missing store", verb::post, "/v1/transactions", json_type, without("store_id").dump(),
         422, "validation-failed", fields{"store_id"}},
        {"missing lines", verb::post, "/v1/transactions", json_type, without("lines").dump(), 422,
         "validation-failed", fields{"lines"}},
        {"occurred_at not a time", verb::post, "/v1/transactions", json_type,
         with("occurred_at", "yesterday").dump(), 422, "validation-failed", fields{"occurred_at"}},
        {"occurred_at impossible", verb::post, "/v1/transactions", json_type,
         with("occurred_at", "2026-13-45T25:61:00Z").dump(), 422, "validation-failed",
         fields{"occurred_at"}},
        {"501 lines", verb::post, "/v1/transactions", json_type, many.dump(), 422, "too-many-lines",
         fields{"lines"}},
        {"attributes nested 40 deep", verb::post, "/v1/members/m-1/events", json_type,
         json{{"event_id", "e-1"},
              {"type", "review_posted"},
              {"occurred_at", now_text()},
              {"attributes", deep}}
             .dump(),
         422, "validation-failed", std::nullopt},
        {"unknown member", verb::post, "/v1/transactions", json_type, basket("t-9", "m-404").dump(),
         404, "not-found", fields{"member_id"}},
        {"return of an unknown purchase", verb::post, "/v1/transactions/t-404/returns", json_type,
         json{{"return_id", "ret-9"}, {"store_id", "s-1"}}.dump(), 404, "not-found",
         fields{"transaction_id"}},
        {"return of more than was bought", verb::post, "/v1/transactions/t-1/returns", json_type,
         json{{"return_id", "ret-9"},
              {"store_id", "s-1"},
              {"lines", json::array({{{"line_id", "2"}, {"quantity", 5}}})}}
             .dump(),
         422, "validation-failed", fields{"lines[0].quantity"}},
        {"not enough points", verb::post, "/v1/members/m-1/redemptions", json_type,
         json{{"redemption_id", "red-9"}, {"reward_id", "mug"}}.dump(), 422, "insufficient-points",
         fields{"reward_id"}},
        {"unknown reward", verb::post, "/v1/members/m-1/redemptions", json_type,
         json{{"redemption_id", "red-9"}, {"reward_id", "yacht"}}.dump(), 422, "validation-failed",
         fields{"reward_id"}},
        {"adjustment without reason", verb::post, "/v1/members/m-1/adjustments", json_type,
         json{{"adjustment_id", "adj-9"}, {"points", 500}}.dump(), 422, "validation-failed",
         fields{"reason"}},
        {"adjustment of 0", verb::post, "/v1/members/m-1/adjustments", json_type,
         json{{"adjustment_id", "adj-9"}, {"points", 0}, {"reason", "goodwill"}}.dump(), 422,
         "validation-failed", fields{"points"}},
        {"enrolling m-1 again as someone else", verb::post, "/v1/members", json_type,
         json{{"member_id", "m-1"}, {"name", "Grace"}}.dump(), 409, "idempotency-conflict",
         std::nullopt},
        {"unknown route", verb::get, "/v1/nothing-here", "", "", 404, "route-not-found",
         std::nullopt},
        {"wrong method", verb::delete_, "/v1/members/m-1", "", "", 405, "method-not-allowed",
         std::nullopt},
        {"member id over 256 bytes", verb::get, "/v1/members/" + long_id, "", "", 422,
         "validation-failed", fields{"member_id"}},
        {"member id over 256 bytes in a write", verb::post,
         "/v1/members/" + long_id + "/adjustments", json_type,
         json{{"adjustment_id", "adj-9"}, {"points", 5}, {"reason", "goodwill"}}.dump(), 422,
         "validation-failed", fields{"member_id"}},
        {"unknown activity parameter", verb::get, "/v1/members/m-1/activity?sort=asc", "", "", 422,
         "validation-failed", fields{"sort"}},
        {"limit=0", verb::get, "/v1/members/m-1/activity?limit=0", "", "", 422, "validation-failed",
         fields{"limit"}},
        {"limit=501", verb::get, "/v1/members/m-1/activity?limit=501", "", "", 422,
         "validation-failed", fields{"limit"}},
        {"cursor not a number", verb::get, "/v1/members/m-1/activity?cursor=abc", "", "", 422,
         "validation-failed", fields{"cursor"}},
        {"a parameter to the voucher history", verb::get, "/v1/members/m-1/vouchers?status=used",
         "", "", 422, "validation-failed", fields{"status"}},
        {"the vouchers of no member", verb::get, "/v1/members/m-none/vouchers", "", "", 404,
         "not-found", fields{"member_id"}},
        {"a parameter to the tier history", verb::get, "/v1/members/m-1/tier-history?limit=5", "",
         "", 422, "validation-failed", fields{"limit"}},
        {"the tier history of no member", verb::get, "/v1/members/m-none/tier-history", "", "", 404,
         "not-found", fields{"member_id"}},
    };

    for (const auto& c : cases) {
        INFO("case: " << c.name);
        auto before = snapshot::of(a, "m-1");
        auto req = api::make(c.method, c.target, a.admin);
        if (!c.content_type.empty()) {
            req.set(bhttp::field::content_type, c.content_type);
        }
        req.body() = c.body;
        req.prepare_payload();
        auto r = a.send(std::move(req));
        check_problem(r, c.status, c.type, c.fields);
        if (c.status == 405) {
            // RFC 9110 15.5.6: a 405 must list the methods the resource supports.
            CHECK(r.header("Allow") == "GET, HEAD");
        }
        check_unchanged(a, before, "m-1");
    }

    // Just inside the limits: a 256-byte id is looked up, not refused.
    check_problem(a.get("/v1/members/" + std::string(256, 'x'), a.admin), 404, "not-found",
                  fields{"member_id"});
}

TEMPLATE_TEST_CASE(
    "router: retries replay the first answer, a reused key with another body conflicts", "[router]",
    in_process, over_http) {
    api a(TestType::kind);
    a.enroll("m-1");

    std::string purchase = basket("t-1", "m-1").dump();
    auto first = a.post_text("/v1/transactions", a.pos, purchase);
    REQUIRE(first.status() == 201);
    CHECK(first.header("Idempotent-Replayed").empty());

    auto before = snapshot::of(a, "m-1");
    auto again = a.post_text("/v1/transactions", a.pos, purchase);
    CHECK(again.status() == 201);
    CHECK(again.res.body() == first.res.body());
    CHECK(again.header("Idempotent-Replayed") == "true");
    CHECK(again.header("Content-Type") == "application/json");
    check_unchanged(a, before, "m-1");

    // Same store and transaction id, different basket: the natural key conflicts.
    json other = json::parse(purchase);
    other["lines"][0]["quantity"] = 3;
    check_problem(a.post("/v1/transactions", a.pos, other), 409, "idempotency-conflict");
    check_unchanged(a, before, "m-1");

    // The client's own key, reused for another adjustment.
    const std::vector<std::pair<std::string, std::string>> key = {{"Idempotency-Key", "k-1"}};
    json adjustment = {{"adjustment_id", "adj-1"}, {"points", 50}, {"reason", "goodwill"}};
    auto adjusted = a.post("/v1/members/m-1/adjustments", a.support, adjustment, key);
    REQUIRE(adjusted.status() == 201);
    before = snapshot::of(a, "m-1");
    auto replayed = a.post("/v1/members/m-1/adjustments", a.support, adjustment, key);
    CHECK(replayed.status() == 201);
    CHECK(replayed.res.body() == adjusted.res.body());
    CHECK(replayed.header("Idempotent-Replayed") == "true");
    json different = {{"adjustment_id", "adj-2"}, {"points", 70}, {"reason", "goodwill"}};
    check_problem(a.post("/v1/members/m-1/adjustments", a.support, different, key), 409,
                  "idempotency-conflict");
    check_unchanged(a, before, "m-1");
}

TEMPLATE_TEST_CASE("router: each key has its own rate limit", "[router]", in_process, over_http) {
    http::router_options tight;
    tight.rate_per_second = 1;
    tight.burst = 2;
    api a(TestType::kind, tight);
    std::string other = a.create_key(ledger::role::pos);

    CHECK(a.get("/v1/program", a.pos).status() == 200);
    CHECK(a.get("/v1/program", a.pos).status() == 200);
    auto limited = a.get("/v1/program", a.pos);
    check_problem(limited, 429, "rate-limited");
    CHECK(limited.header("Retry-After") == "1");

    CHECK(a.get("/v1/program", other).status() == 200);
    CHECK(a.get("/healthz", "").status() == 200);
}

TEMPLATE_TEST_CASE("router: methods the client makes up share one metrics label", "[router]",
                   in_process, over_http) {
    api a(TestType::kind);
    // Any token is a method to HTTP; each one as a label would be a series kept forever.
    for (int i = 0; i < 20; ++i) {
        auto req = api::make(verb::get, i % 2 == 0 ? "/v1/members/m-1" : "/nowhere", a.pos);
        req.method_string("BREW-" + std::to_string(i));
        auto res = a.send(std::move(req));
        CHECK(res.status() == (i % 2 == 0 ? 405 : 404));
    }
    CHECK(a.get("/healthz", "").status() == 200);

    std::string text = a.get("/metrics", "").res.body();
    CHECK(text.find("BREW") == std::string::npos);
    CHECK(text.find(
              R"(loyalty_http_requests_total{method="other",route="unmatched",status="405"} 10)") !=
          std::string::npos);
    CHECK(text.find(
              R"(loyalty_http_requests_total{method="other",route="unmatched",status="404"} 10)") !=
          std::string::npos);
    CHECK(
        text.find(R"(loyalty_http_requests_total{method="GET",route="/healthz",status="200"} 1)") !=
        std::string::npos);
}

TEMPLATE_TEST_CASE("router: a JSON body's media type is read as RFC 9110 says", "[router]",
                   in_process, over_http) {
    api a(TestType::kind);
    // Parameters are allowed; type and subtype are case-insensitive (RFC 9110 8.3.1).
    CHECK(a.post_text("/v1/members", a.pos, R"({"member_id": "m-1"})",
                      "application/json; charset=utf-8")
              .status() == 201);
    CHECK(
        a.post_text("/v1/members", a.pos, R"({"member_id": "m-2"})", "Application/JSON").status() ==
        201);
    // Another media type that merely starts with the same letters is not JSON.
    auto before = snapshot::of(a, "m-1");
    check_problem(
        a.post_text("/v1/members", a.pos, R"({"member_id": "m-3"})", "application/jsonlines"), 415,
        "unsupported-media-type");
    check_unchanged(a, before, "m-1");
}

TEMPLATE_TEST_CASE("router: a body nests at most 32 levels deep", "[router]", in_process,
                   over_http) {
    api a(TestType::kind);
    a.enroll("m-1");
    // `levels` objects inside the body's own, innermost holding `leaf`.
    auto event = [](const std::string& id, int levels, json leaf) {
        json attributes = std::move(leaf);
        for (int i = 0; i < levels; ++i) {
            attributes = json{{"a", attributes}};
        }
        return json{{"event_id", id},
                    {"type", "review_posted"},
                    {"occurred_at", now_text()},
                    {"attributes", attributes}};
    };
    // The body's object and 31 more: 32 levels.
    CHECK(a.post("/v1/members/m-1/events", a.pos, event("e-32", 31, 1)).status() == 201);

    auto before = snapshot::of(a, "m-1");
    // The body's object and 32 more, whether the innermost holds a value or nothing.
    check_problem(a.post("/v1/members/m-1/events", a.pos, event("e-33", 32, 1)), 422,
                  "validation-failed");
    check_problem(a.post("/v1/members/m-1/events", a.pos, event("e-33e", 31, json::object())), 422,
                  "validation-failed");
    check_problem(a.post("/v1/members/m-1/events", a.pos, event("e-33a", 31, json::array())), 422,
                  "validation-failed");
    check_unchanged(a, before, "m-1");
}

TEMPLATE_TEST_CASE("router: a remembered key that was revoked gets 401, whatever else is wrong",
                   "[router]", in_process, over_http) {
    api a(TestType::kind);
    a.enroll("m-1");
    auto key = a.create_key_full(ledger::role::support);
    // Looked up once: remembered from then on.
    REQUIRE(a.get("/v1/members/m-1", key.secret).status() == 200);
    REQUIRE(a.get("/v1/members/m-1", key.secret).status() == 200);
    REQUIRE(ledger::revoke_api_key(a.db(), key.key.id));
    SECTION("the member lookup checks it where it reads the member") {
        check_problem(a.get("/v1/members/m-1", key.secret), 401, "unauthorized");
        check_problem(a.get("/v1/members/no-such-member", key.secret), 401, "unauthorized");
    }
    SECTION("an answer the router gives itself looks it up first") {
        check_problem(a.get("/v1/members/" + std::string(300, 'x'), key.secret), 401,
                      "unauthorized");
        auto req = api::make(bhttp::verb::get, "/v1/members/m-1", key.secret);
        req.set("Idempotency-Key", std::string(256, 'k')); // too long: 422 for a valid key
        check_problem(a.send(std::move(req)), 401, "unauthorized");
    }
}

TEMPLATE_TEST_CASE("router: a till's write on a remembered key that was revoked gets 401 and "
                   "stores nothing",
                   "[router]", in_process, over_http) {
    // A till's writes take the key from memory once it was looked up: the write checks it in
    // its own transaction, and any refusal before the write looks it up first.
    api a(TestType::kind);
    a.enroll("m-1");
    auto key = a.create_key_full(ledger::role::pos);
    REQUIRE(a.get("/v1/members/m-1", key.secret).status() == 200); // looked up: remembered
    REQUIRE(a.post("/v1/transactions", key.secret, basket("t-1", "m-1")).status() == 201);
    REQUIRE(ledger::revoke_api_key(a.db(), key.key.id));
    auto before = snapshot::of(a, "m-1");
    SECTION("a new purchase, and the retry of one it made") {
        check_problem(a.post("/v1/transactions", key.secret, basket("t-2", "m-1")), 401,
                      "unauthorized");
        check_problem(a.post("/v1/transactions", key.secret, basket("t-1", "m-1")), 401,
                      "unauthorized");
    }
    SECTION("a till's other writes") {
        check_problem(a.post("/v1/members", key.secret, {{"member_id", "m-2"}}), 401,
                      "unauthorized");
        check_problem(a.post("/v1/transactions/t-1/returns", key.secret,
                             {{"return_id", "r-1"},
                              {"store_id", "s-1"},
                              {"member_id", "m-1"},
                              {"lines", {{{"line_id", "1"}, {"quantity", 1}}}}}),
                      401, "unauthorized");
        check_problem(a.post("/v1/members/m-1/redemptions", key.secret,
                             {{"redemption_id", "rd-1"}, {"reward_id", "espresso_shot"}}),
                      401, "unauthorized");
    }
    SECTION("a refusal the handler would give before writing") {
        check_problem(a.post_text("/v1/transactions", key.secret, "{not json"), 401,
                      "unauthorized");
        check_problem(a.post("/v1/transactions", key.secret, {{"transaction_id", "t-3"}}), 401,
                      "unauthorized");
        json elsewhere = basket("t-4", "m-1");
        elsewhere["store_id"] = std::string(300, 's');
        check_problem(a.post("/v1/transactions", key.secret, elsewhere), 401, "unauthorized");
        // An Idempotency-Key too long: 422 for a valid key.
        check_problem(a.post("/v1/transactions", key.secret, basket("t-5", "m-1"),
                             {{"Idempotency-Key", std::string(256, 'k')}}),
                      401, "unauthorized");
    }
    check_unchanged(a, before, "m-1");
}

TEMPLATE_TEST_CASE("router: a profile change clears a birthday with null, as it does a name",
                   "[router][profile]", in_process, over_http) {
    api a(TestType::kind);
    ok_json(a.post("/v1/members", a.admin,
                   {{"member_id", "m-1"},
                    {"name", "Ada"},
                    {"email", "ada@example.com"},
                    {"birthday", "1990-06-15"}}),
            201);
    const std::string target = "/v1/members/m-1/profile-changes";

    // The birthday alone, cleared: a change of something, not a change of nothing.
    json cleared = ok_json(
        a.post(target, a.support, {{"change_id", "c-bn"}, {"reason", "x"}, {"birthday", nullptr}}),
        201);
    CHECK(cleared["event_type"] == "profile_change");
    json member = ok_json(a.get("/v1/members/m-1", a.support), 200);
    CHECK(member["birthday"].is_null());
    CHECK(member["name"] == "Ada");
    CHECK(member["email"] == "ada@example.com");

    // Set again, then all three cleared at once.
    ok_json(a.post(target, a.support,
                   {{"change_id", "c-set"}, {"reason", "x"}, {"birthday", "1990-06-16"}}),
            201);
    CHECK(ok_json(a.get("/v1/members/m-1", a.support), 200)["birthday"] == "1990-06-16");
    ok_json(a.post(target, a.support,
                   {{"change_id", "c-null"},
                    {"reason", "x"},
                    {"name", nullptr},
                    {"email", nullptr},
                    {"birthday", nullptr}}),
            201);
    member = ok_json(a.get("/v1/members/m-1", a.support), 200);
    CHECK(member["name"].is_null());
    CHECK(member["email"].is_null());
    CHECK(member["birthday"].is_null());
}

TEMPLATE_TEST_CASE("router: a birthday is a real date written YYYY-MM-DD, nothing looser",
                   "[router][profile]", in_process, over_http) {
    api a(TestType::kind);
    a.enroll("m-1");
    const std::vector<std::string> loose = {"1990-6-5",    "1990-06-5",   "1990-6-05",
                                            "+1990-06-15", "-1990-06-15", "-001-01-01",
                                            "990-06-15",   "19900-06-15", "1990-06-15T00:00:00Z",
                                            " 1990-06-15", "1990-06-15 ", "1990/06/15",
                                            "1990-02-29",  "1990-13-01",  "1990-00-10",
                                            "1990-04-31",  "1990-06-00",  "",
                                            "1990-06-1x",  "199O-06-15",  "0000-06-15"};
    auto before = snapshot::of(a, "m-1");
    for (const std::string& text : loose) {
        INFO("birthday \"" << text << "\"");
        check_problem(a.post("/v1/members", a.admin, {{"member_id", "m-2"}, {"birthday", text}}),
                      422, "validation-failed", std::vector<std::string>{"birthday"});
        check_problem(a.post("/v1/members/m-1/profile-changes", a.support,
                             {{"change_id", "c-1"}, {"reason", "x"}, {"birthday", text}}),
                      422, "validation-failed", std::vector<std::string>{"birthday"});
    }
    check_unchanged(a, before, "m-1");
    check_problem(a.get("/v1/members/m-2", a.admin), 404, "not-found");

    // Written as the API writes it, a leap day included: stored as written.
    ok_json(a.post("/v1/members", a.admin, {{"member_id", "m-2"}, {"birthday", "2000-02-29"}}),
            201);
    CHECK(ok_json(a.get("/v1/members/m-2", a.admin), 200)["birthday"] == "2000-02-29");
    ok_json(a.post("/v1/members/m-1/profile-changes", a.support,
                   {{"change_id", "c-1"}, {"reason", "x"}, {"birthday", "1990-06-05"}}),
            201);
    CHECK(ok_json(a.get("/v1/members/m-1", a.admin), 200)["birthday"] == "1990-06-05");
}

TEMPLATE_TEST_CASE("router: a return with an empty list of lines is refused, not taken as all",
                   "[router][returns]", in_process, over_http) {
    api a(TestType::kind);
    a.enroll("m-1");
    ok_json(a.post("/v1/transactions", a.pos, basket("t-1", "m-1")), 201);
    const std::string target = "/v1/transactions/t-1/returns";

    auto before = snapshot::of(a, "m-1");
    check_problem(a.post(target, a.pos,
                         {{"return_id", "ret-1"}, {"store_id", "s-1"}, {"lines", json::array()}}),
                  422, "validation-failed", std::vector<std::string>{"lines"});
    check_unchanged(a, before, "m-1");

    // Without lines: everything not yet returned, under the same return id.
    json whole = ok_json(a.post(target, a.pos, {{"return_id", "ret-1"}, {"store_id", "s-1"}}), 201);
    CHECK(whole["event_type"] == "return");
    CHECK_FALSE(whole["movements"].empty());
}

TEMPLATE_TEST_CASE("router: malformed JSON is answered with where it stops being JSON", "[router]",
                   in_process, over_http) {
    api a(TestType::kind);
    struct sent {
        std::string body;
        std::string detail;
    } rows[] = {
        {"{\n  \"member_id\": \"m-2\",\n  x\n}", "the body is not valid JSON (line 3, column 3)"},
        {R"({"member_id": )", "the body is not valid JSON (line 1, column 14)"},
        {"", "the body is not valid JSON (line 1, column 1)"},
    };
    for (const sent& r : rows) {
        INFO(r.body);
        auto reply = a.post_text("/v1/members", a.admin, r.body);
        check_problem(reply, 400, "malformed-json");
        CHECK(reply.body().value("detail", "") == r.detail);
    }
}

TEMPLATE_TEST_CASE("router: a read refuses a query parameter it does not take, or one given twice",
                   "[router][query]", in_process, over_http) {
    api a(TestType::kind);
    a.enroll("m-1");
    struct asked {
        const char* target;
        const char* field;
    } rows[] = {
        {"/v1/members/m-1?x=1", "x"},
        {"/v1/program?x=1", "x"},
        {"/v1/members/m-1/tier-history?x=1", "x"},
        {"/v1/members/m-1/activity?x=1", "x"},
        {"/v1/members/m-1/activity?limit=1&limit=2", "limit"},
        {"/v1/members/m-1/audit?cursor=1&cursor=2", "cursor"},
        {"/v1/rewards?member_id=m-1&member_id=m-2", "member_id"},
    };
    for (const asked& r : rows) {
        INFO(r.target);
        check_problem(a.get(r.target, a.admin), 422, "validation-failed",
                      std::vector<std::string>{r.field});
    }
    // Without them, each is answered.
    for (const char* target : {"/v1/members/m-1", "/v1/program", "/v1/members/m-1/activity?limit=1",
                               "/v1/rewards?member_id=m-1"}) {
        INFO(target);
        CHECK(a.get(target, a.admin).status() == 200);
    }
}

TEMPLATE_TEST_CASE("router: an empty Idempotency-Key is refused, as one too long is",
                   "[router][idempotency]", in_process, over_http) {
    api a(TestType::kind);
    a.enroll("m-1");
    auto before = snapshot::of(a, "m-1");
    for (const std::string& key : {std::string(), std::string(256, 'k'), std::string("a b")}) {
        INFO("Idempotency-Key \"" << key << "\"");
        check_problem(
            a.post("/v1/transactions", a.pos, basket("t-1", "m-1"), {{"Idempotency-Key", key}}),
            422, "validation-failed", std::vector<std::string>{"Idempotency-Key"});
    }
    check_unchanged(a, before, "m-1");
    // 1 and 255 printable characters are keys.
    ok_json(a.post("/v1/transactions", a.pos, basket("t-1", "m-1"), {{"Idempotency-Key", "k"}}),
            201);
    ok_json(a.post("/v1/transactions", a.pos, basket("t-2", "m-1"),
                   {{"Idempotency-Key", std::string(255, '~')}}),
            201);
    // Reads ignore it: it protects writes, and a health check or a lookup that sends it anyway
    // is answered.
    for (const char* target : {"/healthz", "/v1/members/m-1"}) {
        INFO(target);
        auto req = api::make(verb::get, target, a.admin);
        req.set("Idempotency-Key", "a b");
        CHECK(a.send(std::move(req)).status() == 200);
    }
}

TEMPLATE_TEST_CASE("router: a line's tags follow the rules of every text field", "[router][tags]",
                   in_process, over_http) {
    api a(TestType::kind);
    a.enroll("m-1");
    auto tagged = [](json tags) {
        json p = basket("t-1", "m-1");
        p["lines"][1]["tags"] = std::move(tags);
        return p;
    };
    // Plain ASCII bodies are read by the purchase fast path, the others by the general one:
    // both refuse alike.
    const std::vector<std::pair<json, std::string>> refused = {
        {json::array({"a\nb"}), "lines[1].tags[0]"},
        {json::array({"gift", std::string(257, 't')}), "lines[1].tags[1]"},
        {json::array({""}), "lines[1].tags[0]"},
        {json::array({"gift", "a\x7f"
                              "b"}),
         "lines[1].tags[1]"},
        {json::array({"a\tb"}), "lines[1].tags[0]"},
    };
    auto before = snapshot::of(a, "m-1");
    for (const auto& [tags, field] : refused) {
        INFO("tags " << tags.dump());
        check_problem(a.post("/v1/transactions", a.pos, tagged(tags)), 422, "validation-failed",
                      std::vector<std::string>{field});
    }
    check_unchanged(a, before, "m-1");
    ok_json(a.post("/v1/transactions", a.pos, tagged(json::array({"gift", std::string(256, 't')}))),
            201);
}

TEMPLATE_TEST_CASE("router: a body with a key twice in any object is refused, naming it",
                   "[router][duplicates]", in_process, over_http) {
    api a(TestType::kind);
    a.enroll("m-1");
    ok_json(a.post("/v1/transactions", a.pos, basket("t-0", "m-1")), 201);
    // nlohmann writes keys in order: channel, currency, lines, member_id, …
    const std::string purchase = basket("t-1", "m-1").dump();
    auto replaced = [](std::string text, const std::string& from, const std::string& to) {
        auto at = text.find(from);
        REQUIRE(at != std::string::npos);
        return text.replace(at, from.size(), to);
    };
    const std::string event_head = R"({"event_id":"e-1","type":"review_posted","occurred_at":")" +
                                   now_text() + R"(","attributes":)";
    struct twice {
        std::string target;
        std::string body;
        std::string field;
    };
    const std::vector<twice> cases = {
        {"/v1/members", R"({"member_id":"m-dup","member_id":"m-dup2"})", "member_id"},
        {"/v1/members", R"({"member_id":"m-dup","member_id":"m-dup"})", "member_id"},
        {"/v1/members", R"({"member_id":"m-dup","member\u005fid":"m-dup2"})", "member_id"},
        {"/v1/transactions", R"({"member_id":"m-1",)" + purchase.substr(1), "member_id"},
        {"/v1/transactions", replaced(purchase, R"("quantity":2)", R"("quantity":2,"quantity":1)"),
         "lines[0].quantity"},
        {"/v1/transactions",
         replaced(purchase, R"("unit_price":300)", R"("unit_price":300,"unit_price":300)"),
         "lines[1].unit_price"},
        {"/v1/members/m-1/events", event_head + R"({"a":{"b":1,"c":[],"b":2}}})", "attributes.a.b"},
        {"/v1/members/m-1/events", event_head + R"({"list":[1,[{}],{"x":1},{"y":1,"y":2}]}})",
         "attributes.list[3].y"},
        {"/v1/transactions/t-0/returns",
         R"({"return_id":"r-1","store_id":"s-1","return_id":"r-2"})", "return_id"},
        {"/v1/members/m-1/adjustments",
         R"({"adjustment_id":"adj-1","points":5,"reason":"x","points":500})", "points"},
    };
    auto before = snapshot::of(a, "m-1");
    for (const twice& c : cases) {
        INFO(c.target << " " << c.body);
        check_problem(a.post_text(c.target, a.admin, c.body), 422, "validation-failed",
                      std::vector<std::string>{c.field});
    }
    check_unchanged(a, before, "m-1");
    check_problem(a.get("/v1/members/m-dup", a.admin), 404, "not-found");
    check_problem(a.get("/v1/members/m-dup2", a.admin), 404, "not-found");
    // The same key in different objects is no repetition.
    ok_json(a.post_text("/v1/transactions", a.pos, purchase), 201);
    ok_json(a.post_text("/v1/members/m-1/events", a.pos,
                        event_head + R"({"a":{"a":1},"b":[{"a":1},{"a":2}]}})"),
            201);
}

TEMPLATE_TEST_CASE("router: a console file asked with another method is 405, allowing GET and HEAD",
                   "[router][static]", in_process, over_http) {
    http::router_options options = roomy();
    options.web_root = std::filesystem::path(LOYALTY_SOURCE_DIR) / "web";
    api a(TestType::kind, options);
    REQUIRE(a.get("/index.html", "").status() == 200);
    for (const char* target : {"/index.html", "/", "/app.js"}) {
        for (verb method : {verb::post, verb::put, verb::delete_}) {
            auto r = a.send(api::make(method, target, ""));
            check_problem(r, 405, "method-not-allowed");
            CHECK(r.header("Allow") == "GET, HEAD");
        }
    }
    // A file that is not there, or not one the console serves, is no route at all.
    check_problem(a.send(api::make(verb::post, "/nothing.html", "")), 404, "route-not-found");
    check_problem(a.send(api::make(verb::post, "/README.md", "")), 404, "route-not-found");
}

TEMPLATE_TEST_CASE("router: a time before year 1 or after 9999 once in UTC is refused", "[router]",
                   in_process, over_http) {
    api a(TestType::kind);
    a.enroll("m-1");
    auto before = snapshot::of(a, "m-1");
    // Well-formed, but their offsets move them out of the years RFC 3339 can write: stored, they
    // could not be read back, and every later write on the purchase would fail.
    for (const char* at :
         {"0000-01-01T00:00:00+00:01", "0001-01-01T00:00:00+23:59", "0000-12-31T23:59:59Z",
          "9999-12-31T23:59:59-00:01", "9999-12-31T00:01:00-23:59"}) {
        INFO(at);
        json purchase = basket("t-y0", "m-1");
        purchase["occurred_at"] = at;
        check_problem(a.post("/v1/transactions", a.pos, purchase), 422, "validation-failed",
                      std::vector<std::string>{"occurred_at"});
        check_problem(
            a.post("/v1/members/m-1/events", a.pos,
                   {{"event_id", "e-y0"}, {"type", "review_posted"}, {"occurred_at", at}}),
            422, "validation-failed", std::vector<std::string>{"occurred_at"});
        check_problem(a.post("/v1/simulate", a.pos, purchase), 422, "validation-failed",
                      std::vector<std::string>{"occurred_at"});
    }
    check_unchanged(a, before, "m-1");

    // The first second of year 1 is inside the years, but outside the sample program's 60 days
    // of late posting: refused for that, on the same field.
    json earliest = basket("t-y1", "m-1");
    earliest["occurred_at"] = "0001-01-01T00:01:00+00:01";
    reply late = a.post("/v1/transactions", a.pos, earliest);
    check_problem(late, 422, "validation-failed", std::vector<std::string>{"occurred_at"});
    CHECK(late.body().value("detail", "").find("at most 60 days late") != std::string::npos);
    // Its simulation answers what posting it would: the same refusal, not a quote.
    reply quote = a.post("/v1/simulate", a.pos, earliest);
    check_problem(quote, 422, "validation-failed", std::vector<std::string>{"occurred_at"});
    // The same words; the server's clock, which the detail names, may tick between the two.
    auto without_clock = [](const std::string& detail) {
        static const std::regex clock(R"re(\d+ days ago \((.*), now [0-9T:-]+Z\))re");
        return std::regex_replace(detail, clock, "N days ago ($1, now T)");
    };
    CHECK(without_clock(quote.body().value("detail", "")) ==
          without_clock(late.body().value("detail", "")));
    CHECK(without_clock(late.body().value("detail", ""))
              .find("N days ago (0001-01-01T00:00:00Z, now T)") != std::string::npos);
    check_unchanged(a, before, "m-1");
    // Under a program without the bound it is stored, read back and returned.
    ok_json(a.post_text("/v1/program/versions", a.admin,
                        test::sample_text_with("late_posting:\n  max_days: 60\n", ""),
                        "application/yaml"),
            201);
    ok_json(a.post("/v1/simulate", a.pos, earliest), 200);
    ok_json(a.post("/v1/transactions", a.pos, earliest), 201);
    ok_json(a.post("/v1/transactions/t-y1/returns", a.pos,
                   {{"return_id", "ret-y1"}, {"store_id", "s-1"}}),
            201);
}

TEMPLATE_TEST_CASE("router: points pay at most the share of a purchase across its payments",
                   "[router]", in_process, over_http) {
    api a(TestType::kind);
    a.enroll("m-sp");
    ok_json(a.post("/v1/members/m-sp/adjustments", a.support,
                   {{"adjustment_id", "adj-1"}, {"points", 2000}, {"reason", "test"}}),
            201);
    // A $10 purchase: half of it, 500 points, may be paid with points.
    json purchase = basket("sp-t", "m-sp", "s-12");
    purchase["lines"] = json::array({line("1", "BEANS", "beans", 1, 1000)});
    ok_json(a.post("/v1/transactions", a.admin, purchase), 201);
    auto payment = [](const std::string& id) {
        return json{{"redemption_id", id},
                    {"points", 500},
                    {"transaction_id", "sp-t"},
                    {"store_id", "s-12"}};
    };
    const std::string target = "/v1/members/m-sp/redemptions";
    ok_json(a.post(target, a.admin, payment("sp-1")), 201);
    // A second payment on it would pay more than half: refused as a single one too large is.
    auto before = snapshot::of(a, "m-sp");
    check_problem(a.post(target, a.admin, payment("sp-2")), 422, "payment-rule",
                  std::vector<std::string>{"points"});
    check_unchanged(a, before, "m-sp");
    // Once the first is cancelled, its share is free again.
    auto cancel = api::make(verb::post, "/v1/redemptions/sp-1/cancel", a.support);
    cancel.prepare_payload();
    ok_json(a.send(std::move(cancel)), 201);
    ok_json(a.post(target, a.admin, payment("sp-2")), 201);
    check_problem(a.post(target, a.admin, payment("sp-3")), 422, "payment-rule",
                  std::vector<std::string>{"points"});
    // 25 for enrolling, 2,000 credited, 500 paid.
    CHECK(ok_json(a.get("/v1/members/m-sp", a.support), 200)["balance"]["available"] == 1525);
}

TEMPLATE_TEST_CASE("router: a purchase past the limits on amounts is refused, naming its lines",
                   "[router]", in_process, over_http) {
    api a(TestType::kind);
    a.enroll("m-1");
    // 500 lines, each within the line limits, total 5 * 10^18 cents: stored, two of them made a
    // lifetime spend that wrapped below zero.
    json lines = json::array();
    for (int i = 0; i < 500; ++i) {
        lines.push_back(line(std::to_string(i), "BEANS", "beans", 1'000'000, 10'000'000'000));
    }
    json purchase = basket("big-1", "m-1");
    purchase["lines"] = lines;
    auto before = snapshot::of(a, "m-1");
    check_problem(a.post("/v1/transactions", a.admin, purchase), 422, "amount-out-of-range",
                  std::vector<std::string>{"lines"});
    check_problem(a.post("/v1/simulate", a.admin, purchase), 422, "amount-out-of-range",
                  std::vector<std::string>{"lines"});
    check_unchanged(a, before, "m-1");

    // One line at the limits is the most a purchase may be, and is counted exactly.
    purchase["lines"] = json::array({lines[0]});
    ok_json(a.post("/v1/transactions", a.admin, purchase), 201);
    json member = ok_json(a.get("/v1/members/m-1", a.support), 200);
    CHECK(member["lifetime"]["spend"] == 10'000'000'000'000'000);
    CHECK(member["balance"]["pending"].get<std::int64_t>() > 0);
}
