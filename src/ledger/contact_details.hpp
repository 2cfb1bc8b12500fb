#pragma once
// What the ledger accepts as a member's name and e-mail address, at enrolment and in a profile
// correction. The address is checked for its form only (one @, a dotted domain, nothing a mail
// header would choke on): a typo such as "ada.example.com" or "ada@example" is refused at the
// counter, where it can still be fixed, rather than found when the first mail bounces. Whether
// the mailbox exists is for a confirmation mail, which is outside the ledger.

#include <optional>
#include <string>
#include <string_view>

namespace loyalty::ledger::detail {

// Why `name` cannot be a member's name (a control character, or nothing but spaces), or nothing.
std::optional<std::string> name_problem(std::string_view name);

// Why `email` cannot be a member's address, or nothing. Bytes above 0x7F pass (internationalised
// addresses); the request's JSON has already made them valid UTF-8.
std::optional<std::string> email_problem(std::string_view email);

} // namespace loyalty::ledger::detail
