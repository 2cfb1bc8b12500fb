// The load generator of scripts/bench: HTTP/1.1 over keep-alive connections with Boost.Asio,
// in two modes that share everything but the schedule, so their figures compare.
//
// - Closed loop (default): each of N connections sends its next request as soon as the previous
//   response arrived. Measures the most the server answers; latency runs from the actual send.
// - Open loop (--rate R): requests are due at a fixed rate, R/N per second on each connection,
//   staggered. A request's latency runs from the moment it was *due*, not from when it could be
//   sent: when the server falls behind, a connection sends its late requests at once and each
//   counts the time it waited for its turn (the correction for coordinated omission that wrk2
//   makes). Requests due before the end but never sent are reported as "unsent".
// - Hold (--hold): opens N connections, sends one request on each, keeps them all open and idle
//   for --duration seconds (writing --ready-file once they are all open), then closes them: to
//   read the server's memory with many keep-alive connections.
//
// Latencies go into a log-linear histogram like HdrHistogram's (128 sub-buckets per power of
// two: under 1.6% error) and come out as p50/p90/p99/p99.9. Only requests started after the
// warm-up and before the end are recorded; the rate counts responses completed in that window.
//
// Templates: "{n}" in the path or body becomes a number unique to the request (from --start
// up), "{r}" a uniform random number below --range. The same request uses the same n and r in
// the path and the body, so purchases get unique transaction ids and spread over the members.
//
// Prints one JSON object on stdout. Usage: loadgen --help.

#include <algorithm>
#include <atomic>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <charconv>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <future>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <string_view>
#include <sys/resource.h>
#include <thread>
#include <vector>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using clock_type = std::chrono::steady_clock;
using std::chrono::nanoseconds;

namespace {

// ---------------------------------------------------------------------------------------------
// Latency histogram: values in nanoseconds. Below 128 each value has its own bucket; above, each
// power of two [2^k, 2^(k+1)) is split into 64 equal sub-buckets.

class histogram {
public:
    histogram() : counts_(bucket_count, 0) {}

    void record(std::uint64_t v) {
        ++counts_[index(v)];
        ++total_;
        sum_ += static_cast<double>(v);
        min_ = std::min(min_, v);
        max_ = std::max(max_, v);
    }

    void merge(const histogram& o) {
        for (std::size_t i = 0; i < bucket_count; ++i) {
            counts_[i] += o.counts_[i];
        }
        total_ += o.total_;
        sum_ += o.sum_;
        min_ = std::min(min_, o.min_);
        max_ = std::max(max_, o.max_);
    }

    std::uint64_t total() const { return total_; }
    double mean() const { return total_ == 0 ? 0 : sum_ / static_cast<double>(total_); }
    std::uint64_t max() const { return total_ == 0 ? 0 : max_; }

    // The smallest recorded value v such that at least `percent` % of the values are <= v, to
    // the histogram's precision (the top of v's bucket, never above the largest value).
    std::uint64_t percentile(double percent) const {
        if (total_ == 0) {
            return 0;
        }
        auto rank =
            static_cast<std::uint64_t>(std::ceil(percent / 100.0 * static_cast<double>(total_)));
        rank = std::clamp<std::uint64_t>(rank, 1, total_);
        std::uint64_t seen = 0;
        for (std::size_t i = 0; i < bucket_count; ++i) {
            seen += counts_[i];
            if (seen >= rank) {
                return std::min(upper(i), max_);
            }
        }
        return max_;
    }

private:
    static constexpr std::size_t linear = 128;
    static constexpr std::size_t sub = 64;
    static constexpr std::size_t bucket_count = linear + 57 * sub;

    static std::size_t index(std::uint64_t v) {
        if (v < linear) {
            return static_cast<std::size_t>(v);
        }
        int msb = 63 - __builtin_clzll(v);
        int shift = msb - 6; // v >> shift is in [64, 127]
        return linear + static_cast<std::size_t>(shift - 1) * sub +
               static_cast<std::size_t>((v >> shift) - sub);
    }
    static std::uint64_t upper(std::size_t i) {
        if (i < linear) {
            return i;
        }
        std::size_t shift = (i - linear) / sub + 1;
        std::uint64_t lead = (i - linear) % sub + sub;
        return ((lead + 1) << shift) - 1;
    }

    std::vector<std::uint64_t> counts_;
    std::uint64_t total_ = 0;
    double sum_ = 0;
    std::uint64_t min_ = UINT64_MAX;
    std::uint64_t max_ = 0;
};

// ---------------------------------------------------------------------------------------------
// Options and request templates.

struct options {
    std::string host = "127.0.0.1";
    unsigned short port = 8080;
    std::string method = "GET";
    std::string path = "/";
    std::string body;
    std::vector<std::string> headers;
    unsigned connections = 16;
    unsigned threads = 1;
    double duration = 10;
    double warmup = 2;
    double drain = 5; // seconds to wait for responses in flight at the end
    double rate = 0;  // 0: closed loop
    std::uint64_t range = 1;
    std::uint64_t start = 0;
    std::uint64_t seed = 42;
    bool hold = false;
    std::string ready_file;
    std::string label;
};

[[noreturn]] void usage(const std::string& problem) {
    std::cerr << "loadgen: " << problem << "\n"
              << R"(usage: loadgen [options]
  --host ADDRESS        server address (127.0.0.1)
  --port PORT           server port (8080)
  --method GET|POST     (GET)
  --path TEMPLATE       request target, may hold {n} and {r} (/)
  --body TEMPLATE       request body, may hold {n} and {r} (none)
  --body-file FILE      request body template read from FILE
  --header 'N: V'       an extra header (repeatable)
  --connections N       keep-alive connections (16)
  --threads N           I/O threads of the generator (1)
  --duration S          measured seconds (10)
  --warmup S            seconds before measuring (2)
  --drain S             seconds to wait for responses in flight at the end (5)
  --rate R              open loop at R requests/s in total; absent or 0: closed loop
  --range N             {r} is uniform in [0, N) (1)
  --start N             the first {n} (0)
  --seed N              random seed for {r} (42)
  --hold                open the connections, one request each, keep them open for --duration
  --ready-file FILE     written once every connection is open (and, with --hold, answered)
  --label TEXT          echoed in the JSON result
)";
    std::exit(2);
}

double parse_double(std::string_view name, const std::string& text) {
    char* end = nullptr;
    double v = std::strtod(text.c_str(), &end);
    if (text.empty() || end != text.c_str() + text.size() || !std::isfinite(v) || v < 0) {
        usage(std::string(name) + ": expected a non-negative number, got '" + text + "'");
    }
    return v;
}

template <class T>
T parse_integer(std::string_view name, const std::string& text) {
    T v{};
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc() || end != text.data() + text.size()) {
        usage(std::string(name) + ": expected an integer, got '" + text + "'");
    }
    return v;
}

options parse_options(int argc, char** argv) {
    options o;
    for (int i = 1; i < argc; ++i) {
        std::string_view arg = argv[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= argc) {
                usage(std::string(arg) + " needs a value");
            }
            return argv[++i];
        };
        if (arg == "--host") {
            o.host = value();
        } else if (arg == "--port") {
            o.port = parse_integer<unsigned short>(arg, value());
        } else if (arg == "--method") {
            o.method = value();
        } else if (arg == "--path") {
            o.path = value();
        } else if (arg == "--body") {
            o.body = value();
        } else if (arg == "--body-file") {
            std::ifstream in(value(), std::ios::binary);
            if (!in) {
                usage("--body-file: cannot read the file");
            }
            std::ostringstream text;
            text << in.rdbuf();
            o.body = text.str();
        } else if (arg == "--header") {
            o.headers.push_back(value());
        } else if (arg == "--connections") {
            o.connections = parse_integer<unsigned>(arg, value());
        } else if (arg == "--threads") {
            o.threads = parse_integer<unsigned>(arg, value());
        } else if (arg == "--duration") {
            o.duration = parse_double(arg, value());
        } else if (arg == "--warmup") {
            o.warmup = parse_double(arg, value());
        } else if (arg == "--drain") {
            o.drain = parse_double(arg, value());
        } else if (arg == "--rate") {
            o.rate = parse_double(arg, value());
        } else if (arg == "--range") {
            o.range = parse_integer<std::uint64_t>(arg, value());
        } else if (arg == "--start") {
            o.start = parse_integer<std::uint64_t>(arg, value());
        } else if (arg == "--seed") {
            o.seed = parse_integer<std::uint64_t>(arg, value());
        } else if (arg == "--hold") {
            o.hold = true;
        } else if (arg == "--ready-file") {
            o.ready_file = value();
        } else if (arg == "--label") {
            o.label = value();
        } else if (arg == "--help" || arg == "-h") {
            usage("an HTTP/1.1 load generator for scripts/bench");
        } else {
            usage("unknown argument " + std::string(arg));
        }
    }
    if (o.connections == 0 || o.threads == 0 || o.range == 0) {
        usage("--connections, --threads and --range must be at least 1");
    }
    if (o.threads > o.connections) {
        o.threads = o.connections;
    }
    if (!o.hold && o.duration <= 0) {
        usage("--duration must be positive");
    }
    return o;
}

// A text with {n} and {r} placeholders, split once.
class text_template {
public:
    explicit text_template(const std::string& text) {
        std::size_t from = 0;
        for (;;) {
            std::size_t n = text.find("{n}", from);
            std::size_t r = text.find("{r}", from);
            std::size_t at = std::min(n, r);
            if (at == std::string::npos) {
                break;
            }
            parts_.push_back({text.substr(from, at - from), at == n ? 'n' : 'r'});
            from = at + 3;
        }
        parts_.push_back({text.substr(from), 0});
    }

    void render(std::string& out, std::uint64_t n, std::uint64_t r) const {
        char digits[24];
        for (const part& p : parts_) {
            out += p.literal;
            if (p.placeholder != 0) {
                auto end =
                    std::to_chars(digits, digits + sizeof digits, p.placeholder == 'n' ? n : r).ptr;
                out.append(digits, end);
            }
        }
    }

private:
    struct part {
        std::string literal;
        char placeholder; // 'n', 'r' or 0 after the last literal
    };
    std::vector<part> parts_;
};

class request_builder {
public:
    explicit request_builder(const options& o)
        : path_(o.path), body_(o.body), has_body_(!o.body.empty() || o.method == "POST") {
        head_ = " HTTP/1.1\r\nHost: " + o.host + ":" + std::to_string(o.port) + "\r\n";
        bool content_type = false;
        for (const std::string& h : o.headers) {
            head_ += h + "\r\n";
            std::string lower = h.substr(0, h.find(':'));
            std::transform(lower.begin(), lower.end(), lower.begin(),
                           [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
            content_type = content_type || lower == "content-type";
        }
        if (has_body_ && !content_type) {
            head_ += "Content-Type: application/json\r\n";
        }
        method_ = o.method;
    }

    void build(std::string& out, std::uint64_t n, std::uint64_t r) const {
        out.clear();
        out += method_;
        out += ' ';
        path_.render(out, n, r);
        out += head_;
        if (has_body_) {
            std::string body;
            body_.render(body, n, r);
            out += "Content-Length: ";
            out += std::to_string(body.size());
            out += "\r\n\r\n";
            out += body;
        } else {
            out += "\r\n";
        }
    }

private:
    std::string method_;
    text_template path_;
    text_template body_;
    bool has_body_;
    std::string head_;
};

// ---------------------------------------------------------------------------------------------
// The run.

struct shared_state {
    options opt;
    request_builder builder;
    tcp::endpoint endpoint;
    std::atomic<std::uint64_t> next_n;
    std::atomic<unsigned> connected{0};
    std::atomic<unsigned> held{0};
    clock_type::time_point t0{};      // sending starts
    clock_type::time_point measure{}; // warm-up over
    clock_type::time_point end{};     // no request starts at or after this
    double interval_ns = 0;           // open loop: between two requests of one connection

    explicit shared_state(const options& o) : opt(o), builder(o), next_n(o.start) {}
};

struct thread_stats {
    histogram latency;
    std::uint64_t completed = 0; // responses completed inside the window
    std::uint64_t all = 0;       // every response, warm-up and drain included
    std::uint64_t errors = 0;    // connection failures and requests lost with them
    std::uint64_t unsent = 0;    // open loop: due before the end, never sent
    std::uint64_t unfinished = 0;
    std::map<unsigned, std::uint64_t> statuses; // of responses started inside the window
};

class worker;

class connection : public std::enable_shared_from_this<connection> {
public:
    connection(worker& w, asio::io_context& ioc, unsigned index)
        : worker_(w), socket_(ioc), timer_(ioc), index_(index) {}

    void connect();
    void start();     // begin sending (closed or open loop)
    void hold_once(); // send one request, then stay idle
    void finish();    // the end: no more sends, stop after the request in flight
    void close();
    bool busy() const { return in_flight_; }

private:
    void send(clock_type::time_point started);
    void on_response(beast::error_code ec);
    void schedule();
    void fail(const beast::error_code& ec);
    void mark_done();

    worker& worker_;
    tcp::socket socket_;
    asio::steady_timer timer_;
    unsigned index_;
    beast::flat_buffer buffer_;
    std::optional<http::response_parser<http::string_body>> parser_;
    std::string request_;
    clock_type::time_point started_{}; // when the request in flight started (sent or was due)
    clock_type::time_point next_due_{};
    std::uint64_t slot_ = 0; // open loop: the next due request of this connection
    bool in_flight_ = false;
    bool finishing_ = false;
    bool done_ = false;
    bool open_ = false;
    bool holding_ = false;
};

class worker {
public:
    worker(shared_state& s, unsigned id) : shared(s), rng(s.opt.seed * 7919 + id) {}

    shared_state& shared;
    asio::io_context ioc;
    std::vector<std::shared_ptr<connection>> conns;
    thread_stats stats;
    std::mt19937_64 rng;
    std::size_t done = 0; // connections finished

    std::uint64_t draw() {
        return shared.opt.range <= 1
                   ? 0
                   : std::uniform_int_distribution<std::uint64_t>(0, shared.opt.range - 1)(rng);
    }
};

void connection::connect() {
    socket_.async_connect(
        worker_.shared.endpoint, [self = shared_from_this()](beast::error_code ec) {
            if (ec) {
                std::cerr << "loadgen: cannot connect to " << self->worker_.shared.endpoint << ": "
                          << ec.message() << "\n";
                std::exit(1);
            }
            self->open_ = true;
            ++self->worker_.shared.connected;
        });
}

void connection::start() {
    const shared_state& s = worker_.shared;
    if (s.opt.rate > 0) {
        // Stagger the connections evenly over one interval.
        slot_ = 0;
        next_due_ =
            s.t0 +
            nanoseconds(static_cast<std::int64_t>(s.interval_ns * index_ / s.opt.connections));
        schedule();
    } else {
        send(clock_type::now());
    }
}

void connection::schedule() {
    const shared_state& s = worker_.shared;
    auto now = clock_type::now();
    // At the end nothing more is sent, however late the schedule: what fell due before the end
    // and was not sent is counted as unsent.
    if (next_due_ >= s.end || now >= s.end || finishing_) {
        return finish();
    }
    if (now >= next_due_) {
        return send(next_due_);
    }
    timer_.expires_at(next_due_);
    timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
        if (!ec) {
            self->send(self->next_due_);
        }
    });
}

void connection::send(clock_type::time_point started) {
    if (!open_) {
        return;
    }
    shared_state& s = worker_.shared;
    started_ = started;
    std::uint64_t n = s.next_n.fetch_add(1, std::memory_order_relaxed);
    s.builder.build(request_, n, worker_.draw());
    in_flight_ = true;
    parser_.emplace();
    parser_->body_limit(64 * 1024 * 1024);
    asio::async_write(socket_, asio::buffer(request_),
                      [self = shared_from_this()](beast::error_code ec, std::size_t) {
                          if (ec) {
                              return self->fail(ec);
                          }
                          http::async_read(self->socket_, self->buffer_, *self->parser_,
                                           [self](beast::error_code rec, std::size_t) {
                                               self->on_response(rec);
                                           });
                      });
}

void connection::on_response(beast::error_code ec) {
    if (ec) {
        return fail(ec);
    }
    in_flight_ = false;
    shared_state& s = worker_.shared;
    auto now = clock_type::now();
    thread_stats& st = worker_.stats;
    ++st.all;
    if (started_ >= s.measure && started_ < s.end) {
        st.latency.record(static_cast<std::uint64_t>(
            std::chrono::duration_cast<nanoseconds>(now - started_).count()));
        ++st.statuses[parser_->get().result_int()];
    }
    if (now >= s.measure && now <= s.end) {
        ++st.completed;
    }
    bool keep_alive = parser_->get().keep_alive();
    if (holding_) {
        holding_ = false;
        ++s.held;
        return;
    }
    if (!keep_alive) {
        // The server closed the connection: open another and go on.
        beast::error_code ignored;
        socket_.close(ignored);
        socket_ = tcp::socket(worker_.ioc);
        open_ = false;
        beast::error_code cec;
        socket_.connect(s.endpoint, cec);
        if (cec) {
            ++st.errors;
            return finish();
        }
        open_ = true;
    }
    if (s.opt.rate > 0) {
        ++slot_;
        next_due_ = s.t0 + nanoseconds(static_cast<std::int64_t>(
                               s.interval_ns * (static_cast<double>(slot_) +
                                                static_cast<double>(index_) / s.opt.connections)));
        return schedule();
    }
    if (now >= s.end || finishing_) {
        return finish();
    }
    send(now);
}

void connection::fail(const beast::error_code& ec) {
    if (done_ || (finishing_ && ec == asio::error::operation_aborted)) {
        return; // closed by us at the end
    }
    ++worker_.stats.errors;
    if (worker_.stats.errors <= 3) {
        std::cerr << "loadgen: connection " << index_ << ": " << ec.message() << "\n";
    }
    in_flight_ = false;
    beast::error_code ignored;
    socket_.close(ignored);
    open_ = false;
    if (finishing_ || holding_) {
        holding_ = false;
        return finish();
    }
    // Reconnect after a pause and go on with the schedule.
    socket_ = tcp::socket(worker_.ioc);
    timer_.expires_after(std::chrono::milliseconds(10));
    timer_.async_wait([self = shared_from_this()](beast::error_code tec) {
        if (tec) {
            return;
        }
        beast::error_code cec;
        self->socket_.connect(self->worker_.shared.endpoint, cec);
        if (cec) {
            return self->finish();
        }
        self->open_ = true;
        if (self->worker_.shared.opt.rate > 0) {
            return self->schedule();
        }
        self->send(clock_type::now());
    });
}

void connection::hold_once() {
    holding_ = true;
    send(clock_type::now());
}

void connection::finish() {
    if (done_) {
        return;
    }
    if (!finishing_) {
        finishing_ = true;
        timer_.cancel();
    }
    if (!in_flight_) {
        mark_done();
    }
}

void connection::mark_done() {
    done_ = true;
    ++worker_.done;
    const shared_state& s = worker_.shared;
    if (s.opt.rate > 0 && s.interval_ns > 0 && next_due_ < s.end) {
        // Due before the end and never sent: the server was too slow for the schedule.
        double left = std::chrono::duration<double, std::nano>(s.end - next_due_).count();
        worker_.stats.unsent += static_cast<std::uint64_t>(std::ceil(left / s.interval_ns));
    }
}

void connection::close() {
    if (in_flight_) {
        ++worker_.stats.unfinished;
        in_flight_ = false;
    }
    finishing_ = true;
    if (!done_) {
        done_ = true;
        ++worker_.done;
    }
    beast::error_code ignored;
    timer_.cancel();
    socket_.shutdown(tcp::socket::shutdown_both, ignored);
    socket_.close(ignored);
}

double cpu_seconds() {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
           static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) * 1e-6;
}

void raise_file_limit() {
    rlimit l{};
    if (getrlimit(RLIMIT_NOFILE, &l) == 0 && l.rlim_cur < l.rlim_max) {
        l.rlim_cur = l.rlim_max;
        setrlimit(RLIMIT_NOFILE, &l);
    }
}

std::string json_string(const std::string& s) {
    std::string out = "\"";
    for (char c : s) {
        if (c == '"' || c == '\\') {
            out += '\\';
            out += c;
        } else if (static_cast<unsigned char>(c) < 0x20) {
            char esc[8];
            std::snprintf(esc, sizeof esc, "\\u%04x", static_cast<unsigned>(c));
            out += esc;
        } else {
            out += c;
        }
    }
    return out + "\"";
}

std::string fixed(double v, int decimals = 1) {
    char text[64];
    std::snprintf(text, sizeof text, "%.*f", decimals, v);
    return text;
}

void wait_until(const std::function<bool()>& condition, double seconds, const char* what) {
    auto deadline = clock_type::now() + std::chrono::duration<double>(seconds);
    while (!condition()) {
        if (clock_type::now() > deadline) {
            std::cerr << "loadgen: timed out waiting for " << what << "\n";
            std::exit(1);
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
}

} // namespace

int main(int argc, char** argv) {
    options opt = parse_options(argc, argv);
    raise_file_limit();
    shared_state s(opt);
    try {
        s.endpoint = tcp::endpoint(asio::ip::make_address(opt.host), opt.port);
    } catch (const std::exception& e) {
        usage("--host: " + std::string(e.what()));
    }

    std::vector<std::unique_ptr<worker>> workers;
    for (unsigned t = 0; t < opt.threads; ++t) {
        workers.push_back(std::make_unique<worker>(s, t));
    }
    for (unsigned c = 0; c < opt.connections; ++c) {
        worker& w = *workers[c % opt.threads];
        w.conns.push_back(std::make_shared<connection>(w, w.ioc, c));
    }
    std::vector<std::thread> threads;
    std::vector<std::optional<asio::executor_work_guard<asio::io_context::executor_type>>> guards;
    for (auto& w : workers) {
        guards.emplace_back(w->ioc.get_executor());
        for (auto& c : w->conns) {
            asio::post(w->ioc, [c] { c->connect(); });
        }
        threads.emplace_back([&ioc = w->ioc] { ioc.run(); });
    }
    wait_until([&] { return s.connected.load() == opt.connections; }, 30, "the connections");

    auto write_ready = [&] {
        if (!opt.ready_file.empty()) {
            std::ofstream(opt.ready_file) << "ready\n";
        }
    };
    std::string out;
    if (opt.hold) {
        for (auto& w : workers) {
            for (auto& c : w->conns) {
                asio::post(w->ioc, [c] { c->hold_once(); });
            }
        }
        wait_until(
            [&] {
                std::uint64_t errors = 0;
                for (auto& w : workers) {
                    errors += w->stats.errors; // racy read; only to stop waiting early
                }
                return s.held.load() + errors >= opt.connections;
            },
            60, "the first response on every connection");
        write_ready();
        std::cerr << "loadgen: holding " << s.held.load() << " connections for " << opt.duration
                  << " s\n";
        std::this_thread::sleep_for(std::chrono::duration<double>(opt.duration));
        unsigned still_open = 0;
        for (auto& w : workers) {
            asio::post(w->ioc, [&w = *w] {
                for (auto& c : w.conns) {
                    c->close();
                }
            });
        }
        for (auto& g : guards) {
            g.reset();
        }
        for (auto& t : threads) {
            t.join();
        }
        std::uint64_t errors = 0;
        for (auto& w : workers) {
            errors += w->stats.errors;
        }
        still_open = s.held.load();
        out = "{\"mode\":\"hold\",\"label\":" + json_string(opt.label) +
              ",\"connections\":" + std::to_string(opt.connections) +
              ",\"held\":" + std::to_string(still_open) + ",\"errors\":" + std::to_string(errors) +
              ",\"duration_s\":" + fixed(opt.duration, 3) + "}";
        std::cout << out << std::endl;
        return errors == 0 ? 0 : 1;
    }

    write_ready();
    s.t0 = clock_type::now() + std::chrono::milliseconds(5);
    s.measure =
        s.t0 + std::chrono::duration_cast<nanoseconds>(std::chrono::duration<double>(opt.warmup));
    s.end = s.measure +
            std::chrono::duration_cast<nanoseconds>(std::chrono::duration<double>(opt.duration));
    if (opt.rate > 0) {
        s.interval_ns = 1e9 * opt.connections / opt.rate;
    }
    double cpu_start = cpu_seconds();
    auto wall_start = clock_type::now();
    for (auto& w : workers) {
        asio::post(w->ioc, [&w = *w, &s] {
            auto go = std::make_shared<asio::steady_timer>(w.ioc, s.t0);
            go->async_wait([&w, go](beast::error_code) {
                for (auto& c : w.conns) {
                    c->start();
                }
            });
        });
    }
    // The end, then the drain: whatever is still in flight after it is abandoned.
    std::this_thread::sleep_until(s.end);
    for (auto& w : workers) {
        asio::post(w->ioc, [&w = *w] {
            for (auto& c : w.conns) {
                if (!c->busy()) {
                    c->finish();
                }
            }
        });
    }
    auto drained = [&] {
        std::size_t done = 0;
        for (auto& w : workers) {
            std::promise<std::size_t> p;
            auto f = p.get_future();
            asio::post(w->ioc, [&w = *w, &p] { p.set_value(w.done); });
            done += f.get();
        }
        return done >= opt.connections;
    };
    auto drain_deadline = clock_type::now() + std::chrono::duration<double>(opt.drain);
    while (!drained() && clock_type::now() < drain_deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    double cpu_used = cpu_seconds() - cpu_start;
    double wall = std::chrono::duration<double>(clock_type::now() - wall_start).count();
    for (auto& w : workers) {
        asio::post(w->ioc, [&w = *w] {
            for (auto& c : w.conns) {
                c->close();
            }
        });
    }
    for (auto& g : guards) {
        g.reset();
    }
    for (auto& t : threads) {
        t.join();
    }

    thread_stats all;
    for (auto& w : workers) {
        all.latency.merge(w->stats.latency);
        all.completed += w->stats.completed;
        all.all += w->stats.all;
        all.errors += w->stats.errors;
        all.unsent += w->stats.unsent;
        all.unfinished += w->stats.unfinished;
        for (auto [status, count] : w->stats.statuses) {
            all.statuses[status] += count;
        }
    }
    std::uint64_t bad = 0;
    std::string statuses;
    for (auto [status, count] : all.statuses) {
        statuses += (statuses.empty() ? "\"" : ",\"") + std::to_string(status) +
                    "\":" + std::to_string(count);
        if (status < 200 || status >= 300) {
            bad += count;
        }
    }
    auto us = [&](double percent) {
        return fixed(all.latency.percentile(percent) / 1e3, 1);
    };
    out = "{\"mode\":\"" + std::string(opt.rate > 0 ? "open" : "closed") +
          "\",\"label\":" + json_string(opt.label) + ",\"method\":" + json_string(opt.method) +
          ",\"connections\":" + std::to_string(opt.connections) +
          ",\"threads\":" + std::to_string(opt.threads) +
          ",\"duration_s\":" + fixed(opt.duration, 3) + ",\"warmup_s\":" + fixed(opt.warmup, 3) +
          ",\"target_rate\":" + fixed(opt.rate, 1) +
          ",\"requests\":" + std::to_string(all.completed) +
          ",\"all_responses\":" + std::to_string(all.all) +
          ",\"rate\":" + fixed(static_cast<double>(all.completed) / opt.duration, 1) +
          ",\"recorded\":" + std::to_string(all.latency.total()) +
          ",\"non_2xx\":" + std::to_string(bad) + ",\"errors\":" + std::to_string(all.errors) +
          ",\"unsent\":" + std::to_string(all.unsent) +
          ",\"unfinished\":" + std::to_string(all.unfinished) + ",\"statuses\":{" + statuses +
          "},\"latency_us\":{\"mean\":" + fixed(all.latency.mean() / 1e3, 1) +
          ",\"p50\":" + us(50) + ",\"p90\":" + us(90) + ",\"p99\":" + us(99) +
          ",\"p999\":" + us(99.9) + ",\"max\":" + fixed(all.latency.max() / 1e3, 1) +
          "},\"generator_cpu\":" + fixed(cpu_used / wall, 3) + "}";
    std::cout << out << std::endl;
    return 0;
}
