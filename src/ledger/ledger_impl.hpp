#pragma once
// The ledger's insides, shared by ledger.cpp (writes) and reads.cpp (views).

#include "log_vfs.hpp"
#include "loyalty/ledger/ledger.hpp"
#include "reader_pool.hpp"
#include "store.hpp"
#include "writer.hpp"

#include <mutex>
#include <unordered_map>

namespace loyalty::ledger {

namespace detail {

// What a write does once the writer runs it: the operation id and the answer body.
struct applied {
    std::int64_t operation_id = 0;
    std::string body;
};

// The answer to a read or a write that names a member who is not enrolled.
inline error no_member(const std::string& id) {
    return error{error_code::not_found, "member_id", "no member " + id, std::nullopt, {}};
}

// A purchase or event dated further back than the program's `late_posting.max_days` at `now`:
// refused when posted (ledger.cpp), and by the simulation of posting it (reads.cpp).
std::optional<error> posted_too_late(timestamp occurred_at, timestamp now,
                                     const program::program& p);

} // namespace detail

struct ledger::impl {
    ledger_options options;

    mutable std::mutex program_mutex;
    program_version_info active; // what readers and new writes see

    // API keys found by find_api_key, by the SHA-256 of their secret.
    mutable std::mutex remembered_keys_mutex;
    mutable std::unordered_map<std::string, api_key> remembered_keys;
    // Forgets the key with this id (found revoked).
    void forget_key(const std::string& id) const;

    // The writer's connection writes the log through it: declared first, so destroyed last.
    std::unique_ptr<detail::log_vfs> log_writes;
    std::unique_ptr<detail::reader_pool> readers;
    std::unique_ptr<detail::writer> writer; // destroyed first: drains the queue

    timestamp now() const {
        return options.clock
                   ? options.clock()
                   : std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
    }

    program_version_info current_program() const {
        std::lock_guard lock(program_mutex);
        return active;
    }

    // The version a write runs under, on the writer: the active one, taken again from the
    // database when another process activated one since (`jobs run --program` or `seed` on the
    // file a server is running on). Otherwise its purchases would be decided by the version the
    // server started with while the audit log says another is active. SQLite's data_version,
    // read from memory, changes only when another connection commits.
    program_version_info program_for_write(detail::store& st);
    std::int64_t seen_data_version = -1; // the writer thread's only

    // Runs `work` on the writer, behind the idempotency keys, and answers `done` once the batch
    // is committed. A failure keeps nothing of what `work` wrote (the writer starts the batch
    // over without it), so `work` may run more than once and must not change its captures.
    using work_fn = std::function<result<detail::applied>(detail::store&,
                                                          const program_version_info&, timestamp)>;
    // `request` is the request's canonical JSON text: hashed for idempotency, stored with the
    // operation.
    void submit(const request_context& who, const std::string& kind, const std::string& natural_key,
                std::string request, work_fn work, write_callback done);

    // Loads nothing: evaluates `e` on `before`, stores the outcome and the referrer's rewards.
    result<detail::applied> apply(detail::store& st, const program_version_info& pv, timestamp now,
                                  const std::string& kind, const request_context& who,
                                  const std::string& request, detail::loaded_member& before,
                                  const engine::event& e);
};

} // namespace loyalty::ledger
