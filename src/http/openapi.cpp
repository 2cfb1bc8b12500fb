// The OpenAPI 3.1 description of the REST API, written next to the router: router.cpp's table
// decides which routes exist and who may call them; this says what they take and answer.
// tests/unit/http/openapi_test.cpp fails when the two disagree. docs/api.md is the same for people.

#include "loyalty/http/openapi.hpp"

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace loyalty::http {
namespace {

using nlohmann::json;

constexpr std::int64_t max_quantity = 1'000'000;
constexpr std::int64_t max_unit_price = 10'000'000'000;
constexpr std::int64_t max_amount = 10'000'000'000'000;
constexpr std::int64_t max_points = 1'000'000'000'000;

json ref(const std::string& schema) {
    return {{"$ref", "#/components/schemas/" + schema}};
}

json parameter_ref(const std::string& name) {
    return {{"$ref", "#/components/parameters/" + name}};
}

json header_ref(const std::string& name) {
    return {{"$ref", "#/components/headers/" + name}};
}

// The strict parsers read null as absent: an optional field may also be null.
json nullable(json schema) {
    schema["type"] = json::array({schema["type"], "null"});
    return schema;
}

// A required text field: json_fields::text() takes 1 to 256 bytes.
json text(const std::string& description, std::size_t max_bytes = 256) {
    return {{"type", "string"},
            {"minLength", 1},
            {"maxLength", max_bytes},
            {"description", description + " (at most " + std::to_string(max_bytes) + " bytes)"}};
}

json integer(std::int64_t minimum, std::int64_t maximum, const std::string& description) {
    return {{"type", "integer"},
            {"minimum", minimum},
            {"maximum", maximum},
            {"description", description}};
}

// A text field read by json_fields::text(key, false): may be empty.
json optional_text(const std::string& description) {
    return nullable({{"type", "string"},
                     {"maxLength", 256},
                     {"description", description + " (at most 256 bytes; may be empty)"}});
}

json plain(const std::string& type, const std::string& description = "") {
    json schema = {{"type", type}};
    if (!description.empty()) {
        schema["description"] = description;
    }
    return schema;
}

json time_text(const std::string& description = "") {
    json schema = plain("string", description);
    schema["format"] = "date-time";
    return schema;
}

json count(const std::string& description = "") {
    return plain("integer", description);
}

// An object whose listed fields are all present, as the server writes it.
json answer_object(json properties) {
    json required = json::array();
    for (const auto& field : properties.items()) {
        required.push_back(field.key());
    }
    return {{"type", "object"}, {"required", required}, {"properties", std::move(properties)}};
}

// A request body as the strict parsers read it: unknown fields are refused.
json body_object(json properties, std::vector<std::string> required,
                 const std::string& description) {
    return {{"type", "object"},
            {"description", description},
            {"required", required},
            {"properties", std::move(properties)},
            {"additionalProperties", false}};
}

json request_schemas() {
    json s = json::object();
    s["Enrollment"] = body_object(
        {{"member_id", text("The new member's id; unique", 256)},
         {"name", nullable(text("The member's name"))},
         {"email", nullable(text("The member's e-mail address, name@domain with a dotted domain "
                                 "(RFC 5321's lengths; quoted local parts refused)"))},
         {"birthday", nullable({{"type", "string"},
                                {"format", "date"},
                                {"pattern", "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"},
                                {"description", "YYYY-MM-DD, a date the calendar has, for "
                                                "birthday benefits"}})},
         {"referred_by", nullable(text("An enrolled member who referred this one; not the "
                                       "member itself"))}},
        {"member_id"}, "A member to enrol.");
    s["PurchaseLine"] = body_object(
        {{"line_id", text("Unique within the purchase; returns name it")},
         {"sku", optional_text("The product's SKU")},
         {"category", optional_text("The product's category")},
         {"quantity", integer(1, max_quantity, "Units bought")},
         {"unit_price", integer(0, max_unit_price, "Price of one unit, integer minor units")},
         {"discount", nullable(integer(0, max_amount,
                                       "Discount on the whole line, integer minor units, at most "
                                       "the line's price; 0 when absent"))},
         {"tags", nullable({{"type", "array"},
                            {"maxItems", 64},
                            {"items",
                             {{"type", "string"},
                              {"minLength", 1},
                              {"maxLength", 256},
                              {"description", "1 to 256 bytes, no control characters"}}},
                            {"description", "Labels rules may test"}})}},
        {"line_id", "quantity", "unit_price"}, "One line of a purchase.");
    s["Purchase"] = body_object(
        {{"transaction_id", text("The point of sale's id; unique per store")},
         {"member_id", text("An enrolled member")},
         {"store_id", text("The store; a pos key bound to a store may only post for it")},
         {"channel", optional_text("Where the purchase happened, e.g. store, app, web")},
         {"occurred_at", time_text("When the purchase happened, RFC 3339 to the second")},
         {"currency", text("ISO 4217 code; must be the program's currency")},
         {"lines",
          {{"type", "array"},
           {"minItems", 1},
           {"maxItems", 500},
           {"items", ref("PurchaseLine")},
           {"description", "At least one line; at most the server's --max-lines (500 by "
                           "default), beyond which the answer is too-many-lines"}}}},
        {"transaction_id", "member_id", "store_id", "occurred_at", "currency", "lines"},
        "A purchase as a point of sale posts it. Amounts are integer minor units.");
    s["ReturnLine"] = body_object({{"line_id", text("A line of the purchase")},
                                   {"quantity", integer(1, max_quantity, "Units returned")}},
                                  {"line_id", "quantity"}, "Units of one purchase line returned.");
    s["Return"] = body_object(
        {{"return_id", text("The point of sale's id for the return; unique")},
         {"store_id", text("The store of the purchase")},
         {"lines", nullable({{"type", "array"},
                             {"minItems", 1},
                             {"maxItems", 500},
                             {"items", ref("ReturnLine")},
                             {"description", "What is returned, at least one line; absent: "
                                             "everything not yet returned"}})}},
        {"return_id", "store_id"}, "A return of (part of) the purchase named in the path.");
    s["Event"] = body_object(
        {{"event_id", text("The sender's id; unique")},
         {"type", text("An event type the program declares under `events`")},
         {"occurred_at", time_text("When it happened, RFC 3339 to the second")},
         {"attributes",
          nullable({{"type", "object"}, {"description", "Data the program's rules may test"}})}},
        {"event_id", "type", "occurred_at"}, "A custom event such as a review posted.");
    json not_taken = {{"type", "null"}, {"description", "Not taken by a reward redemption"}};
    s["RewardRedemption"] = body_object(
        {{"redemption_id", text("The sender's id; unique across members")},
         {"reward_id", text("A reward of the program")},
         {"points", not_taken},
         {"transaction_id", not_taken},
         {"purchase_total", not_taken},
         {"store_id", not_taken}},
        {"redemption_id", "reward_id"}, "Spend points on a reward; a voucher is issued.");
    s["PointsPayment"] = body_object(
        {{"redemption_id", text("The sender's id; unique across members")},
         {"reward_id", {{"type", "null"}, {"description", "Not taken by points as payment"}}},
         {"points", integer(1, max_points, "Points to pay with")},
         {"transaction_id", text("The purchase paid for")},
         {"store_id",
          optional_text("The till's store, where transaction_id was numbered; a point-of-sale "
                        "key bound to a store uses that store when none is named, and may name "
                        "no other")},
         {"purchase_total",
          nullable(integer(1, max_amount,
                           "The purchase's total, integer minor units; absent: the total of the "
                           "member's posted purchase transaction_id, at store_id when given (422 "
                           "when it is not posted, or when the member has purchases with that id "
                           "at several stores and none is named)"))}},
        {"redemption_id", "points", "transaction_id"}, "Pay for (part of) a purchase with points.");
    s["Redemption"] = {{"description", "A reward (reward_id) or points as payment (points and "
                                       "transaction_id); the two share redemption ids."},
                       {"oneOf", json::array({ref("RewardRedemption"), ref("PointsPayment")})}};
    s["Adjustment"] =
        body_object({{"adjustment_id", text("The sender's id; unique")},
                     {"points",
                      {{"type", "integer"},
                       {"minimum", -max_points},
                       {"maximum", max_points},
                       {"not", {{"const", 0}}},
                       {"description", "Points to credit (positive) or debit (negative); never 0. "
                                       "Credits never count towards tiers."}}},
                     {"reason", text("Why, for the audit log")},
                     {"note", optional_text("Free text")}},
                    {"adjustment_id", "points", "reason"}, "A correction by support staff.");
    s["ProfileChange"] = body_object(
        {{"change_id", text("The sender's id for this change; unique")},
         {"name", nullable(text("The member's name; null clears it"))},
         {"email", nullable(text("The member's e-mail address (checked as at enrolment); null "
                                 "clears it"))},
         {"birthday", nullable({{"type", "string"},
                                {"format", "date"},
                                {"pattern", "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"},
                                {"description", "YYYY-MM-DD; null clears it. Moving it within a "
                                                "year does not grant a birthday benefit twice."}})},
         {"reason", text("Why, for the audit log")}},
        {"change_id", "reason"},
        "A correction of the member's profile by support staff: each of name, email and birthday "
        "given is set, null clears it, one left out stays; at least one is given.");
    s["VoucherUse"] = {
        {"type", "object"},
        {"description", "The voucher handed in at a till. An empty body, or an object."},
        {"properties",
         {{"transaction_id",
           optional_text("The purchase the voucher was used on (it may be posted later)")},
          {"store_id",
           optional_text("The till's store; a point-of-sale key bound to a store uses that "
                         "store when none is named, and may name no other")}}},
        {"additionalProperties", false}};
    s["Cancellation"] = {
        {"type", "object"},
        {"properties",
         {{"member_id",
           optional_text("The member the redemption must be of: another member's is not found "
                         "(a console open on one member cannot cancel another's)")},
          {"reason", optional_text("Why, kept in the audit log")}}},
        {"additionalProperties", false},
        {"description", "An empty body, an empty object, or the optional terms"}};
    return s;
}

json outcome_schema() {
    json points = answer_object(
        {{"earned", count("Points earned, available or pending")},
         {"pending", count("Of those, points not yet available")},
         {"available_from", nullable(time_text("When the pending points become available"))},
         {"burned", count("Points spent")},
         {"restored", count("Points given back by a cancelled redemption")},
         {"expired", count("Points expired")},
         {"reversed", count("Points taken back by a return")},
         {"adjusted", count("Points credited or debited by an adjustment")},
         {"matured", count("Pending points that became available")},
         {"shortfall", count("Points a return could not take back")}});
    json rule = answer_object({{"id", plain("string", "The rule's id")},
                               {"matched", plain("boolean", "Whether it paid")},
                               {"reason", plain("string", "Why it did or did not")},
                               {"exact", plain("string", "The exact value before rounding")},
                               {"rounded", count("After rounding and multipliers")},
                               {"points", count("Awarded after limits")}});
    json movement =
        answer_object({{"kind",
                        {{"type", "string"},
                         {"enum", {"earn", "mature", "burn", "expire", "reverse", "adjust"}}}},
                       {"points", count("Credits positive, debits negative")},
                       {"lot", count("The lot credited or drawn from; 0 when none")},
                       {"cause", plain("string", "Rule, reward, benefit, adjustment or return id")},
                       {"pending", plain("boolean", "An earn not yet available")},
                       {"explanation", plain("string", "For people")}});
    json voucher = answer_object({{"id", plain("string", "The voucher's id")},
                                  {"reward_id", plain("string", "The reward it is for")},
                                  {"valid_until", time_text("Last moment it can be used")},
                                  {"cause", plain("string", "Redemption or benefit id")}});
    json referral = answer_object({{"member_id", plain("string", "The referrer")},
                                   {"rule", plain("string", "The referral rule")},
                                   {"points", count("Points owed to the referrer")},
                                   {"explanation", plain("string", "For people")}});
    json o = answer_object(
        {{"event",
          {{"type", "object"},
           {"description", "The event's ids, e.g. {transaction_id, member_id, store_id}"}}},
         {"event_type",
          {{"type", "string"},
           {"enum",
            {"enrollment", "purchase", "return", "event", "redemption", "payment", "cancellation",
             "voucher_use", "adjustment", "profile_change"}}}},
         {"program_version", plain("string", "Content hash of the program that decided")},
         {"unit", plain("string", "The points' name, e.g. leaves")},
         {"points", points},
         {"balance", answer_object({{"available", count("Available after the event")},
                                    {"pending", count("Pending after the event")}})},
         {"tier", answer_object({{"before", plain("string", "Tier id")},
                                 {"after", plain("string", "Tier id")},
                                 {"changed", plain("boolean", "")},
                                 {"metric", count("The tier metric after the event")}})},
         {"vouchers", {{"type", "array"}, {"items", voucher}}},
         {"referrals", {{"type", "array"}, {"items", referral}}},
         {"rules", {{"type", "array"}, {"items", rule}}},
         {"movements", {{"type", "array"}, {"items", movement}}}});
    o["description"] = "What a write did to the member, and why (docs/engine.md).";
    return o;
}

json member_view_schema() {
    json voucher = answer_object({{"id", plain("string", "")},
                                  {"reward_id", plain("string", "")},
                                  {"issued_at", time_text("")},
                                  {"valid_until", time_text("")},
                                  {"cause", plain("string", "Redemption or benefit id")}});
    json next = nullable(answer_object({{"tier", plain("string", "The next tier's id")},
                                        {"name", plain("string", "Its name")},
                                        {"threshold", count("Its threshold")},
                                        {"needed", count("Metric still missing")}}));
    json keep = nullable(answer_object(
        {{"threshold", count("The current tier's threshold")},
         {"metric_at_end", count("The metric the status end will see, from what counts now")},
         {"needed", count("Metric still missing by the status end to keep the tier")}}));
    json v = answer_object(
        {{"member_id", plain("string", "")},
         {"name", nullable(plain("string", ""))},
         {"email", nullable(plain("string", ""))},
         {"enrolled_at", time_text("")},
         {"birthday", nullable({{"type", "string"}, {"format", "date"}})},
         {"referred_by", nullable(plain("string", ""))},
         {"unit", plain("string", "The points' name")},
         {"balance",
          answer_object({{"available", count("Points usable now")},
                         {"owed", count("Points returns could not take back, having been spent "
                                        "(returns.shortfall: record_shortfall); points spent "
                                        "that come back settle it first")},
                         {"pending", count("Points not yet available")}})},
         {"next_expiry",
          answer_object({{"points", nullable(count("Points expiring soonest, together"))},
                         {"at", nullable(time_text("When they expire"))}})},
         {"next_available",
          answer_object({{"points", nullable(count("Pending points available soonest, together"))},
                         {"at", nullable(time_text("When they become available"))}})},
         {"tier", answer_object({{"id", plain("string", "")},
                                 {"name", plain("string", "")},
                                 {"since", time_text("")},
                                 {"valid_until", nullable(time_text(""))},
                                 {"metric", count("The tier metric now")},
                                 {"next", next},
                                 {"keep", keep}})},
         {"vouchers",
          {{"type", "array"},
           {"items", voucher},
           {"description", "Usable vouchers: not redeemed, cancelled nor past"}}},
         {"lifetime", answer_object({{"points", count("")},
                                     {"purchases", count("")},
                                     {"spend", count("Integer minor units")}})},
         {"revision", count("Writes applied to the member")}});
    v["description"] = "A member as support staff and points of sale see it, at the time asked.";
    return v;
}

json answer_schemas() {
    json s = json::object();
    s["Outcome"] = outcome_schema();
    s["MemberView"] = member_view_schema();
    json entry = answer_object(
        {{"id", count("The ledger entry's id")},
         {"at", time_text("")},
         {"kind",
          {{"type", "string"},
           {"enum", {"earn", "mature", "burn", "expire", "reverse", "adjust"}}}},
         {"points", count("Credits positive, debits negative")},
         {"lot_id", nullable(count(""))},
         {"pending", plain("boolean", "")},
         {"cause", plain("string", "")},
         {"explanation", plain("string", "")},
         {"operation", plain("string", "purchase, return, event, ... that wrote it")},
         {"operation_id", count("")},
         {"actor", plain("string", "Who asked: an API key's id (GET /v1/key "
                                   "names one), jobs (time-driven work) or cli")},
         {"actor_name", nullable(plain("string", "The key's name, when a key "
                                                 "asked (revoked keys keep theirs)"))}});
    json audit_entry = answer_object(
        {{"id", count("The audit entry's id")},
         {"at", time_text("")},
         {"actor", plain("string", "The API key's id (GET /v1/key names one)")},
         {"actor_name", nullable(plain("string", "The key's name (null: cli, or a key no "
                                                 "longer stored)"))},
         {"role", plain("string", "The key's role then")},
         {"action",
          plain("string", "adjust, profile_change or cancel_redemption: what the key did")},
         {"reason", nullable(plain("string", "The reason given, where the action takes one"))},
         {"request", {{"type", "object"}, {"description", "The request as the ledger kept it"}}}});
    // Every paged list's cursor (activity, audit trail, activations).
    const json next_cursor =
        nullable(plain("string", "Pass as ?cursor= for the next (older) page; null at the end"));
    s["AuditPage"] =
        answer_object({{"entries",
                        {{"type", "array"},
                         {"items", audit_entry},
                         {"description", "Who did what to the member by hand, newest first"}}},
                       {"next_cursor", next_cursor}});
    s["ActivityPage"] = answer_object(
        {{"entries",
          {{"type", "array"}, {"items", entry}, {"description", "Ledger entries, newest first"}}},
         {"next_cursor", next_cursor}});
    json voucher = answer_object(
        {{"id", plain("string", "")},
         {"reward_id", plain("string", "")},
         {"cause", plain("string", "Redemption or benefit id")},
         {"issued_at", time_text("")},
         {"valid_until", time_text("Usable before this time")},
         {"status",
          {{"type", "string"},
           {"enum", {"usable", "used", "cancelled", "expired"}},
           {"description", "cancelled: its redemption was cancelled and the points went back"}}},
         {"used_at", nullable(time_text("When it was used at a till"))},
         {"transaction_id", nullable(plain("string", "The purchase the use named"))},
         {"store_id", nullable(plain("string", "The store whose till used it (null: uses before "
                                               "stores were recorded, or a till bound to none "
                                               "that named none)"))}});
    json tier = answer_object(
        {{"id", plain("string", "")}, {"name", plain("string", "As the active program names it")}});
    json change = answer_object(
        {{"at", time_text("")},
         {"before", nullable(tier)},
         {"after", tier},
         {"direction",
          {{"type", "string"},
           {"enum", {"joined", "up", "down", "changed"}},
           {"description", "In the active program's order of tiers; changed when either tier "
                           "is no longer in it; joined: the first tier, at enrollment"}}},
         {"metric", count("The tier metric when it changed, as the engine counted it")},
         {"operation",
          plain("string", "What changed it: enrollment, purchase, return, time (a status "
                          "end), ...")},
         {"operation_id", count("")}});
    s["TierHistory"] = answer_object({{"member_id", plain("string", "")},
                                      {"changes",
                                       {{"type", "array"},
                                        {"items", change},
                                        {"description", "Every tier change, newest first"}}}});
    s["ApiKey"] = answer_object(
        {{"id", plain("string", "The key's id, as logs and the audit log name it")},
         {"name", plain("string", "Given when the key was made")},
         {"role", {{"type", "string"}, {"enum", {"pos", "support", "admin"}}}},
         {"store_id", nullable(plain("string", "The store a pos key posts for; null: any"))},
         {"created_at", time_text("")}});
    s["VoucherHistory"] =
        answer_object({{"member_id", plain("string", "")},
                       {"as_of", time_text("The moment the statuses hold for")},
                       {"vouchers",
                        {{"type", "array"},
                         {"items", voucher},
                         {"description", "Every voucher the member was given, newest first"}}}});
    json reward = {
        {"type", "object"},
        {"required", {"id", "name", "cost", "tiers", "unit"}},
        {"properties",
         {{"id", plain("string", "")},
          {"name", plain("string", "")},
          {"cost", count("Points")},
          {"tiers",
           {{"type", "array"},
            {"items", {{"type", "string"}}},
            {"description", "Tiers allowed; empty: every tier"}}},
          {"unit", plain("string", "The points' name")},
          {"eligible", plain("boolean", "Only with ?member_id: whether it can be redeemed now")},
          {"reason", nullable(plain("string", "Only with ?member_id: why not, or null"))}}}};
    s["Rewards"] = answer_object(
        {{"rewards", {{"type", "array"}, {"items", reward}}},
         {"member_id", nullable(plain("string", "The member asked about, or null"))}});
    s["ProgramVersion"] = answer_object(
        {{"id", count("The stored version's id")},
         {"content_hash", plain("string", "SHA-256 of the program text, hex")},
         {"name", plain("string", "The program's name")},
         {"program_id", plain("string", "The program's id")},
         {"activated_at", nullable(time_text(""))},
         {"summary", plain("string", "What `loyalty check` prints, e.g. \"Bean & Leaf Rewards "
                                     "(bean-and-leaf, USD, America/New_York): 8 earn rules, 3 "
                                     "tiers, 4 rewards, 2 benefits\"")}});
    s["ProgramVersion"]["properties"]["source"] =
        plain("string", "The program text as uploaded (GET /v1/program only)");
    json schedule_note = answer_object(
        {{"line", count("1-based")},
         {"column", count("1-based")},
         {"path", plain("string", "e.g. earn[1].active.until")},
         {"message", plain("string", "What the window leaves the rule or reward doing")}});
    json schedule_notes = {{"type", "array"},
                           {"items", schedule_note},
                           {"description", "Earn rules and rewards whose active window is closed "
                                           "now (ended or not yet begun), in document order: "
                                           "valid, but not earning or redeemable now"}};
    s["ProgramVersion"]["properties"]["notes"] = schedule_notes;
    s["ProgramVersion"]["properties"]["notes"]["description"] =
        "GET /v1/program and POST /v1/program/versions: " +
        schedule_notes["description"].get<std::string>();
    json activation = answer_object(
        {{"at", time_text("When it was activated")},
         {"actor", plain("string", "Who: an API key's id, cli, or startup (loyalty serve "
                                   "--program with a text not yet active)")},
         {"actor_name", nullable(plain("string", "The key's name, when a key activated it"))},
         {"version_id", count("The stored version (GET /v1/program/versions/{version_id})")},
         {"content_hash", plain("string", "SHA-256 of the program text, hex")},
         {"name", plain("string", "The program's name in that version")},
         {"active", plain("boolean", "The newest activation: the version in use")}});
    s["ProgramActivations"] = answer_object(
        {{"activations",
          {{"type", "array"}, {"items", activation}, {"description", "Newest first"}}},
         {"next_cursor", next_cursor}});
    s["ProgramVersionText"] = answer_object(
        {{"id", count("The stored version's id")},
         {"content_hash", plain("string", "SHA-256 of the program text, hex")},
         {"name", plain("string", "The program's name")},
         {"format", {{"type", "string"}, {"enum", {"yaml", "json"}}}},
         {"source", plain("string", "The program text as uploaded; posting it to "
                                    "/v1/program/versions activates this version again")},
         {"created_at", time_text("When it was first uploaded")}});
    s["ProgramCheck"] =
        answer_object({{"ok", {{"type", "boolean"}, {"const", true}}},
                       {"program_id", plain("string", "The program's id")},
                       {"name", plain("string", "The program's name")},
                       {"content_hash", plain("string", "SHA-256 of the program text, hex")},
                       {"summary", plain("string", "What `loyalty check` prints")},
                       {"notes", schedule_notes}});
    s["Health"] = answer_object({{"status", {{"type", "string"}, {"const", "ok"}}},
                                 {"program_version", plain("string", "Active content hash")}});
    s["Problem"] = {
        {"type", "object"},
        {"description", "RFC 9457 problem details."},
        {"required", {"type", "title", "status", "detail"}},
        {"properties",
         {{"type",
           {{"type", "string"},
            {"format", "uri"},
            {"description", "https://loyalty.example/problems/<slug>; the slug is stable"}}},
          {"title", plain("string", "Fixed per type")},
          {"status", plain("integer", "The HTTP status")},
          {"detail", plain("string", "What went wrong with this request")},
          {"fields",
           {{"type", "array"},
            {"items", {{"type", "string"}}},
            {"description", "Paths of the offending fields, e.g. lines[2].quantity"}}}}}};
    json error = answer_object({{"line", count("1-based")},
                                {"column", count("1-based")},
                                {"path", plain("string", "e.g. earn[2].when; empty: the whole "
                                                         "document")},
                                {"message", plain("string", "What was expected and found")}});
    s["ProgramProblem"] = {
        {"allOf",
         {ref("Problem"),
          {{"type", "object"},
           {"required", {"errors", "fields"}},
           {"properties", {{"errors", {{"type", "array"}, {"items", error}}}}}}}},
        {"description", "An invalid program: every problem found, in document order."}};
    return s;
}

json parameters() {
    // maxLength counts characters: 256 bounds every id of at most 256 bytes (the router's
    // limit); the description gives the limit in bytes.
    auto path_id = [](const std::string& name, const std::string& description) {
        return json{{"name", name},
                    {"in", "path"},
                    {"required", true},
                    {"description", description + "; 1 to 256 bytes, no control characters"},
                    {"schema", {{"type", "string"}, {"minLength", 1}, {"maxLength", 256}}}};
    };
    return {
        {"MemberId", path_id("member_id", "The member")},
        {"TransactionId", path_id("transaction_id", "The purchase's transaction id")},
        {"RedemptionId", path_id("redemption_id", "The redemption")},
        {"VoucherId", path_id("voucher_id", "The voucher, as a reward redemption issued it")},
        {"VersionId", path_id("version_id", "A stored program version's id (an activation's "
                                            "version_id); any other text is not found")},
        {"RequestId",
         {{"name", "X-Request-Id"},
          {"in", "header"},
          {"required", false},
          {"description", "Echoed in the response and the logs; the server makes one when "
                          "absent or not of this form"},
          {"schema", {{"type", "string"}, {"pattern", "^[A-Za-z0-9._-]{1,64}$"}}}}},
        {"IdempotencyKey",
         {{"name", "Idempotency-Key"},
          {"in", "header"},
          {"required", false},
          {"description",
           "The client's key for this write, scoped to the API key, besides the route's natural "
           "key: a retry with the same request replays the first answer "
           "(Idempotent-Replayed: true); a different request is 409 idempotency-conflict. 1 to "
           "255 printable ASCII characters without spaces; any other, empty included, is 422 "
           "validation-failed"},
          {"schema",
           {{"type", "string"},
            {"minLength", 1},
            {"maxLength", 255},
            {"pattern", "^[!-~]{1,255}$"}}}}},
    };
}

json headers() {
    return {
        {"RequestId",
         {{"description", "The request's id, as sent or made by the server"},
          {"schema", {{"type", "string"}}}}},
        {"RetryAfter",
         {{"description", "Seconds to wait before retrying"}, {"schema", {{"type", "integer"}}}}},
        {"IdempotentReplayed",
         {{"description", "true when this is the stored answer to an earlier identical request"},
          {"schema", {{"type", "string"}, {"const", "true"}}}}},
        {"WWWAuthenticate",
         {{"description", "Bearer, or Bearer error=\"invalid_token\""},
          {"schema", {{"type", "string"}}}}},
    };
}

json problem_spec(const std::string& description, const std::string& schema = "Problem") {
    return {{"description", description},
            {"headers", {{"X-Request-Id", header_ref("RequestId")}}},
            {"content", {{"application/problem+json", {{"schema", ref(schema)}}}}}};
}

json retry_problem_spec(const std::string& description) {
    json r = problem_spec(description);
    r["headers"]["Retry-After"] = header_ref("RetryAfter");
    return r;
}

json success(const std::string& description, json schema, bool write) {
    json r = {{"description", description},
              {"headers", {{"X-Request-Id", header_ref("RequestId")}}},
              {"content", {{"application/json", {{"schema", std::move(schema)}}}}}};
    if (write) {
        r["headers"]["Idempotent-Replayed"] = header_ref("IdempotentReplayed");
    }
    return r;
}

json json_body(const std::string& schema, bool required = true) {
    return {{"required", required}, {"content", {{"application/json", {{"schema", ref(schema)}}}}}};
}

// What every route that reads a JSON body can answer.
void add_body_problems(json& responses) {
    responses["400"] = problem_spec("malformed-json: the body is not valid JSON");
    responses["413"] = problem_spec("body-too-large: the body exceeds the server's limit (1 MiB by "
                                    "default); the connection is closed");
    responses["415"] = problem_spec("unsupported-media-type: Content-Type is not application/json");
}

// A write through the ledger: 201 with the outcome, replayed byte for byte on a retry.
json write_operation(const std::string& id, const std::string& summary,
                     const std::string& description, const std::string& body_schema,
                     const std::string& conflicts, const std::string& unprocessable,
                     const std::string& not_found) {
    json responses = {
        {"201", success("Done (or the stored answer to an identical earlier request)",
                        ref("Outcome"), true)},
        {"409", problem_spec(conflicts)},
        {"422", problem_spec(unprocessable)},
        {"503",
         retry_problem_spec("unavailable: the ledger's queue is full or it is shutting down; "
                            "retry after Retry-After. Nothing was done.")},
    };
    if (!not_found.empty()) {
        responses["404"] = problem_spec(not_found);
    }
    add_body_problems(responses);
    return {{"operationId", id},
            {"summary", summary},
            {"description", description},
            {"parameters", json::array({parameter_ref("IdempotencyKey")})},
            {"requestBody", json_body(body_schema)},
            {"responses", responses}};
}

const char* const amount_limits_text =
    "amount-out-of-range: the purchase's lines total more than 10^16 minor units, a rule would "
    "pay more than 10^16 points at once, or a member total (balance, lifetime spend or points, "
    "tier metric) would pass 10^18";
const char* const validation =
    "validation-failed: a field is missing, unknown, of the wrong type or out of range (fields "
    "names it), or the id in the path is invalid";

// A POST on a record named in the path (a redemption, a voucher), whose body may be absent.
void add_post_on_id(json& paths, const std::string& path, const std::string& id_parameter,
                    json operation) {
    operation["requestBody"]["required"] = false;
    operation["responses"]["415"] =
        problem_spec("unsupported-media-type: a body was sent, not as application/json");
    operation["tags"] = json::array({"redemptions"});
    paths[path]["parameters"] = json::array({parameter_ref(id_parameter)});
    paths[path]["post"] = std::move(operation);
}

// A POST on one part of a member, /v1/members/{member_id}/PART: `operation` from write_operation.
void add_member_write(json& paths, const std::string& part, const std::string& tag,
                      json operation) {
    const std::string path = "/v1/members/{member_id}/" + part;
    operation["tags"] = json::array({tag});
    paths[path]["parameters"] = json::array({parameter_ref("MemberId")});
    paths[path]["post"] = std::move(operation);
}

// A GET of one part of a member, /v1/members/{member_id}/PART, which takes no query parameters.
void add_member_read(json& paths, const std::string& part, const std::string& operation_id,
                     const std::string& summary, const std::string& answer,
                     const std::string& schema) {
    const std::string path = "/v1/members/{member_id}/" + part;
    paths[path]["parameters"] = json::array({parameter_ref("MemberId")});
    paths[path]["get"] = {
        {"operationId", operation_id},
        {"summary", summary},
        {"tags", json::array({"members"})},
        {"responses",
         {{"200", success(answer, ref(schema), false)},
          {"404", problem_spec("not-found: no such member")},
          {"422", problem_spec("validation-failed: any query parameter (there are none), or "
                               "an invalid id in the path")}}}};
}

// The two query parameters of a paged list: ?limit=&cursor=.
json page_query_parameters() {
    return {{{"name", "limit"},
             {"in", "query"},
             {"required", false},
             {"description", "Entries per page"},
             {"schema", {{"type", "integer"}, {"minimum", 1}, {"maximum", 500}, {"default", 50}}}},
            {{"name", "cursor"},
             {"in", "query"},
             {"required", false},
             {"description", "next_cursor of the previous page"},
             {"schema", {{"type", "string"}, {"pattern", "^[0-9]{1,18}$"}}}}};
}

// A paged GET of one part of a member, /v1/members/{member_id}/PART?limit=&cursor=: a member
// read with its two query parameters.
void add_member_page(json& paths, const std::string& part, const std::string& operation_id,
                     const std::string& summary, const std::string& schema) {
    add_member_read(paths, part, operation_id, summary, "One page", schema);
    json& get = paths["/v1/members/{member_id}/" + part]["get"];
    get["parameters"] = page_query_parameters();
    get["responses"]["422"] =
        problem_spec("validation-failed: limit not 1 to 500, a cursor this API did not give, an "
                     "unknown query parameter, or an invalid id in the path");
}

json operations() {
    json paths = json::object();

    paths["/healthz"]["get"] = {{"operationId", "getHealth"},
                                {"summary", "Liveness and the active program version"},
                                {"tags", json::array({"system"})},
                                {"responses", {{"200", success("Serving", ref("Health"), false)}}}};

    paths["/metrics"]["get"] = {
        {"operationId", "getMetrics"},
        {"summary", "Prometheus metrics"},
        {"tags", json::array({"system"})},
        {"responses",
         {{"200",
           {{"description", "Prometheus text exposition format 0.0.4"},
            {"content", {{"text/plain", {{"schema", {{"type", "string"}}}}}}}}}}}};

    paths["/v1/openapi.json"]["get"] = {
        {"operationId", "getOpenApi"},
        {"summary", "This document"},
        {"tags", json::array({"system"})},
        {"responses", {{"200", success("The OpenAPI 3.1 document", {{"type", "object"}}, false)}}}};

    json enroll = write_operation(
        "enrollMember", "Enrol a member",
        "Natural key: the member id. The outcome lists the enrollment bonus, if any.", "Enrollment",
        "already-exists: the member id is taken (after the idempotency retention); "
        "idempotency-conflict: the member id or Idempotency-Key was used for a different request",
        std::string(validation) +
            "; also referred_by naming the member itself or no enrolled member",
        "");
    enroll["tags"] = json::array({"members"});
    paths["/v1/members"]["post"] = enroll;

    paths["/v1/members/{member_id}"]["parameters"] = json::array({parameter_ref("MemberId")});
    paths["/v1/members/{member_id}"]["get"] = {
        {"operationId", "getMember"},
        {"summary", "A member's balance, tier, next expiry and usable vouchers"},
        {"tags", json::array({"members"})},
        {"responses",
         {{"200", success("The member now", ref("MemberView"), false)},
          {"404", problem_spec("not-found: no such member")},
          {"422", problem_spec("validation-failed: the id in the path is invalid")}}}};

    add_member_page(paths, "activity", "listMemberActivity",
                    "A member's ledger entries, newest first, with explanations", "ActivityPage");
    add_member_page(paths, "audit", "listMemberAudit",
                    "Who did what to a member by hand (adjustments, profile changes, "
                    "cancellations), newest first, with the reason and the request",
                    "AuditPage");

    add_member_read(paths, "vouchers", "listMemberVouchers",
                    "Every voucher a member was given, newest first, and what became of each "
                    "(a used one keeps when and on which purchase)",
                    "The member's vouchers now", "VoucherHistory");
    add_member_read(paths, "tier-history", "listMemberTierHistory",
                    "Every tier change of a member, newest first, with the metric that decided it",
                    "The member's tier changes", "TierHistory");

    json event = write_operation(
        "postMemberEvent", "Post a custom event for a member",
        "Natural key: the event id. The program's rules for the event type decide the points.",
        "Event",
        "already-done: the event id was already posted; idempotency-conflict: the event id or "
        "Idempotency-Key was used for a different request",
        std::string(validation) + "; also an event type the program does not declare; " +
            amount_limits_text,
        "not-found: no such member");
    add_member_write(paths, "events", "members", std::move(event));

    json redeem = write_operation(
        "redeemPoints", "Redeem a reward, or pay for a purchase with points",
        "Natural key: the redemption id, shared by rewards and points as payment.", "Redemption",
        "already-done: the redemption id was already used; idempotency-conflict: the "
        "redemption id or Idempotency-Key was used for a different request",
        std::string(validation) +
            "; also an unknown reward, points as payment off, a purchase_total needed, or a "
            "store_id needed to tell the member's purchases with one transaction id apart; "
            "insufficient-points: not enough available points; not-eligible: the reward is "
            "outside its validity window, not for the member's tier or past its usage limit; "
            "payment-rule: the points break the program's step, minimum or maximum share",
        "not-found: no such member");
    add_member_write(paths, "redemptions", "redemptions", std::move(redeem));

    json adjust = write_operation(
        "adjustPoints", "Credit or debit points by hand, with a reason",
        "Natural key: the adjustment id. Recorded in the audit log with the key that sent it.",
        "Adjustment",
        "already-done: the adjustment id was already used; idempotency-conflict: the "
        "adjustment id or Idempotency-Key was used for a different request",
        std::string(validation) +
            "; insufficient-points: a debit beyond the available points when the program "
            "allows no negative balance; " +
            amount_limits_text,
        "not-found: no such member");
    add_member_write(paths, "adjustments", "members", std::move(adjust));

    json profile = write_operation(
        "changeMemberProfile", "Correct a member's name, email or birthday, with a reason",
        "Natural key: the change id. Recorded in the audit log with the key that sent it. The "
        "outcome moves no points; the member view shows the corrected profile.",
        "ProfileChange",
        "already-done: the change id was already used (kept for good; the idempotency key "
        "that replays the answer, 30 days); idempotency-conflict: the change id or "
        "Idempotency-Key was used for a different request",
        std::string(validation) + "; also none of name, email and birthday given",
        "not-found: no such member");
    add_member_write(paths, "profile-changes", "members", std::move(profile));

    json purchase = write_operation(
        "postPurchase", "Post a purchase: the member earns points",
        "Natural key: store_id + transaction_id.", "Purchase",
        "already-done: this store's transaction was already posted; idempotency-conflict: the "
        "transaction or Idempotency-Key was used for a different request",
        std::string(validation) +
            "; also a currency other than the program's, no lines, duplicate line ids or a "
            "discount above the line's price; too-many-lines: more lines than the server's "
            "--max-lines (500); " +
            amount_limits_text,
        "not-found: no such member");
    purchase["tags"] = json::array({"transactions"});
    paths["/v1/transactions"]["post"] = purchase;

    json ret = write_operation(
        "postReturn", "Return (part of) a purchase: its points are taken back",
        "Natural key: the return id. Without lines, everything not yet returned.", "Return",
        "already-done: the return id was already used, or the lines were already returned; "
        "idempotency-conflict: the return id or Idempotency-Key was used for a different request",
        std::string(validation) +
            "; also an unknown line or more units than bought; too-many-lines: more lines than "
            "the server's --max-lines (500)",
        "not-found: no purchase with this transaction id at store_id");
    ret["tags"] = json::array({"transactions"});
    paths["/v1/transactions/{transaction_id}/returns"]["parameters"] =
        json::array({parameter_ref("TransactionId")});
    paths["/v1/transactions/{transaction_id}/returns"]["post"] = ret;

    json cancel = write_operation(
        "cancelRedemption", "Cancel a redemption: its points are given back",
        "Natural key: the redemption id. Recorded in the audit log.", "Cancellation",
        "already-done: the redemption was already cancelled (or its voucher used); "
        "idempotency-conflict: the Idempotency-Key was used for a different request",
        "validation-failed: an unknown field, a member_id or reason that is not a string of at "
        "most 256 bytes, or the id in the path is invalid",
        "not-found: no such redemption, or none of member_id");
    add_post_on_id(paths, "/v1/redemptions/{redemption_id}/cancel", "RedemptionId",
                   std::move(cancel));

    json use = write_operation(
        "useVoucher", "Use a voucher at a till: once, while it is valid",
        "Natural key: the voucher and the transaction id. The answer's event names the reward "
        "to hand over (reward_id). The same use sent again is answered again; a use on another "
        "purchase is refused.",
        "VoucherUse",
        "already-done: the voucher was already used; idempotency-conflict: the same use was "
        "sent with another store, or the Idempotency-Key was used for a different request",
        "not-eligible: the voucher expired or its redemption was cancelled; validation-failed: "
        "an unknown field, a transaction_id or store_id that is not a string of at most 256 "
        "bytes, or the id in the path is invalid",
        "not-found: no such voucher");
    add_post_on_id(paths, "/v1/vouchers/{voucher_id}/use", "VoucherId", std::move(use));

    paths["/v1/key"]["get"] = {
        {"operationId", "getCurrentKey"},
        {"summary", "The API key making the request: its id, name, role and store"},
        {"description", "Never the secret. Clients learn here what the key may do (docs/api.md, "
                        "Roles)."},
        {"tags", json::array({"system"})},
        {"responses",
         {{"200", success("The key", ref("ApiKey"), false)},
          {"422", problem_spec("validation-failed: any query parameter (there are none)")}}}};

    paths["/v1/rewards"]["get"] = {
        {"operationId", "listRewards"},
        {"summary", "The rewards catalog; with a member, whether each can be redeemed now"},
        {"tags", json::array({"rewards"})},
        {"parameters",
         {{{"name", "member_id"},
           {"in", "query"},
           {"required", false},
           {"description", "Adds eligible and reason to each reward"},
           {"schema", {{"type", "string"}, {"minLength", 1}}}}}},
        {"responses",
         {{"200", success("The catalog", ref("Rewards"), false)},
          {"404", problem_spec("not-found: no such member")},
          {"422", problem_spec("validation-failed: an unknown or empty query parameter")}}}};

    paths["/v1/program"]["get"] = {
        {"operationId", "getProgram"},
        {"summary", "The active program version and its text"},
        {"tags", json::array({"program"})},
        {"responses",
         {{"200",
           success("The active version, with source",
                   {{"allOf", {ref("ProgramVersion"), {{"required", {"source"}}}}}}, false)}}}};

    json upload = {
        {"operationId", "activateProgram"},
        {"summary", "Upload, validate and activate a program version"},
        {"description", "The text is validated as `loyalty check` does; an identical text already "
                        "stored is activated again. Later writes use the new version. Not "
                        "idempotent by key: a retry activates the same text again."},
        {"tags", json::array({"program"})},
        {"requestBody",
         {{"required", true},
          {"description", "The program file (docs/program-reference.md); also accepted as "
                          "application/x-yaml, text/yaml, text/x-yaml and text/plain"},
          {"content",
           {{"application/yaml", {{"schema", {{"type", "string"}}}}},
            {"application/json", {{"schema", {{"type", "string"}}}}}}}}},
        {"responses",
         {{"201", success("Active", ref("ProgramVersion"), false)},
          {"413", problem_spec("body-too-large: the program exceeds the server's body limit")},
          {"415", problem_spec("unsupported-media-type: not a YAML, JSON or plain text type")},
          {"422", problem_spec("invalid-program: every problem, with line, column and path",
                               "ProgramProblem")},
          {"503", retry_problem_spec("unavailable: the ledger is busy or shutting down")}}}};
    paths["/v1/program/versions"]["post"] = upload;
    paths["/v1/program/versions"]["get"] = {
        {"operationId", "listProgramActivations"},
        {"summary", "The activations of program versions, newest first, with who made them"},
        {"tags", json::array({"program"})},
        {"parameters", page_query_parameters()},
        {"responses",
         {{"200", success("One page", ref("ProgramActivations"), false)},
          {"422", problem_spec("validation-failed: limit not 1 to 500, a cursor this API did "
                               "not give, or an unknown query parameter")}}}};
    paths["/v1/program/versions/{version_id}"]["parameters"] =
        json::array({parameter_ref("VersionId")});
    paths["/v1/program/versions/{version_id}"]["get"] = {
        {"operationId", "getProgramVersion"},
        {"summary", "One stored program version with its text, to read or activate again"},
        {"tags", json::array({"program"})},
        {"responses",
         {{"200", success("The version", ref("ProgramVersionText"), false)},
          {"404", problem_spec("not-found: no such version")},
          {"422", problem_spec("validation-failed: any query parameter (there are none)")}}}};

    json check = upload;
    check["operationId"] = "checkProgram";
    check["summary"] = "Validate a program text as an upload would, storing nothing";
    check["description"] = "The same validation as POST /v1/program/versions and `loyalty check`; "
                           "nothing is stored or activated.";
    check["responses"].erase("201");
    check["responses"].erase("503");
    check["responses"]["200"] = success("Valid", ref("ProgramCheck"), false);
    paths["/v1/program/check"]["post"] = check;

    json simulate = {
        {"operationId", "simulatePurchase"},
        {"summary", "The outcome a purchase would get now, storing nothing"},
        {"description", "For the member as stored, or for a member who just enrolled when there "
                        "is none: a quote for the till. Evaluated at the later of now and "
                        "occurred_at."},
        {"tags", json::array({"transactions"})},
        {"requestBody", json_body("Purchase")},
        {"responses",
         {{"200", success("What posting it would do", ref("Outcome"), false)},
          {"422",
           problem_spec(std::string(validation) +
                        "; too-many-lines: more lines than the server's --max-lines (500); " +
                        amount_limits_text)}}}};
    add_body_problems(simulate["responses"]);
    paths["/v1/simulate"]["post"] = simulate;

    return paths;
}

// Who may call each route: router.cpp's table (the test checks it against the router).
const std::vector<std::pair<std::string, std::vector<std::string>>>& roles() {
    static const std::vector<std::pair<std::string, std::vector<std::string>>> all = {
        {"post /v1/members", {"pos", "admin"}},
        {"get /v1/members/{member_id}", {"pos", "support", "admin"}},
        {"get /v1/members/{member_id}/activity", {"support", "admin"}},
        {"get /v1/members/{member_id}/vouchers", {"support", "admin"}},
        {"get /v1/members/{member_id}/audit", {"support", "admin"}},
        {"get /v1/members/{member_id}/tier-history", {"support", "admin"}},
        {"post /v1/members/{member_id}/events", {"pos", "admin"}},
        {"post /v1/members/{member_id}/redemptions", {"pos", "admin"}},
        {"post /v1/members/{member_id}/adjustments", {"support", "admin"}},
        {"post /v1/members/{member_id}/profile-changes", {"support", "admin"}},
        {"post /v1/transactions", {"pos", "admin"}},
        {"post /v1/transactions/{transaction_id}/returns", {"pos", "admin"}},
        {"post /v1/redemptions/{redemption_id}/cancel", {"support", "admin"}},
        {"post /v1/vouchers/{voucher_id}/use", {"pos", "admin"}},
        {"get /v1/key", {"pos", "support", "admin"}},
        {"get /v1/rewards", {"pos", "support", "admin"}},
        {"get /v1/program", {"pos", "support", "admin"}},
        {"get /v1/program/versions", {"support", "admin"}},
        {"post /v1/program/versions", {"admin"}},
        {"get /v1/program/versions/{version_id}", {"support", "admin"}},
        {"post /v1/program/check", {"pos", "support", "admin"}},
        {"post /v1/simulate", {"pos", "support", "admin"}},
    };
    return all;
}

// What every route shares: the request id, 500, and for keyed routes security and 401/403/429.
void add_common(json& paths) {
    for (auto path_item : paths.items()) {
        const std::string& path = path_item.key();
        for (auto op_item : path_item.value().items()) {
            const std::string& method = op_item.key();
            json& op = op_item.value();
            if (method == "parameters") {
                continue;
            }
            op["parameters"].push_back(parameter_ref("RequestId"));
            op["responses"]["500"] = problem_spec(
                "internal: the request failed; detail names the request id in the logs");
            const std::vector<std::string>* allowed = nullptr;
            for (const auto& [route, names] : roles()) {
                if (route == method + " " + path) {
                    allowed = &names;
                }
            }
            if (allowed == nullptr) {
                op["security"] = json::array();
                continue;
            }
            op["security"] = json::array({json{{"bearerAuth", json::array()}}});
            op["x-roles"] = *allowed;
            json unauthorized =
                problem_spec("unauthorized: no Authorization: Bearer header, or the key is unknown "
                             "or revoked");
            unauthorized["headers"]["WWW-Authenticate"] = header_ref("WWWAuthenticate");
            op["responses"]["401"] = unauthorized;
            op["responses"]["403"] = problem_spec(
                op["operationId"] == "postPurchase" || op["operationId"] == "postReturn" ||
                        op["operationId"] == "useVoucher" || op["operationId"] == "redeemPoints"
                    ? "forbidden: the key's role is not in x-roles, or a pos key bound "
                      "to a store posted for another store (fields: store_id)"
                    : "forbidden: the key's role is not in x-roles");
            op["responses"]["429"] = retry_problem_spec(
                "rate-limited: the key used up its requests (100 a second, bursts of 200 by "
                "default), or requests without a valid key, which share one such bucket, did; "
                "retry after Retry-After");
        }
    }
}

json build() {
    json paths = operations();
    add_common(paths);
    json components = {{"schemas", request_schemas()},
                       {"parameters", parameters()},
                       {"headers", headers()},
                       {"securitySchemes",
                        {{"bearerAuth",
                          {{"type", "http"},
                           {"scheme", "bearer"},
                           {"description", "An API key from `loyalty keys create` (lk_ and 48 hex "
                                           "digits), shown once"}}}}}};
    json answers = answer_schemas();
    for (const auto& item : answers.items()) {
        components["schemas"][item.key()] = item.value();
    }
    return {
        {"openapi", "3.1.0"},
        {"jsonSchemaDialect", "https://json-schema.org/draft/2020-12/schema"},
        {"info",
         {{"title", "Loyalty points engine"},
          {"version", "1"},
          {"description",
           "Points, tiers and rewards for points of sale and support staff (docs/api.md). "
           "Amounts are integer minor units, points integers, times RFC 3339. Bodies are "
           "strict: an unknown field, or a key given twice in one object, is 422 "
           "validation-failed naming it. Errors are "
           "application/problem+json. Any request may also be answered by the server itself: "
           "400 bad-http or bad-target, 404 route-not-found, 405 method-not-allowed, 413 "
           "body-too-large, 431 headers-too-large, 501 unsupported-transfer-coding, 503 "
           "too-many-connections (with Retry-After)."}}},
        {"servers", {{{"url", "http://127.0.0.1:8080"}, {"description", "loyalty serve"}}}},
        {"tags",
         {{{"name", "system"}},
          {{"name", "members"}},
          {{"name", "transactions"}},
          {{"name", "redemptions"}},
          {{"name", "rewards"}},
          {{"name", "program"}}}},
        {"security", json::array({json{{"bearerAuth", json::array()}}})},
        {"paths", paths},
        {"components", components},
    };
}

} // namespace

const nlohmann::json& openapi_document() {
    static const nlohmann::json document = build();
    return document;
}

} // namespace loyalty::http
