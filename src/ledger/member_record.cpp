#include "member_record.hpp"

#include <algorithm>
#include <array>
#include <limits>

namespace loyalty::ledger::detail {
namespace {

using engine::timestamp;

std::uint64_t seconds_of(timestamp t) {
    return static_cast<std::uint64_t>(t.time_since_epoch().count());
}

std::int64_t plus(timestamp t, std::int64_t difference) {
    return static_cast<std::int64_t>(seconds_of(t) + static_cast<std::uint64_t>(difference));
}

constexpr std::uint64_t has_birthday = 1, has_referrer = 2, has_last_activity = 4,
                        has_replaced_tiers = 8;
constexpr std::uint64_t lot_expires = 1, lot_qualifying = 2, lot_matured = 4,
                        lot_expired_points = 8, lot_spent = 16;

// The names of format 2, most recently used first: writer and reader keep the same list, so a
// name is 0 and its text the first time (and whenever it has dropped off the list), and its
// 1-based place on the list after. Bounded, so that neither side searches or allocates much.
class recent_names {
public:
    static constexpr std::size_t capacity = 16;

    // The place of `s` (1-based), or 0 when it is not on the list.
    std::size_t find(std::string_view s) const {
        for (std::size_t i = 0; i < size_; ++i) {
            if (names_[i] == s) {
                return i + 1;
            }
        }
        return 0;
    }
    bool holds(std::size_t at) const { return at >= 1 && at <= size_; }
    std::string_view at(std::size_t at) const { return names_[at - 1]; }
    // Moves the name at `at` (or `s`, new, when 0) to the front.
    void use(std::size_t at, std::string_view s) {
        std::size_t from = at == 0 ? std::min(size_, capacity - 1) : at - 1;
        for (std::size_t i = from; i > 0; --i) {
            names_[i] = names_[i - 1];
        }
        names_[0] = s;
        size_ = std::max(size_, from + 1);
    }

private:
    std::array<std::string_view, capacity> names_{};
    std::size_t size_ = 0;
};

class record_writer {
public:
    void byte(std::uint8_t b) { out_ += static_cast<char>(b); }
    void unsigned_number(std::uint64_t v) {
        while (v >= 0x80) {
            out_ += static_cast<char>((v & 0x7f) | 0x80);
            v >>= 7;
        }
        out_ += static_cast<char>(v);
    }
    void number(std::int64_t v) {
        // Zigzag: small magnitudes, negative or not, take few bytes.
        unsigned_number((static_cast<std::uint64_t>(v) << 1) ^ static_cast<std::uint64_t>(v >> 63));
    }
    void time(timestamp t) { number(t.time_since_epoch().count()); }
    // later - earlier, as a small number when the two are close. Computed modulo 2^64 (and
    // added back the same way), so it round-trips every pair of times without overflowing.
    void difference(timestamp later, timestamp earlier) {
        number(static_cast<std::int64_t>(seconds_of(later) - seconds_of(earlier)));
    }
    void text(std::string_view s) {
        unsigned_number(s.size());
        out_ += s;
    }
    // A rule id or cause: the same few recur on every lot and entry, so a name used lately is
    // written as its place among them (recent_names).
    void name(std::string_view s) {
        std::size_t at = names_.find(s);
        unsigned_number(at);
        if (at == 0) {
            text(s);
        }
        names_.use(at, s);
    }
    std::string take() && { return std::move(out_); }
    void reserve(std::size_t n) { out_.reserve(n); }

private:
    std::string out_;
    recent_names names_;
};

// Reads a record front to back; the first error sticks and names the field being read.
class record_reader {
public:
    explicit record_reader(std::string_view in) : in_(in) {}

    bool failed() const { return !error_.empty(); }
    const std::string& error() const { return error_; }
    bool at_end() const { return at_ == in_.size(); }
    std::size_t left() const { return in_.size() - at_; }

    void fail(const std::string& message) {
        if (!error_.empty()) {
            return;
        }
        if (list_ != nullptr) {
            error_ = std::string(list_) + "[" + std::to_string(index_) + "].";
        }
        error_ += name_;
        error_ += (error_.empty() ? "" : ": ") + message;
    }
    // The field read next, named only when something fails (no string per field read).
    void field(const char* name) {
        list_ = nullptr;
        name_ = name;
    }
    void field(const char* list, std::size_t index, const char* name) {
        list_ = list;
        index_ = index;
        name_ = name;
    }

    std::uint8_t byte() {
        if (failed() || at_ >= in_.size()) {
            fail("cut short");
            return 0;
        }
        return static_cast<std::uint8_t>(in_[at_++]);
    }
    std::uint64_t unsigned_number() {
        std::uint64_t v = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            std::uint8_t b = byte();
            if (failed()) {
                return 0;
            }
            if (shift == 63 && b > 1) {
                fail("number too large");
                return 0;
            }
            v |= static_cast<std::uint64_t>(b & 0x7f) << shift;
            if ((b & 0x80) == 0) {
                return v;
            }
        }
        fail("number too large");
        return 0;
    }
    std::int64_t number() {
        std::uint64_t z = unsigned_number();
        return static_cast<std::int64_t>((z >> 1) ^ (~(z & 1) + 1));
    }
    timestamp time() { return timestamp{std::chrono::seconds{number()}}; }
    // t + a difference written by record_writer::difference.
    timestamp after(timestamp t) { return timestamp{std::chrono::seconds{plus(t, number())}}; }
    std::string text() { return std::string(text_view()); }
    // The string's bytes in the record itself.
    std::string_view text_view() {
        std::uint64_t n = unsigned_number();
        if (failed()) {
            return {};
        }
        if (n > left()) {
            fail("cut short");
            return {};
        }
        std::string_view s = in_.substr(at_, n);
        at_ += n;
        return s;
    }
    std::string name() {
        std::size_t at = static_cast<std::size_t>(unsigned_number());
        if (failed()) {
            return {};
        }
        std::string_view s;
        if (at == 0) {
            s = text_view();
        } else if (names_.holds(at)) {
            s = names_.at(at);
        } else {
            fail("unknown name " + std::to_string(at));
            return {};
        }
        if (failed()) {
            return {};
        }
        names_.use(at, s);
        return std::string(s);
    }
    // A count of elements that take at least one byte each.
    std::size_t count() {
        std::uint64_t n = unsigned_number();
        if (!failed() && n > left()) {
            fail("count " + std::to_string(n) + " exceeds the record");
            return 0;
        }
        return static_cast<std::size_t>(n);
    }
    std::uint64_t flags(std::uint64_t known) {
        std::uint64_t f = unsigned_number();
        if (!failed() && (f & ~known) != 0) {
            fail("unknown flags " + std::to_string(f));
        }
        return f;
    }

private:
    std::string_view in_;
    std::size_t at_ = 0;
    const char* list_ = nullptr;
    std::size_t index_ = 0;
    const char* name_ = "";
    std::string error_;
    recent_names names_;
};

} // namespace

std::string encode_member_record(const engine::member_state& m, bool open_lots_only) {
    record_writer w;
    w.reserve(64 + 32 * m.lots.size() + 16 * m.metric.size() + 24 * m.usage.size() +
              4 * m.purchase_times.size());
    w.byte(member_record_format);
    std::uint64_t flags =
        (m.birthday ? has_birthday : 0) | (m.referred_by ? has_referrer : 0) |
        (m.last_activity ? has_last_activity : 0) |
        (m.tier.replaced.empty() && !m.tier.entry_threshold ? 0 : has_replaced_tiers);
    w.unsigned_number(flags);
    if (m.birthday) {
        w.number(date::sys_days{*m.birthday}.time_since_epoch().count());
    }
    if (m.referred_by) {
        w.text(*m.referred_by);
    }
    if (m.last_activity) {
        w.time(*m.last_activity);
    }
    if (!m.tier.replaced.empty() || m.tier.entry_threshold) {
        w.unsigned_number(m.tier.entry_threshold ? 1 : 0);
        if (m.tier.entry_threshold) {
            w.number(*m.tier.entry_threshold);
        }
        w.unsigned_number(m.tier.replaced.size());
        for (const engine::tier_status& t : m.tier.replaced) {
            w.text(t.tier);
            w.time(t.since);
            w.unsigned_number((t.valid_until ? 1 : 0) | (t.entry_threshold ? 2 : 0));
            if (t.valid_until) {
                w.time(*t.valid_until);
            }
            if (t.entry_threshold) {
                w.number(*t.entry_threshold);
            }
        }
    }
    w.number(m.lifetime_purchases);
    w.number(m.lifetime_spend);
    w.number(m.lifetime_points);
    w.number(m.shortfall);
    w.number(m.next_lot_id);
    w.number(m.next_voucher_number);

    std::size_t lots = 0;
    for (const engine::lot& l : m.lots) {
        lots += !open_lots_only || l.remaining != 0 ? 1 : 0;
    }
    w.unsigned_number(lots);
    // Each lot after the first is written against the one before: ids follow each other, lots
    // are earned in order, and a program's pending period is the same for most of them.
    std::int64_t previous_id = 0;
    timestamp previous_earned{};
    std::uint64_t previous_pending = 0;
    for (const engine::lot& l : m.lots) {
        if (open_lots_only && l.remaining == 0) {
            continue;
        }
        w.number(static_cast<std::int64_t>(static_cast<std::uint64_t>(l.id) -
                                           static_cast<std::uint64_t>(previous_id)));
        w.number(l.earned);
        w.unsigned_number((l.expires_at ? lot_expires : 0) | (l.qualifying ? lot_qualifying : 0) |
                          (l.matured ? lot_matured : 0) |
                          (l.expired_points != 0 ? lot_expired_points : 0) |
                          (l.remaining != l.earned ? lot_spent : 0));
        if (l.remaining != l.earned) {
            w.number(l.remaining);
        }
        w.difference(l.earned_at, previous_earned);
        std::uint64_t pending = seconds_of(l.available_at) - seconds_of(l.earned_at);
        w.number(static_cast<std::int64_t>(pending - previous_pending));
        if (l.expires_at) {
            w.difference(*l.expires_at, l.earned_at);
        }
        w.name(l.cause);
        if (l.expired_points != 0) {
            w.number(l.expired_points);
        }
        previous_id = l.id;
        previous_earned = l.earned_at;
        previous_pending = pending;
    }
    w.unsigned_number(m.metric.size());
    timestamp previous_at{};
    for (const engine::metric_entry& e : m.metric) {
        w.difference(e.at, previous_at);
        w.number(e.amount);
        w.name(e.cause);
        previous_at = e.at;
    }
    w.unsigned_number(m.usage.size());
    previous_at = timestamp{};
    for (const engine::usage_entry& u : m.usage) {
        w.name(u.rule_id);
        w.difference(u.at, previous_at);
        w.number(u.times);
        w.number(u.points);
        previous_at = u.at;
    }
    w.unsigned_number(m.purchase_times.size());
    timestamp previous{};
    for (timestamp t : m.purchase_times) {
        w.difference(t, previous);
        previous = t;
    }
    return std::move(w).take();
}

tl::expected<void, std::string> decode_member_record(std::string_view record,
                                                     engine::member_state& m) {
    record_reader r(record);
    r.field("format");
    const std::uint8_t format = r.byte();
    if (!r.failed() && format != member_record_format && format != 1) {
        r.fail("unknown format " + std::to_string(format));
    }
    // Format 1, before 2026-12-07: every field on its own (rows not written since).
    const bool first_format = format == 1;
    auto name = [&] {
        return first_format ? r.text() : r.name();
    };
    auto time_after = [&](timestamp previous) {
        return first_format ? r.time() : r.after(previous);
    };
    r.field("flags");
    std::uint64_t flags =
        r.flags(has_birthday | has_referrer | has_last_activity | has_replaced_tiers);
    m.birthday.reset();
    m.referred_by.reset();
    m.last_activity.reset();
    m.tier.replaced.clear();
    m.tier.entry_threshold.reset();
    if (flags & has_birthday) {
        r.field("birthday");
        std::int64_t days = r.number();
        // date's years reach ±32767: far beyond any birthday, refused beyond that.
        if (!r.failed() && (days < -11'000'000 || days > 11'000'000)) {
            r.fail("out of range");
        }
        m.birthday = date::year_month_day{date::sys_days{date::days{days}}};
    }
    if (flags & has_referrer) {
        r.field("referred_by");
        m.referred_by = r.text();
    }
    if (flags & has_last_activity) {
        r.field("last_activity");
        m.last_activity = r.time();
    }
    if (flags & has_replaced_tiers) {
        r.field("entry_threshold");
        std::uint64_t has_threshold = r.unsigned_number();
        if (has_threshold > 1) {
            r.fail("expected 0 or 1");
        } else if (has_threshold == 1) {
            m.tier.entry_threshold = r.number();
        }
        r.field("replaced_tiers");
        std::size_t n = r.count();
        for (std::size_t i = 0; i < n && !r.failed(); ++i) {
            engine::tier_status t;
            t.tier = r.text();
            t.since = r.time();
            std::uint64_t extra = r.unsigned_number();
            if (extra > 3) {
                r.fail("unknown flags " + std::to_string(extra));
            }
            if (extra & 1) {
                t.valid_until = r.time();
            }
            if (extra & 2) {
                t.entry_threshold = r.number();
            }
            m.tier.replaced.push_back(std::move(t));
        }
    }
    r.field("lifetime_purchases");
    m.lifetime_purchases = r.number();
    r.field("lifetime_spend");
    m.lifetime_spend = r.number();
    r.field("lifetime_points");
    m.lifetime_points = r.number();
    r.field("shortfall");
    m.shortfall = r.number();
    r.field("next_lot_id");
    m.next_lot_id = r.number();
    r.field("next_voucher_number");
    m.next_voucher_number = r.number();

    r.field("lots");
    std::size_t n = r.count();
    m.lots.clear();
    m.lots.reserve(n);
    std::int64_t previous_id = 0;
    timestamp previous_earned{};
    std::uint64_t previous_pending = 0;
    for (std::size_t i = 0; i < n && !r.failed(); ++i) {
        engine::lot& l = m.lots.emplace_back();
        r.field("lots", i, "id");
        l.id = first_format ? r.number()
                            : static_cast<std::int64_t>(static_cast<std::uint64_t>(previous_id) +
                                                        static_cast<std::uint64_t>(r.number()));
        r.field("lots", i, "earned");
        l.earned = r.number();
        std::uint64_t f = 0;
        if (first_format) {
            r.field("lots", i, "remaining");
            l.remaining = r.number();
            r.field("lots", i, "earned_at");
            l.earned_at = r.time();
            r.field("lots", i, "available_at");
            l.available_at = r.after(l.earned_at);
            r.field("lots", i, "flags");
            f = r.flags(lot_expires | lot_qualifying | lot_matured | lot_expired_points);
        } else {
            r.field("lots", i, "flags");
            f = r.flags(lot_expires | lot_qualifying | lot_matured | lot_expired_points |
                        lot_spent);
            l.remaining = l.earned;
            if (f & lot_spent) {
                r.field("lots", i, "remaining");
                l.remaining = r.number();
            }
            r.field("lots", i, "earned_at");
            l.earned_at = r.after(previous_earned);
            r.field("lots", i, "available_at");
            std::uint64_t pending = previous_pending + static_cast<std::uint64_t>(r.number());
            l.available_at = timestamp{
                std::chrono::seconds{plus(l.earned_at, static_cast<std::int64_t>(pending))}};
            previous_pending = pending;
        }
        l.qualifying = (f & lot_qualifying) != 0;
        l.matured = (f & lot_matured) != 0;
        if (f & lot_expires) {
            r.field("lots", i, "expires_at");
            l.expires_at = r.after(l.earned_at);
        }
        r.field("lots", i, "cause");
        l.cause = name();
        if (f & lot_expired_points) {
            r.field("lots", i, "expired_points");
            l.expired_points = r.number();
        }
        previous_id = l.id;
        previous_earned = l.earned_at;
    }
    r.field("metric");
    n = r.count();
    m.metric.clear();
    m.metric.reserve(n);
    timestamp previous_at{};
    for (std::size_t i = 0; i < n && !r.failed(); ++i) {
        engine::metric_entry& e = m.metric.emplace_back();
        r.field("metric", i, "at");
        e.at = time_after(previous_at);
        r.field("metric", i, "amount");
        e.amount = r.number();
        r.field("metric", i, "cause");
        e.cause = name();
        previous_at = e.at;
    }
    r.field("usage");
    n = r.count();
    m.usage.clear();
    m.usage.reserve(n);
    previous_at = timestamp{};
    for (std::size_t i = 0; i < n && !r.failed(); ++i) {
        engine::usage_entry& u = m.usage.emplace_back();
        r.field("usage", i, "rule_id");
        u.rule_id = name();
        r.field("usage", i, "at");
        u.at = time_after(previous_at);
        r.field("usage", i, "times");
        u.times = r.number();
        r.field("usage", i, "points");
        u.points = r.number();
        previous_at = u.at;
    }
    r.field("purchase_times");
    n = r.count();
    m.purchase_times.clear();
    m.purchase_times.reserve(n);
    timestamp previous{};
    for (std::size_t i = 0; i < n && !r.failed(); ++i) {
        previous = r.after(previous);
        m.purchase_times.push_back(previous);
    }
    if (!r.failed() && !r.at_end()) {
        r.field("record");
        r.fail(std::to_string(r.left()) + " bytes left over");
    }
    if (r.failed()) {
        return tl::unexpected(r.error());
    }
    return {};
}

} // namespace loyalty::ledger::detail
