#include "flow_brackets.hpp"

#include <algorithm>
#include <vector>

namespace loyalty::program::detail {

namespace {

bool blank(char c) {
    return c == ' ' || c == '\t';
}

// Whether a scalar or collection may start at `i`: at the start of a line's content, after a
// flow indicator, or after an indicator (`:`, `-`, `?`) and a blank. In a flow collection a
// `:` right after a quoted key counts too, as JSON writes it.
bool value_can_start(std::string_view text, std::size_t i, bool in_flow) {
    std::size_t j = i;
    while (j > 0 && blank(text[j - 1])) {
        --j;
    }
    if (j == 0 || text[j - 1] == '\n' || text[j - 1] == '\r') {
        return true;
    }
    char before = text[j - 1];
    if (before == '{' || before == '[' || before == ',') {
        return true;
    }
    if (before == ':' || before == '-' || before == '?') {
        return j < i || (in_flow && before == ':');
    }
    return false;
}

} // namespace

text_shape scan_text(std::string_view text, std::size_t until) {
    text_shape shape; // shape.open: offsets of the brackets open, innermost last
    std::vector<std::size_t>& open = shape.open;
    until = std::min(until, text.size());
    for (std::size_t i = 0; i < until; ++i) {
        char c = text[i];
        bool in_flow = !open.empty();
        if (c == '#' && (i == 0 || blank(text[i - 1]) || text[i - 1] == '\n')) {
            while (i + 1 < until && text[i + 1] != '\n') {
                ++i;
            }
        } else if ((c == '"' || c == '\'') && value_can_start(text, i, in_flow)) {
            // A quoted scalar, to its closing quote ('' is a quote inside single quotes).
            std::size_t start = i;
            bool across_lines = false;
            for (++i; i < until; ++i) {
                if (c == '"' && text[i] == '\\') {
                    ++i;
                } else if (text[i] == '\n') {
                    across_lines = true;
                } else if (text[i] == c) {
                    if (c == '\'' && i + 1 < until && text[i + 1] == '\'') {
                        ++i;
                    } else {
                        break;
                    }
                }
            }
            if (across_lines && !shape.quote_across_lines) {
                shape.quote_across_lines = start;
            }
        } else if ((c == '{' || c == '[') && (in_flow || value_can_start(text, i, in_flow))) {
            open.push_back(i);
        } else if ((c == '}' || c == ']') && in_flow) {
            open.pop_back();
        }
    }
    return shape;
}

} // namespace loyalty::program::detail
