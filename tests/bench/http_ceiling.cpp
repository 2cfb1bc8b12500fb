// The HTTP ceiling of scripts/bench: the most trivial Boost.Beast server that still does what
// every request of the real server must do (accept, parse an HTTP/1.1 request with its body, keep
// the connection alive, write a response), and nothing else. GET and POST on any path answer a
// fixed small JSON body. The engine's request rates are reported as ratios to this server's,
// measured by the same load generator in the same run, on the same core.
//
// It is built like src/http/server.cpp: Asio threads running one io_context, one strand per
// connection (its concrete type, not any_io_executor), a beast::basic_stream with a timeout on
// every read, request_parser<string_body> with a body limit, and the response's head written as
// one text beside the body with the server's own response_head(). What it leaves out is the
// real server's work per request: routing, the API key lookup, the ledger and JSON. Whatever
// the server's HTTP plumbing saves, this saves too, so that the ratios keep measuring the
// engine's work and not a difference in plumbing.
//
// Usage: http_ceiling [--listen ADDRESS:PORT] [--threads N]
// Prints "http_ceiling: listening on ADDRESS:PORT" once bound (port 0 picks a free port) and
// serves until SIGINT or SIGTERM.

#include "loyalty/http/response_head.hpp"

#include <array>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <charconv>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

constexpr std::string_view get_body = R"({"ok":true,"method":"GET"})";
constexpr std::string_view post_body = R"({"ok":true,"method":"POST"})";
constexpr std::size_t body_limit = 1024 * 1024;
constexpr std::chrono::seconds idle_timeout{60};

using strand_type = asio::strand<asio::io_context::executor_type>;
using socket_type = tcp::socket::rebind_executor<strand_type>::other;

class session : public std::enable_shared_from_this<session> {
public:
    explicit session(socket_type socket) : stream_(std::move(socket)) {}

    void start() { read(); }

private:
    void read() {
        parser_.emplace();
        parser_->body_limit(body_limit);
        stream_.expires_after(idle_timeout);
        http::async_read(
            stream_, buffer_, *parser_,
            [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_read(ec); });
    }

    void on_read(beast::error_code ec) {
        if (ec) {
            return close();
        }
        http::request<http::string_body> req = parser_->release();
        bool post = req.method() == http::verb::post;
        response_ = {};
        response_.version(req.version());
        response_.result(post ? http::status::created : http::status::ok);
        response_.set(http::field::content_type, "application/json");
        response_.body() = post ? post_body : get_body;
        response_.keep_alive(req.keep_alive());
        response_.prepare_payload();
        stream_.expires_never();
        loyalty::http::response_head(response_, head_);
        std::array<asio::const_buffer, 2> bytes{asio::buffer(head_),
                                                asio::buffer(response_.body())};
        asio::async_write(stream_, bytes,
                          [self = shared_from_this()](beast::error_code wec, std::size_t) {
                              self->on_write(wec);
                          });
    }

    void on_write(beast::error_code ec) {
        if (ec || !response_.keep_alive()) {
            return close();
        }
        read();
    }

    void close() {
        beast::error_code ignored;
        stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
        stream_.socket().close(ignored);
    }

    beast::basic_stream<tcp, strand_type> stream_;
    beast::flat_buffer buffer_;
    std::string head_;
    std::optional<http::request_parser<http::string_body>> parser_;
    http::response<http::string_body> response_;
};

class listener : public std::enable_shared_from_this<listener> {
public:
    listener(asio::io_context& ioc, const tcp::endpoint& at)
        : ioc_(ioc), acceptor_(asio::make_strand(ioc)) {
        acceptor_.open(at.protocol());
        acceptor_.set_option(asio::socket_base::reuse_address(true));
        acceptor_.bind(at);
        acceptor_.listen(asio::socket_base::max_listen_connections);
    }

    tcp::endpoint local_endpoint() const { return acceptor_.local_endpoint(); }

    void accept() {
        acceptor_.async_accept(
            asio::make_strand(ioc_),
            [self = shared_from_this()](beast::error_code ec, socket_type socket) {
                if (!ec) {
                    std::make_shared<session>(std::move(socket))->start();
                } else if (ec == asio::error::operation_aborted) {
                    return;
                }
                self->accept();
            });
    }

    void stop() {
        beast::error_code ignored;
        acceptor_.close(ignored);
    }

private:
    asio::io_context& ioc_;
    tcp::acceptor acceptor_;
};

[[noreturn]] void usage(const std::string& problem) {
    std::cerr << "http_ceiling: " << problem
              << "\nusage: http_ceiling [--listen ADDRESS:PORT] [--threads N]\n";
    std::exit(2);
}

} // namespace

int main(int argc, char** argv) {
    std::string listen = "127.0.0.1:0";
    unsigned threads = 2;
    for (int i = 1; i < argc; ++i) {
        std::string_view arg = argv[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= argc) {
                usage(std::string(arg) + " needs a value");
            }
            return argv[++i];
        };
        if (arg == "--listen") {
            listen = value();
        } else if (arg == "--threads") {
            std::string v = value();
            if (std::from_chars(v.data(), v.data() + v.size(), threads).ec != std::errc() ||
                threads == 0 || threads > 64) {
                usage("--threads: expected 1 to 64");
            }
        } else if (arg == "--help" || arg == "-h") {
            usage("the trivial HTTP server of scripts/bench");
        } else {
            usage("unknown argument " + std::string(arg));
        }
    }
    auto colon = listen.rfind(':');
    unsigned port = 0;
    if (colon == std::string::npos ||
        std::from_chars(listen.data() + colon + 1, listen.data() + listen.size(), port).ec !=
            std::errc() ||
        port > 65535) {
        usage("--listen: expected ADDRESS:PORT");
    }

    try {
        asio::io_context ioc(static_cast<int>(threads));
        tcp::endpoint at(asio::ip::make_address(listen.substr(0, colon)),
                         static_cast<unsigned short>(port));
        auto server = std::make_shared<listener>(ioc, at);
        server->accept();
        asio::signal_set signals(ioc, SIGINT, SIGTERM);
        signals.async_wait([&](beast::error_code, int) {
            server->stop();
            ioc.stop();
        });
        auto bound = server->local_endpoint();
        std::cout << "http_ceiling: listening on " << bound.address().to_string() << ":"
                  << bound.port() << std::endl;

        std::vector<std::thread> pool;
        for (unsigned t = 1; t < threads; ++t) {
            pool.emplace_back([&ioc] { ioc.run(); });
        }
        ioc.run();
        for (auto& t : pool) {
            t.join();
        }
    } catch (const std::exception& e) {
        std::cerr << "http_ceiling: " << e.what() << "\n";
        return 1;
    }
    return 0;
}
