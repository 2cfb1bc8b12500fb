#pragma once
// Loading a program file: the only way to obtain a `program`.

#include "loyalty/program/diagnostic.hpp"
#include "loyalty/program/program.hpp"

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <tl/expected.hpp>

namespace loyalty::program {

using program_ptr = std::shared_ptr<const program>;

// Parses and validates a program written in YAML or JSON. On failure, every problem found,
// in document order, each with its line, column and path.
tl::expected<program_ptr, diagnostics> load_program(std::string_view text, std::string file_name);

// Reads the file, then as load_program. An unreadable file is one diagnostic.
tl::expected<program_ptr, diagnostics> load_program_file(const std::filesystem::path& file);

// "3 tiers, 8 earn rules, 4 rewards, 2 benefits": what `loyalty check` prints after ok.
std::string summary(const program& p);

} // namespace loyalty::program
