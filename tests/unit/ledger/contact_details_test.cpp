// The form of a member's name and e-mail address (src/ledger/contact_details.hpp), and that the
// ledger refuses a malformed one at enrolment and in a correction without storing anything.

#include "contact_details.hpp"
#include "loyalty/ledger/ledger.hpp"
#include "support/ledger_calls.hpp"
#include "support/sample_program.hpp"
#include "support/temp_dir.hpp"
#include "support/times.hpp"

#include <catch2/catch.hpp>

using namespace loyalty::ledger;
using loyalty::test::pos;

TEST_CASE("addresses people type are accepted, typos are refused with the part at fault",
          "[contact]") {
    for (const char* good :
         {"ada@example.com", "ada.lovelace+coffee@mail.example.co.uk", "o'neil@example.ie",
          "a@b.io", "user_1@sub-domain.example.com", "zoë@exämple.de", "x!#$%&*/=?^`{|}~@a.bc"}) {
        INFO(good);
        CHECK_FALSE(detail::email_problem(good));
    }
    struct bad_address {
        const char* email;
        const char* part;
    };
    for (auto [email, part] : std::initializer_list<bad_address>{
             {"ada.example.com", "(no @)"},
             {"", "(no @)"},
             {"@example.com", "before the @"},
             {"ada@@example.com", "before the @"},
             {"ada lovelace@example.com", "before the @"},
             {".ada@example.com", "before the @"},
             {"ada.@example.com", "before the @"},
             {"ada..l@example.com", "before the @"},
             {"\"ada\"@example.com", "before the @"},
             {"ada@example", "the domain"},
             {"ada@", "the domain"},
             {"ada@example..com", "the domain"},
             {"ada@example.com.", "the domain"},
             {"ada@-example.com", "the domain"},
             {"ada@example-.com", "the domain"},
             {"ada@exa mple.com", "the domain"},
             {"ada@example.com\n", "the domain"},
             {"ada@exa_mple.com", "the domain"},
         }) {
        INFO(email);
        auto problem = detail::email_problem(email);
        REQUIRE(problem);
        CHECK_THAT(*problem, Catch::Contains("expected an e-mail address such as ada@example.com"));
        CHECK_THAT(*problem, Catch::Contains(part));
    }
    // RFC 5321's lengths: 64 bytes before the @, 254 in all.
    CHECK_FALSE(detail::email_problem(std::string(64, 'a') + "@example.com"));
    CHECK(detail::email_problem(std::string(65, 'a') + "@example.com"));
    // Labels of at most 63 bytes (DNS's limit).
    const std::string label(63, 'd');
    const std::string domain = label + "." + label + "." + label + "." + std::string(60, 'd');
    REQUIRE(domain.size() == 252);
    CHECK_FALSE(detail::email_problem("a@" + domain)); // 254 bytes
    CHECK(detail::email_problem("ab@" + domain));
    CHECK(detail::email_problem("a@" + label + "d.com"));
}

TEST_CASE("names are free text on one line", "[contact]") {
    for (const char* good : {"Ada", "Ada Lovelace", "O'Neil-Smith", "José Ñúñez", "李小龍"}) {
        CHECK_FALSE(detail::name_problem(good));
    }
    CHECK(detail::name_problem("Ada\nLovelace"));
    CHECK(detail::name_problem("Ada\tL"));
    CHECK(detail::name_problem(std::string("Ada\0L", 5)));
    CHECK(detail::name_problem("   "));
}

TEST_CASE("the ledger refuses a malformed name or address and stores nothing", "[contact]") {
    loyalty::test::temp_dir dir;
    ledger_options o;
    o.database = dir / "loyalty.db";
    o.clock = [] {
        return loyalty::test::at("2026-11-02T15:00:00Z");
    };
    loyalty::ledger::ledger book(o, loyalty::test::sample_path());

    auto refused =
        book.enroll(pos(), {"m-1", "Ada", "ada.example.com", std::nullopt, std::nullopt});
    REQUIRE_FALSE(refused);
    CHECK(refused.error().code == error_code::invalid_request);
    CHECK(refused.error().field == "email");
    CHECK_FALSE(book.member("m-1", o.clock()));
    refused = book.enroll(pos(), {"m-1", "Ada\r\n", std::nullopt, std::nullopt, std::nullopt});
    REQUIRE_FALSE(refused);
    CHECK(refused.error().field == "name");
    CHECK_FALSE(book.member("m-1", o.clock()));

    REQUIRE(book.enroll(pos(), {"m-1", "Ada", "ada@example.com", std::nullopt, std::nullopt}));
    const auto support = loyalty::test::support_staff();
    refused = book.change_profile(support, "m-1",
                                  {"c-1", std::nullopt, std::optional<std::string>("ada@example"),
                                   std::nullopt, "new address"});
    REQUIRE_FALSE(refused);
    CHECK(refused.error().field == "email");
    // The same id may be used once the address is right: the refusal stored nothing, not even
    // the id.
    REQUIRE(book.change_profile(support, "m-1",
                                {"c-1", std::nullopt, std::optional<std::string>("ada@example.org"),
                                 std::nullopt, "new address"}));
    CHECK(book.member("m-1", o.clock())->email == std::optional<std::string>("ada@example.org"));
    // Clearing needs no check.
    REQUIRE(book.change_profile(
        support, "m-1",
        {"c-2", std::nullopt, std::optional<std::string>(), std::nullopt, "no more mail"}));
    CHECK_FALSE(book.member("m-1", o.clock())->email);
}
