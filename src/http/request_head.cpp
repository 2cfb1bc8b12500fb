#include "loyalty/http/request_head.hpp"

#include <boost/beast/core/string.hpp>
#include <string_view>
#include <vector>

namespace loyalty::http {

namespace {

namespace beast_http = boost::beast::http;

head_refusal bad_http(std::string detail) {
    return {beast_http::status::bad_request, "bad-http", "Malformed HTTP request",
            std::move(detail)};
}

std::string_view trimmed(std::string_view s) {
    auto first = s.find_first_not_of(" \t");
    if (first == std::string_view::npos) {
        return {};
    }
    return s.substr(first, s.find_last_not_of(" \t") - first + 1);
}

// Every coding of every Transfer-Encoding field, in order, without parameters.
std::vector<std::string_view> transfer_codings(const beast_http::request_header<>& head) {
    std::vector<std::string_view> codings;
    auto [from, to] = head.equal_range(beast_http::field::transfer_encoding);
    for (auto it = from; it != to; ++it) {
        std::string_view value = it->value();
        while (!value.empty()) {
            auto comma = value.find(',');
            std::string_view coding = value.substr(0, comma);
            coding = trimmed(coding.substr(0, coding.find(';')));
            if (!coding.empty()) {
                codings.push_back(coding);
            }
            value = comma == std::string_view::npos ? std::string_view{} : value.substr(comma + 1);
        }
    }
    return codings;
}

} // namespace

std::optional<head_refusal> refuse_request_head(const beast_http::request_header<>& head) {
    if (head.count(beast_http::field::transfer_encoding) != 0) {
        // HTTP/1.0 has no Transfer-Encoding: a 1.0 proxy would read the body another way.
        if (head.version() < 11) {
            return bad_http("Transfer-Encoding in an HTTP/1.0 request: its framing cannot be "
                            "trusted (RFC 9112 6.1).");
        }
        auto codings = transfer_codings(head);
        if (codings.empty() || !boost::beast::iequals(codings.back(), "chunked")) {
            // RFC 9112 6.3: without chunked last, the length is unknown.
            return bad_http("Transfer-Encoding other than chunked is not supported.");
        }
        for (std::size_t i = 0; i + 1 < codings.size(); ++i) {
            if (boost::beast::iequals(codings[i], "chunked")) {
                return bad_http("Transfer-Encoding: chunked is applied once, last (RFC 9112 6.1).");
            }
            // A body this server cannot decode would be read as if it were not encoded: a
            // proxy that decodes it would see another request.
            return head_refusal{beast_http::status::not_implemented, "unsupported-transfer-coding",
                                "Transfer coding not supported",
                                "Transfer-Encoding: " + std::string(codings[i]) +
                                    " is not supported; send the body with chunked alone, or "
                                    "with a Content-Length."};
        }
    }
    // RFC 9112 3.2: an HTTP/1.1 request has exactly one Host; two could route it two ways.
    std::size_t hosts = head.count(beast_http::field::host);
    if ((head.version() >= 11 && hosts == 0) || hosts > 1) {
        return bad_http("A request has one Host header field; this one has " +
                        std::to_string(hosts) + ".");
    }
    // The fields the router decides on: with two, a proxy could check one and this server use
    // the other.
    for (auto [field, name] : {std::pair{beast_http::field::authorization, "Authorization"},
                               std::pair{beast_http::field::content_type, "Content-Type"}}) {
        if (head.count(field) > 1) {
            return bad_http(std::string("The header field ") + name + " is given more than once.");
        }
    }
    if (head.count("Idempotency-Key") > 1) {
        return bad_http("The header field Idempotency-Key is given more than once.");
    }
    return std::nullopt;
}

} // namespace loyalty::http
