#pragma once
// What a request's header must say once, and plainly, before its body is read: how the body is
// framed (Transfer-Encoding), where it is sent (Host), and the fields the router decides on.
// A proxy in front and this server must read a request the same way; where they might not, the
// request is refused rather than guessed at (RFC 9112 §3.2, §6.1, §6.3).

#include <boost/beast/http/fields.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/status.hpp>
#include <optional>
#include <string>

namespace loyalty::http {

struct head_refusal {
    boost::beast::http::status status;
    std::string type; // the problem type's slug: "bad-http", "unsupported-transfer-coding"
    std::string title;
    std::string detail;
};

// Why the request with this header may not be read on, or nullopt when it may.
std::optional<head_refusal>
refuse_request_head(const boost::beast::http::request_header<boost::beast::http::fields>& head);

} // namespace loyalty::http
