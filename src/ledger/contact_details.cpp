#include "contact_details.hpp"

#include "loyalty/engine/json_fields.hpp"

#include <algorithm>

namespace loyalty::ledger::detail {

namespace {

bool control(char c) {
    auto u = static_cast<unsigned char>(c);
    return u < 0x20 || u == 0x7F;
}

// RFC 5321's limits: 64 bytes before the @, 254 in all (what fits a forward path).
constexpr std::size_t max_local_bytes = 64;
constexpr std::size_t max_address_bytes = 254;
constexpr std::size_t max_label_bytes = 63; // DNS's

// A dot-atom's characters outside letters and digits (RFC 5322 atext); quoted local parts are
// left out, as most mail systems do.
bool atom_character(char c) {
    auto u = static_cast<unsigned char>(c);
    if (u >= 0x80 || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) {
        return true;
    }
    return std::string_view("!#$%&'*+-/=?^_`{|}~").find(c) != std::string_view::npos;
}

bool label_character(char c) {
    auto u = static_cast<unsigned char>(c);
    return u >= 0x80 || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || c == '-';
}

// Dot-separated parts, none empty (no leading, trailing or doubled dot) nor longer than
// `longest`.
template <class Allowed>
bool dotted(std::string_view text, Allowed allowed, std::size_t longest) {
    std::size_t start = 0;
    while (true) {
        std::size_t dot = text.find('.', start);
        std::string_view part =
            text.substr(start, dot == std::string_view::npos ? dot : dot - start);
        if (part.empty() || part.size() > longest ||
            !std::all_of(part.begin(), part.end(), allowed)) {
            return false;
        }
        if (dot == std::string_view::npos) {
            return true;
        }
        start = dot + 1;
    }
}

} // namespace

std::optional<std::string> name_problem(std::string_view name) {
    if (std::any_of(name.begin(), name.end(), control)) {
        return "a name has no control characters (line breaks, tabs)";
    }
    if (name.find_first_not_of(' ') == std::string_view::npos) {
        return "a name is more than spaces";
    }
    if (engine::has_bidi_control(name)) {
        return engine::bidi_control_problem;
    }
    return std::nullopt;
}

std::optional<std::string> email_problem(std::string_view email) {
    const std::string expected = "expected an e-mail address such as ada@example.com";
    if (email.size() > max_address_bytes) {
        return expected + ", of at most " + std::to_string(max_address_bytes) + " bytes";
    }
    auto at = email.rfind('@');
    if (at == std::string_view::npos) {
        return expected + " (no @)";
    }
    std::string_view local = email.substr(0, at);
    std::string_view domain = email.substr(at + 1);
    if (local.empty() || local.size() > max_local_bytes ||
        !dotted(local, atom_character, max_local_bytes)) {
        return expected + " (the part before the @)";
    }
    if (domain.find('.') == std::string_view::npos ||
        !dotted(domain, label_character, max_label_bytes)) {
        return expected + " (the domain after the @)";
    }
    // A domain's labels do not begin or end with a hyphen.
    for (std::size_t i = 0; i < domain.size(); ++i) {
        bool edge =
            i == 0 || i + 1 == domain.size() || domain[i - 1] == '.' || domain[i + 1] == '.';
        if (domain[i] == '-' && edge) {
            return expected + " (the domain after the @)";
        }
    }
    return std::nullopt;
}

} // namespace loyalty::ledger::detail
