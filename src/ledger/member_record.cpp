#include "member_record.hpp"

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

constexpr std::uint64_t has_birthday = 1, has_referrer = 2, has_last_activity = 4;
constexpr std::uint64_t lot_expires = 1, lot_qualifying = 2, lot_matured = 4,
                        lot_expired_points = 8;

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
    std::string take() && { return std::move(out_); }
    void reserve(std::size_t n) { out_.reserve(n); }

private:
    std::string out_;
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
    std::string text() {
        std::uint64_t n = unsigned_number();
        if (failed()) {
            return {};
        }
        if (n > left()) {
            fail("cut short");
            return {};
        }
        std::string s(in_.substr(at_, n));
        at_ += n;
        return s;
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
};

} // namespace

std::string encode_member_record(const engine::member_state& m, bool open_lots_only) {
    record_writer w;
    w.reserve(64 + 32 * m.lots.size() + 16 * m.metric.size() + 24 * m.usage.size() +
              4 * m.purchase_times.size());
    w.byte(member_record_format);
    std::uint64_t flags = (m.birthday ? has_birthday : 0) | (m.referred_by ? has_referrer : 0) |
                          (m.last_activity ? has_last_activity : 0);
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
    for (const engine::lot& l : m.lots) {
        if (open_lots_only && l.remaining == 0) {
            continue;
        }
        w.number(l.id);
        w.number(l.earned);
        w.number(l.remaining);
        w.time(l.earned_at);
        // Relative to when it was earned: a few bytes instead of five.
        w.difference(l.available_at, l.earned_at);
        w.unsigned_number((l.expires_at ? lot_expires : 0) | (l.qualifying ? lot_qualifying : 0) |
                          (l.matured ? lot_matured : 0) |
                          (l.expired_points != 0 ? lot_expired_points : 0));
        if (l.expires_at) {
            w.difference(*l.expires_at, l.earned_at);
        }
        w.text(l.cause);
        if (l.expired_points != 0) {
            w.number(l.expired_points);
        }
    }
    w.unsigned_number(m.metric.size());
    for (const engine::metric_entry& e : m.metric) {
        w.time(e.at);
        w.number(e.amount);
        w.text(e.cause);
    }
    w.unsigned_number(m.usage.size());
    for (const engine::usage_entry& u : m.usage) {
        w.text(u.rule_id);
        w.time(u.at);
        w.number(u.times);
        w.number(u.points);
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
    if (std::uint8_t format = r.byte(); !r.failed() && format != member_record_format) {
        r.fail("unknown format " + std::to_string(format));
    }
    r.field("flags");
    std::uint64_t flags = r.flags(has_birthday | has_referrer | has_last_activity);
    m.birthday.reset();
    m.referred_by.reset();
    m.last_activity.reset();
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
    for (std::size_t i = 0; i < n && !r.failed(); ++i) {
        engine::lot& l = m.lots.emplace_back();
        r.field("lots", i, "id");
        l.id = r.number();
        r.field("lots", i, "earned");
        l.earned = r.number();
        r.field("lots", i, "remaining");
        l.remaining = r.number();
        r.field("lots", i, "earned_at");
        l.earned_at = r.time();
        r.field("lots", i, "available_at");
        l.available_at = r.after(l.earned_at);
        r.field("lots", i, "flags");
        std::uint64_t f =
            r.flags(lot_expires | lot_qualifying | lot_matured | lot_expired_points);
        l.qualifying = (f & lot_qualifying) != 0;
        l.matured = (f & lot_matured) != 0;
        if (f & lot_expires) {
            r.field("lots", i, "expires_at");
            l.expires_at = r.after(l.earned_at);
        }
        r.field("lots", i, "cause");
        l.cause = r.text();
        if (f & lot_expired_points) {
            r.field("lots", i, "expired_points");
            l.expired_points = r.number();
        }
    }
    r.field("metric");
    n = r.count();
    m.metric.clear();
    m.metric.reserve(n);
    for (std::size_t i = 0; i < n && !r.failed(); ++i) {
        engine::metric_entry& e = m.metric.emplace_back();
        r.field("metric", i, "at");
        e.at = r.time();
        r.field("metric", i, "amount");
        e.amount = r.number();
        r.field("metric", i, "cause");
        e.cause = r.text();
    }
    r.field("usage");
    n = r.count();
    m.usage.clear();
    m.usage.reserve(n);
    for (std::size_t i = 0; i < n && !r.failed(); ++i) {
        engine::usage_entry& u = m.usage.emplace_back();
        r.field("usage", i, "rule_id");
        u.rule_id = r.text();
        r.field("usage", i, "at");
        u.at = r.time();
        r.field("usage", i, "times");
        u.times = r.number();
        r.field("usage", i, "points");
        u.points = r.number();
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
