#pragma once
// Log lines as JSON objects, one per line, for the server: {"ts", "level", "msg"}. A message
// that is itself a JSON object (the router's request lines) is embedded as an object; any other
// message becomes a JSON string.

#include <spdlog/common.h>
#include <string_view>

namespace loyalty::http {

// Sets the default spdlog logger's format and output (process-wide, at start-up only): lines go
// to standard output in batches, written when 64 KiB have gathered, at least every second, and
// at once for a warning or an error (a write per request line was a system call per request).
void use_json_logs();

// Logs `object`, the text of a JSON object the server wrote itself (json_writer, or nlohmann's
// dump), as the line's message, without checking it again: checking cost a parse per line.
void log_object(spdlog::level::level_enum level, std::string_view object);

} // namespace loyalty::http
