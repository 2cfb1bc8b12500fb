// The response head the server writes is byte for byte what Beast's serializer would have
// written for the same message: the standard answers, the odd ones, and random ones.

#include "loyalty/http/response_head.hpp"

#include <boost/beast/http/write.hpp>
#include <catch2/catch.hpp>
#include <random>
#include <sstream>
#include <string>

namespace beast_http = boost::beast::http;
using response = beast_http::response<beast_http::string_body>;

namespace {

std::string response_head(const response& res) {
    std::string head = "left from the answer before";
    loyalty::http::response_head(res, head);
    return head;
}

// What Beast writes for `res`: its head, then its body.
std::string beast_text(const response& res) {
    std::ostringstream out;
    out << res;
    return out.str();
}

void check_same(const response& res) {
    INFO(beast_text(res));
    CHECK(response_head(res) + res.body() == beast_text(res));
}

} // namespace

TEST_CASE("a lookup's answer has the head Beast writes for it", "[http][response_head]") {
    response res{beast_http::status::ok, 11};
    res.set(beast_http::field::content_type, "application/json");
    res.set(beast_http::field::cache_control, "no-store");
    res.body() = R"({"member_id":"m-1"})";
    res.prepare_payload();
    res.set("X-Request-Id", "9fe38f76bdff241f");
    res.keep_alive(true);
    CHECK(response_head(res) == "HTTP/1.1 200 OK\r\n"
                                "Content-Type: application/json\r\n"
                                "Cache-Control: no-store\r\n"
                                "Content-Length: 19\r\n"
                                "X-Request-Id: 9fe38f76bdff241f\r\n"
                                "\r\n");
    check_same(res);
}

TEST_CASE("odd answers have the head Beast writes for them", "[http][response_head]") {
    SECTION("a replayed 201") {
        response res{beast_http::status::created, 11};
        res.set(beast_http::field::content_type, "application/json");
        res.set("Idempotent-Replayed", "true");
        res.body() = "{}";
        res.prepare_payload();
        check_same(res);
    }
    SECTION("HTTP/1.0 kept alive") {
        response res{beast_http::status::not_found, 10};
        res.keep_alive(true);
        res.body() = "gone";
        res.prepare_payload();
        CHECK(response_head(res).rfind("HTTP/1.0 404 Not Found\r\n", 0) == 0);
        check_same(res);
    }
    SECTION("closing after the answer") {
        response res{beast_http::status::service_unavailable, 11};
        res.set(beast_http::field::retry_after, "1");
        res.keep_alive(false);
        res.prepare_payload();
        CHECK(response_head(res).find("Connection: close\r\n") != std::string::npos);
        check_same(res);
    }
    SECTION("a reason of its own") {
        response res{beast_http::status::ok, 11};
        res.reason("Fine Indeed");
        check_same(res);
    }
    SECTION("a code Beast has no reason for") {
        response res;
        res.version(11);
        res.result(299);
        res.body() = "x";
        res.prepare_payload();
        check_same(res);
    }
    SECTION("a HEAD's answer: a length and no body") {
        response res{beast_http::status::ok, 11};
        res.set(beast_http::field::content_length, "497");
        check_same(res);
    }
    SECTION("no fields, an empty value, a field twice") {
        response bare{beast_http::status::no_content, 11};
        CHECK(response_head(bare) == "HTTP/1.1 204 No Content\r\n\r\n");
        check_same(bare);
        response res{beast_http::status::ok, 11};
        res.insert("X-Empty", "");
        res.insert(beast_http::field::vary, "Accept");
        res.insert(beast_http::field::vary, "Authorization");
        check_same(res);
    }
}

TEST_CASE("random answers have the head Beast writes for them", "[http][response_head]") {
    std::mt19937 random(20261206);
    auto pick = [&](int low, int high) {
        return std::uniform_int_distribution<int>(low, high)(random);
    };
    const char* names[] = {"Content-Type", "X-Request-Id",     "Location", "X-Custom",
                           "Allow",        "Www-Authenticate", "ETag",     "x-lower-case"};
    for (int round = 0; round < 500; ++round) {
        response res;
        res.version(pick(0, 1) == 0 ? 10 : 11);
        res.result(static_cast<unsigned>(pick(100, 599)));
        int fields = pick(0, 6);
        for (int i = 0; i < fields; ++i) {
            std::string value(static_cast<std::size_t>(pick(0, 40)), 'v');
            for (auto& c : value) {
                c = static_cast<char>(pick(0x21, 0x7e));
            }
            res.insert(names[pick(0, 7)], value);
        }
        // Beast refuses a body with a 1xx, 204 or 304 when it sets the length.
        unsigned code = res.result_int();
        bool bodiless = code < 200 || code == 204 || code == 304;
        res.body() = std::string(bodiless ? 0 : static_cast<std::size_t>(pick(0, 64)), 'b');
        if (pick(0, 1) == 0) {
            res.prepare_payload();
        }
        if (pick(0, 2) == 0) {
            res.keep_alive(pick(0, 1) == 0);
        }
        check_same(res);
    }
}
