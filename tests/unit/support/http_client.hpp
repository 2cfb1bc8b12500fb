#pragma once
// An HTTP/1.1 client for tests against a server on 127.0.0.1: requests go out one at a time on
// one keep-alive connection, which is reopened only when it was closed. Every reopening is
// counted, and so is a connection found closed by the server without a word, so a test can tell
// a reused connection from a silently replaced one. Each operation runs to completion before
// round_trip() returns, but under a deadline: a server that never answers fails the test instead
// of hanging it.

#include <array>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>

namespace loyalty::test {

class http_client {
public:
    using request = boost::beast::http::request<boost::beast::http::string_body>;
    using response = boost::beast::http::response<boost::beast::http::string_body>;
    using error_code = boost::system::error_code;

    // What became of one request.
    struct exchange {
        error_code ec;     // set when no whole response came back
        std::string stage; // where it failed: "connect", "write" or "read"
        response res;
        bool reused = false;         // sent on a connection that had carried a response before
        bool found_closed = false;   // the kept-alive connection was closed when this one came
        std::size_t stray_bytes = 0; // bytes from the server that no response accounted for
    };

    explicit http_client(std::uint16_t port,
                         std::chrono::milliseconds timeout = std::chrono::seconds(10))
        : port_(port), timeout_(timeout) {}

    http_client(const http_client&) = delete;
    http_client& operator=(const http_client&) = delete;
    ~http_client() { close(); }

    // Sends `req` as it is (Content-Length included) and reads the one response to it. After a
    // response without keep-alive the connection is closed: the next request opens another.
    exchange round_trip(const request& req) {
        namespace bhttp = boost::beast::http;
        exchange x;
        if (stream_) {
            // Whatever came since the last response was not asked for.
            x.stray_bytes = buffer_.size() + pending_bytes();
            if (x.stray_bytes == 0 && !still_open()) {
                x.found_closed = true;
                ++found_closed_;
            }
            if (x.stray_bytes > 0 || x.found_closed) {
                close();
            }
        }
        if (!stream_) {
            x.ec = connect();
            if (x.ec) {
                x.stage = "connect";
                return x;
            }
        }
        x.reused = responses_on_connection_ > 0;

        x.ec = run([&](auto done) { bhttp::async_write(*stream_, req, std::move(done)); });
        if (x.ec) {
            x.stage = "write";
            close();
            return x;
        }
        bhttp::response_parser<bhttp::string_body> parser;
        parser.body_limit(64 * 1024 * 1024);
        parser.skip(req.method() == bhttp::verb::head);
        x.ec =
            run([&](auto done) { bhttp::async_read(*stream_, buffer_, parser, std::move(done)); });
        if (x.ec) {
            x.stage = "read";
            close();
            return x;
        }
        x.res = parser.release();
        ++responses_on_connection_;
        if (!x.res.keep_alive()) {
            close(); // the server closes its end after such a response
        }
        return x;
    }

    // Connections opened so far.
    int connects() const { return connects_; }
    // Kept-alive connections found closed before a request could be sent on them.
    int found_closed() const { return found_closed_; }

    void close() {
        if (stream_) {
            error_code ignored;
            stream_->socket().shutdown(boost::asio::ip::tcp::socket::shutdown_both, ignored);
            stream_->close();
            stream_.reset();
        }
        buffer_.consume(buffer_.size());
        responses_on_connection_ = 0;
    }

private:
    error_code connect() {
        namespace asio = boost::asio;
        stream_.emplace(ioc_);
        ++connects_;
        auto ec = run([&](auto done) {
            stream_->async_connect(
                asio::ip::tcp::endpoint(asio::ip::make_address_v4("127.0.0.1"), port_),
                std::move(done));
        });
        if (!ec) {
            // One request, one response: nothing to gain from Nagle's algorithm but delays.
            stream_->socket().set_option(asio::ip::tcp::no_delay(true), ec);
        }
        if (ec) {
            close();
        }
        return ec;
    }

    // Starts one asynchronous operation on the stream and runs it to its end or the deadline.
    template <class Start>
    error_code run(Start start) {
        error_code result = boost::asio::error::would_block;
        stream_->expires_after(timeout_);
        start([&result](error_code ec, auto&&...) { result = ec; });
        ioc_.restart();
        ioc_.run();
        return result;
    }

    // Bytes received but not yet read.
    std::size_t pending_bytes() {
        error_code ec;
        std::size_t n = stream_->socket().available(ec);
        return ec ? 0 : n;
    }

    // Whether the server still holds the connection open: a peek that would block says so;
    // end of file or a reset says it does not.
    bool still_open() {
        auto& socket = stream_->socket();
        error_code ec;
        socket.non_blocking(true, ec);
        if (ec) {
            return false;
        }
        std::array<char, 1> probe{};
        socket.receive(boost::asio::buffer(probe), boost::asio::socket_base::message_peek, ec);
        error_code ignored;
        socket.non_blocking(false, ignored);
        return !ec || ec == boost::asio::error::would_block || ec == boost::asio::error::try_again;
    }

    std::uint16_t port_;
    std::chrono::milliseconds timeout_;
    boost::asio::io_context ioc_; // before the stream, which must go first
    std::optional<boost::beast::tcp_stream> stream_;
    boost::beast::flat_buffer buffer_;
    int responses_on_connection_ = 0;
    int connects_ = 0;
    int found_closed_ = 0;
};

} // namespace loyalty::test
