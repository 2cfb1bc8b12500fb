// The OpenAPI document against the router: every route documented and nothing else, every $ref
// resolving, security and x-roles as the router enforces them, and the document as served.

#include "loyalty/http/openapi.hpp"
#include "loyalty/http/router.hpp"
#include "loyalty/ledger/api_keys.hpp"
#include "loyalty/ledger/ledger.hpp"
#include "support/router_requests.hpp"
#include "support/sample_program.hpp"
#include "support/temp_dir.hpp"

#include <algorithm>
#include <catch2/catch.hpp>
#include <future>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <spdlog/spdlog.h>
#include <string>

using namespace loyalty;
using nlohmann::json;

namespace {

const std::set<std::string> public_paths = {"/healthz", "/metrics", "/v1/openapi.json"};
const std::set<std::string> methods = {"get",     "put",  "post",  "delete",
                                       "options", "head", "patch", "trace"};

std::string lower(std::string text) {
    std::transform(text.begin(), text.end(), text.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return text;
}

const json& paths() {
    return http::openapi_document().at("paths");
}

// The operation documented for `route`, or null.
const json* operation(const http::route_info& route) {
    auto path = paths().find(route.pattern);
    if (path == paths().end()) {
        return nullptr;
    }
    auto op = path->find(lower(route.method));
    return op == path->end() ? nullptr : &*op;
}

// Follows a local "$ref" (one level).
const json& resolve(const json& node) {
    if (node.is_object() && node.contains("$ref")) {
        auto pointer = node.at("$ref").get<std::string>().substr(1);
        return http::openapi_document().at(json::json_pointer(pointer));
    }
    return node;
}

void collect_refs(const json& node, const std::string& at,
                  std::vector<std::pair<std::string, std::string>>& out) {
    if (node.is_object()) {
        for (const auto& item : node.items()) {
            if (item.key() == "$ref" && item.value().is_string()) {
                out.emplace_back(at, item.value().get<std::string>());
            } else {
                collect_refs(item.value(), at + "/" + item.key(), out);
            }
        }
    } else if (node.is_array()) {
        for (std::size_t i = 0; i < node.size(); ++i) {
            collect_refs(node[i], at + "/" + std::to_string(i), out);
        }
    }
}

} // namespace

TEST_CASE("openapi: every route of the router is documented", "[openapi]") {
    REQUIRE_FALSE(http::router::routes().empty());
    for (const auto& route : http::router::routes()) {
        INFO(route.method << " " << route.pattern);
        const json* op = operation(route);
        REQUIRE(op != nullptr);
        CHECK(op->contains("summary"));
        CHECK(op->contains("operationId"));
        CHECK_FALSE(op->at("responses").empty());
    }
    CHECK(http::openapi_document().at("openapi") == "3.1.0");
}

TEST_CASE("openapi: every documented operation is a route", "[openapi]") {
    std::set<std::string> operation_ids;
    for (const auto& path : paths().items()) {
        for (const auto& entry : path.value().items()) {
            if (!methods.contains(entry.key())) {
                CHECK(entry.key() == "parameters");
                continue;
            }
            INFO(entry.key() << " " << path.key());
            bool served = std::any_of(
                http::router::routes().begin(), http::router::routes().end(), [&](const auto& r) {
                    return r.pattern == path.key() && lower(r.method) == entry.key();
                });
            CHECK(served);
            CHECK(operation_ids.insert(entry.value().at("operationId").get<std::string>()).second);
        }
    }
}

TEST_CASE("openapi: every $ref resolves to a component", "[openapi]") {
    std::vector<std::pair<std::string, std::string>> refs;
    collect_refs(http::openapi_document(), "", refs);
    REQUIRE(refs.size() > 50);
    for (const auto& [at, target] : refs) {
        INFO(at << " -> " << target);
        REQUIRE(target.rfind("#/components/", 0) == 0);
        CHECK(http::openapi_document().contains(json::json_pointer(target.substr(1))));
    }
    const json& schemas = http::openapi_document().at("components").at("schemas");
    for (const char* name : {"Purchase", "PurchaseLine", "Return", "Event", "Enrollment",
                             "Redemption", "Adjustment", "Outcome", "MemberView", "ActivityPage",
                             "Rewards", "ProgramVersion", "Problem", "ProgramProblem"}) {
        INFO(name);
        CHECK(schemas.contains(name));
    }
}

TEST_CASE("openapi: keyed routes declare bearer security, x-roles and 401/403/429", "[openapi]") {
    for (const auto& route : http::router::routes()) {
        INFO(route.method << " " << route.pattern);
        const json* op = operation(route);
        REQUIRE(op != nullptr);
        const json& responses = op->at("responses");
        if (public_paths.contains(route.pattern)) {
            CHECK(op->at("security") == json::array());
            CHECK_FALSE(op->contains("x-roles"));
            CHECK_FALSE(responses.contains("401"));
            continue;
        }
        REQUIRE(op->at("security").is_array());
        REQUIRE(op->at("security").size() == 1);
        CHECK(op->at("security")[0].contains("bearerAuth"));
        CHECK_FALSE(op->at("x-roles").empty());
        for (const char* status : {"401", "403", "429"}) {
            INFO(status);
            REQUIRE(responses.contains(status));
            CHECK(resolve(responses.at(status)
                              .at("content")
                              .at("application/problem+json")
                              .at("schema")) ==
                  http::openapi_document().at("components").at("schemas").at("Problem"));
        }
    }
}

TEST_CASE("openapi: every problem response is problem+json and every path parameter declared",
          "[openapi]") {
    std::regex template_param(R"(\{([a-z_]+)\})");
    for (const auto& route : http::router::routes()) {
        INFO(route.method << " " << route.pattern);
        const json* op = operation(route);
        REQUIRE(op != nullptr);
        for (const auto& response : op->at("responses").items()) {
            INFO(response.key());
            CHECK(response.value().contains("description"));
            if (response.key()[0] == '4' || response.key()[0] == '5') {
                CHECK(response.value().at("content").contains("application/problem+json"));
            }
        }
        std::set<std::string> declared;
        const json& item = paths().at(route.pattern);
        for (const json* list : {&item, op}) {
            if (list->contains("parameters")) {
                for (const json& p : list->at("parameters")) {
                    if (resolve(p).at("in") == "path") {
                        declared.insert(resolve(p).at("name").get<std::string>());
                        // The router takes ids of up to 256 bytes (router_test): a client held
                        // to the schema must be able to send every one of them.
                        CHECK(resolve(p).at("schema").at("maxLength") == 256);
                    }
                }
            }
        }
        std::set<std::string> in_template;
        for (auto it =
                 std::sregex_iterator(route.pattern.begin(), route.pattern.end(), template_param);
             it != std::sregex_iterator(); ++it) {
            in_template.insert((*it)[1].str());
        }
        CHECK(declared == in_template);
    }
}

TEST_CASE("openapi: request bodies are closed objects listing their required fields", "[openapi]") {
    const json& schemas = http::openapi_document().at("components").at("schemas");
    for (const char* name : {"Purchase", "PurchaseLine", "Return", "ReturnLine", "Event",
                             "Enrollment", "RewardRedemption", "PointsPayment", "Adjustment"}) {
        INFO(name);
        const json& s = schemas.at(name);
        CHECK(s.at("additionalProperties") == false);
        for (const auto& field : s.at("required")) {
            CHECK(s.at("properties").contains(field.get<std::string>()));
        }
    }
}

TEST_CASE("openapi: x-roles are exactly the roles the router lets through", "[openapi]") {
    test::quiet_logs quiet;
    test::temp_dir dir;
    auto database = dir / "loyalty.db";
    std::map<std::string, std::string> secrets;
    for (auto r : {ledger::role::pos, ledger::role::support, ledger::role::admin}) {
        secrets[ledger::to_string(r)] = ledger::create_api_key(database, r, {}, "test").secret;
    }
    ledger::ledger_options lo;
    lo.database = database;
    lo.synchronous_full = false;
    ledger::ledger book(lo, test::sample_path());
    http::metrics stats;
    http::router api(book, {}, stats);

    auto ask = [&](const http::route_info& route, const std::string& secret) {
        return test::ask(api, route.method, test::target_of(route.pattern), secret);
    };

    for (const auto& route : http::router::routes()) {
        INFO(route.method << " " << route.pattern);
        const json* op = operation(route);
        REQUIRE(op != nullptr);
        if (public_paths.contains(route.pattern)) {
            auto res = ask(route, "");
            CHECK(res.result_int() == 200);
            if (route.pattern == "/v1/openapi.json") {
                CHECK(json::parse(res.body()) == http::openapi_document());
            }
            continue;
        }
        CHECK(ask(route, "").result_int() == 401);
        std::set<std::string> documented;
        for (const auto& r : op->at("x-roles")) {
            documented.insert(r.get<std::string>());
        }
        for (const auto& [role, secret] : secrets) {
            INFO(role);
            auto res = ask(route, secret);
            bool forbidden = res.result_int() == 403;
            CHECK(forbidden != documented.contains(role));
            std::string status = std::to_string(res.result_int());
            CHECK(op->at("responses").contains(status));
        }
    }
}
