#include "store.hpp"

#include "loyalty/engine/event_json.hpp"
#include "loyalty/engine/local_time.hpp"
#include "loyalty/engine/state_json.hpp"

#include <openssl/crypto.h>
#include <stdexcept>

namespace loyalty::ledger::detail {
namespace {

std::string purchase_key(const std::string& store_id, const std::string& transaction_id) {
    return store_id + "\n" + transaction_id;
}

// Stored JSON that does not parse is a corrupted database, not a bad request.
template <class T>
T must(tl::expected<T, std::string> parsed, const std::string& what) {
    if (!parsed) {
        throw std::runtime_error("stored " + what + " is unreadable: " + parsed.error());
    }
    return std::move(*parsed);
}

nlohmann::json parse_stored(const std::string& text, const std::string& what) {
    auto j = nlohmann::json::parse(text, nullptr, false);
    if (j.is_discarded()) {
        throw std::runtime_error("stored " + what + " is not JSON");
    }
    return j;
}

bool same_lot(const engine::lot& a, const engine::lot& b) {
    return a.earned == b.earned && a.remaining == b.remaining && a.earned_at == b.earned_at &&
           a.available_at == b.available_at && a.expires_at == b.expires_at && a.cause == b.cause &&
           a.qualifying == b.qualifying && a.matured == b.matured;
}

bool same_voucher(const engine::voucher& a, const engine::voucher& b) {
    return a.reward_id == b.reward_id && a.issued_at == b.issued_at &&
           a.valid_until == b.valid_until && a.cause == b.cause && a.redeemed == b.redeemed &&
           a.cancelled == b.cancelled;
}

std::optional<std::string> optional_time(const std::optional<timestamp>& t) {
    if (!t) {
        return std::nullopt;
    }
    return time_text(*t);
}

} // namespace

std::string time_text(timestamp t) {
    return engine::format_rfc3339(t);
}

timestamp parse_time(const std::string& text) {
    auto t = engine::parse_rfc3339(text);
    if (!t) {
        throw std::runtime_error("stored time is unreadable: " + text);
    }
    return *t;
}

statement& store::cached(const char* sql) {
    auto it = statements_.find(sql);
    if (it == statements_.end()) {
        it = statements_.emplace(sql, db_.prepare(sql)).first;
    }
    it->second.reset();
    return it->second;
}

bool store::member_exists(const std::string& id) {
    statement& s = cached("SELECT 1 FROM members WHERE id = ?");
    s.bind(1, id);
    bool found = s.step();
    s.reset();
    return found;
}

namespace {

// The lot in the current row of a query selecting lot_id, earned, remaining, earned_at,
// available_at, expires_at, cause, qualifying, matured, added to the loaded member.
void add_lot(loaded_member& m, const statement& s) {
    engine::lot l;
    l.id = s.integer(0);
    l.earned = s.integer(1);
    l.remaining = s.integer(2);
    l.earned_at = parse_time(s.text(3));
    l.available_at = parse_time(s.text(4));
    if (auto e = s.optional_text(5)) {
        l.expires_at = parse_time(*e);
    }
    l.cause = s.text(6);
    l.qualifying = s.integer(7) != 0;
    l.matured = s.integer(8) != 0;
    m.lots.emplace(l.id, l);
    m.state.lots.push_back(l);
}

} // namespace

std::optional<loaded_member> store::load_member(const std::string& id) {
    loaded_member m;
    {
        statement& s =
            cached("SELECT name, email, state, revision, due_at FROM members WHERE id = ?");
        s.bind(1, id);
        if (!s.step()) {
            s.reset();
            return std::nullopt;
        }
        m.name = s.optional_text(0);
        m.email = s.optional_text(1);
        m.state =
            must(engine::state_from_json(parse_stored(s.text(2), "member " + id)), "member " + id);
        m.revision = s.integer(3);
        m.due_at = s.optional_text(4);
        s.reset();
    }
    {
        statement& s =
            cached("SELECT lot_id, earned, remaining, earned_at, available_at, expires_at, cause,"
                   " qualifying, matured FROM lots WHERE member_id = ? AND remaining <> 0"
                   " ORDER BY lot_id");
        s.bind(1, id);
        while (s.step()) {
            add_lot(m, s);
        }
        s.reset();
    }
    {
        statement& s =
            cached("SELECT id, reward_id, issued_at, valid_until, cause, redeemed,"
                   " cancelled FROM vouchers WHERE member_id = ? ORDER BY issued_at, id");
        s.bind(1, id);
        while (s.step()) {
            engine::voucher v;
            v.id = s.text(0);
            v.reward_id = s.text(1);
            v.issued_at = parse_time(s.text(2));
            v.valid_until = parse_time(s.text(3));
            v.cause = s.text(4);
            v.redeemed = s.integer(5) != 0;
            v.cancelled = s.integer(6) != 0;
            m.vouchers.emplace(v.id, v);
            m.state.vouchers.push_back(v);
        }
        s.reset();
    }
    {
        // Budgets are program-wide: the member carries the current totals into the engine.
        statement& s = cached("SELECT rule_id, points_used FROM rule_budgets");
        m.state.budget_used.clear();
        while (s.step()) {
            m.state.budget_used[s.text(0)] = s.integer(1);
        }
        s.reset();
    }
    return m;
}

namespace {

// Lots a record refers to that are not open any more (fully spent), so the engine sees them.
void load_lot_ids(store& st, loaded_member& m, const std::vector<std::int64_t>& ids) {
    for (std::int64_t lot_id : ids) {
        if (m.lots.count(lot_id) != 0) {
            continue;
        }
        statement s = st.db().prepare(
            "SELECT lot_id, earned, remaining, earned_at, available_at, expires_at, cause,"
            " qualifying, matured FROM lots WHERE member_id = ? AND lot_id = ?");
        s.bind(1, m.state.id).bind(2, lot_id);
        if (s.step()) {
            add_lot(m, s);
        }
    }
}

} // namespace

std::optional<std::string> store::purchase_member(const std::string& store_id,
                                                  const std::string& transaction_id) {
    statement& s =
        cached("SELECT member_id FROM purchases WHERE store_id = ? AND transaction_id = ?");
    s.bind(1, store_id).bind(2, transaction_id);
    std::optional<std::string> member;
    if (s.step()) {
        member = s.text(0);
    }
    s.reset();
    return member;
}

void store::load_purchase(loaded_member& m, const std::string& store_id,
                          const std::string& transaction_id) {
    statement& s = cached("SELECT record FROM purchases WHERE store_id = ? AND transaction_id = ?");
    s.bind(1, store_id).bind(2, transaction_id);
    if (!s.step()) {
        s.reset();
        return;
    }
    std::string text = s.text(0);
    s.reset();
    auto record = must(engine::purchase_record_from_json(parse_stored(text, "purchase")),
                       "purchase " + transaction_id);
    std::vector<std::int64_t> lot_ids;
    for (const auto& a : record.awards) {
        lot_ids.push_back(a.lot_id);
    }
    load_lot_ids(*this, m, lot_ids);
    m.purchases.emplace(purchase_key(store_id, transaction_id), text);
    m.state.purchases.push_back(std::move(record));
}

std::optional<engine::money_t> store::purchase_total(const std::string& member_id,
                                                     const std::string& transaction_id) {
    statement& s = cached("SELECT record FROM purchases WHERE member_id = ? AND transaction_id = ?"
                          " ORDER BY occurred_at DESC LIMIT 1");
    s.bind(1, member_id).bind(2, transaction_id);
    std::optional<std::string> text;
    if (s.step()) {
        text = s.text(0);
    }
    s.reset();
    if (!text) {
        return std::nullopt;
    }
    auto record = must(engine::purchase_record_from_json(parse_stored(*text, "purchase")),
                       "purchase " + transaction_id);
    engine::money_t total = 0;
    for (const auto& line : record.request.lines) {
        total += line.amount();
    }
    return total;
}

std::optional<std::string> store::redemption_member(const std::string& redemption_id) {
    statement& s = cached("SELECT member_id FROM redemptions WHERE redemption_id = ?");
    s.bind(1, redemption_id);
    std::optional<std::string> member;
    if (s.step()) {
        member = s.text(0);
    }
    s.reset();
    return member;
}

void store::load_redemption(loaded_member& m, const std::string& redemption_id) {
    statement& s = cached("SELECT record FROM redemptions WHERE redemption_id = ?");
    s.bind(1, redemption_id);
    if (!s.step()) {
        s.reset();
        return;
    }
    std::string text = s.text(0);
    s.reset();
    auto record = must(engine::redemption_record_from_json(parse_stored(text, "redemption")),
                       "redemption " + redemption_id);
    std::vector<std::int64_t> lot_ids;
    for (const auto& d : record.draws) {
        lot_ids.push_back(d.lot_id);
    }
    load_lot_ids(*this, m, lot_ids);
    m.redemptions.emplace(redemption_id, text);
    m.state.redemptions.push_back(std::move(record));
}

std::int64_t store::save(const operation_record& op, const loaded_member& before,
                         const engine::outcome& after) {
    const engine::member_state& s = after.state;
    std::string at = time_text(op.at);

    // The member row holds the state without what has its own tables.
    engine::member_state core = s;
    core.lots.clear();
    core.vouchers.clear();
    core.purchases.clear();
    core.redemptions.clear();
    core.budget_used.clear();
    cached("INSERT INTO members (id, name, email, enrolled_at, tier, tier_since, tier_valid_until,"
           " state, revision, updated_at, due_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 1, ?9,"
           " ?10) ON CONFLICT (id) DO UPDATE SET tier = ?5, tier_since = ?6,"
           " tier_valid_until = ?7, state = ?8, revision = revision + 1, updated_at = ?9")
        .bind(1, s.id)
        .bind(2, before.name)
        .bind(3, before.email)
        .bind(4, time_text(s.enrolled_at))
        .bind(5, s.tier.tier)
        .bind(6, time_text(s.tier.since))
        .bind(7, optional_time(s.tier.valid_until))
        .bind(8, engine::state_to_json(core).dump())
        .bind(9, at)
        .bind(10, optional_time(op.due_at))
        .run();
    // An existing member's `due_at` is written only when it moves: an index entry deleted and
    // put back unchanged is one more random page in the WAL and at the checkpoint, and most
    // purchases leave the next due time where it was (an earlier pending lot matures first).
    if (before.revision != 0 && before.due_at != optional_time(op.due_at)) {
        set_due(s.id, op.due_at);
    }

    // After the member row: an enrollment's operation refers to it.
    cached("INSERT INTO operations (kind, member_id, program_version_id, request, outcome, actor,"
           " request_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)")
        .bind(1, op.kind)
        .bind(2, op.member_id)
        .bind(3, op.program_version_id)
        .bind(4, op.request)
        .bind(5, op.outcome)
        .bind(6, op.actor)
        .bind(7, op.request_id)
        .bind(8, at)
        .run();
    std::int64_t operation_id = db_.last_insert_rowid();

    for (const engine::lot& l : s.lots) {
        auto old = before.lots.find(l.id);
        if (old != before.lots.end() && same_lot(old->second, l)) {
            continue;
        }
        cached("INSERT INTO lots (member_id, lot_id, earned, remaining, earned_at, available_at,"
               " expires_at, cause, qualifying, matured) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8,"
               " ?9, ?10) ON CONFLICT (member_id, lot_id) DO UPDATE SET remaining = ?4,"
               " expires_at = ?7, matured = ?10")
            .bind(1, s.id)
            .bind(2, l.id)
            .bind(3, l.earned)
            .bind(4, l.remaining)
            .bind(5, time_text(l.earned_at))
            .bind(6, time_text(l.available_at))
            .bind(7, optional_time(l.expires_at))
            .bind(8, l.cause)
            .bind(9, l.qualifying)
            .bind(10, l.matured)
            .run();
    }

    for (const engine::voucher& v : s.vouchers) {
        auto old = before.vouchers.find(v.id);
        if (old != before.vouchers.end() && same_voucher(old->second, v)) {
            continue;
        }
        cached("INSERT INTO vouchers (id, member_id, reward_id, issued_at, valid_until, cause,"
               " redeemed, cancelled) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"
               " ON CONFLICT (id) DO UPDATE SET redeemed = ?7, cancelled = ?8"
               " WHERE member_id = ?2")
            .bind(1, v.id)
            .bind(2, s.id)
            .bind(3, v.reward_id)
            .bind(4, time_text(v.issued_at))
            .bind(5, time_text(v.valid_until))
            .bind(6, v.cause)
            .bind(7, v.redeemed)
            .bind(8, v.cancelled)
            .run();
    }

    for (const engine::purchase_record& r : s.purchases) {
        std::string key = purchase_key(r.request.store_id, r.request.transaction_id);
        std::string text = engine::purchase_record_to_json(r).dump();
        auto old = before.purchases.find(key);
        if (old == before.purchases.end()) {
            cached("INSERT INTO purchases (store_id, transaction_id, member_id, operation_id,"
                   " occurred_at, record) VALUES (?, ?, ?, ?, ?, ?)")
                .bind(1, r.request.store_id)
                .bind(2, r.request.transaction_id)
                .bind(3, s.id)
                .bind(4, operation_id)
                .bind(5, time_text(r.request.occurred_at))
                .bind(6, text)
                .run();
        } else if (old->second != text) {
            cached("UPDATE purchases SET record = ? WHERE store_id = ? AND transaction_id = ?")
                .bind(1, text)
                .bind(2, r.request.store_id)
                .bind(3, r.request.transaction_id)
                .run();
        }
    }

    for (const engine::redemption_record& r : s.redemptions) {
        std::string text = engine::redemption_record_to_json(r).dump();
        auto old = before.redemptions.find(r.redemption_id);
        if (old == before.redemptions.end()) {
            cached("INSERT INTO redemptions (redemption_id, member_id, reward_id, points,"
                   " cancelled, operation_id, record) VALUES (?, ?, ?, ?, ?, ?, ?)")
                .bind(1, r.redemption_id)
                .bind(2, s.id)
                .bind(3, r.reward_id.empty() ? std::optional<std::string>()
                                             : std::optional<std::string>(r.reward_id))
                .bind(4, r.points)
                .bind(5, r.cancelled)
                .bind(6, operation_id)
                .bind(7, text)
                .run();
        } else if (old->second != text) {
            cached("UPDATE redemptions SET record = ?, cancelled = ? WHERE redemption_id = ?")
                .bind(1, text)
                .bind(2, r.cancelled)
                .bind(3, r.redemption_id)
                .run();
        }
    }

    for (const engine::movement& mv : after.movements) {
        cached("INSERT INTO ledger_entries (member_id, operation_id, at, kind, points, lot_id,"
               " pending, cause, explanation) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")
            .bind(1, s.id)
            .bind(2, operation_id)
            .bind(3, at)
            .bind(4, engine::to_string(mv.kind))
            .bind(5, mv.points)
            .bind(6, mv.lot_id == 0 ? std::optional<std::int64_t>() : mv.lot_id)
            .bind(7, mv.pending)
            .bind(8, mv.cause)
            .bind(9, mv.explanation)
            .run();
    }

    if (after.tier.changed || before.revision == 0) {
        cached("INSERT INTO tier_history (member_id, at, tier_before, tier_after, metric,"
               " operation_id) VALUES (?, ?, ?, ?, ?, ?)")
            .bind(1, s.id)
            .bind(2, at)
            .bind(3, before.revision == 0 ? std::optional<std::string>()
                                          : std::optional<std::string>(after.tier.before))
            .bind(4, after.tier.after)
            .bind(5, after.tier.metric)
            .bind(6, operation_id)
            .run();
    }

    for (const auto& [rule_id, used] : s.budget_used) {
        auto old = before.state.budget_used.find(rule_id);
        if (old != before.state.budget_used.end() && old->second == used) {
            continue;
        }
        cached("INSERT INTO rule_budgets (rule_id, points_used) VALUES (?1, ?2)"
               " ON CONFLICT (rule_id) DO UPDATE SET points_used = ?2")
            .bind(1, rule_id)
            .bind(2, used)
            .run();
    }
    return operation_id;
}

void store::insert_return(const std::string& return_id, const std::string& store_id,
                          const std::string& transaction_id, const std::string& member_id,
                          std::int64_t operation_id) {
    cached("INSERT INTO returns (return_id, store_id, transaction_id, member_id, operation_id)"
           " VALUES (?, ?, ?, ?, ?)")
        .bind(1, return_id)
        .bind(2, store_id)
        .bind(3, transaction_id)
        .bind(4, member_id)
        .bind(5, operation_id)
        .run();
}

void store::insert_event(const std::string& event_id, const std::string& member_id,
                         const std::string& type, std::int64_t operation_id) {
    cached("INSERT INTO events (event_id, member_id, type, operation_id) VALUES (?, ?, ?, ?)")
        .bind(1, event_id)
        .bind(2, member_id)
        .bind(3, type)
        .bind(4, operation_id)
        .run();
}

void store::insert_adjustment(const engine::adjustment& a, const std::string& member_id,
                              std::int64_t operation_id) {
    cached("INSERT INTO adjustments (adjustment_id, member_id, points, reason, note, actor,"
           " operation_id) VALUES (?, ?, ?, ?, ?, ?, ?)")
        .bind(1, a.adjustment_id)
        .bind(2, member_id)
        .bind(3, a.points)
        .bind(4, a.reason)
        .bind(5, a.note)
        .bind(6, a.actor)
        .bind(7, operation_id)
        .run();
}

namespace {

bool exists(statement& s, const std::string& id) {
    s.bind(1, id);
    bool found = s.step();
    s.reset();
    return found;
}

} // namespace

bool store::event_exists(const std::string& event_id) {
    return exists(cached("SELECT 1 FROM events WHERE event_id = ?"), event_id);
}

bool store::adjustment_exists(const std::string& adjustment_id) {
    return exists(cached("SELECT 1 FROM adjustments WHERE adjustment_id = ?"), adjustment_id);
}

bool store::return_exists(const std::string& return_id) {
    return exists(cached("SELECT 1 FROM returns WHERE return_id = ?"), return_id);
}

void store::audit(timestamp at, const std::string& actor, const std::string& role,
                  const std::string& action, const std::optional<std::string>& member_id,
                  const std::optional<std::string>& reason, const std::string& detail) {
    cached("INSERT INTO audit_log (at, actor, role, action, member_id, reason, detail)"
           " VALUES (?, ?, ?, ?, ?, ?, ?)")
        .bind(1, time_text(at))
        .bind(2, actor)
        .bind(3, role)
        .bind(4, action)
        .bind(5, member_id)
        .bind(6, reason)
        .bind(7, detail)
        .run();
}

std::optional<idempotency_record> store::find_idempotency(const std::string& key) {
    statement& s =
        cached("SELECT request_hash, status, response FROM idempotency_keys WHERE key = ?");
    s.bind(1, key);
    std::optional<idempotency_record> found;
    if (s.step()) {
        found = idempotency_record{s.text(0), static_cast<int>(s.integer(1)), s.text(2)};
    }
    s.reset();
    return found;
}

void store::save_idempotency(const std::string& key, const idempotency_record& r,
                             std::int64_t operation_id, timestamp at) {
    cached("INSERT INTO idempotency_keys (key, request_hash, status, response, operation_id,"
           " created_at) VALUES (?, ?, ?, ?, ?, ?)")
        .bind(1, key)
        .bind(2, r.request_hash)
        .bind(3, r.status)
        .bind(4, r.response)
        .bind(5, operation_id)
        .bind(6, time_text(at))
        .run();
}

int store::expire_idempotency(timestamp before) {
    cached("DELETE FROM idempotency_keys WHERE created_at < ?").bind(1, time_text(before)).run();
    return db_.changes();
}

namespace {

stored_program read_program(statement& s) {
    return {s.integer(0), s.text(1), s.text(2), s.text(3), s.text(4), s.optional_text(5)};
}

} // namespace

std::optional<stored_program> store::active_program() {
    statement& s = cached("SELECT id, content_hash, name, format, source, activated_at"
                          " FROM program_versions WHERE activated_at IS NOT NULL"
                          " ORDER BY activated_at DESC, id DESC LIMIT 1");
    std::optional<stored_program> found;
    if (s.step()) {
        found = read_program(s);
    }
    s.reset();
    return found;
}

std::optional<stored_program> store::program_by_hash(const std::string& hash) {
    statement& s = cached("SELECT id, content_hash, name, format, source, activated_at"
                          " FROM program_versions WHERE content_hash = ?");
    s.bind(1, hash);
    std::optional<stored_program> found;
    if (s.step()) {
        found = read_program(s);
    }
    s.reset();
    return found;
}

std::int64_t store::insert_program(const std::string& hash, const std::string& name,
                                   const std::string& format, const std::string& source,
                                   timestamp at) {
    cached("INSERT INTO program_versions (content_hash, name, format, source, created_at)"
           " VALUES (?, ?, ?, ?, ?)")
        .bind(1, hash)
        .bind(2, name)
        .bind(3, format)
        .bind(4, source)
        .bind(5, time_text(at))
        .run();
    return db_.last_insert_rowid();
}

void store::activate_program(std::int64_t id, timestamp at, const std::string& actor) {
    cached("UPDATE program_versions SET activated_at = ?, activated_by = ? WHERE id = ?")
        .bind(1, time_text(at))
        .bind(2, actor)
        .bind(3, id)
        .run();
}

std::vector<store::due_key> store::due_members(timestamp now, const due_key& after,
                                               std::size_t limit) {
    statement& s = cached("SELECT due_at, id FROM members INDEXED BY members_due"
                          " WHERE due_at IS NOT NULL AND due_at <= ?1 AND (due_at, id) > (?2, ?3)"
                          " ORDER BY due_at, id LIMIT ?4");
    s.bind(1, time_text(now))
        .bind(2, after.first)
        .bind(3, after.second)
        .bind(4, static_cast<std::int64_t>(limit));
    std::vector<due_key> ids;
    while (s.step()) {
        ids.emplace_back(s.text(0), s.text(1));
    }
    s.reset();
    return ids;
}

void store::make_everyone_due(timestamp at) {
    cached("UPDATE members SET due_at = ?").bind(1, time_text(at)).run();
}

void store::set_due(const std::string& member_id, std::optional<timestamp> due_at) {
    cached("UPDATE members SET due_at = ? WHERE id = ?")
        .bind(1, optional_time(due_at))
        .bind(2, member_id)
        .run();
}

std::optional<api_key> store::find_api_key(const std::string& key_hash) {
    // The secret itself is never stored nor compared: only its SHA-256. The index finds the
    // row by the digest (its timing can tell at most how much of a digest matched, which does
    // not help to find a secret with that digest), and the digests are then compared in
    // constant time, so no comparison of ours depends on where two values differ.
    statement& s = cached("SELECT id, role, store_id, name, created_at, key_hash FROM api_keys"
                          " WHERE key_hash = ? AND revoked_at IS NULL");
    s.bind(1, key_hash);
    std::optional<api_key> found;
    if (s.step()) {
        std::string stored = s.text(5);
        if (stored.size() != key_hash.size() ||
            CRYPTO_memcmp(stored.data(), key_hash.data(), key_hash.size()) != 0) {
            s.reset();
            return std::nullopt;
        }
        auto r = parse_role(s.text(1));
        if (!r) {
            throw std::runtime_error("stored key " + s.text(0) + " has no known role");
        }
        found = api_key{s.text(0),   *r, s.optional_text(2), s.text(3), parse_time(s.text(4)),
                        std::nullopt};
    }
    s.reset();
    return found;
}

activity_page store::activity(const std::string& member_id, std::size_t limit,
                              std::optional<std::int64_t> before_entry) {
    statement& s =
        cached("SELECT e.id, e.at, e.kind, e.points, e.lot_id, e.pending, e.cause, e.explanation,"
               " o.kind, o.id FROM ledger_entries e JOIN operations o ON o.id = e.operation_id"
               " WHERE e.member_id = ? AND e.id < ? ORDER BY e.id DESC LIMIT ?");
    s.bind(1, member_id)
        .bind(2, before_entry.value_or(std::numeric_limits<std::int64_t>::max()))
        .bind(3, static_cast<std::int64_t>(limit) + 1);
    activity_page page;
    while (s.step()) {
        if (page.entries.size() == limit) {
            page.next_cursor = page.entries.back().id;
            break;
        }
        activity_entry e;
        e.id = s.integer(0);
        e.at = parse_time(s.text(1));
        std::string kind = s.text(2);
        for (auto k : {engine::movement_kind::earn, engine::movement_kind::mature,
                       engine::movement_kind::burn, engine::movement_kind::expire,
                       engine::movement_kind::reverse, engine::movement_kind::adjust}) {
            if (engine::to_string(k) == kind) {
                e.kind = k;
            }
        }
        e.points = s.integer(3);
        e.lot_id = s.optional_integer(4);
        e.pending = s.integer(5) != 0;
        e.cause = s.text(6);
        e.explanation = s.text(7);
        e.operation = s.text(8);
        e.operation_id = s.integer(9);
        page.entries.push_back(std::move(e));
    }
    s.reset();
    return page;
}

} // namespace loyalty::ledger::detail
