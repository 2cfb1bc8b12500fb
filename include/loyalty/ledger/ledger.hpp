#pragma once
// The ledger service: every write goes through one writer thread that loads the member, runs the
// engine and stores the outcome, a batch of requests per SQLite transaction (group commit);
// reads use their own read-only connections on the WAL snapshot. docs/ledger.md describes the
// tables, the invariants and the idempotency rules.

#include "loyalty/engine/event.hpp"
#include "loyalty/engine/outcome.hpp"
#include "loyalty/ledger/api_keys.hpp"
#include "loyalty/ledger/error.hpp"
#include "loyalty/ledger/views.hpp"
#include "loyalty/program/diagnostic.hpp"
#include "loyalty/program/load.hpp"

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <string>

namespace loyalty::ledger {

using engine::timestamp;

namespace detail {
struct due_entry;
}

struct ledger_options {
    std::filesystem::path database;
    // A batch is what queued while the previous one committed, up to max_batch, plus what
    // arrives within `window` after it opened. 0 by default: under load the queue batches by
    // itself, and a window only adds its length to every answer (p99 of scripts/bench).
    std::chrono::microseconds batch_window{0};
    std::size_t max_batch = 128;
    // Requests waiting beyond this are refused (unavailable) instead of queueing without bound.
    std::size_t max_queue = 10'000;
    // synchronous=FULL: an acknowledged write survives power loss. NORMAL is for benchmarks.
    bool synchronous_full = true;
    // With synchronous_full and batching: the log is flushed on a thread of its own while the
    // writer runs the next batch, and answers wait for that flush (src/ledger/log_syncer.hpp).
    // False: each COMMIT flushes the log itself and the writer waits for it.
    bool flush_beside_writer = true;
    // The writer hands each commit's frames to the log's file in one write, not two per page
    // (src/ledger/log_vfs.hpp). False: SQLite's own writes, for comparisons.
    bool gather_log_writes = true;
    std::chrono::days idempotency_retention{30};
    std::size_t readers = 4;
    // SQLite's page cache per connection, in KiB: the writer's keeps the indexes' upper levels
    // and the tables' growing ends in memory, so a purchase reads only the leaves it touches.
    std::size_t writer_cache_kib = 32 * 1024;
    std::size_t reader_cache_kib = 8 * 1024;
    // Once the write-ahead log holds this many pages, a thread of its own copies it into the
    // database file beside the writer's batches; at four times as many, the writer completes
    // that copy itself between two batches, so the log starts over (writer.hpp). Requests that
    // arrive meanwhile wait for that, so the threshold bounds those waits; and each pass ends
    // with a flush of the database file that the log's next flush queues behind, so smaller
    // passes shorten those queues (100 against 250: a lower median open-loop p99 over twenty
    // runs each, though within what the noise spreads; 50 was slower again, with twice the
    // flushes; docs/benchmarks.md, the round of 2026-12-06 before midnight).
    int checkpoint_pages = 100;
    // The time of each write; the system clock unless a test sets it.
    std::function<timestamp()> clock;
    // Who the audit log names when the program file given to the constructor is activated:
    // "startup" for `loyalty serve --program`, "cli" for other commands (`jobs run --program`).
    std::string program_activated_by = "startup";
};

// Who asks, for the audit log and for scoping client idempotency keys.
struct request_context {
    std::string actor = "cli"; // API key id, "cli" or "jobs"
    // The API key the request came with: the writer refuses the write (unauthorized) when the
    // key is revoked by the time the write runs.
    std::optional<std::string> key_id;
    std::string role = "admin";
    std::string request_id;
    std::optional<std::string> idempotency_key; // the client's; the natural key otherwise
};

// The answer to a write, byte for byte the same when the request is retried.
struct write_result {
    int status = 201;
    std::string body; // the outcome as JSON
    bool replayed = false;
};

struct enrollment_request {
    std::string member_id;
    std::optional<std::string> name;
    std::optional<std::string> email;
    std::optional<date::year_month_day> birthday;
    std::optional<std::string> referred_by;
};

// Support's correction of a member's profile: each field given is set (an empty optional inside
// clears it), the others stay as they are. Keyed by change_id; the reason goes to the audit log.
struct profile_change_request {
    std::string change_id;
    std::optional<std::optional<std::string>> name;
    std::optional<std::optional<std::string>> email;
    std::optional<std::optional<date::year_month_day>> birthday;
    std::string reason;
};

// What support may add to a cancellation: the member it is for, so that a redemption id typed
// on one member's page cannot cancel another's (refused as not found), and the reason, kept in
// the audit log as an adjustment's is.
struct cancellation_terms {
    std::optional<std::string> member_id;
    std::optional<std::string> reason;
};

struct program_version_info {
    std::int64_t id = 0;
    std::string content_hash;
    std::string name;
    std::optional<timestamp> activated_at;
    program::program_ptr program;
};

class ledger {
public:
    // Opens (creating when needed) and migrates the database, then starts the writer. With
    // `program_file`, that program becomes the active version unless it already is. Throws
    // std::runtime_error when the database cannot be used or no program is active.
    explicit ledger(ledger_options options,
                    std::optional<std::filesystem::path> program_file = std::nullopt);
    ~ledger(); // finishes the queued writes, then closes
    ledger(const ledger&) = delete;
    ledger& operator=(const ledger&) = delete;

    // Writes. Each call blocks until its batch is committed; the *_async forms call back on the
    // writer thread instead (the callback must not block).
    using write_callback = std::function<void(result<write_result>)>;

    result<write_result> enroll(const request_context& who, const enrollment_request& r);
    result<write_result> post_purchase(const request_context& who, const engine::purchase& p);
    result<write_result> post_return(const request_context& who, const engine::purchase_return& r);
    result<write_result> post_event(const request_context& who, const std::string& member_id,
                                    const engine::custom_event& e);
    result<write_result> redeem_reward(const request_context& who, const std::string& member_id,
                                       const engine::reward_redemption& r);
    result<write_result> pay_with_points(const request_context& who, const std::string& member_id,
                                         const engine::points_payment& p);
    result<write_result> cancel_redemption(const request_context& who,
                                           const engine::redemption_cancellation& c,
                                           const cancellation_terms& terms = {});
    result<write_result> use_voucher(const request_context& who, const engine::voucher_use& v);
    result<write_result> adjust(const request_context& who, const std::string& member_id,
                                const engine::adjustment& a);
    result<write_result> change_profile(const request_context& who, const std::string& member_id,
                                        const profile_change_request& r);

    void enroll_async(request_context who, enrollment_request r, write_callback done);
    void post_purchase_async(request_context who, engine::purchase p, write_callback done);
    void post_return_async(request_context who, engine::purchase_return r, write_callback done);
    void post_event_async(request_context who, std::string member_id, engine::custom_event e,
                          write_callback done);
    void redeem_reward_async(request_context who, std::string member_id,
                             engine::reward_redemption r, write_callback done);
    void pay_with_points_async(request_context who, std::string member_id, engine::points_payment p,
                               write_callback done);
    void cancel_redemption_async(request_context who, engine::redemption_cancellation c,
                                 write_callback done);
    void cancel_redemption_async(request_context who, engine::redemption_cancellation c,
                                 cancellation_terms terms, write_callback done);
    void use_voucher_async(request_context who, engine::voucher_use v, write_callback done);
    void adjust_async(request_context who, std::string member_id, engine::adjustment a,
                      write_callback done);
    void change_profile_async(request_context who, std::string member_id, profile_change_request r,
                              write_callback done);

    // Time-driven work due up to `now` (pending points mature, lots expire, tier statuses end,
    // birthday and anniversary benefits), for the members it is due for, `chunk` members at a
    // time: returns how many members changed. Exactly once: a second run finds nothing to do.
    result<std::size_t> run_due(timestamp now, std::size_t chunk = 256);

    // Validates, stores and activates a program version; an identical text already stored is
    // activated again. Validation failures come back as diagnostics in the error.
    result<program_version_info> activate_program(const request_context& who,
                                                  const std::string& text,
                                                  const std::string& file_name);
    program_version_info active_program() const;

    // Reads, on the WAL snapshot; they never wait for the writer. With `key_id`, the member is
    // read only if that API key is still unrevoked in the same snapshot (unauthorized otherwise):
    // a caller that took the key from remembered_api_key needs no lookup of its own.
    result<member_view> member(const std::string& member_id, timestamp now,
                               const std::optional<std::string>& key_id = std::nullopt) const;
    result<activity_page> activity(const std::string& member_id, std::size_t limit,
                                   std::optional<std::int64_t> before_entry) const;
    result<voucher_history> vouchers(const std::string& member_id, timestamp now) const;
    result<tier_history_page> tier_history(const std::string& member_id) const;
    result<audit_page> audit(const std::string& member_id, std::size_t limit,
                             std::optional<std::int64_t> before_id) const;
    // The activations of program versions, newest first, `limit` of them older than the
    // activation `before_id`; and one stored version's text (not_found on `version_id` when
    // there is none), to read or activate again.
    result<activation_page> program_activations(std::size_t limit,
                                                std::optional<std::int64_t> before_id) const;
    result<program_version_text> program_version(std::int64_t version_id) const;

    // The outcome a purchase would get at `now`, storing nothing: for the member as stored, or
    // for a member who just enrolled when there is none (a quote for the till).
    result<std::string> simulate_purchase(const engine::purchase& p, timestamp now) const;
    // The rewards catalog; with a member, whether each can be redeemed now and why not.
    result<nlohmann::json> rewards(const std::optional<std::string>& member_id,
                                   timestamp now) const;

    // The unrevoked key with this secret, looked up by its hash on a reader; a key found is
    // remembered.
    result<std::optional<api_key>> find_api_key(const std::string& secret) const;
    // The key with this secret as an earlier find_api_key found it, without reading anything:
    // a key's role and store never change, but it may have been revoked since, so the caller
    // must have the key checked where it reads or writes (member(..., key_id), or a write's
    // request_context::key_id). Nothing when it was not found before.
    std::optional<api_key> remembered_api_key(const std::string& secret) const;

    // Queue depth and batch sizes, for /metrics.
    writer_stats stats() const;

    struct impl;

private:
    std::future<result<bool>> visit_due(const detail::due_entry& entry, timestamp now);

    std::unique_ptr<impl> impl_;
};

} // namespace loyalty::ledger
