#pragma once
// The SQL of the ledger: loading a member's state for the engine and storing an outcome. Used on
// the writer's connection (writes) and on reader connections (loads for views). Statements are
// prepared once per store.

#include "loyalty/engine/member_state.hpp"
#include "loyalty/engine/outcome.hpp"
#include "loyalty/ledger/api_keys.hpp"
#include "loyalty/ledger/views.hpp"
#include "sqlite.hpp"

#include <map>
#include <optional>
#include <string>
#include <unordered_map>

namespace loyalty::ledger::detail {

using engine::timestamp;

// A member as loaded, with copies of its lots and vouchers to store only what changed.
struct loaded_member {
    engine::member_state state;
    std::optional<std::string> name;
    std::optional<std::string> email;
    std::int64_t revision = 0;
    std::optional<std::string> due_at; // as stored, to write it only when it moves
    std::map<std::int64_t, engine::lot> lots;
    std::map<std::string, engine::voucher> vouchers;
    std::map<std::string, std::string> purchases;   // "store\ntransaction" -> record JSON
    std::map<std::string, std::string> redemptions; // id -> record JSON
};

// One accepted write, as stored in `operations`.
struct operation_record {
    std::string kind;
    std::string member_id;
    std::int64_t program_version_id = 0;
    std::string request;
    std::string outcome;
    std::string actor;
    std::string request_id;
    timestamp at;
    std::optional<timestamp> due_at; // engine::next_due after the operation
};

struct idempotency_record {
    std::string request_hash;
    int status = 201;
    std::string response;
};

struct stored_program {
    std::int64_t id = 0;
    std::string content_hash;
    std::string name;
    std::string format;
    std::string source;
    std::optional<std::string> activated_at;
};

class store {
public:
    explicit store(connection& db) : db_(db) {}

    connection& db() { return db_; }

    bool member_exists(const std::string& id);
    // The member with its open lots (remaining other than zero), vouchers and budgets.
    std::optional<loaded_member> load_member(const std::string& id);
    // Adds the purchase to the loaded member (for a return), with the lots its awards credited.
    // Returns the member id of the purchase, or nothing when there is none.
    std::optional<std::string> purchase_member(const std::string& store_id,
                                               const std::string& transaction_id);
    void load_purchase(loaded_member& m, const std::string& store_id,
                       const std::string& transaction_id);
    // The amount of a member's posted purchase, by transaction id.
    std::optional<engine::money_t> purchase_total(const std::string& member_id,
                                                  const std::string& transaction_id);
    std::optional<std::string> redemption_member(const std::string& redemption_id);
    void load_redemption(loaded_member& m, const std::string& redemption_id);

    // Stores an outcome: the operation, the member, changed lots and vouchers, records, the
    // ledger entries, tier history and budgets. Returns the operation id.
    std::int64_t save(const operation_record& op, const loaded_member& before,
                      const engine::outcome& after);

    void insert_return(const std::string& return_id, const std::string& store_id,
                       const std::string& transaction_id, const std::string& member_id,
                       std::int64_t operation_id);
    void insert_event(const std::string& event_id, const std::string& member_id,
                      const std::string& type, std::int64_t operation_id);
    void insert_adjustment(const engine::adjustment& a, const std::string& member_id,
                           std::int64_t operation_id);
    bool event_exists(const std::string& event_id);
    bool adjustment_exists(const std::string& adjustment_id);
    bool return_exists(const std::string& return_id);
    void audit(timestamp at, const std::string& actor, const std::string& role,
               const std::string& action, const std::optional<std::string>& member_id,
               const std::optional<std::string>& reason, const std::string& detail);

    std::optional<idempotency_record> find_idempotency(const std::string& key);
    void save_idempotency(const std::string& key, const idempotency_record& r,
                          std::int64_t operation_id, timestamp at);
    // Forgets keys older than `before`; returns how many.
    int expire_idempotency(timestamp before);

    std::optional<stored_program> active_program();
    std::optional<stored_program> program_by_hash(const std::string& hash);
    std::int64_t insert_program(const std::string& hash, const std::string& name,
                                const std::string& format, const std::string& source, timestamp at);
    void activate_program(std::int64_t id, timestamp at, const std::string& actor);

    // Members with time-driven work due at `now`, in (due_at, id) order after `after`, at most
    // `limit`, each with its due time (the next page's `after`).
    using due_key = std::pair<std::string, std::string>; // due_at text, member id
    std::vector<due_key> due_members(timestamp now, const due_key& after, std::size_t limit);
    void set_due(const std::string& member_id, std::optional<timestamp> due_at);
    // A new program may put work due for anyone: every member is looked at by the next run.
    void make_everyone_due(timestamp at);

    // The unrevoked key with this SHA-256.
    std::optional<api_key> find_api_key(const std::string& key_hash);

    // Reads for views.
    activity_page activity(const std::string& member_id, std::size_t limit,
                           std::optional<std::int64_t> before_entry);

private:
    statement& cached(const char* sql);
    void load_lots(loaded_member& m, const char* where_sql, const std::string& key);

    connection& db_;
    std::unordered_map<const char*, statement> statements_;
};

// "YYYY-MM-DDTHH:MM:SSZ", the one time format the tables use.
std::string time_text(timestamp t);
timestamp parse_time(const std::string& text);

} // namespace loyalty::ledger::detail
