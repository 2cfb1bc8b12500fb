#include "store.hpp"

#include "loyalty/engine/event_json.hpp"
#include "loyalty/engine/local_time.hpp"
#include "loyalty/engine/state_json.hpp"
#include "member_record.hpp"
#include "stored_answer.hpp"

#include <limits>
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

} // namespace

tl::expected<engine::purchase_record, std::string>
read_purchase_record(const std::string& record, const std::string& operation_request) {
    auto j = nlohmann::json::parse(record, nullptr, false);
    if (!j.is_object()) {
        return tl::unexpected(std::string("the record is not a JSON object"));
    }
    if (!j.contains("request")) {
        auto request = nlohmann::json::parse(operation_request, nullptr, false);
        if (!request.is_object()) {
            return tl::unexpected(std::string("the operation's request is not a JSON object"));
        }
        j["request"] = std::move(request);
    }
    return engine::purchase_record_from_json(j);
}

namespace {

// A ledger entry's kind as stored; the table's CHECK admits no other.
engine::movement_kind movement_kind_of(const std::string& text) {
    for (auto k : {engine::movement_kind::earn, engine::movement_kind::mature,
                   engine::movement_kind::burn, engine::movement_kind::expire,
                   engine::movement_kind::reverse, engine::movement_kind::adjust}) {
        if (engine::to_string(k) == text) {
            return k;
        }
    }
    throw std::runtime_error("a ledger entry of unknown kind " + text);
}

// A page read with one row more than `limit` (LIMIT limit + 1) to learn whether there is a next
// page: drops that row, and returns the cursor of the next page (the last kept row's id), if any.
template <typename Row>
std::optional<std::int64_t> close_page(std::vector<Row>& rows, std::size_t limit) {
    if (rows.size() <= limit) {
        return std::nullopt;
    }
    rows.resize(limit);
    return rows.back().id;
}

bool same_lot(const engine::lot& a, const engine::lot& b) {
    return a.earned == b.earned && a.remaining == b.remaining && a.earned_at == b.earned_at &&
           a.available_at == b.available_at && a.expires_at == b.expires_at && a.cause == b.cause &&
           a.qualifying == b.qualifying && a.matured == b.matured &&
           a.expired_points == b.expired_points;
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

engine::lot read_lot(const statement& s) {
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
    l.expired_points = s.integer(9);
    return l;
}

void store::begin_read() {
    cached("BEGIN").run();
}

void store::end_read() noexcept {
    try {
        cached("COMMIT").run();
    } catch (const std::exception&) {
        // A read-only transaction has nothing to lose.
    }
}

namespace {

constexpr const char* member_columns =
    "name, email, enrolled_at, tier, tier_since, tier_valid_until, state, revision, due_at,"
    " due_entry, due_entry_at, last_entry_id";

} // namespace

void store::read_member_row(const std::string& id, const statement& s, int first,
                            loaded_member& m) {
    m.name = s.optional_text(first);
    m.email = s.optional_text(first + 1);
    m.state.id = id;
    m.state.enrolled_at = parse_time(s.text(first + 2));
    m.state.tier.tier = s.text(first + 3);
    m.state.tier.since = parse_time(s.text(first + 4));
    if (auto until = s.optional_text(first + 5)) {
        m.state.tier.valid_until = parse_time(*until);
    }
    m.record = s.blob(first + 6);
    m.revision = s.integer(first + 7);
    m.due_at = s.optional_text(first + 8);
    m.due_entry = s.optional_integer(first + 9);
    m.due_entry_at = s.optional_text(first + 10);
    m.last_entry_id = s.optional_integer(first + 11);
    if (auto decoded = decode_member_record(m.record, m.state); !decoded) {
        throw std::runtime_error("stored member " + id + " is unreadable: " + decoded.error());
    }
}

void store::load_vouchers(loaded_member& m) {
    m.state.vouchers = vouchers_of(m.state.id);
    for (const engine::voucher& v : m.state.vouchers) {
        m.vouchers.emplace(v.id, v);
    }
}

std::vector<engine::voucher> store::vouchers_of(const std::string& member_id) {
    statement& s = cached("SELECT id, reward_id, issued_at, valid_until, cause, redeemed,"
                          " cancelled, used_at, used_transaction_id, used_store_id FROM vouchers"
                          " WHERE member_id = ? ORDER BY issued_at, id");
    s.bind(1, member_id);
    std::vector<engine::voucher> out;
    while (s.step()) {
        engine::voucher v;
        v.id = s.text(0);
        v.reward_id = s.text(1);
        v.issued_at = parse_time(s.text(2));
        v.valid_until = parse_time(s.text(3));
        v.cause = s.text(4);
        v.redeemed = s.integer(5) != 0;
        v.cancelled = s.integer(6) != 0;
        if (!s.is_null(7)) {
            v.used_at = parse_time(s.text(7));
        }
        v.used_transaction_id = s.optional_text(8).value_or("");
        v.used_store_id = s.optional_text(9).value_or("");
        out.push_back(std::move(v));
    }
    s.reset();
    return out;
}

std::optional<loaded_member> store::load_member(const std::string& id, bool with_budgets) {
    loaded_member m;
    {
        static const std::string sql =
            std::string("SELECT ") + member_columns + " FROM members WHERE id = ?";
        statement& s = cached(sql.c_str());
        s.bind(1, id);
        if (!s.step()) {
            s.reset();
            return std::nullopt;
        }
        read_member_row(id, s, 0, m);
        s.reset();
    }
    // Voucher numbers start at 1: a member who never had one (most) costs no query.
    if (m.state.next_voucher_number > 1) {
        load_vouchers(m);
    }
    if (with_budgets) {
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

store::member_read store::read_member(const std::string& id,
                                      const std::optional<std::string>& key_id,
                                      bool with_vouchers) {
    // One row whether or not the member exists, so the key is checked either way.
    static const std::string sql =
        std::string("SELECT k.active, m.*") +
        " FROM (SELECT EXISTS (SELECT 1 FROM api_keys"
        " WHERE id = ?2 AND revoked_at IS NULL) AS active) AS k LEFT JOIN (SELECT " +
        member_columns + " FROM members WHERE id = ?1) AS m";
    member_read out;
    statement& s = cached(sql.c_str());
    s.bind(1, id).bind(2, key_id);
    if (!s.step()) {
        s.reset();
        throw std::runtime_error("reading member " + id + " returned no row");
    }
    out.key_active = !key_id || s.integer(0) != 0;
    if (out.key_active && !s.is_null(3)) { // enrolled_at is never null for a member
        loaded_member m;
        read_member_row(id, s, 1, m);
        out.member = std::move(m);
    }
    s.reset();
    if (out.member && out.member->state.next_voucher_number > 1) {
        if (with_vouchers) {
            load_vouchers(*out.member);
        } else {
            out.needs_vouchers = true;
        }
    }
    return out;
}

namespace {

// Lots a record refers to that are closed (archived in `lots`), so the engine sees them.
void load_lot_ids(store& st, loaded_member& m, const std::vector<std::int64_t>& ids) {
    for (std::int64_t lot_id : ids) {
        bool known = m.archived_lots.count(lot_id) != 0 ||
                     std::any_of(m.state.lots.begin(), m.state.lots.end(),
                                 [&](const engine::lot& l) { return l.id == lot_id; });
        if (known) {
            continue;
        }
        statement s = st.db().prepare(
            "SELECT lot_id, earned, remaining, earned_at, available_at, expires_at, cause,"
            " qualifying, matured, expired FROM lots WHERE member_id = ? AND lot_id = ?");
        s.bind(1, m.state.id).bind(2, lot_id);
        if (s.step()) {
            engine::lot l = read_lot(s);
            m.archived_lots.emplace(l.id, l);
            m.state.lots.push_back(std::move(l));
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
    statement& s = cached("SELECT p.record, o.request FROM purchases p"
                          " JOIN operations o ON o.id = p.operation_id"
                          " WHERE p.store_id = ? AND p.transaction_id = ?");
    s.bind(1, store_id).bind(2, transaction_id);
    if (!s.step()) {
        s.reset();
        return;
    }
    std::string text = s.text(0);
    std::string request = s.text(1);
    s.reset();
    auto record = must(read_purchase_record(text, request), "purchase " + transaction_id);
    std::vector<std::int64_t> lot_ids;
    for (const auto& a : record.awards) {
        lot_ids.push_back(a.lot_id);
    }
    load_lot_ids(*this, m, lot_ids);
    m.purchases.emplace(purchase_key(store_id, transaction_id), text);
    m.state.purchases.push_back(std::move(record));
}

std::vector<std::pair<std::string, engine::money_t>>
store::purchase_totals(const std::string& member_id, const std::string& transaction_id,
                       const std::string& store_id) {
    statement& s =
        cached("SELECT p.store_id, p.record, o.request FROM purchases p"
               " JOIN operations o ON o.id = p.operation_id WHERE p.transaction_id = ?2"
               " AND p.member_id = ?1 AND (?3 = '' OR p.store_id = ?3) ORDER BY p.store_id"
               " LIMIT 2");
    s.bind(1, member_id).bind(2, transaction_id).bind(3, store_id);
    struct row {
        std::string store_id, record, request;
    };
    std::vector<row> rows;
    while (s.step()) {
        rows.push_back({s.text(0), s.text(1), s.text(2)});
    }
    s.reset();
    std::vector<std::pair<std::string, engine::money_t>> out;
    for (const auto& [store_id_of, text, request] : rows) {
        auto record = must(read_purchase_record(text, request), "purchase " + transaction_id);
        engine::money_t total = 0;
        for (const auto& line : record.request.lines) {
            total += line.amount();
        }
        out.emplace_back(store_id_of, total);
    }
    return out;
}

store::paid_with_points store::paid_on(const std::string& member_id,
                                       const std::string& transaction_id,
                                       const std::string& store_id) {
    // Payments are redemptions without a reward; where each was made is in its request, what
    // it was worth in its record.
    statement& s = cached("SELECT r.points, o.request, r.record FROM redemptions r"
                          " JOIN operations o ON o.id = r.operation_id"
                          " WHERE r.member_id = ? AND r.reward_id IS NULL AND r.cancelled = 0");
    s.bind(1, member_id);
    paid_with_points paid;
    while (s.step()) {
        auto request = nlohmann::json::parse(s.text(1), nullptr, false);
        if (!request.is_object() || request.value("transaction_id", "") != transaction_id) {
            continue;
        }
        std::string paid_at = request.value("store_id", "");
        if (!store_id.empty() && !paid_at.empty() && paid_at != store_id) {
            continue;
        }
        auto record =
            must(engine::redemption_record_from_json(parse_stored(s.text(2), "redemption")),
                 "redemption");
        if (record.value) {
            paid.value += *record.value;
        } else {
            paid.points += s.integer(0);
        }
    }
    s.reset();
    return paid;
}

std::optional<std::string> store::member_of(const char* sql, const std::string& key) {
    statement& s = cached(sql);
    s.bind(1, key);
    std::optional<std::string> member;
    if (s.step()) {
        member = s.text(0);
    }
    s.reset();
    return member;
}

std::optional<std::string> store::redemption_member(const std::string& redemption_id) {
    return member_of("SELECT member_id FROM redemptions WHERE redemption_id = ?", redemption_id);
}

std::optional<std::string> store::voucher_member(const std::string& voucher_id) {
    return member_of("SELECT member_id FROM vouchers WHERE id = ?", voucher_id);
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

store::due_columns store::schedule(const loaded_member& m, const std::optional<timestamp>& due_at) {
    due_columns c{optional_time(due_at), m.due_entry, m.due_entry_at};
    // The live row stays when it is due no later than the new time: the jobs visit then, find
    // what is due (perhaps nothing) and queue the member again. Otherwise a row is appended; the
    // one left behind is dropped when the jobs reach it.
    if (c.due_at && (!c.entry || !c.entry_at || *c.due_at < *c.entry_at)) {
        cached("INSERT INTO due_queue (due_at, member_id) VALUES (?, ?)")
            .bind(1, *c.due_at)
            .bind(2, m.state.id)
            .run();
        c.entry = db_.last_insert_rowid();
        c.entry_at = c.due_at;
    }
    return c;
}

std::int64_t store::save(const operation_record& op, const loaded_member& before,
                         const engine::outcome& after) {
    const engine::member_state& s = after.state;
    std::string at = time_text(op.at);
    bool enrolling = before.revision == 0;

    // A new member's row comes first: the operation and its entries refer to it. Its due time,
    // entries and state are written with the final update below, as for any member.
    if (enrolling) {
        cached("INSERT INTO members (id, name, email, enrolled_at, tier, tier_since, state,"
               " revision, updated_at) VALUES (?, ?, ?, ?, ?, ?, x'', 0, ?)")
            .bind(1, s.id)
            .bind(2, before.name)
            .bind(3, before.email)
            .bind(4, time_text(s.enrolled_at))
            .bind(5, s.tier.tier)
            .bind(6, time_text(s.tier.since))
            .bind(7, at)
            .run();
    }

    cached("INSERT INTO operations (kind, member_id, program_version_id, request, outcome, actor,"
           " request_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)")
        .bind(1, op.kind)
        .bind(2, op.member_id)
        .bind(3, op.program_version_id)
        .bind(4, op.request)
        .bind(5, stored_answer(op.outcome)) // its movements are the entries below
        .bind(6, op.actor)
        .bind(7, op.request_id)
        .bind(8, at)
        .run();
    std::int64_t operation_id = db_.last_insert_rowid();

    // Open lots live in the member's record; a lot with nothing left is archived in `lots`, and
    // an archived lot that has points again (a cancelled redemption gave them back) leaves it.
    for (const engine::lot& l : s.lots) {
        auto archived = before.archived_lots.find(l.id);
        bool was_archived = archived != before.archived_lots.end();
        if (l.remaining != 0) {
            if (was_archived) {
                cached("DELETE FROM lots WHERE member_id = ? AND lot_id = ?")
                    .bind(1, s.id)
                    .bind(2, l.id)
                    .run();
            }
            continue;
        }
        if (was_archived && same_lot(archived->second, l)) {
            continue;
        }
        cached("INSERT INTO lots (member_id, lot_id, earned, remaining, earned_at, available_at,"
               " expires_at, cause, qualifying, matured, expired) VALUES (?1, ?2, ?3, ?4, ?5, ?6,"
               " ?7, ?8, ?9, ?10, ?11) ON CONFLICT (member_id, lot_id) DO UPDATE SET"
               " remaining = ?4, expires_at = ?7, matured = ?10, expired = ?11")
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
            .bind(11, l.expired_points)
            .run();
    }

    for (const engine::voucher& v : s.vouchers) {
        auto old = before.vouchers.find(v.id);
        if (old != before.vouchers.end() && old->second == v) {
            continue;
        }
        auto null_if_empty = [](const std::string& text) {
            return text.empty() ? std::nullopt : std::optional<std::string>(text);
        };
        cached("INSERT INTO vouchers (id, member_id, reward_id, issued_at, valid_until, cause,"
               " redeemed, cancelled, used_at, used_transaction_id, used_store_id)"
               " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"
               " ON CONFLICT (id) DO UPDATE SET redeemed = ?7, cancelled = ?8, used_at = ?9,"
               " used_transaction_id = ?10, used_store_id = ?11 WHERE member_id = ?2")
            .bind(1, v.id)
            .bind(2, s.id)
            .bind(3, v.reward_id)
            .bind(4, time_text(v.issued_at))
            .bind(5, time_text(v.valid_until))
            .bind(6, v.cause)
            .bind(7, v.redeemed)
            .bind(8, v.cancelled)
            .bind(9, optional_time(v.used_at))
            .bind(10, null_if_empty(v.used_transaction_id))
            .bind(11, null_if_empty(v.used_store_id))
            .run();
    }

    for (const engine::purchase_record& r : s.purchases) {
        std::string key = purchase_key(r.request.store_id, r.request.transaction_id);
        std::string text = engine::purchase_record_text(r, engine::record_request::left_out);
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

    // Each entry points to the member's entry before it: the member's history is a chain from
    // members.last_entry_id, so no index by member has to change at a random place.
    std::optional<std::int64_t> previous = before.last_entry_id;
    for (const engine::movement& mv : after.movements) {
        cached("INSERT INTO ledger_entries (member_id, operation_id, previous_id, at, kind, points,"
               " lot_id, pending, cause, explanation) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
            .bind(1, s.id)
            .bind(2, operation_id)
            .bind(3, previous)
            .bind(4, at)
            .bind(5, engine::to_string(mv.kind))
            .bind(6, mv.points)
            .bind(7, mv.lot_id == 0 ? std::optional<std::int64_t>() : mv.lot_id)
            .bind(8, mv.pending)
            .bind(9, mv.cause)
            .bind(10, mv.explanation)
            .run();
        previous = db_.last_insert_rowid();
    }

    if (after.tier.changed || enrolling) {
        // Dated when the new status began, with the metric that decided it: a status the jobs
        // (or a later event) found ended changed at its end, and a late purchase's upgrade at
        // the purchase, not when the operation was written.
        cached("INSERT INTO tier_history (member_id, at, tier_before, tier_after, metric,"
               " operation_id) VALUES (?, ?, ?, ?, ?, ?)")
            .bind(1, s.id)
            .bind(2, enrolling ? at : time_text(after.tier.changed_at.value_or(s.tier.since)))
            .bind(3, enrolling ? std::optional<std::string>()
                               : std::optional<std::string>(after.tier.before))
            .bind(4, after.tier.after)
            .bind(5, enrolling ? after.tier.metric : after.tier.metric_at_change)
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

    // The member's row last, once: the one page of this write at a random place in the file.
    due_columns due = schedule(before, op.due_at);
    cached("UPDATE members SET tier = ?, tier_since = ?, tier_valid_until = ?, state = ?,"
           " revision = revision + 1, updated_at = ?, due_at = ?, due_entry = ?, due_entry_at = ?,"
           " last_entry_id = ? WHERE id = ?")
        .bind(1, s.tier.tier)
        .bind(2, time_text(s.tier.since))
        .bind(3, optional_time(s.tier.valid_until))
        .bind_blob(4, encode_member_record(s))
        .bind(5, at)
        .bind(6, due.due_at)
        .bind(7, due.entry)
        .bind(8, due.entry_at)
        .bind(9, previous)
        .bind(10, s.id)
        .run();
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

void store::insert_profile_change(const std::string& change_id, const std::string& member_id,
                                  timestamp at) {
    cached("INSERT INTO profile_changes (change_id, member_id, made_at) VALUES (?, ?, ?)")
        .bind(1, change_id)
        .bind(2, member_id)
        .bind(3, time_text(at))
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

bool store::profile_change_exists(const std::string& change_id) {
    return exists(cached("SELECT 1 FROM profile_changes WHERE change_id = ?"), change_id);
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
    // Most answers are the operation's outcome, stored once (migration 6).
    statement& s = cached("SELECT k.request_hash, k.status, k.response, o.outcome, o.id"
                          " FROM idempotency_keys k LEFT JOIN operations o ON o.id = k.operation_id"
                          " WHERE k.key = ?");
    s.bind(1, key);
    std::optional<idempotency_record> found;
    std::optional<std::int64_t> operation_id;
    if (s.step()) {
        found = idempotency_record{s.text(0), static_cast<int>(s.integer(1)),
                                   s.is_null(2) ? s.text(3) : s.text(2)};
        if (s.is_null(2)) {
            operation_id = s.optional_integer(4);
            found->operation_id = operation_id;
        }
    }
    s.reset();
    if (operation_id) {
        // The outcome is kept without its movements (stored_answer.hpp): they are the
        // operation's entries, written back here as the first answer had them.
        std::vector<engine::movement> movements = operation_movements(*operation_id);
        if (!movements.empty()) {
            found->response =
                answer_with_movements(found->response, engine::movements_text(movements));
        }
    }
    return found;
}

std::vector<engine::movement> store::operation_movements(std::int64_t operation_id) {
    statement& s = cached("SELECT kind, points, lot_id, pending, cause, explanation"
                          " FROM ledger_entries WHERE operation_id = ? ORDER BY id");
    s.bind(1, operation_id);
    std::vector<engine::movement> out;
    while (s.step()) {
        engine::movement m;
        m.kind = movement_kind_of(s.text(0));
        m.points = s.integer(1);
        m.lot_id = s.optional_integer(2).value_or(0);
        m.pending = s.integer(3) != 0;
        m.cause = s.text(4);
        m.explanation = s.text(5);
        out.push_back(std::move(m));
    }
    s.reset();
    return out;
}

void store::save_idempotency(const std::string& key, const idempotency_record& r,
                             std::int64_t operation_id, timestamp at) {
    // The answer is the operation's outcome (applied::body is what save() stored), so the
    // record refers to it rather than holding a second copy.
    cached("INSERT INTO idempotency_keys (key, request_hash, status, response, operation_id,"
           " created_at) VALUES (?, ?, ?, NULL, ?, ?)")
        .bind(1, key)
        .bind(2, r.request_hash)
        .bind(3, r.status)
        .bind(4, operation_id)
        .bind(5, time_text(at))
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
    // The version of the newest activation in the audit log, as GET /v1/program/versions
    // says. activated_at alone could not tell two activations in one second apart: a rollback
    // to an older version right after a new one left the new one in use by `jobs run`.
    // (Activations older than their audit entries: the latest activated_at.)
    statement& s =
        cached("SELECT id, content_hash, name, format, source, activated_at"
               " FROM program_versions WHERE activated_at IS NOT NULL"
               " ORDER BY content_hash IS (SELECT detail FROM audit_log WHERE id ="
               " (SELECT MAX(id) FROM audit_log WHERE action = 'activate_program')) DESC,"
               " activated_at DESC, id DESC LIMIT 1");
    std::optional<stored_program> found;
    if (s.step()) {
        found = read_program(s);
    }
    s.reset();
    return found;
}

std::optional<std::string> store::last_file_activation() {
    statement& s = cached("SELECT detail FROM audit_log WHERE action = 'activate_program'"
                          " AND actor IN ('startup', 'cli') ORDER BY id DESC LIMIT 1");
    std::optional<std::string> found;
    if (s.step()) {
        found = s.text(0);
    }
    s.reset();
    return found;
}

std::int64_t store::data_version() {
    statement& s = cached("PRAGMA data_version");
    std::int64_t version = s.step() ? s.integer(0) : 0;
    s.reset();
    return version;
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

std::vector<due_entry> store::due_entries(timestamp now, const due_entry& after,
                                          std::size_t limit) {
    statement& s = cached("SELECT due_at, id, member_id FROM due_queue"
                          " WHERE due_at <= ?1 AND (due_at, id) > (?2, ?3)"
                          " ORDER BY due_at, id LIMIT ?4");
    s.bind(1, time_text(now))
        .bind(2, after.due_at)
        .bind(3, after.entry)
        .bind(4, static_cast<std::int64_t>(limit));
    std::vector<due_entry> entries;
    while (s.step()) {
        entries.push_back({s.text(0), s.integer(1), s.text(2)});
    }
    s.reset();
    return entries;
}

bool store::take_due_entry(std::int64_t entry) {
    cached("DELETE FROM due_queue WHERE id = ?").bind(1, entry).run();
    return db_.changes() == 1;
}

void store::set_due(loaded_member& m, std::optional<timestamp> due_at) {
    due_columns due = schedule(m, due_at);
    cached("UPDATE members SET due_at = ?, due_entry = ?, due_entry_at = ? WHERE id = ?")
        .bind(1, due.due_at)
        .bind(2, due.entry)
        .bind(3, due.entry_at)
        .bind(4, m.state.id)
        .run();
    m.due_at = due.due_at;
    m.due_entry = due.entry;
    m.due_entry_at = due.entry_at;
}

void store::make_everyone_due(timestamp at) {
    // One queue row per member, appended in id order, then each member pointed at its row: the
    // join walks the new rows and finds each member by its key.
    std::string when = time_text(at);
    std::int64_t last_before = 0;
    {
        statement& s = cached("SELECT COALESCE(MAX(id), 0) FROM due_queue");
        s.step();
        last_before = s.integer(0);
        s.reset();
    }
    cached("INSERT INTO due_queue (due_at, member_id) SELECT ?, id FROM members ORDER BY id")
        .bind(1, when)
        .run();
    cached("UPDATE members SET due_at = ?1, due_entry = q.id, due_entry_at = ?1"
           " FROM (SELECT id, member_id FROM due_queue WHERE id > ?2) AS q"
           " WHERE q.member_id = members.id")
        .bind(1, when)
        .bind(2, last_before)
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

bool store::api_key_active(const std::string& id) {
    return exists(cached("SELECT 1 FROM api_keys WHERE id = ? AND revoked_at IS NULL"), id);
}

void store::set_contact(const std::string& member_id, const std::optional<std::string>& name,
                        const std::optional<std::string>& email) {
    cached("UPDATE members SET name = ?, email = ? WHERE id = ?")
        .bind(1, name)
        .bind(2, email)
        .bind(3, member_id)
        .run();
}

audit_page store::audit_of(const std::string& member_id, std::size_t limit,
                           std::optional<std::int64_t> before_id) {
    statement& s = cached(
        "SELECT a.id, a.at, a.actor, k.name, a.role, a.action, a.reason, a.detail FROM audit_log a"
        " LEFT JOIN api_keys k ON k.id = a.actor"
        " WHERE a.member_id = ?1 AND a.id < ?2 ORDER BY a.id DESC LIMIT ?3");
    s.bind(1, member_id)
        .bind(2, before_id.value_or(std::numeric_limits<std::int64_t>::max()))
        .bind(3, static_cast<std::int64_t>(limit) + 1); // one more: is there a next page?
    audit_page page;
    while (s.step()) {
        page.entries.push_back({s.integer(0), parse_time(s.text(1)), s.text(2), s.optional_text(3),
                                s.text(4), s.text(5), s.optional_text(6), s.text(7)});
    }
    s.reset();
    page.next_cursor = close_page(page.entries, limit);
    return page;
}

activation_page store::program_activations(std::size_t limit,
                                           std::optional<std::int64_t> before_id) {
    // The audit log's activations (their detail is the content hash), through
    // audit_log_activations; the newest of all is the version in use, on any page.
    statement& s =
        cached("SELECT a.id, a.at, a.actor, k.name, v.id, v.content_hash, v.name,"
               " a.id = (SELECT MAX(id) FROM audit_log WHERE action = 'activate_program')"
               " FROM audit_log a JOIN program_versions v ON v.content_hash = a.detail"
               " LEFT JOIN api_keys k ON k.id = a.actor"
               " WHERE a.action = 'activate_program' AND a.id < ?1 ORDER BY a.id DESC LIMIT ?2");
    s.bind(1, before_id.value_or(std::numeric_limits<std::int64_t>::max()))
        .bind(2, static_cast<std::int64_t>(limit) + 1); // one more: is there a next page?
    activation_page page;
    while (s.step()) {
        page.activations.push_back({s.integer(0), parse_time(s.text(1)), s.text(2),
                                    s.optional_text(3), s.integer(4), s.text(5), s.text(6),
                                    s.integer(7) != 0});
    }
    s.reset();
    page.next_cursor = close_page(page.activations, limit);
    return page;
}

std::optional<program_version_text> store::program_version(std::int64_t id) {
    statement& s = cached("SELECT id, content_hash, name, format, source, created_at"
                          " FROM program_versions WHERE id = ?");
    s.bind(1, id);
    std::optional<program_version_text> found;
    if (s.step()) {
        found = program_version_text{s.integer(0), s.text(1), s.text(2),
                                     s.text(3),    s.text(4), parse_time(s.text(5))};
    }
    s.reset();
    return found;
}

std::vector<tier_history_entry> store::tier_history(const std::string& member_id) {
    statement& s = cached("SELECT h.at, h.tier_before, h.tier_after, h.metric, o.kind, o.id"
                          " FROM tier_history h JOIN operations o ON o.id = h.operation_id"
                          " WHERE h.member_id = ? ORDER BY h.id DESC");
    s.bind(1, member_id);
    std::vector<tier_history_entry> out;
    while (s.step()) {
        out.push_back({parse_time(s.text(0)), s.optional_text(1), s.text(2), s.integer(3),
                       s.text(4), s.integer(5)});
    }
    s.reset();
    return out;
}

activity_page store::activity(const std::string& member_id, std::size_t limit,
                              std::optional<std::int64_t> before_entry) {
    // The member's entries, newest first, follow the chain from members.last_entry_id. A cursor
    // is the id of the last entry a page showed: the next page starts at the entry before it.
    // A cursor that is not one of the member's entries (a hand-made one) still means "entries
    // older than this id", found by walking from the newest.
    std::optional<std::int64_t> next;
    {
        statement& s = cached("SELECT last_entry_id FROM members WHERE id = ?");
        s.bind(1, member_id);
        if (s.step()) {
            next = s.optional_integer(0);
        }
        s.reset();
    }
    statement& entry =
        cached("SELECT e.id, e.at, e.kind, e.points, e.lot_id, e.pending, e.cause, e.explanation,"
               " o.kind, o.id, e.previous_id, e.member_id, o.actor, k.name FROM ledger_entries e"
               " JOIN operations o ON o.id = e.operation_id"
               " LEFT JOIN api_keys k ON k.id = o.actor WHERE e.id = ?");
    auto read = [&](std::int64_t id) {
        entry.bind(1, id);
        bool found = entry.step();
        if (found && entry.text(11) != member_id) {
            throw std::runtime_error("ledger entry " + std::to_string(id) +
                                     " in the chain of member " + member_id + " belongs to " +
                                     entry.text(11));
        }
        return found;
    };
    if (before_entry && next) {
        statement& cursor = cached("SELECT previous_id FROM ledger_entries WHERE id = ?"
                                   " AND member_id = ?");
        cursor.bind(1, *before_entry).bind(2, member_id);
        if (cursor.step()) {
            next = cursor.optional_integer(0);
        } else {
            while (next && *next >= *before_entry) {
                if (!read(*next)) {
                    throw std::runtime_error("ledger entry " + std::to_string(*next) +
                                             " of member " + member_id + " is missing");
                }
                next = entry.optional_integer(10);
                entry.reset();
            }
        }
        cursor.reset();
    }
    activity_page page;
    while (next) {
        if (page.entries.size() == limit) {
            page.next_cursor = page.entries.back().id;
            break;
        }
        if (!read(*next)) {
            throw std::runtime_error("ledger entry " + std::to_string(*next) + " of member " +
                                     member_id + " is missing");
        }
        activity_entry e;
        e.id = entry.integer(0);
        e.at = parse_time(entry.text(1));
        e.kind = movement_kind_of(entry.text(2));
        e.points = entry.integer(3);
        e.lot_id = entry.optional_integer(4);
        e.pending = entry.integer(5) != 0;
        e.cause = entry.text(6);
        e.explanation = entry.text(7);
        e.operation = entry.text(8);
        e.operation_id = entry.integer(9);
        e.actor = entry.text(12);
        e.actor_name = entry.optional_text(13);
        next = entry.optional_integer(10);
        entry.reset();
        page.entries.push_back(std::move(e));
    }
    return page;
}

} // namespace loyalty::ledger::detail
