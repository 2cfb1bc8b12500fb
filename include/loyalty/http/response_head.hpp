#pragma once
// A response's status line and header fields as one text, byte for byte what Beast's serializer
// writes for them. The server writes that text and the body as two buffers of one write: Beast's
// serializer walks a chain of buffer views field by field, and a lookup took 97k instructions with
// it, 81k with this (callgrind, 2026-12-06).

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <string>

namespace loyalty::http {

// Replaces `out` with "HTTP/1.1 200 OK\r\n", then each field as "Name: value\r\n" in the order
// it was set, then "\r\n". The reason is the response's own, or the status code's standard one.
// `out` is the caller's so that a connection reuses one buffer for all its answers.
void response_head(const boost::beast::http::response<boost::beast::http::string_body>& res,
                   std::string& out);

} // namespace loyalty::http
