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

// A member as loaded: the engine's state and what the store needs to write only what changed.
struct loaded_member {
    engine::member_state state;
    std::optional<std::string> name;
    std::optional<std::string> email;
    std::int64_t revision = 0; // writes applied to the member; 0 when not stored yet
    std::string record;        // members.state as stored (member_record.hpp)
    std::optional<std::string> due_at;
    std::optional<std::int64_t> due_entry; // the member's live due_queue row, due at due_entry_at
    std::optional<std::string> due_entry_at;
    std::optional<std::int64_t> last_entry_id; // the newest ledger entry, the chain's head
    // Closed lots (archived in `lots`) loaded because the event refers to them: a return's
    // purchase or a cancelled redemption. The state's other lots came from the member's record.
    std::map<std::int64_t, engine::lot> archived_lots;
    std::map<std::string, engine::voucher> vouchers;
    std::map<std::string, std::string> purchases;   // "store\ntransaction" -> record JSON
    std::map<std::string, std::string> redemptions; // id -> record JSON
};

// A purchase's record read from `purchases.record` and its operation's `request`. Records
// written since migration 13 leave the request out (engine::record_request::left_out) and get
// the operation's, the same text; older records carry their own. Errors say what is wrong with
// either text.
tl::expected<engine::purchase_record, std::string>
read_purchase_record(const std::string& record, const std::string& operation_request);

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
    // The operation whose outcome is the answer; none for answers stored whole (before
    // migration 6).
    std::optional<std::int64_t> operation_id = std::nullopt;
};

// A row of due_queue: the jobs visit `member_id` at `due_at`.
struct due_entry {
    std::string due_at;
    std::int64_t entry = 0;
    std::string member_id;
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
    // The member with its open lots (remaining other than zero, held in its record), vouchers
    // and, for writes, the rules' budgets: one row, plus the vouchers when it ever had one.
    std::optional<loaded_member> load_member(const std::string& id, bool with_budgets = true);

    // A member for a view, and whether `key_id` (when given) is still unrevoked, read by one
    // statement in its own snapshot: a lookup's one read when the member never had a voucher
    // (`with_vouchers` false). With vouchers, the caller reads again inside a read transaction
    // with `with_vouchers` true.
    struct member_read {
        std::optional<loaded_member> member;
        bool key_active = true;
        bool needs_vouchers = false; // the member had vouchers, which were not read
    };
    member_read read_member(const std::string& id, const std::optional<std::string>& key_id,
                            bool with_vouchers);

    // A read transaction on a reader: one snapshot for several statements. Prepared once, as a
    // lookup's own statements are.
    void begin_read();
    void end_read() noexcept;
    // Adds the purchase to the loaded member (for a return), with the lots its awards credited.
    // Returns the member id of the purchase, or nothing when there is none.
    std::optional<std::string> purchase_member(const std::string& store_id,
                                               const std::string& transaction_id);
    void load_purchase(loaded_member& m, const std::string& store_id,
                       const std::string& transaction_id);
    // The member's posted purchases with this transaction id, at `store_id` when it is not
    // empty: at most two (enough to tell one from several), each as its store and amount.
    std::vector<std::pair<std::string, engine::money_t>>
    purchase_totals(const std::string& member_id, const std::string& transaction_id,
                    const std::string& store_id);
    // What the member's payments on this transaction id paid, not cancelled ones: those at
    // `store_id`, and those that named no store (or all, when `store_id` is empty), which may
    // have been on it. `value`: minor units, of the payments whose value is kept; `points`: the
    // points of those from before it was kept.
    struct paid_with_points {
        std::int64_t value = 0;
        engine::points_t points = 0;
    };
    paid_with_points paid_on(const std::string& member_id, const std::string& transaction_id,
                             const std::string& store_id);
    std::optional<std::string> redemption_member(const std::string& redemption_id);
    std::optional<std::string> voucher_member(const std::string& voucher_id);
    // Every voucher of the member, oldest first.
    std::vector<engine::voucher> vouchers_of(const std::string& member_id);
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
    void insert_profile_change(const std::string& change_id, const std::string& member_id,
                               timestamp at);
    bool event_exists(const std::string& event_id);
    bool adjustment_exists(const std::string& adjustment_id);
    bool return_exists(const std::string& return_id);
    bool profile_change_exists(const std::string& change_id);
    void audit(timestamp at, const std::string& actor, const std::string& role,
               const std::string& action, const std::optional<std::string>& member_id,
               const std::optional<std::string>& reason, const std::string& detail);

    std::optional<idempotency_record> find_idempotency(const std::string& key);
    void save_idempotency(const std::string& key, const idempotency_record& r,
                          std::int64_t operation_id, timestamp at);
    // Forgets keys older than `before`; returns how many.
    int expire_idempotency(timestamp before);

    std::optional<stored_program> active_program();
    // The content hash of the newest activation made from a program file (by `serve` at start
    // up, or by `jobs run` or `seed`), if any: whether the file changed since it was applied.
    std::optional<std::string> last_file_activation();
    // SQLite's data_version: it changes when another connection (another process) commits.
    std::int64_t data_version();
    std::optional<stored_program> program_by_hash(const std::string& hash);
    std::int64_t insert_program(const std::string& hash, const std::string& name,
                                const std::string& format, const std::string& source, timestamp at);
    void activate_program(std::int64_t id, timestamp at, const std::string& actor);

    // The due_queue rows due at `now`, in (due_at, entry) order after `after`, at most `limit`.
    std::vector<due_entry> due_entries(timestamp now, const due_entry& after, std::size_t limit);
    // Takes a queue row off the queue; false when it was not there (an earlier run took it).
    bool take_due_entry(std::int64_t entry);
    // Sets the member's next due time without any other change (a visit that found nothing to
    // do), queueing it as save() does.
    void set_due(loaded_member& m, std::optional<timestamp> due_at);
    // A new program may put work due for anyone: every member is looked at by the next run.
    void make_everyone_due(timestamp at);

    // The unrevoked key with this SHA-256.
    std::optional<api_key> find_api_key(const std::string& key_hash);
    // Whether the key with this id exists and is not revoked.
    bool api_key_active(const std::string& id);

    // Reads for views.
    // A profile change's name and email, on the member's row (the page its write changes anyway).
    void set_contact(const std::string& member_id, const std::optional<std::string>& name,
                     const std::optional<std::string>& email);
    // The member's audit trail, newest first, `limit` entries older than `before_id`.
    audit_page audit_of(const std::string& member_id, std::size_t limit,
                        std::optional<std::int64_t> before_id);
    activation_page program_activations(std::size_t limit, std::optional<std::int64_t> before_id);
    std::optional<program_version_text> program_version(std::int64_t id);
    // The member's tier changes, newest first (tier_history_member's range).
    std::vector<tier_history_entry> tier_history(const std::string& member_id);
    activity_page activity(const std::string& member_id, std::size_t limit,
                           std::optional<std::int64_t> before_entry);

private:
    statement& cached(const char* sql);
    // The member_id column of the one row `sql` finds by its one parameter, if any.
    std::optional<std::string> member_of(const char* sql, const std::string& key);
    // An operation's ledger entries as the movements its answer listed, in order.
    std::vector<engine::movement> operation_movements(std::int64_t operation_id);
    // The member columns of a row (name .. last_entry_id, from column `first`) into `m`.
    void read_member_row(const std::string& id, const statement& s, int first, loaded_member& m);
    void load_vouchers(loaded_member& m);
    // The due columns for `due_at`: the member's queue row, appended when the member has none due
    // by then (its live row is due later, or it has none).
    struct due_columns {
        std::optional<std::string> due_at;
        std::optional<std::int64_t> entry;
        std::optional<std::string> entry_at;
    };
    due_columns schedule(const loaded_member& m, const std::optional<timestamp>& due_at);

    connection& db_;
    std::unordered_map<const char*, statement> statements_;
};

// "YYYY-MM-DDTHH:MM:SSZ", the one time format the tables use.
std::string time_text(timestamp t);
timestamp parse_time(const std::string& text);

// The lot in the current row of a query selecting lot_id, earned, remaining, earned_at,
// available_at, expires_at, cause, qualifying, matured, expired (in that order).
engine::lot read_lot(const statement& s);

} // namespace loyalty::ledger::detail
