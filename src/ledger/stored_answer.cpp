#include "stored_answer.hpp"

namespace loyalty::ledger::detail {

namespace {

constexpr std::string_view movements_key = "movements";
constexpr std::size_t none = std::string_view::npos;

std::size_t skip_space(std::string_view t, std::size_t i) {
    while (i < t.size() && (t[i] == ' ' || t[i] == '\n' || t[i] == '\r' || t[i] == '\t')) {
        ++i;
    }
    return i;
}

// The index after the string that opens at t[i] ('"'), or none when it is not closed.
std::size_t skip_string(std::string_view t, std::size_t i) {
    for (++i; i < t.size(); ++i) {
        if (t[i] == '\\') {
            ++i; // the escaped character, whatever it is
        } else if (t[i] == '"') {
            return i + 1;
        }
    }
    return none;
}

// The index after the value that starts at t[i], or none when the text ends inside it. The
// answer is JSON the engine wrote; this only has to find where values end, not check them.
std::size_t skip_value(std::string_view t, std::size_t i) {
    if (i >= t.size()) {
        return none;
    }
    if (t[i] == '"') {
        return skip_string(t, i);
    }
    if (t[i] == '{' || t[i] == '[') {
        int depth = 0;
        while (i < t.size()) {
            char c = t[i];
            if (c == '"') {
                i = skip_string(t, i);
                if (i == none) {
                    return none;
                }
                continue;
            }
            if (c == '{' || c == '[') {
                ++depth;
            } else if (c == '}' || c == ']') {
                if (--depth == 0) {
                    return i + 1;
                }
            }
            ++i;
        }
        return none;
    }
    // A number, true, false or null: up to the next delimiter.
    while (i < t.size() && t[i] != ',' && t[i] != '}' && t[i] != ']' && t[i] != ' ' &&
           t[i] != '\n' && t[i] != '\r' && t[i] != '\t') {
        ++i;
    }
    return i;
}

} // namespace

std::optional<text_span> movements_span(std::string_view t) {
    std::size_t i = skip_space(t, 0);
    if (i >= t.size() || t[i] != '{') {
        return std::nullopt;
    }
    i = skip_space(t, i + 1);
    while (i < t.size() && t[i] == '"') {
        std::size_t key_end = skip_string(t, i);
        if (key_end == none) {
            return std::nullopt;
        }
        // The key as written, quotes aside; an escaped spelling of "movements" is not ours.
        std::string_view key = t.substr(i + 1, key_end - i - 2);
        i = skip_space(t, key_end);
        if (i >= t.size() || t[i] != ':') {
            return std::nullopt;
        }
        std::size_t value = skip_space(t, i + 1);
        std::size_t value_end = skip_value(t, value);
        if (value_end == none) {
            return std::nullopt;
        }
        if (key == movements_key) {
            if (t[value] != '[') {
                return std::nullopt;
            }
            return text_span{value, value_end};
        }
        i = skip_space(t, value_end);
        if (i < t.size() && t[i] == ',') {
            i = skip_space(t, i + 1);
        }
    }
    return std::nullopt;
}

std::string answer_with_movements(std::string_view stored, std::string_view movements) {
    auto span = movements_span(stored);
    if (!span) {
        return std::string(stored);
    }
    std::string out;
    out.reserve(stored.size() + movements.size());
    out.append(stored.substr(0, span->begin)).append(movements).append(stored.substr(span->end));
    return out;
}

std::string stored_answer(std::string_view answer) {
    return answer_with_movements(answer, "[]");
}

} // namespace loyalty::ledger::detail
