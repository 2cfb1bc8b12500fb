// The server's I/O: a listener and one session per connection, after Beast's async and advanced
// servers. Requests become responses in the router; everything here is sockets, limits, timeouts
// and shutdown.

#include "loyalty/http/server.hpp"

#include "loyalty/http/json_log.hpp"
#include "loyalty/http/request_head.hpp"
#include "loyalty/http/response_head.hpp"

#include <array>
#include <atomic>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <csignal>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <pthread.h>
#include <random>
#include <spdlog/spdlog.h>
#include <stdexcept>
#include <string_view>
#include <thread>
#include <vector>

namespace loyalty::http {

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;
using clock_type = std::chrono::steady_clock;

// After stop() the requests in flight have this long to be answered; then every socket is closed.
constexpr auto shutdown_grace = std::chrono::seconds(10);
constexpr auto shutdown_poll = std::chrono::milliseconds(20);
// After a response with Connection: close the session drains what the client still sends for a
// moment, so that closing does not reset the connection before the client read the response.
constexpr auto linger_time = std::chrono::seconds(1);
constexpr std::size_t linger_bytes = 1024 * 1024;
constexpr auto accept_retry = std::chrono::milliseconds(100);
constexpr std::size_t first_read_size = 4096;
constexpr std::string_view request_id_header = "X-Request-Id";

bool valid_request_id(std::string_view id) {
    if (id.empty() || id.size() > 64) {
        return false;
    }
    for (char c : id) {
        bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                  c == '.' || c == '_' || c == '-';
        if (!ok) {
            return false;
        }
    }
    return true;
}

// SplitMix64's finaliser: a bijection, so distinct counters give distinct ids.
std::uint64_t mix(std::uint64_t x) {
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

std::string hex16(std::uint64_t x) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string out(16, '0');
    for (int i = 15; i >= 0; --i) {
        out[static_cast<std::size_t>(i)] = digits[x & 0xf];
        x >>= 4;
    }
    return out;
}

std::uint64_t random_seed() {
    std::random_device device;
    return (static_cast<std::uint64_t>(device()) << 32) ^ device();
}

void log_json(spdlog::level::level_enum level, const nlohmann::json& line) {
    if (spdlog::default_logger_raw()->should_log(level)) {
        log_object(level, line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    }
}

bool is_http_error(const error_code& ec) {
    return ec.category() == beast_http::make_error_code(beast_http::error::bad_target).category();
}

// A peer going away is routine, not worth more than a debug line.
bool is_disconnect(const error_code& ec) {
    return ec == asio::error::eof || ec == asio::error::connection_reset ||
           ec == asio::error::broken_pipe || ec == asio::error::connection_aborted ||
           ec == beast_http::error::end_of_stream;
}

class session;

// A connection's strand, as a concrete type: the socket, its timer and every handler of the
// connection run on it. With Asio's type-erased any_io_executor each operation copied,
// compared and wrapped the executor through a table of functions (callgrind, 2026-12-06).
using strand_type = asio::strand<asio::io_context::executor_type>;
using socket_type = tcp::socket::rebind_executor<strand_type>::other;

// Everything the listener and the sessions share. Declaration order is destruction order in
// reverse: the io_context goes first (destroying the handlers it still holds, and with them
// sessions), while the router, the metrics and the session registry they use are still there.
struct server_core {
    server_core(server_options o, ledger::ledger& ledger);

    void run_io();
    void do_accept();
    void on_accept(error_code ec, socket_type socket);
    void on_signal(error_code ec, int signal_number);
    void begin_shutdown(const char* reason);
    void shutdown_tick();
    void force_close_all();
    std::vector<std::shared_ptr<session>> live_sessions();
    std::string next_request_id();

    server_options options;
    http::metrics measurements;
    http::router api;

    std::mutex sessions_mutex;
    std::map<std::uint64_t, std::weak_ptr<session>> sessions; // every open connection
    std::uint64_t next_session = 0;                           // under sessions_mutex
    std::atomic<std::size_t> served{0}; // sessions counted against max_connections
    std::atomic<bool> stopping{false};

    const std::uint64_t id_seed = random_seed();
    std::atomic<std::uint64_t> id_counter{0};

    asio::io_context ioc;
    // The listener's strand: the acceptor, the signals, the shutdown timer and its state.
    asio::strand<asio::io_context::executor_type> strand;
    tcp::acceptor acceptor;
    asio::steady_timer accept_timer;
    asio::steady_timer shutdown_timer;
    std::optional<asio::signal_set> signals;
    clock_type::time_point hard_deadline{};
    bool forced = false;
    std::uint16_t bound_port = 0;
};

// One connection: reads a request, hands it to the router, writes the answer, and only then
// reads the next (pipelined requests wait in the buffer and are answered in order). Every
// member is touched only on the connection's strand, except `id` (set before start) and the
// executor.
class session : public std::enable_shared_from_this<session> {
public:
    session(server_core& server, socket_type socket, bool counted)
        : server_(server), stream_(std::move(socket)), strand_(stream_.get_executor()),
          buffer_(server.options.header_limit + 64 * 1024), counted_(counted) {
        error_code ec;
        auto remote = stream_.socket().remote_endpoint(ec);
        if (!ec) {
            remote_ = remote.address().to_string() + ":" + std::to_string(remote.port());
        }
        if (counted_) {
            ++server_.served;
        }
    }

    ~session() {
        release_slot();
        std::lock_guard lock(server_.sessions_mutex);
        server_.sessions.erase(id);
    }

    session(const session&) = delete;
    session& operator=(const session&) = delete;

    // Safe from any thread: set once, at construction.
    const strand_type& executor() const { return strand_; }

    // Serves requests until the connection ends.
    void start() {
        asio::dispatch(executor(),
                       beast::bind_front_handler(&session::wait_for_request, shared_from_this()));
    }

    // Answers 503 and closes: the server is at max_connections.
    void refuse() {
        asio::dispatch(executor(),
                       beast::bind_front_handler(&session::send_refusal, shared_from_this()));
    }

    // The server stops: an idle connection closes now; a request in progress is still answered,
    // with Connection: close.
    void on_shutdown() {
        if (phase_ == phase::waiting) {
            error_code ignored;
            stream_.socket().cancel(ignored);
        }
    }

    // The shutdown's grace period is over.
    void force_close() {
        forced_ = true;
        if (phase_ != phase::closed) {
            log(spdlog::level::warn, "connection forced closed", {});
            close();
        }
    }

    std::uint64_t id = 0;

private:
    enum class phase { waiting, reading, handling, writing, closing, closed };

    static const char* phase_name(phase p) {
        switch (p) {
        case phase::waiting:
            return "waiting";
        case phase::reading:
            return "reading";
        case phase::handling:
            return "handling";
        case phase::writing:
            return "writing";
        case phase::closing:
            return "closing";
        case phase::closed:
            return "closed";
        }
        return "unknown";
    }

    void log(spdlog::level::level_enum level, std::string_view event, const error_code& ec,
             nlohmann::json extra = nlohmann::json::object()) {
        nlohmann::json line = {{"msg", event}, {"remote", remote_}, {"phase", phase_name(phase_)}};
        if (ec) {
            line["error"] = ec.message();
        }
        if (!request_id_.empty()) {
            line["request_id"] = request_id_;
        }
        for (auto& [key, value] : extra.items()) {
            line[key] = value;
        }
        log_json(level, line);
    }

    // Waits for the first bytes of the next request: a new connection has read_timeout to start
    // one, a kept-alive connection idle_timeout.
    void wait_for_request() {
        if (server_.stopping || forced_) {
            return close();
        }
        request_id_.clear();
        parser_.emplace();
        parser_->body_limit(server_.options.body_limit);
        parser_->header_limit(static_cast<std::uint32_t>(
            std::min<std::size_t>(server_.options.header_limit, UINT32_MAX)));
        if (buffer_.size() > 0) {
            return read_header(); // pipelined: the next request is already here
        }
        phase_ = phase::waiting;
        stream_.expires_after(first_request_ ? server_.options.read_timeout
                                             : server_.options.idle_timeout);
        stream_.async_read_some(
            buffer_.prepare(first_read_size),
            beast::bind_front_handler(&session::on_first_bytes, shared_from_this()));
    }

    void on_first_bytes(error_code ec, std::size_t bytes) {
        buffer_.commit(bytes);
        if (ec) {
            if (ec == beast::error::timeout) {
                if (first_request_) {
                    // A connection that never sends a request still holds a slot.
                    server_.measurements.limit_hit("timeout");
                    log(spdlog::level::info, "connection timeout", ec);
                } else {
                    log(spdlog::level::debug, "connection idle closed", ec);
                }
            } else if (ec == asio::error::operation_aborted) {
                log(spdlog::level::debug, "connection closed for shutdown", {});
            } else if (!is_disconnect(ec)) {
                log(spdlog::level::info, "connection error", ec);
            }
            return close();
        }
        read_header();
    }

    // Feeds the parser what the buffer holds, as Beast's reads do before they read more: true
    // when that reached the end of the header (or of the whole message) or an error, in `ec`;
    // false when the parser needs bytes not read yet. A request nearly always arrives whole with
    // its first bytes, and Beast's read of a request it already holds posts its completion back
    // to the strand: a hop per request that this saves.
    bool parse_buffered(bool whole_message, error_code& ec) {
        while (buffer_.size() > 0) {
            std::size_t used = parser_->put(buffer_.data(), ec);
            buffer_.consume(used);
            if (ec == beast_http::error::need_more) {
                ec = {};
                return false;
            }
            if (ec || (whole_message ? parser_->is_done() : parser_->is_header_done())) {
                return true;
            }
            if (used == 0) {
                return false;
            }
        }
        return false;
    }

    // From the first byte the whole request must arrive within read_timeout: the stream's
    // deadline set here holds for the header, the body and a 100 Continue in between.
    void read_header() {
        phase_ = phase::reading;
        stream_.expires_after(server_.options.read_timeout);
        error_code ec;
        if (parse_buffered(false, ec)) {
            return on_header(ec, 0);
        }
        beast_http::async_read_header(
            stream_, buffer_, *parser_,
            beast::bind_front_handler(&session::on_header, shared_from_this()));
    }

    void on_header(error_code ec, std::size_t) {
        if (ec) {
            return on_read_error(ec);
        }
        if (auto refused = refuse_request_head(parser_->get())) {
            return send_problem(refused->status, "bad_http", refused->type, refused->title,
                                refused->detail, {});
        }
        // Beast adds a chunked body's trailer fields to the header: counted now, they can be
        // told apart when the body has been read.
        const auto& head = parser_->get();
        header_fields_ = static_cast<std::size_t>(std::distance(head.begin(), head.end()));
        if (parser_->is_done()) {
            return handle_request();
        }
        const auto& req = parser_->get();
        if (req.version() >= 11 && beast::iequals(req[beast_http::field::expect], "100-continue")) {
            continue_.emplace(beast_http::status::continue_, req.version());
            return beast_http::async_write(
                stream_, *continue_,
                beast::bind_front_handler(&session::on_continue_written, shared_from_this()));
        }
        read_body();
    }

    void on_continue_written(error_code ec, std::size_t) {
        continue_.reset();
        if (ec) {
            return on_read_error(ec);
        }
        read_body();
    }

    void read_body() {
        error_code ec;
        if (parse_buffered(true, ec)) {
            return on_read(ec, 0);
        }
        beast_http::async_read(stream_, buffer_, *parser_,
                               beast::bind_front_handler(&session::on_read, shared_from_this()));
    }

    void on_read(error_code ec, std::size_t) {
        if (ec) {
            return on_read_error(ec);
        }
        handle_request();
    }

    // A request could not be read: a limit, malformed HTTP, a timeout or a peer that left.
    void on_read_error(const error_code& ec) {
        const auto& options = server_.options;
        if (ec == beast_http::error::body_limit) {
            return send_problem(beast_http::status::payload_too_large, "body_size",
                                "body-too-large", "Request body too large",
                                "The request body exceeds the limit of " +
                                    std::to_string(options.body_limit) + " bytes.",
                                ec);
        }
        if (ec == beast_http::error::header_limit) {
            return send_problem(beast_http::status::request_header_fields_too_large, "header_size",
                                "headers-too-large", "Request headers too large",
                                "The request line and headers exceed the limit of " +
                                    std::to_string(options.header_limit) + " bytes.",
                                ec);
        }
        if (ec == beast::error::timeout) {
            // The stream closed the socket already: nothing can be answered.
            server_.measurements.limit_hit("timeout");
            log(spdlog::level::info, "request timeout", ec,
                {{"read_timeout_seconds", options.read_timeout.count()}});
            return close();
        }
        if (ec == asio::error::operation_aborted) {
            return close();
        }
        if (is_http_error(ec) && ec != beast_http::error::partial_message &&
            ec != beast_http::error::end_of_stream) {
            return send_problem(beast_http::status::bad_request, "bad_http", "bad-http",
                                "Malformed HTTP request",
                                "The request is not valid HTTP/1.1: " + ec.message() + ".", ec);
        }
        log(is_disconnect(ec) || ec == beast_http::error::partial_message ? spdlog::level::debug
                                                                          : spdlog::level::info,
            "connection error", ec);
        close();
    }

    void handle_request() {
        // Trailer fields would be read as headers (an Authorization the proxy in front never saw
        // as one, say): RFC 9110 6.5.1 lets a field be merged only when its definition allows
        // it, and nothing here needs one.
        if (const auto& read = parser_->get();
            static_cast<std::size_t>(std::distance(read.begin(), read.end())) != header_fields_) {
            return send_problem(
                beast_http::status::bad_request, "bad_http", "bad-http", "Malformed HTTP request",
                "Trailer fields are not accepted; send every field in the header.", {});
        }
        request req = parser_->release();
        parser_.reset();
        auto client_id = req[request_id_header];
        request_id_ =
            valid_request_id(client_id) ? std::string(client_id) : server_.next_request_id();
        version_ = req.version();
        keep_alive_ = req.keep_alive();
        head_ = req.method() == beast_http::verb::head;
        first_request_ = false;
        phase_ = phase::handling;
        // The router may answer from the ledger's writer thread: until it does, the io_context
        // must not run out of work, or run() would return under a pending answer.
        awaiting_router_.emplace(server_.ioc.get_executor());

        auto self = shared_from_this();
        auto answered = std::make_shared<std::atomic<bool>>(false);
        respond_fn respond = [self, answered, id = request_id_](response res) {
            if (answered->exchange(true)) {
                log_json(spdlog::level::err,
                         {{"msg", "router answered twice"}, {"request_id", id}});
                return;
            }
            asio::post(self->executor(), [self, res = std::move(res)]() mutable {
                self->on_response(std::move(res));
            });
        };
        try {
            server_.api.handle(std::move(req), request_id_, respond);
        } catch (const std::exception& e) {
            log(spdlog::level::err, "router failed", {}, {{"what", e.what()}});
            if (!answered->exchange(true)) {
                on_response(problem(version_, false, beast_http::status::internal_server_error,
                                    "internal", "Internal server error",
                                    "The request could not be handled."));
            }
        }
    }

    // On the strand, with the router's answer.
    void on_response(response res) {
        awaiting_router_.reset();
        if (forced_ || phase_ == phase::closed) {
            log(spdlog::level::warn, "response dropped", {},
                {{"status", static_cast<unsigned>(res.result_int())}});
            return;
        }
        if (res[request_id_header].empty()) {
            res.set(request_id_header, request_id_);
        }
        if (!keep_alive_ || server_.stopping) {
            res.keep_alive(false);
        }
        write(std::move(res));
    }

    void write(response res) {
        phase_ = phase::writing;
        response_.emplace(std::move(res));
        if (!response_->has_content_length() && !response_->chunked()) {
            response_->prepare_payload();
        }
        if (head_) {
            // The headers of a GET, Content-Length included, without its body.
            response_->body().clear();
        }
        // A client has as long to take a response as it has to send a request.
        stream_.expires_after(server_.options.read_timeout);
        if (response_->chunked()) {
            beast_http::async_write(
                stream_, *response_,
                beast::bind_front_handler(&session::on_write, shared_from_this()));
            return;
        }
        response_head(*response_, head_text_);
        std::array<asio::const_buffer, 2> bytes{asio::buffer(head_text_),
                                                asio::buffer(response_->body())};
        asio::async_write(stream_, bytes,
                          beast::bind_front_handler(&session::on_write, shared_from_this()));
    }

    void on_write(error_code ec, std::size_t) {
        bool close_after = response_->need_eof();
        response_.reset();
        if (ec) {
            if (ec == beast::error::timeout) {
                server_.measurements.limit_hit("timeout");
                log(spdlog::level::info, "response timeout", ec);
            } else if (ec != asio::error::operation_aborted) {
                log(is_disconnect(ec) ? spdlog::level::debug : spdlog::level::info,
                    "connection error", ec);
            }
            return close();
        }
        if (close_after || server_.stopping) {
            return linger_close();
        }
        wait_for_request();
    }

    // An error the session answers itself (the router never saw the request), then closes.
    void send_problem(beast_http::status status, const char* limit, const std::string& type,
                      const std::string& title, const std::string& detail, const error_code& ec) {
        // At a body limit the header was read, and the client's request id can be used.
        if (parser_ && (ec == beast_http::error::body_limit || parser_->is_header_done())) {
            const auto& req = parser_->get();
            version_ = req.version();
            auto client_id = req[request_id_header];
            if (valid_request_id(client_id)) {
                request_id_ = std::string(client_id);
            }
        } else {
            version_ = 11;
        }
        if (request_id_.empty()) {
            request_id_ = server_.next_request_id();
        }
        parser_.reset();
        head_ = false;
        server_.measurements.limit_hit(limit);
        log(spdlog::level::info, "request refused", ec,
            {{"limit", limit}, {"status", static_cast<unsigned>(status)}, {"detail", detail}});
        keep_alive_ = false;
        response res = problem(version_, false, status, type, title, detail);
        res.set(request_id_header, request_id_);
        write(std::move(res));
    }

    void send_refusal() {
        first_request_ = false;
        request_id_ = server_.next_request_id();
        server_.measurements.limit_hit("connections");
        log(spdlog::level::info, "connection refused", {},
            {{"limit", "connections"}, {"max_connections", server_.options.max_connections}});
        keep_alive_ = false;
        response res = problem(11, false, beast_http::status::service_unavailable,
                               "too-many-connections", "Too many connections",
                               "The server is at its limit of " +
                                   std::to_string(server_.options.max_connections) +
                                   " concurrent connections; retry later.");
        res.set(request_id_header, request_id_);
        res.set(beast_http::field::retry_after, "1");
        write(std::move(res));
    }

    // Half-closes, then reads and drops what the client still sends until it closes too (or a
    // moment passes): closing with unread data would reset the connection and could destroy the
    // response before the client read it.
    void linger_close() {
        phase_ = phase::closing;
        release_slot();
        error_code ignored;
        stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
        lingered_ = 0;
        stream_.expires_after(linger_time);
        linger();
    }

    void linger() {
        stream_.async_read_some(asio::buffer(linger_buffer_),
                                beast::bind_front_handler(&session::on_linger, shared_from_this()));
    }

    void on_linger(error_code ec, std::size_t bytes) {
        lingered_ += bytes;
        if (ec || lingered_ >= linger_bytes) {
            return close();
        }
        linger();
    }

    void close() {
        phase_ = phase::closed;
        release_slot();
        error_code ignored;
        stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
        stream_.close();
    }

    // A connection that serves no more requests frees its place under max_connections.
    void release_slot() {
        if (counted_) {
            counted_ = false;
            --server_.served;
        }
    }

    server_core& server_;
    beast::basic_stream<tcp, strand_type> stream_;
    const strand_type strand_; // the connection's strand, stream_'s executor
    beast::flat_buffer buffer_;
    std::optional<beast_http::request_parser<beast_http::string_body>> parser_;
    std::size_t header_fields_ = 0; // the fields of the request's header, trailers not counted
    std::optional<beast_http::response<beast_http::empty_body>> continue_;
    std::optional<response> response_;
    std::string head_text_; // response_'s status line and fields, while it is written
    std::optional<asio::executor_work_guard<asio::io_context::executor_type>> awaiting_router_;
    std::array<char, 4096> linger_buffer_{};
    std::size_t lingered_ = 0;
    std::string remote_;
    std::string request_id_;
    unsigned version_ = 11;
    bool keep_alive_ = true;
    bool head_ = false;
    bool first_request_ = true;
    bool forced_ = false;
    bool counted_;
    phase phase_ = phase::waiting;
};

server_core::server_core(server_options o, ledger::ledger& ledger)
    : options(std::move(o)), api(ledger, options.routing, measurements),
      ioc(static_cast<int>(std::max(1u, options.threads))), strand(asio::make_strand(ioc)),
      acceptor(strand), accept_timer(strand), shutdown_timer(strand) {
    error_code ec;
    // localhost, as the README's curl examples call it, is the loopback; other names are not
    // looked up (a listen address that depends on DNS is one that can change under a server).
    asio::ip::address address = asio::ip::make_address(
        options.address == "localhost" ? std::string("127.0.0.1") : options.address, ec);
    if (ec) {
        throw std::runtime_error("invalid listen address '" + options.address +
                                 "': expected an IP address such as 127.0.0.1 or 0.0.0.0, or "
                                 "localhost");
    }
    tcp::endpoint endpoint(address, options.port);
    auto fail = [&](const char* what) {
        throw std::runtime_error(std::string("cannot listen on ") + options.address + ":" +
                                 std::to_string(options.port) + ": " + what + ": " + ec.message());
    };
    acceptor.open(endpoint.protocol(), ec);
    if (ec) {
        fail("open");
    }
    acceptor.set_option(asio::socket_base::reuse_address(true), ec);
    if (ec) {
        fail("set_option");
    }
    acceptor.bind(endpoint, ec);
    if (ec) {
        fail("bind");
    }
    acceptor.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
        fail("listen");
    }
    bound_port = acceptor.local_endpoint(ec).port();
    if (ec) {
        fail("local_endpoint");
    }
}

void server_core::run_io() {
    for (;;) {
        try {
            ioc.run();
            return;
        } catch (const std::exception& e) {
            // A handler threw; the others keep going.
            log_json(spdlog::level::err, {{"msg", "handler failed"}, {"what", e.what()}});
        }
    }
}

void server_core::do_accept() {
    if (stopping || !acceptor.is_open()) {
        return;
    }
    // Each connection gets its own strand.
    acceptor.async_accept(asio::make_strand(ioc), [this](error_code ec, socket_type socket) {
        on_accept(ec, std::move(socket));
    });
}

void server_core::on_accept(error_code ec, socket_type socket) {
    if (ec) {
        if (ec == asio::error::operation_aborted || stopping) {
            return;
        }
        // Out of descriptors, typically: wait a moment rather than spin.
        log_json(spdlog::level::warn, {{"msg", "accept failed"}, {"error", ec.message()}});
        accept_timer.expires_after(accept_retry);
        accept_timer.async_wait([this](error_code wait_ec) {
            if (!wait_ec) {
                do_accept();
            }
        });
        return;
    }
    if (stopping) {
        return; // the socket closes with its destructor
    }
    bool refused = served.load() >= options.max_connections;
    auto s = std::make_shared<session>(*this, std::move(socket), !refused);
    {
        std::lock_guard lock(sessions_mutex);
        s->id = next_session++;
        sessions.emplace(s->id, s);
    }
    if (refused) {
        s->refuse();
    } else {
        s->start();
    }
    do_accept();
}

void server_core::on_signal(error_code ec, int signal_number) {
    if (ec) {
        return;
    }
    // Re-armed before shutting down: with no connection open, begin_shutdown() finishes at once
    // and cancels the signal set, and a wait armed after that would keep run() from returning.
    if (signals) {
        // A second signal cuts the grace period short.
        signals->async_wait([this](error_code next_ec, int next) { on_signal(next_ec, next); });
    }
    begin_shutdown(signal_number == SIGINT ? "SIGINT" : "SIGTERM");
}

void server_core::begin_shutdown(const char* reason) {
    if (stopping.exchange(true)) {
        if (std::string_view(reason) != "stop" && !forced) {
            forced = true;
            log_json(spdlog::level::warn, {{"msg", "shutdown forced"}, {"reason", reason}});
            force_close_all();
        }
        return;
    }
    auto open = live_sessions();
    log_json(spdlog::level::info,
             {{"msg", "server shutting down"}, {"reason", reason}, {"connections", open.size()}});
    error_code ignored;
    acceptor.close(ignored);
    accept_timer.cancel();
    for (auto& s : open) {
        asio::post(s->executor(), [s] { s->on_shutdown(); });
    }
    hard_deadline = clock_type::now() + shutdown_grace;
    shutdown_tick();
}

// Polls until every connection is gone; past the grace period, closes what is left. Sessions
// waiting for the router's answer stay until it comes (the router answers every request).
void server_core::shutdown_tick() {
    std::size_t remaining = 0;
    {
        std::lock_guard lock(sessions_mutex);
        remaining = sessions.size();
    }
    if (remaining == 0) {
        if (signals) {
            error_code ignored;
            signals->cancel(ignored);
        }
        log_json(spdlog::level::info, {{"msg", "connections closed"}});
        return;
    }
    if (!forced && clock_type::now() >= hard_deadline) {
        forced = true;
        log_json(spdlog::level::warn,
                 {{"msg", "shutdown grace expired"}, {"connections", remaining}});
        force_close_all();
    }
    shutdown_timer.expires_after(shutdown_poll);
    shutdown_timer.async_wait([this](error_code ec) {
        if (!ec) {
            shutdown_tick();
        }
    });
}

void server_core::force_close_all() {
    for (auto& s : live_sessions()) {
        asio::post(s->executor(), [s] { s->force_close(); });
    }
}

std::vector<std::shared_ptr<session>> server_core::live_sessions() {
    std::vector<std::shared_ptr<session>> out;
    std::lock_guard lock(sessions_mutex);
    for (auto& [id, weak] : sessions) {
        if (auto s = weak.lock()) {
            out.push_back(std::move(s));
        }
    }
    return out;
}

std::string server_core::next_request_id() {
    return hex16(mix(id_seed + id_counter.fetch_add(1, std::memory_order_relaxed)));
}

} // namespace

struct server::impl : server_core {
    using server_core::server_core;
};

server::server(server_options options, ledger::ledger& ledger)
    : impl_(std::make_unique<impl>(std::move(options), ledger)) {}

server::~server() = default;

std::uint16_t server::port() const {
    return impl_->bound_port;
}

void server::run(bool handle_signals, const std::function<void()>& ready) {
    server_core& core = *impl_;
    if (handle_signals) {
        // Created before any thread runs the io_context; afterwards only touched on the strand.
        core.signals.emplace(core.strand, SIGINT, SIGTERM);
        core.signals->async_wait(
            [&core](error_code ec, int signal_number) { core.on_signal(ec, signal_number); });
    }
    if (ready) {
        ready();
    }
    asio::post(core.strand, [&core] { core.do_accept(); });
    unsigned threads = std::max(1u, core.options.threads);
    log_json(spdlog::level::info, {{"msg", "server listening"},
                                   {"address", core.options.address},
                                   {"port", core.bound_port},
                                   {"threads", threads}});
    std::vector<std::thread> pool;
    pool.reserve(threads - 1);
    for (unsigned i = 1; i < threads; ++i) {
        pool.emplace_back([&core] {
            pthread_setname_np(pthread_self(), "http-io");
            core.run_io();
        });
    }
    core.run_io();
    for (auto& t : pool) {
        t.join();
    }
    core.signals.reset();
    log_json(spdlog::level::info, {{"msg", "server stopped"}});
}

void server::stop() {
    server_core& core = *impl_;
    asio::post(core.strand, [&core] { core.begin_shutdown("stop"); });
}

} // namespace loyalty::http
