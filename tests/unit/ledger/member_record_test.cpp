// The member row's binary record (src/ledger/member_record.hpp): every field it holds comes back
// exactly, closed lots are left out, and a damaged record is refused, never misread.
#include "loyalty/engine/state_json.hpp"
#include "member_record.hpp"
#include "support/make_lot.hpp"
#include "support/times.hpp"

#include <catch2/catch.hpp>
#include <limits>
#include <random>

using loyalty::test::utc;

namespace {

using namespace date::literals;
using namespace loyalty::engine;
using loyalty::ledger::detail::decode_member_record;
using loyalty::ledger::detail::encode_member_record;
using loyalty::test::make_lot;
using std::chrono::seconds;

constexpr std::int64_t huge = 9'007'199'254'740'993; // above 2^53
constexpr std::int64_t most = std::numeric_limits<std::int64_t>::max();
constexpr std::int64_t least = std::numeric_limits<std::int64_t>::min();

// Every field the record holds, with every optional set, extreme numbers and times, and a
// string that is not ASCII.
member_state full_member() {
    member_state m;
    m.id = "m-42";
    m.enrolled_at = utc(2025_y / 1 / 5, 9, 0, 7);
    m.tier = {"gold", utc(2026_y / 2 / 1), utc(2027_y / 2 / 1)};
    m.birthday = 1990_y / 5 / 17;
    m.referred_by = "m-\xc3\xa9t\xc3\xa9";
    m.last_activity = utc(2026_y / 11 / 28, 11, 0, 30);
    m.lots.push_back(make_lot(3, 1350, 1000, utc(2026_y / 11 / 24, 15), utc(2027_y / 12 / 1),
                              "base_rate", true, true));
    m.lots.push_back(make_lot(4, 500, 500, utc(2026_y / 11 / 24, 15), std::nullopt, "coffee_bonus",
                              false, false));
    m.lots.push_back(make_lot(5, huge, -huge, utc(2026_y / 12 / 1, 23, 0, 59), utc(2028_y / 1 / 1),
                              "", true, false));
    lot far = make_lot(6, most, least, timestamp{seconds{least}}, timestamp{seconds{most}},
                       "adjustment-9", false, true);
    far.available_at = timestamp{seconds{most}};
    m.lots.push_back(far);
    lot lapsed =
        make_lot(7, 80, 20, utc(2026_y / 3 / 1), utc(2026_y / 10 / 1), "base_rate", true, true);
    lapsed.expired_points = 45; // of the 60 that expired, a return set 15 against its points
    m.lots.push_back(lapsed);
    m.metric.push_back({utc(2026_y / 11 / 24, 15), 1350, "t-100"});
    m.metric.push_back({utc(2026_y / 11 / 30, 10), -450, "r-1"});
    m.usage.push_back({"coffee_bonus", utc(2026_y / 11 / 24, 15), 2, 500});
    m.usage.push_back({"welcome", timestamp{seconds{least}}, most, least});
    m.purchase_times = {utc(2026_y / 11 / 28, 11, 0, 30), utc(2026_y / 11 / 24, 15),
                        timestamp{seconds{most}}, timestamp{seconds{least}}};
    m.lifetime_purchases = 17;
    m.lifetime_spend = huge;
    m.lifetime_points = least;
    m.shortfall = most;
    m.next_lot_id = 8;
    m.next_voucher_number = 3;
    return m;
}

// The state as the ledger would load it back: the record's fields from `record`, the rest (which
// the record leaves to columns and tables) from `original`.
member_state loaded(const member_state& original, const std::string& record) {
    member_state m = original;
    m.lots.clear();
    m.metric.clear();
    m.usage.clear();
    m.purchase_times.clear();
    auto decoded = decode_member_record(record, m);
    INFO((decoded ? "" : decoded.error()));
    REQUIRE(decoded);
    return m;
}

// The engine's exact JSON round trip serves as equality of two states.
std::string same(const member_state& m) {
    return state_to_json(m).dump();
}

} // namespace

TEST_CASE("every field of the record comes back exactly") {
    member_state m = full_member();
    REQUIRE(same(loaded(m, encode_member_record(m))) == same(m));
}

TEST_CASE("optional fields left empty stay empty") {
    member_state m;
    m.id = "m-1";
    m.tier = {"green", utc(2026_y / 1 / 1), std::nullopt};
    member_state back = loaded(m, encode_member_record(m));
    CHECK_FALSE(back.birthday);
    CHECK_FALSE(back.referred_by);
    CHECK_FALSE(back.last_activity);
    REQUIRE(same(back) == same(m));
}

TEST_CASE("closed lots are left out of the record unless asked for") {
    member_state m = full_member();
    m.lots[1].remaining = 0;
    member_state open = loaded(m, encode_member_record(m));
    REQUIRE(open.lots.size() == m.lots.size() - 1);
    CHECK(open.lots[1].id == 5);
    member_state all = loaded(m, encode_member_record(m, false));
    REQUIRE(same(all) == same(m));
}

TEST_CASE("a lot takes about 30 bytes, not the 200 of its JSON") {
    member_state m;
    m.tier = {"green", utc(2026_y / 1 / 1), std::nullopt};
    std::size_t empty = encode_member_record(m).size();
    for (int i = 0; i < 10; ++i) {
        m.lots.push_back(make_lot(100 + i, 64, 64, utc(2026_y / 11 / 24, 15, 0, i),
                                  utc(2027_y / 12 / 1), "base", true, false));
    }
    std::size_t per_lot = (encode_member_record(m).size() - empty) / 10;
    CHECK(per_lot <= 30);
    CHECK(lot_to_json(m.lots[0]).dump().size() >= 180);
}

TEST_CASE("random states round-trip") {
    std::mt19937_64 rng(6);
    auto number = [&] {
        switch (rng() % 4) {
        case 0:
            return static_cast<std::int64_t>(rng() % 100);
        case 1:
            return -static_cast<std::int64_t>(rng() % 100'000);
        case 2:
            return static_cast<std::int64_t>(rng());
        default:
            return rng() % 2 == 0 ? most : least;
        }
    };
    auto time = [&] {
        return timestamp{
            seconds{rng() % 3 == 0 ? number() : 1'700'000'000 + number() % 100'000'000}};
    };
    auto text = [&] {
        return std::string(rng() % 12, static_cast<char>('a' + rng() % 26));
    };
    for (int round = 0; round < 500; ++round) {
        member_state m;
        m.id = "m";
        if (rng() % 2) {
            m.birthday = date::year_month_day{date::sys_days{date::days{number() % 40'000}}};
        }
        if (rng() % 2) {
            m.referred_by = text();
        }
        if (rng() % 2) {
            m.last_activity = time();
        }
        for (int i = static_cast<int>(rng() % 6); i > 0; --i) {
            // Times set after make_lot: its pending period added to an extreme time would
            // overflow (undefined behaviour, which UBSan stops at).
            lot l = make_lot(number(), number(), number(), timestamp{}, std::nullopt, text(),
                             rng() % 2 == 0, rng() % 2 == 0);
            l.earned_at = time();
            l.available_at = time();
            if (rng() % 2) {
                l.expires_at = time();
            }
            if (l.remaining == 0) {
                l.remaining = 1;
            }
            m.lots.push_back(l);
        }
        for (int i = static_cast<int>(rng() % 6); i > 0; --i) {
            m.metric.push_back({time(), number(), text()});
            m.usage.push_back({text(), time(), number(), number()});
            m.purchase_times.push_back(time());
        }
        m.lifetime_purchases = number();
        m.lifetime_spend = number();
        m.lifetime_points = number();
        m.shortfall = number();
        m.next_lot_id = number();
        m.next_voucher_number = number();
        REQUIRE(same(loaded(m, encode_member_record(m))) == same(m));
    }
}

TEST_CASE("a damaged record is refused with the field it broke at") {
    member_state m = full_member();
    std::string record = encode_member_record(m);

    SECTION("every shorter prefix is refused") {
        for (std::size_t n = 0; n < record.size(); ++n) {
            member_state into;
            auto r = decode_member_record(std::string_view(record).substr(0, n), into);
            INFO("prefix of " << n << " bytes");
            REQUIRE_FALSE(r);
        }
    }
    SECTION("bytes left over") {
        member_state into;
        auto r = decode_member_record(record + "x", into);
        REQUIRE_FALSE(r);
        CHECK(r.error() == "record: 1 bytes left over");
    }
    SECTION("an unknown format") {
        member_state into;
        std::string other = record;
        other[0] = 2;
        auto r = decode_member_record(other, into);
        REQUIRE_FALSE(r);
        CHECK(r.error() == "format: unknown format 2");
    }
    SECTION("unknown flags") {
        member_state into;
        std::string other = record;
        other[1] = static_cast<char>(0x08 | other[1]);
        auto r = decode_member_record(other, into);
        REQUIRE_FALSE(r);
        CHECK(r.error().rfind("flags: unknown flags", 0) == 0);
    }
    SECTION("a count larger than the record") {
        member_state empty;
        std::string small = encode_member_record(empty);
        // The lot count follows the six counters (one byte each here): claim 100 lots.
        small[1 + 1 + 6] = 100;
        member_state into;
        auto r = decode_member_record(small, into);
        REQUIRE_FALSE(r);
        CHECK(r.error() == "lots: count 100 exceeds the record");
    }
    SECTION("a cut inside a lot names the lot and its field") {
        member_state one;
        one.lots.push_back(
            make_lot(1, 64, 64, utc(2026_y / 11 / 24, 15), std::nullopt, "base", true, false));
        std::string small = encode_member_record(one);
        // Drop the last three bytes of the cause "base" and the three empty counts after it.
        member_state into;
        auto r = decode_member_record(std::string_view(small).substr(0, small.size() - 6), into);
        REQUIRE_FALSE(r);
        CHECK(r.error() == "lots[0].cause: cut short");
    }
    SECTION("a varint longer than 64 bits") {
        member_state into;
        std::string bad = std::string(1, '\x01') + std::string(11, '\xff') + std::string(1, '\x01');
        auto r = decode_member_record(bad, into);
        REQUIRE_FALSE(r);
        CHECK(r.error() == "flags: number too large");
    }
}
