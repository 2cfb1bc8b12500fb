// The REST API: routes, authentication, roles, rate limits and the mapping of the ledger's
// answers to HTTP. docs/api.md documents every route; openapi.cpp describes them for machines.

#include "loyalty/http/router.hpp"

#include "loyalty/engine/event_json.hpp"
#include "loyalty/engine/json_fields.hpp"
#include "loyalty/engine/json_writer.hpp"
#include "loyalty/engine/local_time.hpp"
#include "loyalty/engine/purchase_fast_path.hpp"
#include "loyalty/http/json_body.hpp"
#include "loyalty/http/json_log.hpp"
#include "loyalty/http/openapi.hpp"
#include "loyalty/ledger/api_keys.hpp"
#include "loyalty/program/schedule_notes.hpp"
#include "loyalty/program/utf8.hpp"

#include <boost/url/parse.hpp>
#include <cctype>
#include <fstream>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>
#include <sstream>
#include <unordered_map>

namespace loyalty::http {
namespace {

using beast_http::status;
using beast_http::verb;
using ledger::role;

constexpr unsigned role_bit(role r) {
    return 1u << static_cast<unsigned>(r);
}
constexpr unsigned anyone = 0; // no key needed
constexpr unsigned pos_admin = role_bit(role::pos) | role_bit(role::admin);
constexpr unsigned support_admin = role_bit(role::support) | role_bit(role::admin);
constexpr unsigned all_roles =
    role_bit(role::pos) | role_bit(role::support) | role_bit(role::admin);
constexpr unsigned admin_only = role_bit(role::admin);

// As long as the ids a body may carry (json_fields reads at most 256 bytes), so every id
// posted can also be named in a path.
constexpr std::size_t max_id_bytes = 256;

engine::timestamp now() {
    return std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
}

// One request in flight, answered exactly once.
struct call {
    request req;
    std::string request_id;
    std::string route = "unmatched";
    std::vector<std::string> params; // the {id} segments, decoded
    std::string target;              // what `url` views
    boost::urls::url_view url;
    std::optional<ledger::api_key> key;
    // The key came from ledger::remembered_api_key, unread: the handler has the ledger check it
    // where it reads or writes (only routes whose handler does that take a remembered key).
    bool key_remembered = false;
    // Set with a remembered key: looks it up, or answers 401 (or the storage error) and returns
    // false. A refusal (problem) runs it first, since it may come before the ledger checked the
    // key: a revoked key hears 401 and nothing else.
    std::function<bool(call&)> confirm_key;
    respond_fn respond;
    metrics* stats = nullptr;
    std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();

    void answer(response res) {
        res.set("X-Request-Id", request_id);
        res.keep_alive(req.keep_alive());
        auto latency = std::chrono::duration_cast<std::chrono::microseconds>(
            std::chrono::steady_clock::now() - started);
        unsigned code = res.result_int();
        // A method Beast does not know is any token the client chose: as a label it would add
        // a series per token, without bound, so all of them count as "other".
        stats->observe(req.method() == beast_http::verb::unknown
                           ? std::string("other")
                           : std::string(beast_http::to_string(req.method())),
                       route, code, latency);
        auto level = code >= 500 ? spdlog::level::err : spdlog::level::info;
        if (spdlog::default_logger_raw()->should_log(level)) {
            // The request id, route and key id are checked text (printable ASCII); the method
            // is Beast's.
            engine::json_writer line;
            line.reserve(160);
            line.begin_object()
                .field("key", key ? std::string_view(key->id) : std::string_view())
                .field("method", std::string_view(req.method_string()))
                .field("msg", "request")
                .field("request_id", request_id)
                .field("route", route)
                .field("status", code)
                .field("us", static_cast<std::int64_t>(latency.count()))
                .end_object();
            log_object(level, line.text());
        }
        respond(std::move(res));
    }

    void problem(status s, const std::string& type, const std::string& title,
                 const std::string& detail, const std::vector<std::string>& fields = {}) {
        if (confirm_key) {
            auto confirm = std::exchange(confirm_key, nullptr);
            if (!confirm(*this)) {
                return;
            }
        }
        answer(http::problem(req.version(), req.keep_alive(), s, type, title, detail, fields));
    }

    // By value: most bodies are built for this answer and move into it.
    void json(status s, std::string body, bool replayed = false) {
        response res{s, req.version()};
        res.set(beast_http::field::content_type, "application/json");
        res.set(beast_http::field::cache_control, "no-store");
        // A browser must not read an answer as anything but JSON (a member's name holding
        // markup, opened directly): as the console's files, every answer says so.
        res.set("X-Content-Type-Options", "nosniff");
        if (replayed) {
            res.set("Idempotent-Replayed", "true");
        }
        res.body() = std::move(body);
        res.prepare_payload();
        answer(std::move(res));
    }

    void json(status s, const nlohmann::json& body) {
        json(s, body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    }
};

using call_ptr = std::shared_ptr<call>;

// A program's problem or note where the file has it, as the program endpoints answer both.
nlohmann::json diagnostic_json(const program::diagnostic& d) {
    return {{"line", d.at.line}, {"column", d.at.column}, {"path", d.path}, {"message", d.message}};
}

// The ledger's errors as HTTP: each code has one status and one problem type.
void fail(call& c, const ledger::error& e) {
    std::vector<std::string> fields;
    if (!e.field.empty()) {
        fields.push_back(e.field);
    }
    switch (e.code) {
    case ledger::error_code::invalid_request:
        return c.problem(status::unprocessable_entity, "validation-failed", "Invalid request",
                         e.message, fields);
    case ledger::error_code::not_found:
        return c.problem(status::not_found, "not-found", "Not found", e.message, fields);
    case ledger::error_code::already_exists:
        return c.problem(status::conflict, "already-exists", "Already exists", e.message, fields);
    case ledger::error_code::idempotency_conflict:
        return c.problem(status::conflict, "idempotency-conflict",
                         "Idempotency key reused with a different request", e.message, fields);
    case ledger::error_code::rejected:
        switch (e.rejection.value_or(engine::rejection_code::invalid_event)) {
        case engine::rejection_code::insufficient_points:
            return c.problem(status::unprocessable_entity, "insufficient-points",
                             "Not enough points", e.message, fields);
        case engine::rejection_code::not_eligible:
            return c.problem(status::unprocessable_entity, "not-eligible", "Not eligible",
                             e.message, fields);
        case engine::rejection_code::payment_rule:
            return c.problem(status::unprocessable_entity, "payment-rule",
                             "Outside the program's payment rules", e.message, fields);
        case engine::rejection_code::already_done:
            return c.problem(status::conflict, "already-done", "Already done", e.message, fields);
        case engine::rejection_code::out_of_range:
            return c.problem(status::unprocessable_entity, "amount-out-of-range",
                             "Past the ledger's limits on amounts", e.message, fields);
        case engine::rejection_code::unknown_record:
            return c.problem(status::not_found, "not-found", "Not found", e.message, fields);
        case engine::rejection_code::invalid_event:
            return c.problem(status::unprocessable_entity, "validation-failed", "Invalid request",
                             e.message, fields);
        }
        break;
    case ledger::error_code::unauthorized: {
        response res = http::problem(c.req.version(), c.req.keep_alive(), status::unauthorized,
                                     "unauthorized", "Unauthorized", e.message);
        res.set(beast_http::field::www_authenticate, "Bearer error=\"invalid_token\"");
        return c.answer(std::move(res));
    }
    case ledger::error_code::invalid_program: {
        nlohmann::json body = {{"type", "https://loyalty.example/problems/invalid-program"},
                               {"title", "The program does not validate"},
                               {"status", 422},
                               {"detail", std::to_string(e.diagnostics.size()) + " problem(s)"}};
        nlohmann::json errors = nlohmann::json::array();
        std::vector<std::string> paths;
        for (const auto& d : e.diagnostics) {
            errors.push_back(diagnostic_json(d));
            paths.push_back(d.path);
        }
        body["errors"] = errors;
        body["fields"] = paths;
        response res{status::unprocessable_entity, c.req.version()};
        res.set(beast_http::field::content_type, "application/problem+json");
        res.set(beast_http::field::cache_control, "no-store");
        res.set("X-Content-Type-Options", "nosniff");
        res.body() = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
        res.prepare_payload();
        return c.answer(std::move(res));
    }
    case ledger::error_code::unavailable: {
        response res =
            http::problem(c.req.version(), c.req.keep_alive(), status::service_unavailable,
                          "unavailable", "Temporarily unavailable", e.message);
        res.set(beast_http::field::retry_after, "1");
        return c.answer(std::move(res));
    }
    case ledger::error_code::storage_failure:
        break;
    }
    // No internals leak: the log has them, with the request id.
    c.problem(status::internal_server_error, "internal", "Internal error",
              "the request failed; it was logged as " + c.request_id);
}

void invalid(call& c, const engine::rejection& r) {
    c.problem(status::unprocessable_entity, "validation-failed", "Invalid request",
              r.field.empty() ? r.message : r.field + ": " + r.message,
              r.field.empty() ? std::vector<std::string>{} : std::vector<std::string>{r.field});
}

// The media type of the body, lower-cased, without parameters: "application/json".
std::string media_type(const call& c) {
    std::string type(c.req[beast_http::field::content_type]);
    type = type.substr(0, type.find(';'));
    auto first = type.find_first_not_of(" \t");
    auto last = type.find_last_not_of(" \t");
    type = first == std::string::npos ? "" : type.substr(first, last - first + 1);
    std::transform(type.begin(), type.end(), type.begin(),
                   [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
    return type;
}

// The body as a JSON object, or an answered error.
std::optional<nlohmann::json> json_body(call& c) {
    if (media_type(c) != "application/json") {
        c.problem(status::unsupported_media_type, "unsupported-media-type",
                  "Unsupported media type", "send the body as application/json");
        return std::nullopt;
    }
    auto body = parse_json_body(c.req.body());
    if (!body && body.error().problem == body_problem::malformed) {
        const body_error& e = body.error();
        c.problem(status::bad_request, "malformed-json", "Malformed JSON",
                  "the body is not valid JSON" +
                      (e.line > 0 ? " (line " + std::to_string(e.line) + ", column " +
                                        std::to_string(e.column) + ")"
                                  : std::string()));
        return std::nullopt;
    }
    if (!body && body.error().problem == body_problem::repeated_key) {
        const std::string& field = body.error().field;
        c.problem(status::unprocessable_entity, "validation-failed", "Invalid request",
                  field + ": given more than once", {field});
        return std::nullopt;
    }
    if (!body) {
        c.problem(status::unprocessable_entity, "validation-failed", "Invalid request",
                  "the body nests deeper than " + std::to_string(max_json_depth) + " levels");
        return std::nullopt;
    }
    if (!body->is_object()) {
        c.problem(status::unprocessable_entity, "validation-failed", "Invalid request",
                  "the body must be a JSON object");
        return std::nullopt;
    }
    return std::move(*body);
}

// Refuses a purchase or return longer than the limit before parsing its lines.
bool too_many_lines(call& c, const nlohmann::json& body, std::size_t max_lines,
                    const std::string& what) {
    auto lines = body.find("lines");
    if (lines == body.end() || !lines->is_array() || lines->size() <= max_lines) {
        return false;
    }
    c.problem(status::unprocessable_entity, "too-many-lines", "Too many lines",
              "a " + what + " has at most " + std::to_string(max_lines) + " lines", {"lines"});
    return true;
}

ledger::request_context context_of(const call& c) {
    ledger::request_context who;
    who.actor = c.key ? c.key->id : "anonymous";
    if (c.key) {
        who.key_id = c.key->id;
    }
    who.role = c.key ? ledger::to_string(c.key->key_role) : "";
    who.request_id = c.request_id;
    auto key = c.req["Idempotency-Key"];
    if (!key.empty()) {
        who.idempotency_key = std::string(key);
    }
    return who;
}

// A pos key bound to a store may only post for that store.
bool store_allowed(call& c, const std::string& store_id) {
    if (c.key && c.key->key_role == role::pos && c.key->store_id && *c.key->store_id != store_id) {
        c.problem(status::forbidden, "forbidden", "Forbidden",
                  "this key posts only for store " + *c.key->store_id, {"store_id"});
        return false;
    }
    return true;
}

// The store of a till's request that may name none (a voucher use, a points payment): at most
// an id's length; a key bound to a store records its own when none is named, and names no other.
bool till_store(call& c, std::string& store_id) {
    if (store_id.size() > max_id_bytes) {
        invalid(c, {engine::rejection_code::invalid_event, "store_id",
                    "at most " + std::to_string(max_id_bytes) + " bytes"});
        return false;
    }
    if (store_id.empty() && c.key && c.key->key_role == role::pos && c.key->store_id) {
        store_id = *c.key->store_id;
    }
    return store_id.empty() || store_allowed(c, store_id);
}

// Answers a write once the ledger committed it.
ledger::ledger::write_callback written(call_ptr c) {
    return [c](ledger::result<ledger::write_result> r) {
        if (!r) {
            return fail(*c, r.error());
        }
        c->json(r->replayed && r->status == 201 ? status::created : status(r->status),
                std::move(r->body), r->replayed);
    };
}

struct route_def {
    verb method;
    std::string pattern;
    std::vector<std::string> segments; // "{}" for a parameter
    unsigned roles;
    void (*handler)(ledger::ledger&, const router_options&, metrics&, call_ptr);
    // The handler has the ledger check the key where it reads or writes (call::key_remembered),
    // so the router may take the key from memory instead of looking it up: the member lookup
    // then reads the database once instead of twice, and a till's write reads it only in the
    // write's own transaction (ledger.cpp, submit).
    bool handler_checks_key = false;
};

std::vector<std::string> split(std::string_view pattern) {
    std::vector<std::string> parts;
    std::size_t start = 1;
    while (start <= pattern.size()) {
        auto slash = pattern.find('/', start);
        std::string part(
            pattern.substr(start, slash == std::string_view::npos ? slash : slash - start));
        parts.push_back(part.front() == '{' ? "{}" : part);
        if (slash == std::string_view::npos) {
            break;
        }
        start = slash + 1;
    }
    return parts;
}

// Handlers.

void healthz(ledger::ledger& l, const router_options&, metrics&, call_ptr c) {
    c->json(status::ok,
            nlohmann::json{{"status", "ok"}, {"program_version", l.active_program().content_hash}});
}

void metrics_text(ledger::ledger& l, const router_options&, metrics& m, call_ptr c) {
    response res{status::ok, c->req.version()};
    res.set(beast_http::field::content_type, "text/plain; version=0.0.4");
    res.body() = m.prometheus(l.stats());
    res.prepare_payload();
    c->answer(std::move(res));
}

void openapi(ledger::ledger&, const router_options&, metrics&, call_ptr c) {
    // 70 KB that never change: serialised once, not on every request (anyone may ask).
    static const std::string text = openapi_document().dump();
    c->json(status::ok, text);
}

std::optional<std::string> optional_text(call& c, const nlohmann::json& body,
                                         const std::string& key, bool& ok) {
    auto it = body.find(key);
    if (it == body.end() || it->is_null()) {
        return std::nullopt;
    }
    if (!it->is_string() || it->get_ref<const std::string&>().empty() ||
        it->get_ref<const std::string&>().size() > 256) {
        c.problem(status::unprocessable_entity, "validation-failed", "Invalid request",
                  key + ": expected a non-empty string of at most 256 bytes", {key});
        ok = false;
        return std::nullopt;
    }
    return it->get<std::string>();
}

// A birthday as the API writes it, YYYY-MM-DD.
tl::expected<date::year_month_day, engine::rejection> birthday_of(const nlohmann::json& b) {
    auto ymd =
        b.is_string() ? engine::parse_full_date(b.get_ref<const std::string&>()) : std::nullopt;
    if (!ymd) {
        // Written as a date, but none the calendar has (30 February): said so, not the format.
        const std::string text = b.is_string() ? b.get<std::string>() : std::string();
        bool shaped = text.size() == 10 && text[4] == '-' && text[7] == '-' &&
                      std::all_of(text.begin(), text.end(),
                                  [](char ch) { return ch == '-' || (ch >= '0' && ch <= '9'); });
        return tl::unexpected(engine::rejection{engine::rejection_code::invalid_event, "birthday",
                                                shaped ? text + " is not a day of the calendar"
                                                       : "expected a date YYYY-MM-DD"});
    }
    return *ymd;
}

// A text a profile change may set or clear: absent leaves `out` empty, null makes it hold an
// empty optional. False when the value was refused (and answered).
bool correction_text(call& c, const nlohmann::json& body, const std::string& key,
                     std::optional<std::optional<std::string>>& out) {
    auto it = body.find(key);
    if (it == body.end()) {
        return true;
    }
    bool ok = true;
    std::optional<std::string> text = optional_text(c, body, key, ok);
    if (ok) {
        out = text;
    }
    return ok;
}

void enroll(ledger::ledger& l, const router_options&, metrics&, call_ptr c) {
    auto body = json_body(*c);
    if (!body) {
        return;
    }
    engine::json_fields f(*body, "", {"member_id", "name", "email", "birthday", "referred_by"});
    if (auto bad = f.check()) {
        return invalid(*c, *bad);
    }
    auto member_id = f.text("member_id");
    if (!member_id) {
        return invalid(*c, member_id.error());
    }
    if (member_id->size() > max_id_bytes) {
        return invalid(*c, {engine::rejection_code::invalid_event, "member_id",
                            "at most " + std::to_string(max_id_bytes) + " bytes"});
    }
    // Support types member ids to find members: one with a space at an end looks like another
    // and is found by nobody who trims what they type.
    if (std::isspace(static_cast<unsigned char>(member_id->front())) ||
        std::isspace(static_cast<unsigned char>(member_id->back()))) {
        return invalid(*c, {engine::rejection_code::invalid_event, "member_id",
                            "a member id has no space at its start or end"});
    }
    bool ok = true;
    ledger::enrollment_request r;
    r.member_id = *member_id;
    r.name = optional_text(*c, *body, "name", ok);
    if (ok) {
        r.email = optional_text(*c, *body, "email", ok);
    }
    if (ok) {
        r.referred_by = optional_text(*c, *body, "referred_by", ok);
    }
    if (!ok) {
        return;
    }
    if (const auto* b = f.get("birthday")) {
        auto birthday = birthday_of(*b);
        if (!birthday) {
            return invalid(*c, birthday.error());
        }
        r.birthday = *birthday;
    }
    l.enroll_async(context_of(*c), r, written(c));
}

void change_profile(ledger::ledger& l, const router_options&, metrics&, call_ptr c) {
    auto body = json_body(*c);
    if (!body) {
        return;
    }
    engine::json_fields f(*body, "", {"change_id", "name", "email", "birthday", "reason"});
    if (auto bad = f.check()) {
        return invalid(*c, *bad);
    }
    auto change_id = f.text("change_id");
    if (!change_id) {
        return invalid(*c, change_id.error());
    }
    if (change_id->size() > max_id_bytes) {
        return invalid(*c, {engine::rejection_code::invalid_event, "change_id",
                            "at most " + std::to_string(max_id_bytes) + " bytes"});
    }
    auto reason = f.text("reason");
    if (!reason) {
        return invalid(*c, reason.error());
    }
    ledger::profile_change_request r{*change_id, {}, {}, {}, *reason};
    if (!correction_text(*c, *body, "name", r.name) ||
        !correction_text(*c, *body, "email", r.email)) {
        return;
    }
    // Here null is not absence but a value: it clears the birthday, as it clears a name.
    if (auto b = body->find("birthday"); b != body->end()) {
        r.birthday = std::optional<date::year_month_day>();
        if (!b->is_null()) {
            auto birthday = birthday_of(*b);
            if (!birthday) {
                return invalid(*c, birthday.error());
            }
            r.birthday = *birthday;
        }
    }
    // The ledger refuses a change of nothing (422, naming `name`).
    l.change_profile_async(context_of(*c), c->params[0], std::move(r), written(c));
}

// The query's parameters, without the empty pieces of "?" or "limit=5&": nothing was given
// there, as a form or a client that joins parameters with "&" leaves them.
std::vector<boost::urls::param> query_params(const call& c) {
    std::vector<boost::urls::param> given;
    for (auto param : c.url.params()) {
        if (!param.key.empty() || param.has_value) {
            given.push_back(std::move(param));
        }
    }
    return given;
}

// A read that takes no query parameters answers one with 422, naming it; true when it did.
bool refused_parameters(call& c) {
    auto params = query_params(c);
    if (params.empty()) {
        return false;
    }
    std::string key = params.front().key;
    c.problem(status::unprocessable_entity, "validation-failed", "Invalid request",
              key + ": unknown parameter", {key});
    return true;
}

void member_view(ledger::ledger& l, const router_options&, metrics&, call_ptr c) {
    if (refused_parameters(*c)) {
        return;
    }
    auto v = l.member(c->params[0], now(),
                      c->key_remembered ? std::optional<std::string>(c->key->id) : std::nullopt);
    if (!v) {
        if (v.error().code == ledger::error_code::not_found) {
            c->confirm_key = nullptr; // the read found the key unrevoked, and no such member
        }
        return fail(*c, v.error());
    }
    c->json(status::ok, ledger::to_json_text(*v, *l.active_program().program));
}

void member_vouchers(ledger::ledger& l, const router_options&, metrics&, call_ptr c) {
    // The whole history, always: a member has a few vouchers a month at most.
    if (refused_parameters(*c)) {
        return;
    }
    auto history = l.vouchers(c->params[0], now());
    if (!history) {
        return fail(*c, history.error());
    }
    c->json(status::ok, ledger::to_json(*history));
}

void tier_changes(ledger::ledger& l, const router_options&, metrics&, call_ptr c) {
    // Every change, always: a member's tier changes a few times a year at most.
    if (refused_parameters(*c)) {
        return;
    }
    auto history = l.tier_history(c->params[0]);
    if (!history) {
        return fail(*c, history.error());
    }
    c->json(status::ok, ledger::to_json(*history, *l.active_program().program));
}

// One stored version with its text, to read it or to activate it again (a rollback is the old
// text posted to /v1/program/versions).
void program_version(ledger::ledger& l, const router_options&, metrics&, call_ptr c) {
    if (refused_parameters(*c)) {
        return;
    }
    const std::string& id = c->params[0];
    if (id.empty() || id.size() > 18 || id.find_first_not_of("0123456789") != std::string::npos) {
        return c->problem(status::not_found, "not-found", "Not found", "no program version " + id,
                          {"version_id"});
    }
    auto version = l.program_version(std::stoll(id));
    if (!version) {
        return fail(*c, version.error());
    }
    c->json(status::ok, ledger::to_json(*version));
}

// ?limit= (1 to 500, 50 when absent) and ?cursor= (a next_cursor this API gave) of a paged
// read; any other parameter is refused. Empty when refused (and answered).
struct page_request {
    std::size_t limit = 50;
    std::optional<std::int64_t> cursor;
};
std::optional<page_request> page_parameters(call& c) {
    page_request page;
    bool limit_seen = false;
    bool cursor_seen = false;
    for (const auto& param : query_params(c)) {
        const std::string& value = param.value;
        // Given twice, either could be meant: refused, as a body's repeated key is.
        bool& seen = param.key == "limit" ? limit_seen : cursor_seen;
        if ((param.key == "limit" || param.key == "cursor") && std::exchange(seen, true)) {
            c.problem(status::unprocessable_entity, "validation-failed", "Invalid request",
                      param.key + ": given more than once", {param.key});
            return std::nullopt;
        }
        bool digits = !value.empty() && value.size() <= 18 &&
                      value.find_first_not_of("0123456789") == std::string::npos;
        if (param.key == "limit") {
            if (!digits || std::stoll(value) < 1 || std::stoll(value) > 500) {
                c.problem(status::unprocessable_entity, "validation-failed", "Invalid request",
                          "limit: expected 1 to 500", {"limit"});
                return std::nullopt;
            }
            page.limit = static_cast<std::size_t>(std::stoll(value));
        } else if (param.key == "cursor") {
            if (!digits) {
                c.problem(status::unprocessable_entity, "validation-failed", "Invalid request",
                          "cursor: not a cursor this API gave", {"cursor"});
                return std::nullopt;
            }
            page.cursor = std::stoll(value);
        } else {
            c.problem(status::unprocessable_entity, "validation-failed", "Invalid request",
                      param.key + ": unknown parameter", {param.key});
            return std::nullopt;
        }
    }
    return page;
}

void member_audit(ledger::ledger& l, const router_options&, metrics&, call_ptr c) {
    auto asked = page_parameters(*c);
    if (!asked) {
        return;
    }
    auto page = l.audit(c->params[0], asked->limit, asked->cursor);
    if (!page) {
        return fail(*c, page.error());
    }
    c->json(status::ok, ledger::to_json(*page));
}

void activity(ledger::ledger& l, const router_options&, metrics&, call_ptr c) {
    auto asked = page_parameters(*c);
    if (!asked) {
        return;
    }
    auto page = l.activity(c->params[0], asked->limit, asked->cursor);
    if (!page) {
        return fail(*c, page.error());
    }
    c->json(status::ok, ledger::to_json(*page));
}

// The activations of program versions, newest first, a page at a time: which version is in use
// since when, and which ran before (a merchant's "what changed, and who did it?").
void program_versions(ledger::ledger& l, const router_options&, metrics&, call_ptr c) {
    auto asked = page_parameters(*c);
    if (!asked) {
        return;
    }
    auto activations = l.program_activations(asked->limit, asked->cursor);
    if (!activations) {
        return fail(*c, activations.error());
    }
    c->json(status::ok, ledger::to_json(*activations));
}

void post_purchase(ledger::ledger& l, const router_options& o, metrics&, call_ptr c) {
    // The common body read straight from its text; anything else, valid or not, goes the way
    // every other body goes, which names what it refuses.
    if (media_type(*c) == "application/json") {
        if (auto p = engine::read_purchase_fast(c->req.body(), o.max_lines)) {
            if (store_allowed(*c, p->store_id)) {
                l.post_purchase_async(context_of(*c), std::move(*p), written(c));
            }
            return;
        }
    }
    auto body = json_body(*c);
    if (!body) {
        return;
    }
    if (too_many_lines(*c, *body, o.max_lines, "purchase")) {
        return;
    }
    auto p = engine::purchase_from_json(*body);
    if (!p) {
        return invalid(*c, p.error());
    }
    if (!store_allowed(*c, p->store_id)) {
        return;
    }
    l.post_purchase_async(context_of(*c), std::move(*p), written(c));
}

void post_return(ledger::ledger& l, const router_options& o, metrics&, call_ptr c) {
    auto body = json_body(*c);
    if (!body) {
        return;
    }
    if (too_many_lines(*c, *body, o.max_lines, "return")) {
        return;
    }
    auto r = engine::return_from_json(*body, c->params[0]);
    if (!r) {
        return invalid(*c, r.error());
    }
    if (!store_allowed(*c, r->store_id)) {
        return;
    }
    l.post_return_async(context_of(*c), std::move(*r), written(c));
}

void post_event(ledger::ledger& l, const router_options&, metrics&, call_ptr c) {
    auto body = json_body(*c);
    if (!body) {
        return;
    }
    auto e = engine::custom_event_from_json(*body);
    if (!e) {
        return invalid(*c, e.error());
    }
    l.post_event_async(context_of(*c), c->params[0], std::move(*e), written(c));
}

void redeem(ledger::ledger& l, const router_options&, metrics&, call_ptr c) {
    auto body = json_body(*c);
    if (!body) {
        return;
    }
    auto r = engine::redemption_from_json(*body);
    if (!r) {
        return invalid(*c, r.error());
    }
    if (auto* reward = std::get_if<engine::reward_redemption>(&*r)) {
        return l.redeem_reward_async(context_of(*c), c->params[0], *reward, written(c));
    }
    auto& payment = std::get<engine::points_payment>(*r);
    if (!till_store(*c, payment.store_id)) {
        return;
    }
    l.pay_with_points_async(context_of(*c), c->params[0], std::move(payment), written(c));
}

void cancel(ledger::ledger& l, const router_options&, metrics&, call_ptr c) {
    ledger::cancellation_terms terms;
    if (!c->req.body().empty()) {
        auto body = json_body(*c);
        if (!body) {
            return;
        }
        engine::json_fields f(*body, "", {"member_id", "reason"});
        if (auto bad = f.check()) {
            return invalid(*c, *bad);
        }
        for (auto [key, into] :
             {std::pair{"member_id", &terms.member_id}, std::pair{"reason", &terms.reason}}) {
            if (f.get(key) == nullptr) {
                continue;
            }
            auto value = std::string_view(key) == "reason" ? f.prose(key) : f.text(key);
            if (!value) {
                return invalid(*c, value.error());
            }
            if (value->size() > max_id_bytes) {
                return invalid(*c, {engine::rejection_code::invalid_event, key,
                                    "at most " + std::to_string(max_id_bytes) + " bytes"});
            }
            *into = std::move(*value);
        }
    }
    l.cancel_redemption_async(context_of(*c), {c->params[0], now()}, std::move(terms), written(c));
}

void use_voucher(ledger::ledger& l, const router_options&, metrics&, call_ptr c) {
    engine::voucher_use use{c->params[0], {}, now(), {}};
    if (!c->req.body().empty()) {
        auto body = json_body(*c);
        if (!body) {
            return;
        }
        engine::json_fields f(*body, "", {"transaction_id", "store_id"});
        if (auto bad = f.check()) {
            return invalid(*c, *bad);
        }
        auto transaction = f.text("transaction_id", false);
        if (!transaction) {
            return invalid(*c, transaction.error());
        }
        use.transaction_id = std::move(*transaction);
        auto store = f.text("store_id", false);
        if (!store) {
            return invalid(*c, store.error());
        }
        use.store_id = std::move(*store);
    }
    if (!till_store(*c, use.store_id)) {
        return;
    }
    l.use_voucher_async(context_of(*c), std::move(use), written(c));
}

void adjust(ledger::ledger& l, const router_options&, metrics&, call_ptr c) {
    auto body = json_body(*c);
    if (!body) {
        return;
    }
    auto a = engine::adjustment_from_json(*body);
    if (!a) {
        return invalid(*c, a.error());
    }
    l.adjust_async(context_of(*c), c->params[0], std::move(*a), written(c));
}

void rewards(ledger::ledger& l, const router_options&, metrics&, call_ptr c) {
    std::optional<std::string> member_id;
    for (const auto& param : query_params(*c)) {
        if (param.key != "member_id" || param.value.empty()) {
            return c->problem(status::unprocessable_entity, "validation-failed", "Invalid request",
                              param.key + ": unknown or empty parameter", {param.key});
        }
        if (member_id) {
            return c->problem(status::unprocessable_entity, "validation-failed", "Invalid request",
                              "member_id: given more than once", {"member_id"});
        }
        member_id = param.value;
    }
    auto list = l.rewards(member_id, now());
    if (!list) {
        return fail(*c, list.error());
    }
    c->json(status::ok, *list);
}

nlohmann::json version_json(const ledger::program_version_info& v) {
    return {{"id", v.id},
            {"content_hash", v.content_hash},
            {"name", v.name},
            {"program_id", v.program->id},
            {"activated_at", v.activated_at
                                 ? nlohmann::json(engine::format_rfc3339(*v.activated_at))
                                 : nlohmann::json(nullptr)},
            {"summary", program::summary(*v.program)}};
}

// Earn rules and rewards whose window is closed now, as `loyalty check` notes them: valid, but
// not doing today what "ok" might suggest.
nlohmann::json schedule_notes_json(const program::program& p) {
    nlohmann::json notes = nlohmann::json::array();
    for (const auto& d : program::schedule_notes(p, "upload", now())) {
        notes.push_back(diagnostic_json(d));
    }
    return notes;
}

// Who the caller is: a client (the console among them) learns its key's role and store here
// instead of trying what the key may do.
void current_key(ledger::ledger&, const router_options&, metrics&, call_ptr c) {
    if (refused_parameters(*c)) {
        return;
    }
    const ledger::api_key& k = *c->key;
    c->json(status::ok, nlohmann::json{{"id", k.id},
                                       {"name", k.name},
                                       {"role", ledger::to_string(k.key_role)},
                                       {"store_id", k.store_id ? nlohmann::json(*k.store_id)
                                                               : nlohmann::json(nullptr)},
                                       {"created_at", engine::format_rfc3339(k.created_at)}});
}

void get_program(ledger::ledger& l, const router_options&, metrics&, call_ptr c) {
    if (refused_parameters(*c)) {
        return;
    }
    auto v = l.active_program();
    nlohmann::json body = version_json(v);
    body["source"] = v.program->source_text();
    body["notes"] = schedule_notes_json(*v.program);
    c->json(status::ok, body);
}

// A program text, or an answered 415.
bool program_body(call& c) {
    auto type = media_type(c);
    bool known = false;
    for (const char* accepted : {"application/json", "application/yaml", "application/x-yaml",
                                 "text/yaml", "text/x-yaml", "text/plain"}) {
        known = known || type == accepted;
    }
    if (!known) {
        c.problem(status::unsupported_media_type, "unsupported-media-type",
                  "Unsupported media type",
                  "send the program as application/yaml or application/json");
    }
    return known;
}

// Validates a program as an upload would, storing and activating nothing.
void check_program(ledger::ledger&, const router_options&, metrics&, call_ptr c) {
    if (!program_body(*c)) {
        return;
    }
    auto loaded = program::load_program(c->req.body(), "upload");
    if (!loaded) {
        ledger::error e{ledger::error_code::invalid_program, "", "the program does not validate",
                        std::nullopt, loaded.error()};
        return fail(*c, e);
    }
    const program::program& p = **loaded;
    c->json(status::ok, nlohmann::json{{"ok", true},
                                       {"program_id", p.id},
                                       {"name", p.name},
                                       {"content_hash", p.content_hash()},
                                       {"summary", program::summary(p)},
                                       {"notes", schedule_notes_json(p)}});
}

void post_program(ledger::ledger& l, const router_options&, metrics&, call_ptr c) {
    if (!program_body(*c)) {
        return;
    }
    auto v = l.activate_program(context_of(*c), c->req.body(), "upload");
    if (!v) {
        return fail(*c, v.error());
    }
    nlohmann::json body = version_json(*v);
    body["notes"] = schedule_notes_json(*v->program);
    c->json(status::created, body);
}

void simulate(ledger::ledger& l, const router_options& o, metrics&, call_ptr c) {
    auto body = json_body(*c);
    if (!body) {
        return;
    }
    if (too_many_lines(*c, *body, o.max_lines, "purchase")) {
        return;
    }
    auto p = engine::purchase_from_json(*body);
    if (!p) {
        return invalid(*c, p.error());
    }
    auto out = l.simulate_purchase(*p, std::max(now(), p->occurred_at));
    if (!out) {
        return fail(*c, out.error());
    }
    c->json(status::ok, *out);
}

const std::vector<route_def>& table() {
    static const std::vector<route_def> routes = [] {
        std::vector<route_def> r = {
            {verb::get, "/healthz", {}, anyone, healthz},
            {verb::get, "/metrics", {}, anyone, metrics_text},
            {verb::get, "/v1/openapi.json", {}, anyone, openapi},
            {verb::post, "/v1/members", {}, pos_admin, enroll, true},
            {verb::get, "/v1/members/{member_id}", {}, all_roles, member_view, true},
            {verb::get, "/v1/members/{member_id}/activity", {}, support_admin, activity},
            {verb::get, "/v1/members/{member_id}/vouchers", {}, support_admin, member_vouchers},
            {verb::get, "/v1/members/{member_id}/audit", {}, support_admin, member_audit},
            {verb::get, "/v1/members/{member_id}/tier-history", {}, support_admin, tier_changes},
            {verb::post, "/v1/members/{member_id}/events", {}, pos_admin, post_event, true},
            {verb::post, "/v1/members/{member_id}/redemptions", {}, pos_admin, redeem, true},
            {verb::post, "/v1/members/{member_id}/adjustments", {}, support_admin, adjust},
            {verb::post,
             "/v1/members/{member_id}/profile-changes",
             {},
             support_admin,
             change_profile},
            {verb::post, "/v1/transactions", {}, pos_admin, post_purchase, true},
            {verb::post,
             "/v1/transactions/{transaction_id}/returns",
             {},
             pos_admin,
             post_return,
             true},
            {verb::post, "/v1/redemptions/{redemption_id}/cancel", {}, support_admin, cancel},
            {verb::post, "/v1/vouchers/{voucher_id}/use", {}, pos_admin, use_voucher, true},
            {verb::get, "/v1/key", {}, all_roles, current_key},
            {verb::get, "/v1/rewards", {}, all_roles, rewards},
            {verb::get, "/v1/program", {}, all_roles, get_program},
            {verb::get, "/v1/program/versions", {}, support_admin, program_versions},
            {verb::post, "/v1/program/versions", {}, admin_only, post_program},
            {verb::get, "/v1/program/versions/{version_id}", {}, support_admin, program_version},
            {verb::post, "/v1/program/check", {}, all_roles, check_program},
            {verb::post, "/v1/simulate", {}, all_roles, simulate},
        };
        for (auto& route : r) {
            route.segments = split(route.pattern);
        }
        return r;
    }();
    return routes;
}

// A token bucket per API key: `rate` tokens a second, at most `burst` held.
class rate_limiter {
public:
    rate_limiter(double rate, double burst) : rate_(rate), burst_(burst) {}

    // Zero when allowed; otherwise the seconds to wait.
    double take(const std::string& key) {
        auto t = std::chrono::steady_clock::now();
        std::lock_guard lock(mutex_);
        auto [it, fresh] = buckets_.try_emplace(key, bucket{burst_, t});
        bucket& b = it->second;
        double elapsed = std::chrono::duration<double>(t - b.at).count();
        b.tokens = std::min(burst_, b.tokens + elapsed * rate_);
        b.at = t;
        if (b.tokens >= 1) {
            b.tokens -= 1;
            return 0;
        }
        return rate_ > 0 ? (1 - b.tokens) / rate_ : 60;
    }

private:
    struct bucket {
        double tokens;
        std::chrono::steady_clock::time_point at;
    };
    double rate_;
    double burst_;
    std::mutex mutex_;
    std::unordered_map<std::string, bucket> buckets_;
};

// The console: static files under the web root, never outside it, never generated from input.
const char* content_type_of(const std::string& extension) {
    static const std::vector<std::pair<std::string, const char*>> types = {
        {".html", "text/html; charset=utf-8"},
        {".js", "text/javascript; charset=utf-8"},
        {".css", "text/css; charset=utf-8"},
        {".svg", "image/svg+xml"},
        {".png", "image/png"},
        {".ico", "image/x-icon"},
        {".json", "application/json"},
        {".txt", "text/plain; charset=utf-8"},
    };
    for (const auto& [ext, type] : types) {
        if (ext == extension) {
            return type;
        }
    }
    return nullptr;
}

// True when it answered (a file, a refusal of a path that tries to leave the root, or a file
// asked with a method other than GET and HEAD).
bool serve_static(const std::filesystem::path& root, call& c,
                  const std::vector<std::string>& segments) {
    if (root.empty()) {
        return false;
    }
    std::filesystem::path relative;
    if (segments.empty() || (segments.size() == 1 && segments[0].empty())) {
        relative = "index.html";
    } else {
        for (const std::string& s : segments) {
            // Decoded segments: "..", hidden files, separators or NUL smuggled in as %2F / %00.
            if (s.empty() || s.front() == '.' ||
                s.find_first_of(std::string("/\\\0", 3)) != std::string::npos) {
                c.problem(status::not_found, "route-not-found", "No such route",
                          "no route " + std::string(c.url.path()));
                return true;
            }
            relative /= s;
        }
    }
    std::error_code ec;
    auto base = std::filesystem::canonical(root, ec);
    if (ec) {
        return false;
    }
    auto file = std::filesystem::weakly_canonical(base / relative, ec);
    auto [root_end, file_it] = std::mismatch(base.begin(), base.end(), file.begin(), file.end());
    const char* type = content_type_of(file.extension().string());
    if (ec || root_end != base.end() || type == nullptr ||
        !std::filesystem::is_regular_file(file, ec)) {
        return false;
    }
    if (c.req.method() != verb::get && c.req.method() != verb::head) {
        // The path exists, not with this method: 405 with the methods it has, as the API's
        // routes answer (RFC 9110 15.5.6), not a 404 that says there is nothing here.
        response res = http::problem(
            c.req.version(), c.req.keep_alive(), status::method_not_allowed, "method-not-allowed",
            "Method not allowed", std::string(c.req.method_string()) + " is not served here");
        res.set(beast_http::field::allow, "GET, HEAD");
        c.answer(std::move(res));
        return true;
    }
    std::ifstream in(file, std::ios::binary);
    std::ostringstream body;
    body << in.rdbuf();
    response res{status::ok, c.req.version()};
    res.set(beast_http::field::content_type, type);
    res.set(beast_http::field::cache_control, "no-cache");
    res.set("Content-Security-Policy",
            "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'");
    res.set("X-Content-Type-Options", "nosniff");
    res.set("Referrer-Policy", "no-referrer");
    res.body() = body.str();
    res.prepare_payload();
    if (c.req.method() == verb::head) {
        res.body().clear();
    }
    c.route = "static";
    c.answer(std::move(res));
    return true;
}

// The secret of `Authorization: Bearer <secret>`; empty when the header has no such form.
std::string bearer_secret(const request& req) {
    auto header = req[beast_http::field::authorization];
    if (header.size() <= 7 || header.substr(0, 7) != "Bearer ") {
        return {};
    }
    return std::string(header.substr(7));
}

bool valid_id(const std::string& id) {
    // Ids are written into JSON (the stored request, the audit, the answer), which is UTF-8: a
    // stray byte from %FF would fail there, after the request was taken.
    if (id.empty() || id.size() > max_id_bytes ||
        program::first_invalid_utf8(id) != std::string_view::npos) {
        return false;
    }
    return std::none_of(id.begin(), id.end(), [](char ch) {
        return static_cast<unsigned char>(ch) < 0x20 || ch == 0x7f;
    });
}

} // namespace

struct router::impl {
    impl(ledger::ledger& l, router_options o, metrics& m)
        : ledger(l), options(o), stats(m), limiter(o.rate_per_second, o.burst) {}
    ledger::ledger& ledger;
    router_options options;
    metrics& stats;
    rate_limiter limiter;

    // Requests without a valid key share one bucket, so guessing keys is throttled without
    // slowing down the clients that have one. True when the call was answered 429.
    bool throttled(call& c) {
        double wait = limiter.take(" unauthenticated");
        if (wait <= 0) {
            return false;
        }
        response res = http::problem(c.req.version(), c.req.keep_alive(), status::too_many_requests,
                                     "rate-limited", "Too many requests", "slow down; retry later");
        res.set(beast_http::field::retry_after, std::to_string(static_cast<long>(std::ceil(wait))));
        c.answer(std::move(res));
        return true;
    }

    // Looks the call's bearer key up on a reader. False, with the call answered, when it is
    // unknown or revoked (401) or the database could not be read.
    bool look_up_key(call& c) {
        c.key_remembered = false;
        auto looked = ledger.find_api_key(bearer_secret(c.req));
        if (!looked) {
            fail(c, looked.error());
            return false;
        }
        c.key = *looked;
        if (!c.key) {
            if (throttled(c)) {
                return false;
            }
            response res =
                http::problem(c.req.version(), c.req.keep_alive(), status::unauthorized,
                              "unauthorized", "Unauthorized", "the key is unknown or revoked");
            res.set(beast_http::field::www_authenticate, "Bearer error=\"invalid_token\"");
            c.answer(std::move(res));
            return false;
        }
        return true;
    }
};

router::router(ledger::ledger& l, router_options options, metrics& m)
    : impl_(std::make_unique<impl>(l, options, m)) {}

router::~router() = default;

const std::vector<route_info>& router::routes() {
    static const std::vector<route_info> all = [] {
        std::vector<route_info> out;
        for (const auto& r : table()) {
            out.push_back({std::string(beast_http::to_string(r.method)), r.pattern});
        }
        return out;
    }();
    return all;
}

void router::handle(request req, std::string request_id, respond_fn respond) {
    auto c = std::make_shared<call>();
    c->req = std::move(req);
    c->request_id = std::move(request_id);
    c->respond = std::move(respond);
    c->stats = &impl_->stats;
    try {
        c->target = std::string(c->req.target());
        auto url = boost::urls::parse_origin_form(c->target);
        if (!url) {
            return c->problem(status::bad_request, "bad-target", "Bad request target",
                              "the request target is not a valid path");
        }
        c->url = *url;
        std::vector<std::string> segments;
        for (auto s : url->segments()) {
            segments.push_back(s);
        }

        if (segments.empty() || segments.front() != "v1") {
            // Not the API: the console's files, if there is such a file.
            bool api_path =
                segments.size() == 1 && (segments[0] == "healthz" || segments[0] == "metrics");
            if (!api_path && serve_static(impl_->options.web_root, *c, segments)) {
                return;
            }
        }
        // "/v1/members/" is not a member with an empty id: no such route.
        if (std::any_of(segments.begin(), segments.end(),
                        [](const std::string& s) { return s.empty(); })) {
            return c->problem(status::not_found, "route-not-found", "No such route",
                              "no route " + std::string(url->path()));
        }
        const route_def* found = nullptr;
        std::string allowed_methods; // for a 405's Allow header
        for (const route_def& r : table()) {
            if (r.segments.size() != segments.size()) {
                continue;
            }
            std::vector<std::string> params;
            bool same = true;
            for (std::size_t i = 0; i < segments.size() && same; ++i) {
                if (r.segments[i] == "{}") {
                    params.push_back(segments[i]);
                } else {
                    same = r.segments[i] == segments[i];
                }
            }
            if (!same) {
                continue;
            }
            allowed_methods += (allowed_methods.empty() ? "" : ", ") +
                               std::string(beast_http::to_string(r.method));
            // HEAD is GET without the body (RFC 9110 9.3.2), which the session leaves out.
            bool head_of_get = r.method == verb::get && c->req.method() == verb::head;
            if (r.method == verb::get) {
                allowed_methods += ", HEAD";
            }
            if (r.method == c->req.method() || head_of_get) {
                found = &r;
                c->params = std::move(params);
                break;
            }
        }
        if (found == nullptr) {
            if (!allowed_methods.empty()) {
                response res =
                    http::problem(c->req.version(), c->req.keep_alive(), status::method_not_allowed,
                                  "method-not-allowed", "Method not allowed",
                                  std::string(c->req.method_string()) + " is not served here");
                res.set(beast_http::field::allow, allowed_methods);
                return c->answer(std::move(res));
            }
            return c->problem(status::not_found, "route-not-found", "No such route",
                              "no route " + std::string(url->path()));
        }
        c->route = found->pattern;
        if (found->roles != anyone) {
            std::string secret = bearer_secret(c->req);
            if (secret.empty()) {
                if (impl_->throttled(*c)) {
                    return;
                }
                response res = http::problem(c->req.version(), c->req.keep_alive(),
                                             status::unauthorized, "unauthorized", "Unauthorized",
                                             "send Authorization: Bearer <key>");
                res.set(beast_http::field::www_authenticate, "Bearer");
                return c->answer(std::move(res));
            }
            // A remembered key is taken only when the handler will run: the ledger checks it
            // where the handler reads or writes, and any refusal before that looks it up first
            // (call::confirm_key).
            if (found->handler_checks_key) {
                c->key = impl_->ledger.remembered_api_key(secret);
                c->key_remembered = c->key.has_value();
                if (c->key_remembered) {
                    c->confirm_key = [i = impl_.get()](call& confirmed) {
                        return i->look_up_key(confirmed);
                    };
                }
            }
            // Looks the key up unless that was done: for a remembered key, before any answer
            // other than the handler's or a problem's. Answers 401 and returns false when it is
            // not (or no longer) valid.
            auto look_up = [&] {
                if (c->key && !c->key_remembered) {
                    return true;
                }
                c->confirm_key = nullptr;
                return impl_->look_up_key(*c);
            };
            if (!c->key && !look_up()) {
                return;
            }
            if ((found->roles & role_bit(c->key->key_role)) == 0) {
                if (!look_up()) {
                    return;
                }
                // The route's method, not the request's: a HEAD's answer is its GET's, the
                // same length included (RFC 9110 9.3.2).
                return c->problem(status::forbidden, "forbidden", "Forbidden",
                                  "the " + ledger::to_string(c->key->key_role) + " role may not " +
                                      std::string(beast_http::to_string(found->method)) + " " +
                                      found->pattern);
            }
            if (double wait = impl_->limiter.take(c->key->id); wait > 0) {
                if (!look_up()) {
                    return;
                }
                response res =
                    http::problem(c->req.version(), c->req.keep_alive(), status::too_many_requests,
                                  "rate-limited", "Too many requests", "slow down; retry later");
                res.set(beast_http::field::retry_after,
                        std::to_string(static_cast<long>(std::ceil(wait))));
                return c->answer(std::move(res));
            }
        }
        for (std::size_t i = 0; i < c->params.size(); ++i) {
            if (!valid_id(c->params[i])) {
                // The parameter's name, from the pattern: "{member_id}" -> "member_id".
                std::string name = "id";
                for (std::size_t k = 0, seen = 0; k < found->pattern.size(); ++k) {
                    if (found->pattern[k] == '{' && seen++ == i) {
                        name = found->pattern.substr(k + 1, found->pattern.find('}', k) - k - 1);
                        break;
                    }
                }
                return c->problem(status::unprocessable_entity, "validation-failed",
                                  "Invalid request",
                                  name + ": at most " + std::to_string(max_id_bytes) +
                                      " bytes of UTF-8, without control characters",
                                  {name});
            }
        }

        // Present but empty is refused too: a client that meant a key and sent none would
        // otherwise lose the protection it asked for without a word. Only on writes, which are
        // what it protects: a reader (a health check, say) that sends every header it has must
        // not be refused for one that means nothing to a read.
        const bool write = c->req.method() != verb::get && c->req.method() != verb::head;
        if (auto header = c->req.find("Idempotency-Key"); write && header != c->req.end()) {
            auto key = header->value();
            bool printable =
                !key.empty() && key.size() <= 255 &&
                std::all_of(key.begin(), key.end(), [](char ch) { return ch > 0x20 && ch < 0x7f; });
            if (!printable) {
                return c->problem(
                    status::unprocessable_entity, "validation-failed", "Invalid request",
                    "Idempotency-Key: 1 to 255 printable ASCII characters", {"Idempotency-Key"});
            }
        }
        found->handler(impl_->ledger, impl_->options, impl_->stats, c);
    } catch (const std::exception& e) {
        spdlog::error(nlohmann::json{
            {"msg", "handler failed"}, {"request_id", c->request_id}, {"error", e.what()}}
                          .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
        c->problem(status::internal_server_error, "internal", "Internal error",
                   "the request failed; it was logged as " + c->request_id);
    }
}

} // namespace loyalty::http
