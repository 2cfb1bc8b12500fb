// The read side of the ledger: member views and activity pages, on reader connections.

#include "ledger_impl.hpp"
#include "loyalty/engine/evaluate.hpp"
#include "loyalty/engine/json_writer.hpp"
#include "loyalty/engine/local_time.hpp"
#include "loyalty/program/content_hash.hpp"

#include <algorithm>
#include <spdlog/spdlog.h>

namespace loyalty::ledger {
namespace {

// One snapshot for all the statements of a read.
class read_transaction {
public:
    explicit read_transaction(detail::store& st) : st_(st) { st_.begin_read(); }
    read_transaction(const read_transaction&) = delete;
    read_transaction& operator=(const read_transaction&) = delete;
    ~read_transaction() { st_.end_read(); }

private:
    detail::store& st_;
};

member_view view_of(const program::program& p, const detail::loaded_member& m, timestamp now) {
    const engine::member_state& s = m.state;
    member_view v;
    v.member_id = s.id;
    v.name = m.name;
    v.email = m.email;
    v.enrolled_at = s.enrolled_at;
    v.birthday = s.birthday;
    v.referred_by = s.referred_by;
    v.balance = engine::balance_at(p, s, now);
    v.owed = s.shortfall;
    for (const engine::lot& l : s.lots) {
        if (l.remaining <= 0 || l.expired(now) || !l.pending(now)) {
            continue;
        }
        if (!v.next_available || l.available_at < *v.next_available) {
            v.next_available = l.available_at;
            v.next_available_points = l.remaining;
        } else if (l.available_at == *v.next_available) {
            *v.next_available_points += l.remaining;
        }
    }
    // Pending points expire with their lot too (pending_days are far shorter than any
    // expiry): a member told only of the available ones would lose more than they were told.
    for (const engine::lot& l : s.lots) {
        if (l.remaining <= 0 || l.expired(now) || !l.expires_at) {
            continue;
        }
        if (!v.next_expiry || *l.expires_at < *v.next_expiry) {
            v.next_expiry = l.expires_at;
            v.next_expiring_points = l.remaining;
        } else if (*l.expires_at == *v.next_expiry) {
            *v.next_expiring_points += l.remaining;
        }
    }
    // A status that ended is shown as the jobs will leave it, as the member's next event sees
    // it: not as the tier that ended, with a valid_until in the past.
    v.tier = engine::tier_status_at(p, s, now);
    // Under inactivity expiry no lot carries the date: everything held expires together at the
    // deadline, which the view shows as the next expiry (past it, the balance is without them).
    if (auto deadline = engine::inactivity_deadline(p, s);
        deadline && *deadline > now && !p.points.expiry.exempts(v.tier.tier)) {
        engine::points_t held = 0;
        for (const engine::lot& l : s.lots) {
            if (l.remaining > 0 && !l.expired(now)) {
                held += l.remaining;
            }
        }
        if (held > 0 && (!v.next_expiry || *deadline < *v.next_expiry)) {
            v.next_expiry = deadline;
            v.next_expiring_points = held;
        }
    }
    v.metric = engine::metric_at(p, s, now);
    if (auto at = p.tiers.index_of(v.tier.tier); at && *at + 1 < p.tiers.levels.size()) {
        const program::tier_level& next = p.tiers.levels[*at + 1];
        v.next_tier = next_tier_progress{next.id, next.threshold,
                                         std::max<std::int64_t>(0, next.threshold - v.metric)};
    }
    if (v.tier.valid_until) {
        if (const program::tier_level* current = p.tiers.find(v.tier.tier)) {
            std::int64_t at_end = engine::metric_at(p, s, *v.tier.valid_until);
            v.keep_tier = tier_keep{current->threshold, at_end,
                                    std::max<std::int64_t>(0, current->threshold - at_end)};
        }
    }
    for (const engine::voucher& x : s.vouchers) {
        if (voucher_status(x, now) == "usable") {
            v.vouchers.push_back(x);
        }
    }
    v.lifetime_points = s.lifetime_points;
    v.lifetime_purchases = s.lifetime_purchases;
    v.lifetime_spend = s.lifetime_spend;
    v.revision = m.revision;
    return v;
}

error storage_error(const std::exception& e) {
    spdlog::error("ledger: read failed: {}", e.what());
    return error{error_code::storage_failure, "", "the ledger could not be read", std::nullopt, {}};
}

using detail::no_member;

// What `read(store&)` answers (a result), on one snapshot of a reader; storage_failure when the
// file cannot be read.
template <class Read>
auto on_snapshot(detail::reader_pool& readers, Read read)
    -> decltype(read(std::declval<detail::store&>())) {
    try {
        auto lease = readers.acquire();
        read_transaction snapshot(lease->st);
        return read(lease->st);
    } catch (const std::exception& e) {
        return tl::unexpected(storage_error(e));
    }
}

// What `read(store&)` gives for an enrolled member, on one snapshot; not_found when there is no
// such member.
template <class Read>
auto read_of_member(detail::reader_pool& readers, const std::string& member_id, Read read)
    -> result<decltype(read(std::declval<detail::store&>()))> {
    using answer = result<decltype(read(std::declval<detail::store&>()))>;
    return on_snapshot(readers, [&](detail::store& st) -> answer {
        if (!st.member_exists(member_id)) {
            return tl::unexpected(no_member(member_id));
        }
        return read(st);
    });
}

std::string time_text(timestamp t) {
    return engine::format_rfc3339(t);
}

nlohmann::json optional_time(const std::optional<timestamp>& t) {
    return t ? nlohmann::json(time_text(*t)) : nlohmann::json(nullptr);
}

template <class T>
nlohmann::json optional_value(const std::optional<T>& v) {
    return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
}

// A page's next_cursor as the API gives it: text, so that clients need not keep it as a
// number; null on the last page.
nlohmann::json cursor_value(const std::optional<std::int64_t>& next) {
    return next ? nlohmann::json(std::to_string(*next)) : nlohmann::json(nullptr);
}

} // namespace

result<member_view> ledger::member(const std::string& member_id, timestamp now,
                                   const std::optional<std::string>& key_id) const {
    auto program = active_program();
    try {
        auto lease = impl_->readers->acquire();
        // Most members never had a voucher: one statement, in its own snapshot. The others are
        // read again with their vouchers, in one transaction.
        auto read = lease->st.read_member(member_id, key_id, false);
        if (read.needs_vouchers) {
            read_transaction snapshot(lease->st);
            read = lease->st.read_member(member_id, key_id, true);
        }
        if (!read.key_active) {
            impl_->forget_key(*key_id);
            return tl::unexpected(error{
                error_code::unauthorized, "", "the key is unknown or revoked", std::nullopt, {}});
        }
        if (!read.member) {
            return tl::unexpected(no_member(member_id));
        }
        return view_of(*program.program, *read.member, now);
    } catch (const std::exception& e) {
        return tl::unexpected(storage_error(e));
    }
}

result<activity_page> ledger::activity(const std::string& member_id, std::size_t limit,
                                       std::optional<std::int64_t> before_entry) const {
    return read_of_member(*impl_->readers, member_id, [&](detail::store& st) {
        return st.activity(member_id, limit, before_entry);
    });
}

result<voucher_history> ledger::vouchers(const std::string& member_id, timestamp now) const {
    return read_of_member(*impl_->readers, member_id, [&](detail::store& st) {
        std::vector<engine::voucher> all = st.vouchers_of(member_id);
        std::reverse(all.begin(), all.end()); // stored oldest first
        return voucher_history{member_id, std::move(all), now};
    });
}

result<tier_history_page> ledger::tier_history(const std::string& member_id) const {
    return read_of_member(*impl_->readers, member_id, [&](detail::store& st) {
        return tier_history_page{member_id, st.tier_history(member_id)};
    });
}

result<audit_page> ledger::audit(const std::string& member_id, std::size_t limit,
                                 std::optional<std::int64_t> before_id) const {
    return read_of_member(*impl_->readers, member_id, [&](detail::store& st) {
        return st.audit_of(member_id, limit, before_id);
    });
}

result<activation_page> ledger::program_activations(std::size_t limit,
                                                    std::optional<std::int64_t> before_id) const {
    return on_snapshot(*impl_->readers, [&](detail::store& st) -> result<activation_page> {
        return st.program_activations(limit, before_id);
    });
}

result<program_version_text> ledger::program_version(std::int64_t version_id) const {
    return on_snapshot(*impl_->readers, [&](detail::store& st) -> result<program_version_text> {
        if (auto found = st.program_version(version_id)) {
            return std::move(*found);
        }
        return tl::unexpected(error{error_code::not_found,
                                    "version_id",
                                    "no program version " + std::to_string(version_id),
                                    std::nullopt,
                                    {}});
    });
}

result<std::string> ledger::simulate_purchase(const engine::purchase& p, timestamp now) const {
    auto pv = active_program();
    // The outcome posting it would have: none, when posting it would be refused as too late.
    if (auto late = detail::posted_too_late(p.occurred_at, now, *pv.program)) {
        return tl::unexpected(*late);
    }
    try {
        engine::member_state state;
        {
            auto lease = impl_->readers->acquire();
            read_transaction snapshot(lease->st);
            if (auto m = lease->st.load_member(p.member_id)) {
                state = std::move(m->state);
            } else {
                state = engine::new_member(*pv.program,
                                           engine::enrollment{p.member_id, p.occurred_at, {}, {}});
            }
        }
        auto o = engine::evaluate(*pv.program, state, p, now);
        if (!o) {
            return tl::unexpected(error{
                error_code::rejected, o.error().field, o.error().message, o.error().code, {}});
        }
        return engine::to_json_text(*o, *pv.program);
    } catch (const std::exception& e) {
        return tl::unexpected(storage_error(e));
    }
}

result<nlohmann::json> ledger::rewards(const std::optional<std::string>& member_id,
                                       timestamp now) const {
    auto pv = active_program();
    const program::program& p = *pv.program;
    std::optional<engine::member_state> state;
    if (member_id) {
        try {
            auto lease = impl_->readers->acquire();
            read_transaction snapshot(lease->st);
            auto m = lease->st.load_member(*member_id);
            if (!m) {
                return tl::unexpected(no_member(*member_id));
            }
            state = std::move(m->state);
        } catch (const std::exception& e) {
            return tl::unexpected(storage_error(e));
        }
    }
    nlohmann::json list = nlohmann::json::array();
    for (const program::reward& r : p.rewards) {
        nlohmann::json item = {{"id", r.id},
                               {"name", r.name},
                               {"cost", r.cost},
                               {"tiers", r.tiers},
                               {"unit", p.points.name}};
        if (state) {
            // The engine decides eligibility exactly as a redemption would, on a copy.
            auto trial = engine::evaluate(p, *state,
                                          engine::reward_redemption{"eligibility", r.id, now}, now);
            item["eligible"] = trial.has_value();
            item["reason"] =
                trial ? nlohmann::json(nullptr) : nlohmann::json(trial.error().message);
        }
        list.push_back(std::move(item));
    }
    return nlohmann::json{
        {"rewards", list},
        {"member_id", member_id ? nlohmann::json(*member_id) : nlohmann::json(nullptr)}};
}

result<std::optional<api_key>> ledger::find_api_key(const std::string& secret) const {
    // By the secret's SHA-256, never the secret itself: the map compares digests, and a
    // comparison's timing tells at most how much of a digest matched (store::find_api_key).
    std::string digest = program::sha256_hex(secret);
    std::optional<api_key> key;
    try {
        auto lease = impl_->readers->acquire();
        key = lease->st.find_api_key(digest);
    } catch (const std::exception& e) {
        return tl::unexpected(storage_error(e));
    }
    std::lock_guard lock(impl_->remembered_keys_mutex);
    if (!key) {
        impl_->remembered_keys.erase(digest);
    } else {
        // A deployment has a handful of keys; only keys that exist are remembered, so this
        // bound is never reached unless keys are created by the thousand.
        if (impl_->remembered_keys.size() >= 10'000) {
            impl_->remembered_keys.clear();
        }
        impl_->remembered_keys.insert_or_assign(digest, *key);
    }
    return key;
}

std::optional<api_key> ledger::remembered_api_key(const std::string& secret) const {
    std::string digest = program::sha256_hex(secret);
    std::lock_guard lock(impl_->remembered_keys_mutex);
    auto it = impl_->remembered_keys.find(digest);
    if (it == impl_->remembered_keys.end()) {
        return std::nullopt;
    }
    return it->second;
}

void ledger::impl::forget_key(const std::string& id) const {
    std::lock_guard lock(remembered_keys_mutex);
    std::erase_if(remembered_keys, [&](const auto& entry) { return entry.second.id == id; });
}

std::string to_string(error_code code) {
    switch (code) {
    case error_code::invalid_request:
        return "invalid_request";
    case error_code::not_found:
        return "not_found";
    case error_code::already_exists:
        return "already_exists";
    case error_code::idempotency_conflict:
        return "idempotency_conflict";
    case error_code::rejected:
        return "rejected";
    case error_code::invalid_program:
        return "invalid_program";
    case error_code::unavailable:
        return "unavailable";
    case error_code::storage_failure:
        return "storage_failure";
    case error_code::unauthorized:
        return "unauthorized";
    }
    return "unknown";
}

nlohmann::json to_json(const member_view& v, const program::program& p) {
    nlohmann::json vouchers = nlohmann::json::array();
    for (const engine::voucher& x : v.vouchers) {
        vouchers.push_back({{"id", x.id},
                            {"reward_id", x.reward_id},
                            {"issued_at", time_text(x.issued_at)},
                            {"valid_until", time_text(x.valid_until)},
                            {"cause", x.cause}});
    }
    const program::tier_level* tier = p.tiers.find(v.tier.tier);
    nlohmann::json keep = nullptr;
    if (v.keep_tier) {
        keep = {{"threshold", v.keep_tier->threshold},
                {"metric_at_end", v.keep_tier->metric_at_end},
                {"needed", v.keep_tier->needed}};
    }
    nlohmann::json next = nullptr;
    if (v.next_tier) {
        const program::tier_level* level = p.tiers.find(v.next_tier->tier);
        next = {{"tier", v.next_tier->tier},
                {"name", level != nullptr ? level->name : v.next_tier->tier},
                {"threshold", v.next_tier->threshold},
                {"needed", v.next_tier->needed}};
    }
    return {
        {"member_id", v.member_id},
        {"name", optional_value(v.name)},
        {"email", optional_value(v.email)},
        {"enrolled_at", time_text(v.enrolled_at)},
        {"birthday",
         v.birthday ? nlohmann::json(engine::format_date(*v.birthday)) : nlohmann::json(nullptr)},
        {"referred_by", optional_value(v.referred_by)},
        {"unit", p.points.name},
        {"balance",
         {{"available", v.balance.available}, {"owed", v.owed}, {"pending", v.balance.pending}}},
        {"next_expiry",
         {{"points", optional_value(v.next_expiring_points)},
          {"at", optional_time(v.next_expiry)}}},
        {"next_available",
         {{"points", optional_value(v.next_available_points)},
          {"at", optional_time(v.next_available)}}},
        {"tier",
         {{"id", v.tier.tier},
          {"name", tier != nullptr ? tier->name : v.tier.tier},
          {"since", time_text(v.tier.since)},
          {"valid_until", optional_time(v.tier.valid_until)},
          {"metric", v.metric},
          {"next", next},
          {"keep", keep}}},
        {"vouchers", vouchers},
        {"lifetime",
         {{"points", v.lifetime_points},
          {"purchases", v.lifetime_purchases},
          {"spend", v.lifetime_spend}}},
        {"revision", v.revision}};
}

std::string to_json_text(const member_view& v, const program::program& p) {
    // Keys in the order nlohmann's sorted objects dump them.
    engine::json_writer w;
    w.reserve(640);
    auto optional_text = [&](const std::optional<std::string>& s) -> engine::json_writer& {
        return s ? w.value(*s) : w.null();
    };
    auto optional_time_text = [&](const std::optional<timestamp>& t) -> engine::json_writer& {
        return t ? w.value(time_text(*t)) : w.null();
    };
    w.begin_object();
    w.key("balance")
        .begin_object()
        .field("available", v.balance.available)
        .field("owed", v.owed)
        .field("pending", v.balance.pending)
        .end_object();
    w.key("birthday");
    if (v.birthday) {
        w.value(engine::format_date(*v.birthday));
    } else {
        w.null();
    }
    w.key("email");
    optional_text(v.email);
    w.field("enrolled_at", time_text(v.enrolled_at));
    w.key("lifetime")
        .begin_object()
        .field("points", v.lifetime_points)
        .field("purchases", v.lifetime_purchases)
        .field("spend", v.lifetime_spend)
        .end_object();
    w.field("member_id", v.member_id);
    w.key("name");
    optional_text(v.name);
    // {"at": ..., "points": ...}, each null when there is none.
    auto points_at = [&](const char* key, const std::optional<timestamp>& at,
                         const std::optional<engine::points_t>& points) {
        w.key(key).begin_object().key("at");
        optional_time_text(at);
        w.key("points");
        if (points) {
            w.value(*points);
        } else {
            w.null();
        }
        w.end_object();
    };
    points_at("next_available", v.next_available, v.next_available_points);
    points_at("next_expiry", v.next_expiry, v.next_expiring_points);
    w.key("referred_by");
    optional_text(v.referred_by);
    w.field("revision", v.revision);
    const program::tier_level* tier = p.tiers.find(v.tier.tier);
    w.key("tier").begin_object().field("id", v.tier.tier).key("keep");
    if (v.keep_tier) {
        w.begin_object()
            .field("metric_at_end", v.keep_tier->metric_at_end)
            .field("needed", v.keep_tier->needed)
            .field("threshold", v.keep_tier->threshold)
            .end_object();
    } else {
        w.null();
    }
    w.field("metric", v.metric).field("name", tier != nullptr ? tier->name : v.tier.tier);
    w.key("next");
    if (v.next_tier) {
        const program::tier_level* level = p.tiers.find(v.next_tier->tier);
        w.begin_object()
            .field("name", level != nullptr ? level->name : v.next_tier->tier)
            .field("needed", v.next_tier->needed)
            .field("threshold", v.next_tier->threshold)
            .field("tier", v.next_tier->tier)
            .end_object();
    } else {
        w.null();
    }
    w.field("since", time_text(v.tier.since)).key("valid_until");
    optional_time_text(v.tier.valid_until);
    w.end_object();
    w.field("unit", p.points.name);
    w.key("vouchers").begin_array();
    for (const engine::voucher& x : v.vouchers) {
        w.begin_object()
            .field("cause", x.cause)
            .field("id", x.id)
            .field("issued_at", time_text(x.issued_at))
            .field("reward_id", x.reward_id)
            .field("valid_until", time_text(x.valid_until))
            .end_object();
    }
    w.end_array();
    w.end_object();
    return std::move(w).text();
}

std::string_view voucher_status(const engine::voucher& v, timestamp as_of) {
    if (v.redeemed) {
        return "used";
    }
    if (v.cancelled) {
        return "cancelled";
    }
    return as_of < v.valid_until ? "usable" : "expired";
}

namespace {

nlohmann::json text_or_null(const std::string& text) {
    return text.empty() ? nlohmann::json(nullptr) : nlohmann::json(text);
}

} // namespace

nlohmann::json to_json(const voucher_history& h) {
    nlohmann::json vouchers = nlohmann::json::array();
    for (const engine::voucher& x : h.vouchers) {
        vouchers.push_back({{"id", x.id},
                            {"reward_id", x.reward_id},
                            {"cause", x.cause},
                            {"issued_at", time_text(x.issued_at)},
                            {"valid_until", time_text(x.valid_until)},
                            {"status", voucher_status(x, h.as_of)},
                            {"used_at", optional_time(x.used_at)},
                            {"transaction_id", text_or_null(x.used_transaction_id)},
                            {"store_id", text_or_null(x.used_store_id)}});
    }
    return {{"member_id", h.member_id}, {"as_of", time_text(h.as_of)}, {"vouchers", vouchers}};
}

nlohmann::json to_json(const activation_page& page) {
    nlohmann::json out = nlohmann::json::array();
    for (const program_activation& a : page.activations) {
        out.push_back({{"at", time_text(a.at)},
                       {"actor", a.actor},
                       {"actor_name", optional_value(a.actor_name)},
                       {"version_id", a.version_id},
                       {"content_hash", a.content_hash},
                       {"name", a.name},
                       {"active", a.active}});
    }
    return {{"activations", out}, {"next_cursor", cursor_value(page.next_cursor)}};
}

nlohmann::json to_json(const program_version_text& v) {
    return {{"id", v.id},         {"content_hash", v.content_hash},
            {"name", v.name},     {"format", v.format},
            {"source", v.source}, {"created_at", time_text(v.created_at)}};
}

nlohmann::json to_json(const tier_history_page& h, const program::program& p) {
    auto tier = [&](const std::string& id) -> nlohmann::json {
        const program::tier_level* t = p.tiers.find(id);
        return {{"id", id}, {"name", t != nullptr ? t->name : id}};
    };
    nlohmann::json changes = nlohmann::json::array();
    for (const tier_history_entry& c : h.changes) {
        std::string direction = "joined";
        if (c.before) {
            auto from = p.tiers.index_of(*c.before);
            auto to = p.tiers.index_of(c.after);
            direction = !from || !to  ? "changed"
                        : *to > *from ? "up"
                        : *to < *from ? "down"
                                      : "changed";
        }
        changes.push_back({{"at", time_text(c.at)},
                           {"before", c.before ? tier(*c.before) : nlohmann::json(nullptr)},
                           {"after", tier(c.after)},
                           {"direction", direction},
                           {"metric", c.metric},
                           {"operation", c.operation},
                           {"operation_id", c.operation_id}});
    }
    return {{"member_id", h.member_id}, {"changes", changes}};
}

nlohmann::json to_json(const audit_page& page) {
    nlohmann::json entries = nlohmann::json::array();
    for (const audit_entry& e : page.entries) {
        // The request as stored is JSON; shown as an object, or as text if it ever is not.
        auto detail = nlohmann::json::parse(e.detail, nullptr, false);
        entries.push_back({{"id", e.id},
                           {"at", time_text(e.at)},
                           {"actor", e.actor},
                           {"actor_name", optional_value(e.actor_name)},
                           {"role", e.role},
                           {"action", e.action},
                           {"reason", optional_value(e.reason)},
                           {"request", detail.is_discarded() ? nlohmann::json(e.detail) : detail}});
    }
    return {{"entries", entries}, {"next_cursor", cursor_value(page.next_cursor)}};
}

nlohmann::json to_json(const activity_page& page) {
    nlohmann::json entries = nlohmann::json::array();
    for (const activity_entry& e : page.entries) {
        entries.push_back({{"id", e.id},
                           {"at", time_text(e.at)},
                           {"kind", engine::to_string(e.kind)},
                           {"points", e.points},
                           {"lot_id", optional_value(e.lot_id)},
                           {"pending", e.pending},
                           {"cause", e.cause},
                           {"explanation", e.explanation},
                           {"operation", e.operation},
                           {"operation_id", e.operation_id},
                           {"actor", e.actor},
                           {"actor_name", optional_value(e.actor_name)}});
    }
    return {{"entries", entries}, {"next_cursor", cursor_value(page.next_cursor)}};
}

} // namespace loyalty::ledger
