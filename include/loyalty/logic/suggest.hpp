#pragma once
// "did you mean ...?" for misspelled operators, keys and names: shared by the JsonLogic compiler
// and the program loader.

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace loyalty::logic {

// Optimal string alignment distance: insertions, deletions, substitutions and transpositions of
// neighbours each cost one, so "teirs" is one edit from "tiers".
std::size_t edit_distance(std::string_view a, std::string_view b);

// The candidate closest to `word`, if close enough to be a likely typo (within a third of the
// word's length, at least one edit); empty otherwise.
std::string closest(std::string_view word, const std::vector<std::string>& candidates);

} // namespace loyalty::logic
