#include "loyalty/http/response_head.hpp"

namespace loyalty::http {

void response_head(const boost::beast::http::response<boost::beast::http::string_body>& res,
                   std::string& out) {
    // Beast writes the version and the code digit by digit, without checking their range: so
    // does this, so that both texts stay the same for any message.
    unsigned version = res.version();
    unsigned code = res.result_int();
    boost::beast::string_view reason = res.reason();
    std::size_t size = 13 + reason.size() + 4;
    for (const auto& field : res) {
        size += field.name_string().size() + field.value().size() + 4;
    }
    out.clear();
    out.reserve(size);
    out.append("HTTP/", 5);
    out += static_cast<char>('0' + version / 10);
    out += '.';
    out += static_cast<char>('0' + version % 10);
    out += ' ';
    out += static_cast<char>('0' + code / 100);
    out += static_cast<char>('0' + (code / 10) % 10);
    out += static_cast<char>('0' + code % 10);
    out += ' ';
    out.append(reason.data(), reason.size());
    out.append("\r\n", 2);
    for (const auto& field : res) {
        boost::beast::string_view name = field.name_string();
        boost::beast::string_view value = field.value();
        out.append(name.data(), name.size());
        out.append(": ", 2);
        out.append(value.data(), value.size());
        out.append("\r\n", 2);
    }
    out.append("\r\n", 2);
}

} // namespace loyalty::http
