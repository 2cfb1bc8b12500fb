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
    // The statuses upgrades replaced, one with an end and one without.
    m.tier.replaced = {{"green", utc(2025_y / 1 / 5, 9, 0, 7), std::nullopt},
                       {"silver", utc(2025_y / 6 / 1), timestamp{seconds{most}}, {}, least}};
    m.tier.entry_threshold = 500;
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
    m.tier.replaced.clear();
    m.tier.entry_threshold.reset();
    m.lots.clear();
    m.metric.clear();
    m.usage.clear();
    m.purchase_times.clear();
    auto decoded = decode_member_record(record, m);
    INFO((decoded ? "" : decoded.error()));
    REQUIRE(decoded);
    return m;
}

std::string from_hex(std::string_view hex) {
    std::string bytes;
    for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
        bytes += static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16));
    }
    return bytes;
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

TEST_CASE("a lot takes about 10 bytes, not the 150 of its JSON") {
    // A member buying daily: each day a lot from the base rate, pending 14 days, and one from a
    // bonus, with their metric contributions and the bonus's payout.
    member_state m;
    m.tier = {"green", utc(2026_y / 1 / 1), std::nullopt};
    std::size_t empty = encode_member_record(m).size();
    const int days = 100;
    for (int day = 0; day < days; ++day) {
        timestamp at = utc(2026_y / 1 / 2, 8) + std::chrono::hours{24 * day} + seconds{day * 37};
        for (const char* cause : {"base", "double_tuesday"}) {
            lot l = make_lot(m.next_lot_id++, 9 + day % 7, 9 + day % 7, at, std::nullopt, cause,
                             true, true);
            l.available_at = at + std::chrono::hours{24 * 14};
            m.lots.push_back(l);
            m.metric.push_back({at, l.earned, cause});
        }
        m.usage.push_back({"double_tuesday", at, 1, 9});
    }
    m.lots[3].remaining = 2; // spent in part
    REQUIRE(same(loaded(m, encode_member_record(m))) == same(m));
    std::size_t per_day = (encode_member_record(m).size() - empty) / days;
    CHECK(per_day <= 2 * 10 + 2 * 6 + 6);
    m.metric.clear();
    m.usage.clear();
    std::size_t per_lot = (encode_member_record(m).size() - empty) / (2 * days);
    CHECK(per_lot <= 10);
    CHECK(lot_to_json(m.lots[0]).dump().size() >= 150);
}

TEST_CASE("records of format 1, written before format 2, still read") {
    // encode_member_record(full_member()) as format 1 wrote it, then with every lot (the second
    // closed); taken from the build of 07753b3.
    const std::string open_lots = from_hex(
        "0107a274076d2dc3a974c3a99cd1d5b00d228280808080808020ffffffffffffffffff01feffffffffffffff"
        "ff01100605068c15d00fe099adb00d80d4930107a0eccc1e09626173655f7261746508e807e807e099adb00d"
        "80d49301000c636f666665655f626f6e75730a82808080808080208180808080808020d6c6fab00d80d49301"
        "03aab9c620000cfeffffffffffffffff01ffffffffffffffffff01ffffffffffffffffff010105010c61646a"
        "7573746d656e742d390ea0012880869c9a0d80d493010f8084d11109626173655f726174655a02e099adb00d"
        "8c1505742d313030c0a4eab00d830703722d31020c636f666665655f626f6e7573e099adb00d04e807077765"
        "6c636f6d65ffffffffffffffffff01feffffffffffffffff01ffffffffffffffffff01049cd1d5b00dbbb728"
        "9ee6d2cff2ffffffff0102");
    const std::string every_lot = from_hex(
        "0107a274076d2dc3a974c3a99cd1d5b00d228280808080808020ffffffffffffffffff01feffffffffffffff"
        "ff01100605068c15d00fe099adb00d80d4930107a0eccc1e09626173655f7261746508e80700e099adb00d80"
        "d49301000c636f666665655f626f6e75730a82808080808080208180808080808020d6c6fab00d80d4930103"
        "aab9c620000cfeffffffffffffffff01ffffffffffffffffff01ffffffffffffffffff010105010c61646a75"
        "73746d656e742d390ea0012880869c9a0d80d493010f8084d11109626173655f726174655a02e099adb00d8c"
        "1505742d313030c0a4eab00d830703722d31020c636f666665655f626f6e7573e099adb00d04e8070777656c"
        "636f6d65ffffffffffffffffff01feffffffffffffffff01ffffffffffffffffff01049cd1d5b00dbbb7289e"
        "e6d2cff2ffffffff0102");
    member_state m = full_member();
    m.tier.replaced.clear(); // format 1 had none
    m.tier.entry_threshold.reset();
    CHECK(same(loaded(m, open_lots)) == same(m));
    m.lots[1].remaining = 0;
    CHECK(same(loaded(m, every_lot)) == same(m));
    // Written again, it is format 2, and reads back the same.
    CHECK(encode_member_record(m, false)[0] == 2);
    CHECK(same(loaded(m, encode_member_record(m, false))) == same(m));
}

TEST_CASE("a name is written once, then by its place among the last 16 used") {
    member_state m;
    m.tier = {"green", utc(2026_y / 1 / 1), std::nullopt};
    // Twenty distinct causes, used in turn: by the time one comes round again nineteen others
    // were used, so it has dropped off the list of 16 and is written whole each round.
    for (int round = 0; round < 3; ++round) {
        for (int i = 0; i < 20; ++i) {
            m.metric.push_back({utc(2026_y / 2 / 1), i, "cause-" + std::to_string(i)});
        }
    }
    m.metric.push_back({utc(2026_y / 2 / 1), 1, "cause-19"});  // the front of the list
    m.usage.push_back({"cause-4", utc(2026_y / 2 / 1), 1, 1}); // the back of it
    std::string rotating = encode_member_record(m);
    REQUIRE(same(loaded(m, rotating)) == same(m));
    auto written_whole = [&](std::string_view name) {
        std::size_t times = 0;
        for (auto at = rotating.find(name); at != std::string::npos;
             at = rotating.find(name, at + 1)) {
            ++times;
        }
        return times;
    };
    CHECK(written_whole("cause-4") == 3);  // by place the fourth time
    CHECK(written_whole("cause-19") == 3); // by place the fourth time

    member_state one;
    one.metric.push_back({utc(2026_y / 2 / 1), 5, "base"});
    one.metric.push_back({utc(2026_y / 2 / 1), 5, "base"});
    std::string record = encode_member_record(one);
    // The second entry names the first's cause by its place, 1, in the last byte before the
    // empty usage and purchase time counts; 2 is a place the list does not have.
    REQUIRE(record[record.size() - 3] == 1);
    record[record.size() - 3] = 2;
    member_state into;
    auto r = decode_member_record(record, into);
    REQUIRE_FALSE(r);
    CHECK(r.error() == "metric[1].cause: unknown name 2");
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
        other[0] = 3;
        auto r = decode_member_record(other, into);
        REQUIRE_FALSE(r);
        CHECK(r.error() == "format: unknown format 3");
    }
    SECTION("unknown flags") {
        member_state into;
        std::string other = record;
        other[1] = static_cast<char>(0x10 | other[1]);
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
