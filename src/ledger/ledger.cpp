#include "loyalty/ledger/ledger.hpp"

#include "contact_details.hpp"
#include "ledger_impl.hpp"
#include "loyalty/engine/evaluate.hpp"
#include "loyalty/engine/local_time.hpp"
#include "loyalty/engine/state_json.hpp"
#include "loyalty/program/content_hash.hpp"
#include "member_record.hpp"
#include "migrations.hpp"

#include <spdlog/spdlog.h>
#include <stdexcept>

namespace loyalty::ledger {

using detail::applied;
using detail::loaded_member;
using detail::store;

namespace {

error fail(error_code code, std::string field, std::string message) {
    return error{code, std::move(field), std::move(message), std::nullopt, {}};
}

// Tills' clocks drift; a purchase or event dated further ahead than this is a mistake, and
// would otherwise earn under rules that are not active yet.
constexpr auto max_clock_skew = std::chrono::minutes{5};

std::optional<error> from_the_future(timestamp occurred_at, timestamp now) {
    if (occurred_at > now + max_clock_skew) {
        return error{error_code::invalid_request,
                     "occurred_at",
                     "occurred_at is in the future (" + engine::format_rfc3339(occurred_at) +
                         ", now " + engine::format_rfc3339(now) + ")",
                     std::nullopt,
                     {}};
    }
    return std::nullopt;
}

// Outside what a till may post: further ahead than clock skew explains, or later than the
// program allows.
std::optional<error> outside_posting_window(timestamp occurred_at, timestamp now,
                                            const program::program& p) {
    if (auto future = from_the_future(occurred_at, now)) {
        return future;
    }
    return detail::posted_too_late(occurred_at, now, p);
}

// A write that failed in the database: `unavailable` (503, retry) when the database cannot take
// writes for now (a full disk, a read-only file, an I/O error), `storage_failure` otherwise.
error not_stored(const std::exception& e, const std::string& message) {
    if (detail::database_unavailable(e)) {
        return fail(error_code::unavailable, "",
                    "the database cannot take writes now (" + std::string(e.what()) +
                        "); nothing was kept, retry later");
    }
    return fail(error_code::storage_failure, "", message);
}

// The answer for a request of a batch that was not committed.
error not_committed(detail::batch_fate fate, const std::string& message) {
    if (fate == detail::batch_fate::unavailable) {
        return fail(error_code::unavailable, "",
                    "the database cannot take writes now; nothing was kept, retry later");
    }
    return fail(error_code::storage_failure, "", message);
}

error refused(const engine::rejection& r) {
    return error{error_code::rejected, r.field, r.message, r.code, {}};
}

// The request field that names a write, for conflicts on it: the field a client sent, so it can
// find it (docs/api.md, "Idempotency"). Spelled out per kind, since a kind's name is not a field.
std::string natural_field(const std::string& kind) {
    if (kind == "enrollment") {
        return "member_id";
    }
    if (kind == "purchase") {
        return "transaction_id";
    }
    if (kind == "redemption" || kind == "cancellation") {
        return "redemption_id";
    }
    if (kind == "profile_change") {
        return "change_id";
    }
    if (kind == "voucher_use") {
        // Keyed by the voucher and the purchase; the voucher is the one the till reused, as
        // the refusal of a use on another purchase names it.
        return "voucher_id";
    }
    if (kind == "return" || kind == "event" || kind == "adjustment") {
        return kind + "_id";
    }
    throw std::logic_error("no natural key field for a " + kind);
}

// One diagnostic per line, without a newline after the last: the caller's message ends there.
std::string describe(const program::diagnostics& all) {
    std::string text;
    for (const auto& d : all) {
        text += (text.empty() ? "" : "\n") + program::to_string(d);
    }
    return text;
}

std::string format_of(const std::string& text) {
    auto first = text.find_first_not_of(" \t\r\n");
    return first != std::string::npos && text[first] == '{' ? "json" : "yaml";
}

} // namespace

std::optional<error> detail::posted_too_late(timestamp occurred_at, timestamp now,
                                             const program::program& p) {
    auto why = engine::too_late_to_post(p, occurred_at, now);
    if (!why) {
        return std::nullopt;
    }
    return error{error_code::invalid_request, "occurred_at", std::move(*why), std::nullopt, {}};
}

program_version_info ledger::impl::program_for_write(store& st) {
    const std::int64_t version = st.data_version();
    if (version == seen_data_version) {
        return current_program();
    }
    seen_data_version = version;
    auto stored = st.active_program();
    if (!stored || stored->content_hash == current_program().content_hash) {
        return current_program();
    }
    auto loaded = program::load_program(stored->source, "active program");
    if (!loaded) {
        // Stored by a process that checked it: only a build that reads programs otherwise.
        spdlog::error("ledger: version {} was activated by another process but does not load "
                      "here; writes stay on {}",
                      stored->content_hash.substr(0, 12), current_program().content_hash);
        return current_program();
    }
    program_version_info info{stored->id, stored->content_hash, stored->name,
                              stored->activated_at
                                  ? std::optional(detail::parse_time(*stored->activated_at))
                                  : std::nullopt,
                              *loaded};
    spdlog::warn("ledger: \"{}\" ({}) was activated by another process; writes use it from now",
                 info.name, info.content_hash.substr(0, 12));
    std::lock_guard lock(program_mutex);
    active = info;
    return active;
}

void ledger::impl::submit(const request_context& who, const std::string& kind,
                          const std::string& natural_key, std::string request, work_fn work,
                          write_callback done) {
    struct pending {
        result<write_result> answer =
            tl::unexpected(fail(error_code::storage_failure, "", "the request was not processed"));
    };
    auto state = std::make_shared<pending>();
    std::string hash = program::sha256_hex(kind + "\n" + request);
    std::vector<std::string> keys;
    if (who.idempotency_key) {
        // Client keys are scoped to the API key that sent them, as payment APIs do.
        keys.push_back("client " + who.actor + " " + *who.idempotency_key);
    }
    keys.push_back(kind + " " + natural_key);

    detail::write_task task;
    task.run = [this, state, hash = std::move(hash), keys = std::move(keys), kind, who,
                work = std::move(work)](store& st) -> bool {
        // Returns whether what it wrote is kept: a failure after writing makes the writer start
        // the batch over without this request (write_task).
        try {
            // A key revoked since the server looked it up changes nothing, from the moment the
            // revocation committed: this runs in the write's own transaction.
            if (who.key_id && !st.api_key_active(*who.key_id)) {
                forget_key(*who.key_id);
                state->answer = tl::unexpected(
                    fail(error_code::unauthorized, "", "the key is unknown or revoked"));
                return false;
            }
            for (const std::string& key : keys) {
                if (auto seen = st.find_idempotency(key)) {
                    const bool client = who.idempotency_key && key == keys.front();
                    if (seen->request_hash != hash) {
                        std::string field = client ? "Idempotency-Key" : natural_field(kind);
                        state->answer = tl::unexpected(
                            fail(error_code::idempotency_conflict, field,
                                 "this " + field + " was used for a different request"));
                    } else {
                        state->answer = write_result{seen->status, seen->response, true};
                        // A retry found by its natural key, with a client key not seen before:
                        // the key is kept for the same answer, so a retry with it replays
                        // rather than meeting it as unknown (or, reused, as a conflict).
                        if (who.idempotency_key && !client && seen->operation_id) {
                            st.save_idempotency(keys.front(), {hash, seen->status, {}},
                                                *seen->operation_id, now());
                        }
                    }
                    return state->answer.has_value();
                }
            }
            timestamp at = now();
            auto pv = program_for_write(st);
            auto done_work = work(st, pv, at);
            if (!done_work) {
                state->answer = tl::unexpected(std::move(done_work.error()));
                return false; // whatever the work wrote is undone
            }
            for (const std::string& key : keys) {
                st.save_idempotency(key, {hash, 201, done_work->body}, done_work->operation_id, at);
            }
            state->answer = write_result{201, std::move(done_work->body), false};
            return true;
        } catch (const std::exception& e) {
            spdlog::error("ledger: {} failed (request {}): {}", kind, who.request_id, e.what());
            state->answer = tl::unexpected(not_stored(e, "the request could not be stored"));
            return false;
        }
    };
    task.finish = [state, done](detail::batch_fate fate) {
        if (fate != detail::batch_fate::committed &&
            (state->answer || state->answer.error().code == error_code::storage_failure)) {
            done(tl::unexpected(not_committed(fate, "the request could not be stored")));
            return;
        }
        done(std::move(state->answer));
    };
    if (!writer->submit(std::move(task))) {
        done(tl::unexpected(
            fail(error_code::unavailable, "", "the ledger is busy or shutting down; retry")));
    }
}

result<applied> ledger::impl::apply(store& st, const program_version_info& pv, timestamp now,
                                    const std::string& kind, const request_context& who,
                                    const std::string& request, loaded_member& before,
                                    const engine::event& e) {
    const program::program& p = *pv.program;
    auto o = engine::evaluate(p, before.state, e, now);
    if (!o) {
        return tl::unexpected(refused(o.error()));
    }
    applied out;
    out.body = engine::to_json_text(*o, p);
    detail::operation_record op{kind,
                                before.state.id,
                                pv.id,
                                request,
                                out.body,
                                who.actor,
                                who.request_id,
                                now,
                                engine::next_due(p, o->state, now)};
    out.operation_id = st.save(op, before, *o);

    // The referrer's reward is its own operation, evaluated on the referrer's state and limits.
    for (const engine::referral_credit& credit : o->referrals) {
        auto referrer = st.load_member(credit.member_id);
        if (!referrer) {
            continue; // the referrer left; nothing to credit
        }
        engine::referral_reward reward{before.state.id, credit.rule_id, now};
        auto r = engine::evaluate(p, referrer->state, reward, now);
        if (!r) {
            spdlog::warn("ledger: referral reward for {} refused: {}", credit.member_id,
                         r.error().message);
            continue;
        }
        nlohmann::json referral_request = {{"friend_id", before.state.id},
                                           {"rule_id", credit.rule_id},
                                           {"operation_id", out.operation_id}};
        detail::operation_record rop{"referral",
                                     credit.member_id,
                                     pv.id,
                                     referral_request.dump(),
                                     engine::to_json_text(*r, p),
                                     who.actor,
                                     who.request_id,
                                     now,
                                     engine::next_due(p, r->state, now)};
        st.save(rop, *referrer, *r);
    }
    return out;
}

ledger::ledger(ledger_options options, std::optional<std::filesystem::path> program_file)
    : impl_(std::make_unique<impl>()) {
    impl_->options = std::move(options);
    const auto& path = impl_->options.database;
    // The program file is read and checked before the database is touched: a wrong path or a
    // broken program leaves no new, empty database (or folder) behind.
    program::program_ptr from_file;
    if (program_file) {
        // Read as `loyalty check` reads it, so the errors name the file as it does.
        auto loaded = program::load_program_file(*program_file);
        if (!loaded) {
            throw std::runtime_error("the program file " + program_file->string() +
                                     " cannot be used:\n" + describe(loaded.error()));
        }
        from_file = *loaded;
    }
    if (path.has_parent_path()) {
        std::filesystem::create_directories(path.parent_path());
    }
    if (impl_->options.gather_log_writes) {
        impl_->log_writes = std::make_unique<detail::log_vfs>();
    }
    detail::connection db(path.string(), detail::connection::mode::read_write,
                          impl_->log_writes ? impl_->log_writes->name() : nullptr);
    // SQLite opens a file it may not write read-only, silently: a server on it would pass its
    // health check and refuse every write. Refuse to start instead, naming the file.
    if (sqlite3_db_readonly(db.handle(), "main") == 1) {
        throw std::runtime_error("the database " + path.string() +
                                 " is read-only (file or folder permissions, or a read-only"
                                 " file system); the ledger needs to write it");
    }
    db.execute("PRAGMA journal_mode = WAL");
    db.execute(impl_->options.synchronous_full ? "PRAGMA synchronous = FULL"
                                               : "PRAGMA synchronous = NORMAL");
    db.execute("PRAGMA foreign_keys = ON");
    int applied_migrations = detail::migrate(db);
    if (applied_migrations > 0) {
        spdlog::info("ledger: applied {} migration(s) to {}", applied_migrations, path.string());
    }

    store st(db);
    timestamp at = impl_->now();
    if (from_file) {
        auto active = st.active_program();
        // A file that is what was last applied from a file has not changed since: a version
        // activated after it (through the API, a rollback) stays, or every restart of the server
        // would undo an activation it had acknowledged. A file that changed is the newer intent.
        const bool unchanged = active && st.last_file_activation() == from_file->content_hash();
        if (active && active->content_hash != from_file->content_hash() && unchanged) {
            spdlog::warn("ledger: {} is the version last applied from a program file; \"{}\" ({}), "
                         "activated since, stays active. Change the file, or activate it again "
                         "(POST /v1/program/versions), to use it",
                         program_file->string(), active->name, active->content_hash.substr(0, 12));
        } else if (!active || active->content_hash != from_file->content_hash()) {
            db.execute("BEGIN IMMEDIATE");
            auto known = st.program_by_hash(from_file->content_hash());
            std::int64_t id = known ? known->id
                                    : st.insert_program(from_file->content_hash(), from_file->name,
                                                        format_of(from_file->source_text()),
                                                        from_file->source_text(), at);
            st.activate_program(id, at, impl_->options.program_activated_by);
            st.make_everyone_due(at);
            st.audit(at, impl_->options.program_activated_by, "admin", "activate_program",
                     std::nullopt, std::nullopt, from_file->content_hash());
            db.execute("COMMIT");
        }
    }
    auto active = st.active_program();
    if (!active) {
        throw std::runtime_error("no program is active in " + path.string() +
                                 "; start with a program file (--program FILE)");
    }
    auto loaded = program::load_program(active->source, "active program");
    if (!loaded) {
        throw std::runtime_error("the active program stored in " + path.string() +
                                 " no longer validates:\n" + describe(loaded.error()));
    }
    impl_->active = program_version_info{
        active->id, active->content_hash, active->name,
        active->activated_at ? std::optional(detail::parse_time(*active->activated_at))
                             : std::nullopt,
        *loaded};
    db.execute("PRAGMA cache_size = -" + std::to_string(impl_->options.writer_cache_kib));
    // Durable and batched: the log syncer flushes the log beside the writer, so COMMIT need not
    // (log_syncer.hpp). Without batching, each write's COMMIT flushes the log itself: that is
    // what "batching off" means, one flush per write.
    std::unique_ptr<detail::log_syncer> syncer;
    if (impl_->options.synchronous_full && impl_->options.max_batch > 1 &&
        impl_->options.flush_beside_writer) {
        db.execute("PRAGMA synchronous = NORMAL");
        syncer = std::make_unique<detail::log_syncer>(path.string() + "-wal");
    }
    impl_->readers = std::make_unique<detail::reader_pool>(path.string(), impl_->options.readers,
                                                           impl_->options.reader_cache_kib);
    impl_->writer = std::make_unique<detail::writer>(
        std::move(db), impl_->options.batch_window, impl_->options.max_batch,
        impl_->options.max_queue, impl_->options.checkpoint_pages,
        std::make_unique<detail::checkpointer>(path.string(), impl_->options.synchronous_full),
        std::move(syncer));
}

ledger::~ledger() {
    impl_->writer.reset(); // answers everything queued before the connections close
}

namespace {

// Runs an async write and waits for its answer.
template <class Start>
result<write_result> wait_for(Start start) {
    auto promise = std::make_shared<std::promise<result<write_result>>>();
    auto future = promise->get_future();
    start([promise](result<write_result> r) { promise->set_value(std::move(r)); });
    return future.get();
}

// A name or address the request gives, refused before anything is stored when malformed.
std::optional<error> contact_refused(const std::optional<std::string>& name,
                                     const std::optional<std::string>& email) {
    if (name) {
        if (auto problem = detail::name_problem(*name)) {
            return fail(error_code::invalid_request, "name", *problem);
        }
    }
    if (email) {
        if (auto problem = detail::email_problem(*email)) {
            return fail(error_code::invalid_request, "email", *problem);
        }
    }
    return std::nullopt;
}

// A write whose id was used already: refused by the id itself, which is kept for good (the
// idempotency key that would replay the first answer is forgotten after its retention).
error already_done(std::string field, std::string message) {
    return error{error_code::rejected,
                 std::move(field),
                 std::move(message),
                 engine::rejection_code::already_done,
                 {}};
}

nlohmann::json optional_json(const std::optional<std::string>& s) {
    return s ? nlohmann::json(*s) : nlohmann::json(nullptr);
}

// A till's request (a voucher use, a points payment) as kept and hashed for idempotency. The
// store is written only when given, so that a request retried across the upgrade that added it
// still matches its first one.
std::string till_request(nlohmann::json fields, const std::string& store_id) {
    if (!store_id.empty()) {
        fields["store_id"] = store_id;
    }
    return fields.dump();
}

} // namespace

void ledger::enroll_async(request_context who, enrollment_request r, write_callback done) {
    if (r.member_id.empty()) {
        return done(tl::unexpected(
            fail(error_code::invalid_request, "member_id", "a member id is required")));
    }
    if (auto refused = contact_refused(r.name, r.email)) {
        return done(tl::unexpected(std::move(*refused)));
    }
    if (r.referred_by && *r.referred_by == r.member_id) {
        return done(tl::unexpected(
            fail(error_code::invalid_request, "referred_by", "a member cannot refer itself")));
    }
    std::string request = nlohmann::json{
        {"member_id", r.member_id},
        {"name", optional_json(r.name)},
        {"email", optional_json(r.email)},
        {"birthday", r.birthday ? nlohmann::json(engine::format_date(*r.birthday)) : nullptr},
        {"referred_by",
         optional_json(
             r.referred_by)}}.dump();
    impl_->submit(
        who, "enrollment", r.member_id, request,
        [this, who, r, request](store& st, const program_version_info& pv,
                                timestamp now) -> result<applied> {
            if (st.member_exists(r.member_id)) {
                return tl::unexpected(fail(error_code::already_exists, "member_id",
                                           "member " + r.member_id + " is already enrolled"));
            }
            if (r.referred_by && !st.member_exists(*r.referred_by)) {
                return tl::unexpected(fail(error_code::invalid_request, "referred_by",
                                           "no member " + *r.referred_by));
            }
            engine::enrollment e{r.member_id, now, r.birthday, r.referred_by};
            loaded_member before;
            before.state = engine::new_member(*pv.program, e);
            before.name = r.name;
            before.email = r.email;
            return impl_->apply(st, pv, now, "enrollment", who, request, before, e);
        },
        std::move(done));
}

void ledger::post_purchase_async(request_context who, engine::purchase p, write_callback done) {
    if (p.store_id.empty() || p.transaction_id.empty()) {
        return done(tl::unexpected(fail(error_code::invalid_request,
                                        p.store_id.empty() ? "store_id" : "transaction_id",
                                        "a purchase needs a store id and a transaction id")));
    }
    std::string request = engine::purchase_text(p);
    // The store's id is escaped so that the first '/' always ends it: "eu" with "12/2026-1" and
    // "eu/12" with "2026-1" were one key, and the second purchase was refused as the first's
    // retry. Ids without '/' or '%' keep the key they always had, so answers stored before
    // still replay.
    std::string natural;
    natural.reserve(p.store_id.size() + p.transaction_id.size() + 1);
    for (char c : p.store_id) {
        natural += c == '%' ? std::string_view("%25") : c == '/' ? "%2F" : std::string_view(&c, 1);
    }
    natural += '/';
    natural += p.transaction_id;
    impl_->submit(
        who, "purchase", natural, request,
        [this, who, p, request](store& st, const program_version_info& pv,
                                timestamp now) -> result<applied> {
            if (auto outside = outside_posting_window(p.occurred_at, now, *pv.program)) {
                return tl::unexpected(*outside);
            }
            auto m = st.load_member(p.member_id);
            if (!m) {
                return tl::unexpected(detail::no_member(p.member_id));
            }
            if (st.purchase_member(p.store_id, p.transaction_id)) {
                return tl::unexpected(
                    already_done("transaction_id", "purchase " + p.transaction_id + " at store " +
                                                       p.store_id + " was already posted"));
            }
            return impl_->apply(st, pv, now, "purchase", who, request, *m, p);
        },
        std::move(done));
}

void ledger::post_return_async(request_context who, engine::purchase_return r,
                               write_callback done) {
    if (r.return_id.empty() || r.store_id.empty()) {
        return done(tl::unexpected(fail(error_code::invalid_request,
                                        r.return_id.empty() ? "return_id" : "store_id",
                                        "a return needs a return id and the purchase's store id")));
    }
    nlohmann::json lines = nlohmann::json::array();
    for (const auto& l : r.lines) {
        lines.push_back({{"line_id", l.line_id}, {"quantity", l.quantity}});
    }
    std::string request = nlohmann::json{
        {"return_id", r.return_id},
        {"transaction_id", r.transaction_id},
        {"store_id", r.store_id},
        {"lines", lines}}.dump();
    impl_->submit(
        who, "return", r.return_id, request,
        [this, who, r, request](store& st, const program_version_info& pv,
                                timestamp now) -> result<applied> {
            auto member_id = st.purchase_member(r.store_id, r.transaction_id);
            if (!member_id) {
                return tl::unexpected(
                    fail(error_code::not_found, "transaction_id",
                         "no purchase " + r.transaction_id + " at store " + r.store_id));
            }
            if (st.return_exists(r.return_id)) {
                return tl::unexpected(
                    already_done("return_id", "return " + r.return_id + " was already made"));
            }
            auto m = st.load_member(*member_id);
            if (!m) {
                throw std::runtime_error("purchase " + r.transaction_id + " has no member");
            }
            st.load_purchase(*m, r.store_id, r.transaction_id);
            engine::purchase_return event = r;
            event.occurred_at = now;
            auto out = impl_->apply(st, pv, now, "return", who, request, *m, event);
            if (out) {
                st.insert_return(r.return_id, r.store_id, r.transaction_id, *member_id,
                                 out->operation_id);
            }
            return out;
        },
        std::move(done));
}

void ledger::post_event_async(request_context who, std::string member_id, engine::custom_event e,
                              write_callback done) {
    if (e.event_id.empty()) {
        return done(tl::unexpected(
            fail(error_code::invalid_request, "event_id", "an event id is required")));
    }
    std::string request = nlohmann::json{
        {"member_id", member_id},
        {"event_id", e.event_id},
        {"type", e.type},
        {"occurred_at", engine::format_rfc3339(e.occurred_at)},
        {"attributes",
         e.attributes}}.dump();
    impl_->submit(
        who, "event", e.event_id, request,
        [this, who, member_id, e, request](store& st, const program_version_info& pv,
                                           timestamp now) -> result<applied> {
            if (auto outside = outside_posting_window(e.occurred_at, now, *pv.program)) {
                return tl::unexpected(*outside);
            }
            auto m = st.load_member(member_id);
            if (!m) {
                return tl::unexpected(detail::no_member(member_id));
            }
            if (st.event_exists(e.event_id)) {
                return tl::unexpected(
                    already_done("event_id", "event " + e.event_id + " was already posted"));
            }
            auto out = impl_->apply(st, pv, now, "event", who, request, *m, e);
            if (out) {
                st.insert_event(e.event_id, member_id, e.type, out->operation_id);
            }
            return out;
        },
        std::move(done));
}

namespace {

// A redemption id is unique across members: a retry or a clash must not spend again.
std::optional<error> redemption_taken(store& st, const std::string& id) {
    if (st.redemption_member(id)) {
        return already_done("redemption_id", "redemption " + id + " was already made");
    }
    return std::nullopt;
}

} // namespace

void ledger::redeem_reward_async(request_context who, std::string member_id,
                                 engine::reward_redemption r, write_callback done) {
    if (r.redemption_id.empty()) {
        return done(tl::unexpected(
            fail(error_code::invalid_request, "redemption_id", "a redemption id is required")));
    }
    std::string request = nlohmann::json{
        {"member_id", member_id},
        {"redemption_id", r.redemption_id},
        {"reward_id",
         r.reward_id}}.dump();
    impl_->submit(
        who, "redemption", r.redemption_id, request,
        [this, who, member_id, r, request](store& st, const program_version_info& pv,
                                           timestamp now) -> result<applied> {
            auto m = st.load_member(member_id);
            if (!m) {
                return tl::unexpected(detail::no_member(member_id));
            }
            if (auto taken = redemption_taken(st, r.redemption_id)) {
                return tl::unexpected(*taken);
            }
            engine::reward_redemption event = r;
            event.occurred_at = now;
            return impl_->apply(st, pv, now, "redemption", who, request, *m, event);
        },
        std::move(done));
}

void ledger::pay_with_points_async(request_context who, std::string member_id,
                                   engine::points_payment p, write_callback done) {
    if (p.redemption_id.empty()) {
        return done(tl::unexpected(
            fail(error_code::invalid_request, "redemption_id", "a redemption id is required")));
    }
    std::string request = till_request({{"member_id", member_id},
                                        {"redemption_id", p.redemption_id},
                                        {"transaction_id", p.transaction_id},
                                        {"points", p.points},
                                        {"purchase_total", p.purchase_total}},
                                       p.store_id);
    impl_->submit(
        who, "redemption", p.redemption_id, request,
        [this, who, member_id, p, request](store& st, const program_version_info& pv,
                                           timestamp now) -> result<applied> {
            auto m = st.load_member(member_id);
            if (!m) {
                return tl::unexpected(detail::no_member(member_id));
            }
            if (auto taken = redemption_taken(st, p.redemption_id)) {
                return tl::unexpected(*taken);
            }
            engine::points_payment event = p;
            event.occurred_at = now;
            // The store of the purchase paid on, when known: the till's, or the only one the
            // member bought this transaction id at.
            std::string purchase_store = p.store_id;
            if (event.purchase_total == 0) {
                // Tills number their own receipts: without its store, a transaction id the
                // member has at two stores names neither, and guessing would bound the payment
                // by the wrong purchase.
                auto found = st.purchase_totals(member_id, p.transaction_id, p.store_id);
                if (found.empty()) {
                    return tl::unexpected(
                        fail(error_code::invalid_request, "purchase_total",
                             "purchase " + p.transaction_id +
                                 (p.store_id.empty() ? "" : " at store " + p.store_id) +
                                 " is not posted for member " + member_id +
                                 "; send its purchase_total"));
                }
                if (found.size() > 1) {
                    return tl::unexpected(fail(error_code::invalid_request, "store_id",
                                               "member " + member_id + " has purchases " +
                                                   p.transaction_id + " at stores " +
                                                   found[0].first + " and " + found[1].first +
                                                   "; name the store_id"));
                }
                event.purchase_total = found[0].second;
                purchase_store = found[0].first;
            } else if (auto found = st.purchase_totals(member_id, p.transaction_id, p.store_id);
                       found.size() == 1) {
                // A total the till sends may include what the posted lines do not (tax, say),
                // but never widens the share points may pay beyond the purchase as posted: the
                // smaller of the two bounds it.
                event.purchase_total = std::min(event.purchase_total, found[0].second);
                purchase_store = found[0].first;
            }
            auto paid = st.paid_on(member_id, p.transaction_id, purchase_store);
            event.paid_before_value = paid.value;
            event.paid_before = paid.points;
            return impl_->apply(st, pv, now, "payment", who, request, *m, event);
        },
        std::move(done));
}

void ledger::cancel_redemption_async(request_context who, engine::redemption_cancellation c,
                                     write_callback done) {
    cancel_redemption_async(std::move(who), std::move(c), {}, std::move(done));
}

void ledger::cancel_redemption_async(request_context who, engine::redemption_cancellation c,
                                     cancellation_terms terms, write_callback done) {
    // Terms given are part of the request: a retry with the same ones replays, other ones are
    // another request under the same key (409). Without terms the request is as it always was.
    nlohmann::json text{{"redemption_id", c.redemption_id}};
    if (terms.member_id) {
        text["member_id"] = *terms.member_id;
    }
    if (terms.reason) {
        text["reason"] = *terms.reason;
    }
    std::string request = text.dump();
    impl_->submit(
        who, "cancellation", c.redemption_id, request,
        [this, who, c, terms, request](store& st, const program_version_info& pv,
                                       timestamp now) -> result<applied> {
            auto member_id = st.redemption_member(c.redemption_id);
            if (!member_id || (terms.member_id && *terms.member_id != *member_id)) {
                // Another member's redemption is not found for this one: saying whose it is
                // would tell a page open on one member about another's.
                return tl::unexpected(
                    fail(error_code::not_found, "redemption_id",
                         "no redemption " + c.redemption_id +
                             (terms.member_id ? " of member " + *terms.member_id : "")));
            }
            auto m = st.load_member(*member_id);
            if (!m) {
                throw std::runtime_error("redemption " + c.redemption_id + " has no member");
            }
            st.load_redemption(*m, c.redemption_id);
            engine::redemption_cancellation event = c;
            event.occurred_at = now;
            auto out = impl_->apply(st, pv, now, "cancellation", who, request, *m, event);
            if (out) {
                st.audit(now, who.actor, who.role, "cancel_redemption", *member_id, terms.reason,
                         request);
            }
            return out;
        },
        std::move(done));
}

void ledger::use_voucher_async(request_context who, engine::voucher_use v, write_callback done) {
    if (v.voucher_id.empty()) {
        return done(tl::unexpected(
            fail(error_code::invalid_request, "voucher_id", "a voucher id is required")));
    }
    // The two ids make one key, joined by a line break: neither may hold one.
    for (const auto& [field, id] :
         {std::pair{"voucher_id", &v.voucher_id}, std::pair{"transaction_id", &v.transaction_id}}) {
        if (id->find('\n') != std::string::npos) {
            return done(tl::unexpected(
                fail(error_code::invalid_request, field, "an id has no line breaks")));
        }
    }
    std::string request = till_request(
        {{"voucher_id", v.voucher_id}, {"transaction_id", v.transaction_id}}, v.store_id);
    // Keyed by the voucher and the purchase: the same use retried is answered again, while a
    // use on another purchase reaches the engine, which refuses it as already done.
    impl_->submit(
        who, "voucher_use", v.voucher_id + "\n" + v.transaction_id, request,
        [this, who, v, request](store& st, const program_version_info& pv,
                                timestamp now) -> result<applied> {
            auto member_id = st.voucher_member(v.voucher_id);
            if (!member_id) {
                return tl::unexpected(
                    fail(error_code::not_found, "voucher_id", "no voucher " + v.voucher_id));
            }
            auto m = st.load_member(*member_id);
            if (!m) {
                throw std::runtime_error("voucher " + v.voucher_id + " has no member");
            }
            engine::voucher_use event = v;
            event.occurred_at = now;
            return impl_->apply(st, pv, now, "voucher_use", who, request, *m, event);
        },
        std::move(done));
}

void ledger::adjust_async(request_context who, std::string member_id, engine::adjustment a,
                          write_callback done) {
    if (a.adjustment_id.empty()) {
        return done(tl::unexpected(
            fail(error_code::invalid_request, "adjustment_id", "an adjustment id is required")));
    }
    if (a.reason.empty()) {
        return done(tl::unexpected(
            fail(error_code::invalid_request, "reason", "an adjustment needs a reason")));
    }
    if (a.points == 0) {
        return done(tl::unexpected(
            fail(error_code::invalid_request, "points", "an adjustment of 0 changes nothing")));
    }
    a.actor = who.actor;
    std::string request = nlohmann::json{
        {"member_id", member_id},
        {"adjustment_id", a.adjustment_id},
        {"points", a.points},
        {"reason", a.reason},
        {"note", a.note}}.dump();
    impl_->submit(
        who, "adjustment", a.adjustment_id, request,
        [this, who, member_id, a, request](store& st, const program_version_info& pv,
                                           timestamp now) -> result<applied> {
            auto m = st.load_member(member_id);
            if (!m) {
                return tl::unexpected(detail::no_member(member_id));
            }
            if (st.adjustment_exists(a.adjustment_id)) {
                return tl::unexpected(already_done(
                    "adjustment_id", "adjustment " + a.adjustment_id + " was already made"));
            }
            engine::adjustment event = a;
            event.occurred_at = now;
            auto out = impl_->apply(st, pv, now, "adjustment", who, request, *m, event);
            if (out) {
                st.insert_adjustment(event, member_id, out->operation_id);
                st.audit(now, who.actor, who.role, "adjust", member_id, a.reason, request);
            }
            return out;
        },
        std::move(done));
}

void ledger::change_profile_async(request_context who, std::string member_id,
                                  profile_change_request r, write_callback done) {
    if (r.change_id.empty()) {
        return done(tl::unexpected(
            fail(error_code::invalid_request, "change_id", "a profile change needs an id")));
    }
    if (r.reason.empty()) {
        return done(tl::unexpected(
            fail(error_code::invalid_request, "reason", "a profile change needs a reason")));
    }
    if (!r.name && !r.email && !r.birthday) {
        return done(tl::unexpected(fail(error_code::invalid_request, "name",
                                        "a profile change names name, email or birthday")));
    }
    if (auto refused =
            contact_refused(r.name.value_or(std::nullopt), r.email.value_or(std::nullopt))) {
        return done(tl::unexpected(std::move(*refused)));
    }
    // The fields given, each a value or null (cleared); the others are left out.
    nlohmann::json fields = {
        {"member_id", member_id}, {"change_id", r.change_id}, {"reason", r.reason}};
    for (const auto& [key, value] : {std::pair{"name", &r.name}, std::pair{"email", &r.email}}) {
        if (*value) {
            fields[key] = **value ? nlohmann::json(***value) : nlohmann::json(nullptr);
        }
    }
    if (r.birthday) {
        fields["birthday"] = *r.birthday ? nlohmann::json(engine::format_date(**r.birthday))
                                         : nlohmann::json(nullptr);
    }
    std::string request = fields.dump();
    impl_->submit(
        who, "profile_change", r.change_id, request,
        [this, who, member_id, r, request](store& st, const program_version_info& pv,
                                           timestamp now) -> result<applied> {
            auto m = st.load_member(member_id);
            if (!m) {
                return tl::unexpected(detail::no_member(member_id));
            }
            // Kept for good: the idempotency key that answers a retry is forgotten after its
            // retention, and a correction applied again then would undo any made since.
            if (st.profile_change_exists(r.change_id)) {
                return tl::unexpected(already_done("change_id", "profile change " + r.change_id +
                                                                    " was already made"));
            }
            std::optional<std::string> name = r.name ? *r.name : m->name;
            std::optional<std::string> email = r.email ? *r.email : m->email;
            engine::profile_change event{r.change_id, r.birthday.has_value(),
                                         r.birthday.value_or(std::nullopt), now};
            auto out = impl_->apply(st, pv, now, "profile_change", who, request, *m, event);
            if (out) {
                st.set_contact(member_id, name, email);
                st.insert_profile_change(r.change_id, member_id, now);
                st.audit(now, who.actor, who.role, "profile_change", member_id, r.reason, request);
            }
            return out;
        },
        std::move(done));
}

result<write_result> ledger::change_profile(const request_context& who,
                                            const std::string& member_id,
                                            const profile_change_request& r) {
    return wait_for(
        [&](write_callback done) { change_profile_async(who, member_id, r, std::move(done)); });
}

result<write_result> ledger::enroll(const request_context& who, const enrollment_request& r) {
    return wait_for([&](write_callback done) { enroll_async(who, r, std::move(done)); });
}

result<write_result> ledger::post_purchase(const request_context& who, const engine::purchase& p) {
    return wait_for([&](write_callback done) { post_purchase_async(who, p, std::move(done)); });
}

result<write_result> ledger::post_return(const request_context& who,
                                         const engine::purchase_return& r) {
    return wait_for([&](write_callback done) { post_return_async(who, r, std::move(done)); });
}

result<write_result> ledger::post_event(const request_context& who, const std::string& member_id,
                                        const engine::custom_event& e) {
    return wait_for(
        [&](write_callback done) { post_event_async(who, member_id, e, std::move(done)); });
}

result<write_result> ledger::redeem_reward(const request_context& who, const std::string& member_id,
                                           const engine::reward_redemption& r) {
    return wait_for(
        [&](write_callback done) { redeem_reward_async(who, member_id, r, std::move(done)); });
}

result<write_result> ledger::pay_with_points(const request_context& who,
                                             const std::string& member_id,
                                             const engine::points_payment& p) {
    return wait_for(
        [&](write_callback done) { pay_with_points_async(who, member_id, p, std::move(done)); });
}

result<write_result> ledger::cancel_redemption(const request_context& who,
                                               const engine::redemption_cancellation& c,
                                               const cancellation_terms& terms) {
    return wait_for(
        [&](write_callback done) { cancel_redemption_async(who, c, terms, std::move(done)); });
}

result<write_result> ledger::use_voucher(const request_context& who, const engine::voucher_use& v) {
    return wait_for([&](write_callback done) { use_voucher_async(who, v, std::move(done)); });
}

result<write_result> ledger::adjust(const request_context& who, const std::string& member_id,
                                    const engine::adjustment& a) {
    return wait_for([&](write_callback done) { adjust_async(who, member_id, a, std::move(done)); });
}

result<std::size_t> ledger::run_due(timestamp now, std::size_t chunk) {
    // Members whose due time has come are listed from a snapshot, a chunk at a time; each is
    // brought up to date by the writer as its own task, so purchases queued meanwhile interleave
    // and a run over many members never holds the writer for long. Running again, or after a
    // crash half-way, finds nothing more to do for the members already visited: time_passes is
    // idempotent and each member's visit commits as a whole.
    chunk = std::max<std::size_t>(1, chunk);
    std::size_t changed = 0;
    detail::due_entry after;
    for (;;) {
        std::vector<detail::due_entry> entries;
        try {
            auto lease = impl_->readers->acquire();
            entries = lease->st.due_entries(now, after, chunk);
        } catch (const std::exception& e) {
            spdlog::error("ledger: listing due members failed: {}", e.what());
            return tl::unexpected(
                fail(error_code::storage_failure, "", "due members could not be listed"));
        }
        if (entries.empty()) {
            break;
        }
        after = entries.back();
        std::vector<std::future<result<bool>>> visits;
        for (const detail::due_entry& entry : entries) {
            visits.push_back(visit_due(entry, now));
        }
        for (auto& v : visits) {
            auto r = v.get();
            if (!r) {
                return tl::unexpected(r.error());
            }
            changed += *r ? 1 : 0;
        }
    }
    // Forget idempotency keys past their retention, in the same stream of writes.
    auto promise = std::make_shared<std::promise<void>>();
    auto finished = promise->get_future();
    timestamp cutoff = now - impl_->options.idempotency_retention;
    detail::write_task task;
    task.run = [cutoff](store& st) {
        try {
            st.expire_idempotency(cutoff); // one statement: all of it or nothing
        } catch (const std::exception& e) {
            spdlog::error("ledger: expiring idempotency keys failed: {}", e.what());
        }
        return true;
    };
    task.finish = [promise](detail::batch_fate) {
        promise->set_value();
    };
    if (impl_->writer->submit(std::move(task))) {
        finished.wait();
    }
    return changed;
}

namespace {

// Whether time passing changed anything the ledger stores about the member.
bool same_member(const engine::member_state& a, const engine::member_state& b) {
    return a.tier.tier == b.tier.tier && a.tier.since == b.tier.since &&
           a.tier.valid_until == b.tier.valid_until && a.budget_used == b.budget_used &&
           a.vouchers == b.vouchers &&
           detail::encode_member_record(a, false) == detail::encode_member_record(b, false);
}

} // namespace

std::future<result<bool>> ledger::visit_due(const detail::due_entry& entry, timestamp now) {
    auto promise = std::make_shared<std::promise<result<bool>>>();
    auto visited = promise->get_future();
    auto answer = std::make_shared<result<bool>>(false);
    detail::write_task task;
    task.run = [this, entry, now, answer](store& st) -> bool {
        // Undoes itself in its savepoint when it stops half-way: what is left is always kept.
        const std::string& id = entry.member_id;
        try {
            detail::savepoint sp(st.db(), "due");
            // Taken off the queue in the visit's own savepoint: a run that stops half-way leaves
            // the rows it did not visit for the next run, and a second run finds none of the
            // others.
            if (!st.take_due_entry(entry.entry)) {
                return true;
            }
            auto m = st.load_member(id);
            if (!m) {
                sp.release();
                return true;
            }
            if (m->due_entry != entry.entry) {
                // Left behind when the member's due time moved earlier: its live row is another.
                sp.release();
                return true;
            }
            m->due_entry.reset();
            m->due_entry_at.reset();
            auto pv = impl_->program_for_write(st);
            auto o = engine::evaluate(*pv.program, m->state, engine::time_passes{now}, now);
            if (!o) {
                *answer = tl::unexpected(refused(o.error()));
                return true;
            }
            bool changed = !o->movements.empty() || !o->vouchers.empty() || o->tier.changed ||
                           !same_member(o->state, m->state);
            if (!changed) {
                // Nothing happened (say, a birthday check on an ordinary day, or the member's due
                // time moved later since it was queued): only the next visit is queued.
                st.set_due(*m, engine::next_due(*pv.program, m->state, now));
                sp.release();
                return true;
            }
            std::string body = engine::to_json_text(*o, *pv.program);
            detail::operation_record op{"time",
                                        id,
                                        pv.id,
                                        nlohmann::json{{"now", engine::format_rfc3339(now)}}.dump(),
                                        body,
                                        "jobs",
                                        "",
                                        impl_->now(),
                                        engine::next_due(*pv.program, o->state, now)};
            st.save(op, *m, *o);
            sp.release();
            *answer = true;
        } catch (const std::exception& e) {
            spdlog::error("ledger: due work for {} failed: {}", id, e.what());
            *answer = tl::unexpected(not_stored(e, "due work could not be stored"));
        }
        return true;
    };
    task.finish = [promise, answer](detail::batch_fate fate) {
        if (fate != detail::batch_fate::committed) {
            promise->set_value(tl::unexpected(not_committed(fate, "due work could not be stored")));
        } else {
            promise->set_value(*answer);
        }
    };
    if (!impl_->writer->submit(std::move(task))) {
        promise->set_value(tl::unexpected(fail(error_code::unavailable, "", "the ledger is busy")));
    }
    return visited;
}

result<program_version_info> ledger::activate_program(const request_context& who,
                                                      const std::string& text,
                                                      const std::string& file_name) {
    auto loaded = program::load_program(text, file_name);
    if (!loaded) {
        error e = fail(error_code::invalid_program, "", "the program does not validate");
        e.diagnostics = loaded.error();
        return tl::unexpected(std::move(e));
    }
    program::program_ptr p = *loaded;
    auto promise = std::make_shared<std::promise<result<program_version_info>>>();
    auto future = promise->get_future();
    auto answer = std::make_shared<result<program_version_info>>(
        tl::unexpected(fail(error_code::storage_failure, "", "not processed")));
    auto previous = std::make_shared<program_version_info>();
    detail::write_task task;
    task.large = true; // every member's row changes
    task.run = [this, who, text, p, answer, previous](store& st) -> bool {
        // Undoes itself in its savepoint on failure; runs in a batch alone, never run again.
        try {
            detail::savepoint sp(st.db(), "activate");
            timestamp at = impl_->now();
            auto known = st.program_by_hash(p->content_hash());
            std::int64_t id =
                known ? known->id
                      : st.insert_program(p->content_hash(), p->name, format_of(text), text, at);
            st.activate_program(id, at, who.actor);
            st.make_everyone_due(at);
            st.audit(at, who.actor, who.role, "activate_program", std::nullopt, std::nullopt,
                     p->content_hash());
            sp.release();
            program_version_info info{id, p->content_hash(), p->name, at, p};
            // Later writes in this batch already use the new version.
            std::lock_guard lock(impl_->program_mutex);
            *previous = impl_->active;
            impl_->active = info;
            *answer = info;
        } catch (const std::exception& e) {
            spdlog::error("ledger: activating a program failed: {}", e.what());
            *answer = tl::unexpected(not_stored(e, "the program could not be stored"));
        }
        return true;
    };
    task.finish = [this, promise, answer, previous](detail::batch_fate fate) {
        if (fate != detail::batch_fate::committed && *answer) {
            std::lock_guard lock(impl_->program_mutex);
            impl_->active = *previous;
            *answer = tl::unexpected(not_committed(fate, "the program could not be stored"));
        }
        promise->set_value(*answer);
    };
    if (!impl_->writer->submit(std::move(task))) {
        return tl::unexpected(fail(error_code::unavailable, "", "the ledger is busy"));
    }
    return future.get();
}

program_version_info ledger::active_program() const {
    return impl_->current_program();
}

writer_stats ledger::stats() const {
    return impl_->writer->stats();
}

} // namespace loyalty::ledger
