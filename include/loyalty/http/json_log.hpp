#pragma once
// Log lines as JSON objects, one per line, for the server: {"ts", "level", "msg"}. A message
// that is itself a JSON object (the router's request lines) is embedded as an object; any other
// message becomes a JSON string.

namespace loyalty::http {

// Sets the default spdlog logger's format (process-wide, at start-up only).
void use_json_logs();

} // namespace loyalty::http
