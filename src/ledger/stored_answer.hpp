#pragma once
// An operation's answer as `operations.outcome` keeps it: without its movements.
//
// Why: the movements of an answer (cause, explanation, kind, lot, pending and points of each)
// are the operation's ledger entries one for one and in order (store::save writes both from the
// same list), so the row repeated them word for word, about 140 bytes each. For a purchase of
// three movements that was 430 of the row's 2,050-2,150 bytes, just over half a 4 KiB page, so
// every purchase appended a page of its own. The row keeps `"movements":[]` instead, and a
// replay writes them back from the entries (engine::movements_text), byte for byte. Rows written
// before keep their movements and are answered as stored; an answer whose movements were empty
// has no entries, so both read back the same.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace loyalty::ledger::detail {

// Where the value of the answer's top-level "movements" member starts and ends (one past its
// closing bracket); none when the answer is not a JSON object with such a member.
struct text_span {
    std::size_t begin = 0;
    std::size_t end = 0;
};
std::optional<text_span> movements_span(std::string_view answer);

// The answer as stored: its top-level movements emptied. Unchanged when it has none.
std::string stored_answer(std::string_view answer);

// The answer given again: `stored` with `movements` (a JSON array's text) in place of its
// top-level movements. Unchanged when it has none.
std::string answer_with_movements(std::string_view stored, std::string_view movements);

} // namespace loyalty::ledger::detail
