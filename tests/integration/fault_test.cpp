// Fault tests: a real `loyalty serve` on 127.0.0.1, seen from its clients and its operator.
//
//   [kill]     SIGKILL under load from four keep-alive clients, at least 100 times: after each
//              kill `loyalty verify` passes, every acknowledged purchase is stored exactly once,
//              and after the restart a retry of one replays it.
//   [disk]     the database's filesystem fills up during writes (root only: a small ext4 image on
//              a loop device, or a tmpfs of fixed size): writes fail cleanly with a problem, reads
//              go on, nothing is corrupted, and writes succeed again once space returns, without
//              a restart.
//   [readonly] a database on a read-only filesystem, or without write permission.
//   [slow]     slowloris clients, clients that never read, and a connection flood beyond
//              --max-connections do not starve other clients.
//   [hostile]  malformed and hostile HTTP and JSON get a 4xx, and the server stays up.
//   [signal]   SIGTERM stops the server.
//   [security] docs/security.md's generated tables are the router's roles and the defaults.
//
// Every test is bounded in time and prints what it measured with WARN. A known defect not fixed
// yet is checked with CHECK_NOFAIL (reported, not failing the run) and listed in
// docs/security.md; make it a CHECK once the defect is fixed.

#include "loyalty/cli/commands.hpp"
#include "loyalty/engine/local_time.hpp"
#include "loyalty/http/metrics.hpp"
#include "loyalty/http/router.hpp"
#include "loyalty/http/server.hpp"
#include "loyalty/ledger/api_keys.hpp"
#include "loyalty/ledger/ledger.hpp"
#include "support/http_client.hpp"
#include "support/router_requests.hpp"
#include "support/sample_program.hpp"
#include "support/temp_dir.hpp"

#include <algorithm>
#include <arpa/inet.h>
#include <atomic>
#include <catch2/catch.hpp>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <future>
#include <grp.h>
#include <map>
#include <memory>
#include <mutex>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <nlohmann/json.hpp>
#include <optional>
#include <poll.h>
#include <pwd.h>
#include <random>
#include <regex>
#include <spawn.h>
#include <spdlog/spdlog.h>
#include <sqlite3.h>
#include <sstream>
#include <string>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <utility>
#include <vector>

extern char** environ;

using namespace loyalty;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

namespace fs = std::filesystem;
namespace bhttp = boost::beast::http;
using std::chrono::milliseconds;
using clock_type = std::chrono::steady_clock;

long long ms_between(clock_type::time_point from, clock_type::time_point to) {
    return std::chrono::duration_cast<milliseconds>(to - from).count();
}

long long ms_since(clock_type::time_point from) {
    return ms_between(from, clock_type::now());
}

std::string read_text(const fs::path& file) {
    std::ifstream in(file, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

// The end of a log, for failure messages.
std::string tail(const std::string& text, std::size_t bytes = 3000) {
    return text.size() <= bytes ? text : "…" + text.substr(text.size() - bytes);
}

bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

// ---------------------------------------------------------------------------------------------
// Processes

using user_ids = std::pair<uid_t, gid_t>;

std::string describe_status(int status) {
    if (WIFEXITED(status)) {
        return "exit " + std::to_string(WEXITSTATUS(status));
    }
    if (WIFSIGNALED(status)) {
        return std::string("signal ") + ::strsignal(WTERMSIG(status));
    }
    return "status " + std::to_string(status);
}

bool killed_by(int status, int signal) {
    return WIFSIGNALED(status) && WTERMSIG(status) == signal;
}

bool exited_with(int status, int code) {
    return WIFEXITED(status) && WEXITSTATUS(status) == code;
}

// A child process with its standard output and error in files; killed if still running when
// destroyed.
class process {
public:
    // `as_user`: started as that user and group (dropping root), for the permission tests.
    process(std::vector<std::string> args, const fs::path& out, const fs::path& err,
            std::optional<user_ids> as_user = std::nullopt) {
        std::vector<char*> argv;
        for (auto& a : args) {
            argv.push_back(a.data());
        }
        argv.push_back(nullptr);
        if (!as_user) {
            posix_spawn_file_actions_t actions;
            posix_spawn_file_actions_init(&actions);
            posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
            posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, out.c_str(),
                                             O_WRONLY | O_CREAT | O_TRUNC, 0644);
            posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, err.c_str(),
                                             O_WRONLY | O_CREAT | O_TRUNC, 0644);
            int rc = ::posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), environ);
            posix_spawn_file_actions_destroy(&actions);
            INFO("starting " << args[0] << ": " << std::strerror(rc));
            REQUIRE(rc == 0);
            return;
        }
        // Opened here, by root; the child only duplicates them.
        int in = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
        int o = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        int e = ::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        REQUIRE(in >= 0);
        REQUIRE(o >= 0);
        REQUIRE(e >= 0);
        const auto [uid, gid] = *as_user;
        pid_ = ::fork();
        REQUIRE(pid_ >= 0);
        if (pid_ == 0) {
            // Only async-signal-safe calls between fork and exec.
            if (::dup2(in, STDIN_FILENO) < 0 || ::dup2(o, STDOUT_FILENO) < 0 ||
                ::dup2(e, STDERR_FILENO) < 0 || ::setgroups(0, nullptr) != 0 ||
                ::setresgid(gid, gid, gid) != 0 || ::setresuid(uid, uid, uid) != 0) {
                ::_exit(127);
            }
            ::execve(argv[0], argv.data(), environ);
            ::_exit(127);
        }
        ::close(in);
        ::close(o);
        ::close(e);
    }
    process(const process&) = delete;
    process& operator=(const process&) = delete;
    ~process() {
        if (pid_ > 0 && !status_) {
            kill();
        }
    }

    pid_t pid() const { return pid_; }

    // True once it ended (its status is then kept).
    bool ended() {
        if (!status_) {
            int status = 0;
            if (::waitpid(pid_, &status, WNOHANG) == pid_) {
                status_ = status;
            }
        }
        return status_.has_value();
    }

    // The wait status once it ended, waiting at most `limit`; nothing if it still runs.
    std::optional<int> wait(milliseconds limit) {
        auto deadline = clock_type::now() + limit;
        while (!ended() && clock_type::now() < deadline) {
            std::this_thread::sleep_for(2ms);
        }
        return status_;
    }

    void signal(int number) {
        if (!ended()) {
            ::kill(pid_, number);
        }
    }

    // SIGKILL, then the wait status (which may say it ended before, by itself).
    int kill() {
        if (!ended()) {
            ::kill(pid_, SIGKILL);
            int status = 0;
            while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
            }
            status_ = status;
        }
        return *status_;
    }

private:
    pid_t pid_ = -1;
    std::optional<int> status_;
};

// The loyalty binary and the sample program, copied once into a folder anyone may read: a
// rebuild during the run cannot pull the binary away, and the permission test runs it as nobody.
const fs::path& tools_dir() {
    static test::temp_dir dir;
    static const bool copied = [] {
        fs::copy_file(LOYALTY_BINARY, dir / "loyalty");
        fs::copy_file(test::sample_path(), dir / "program.yaml");
        fs::permissions(dir.path(), fs::perms(0755));
        fs::permissions(dir / "loyalty", fs::perms(0755));
        fs::permissions(dir / "program.yaml", fs::perms(0644));
        return true;
    }();
    (void)copied;
    return dir.path();
}

fs::path loyalty_binary() {
    return tools_dir() / "loyalty";
}

fs::path program_file() {
    return tools_dir() / "program.yaml";
}

struct command_result {
    int status = -1;
    std::string out, err;
};

// `loyalty <args>` to its end, within `limit`.
command_result run_loyalty(const fs::path& dir, const std::vector<std::string>& args,
                           milliseconds limit = 60s) {
    static std::atomic<int> counter{0};
    const std::string name = "command-" + std::to_string(counter++);
    std::vector<std::string> all = {loyalty_binary().string()};
    all.insert(all.end(), args.begin(), args.end());
    command_result r;
    {
        process p(all, dir / (name + ".out"), dir / (name + ".err"));
        auto status = p.wait(limit);
        INFO("loyalty " << args.at(0) << " " << args.at(1 % args.size()));
        REQUIRE(status.has_value()); // else it hangs: the destructor kills it
        r.status = *status;
    }
    r.out = read_text(dir / (name + ".out"));
    r.err = read_text(dir / (name + ".err"));
    fs::remove(dir / (name + ".out"));
    fs::remove(dir / (name + ".err"));
    return r;
}

// `loyalty keys create`: the key it prints.
std::string create_key(const fs::path& dir, const fs::path& database, const std::string& role) {
    auto r = run_loyalty(
        dir, {"keys", "create", "--db", database.string(), "--role", role, "--name", "fault-test"});
    INFO(r.err);
    REQUIRE(exited_with(r.status, 0));
    std::string key = r.out.substr(0, r.out.find('\n'));
    REQUIRE(key.rfind("lk_", 0) == 0);
    return key;
}

// `loyalty verify`: empty when it exits 0, else what it said.
std::string verify(const fs::path& dir, const fs::path& database) {
    auto r = run_loyalty(dir, {"verify", "--db", database.string()});
    return exited_with(r.status, 0) ? "" : describe_status(r.status) + ": " + r.err;
}

const std::vector<std::string> unlimited_rate = {"--rate", "1000000", "--burst", "1000000"};

// `loyalty serve` on 127.0.0.1 with an ephemeral port, its output in <name>.out and .err.
class server_process {
public:
    server_process(const fs::path& dir, const fs::path& database,
                   const std::vector<std::string>& flags = {}, const std::string& name = "server",
                   std::optional<user_ids> as_user = std::nullopt,
                   const fs::path& program = program_file())
        : out_(dir / (name + ".out")), err_(dir / (name + ".err")),
          proc_(arguments(database, flags, program), out_, err_, as_user) {}

    // Waits for the line it prints once it listens; false when it ended first or took longer.
    bool wait_ready(milliseconds limit = 20s) {
        static const std::string serving = "loyalty: serving ";
        static const std::string on = " on http://127.0.0.1:";
        auto deadline = clock_type::now() + limit;
        for (;;) {
            std::string text = read_text(out_);
            auto at = text.find(serving);
            if (at != std::string::npos) {
                auto where = text.find(on, at);
                auto end = text.find('\n', at);
                if (where != std::string::npos && end != std::string::npos && where < end) {
                    port_ = static_cast<std::uint16_t>(std::stoul(text.substr(where + on.size())));
                    return true;
                }
            }
            if (proc_.ended() || clock_type::now() >= deadline) {
                return false;
            }
            std::this_thread::sleep_for(2ms);
        }
    }

    std::uint16_t port() const { return port_; }
    process& proc() { return proc_; }
    std::string out() const { return read_text(out_); }
    std::string err() const { return read_text(err_); }
    std::string logs() const { return "stderr: " + tail(err()) + "\nstdout: " + tail(out()); }

private:
    static std::vector<std::string> arguments(const fs::path& database,
                                              const std::vector<std::string>& flags,
                                              const fs::path& program) {
        std::vector<std::string> args = {
            loyalty_binary().string(), "serve",    "--program",   program.string(), "--db",
            database.string(),         "--listen", "127.0.0.1:0", "--web",          "",
            "--jobs-interval",         "0"};
        args.insert(args.end(), flags.begin(), flags.end());
        return args;
    }

    fs::path out_, err_;
    process proc_;
    std::uint16_t port_ = 0;
};

// Waits for the server to listen; fails the test with its logs if it does not.
void require_ready(server_process& s, milliseconds limit = 20s) {
    if (!s.wait_ready(limit)) {
        FAIL("the server did not start: " << s.logs());
    }
}

// ---------------------------------------------------------------------------------------------
// HTTP

using client = test::http_client;

client::request make_request(bhttp::verb method, const std::string& target,
                             const std::string& key = "", const std::string& body = "") {
    client::request req{method, target, 11};
    req.set(bhttp::field::host, "127.0.0.1");
    if (!key.empty()) {
        req.set(bhttp::field::authorization, "Bearer " + key);
    }
    if (method == bhttp::verb::post) {
        req.set(bhttp::field::content_type, "application/json");
        req.body() = body;
    }
    req.keep_alive(true);
    req.prepare_payload();
    return req;
}

std::string time_ago(std::chrono::seconds ago) {
    return engine::format_rfc3339(
        std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now()) - ago);
}

json purchase_json(const std::string& transaction_id, const std::string& member_id,
                   const std::string& store_id) {
    return {{"transaction_id", transaction_id},
            {"member_id", member_id},
            {"store_id", store_id},
            {"channel", "store"},
            {"occurred_at", time_ago(60s)},
            {"currency", "USD"},
            {"lines", json::array({{{"line_id", "1"},
                                    {"sku", "SKU-LATTE"},
                                    {"category", "coffee"},
                                    {"quantity", 1},
                                    {"unit_price", 450}}})}};
}

std::string enrollment(const std::string& member_id) {
    return json{{"member_id", member_id}}.dump();
}

bool is_problem(const client::response& res) {
    return res[bhttp::field::content_type] == "application/problem+json";
}

// Raw sockets, for what a well-behaved client cannot send.
class raw_socket {
public:
    // `receive_buffer`: a fixed SO_RCVBUF (no autotuning), for a client that reads nothing.
    explicit raw_socket(std::uint16_t port, int receive_buffer = 0) {
        fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd_ < 0) {
            return;
        }
        if (receive_buffer > 0) {
            ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &receive_buffer, sizeof receive_buffer);
        }
        sockaddr_in address{};
        address.sin_family = AF_INET;
        address.sin_port = htons(port);
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
            ::close(fd_);
            fd_ = -1;
            return;
        }
        int one = 1;
        ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
    raw_socket(raw_socket&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
    raw_socket& operator=(raw_socket&&) = delete;
    raw_socket(const raw_socket&) = delete;
    raw_socket& operator=(const raw_socket&) = delete;
    ~raw_socket() { close(); }

    bool open() const { return fd_ >= 0; }
    int fd() const { return fd_; }
    void close() {
        if (fd_ >= 0) {
            ::close(fd_);
            fd_ = -1;
        }
    }

    // False once the peer is gone (reset, or the write side shut).
    bool send_all(std::string_view bytes) {
        while (!bytes.empty()) {
            ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
            if (n < 0 && errno == EINTR) {
                continue;
            }
            if (n <= 0) {
                return false;
            }
            bytes.remove_prefix(static_cast<std::size_t>(n));
        }
        return true;
    }

    // Whether the server closed its end: end of file or a reset, without waiting.
    bool closed_by_peer() {
        char byte;
        ssize_t n = ::recv(fd_, &byte, 1, MSG_DONTWAIT | MSG_PEEK);
        if (n == 0) {
            return true;
        }
        return n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR;
    }

    // Whether the server closed or reset the connection, seen without reading what it sent.
    bool hung_up() const {
        pollfd p{fd_, POLLRDHUP, 0};
        return ::poll(&p, 1, 0) > 0 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR)) != 0;
    }

private:
    int fd_ = -1;
};

struct raw_response {
    unsigned status = 0;
    std::string head; // status line and headers
    std::string body;

    std::string header(std::string name) const {
        std::string lower = head;
        std::transform(lower.begin(), lower.end(), lower.begin(),
                       [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
        std::transform(name.begin(), name.end(), name.begin(),
                       [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
        auto at = lower.find("\r\n" + name + ":");
        if (at == std::string::npos) {
            return "";
        }
        at += name.size() + 3;
        auto end = head.find("\r\n", at);
        std::string value = head.substr(at, end - at);
        value.erase(0, value.find_first_not_of(' '));
        return value;
    }
};

// The whole responses at the start of `bytes` (every answer of the server has a Content-Length);
// `used` is where the first incomplete one starts.
std::vector<raw_response> parse_responses(const std::string& bytes, std::size_t& used) {
    std::vector<raw_response> out;
    used = 0;
    while (bytes.compare(used, 5, "HTTP/") == 0) {
        auto end = bytes.find("\r\n\r\n", used);
        if (end == std::string::npos) {
            break;
        }
        raw_response r;
        r.head = bytes.substr(used, end + 2 - used);
        r.status = static_cast<unsigned>(std::atoi(r.head.substr(9, 3).c_str()));
        std::string length = r.header("content-length");
        std::size_t n = length.empty() ? 0 : std::stoul(length);
        if (end + 4 + n > bytes.size()) {
            break;
        }
        r.body = bytes.substr(end + 4, n);
        out.push_back(std::move(r));
        used = end + 4 + n;
    }
    return out;
}

struct raw_result {
    std::vector<raw_response> responses;
    bool closed = false;      // the server closed the connection
    bool send_failed = false; // it did so before taking everything
    std::string stray;        // bytes that are not a whole response

    std::string statuses() const {
        std::string s;
        for (const auto& r : responses) {
            s += (s.empty() ? "" : ", ") + std::to_string(r.status);
        }
        return "[" + s + "]" + (closed ? " closed" : " open") +
               (stray.empty() ? "" : " +" + std::to_string(stray.size()) + " stray bytes");
    }
};

// Reads from `s` until the server closes, or `quiet` passes without a byte once a whole response
// came, or `limit` passes.
raw_result read_responses(raw_socket& s, milliseconds quiet, milliseconds limit) {
    raw_result r;
    std::string got;
    auto deadline = clock_type::now() + limit;
    auto last = clock_type::now();
    for (;;) {
        std::size_t used = 0;
        bool some = !parse_responses(got, used).empty();
        auto now = clock_type::now();
        if (now >= deadline || (some && now - last >= quiet)) {
            break;
        }
        auto wait = std::min(deadline - now, some ? quiet - (now - last) : deadline - now);
        pollfd p{s.fd(), POLLIN, 0};
        int n = ::poll(&p, 1,
                       static_cast<int>(std::max<long long>(
                           1, std::chrono::duration_cast<milliseconds>(wait).count())));
        if (n <= 0) {
            continue;
        }
        char buffer[65536];
        ssize_t k = ::recv(s.fd(), buffer, sizeof buffer, 0);
        if (k > 0) {
            got.append(buffer, static_cast<std::size_t>(k));
            last = clock_type::now();
            continue;
        }
        if (k < 0 && errno == EINTR) {
            continue;
        }
        r.closed = true; // end of file or a reset
        break;
    }
    std::size_t used = 0;
    r.responses = parse_responses(got, used);
    r.stray = got.substr(used);
    return r;
}

// Sends `bytes` on a new connection and reads what comes back.
raw_result raw_exchange(std::uint16_t port, const std::string& bytes, milliseconds quiet = 300ms,
                        milliseconds limit = 5s) {
    raw_socket s(port);
    REQUIRE(s.open());
    bool sent = s.send_all(bytes);
    raw_result r = read_responses(s, quiet, limit);
    r.send_failed = !sent;
    return r;
}

// GET /healthz on a new connection: the status, 0 without an answer.
unsigned healthz(std::uint16_t port) {
    auto r = raw_exchange(port, "GET /healthz HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
                          300ms, 3s);
    return r.responses.size() == 1 ? r.responses[0].status : 0;
}

// A POST as bytes: `extra` headers (each ending in CRLF) go before Content-Length.
std::string raw_post(const std::string& target, const std::string& key, const std::string& body,
                     const std::string& extra = "") {
    return "POST " + target + " HTTP/1.1\r\nHost: t\r\nConnection: close\r\n" +
           (key.empty() ? "" : "Authorization: Bearer " + key + "\r\n") +
           "Content-Type: application/json\r\n" + extra +
           "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

// ---------------------------------------------------------------------------------------------
// SQLite, read-only, straight on the file

std::vector<std::vector<std::string>> query(const fs::path& database, const std::string& sql) {
    sqlite3* db = nullptr;
    int rc = sqlite3_open_v2(database.c_str(), &db, SQLITE_OPEN_READONLY, nullptr);
    INFO(sql << ": " << (db ? sqlite3_errmsg(db) : "no connection"));
    REQUIRE(rc == SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    sqlite3_stmt* s = nullptr;
    rc = sqlite3_prepare_v2(db, sql.c_str(), -1, &s, nullptr);
    INFO(sqlite3_errmsg(db));
    REQUIRE(rc == SQLITE_OK);
    std::vector<std::vector<std::string>> rows;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        std::vector<std::string> row;
        for (int c = 0; c < sqlite3_column_count(s); ++c) {
            const unsigned char* text = sqlite3_column_text(s, c);
            row.emplace_back(text ? reinterpret_cast<const char*>(text) : "");
        }
        rows.push_back(std::move(row));
    }
    std::string error = sqlite3_errmsg(db);
    sqlite3_finalize(s);
    sqlite3_close(db);
    INFO(error);
    REQUIRE(rc == SQLITE_DONE);
    return rows;
}

std::int64_t count(const fs::path& database, const std::string& what) {
    return std::stoll(query(database, "SELECT COUNT(*) FROM " + what).at(0).at(0));
}

// transaction id -> rows, for one store.
std::map<std::string, int> stored_purchases(const fs::path& database, const std::string& store) {
    std::map<std::string, int> out;
    for (const auto& row : query(database, "SELECT transaction_id, COUNT(*) FROM purchases WHERE "
                                           "store_id = '" +
                                               store + "' GROUP BY transaction_id")) {
        out[row.at(0)] = std::stoi(row.at(1));
    }
    return out;
}

// The checks every fault ends with: the ledger verifies, SQLite's own check passes, and each
// purchase of `store` is one purchase row, one operation and one idempotency key.
void check_database(const fs::path& dir, const fs::path& database, const std::string& store) {
    INFO(database);
    CHECK(verify(dir, database).empty());
    CHECK(query(database, "PRAGMA integrity_check").at(0).at(0) == "ok");
    auto stored = count(database, "purchases WHERE store_id = '" + store + "'");
    CHECK(count(database, "operations WHERE kind = 'purchase' AND json_extract(request, "
                          "'$.store_id') = '" +
                              store + "'") == stored);
    CHECK(count(database, "idempotency_keys WHERE key LIKE 'purchase " + store + "/%'") == stored);
}

// ---------------------------------------------------------------------------------------------
// Load: clients posting purchases, each logging the ones acknowledged

struct acknowledged {
    std::string transaction_id;
    std::string request; // the body posted
    std::string answer;  // the 201's body
};

struct load_state {
    std::atomic<std::uint16_t> port{0}; // 0: no server to post to
    std::atomic<bool> stop{false};
    std::mutex mutex;
    std::vector<acknowledged> acks;    // under mutex
    std::vector<std::string> problems; // answers neither 201 nor a 5xx problem, under mutex
    std::map<unsigned, long> failures; // 5xx problems by status, under mutex
    std::vector<std::pair<std::string, std::string>> failed; // id and body answered 5xx
    std::atomic<long> sent{0}, unanswered{0}, retried{0}, replayed_after_retry{0};
};

// Posts purchases "<prefix><n>" of `member` at `store` while there is a port, on one kept-alive
// connection. A request left without an answer (the server died) is retried on the next server
// every other time, and abandoned otherwise; a 5xx is abandoned (and logged in `failed`).
void post_purchases(load_state& load, const std::string& key, const std::string& prefix,
                    const std::string& member, const std::string& store, unsigned seed) {
    std::mt19937 rng(seed);
    std::unique_ptr<client> c;
    std::uint16_t on_port = 0;
    std::int64_t n = 0;
    std::optional<std::pair<std::string, std::string>> pending; // transaction id, body
    bool retry = false;
    while (!load.stop) {
        std::uint16_t port = load.port;
        if (port == 0) {
            std::this_thread::sleep_for(1ms);
            continue;
        }
        if (port != on_port) {
            c = std::make_unique<client>(port, 3s);
            on_port = port;
        }
        if (!pending) {
            std::string id = prefix + std::to_string(n++);
            pending.emplace(id, purchase_json(id, member, store).dump());
            retry = false;
        }
        auto x = c->round_trip(
            make_request(bhttp::verb::post, "/v1/transactions", key, pending->second));
        ++load.sent;
        if (x.ec) {
            ++load.unanswered;
            if (rng() % 2 == 0) {
                pending.reset();
            } else {
                retry = true;
                ++load.retried;
            }
            std::this_thread::sleep_for(1ms);
            continue;
        }
        unsigned status = x.res.result_int();
        std::lock_guard lock(load.mutex);
        if (status == 201) {
            load.acks.push_back({pending->first, pending->second, x.res.body()});
            if (retry && x.res["Idempotent-Replayed"] == "true") {
                ++load.replayed_after_retry; // it committed, but the answer was lost
            }
        } else if (status >= 500 && is_problem(x.res)) {
            ++load.failures[status];
            load.failed.push_back(*pending);
        } else {
            load.problems.push_back(pending->first + ": " + std::to_string(status) + " " +
                                    x.res.body());
        }
        pending.reset();
    }
}

// Client threads, stopped and joined however the test ends.
class load_threads {
public:
    explicit load_threads(load_state& load) : load_(load) {}
    load_threads(const load_threads&) = delete;
    load_threads& operator=(const load_threads&) = delete;
    ~load_threads() { stop(); }
    template <class... Args>
    void start(Args&&... args) {
        threads_.emplace_back(post_purchases, std::ref(load_), std::forward<Args>(args)...);
    }
    void stop() {
        load_.stop = true;
        for (auto& t : threads_) {
            t.join();
        }
        threads_.clear();
    }

private:
    load_state& load_;
    std::vector<std::thread> threads_;
};

// ---------------------------------------------------------------------------------------------
// Small filesystems (root only)

std::optional<fs::path> find_tool(const std::string& name) {
    for (const char* dir : {"/usr/sbin", "/sbin", "/usr/bin", "/bin"}) {
        fs::path p = fs::path(dir) / name;
        if (::access(p.c_str(), X_OK) == 0) {
            return p;
        }
    }
    return std::nullopt;
}

bool run_tool(const fs::path& dir, std::vector<std::string> args) {
    process p(std::move(args), dir / "tool.out", dir / "tool.err");
    auto status = p.wait(30s);
    return status && exited_with(*status, 0);
}

// A filesystem of a fixed size mounted at `where` for one test: an ext4 image on a loop device
// when mkfs.ext4 and mount can make one, else a tmpfs. Unmounted (lazily if still busy) and
// removed when destroyed. mounted() is false when neither could be made (not root).
class small_filesystem {
public:
    small_filesystem(const fs::path& dir, const std::string& name, std::size_t bytes)
        : where_(dir / name), image_(dir / (name + ".img")) {
        fs::create_directories(where_);
        if (::geteuid() != 0) {
            return;
        }
        auto mkfs = find_tool("mkfs.ext4");
        auto mount_tool = find_tool("mount");
        if (mkfs && mount_tool) {
            { std::ofstream image(image_, std::ios::binary); }
            fs::resize_file(image_, bytes);
            // -m 0: no blocks reserved for root, who runs the server here. -b 4096: mkfs picks
            // 1 KiB blocks for an image this small, and SQLite extends its memory-mapped -shm
            // by writing the last byte of each 4 KiB page, which then allocates only the last
            // block of each: touching the rest on a full disk is a SIGBUS. Disks have 4 KiB
            // blocks (the page size) in practice.
            if (run_tool(dir,
                         {mkfs->string(), "-q", "-F", "-m", "0", "-b", "4096", image_.string()}) &&
                run_tool(dir,
                         {mount_tool->string(), "-o", "loop", image_.string(), where_.string()})) {
                kind_ = "ext4 on a loop device";
                return;
            }
            fs::remove(image_);
        }
        std::string options = "size=" + std::to_string(bytes) + ",mode=0755";
        if (::mount("tmpfs", where_.c_str(), "tmpfs", 0, options.c_str()) == 0) {
            kind_ = "tmpfs";
        }
    }
    small_filesystem(const small_filesystem&) = delete;
    small_filesystem& operator=(const small_filesystem&) = delete;
    ~small_filesystem() {
        if (!kind_.empty() && ::umount2(where_.c_str(), 0) != 0) {
            ::umount2(where_.c_str(), MNT_DETACH);
        }
        std::error_code ignored;
        fs::remove(image_, ignored);
    }

    bool mounted() const { return !kind_.empty(); }
    const std::string& kind() const { return kind_; }
    const fs::path& path() const { return where_; }
    fs::path operator/(const std::string& name) const { return where_ / name; }

    bool remount(bool read_only) {
        return ::mount(nullptr, where_.c_str(), nullptr,
                       MS_REMOUNT | (read_only ? static_cast<unsigned long>(MS_RDONLY) : 0UL),
                       nullptr) == 0;
    }

private:
    fs::path where_, image_;
    std::string kind_;
};

// Writes `file` until the filesystem has no room left; the bytes written.
std::size_t fill(const fs::path& file) {
    int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    REQUIRE(fd >= 0);
    std::size_t total = 0;
    std::string chunk(64 * 1024, 'x');
    for (std::size_t size : {65536u, 4096u, 512u, 1u}) {
        for (;;) {
            ssize_t n = ::write(fd, chunk.data(), size);
            if (n <= 0) {
                break;
            }
            total += static_cast<std::size_t>(n);
        }
    }
    ::fsync(fd);
    ::close(fd);
    return total;
}

std::optional<user_ids> nobody() {
    if (passwd* p = ::getpwnam("nobody")) {
        return user_ids{p->pw_uid, p->pw_gid};
    }
    return user_ids{65534, 65534};
}

} // namespace

// ---------------------------------------------------------------------------------------------

TEST_CASE("a server killed under load loses no acknowledged purchase", "[kill]") {
    test::temp_dir dir;
    const auto database = dir / "loyalty.db";
    const std::string key = create_key(dir.path(), database, "pos");
    constexpr int clients = 4;
    constexpr int cycles_wanted = 100;
    constexpr auto budget = 150s; // the test ends here even short of the cycles (and fails)
    const std::string store = "s-kill";

    {
        server_process setup(dir.path(), database, unlimited_rate, "setup");
        require_ready(setup);
        client c(setup.port());
        for (int i = 0; i < clients; ++i) {
            auto x = c.round_trip(make_request(bhttp::verb::post, "/v1/members", key,
                                               enrollment("m-" + std::to_string(i))));
            REQUIRE_FALSE(x.ec);
            REQUIRE(x.res.result_int() == 201);
        }
        setup.proc().kill();
    }

    load_state load;
    load_threads threads(load);
    for (int i = 0; i < clients; ++i) {
        threads.start(key, "k" + std::to_string(i) + "-", "m-" + std::to_string(i), store,
                      static_cast<unsigned>(i + 1));
    }

    std::mt19937 rng(20261123);
    int cycles = 0, kills_while_starting = 0, replays = 0;
    std::size_t most_unacknowledged = 0;
    clock_type::duration in_start{}, in_load{}, in_verify{}, in_checks{};
    std::vector<acknowledged> to_retry; // the latest acknowledged before the last kill
    const auto begin = clock_type::now();
    while (cycles < cycles_wanted && clock_type::now() - begin < budget) {
        INFO("cycle " << cycles);
        auto t0 = clock_type::now();
        {
            server_process s(dir.path(), database, unlimited_rate, "kill");
            if (cycles % 10 == 9) {
                // Now and then the kill lands while the server opens the database.
                std::this_thread::sleep_for(
                    milliseconds(std::uniform_int_distribution(0, 120)(rng)));
                ++kills_while_starting;
                in_start += clock_type::now() - t0;
            } else {
                require_ready(s);
                auto t1 = clock_type::now();
                in_start += t1 - t0;
                // Retries of purchases acknowledged before the kill replay their answers.
                client me(s.port());
                for (const auto& a : to_retry) {
                    INFO("retrying " << a.transaction_id);
                    auto x = me.round_trip(
                        make_request(bhttp::verb::post, "/v1/transactions", key, a.request));
                    REQUIRE_FALSE(x.ec);
                    CHECK(x.res.result_int() == 201);
                    CHECK(x.res["Idempotent-Replayed"] == "true");
                    CHECK(x.res.body() == a.answer);
                    ++replays;
                }
                load.port = s.port();
                // Long enough for the kill to find requests in flight, short enough to keep the
                // database small: `loyalty verify` reads all of it after every kill (the Debug
                // build parses about 3,000 stored purchases and outcomes a second), which is most
                // of this test's time.
                std::this_thread::sleep_for(
                    milliseconds(std::uniform_int_distribution(30, 150)(rng)));
                in_load += clock_type::now() - t1;
            }
            load.port = 0; // no new requests; those in flight die with the server
            int status = s.proc().kill();
            INFO(describe_status(status) << "\n" << s.logs());
            REQUIRE(killed_by(status, SIGKILL)); // it did not end by itself
        }
        ++cycles;

        auto t2 = clock_type::now();
        std::string verified = verify(dir.path(), database);
        auto t3 = clock_type::now();
        in_verify += t3 - t2;
        INFO(verified);
        REQUIRE(verified.empty());

        std::vector<acknowledged> acks;
        {
            std::lock_guard lock(load.mutex);
            acks = load.acks;
        }
        auto stored = stored_purchases(database, store);
        std::size_t missing = 0, doubled = 0;
        std::string first_missing;
        for (const auto& a : acks) {
            auto it = stored.find(a.transaction_id);
            if (it == stored.end()) {
                first_missing = first_missing.empty() ? a.transaction_id : first_missing;
                ++missing;
            } else if (it->second != 1) {
                ++doubled;
            }
        }
        INFO("first acknowledged purchase missing: " << first_missing);
        REQUIRE(missing == 0);
        REQUIRE(doubled == 0);
        REQUIRE(count(database, "operations WHERE kind = 'purchase'") ==
                static_cast<std::int64_t>(stored.size()));
        REQUIRE(count(database, "idempotency_keys WHERE key LIKE 'purchase " + store + "/%'") ==
                static_cast<std::int64_t>(stored.size()));
        most_unacknowledged = std::max(most_unacknowledged, stored.size() - acks.size());
        to_retry.assign(acks.end() -
                            static_cast<std::ptrdiff_t>(std::min<std::size_t>(acks.size(), 3)),
                        acks.end());
        in_checks += clock_type::now() - t3;
    }
    threads.stop();
    auto total = ms_since(begin);

    using std::chrono::duration_cast;
    std::lock_guard lock(load.mutex);
    WARN(cycles << " SIGKILLs (" << kills_while_starting << " while starting) in " << total
                << " ms: " << load.acks.size() << " purchases acknowledged of " << load.sent
                << " posted, " << load.unanswered << " left unanswered by a kill (" << load.retried
                << " retried, " << load.replayed_after_retry
                << " of them replayed: committed before the kill), at most " << most_unacknowledged
                << " stored without an answer; " << replays
                << " acknowledged purchases retried after a restart, all replayed; "
                << duration_cast<milliseconds>(in_start).count() << " ms starting, "
                << duration_cast<milliseconds>(in_load).count() << " ms under load, "
                << duration_cast<milliseconds>(in_verify).count() << " ms in loyalty verify, "
                << duration_cast<milliseconds>(in_checks).count() << " ms checking");
    CHECK(cycles >= cycles_wanted);
    // Not vacuous: the kills landed among hundreds of acknowledged writes, and some between a
    // commit and its answer (a retry of such a purchase replays it).
    CHECK(load.acks.size() > 500);
    CHECK(load.replayed_after_retry > 0);
    CHECK(replays >= 200);
    INFO("first: " << (load.problems.empty() ? "" : load.problems.front()));
    CHECK(load.problems.empty());
    CHECK(load.failures.empty());
}

TEST_CASE("a full disk fails writes cleanly and the server recovers when space returns", "[disk]") {
    test::temp_dir dir;
    small_filesystem disk(dir.path(), "disk", 16 * 1024 * 1024);
    if (!disk.mounted()) {
        WARN("skipped: mounting a small filesystem needs root (uid " << ::geteuid() << ")");
        return;
    }
    const auto database = disk / "loyalty.db";
    const std::string key = create_key(dir.path(), database, "pos");
    const std::string store = "s-disk";
    constexpr int clients = 4;

    server_process s(dir.path(), database, unlimited_rate);
    require_ready(s);
    client c(s.port(), 5s);
    for (int i = 0; i < clients; ++i) {
        auto x = c.round_trip(make_request(bhttp::verb::post, "/v1/members", key,
                                           enrollment("m-" + std::to_string(i))));
        REQUIRE(x.res.result_int() == 201);
    }

    load_state load;
    load_threads threads(load);
    for (int i = 0; i < clients; ++i) {
        threads.start(key, "d" + std::to_string(i) + "-", "m-" + std::to_string(i), store,
                      static_cast<unsigned>(i + 1));
    }
    // Writes go through; then the disk fills up under them.
    load.port = s.port();
    std::this_thread::sleep_for(300ms);
    const auto filler = disk / "filler";
    std::size_t filled = fill(filler);
    const auto full_at = clock_type::now();
    std::size_t acks_when_full = 0;
    {
        std::lock_guard lock(load.mutex);
        acks_when_full = load.acks.size();
    }

    // Writes fail (each with a whole problem response) until enough did, at most 15 s.
    long failed = 0;
    std::vector<long long> read_latencies;
    while (clock_type::now() - full_at < 15s) {
        {
            std::lock_guard lock(load.mutex);
            failed = static_cast<long>(load.failed.size());
        }
        if (failed >= 200 && clock_type::now() - full_at > 2s) {
            break;
        }
        // Reads go on.
        auto t = clock_type::now();
        auto health = c.round_trip(make_request(bhttp::verb::get, "/healthz"));
        auto member = c.round_trip(make_request(bhttp::verb::get, "/v1/members/m-0", key));
        read_latencies.push_back(ms_since(t));
        CHECK(health.res.result_int() == 200);
        CHECK(member.res.result_int() == 200);
        std::this_thread::sleep_for(50ms);
    }
    auto full_for = ms_since(full_at);
    // A purchase made while full is refused as a whole problem, 5xx.
    const std::string refused_body = purchase_json("full-1", "m-0", store).dump();
    auto refused =
        c.round_trip(make_request(bhttp::verb::post, "/v1/transactions", key, refused_body));
    load.port = 0;
    threads.stop();
    REQUIRE_FALSE(s.proc().ended()); // no crash
    CHECK(failed >= 200);
    CHECK(is_problem(refused.res));
    // 503 with Retry-After, so clients retry: the ledger answers a full disk `unavailable`.
    CHECK(refused.res.result_int() == 503);
    CHECK(!refused.res[bhttp::field::retry_after].empty());

    // Space returns: writes succeed again, without a restart.
    fs::remove(filler);
    const auto freed_at = clock_type::now();
    long long recovered_ms = -1;
    while (clock_type::now() - freed_at < 10s) {
        auto x = c.round_trip(make_request(bhttp::verb::post, "/v1/transactions", key,
                                           purchase_json("after-1", "m-0", store).dump()));
        if (x.res.result_int() == 201) {
            recovered_ms = ms_since(freed_at);
            break;
        }
        std::this_thread::sleep_for(20ms);
    }
    CHECK(recovered_ms >= 0);
    // Every refused purchase was kept nowhere: none is stored, and retried as it was, it is done
    // now for the first time (a kept one would replay). Only some are retried: a fast build is
    // refused thousands of times while the disk is full, and storing them all would fill the
    // small disk again.
    std::vector<std::pair<std::string, std::string>> failed_posts;
    {
        std::lock_guard lock(load.mutex);
        failed_posts = load.failed;
    }
    failed_posts.emplace_back("full-1", refused_body);
    std::size_t kept = 0;
    {
        auto stored_now = stored_purchases(database, store);
        for (const auto& [id, body] : failed_posts) {
            if (stored_now.count(id) != 0) {
                ++kept;
                UNSCOPED_INFO(id << " was refused but is stored");
            }
        }
    }
    CHECK(kept == 0);
    constexpr std::size_t most_retried = 200;
    const std::size_t stride = (failed_posts.size() + most_retried - 1) / most_retried;
    std::size_t retried = 0, retried_ok = 0, replayed = 0;
    for (std::size_t i = 0; i < failed_posts.size(); i += stride) {
        const auto& [id, body] = failed_posts[i];
        auto x = c.round_trip(make_request(bhttp::verb::post, "/v1/transactions", key, body));
        ++retried;
        if (x.res.result_int() == 201 && x.res["Idempotent-Replayed"] != "true") {
            ++retried_ok;
        } else {
            ++replayed;
            UNSCOPED_INFO(id << ": " << x.res.result_int() << " " << x.res.body());
        }
    }
    CHECK(retried >= 100);
    CHECK(replayed == 0);
    CHECK(retried_ok == retried);
    // Acknowledged purchases replay.
    std::vector<acknowledged> acks;
    std::map<unsigned, long> failures;
    {
        std::lock_guard lock(load.mutex);
        acks = load.acks;
        failures = load.failures;
        INFO("first: " << (load.problems.empty() ? "" : load.problems.front()));
        CHECK(load.problems.empty());
    }
    for (std::size_t i = acks.size() - std::min<std::size_t>(acks.size(), 5); i < acks.size();
         ++i) {
        auto x =
            c.round_trip(make_request(bhttp::verb::post, "/v1/transactions", key, acks[i].request));
        CHECK(x.res.result_int() == 201);
        CHECK(x.res["Idempotent-Replayed"] == "true");
    }
    int status = s.proc().kill();
    CHECK(killed_by(status, SIGKILL));

    // Killed, and restarted on a full disk: it either serves (reads, writes refused) or refuses
    // to start, saying why; it neither hangs nor crashes. With space back it serves again.
    fill(filler);
    std::string restart;
    {
        server_process again(dir.path(), database, unlimited_rate, "full-restart");
        if (again.wait_ready(15s)) {
            client r(again.port(), 5s);
            auto read = r.round_trip(make_request(bhttp::verb::get, "/v1/members/m-0", key));
            auto write = r.round_trip(make_request(bhttp::verb::post, "/v1/transactions", key,
                                                   purchase_json("full-2", "m-0", store).dump()));
            CHECK(read.res.result_int() == 200);
            // A write may still fit in space SQLite holds already (the WAL is reused).
            CHECK((write.res.result_int() == 201 ||
                   (write.res.result_int() >= 500 && is_problem(write.res))));
            restart = "serves, a read " + std::to_string(read.res.result_int()) + ", a write " +
                      std::to_string(write.res.result_int());
            again.proc().kill();
        } else {
            auto ended = again.proc().wait(5s);
            INFO(again.logs());
            REQUIRE(ended.has_value());
            CHECK(exited_with(*ended, 1));
            std::string err = again.err();
            err.erase(err.find_last_not_of('\n') + 1);
            restart = "refuses to start, " + describe_status(*ended) + ", \"" + err + "\"";
        }
    }
    fs::remove(filler);
    {
        server_process again(dir.path(), database, unlimited_rate, "space-restart");
        require_ready(again);
        client r(again.port(), 5s);
        CHECK(r.round_trip(make_request(bhttp::verb::post, "/v1/transactions", key,
                                        purchase_json("after-2", "m-0", store).dump()))
                  .res.result_int() == 201);
        again.proc().kill();
    }

    check_database(dir.path(), database, store);
    auto stored = stored_purchases(database, store);
    std::size_t missing = 0;
    for (const auto& a : acks) {
        missing += stored.count(a.transaction_id) == 1 ? 0 : 1;
    }
    CHECK(missing == 0);
    std::string by_status;
    for (const auto& [code, n] : failures) {
        by_status += " " + std::to_string(n) + " × " + std::to_string(code) + ";";
    }
    WARN("full disk (" << disk.kind() << ", " << filled / 1024 << " KiB of filler): " << acks.size()
                       << " purchases acknowledged (" << acks_when_full
                       << " before the disk filled), refused while full for " << full_for
                       << " ms:" << by_status << " reads answered throughout (slowest "
                       << (read_latencies.empty()
                               ? 0
                               : *std::max_element(read_latencies.begin(), read_latencies.end()))
                       << " ms); writes succeeded again " << recovered_ms
                       << " ms after space returned; " << failed_posts.size()
                       << " refused purchases, " << kept << " stored; " << retried_ok << " of "
                       << retried << " retried done for the first time, " << replayed
                       << " not; restarted on the full disk it " << restart
                       << "; verify and integrity_check pass");
}

TEST_CASE("a read-only database: the server refuses to start, or serves reads and refuses writes",
          "[readonly]") {
    test::temp_dir dir;
    fs::permissions(dir.path(), fs::perms(0755));
    const bool root = ::geteuid() == 0;

    // A database with a member and a purchase, as a SIGKILLed server leaves it (with its -wal
    // and -shm) or as a SIGTERM does (the log emptied into the file).
    auto make_database = [&](const fs::path& database, bool crashed) {
        std::string key = create_key(dir.path(), database, "pos");
        server_process s(dir.path(), database, {}, "make");
        require_ready(s);
        {
            client c(s.port());
            REQUIRE(
                c.round_trip(make_request(bhttp::verb::post, "/v1/members", key, enrollment("m-1")))
                    .res.result_int() == 201);
            REQUIRE(c.round_trip(make_request(bhttp::verb::post, "/v1/transactions", key,
                                              purchase_json("t-1", "m-1", "s-1").dump()))
                        .res.result_int() == 201);
        }
        if (crashed) {
            s.proc().kill();
        } else {
            s.proc().signal(SIGTERM);
            auto status = s.proc().wait(10s);
            REQUIRE(status.has_value());
            REQUIRE(exited_with(*status, 0));
        }
        return key;
    };

    // Starts a server on `database` and reports what it did: served (reads, and writes refused
    // as problems) or refused to start (non-zero exit, a message on stderr).
    std::vector<std::string> outcomes;
    auto try_serve = [&](const fs::path& database, const std::string& key, const std::string& what,
                         std::optional<user_ids> as_user) {
        INFO(what);
        server_process s(dir.path(), database, {}, "readonly", as_user);
        auto t0 = clock_type::now();
        if (s.wait_ready(15s)) {
            client c(s.port());
            CHECK(c.round_trip(make_request(bhttp::verb::get, "/healthz")).res.result_int() == 200);
            auto read = c.round_trip(make_request(bhttp::verb::get, "/v1/members/m-1", key)).res;
            auto write = c.round_trip(make_request(bhttp::verb::post, "/v1/transactions", key,
                                                   purchase_json("t-2", "m-1", "s-1").dump()))
                             .res;
            CHECK(read.result_int() == 200);
            CHECK(write.result_int() >= 500);
            CHECK(is_problem(write));
            CHECK_FALSE(s.proc().ended());
            // It must refuse, naming the file, rather than pass /healthz and refuse every write.
            FAIL_CHECK("serves a database it cannot write");
            outcomes.push_back(what + ": serves; a read " + std::to_string(read.result_int()) +
                               ", a write " + std::to_string(write.result_int()));
            return;
        }
        auto status = s.proc().wait(5s);
        INFO(s.logs());
        REQUIRE(status.has_value()); // it neither serves nor ends: a hang
        CHECK(exited_with(*status, 1));
        std::string err = s.err();
        CHECK(err.rfind("loyalty serve: ", 0) == 0);
        // A clear message names the file.
        CHECK(contains(err, database.string()));
        err.erase(err.find_last_not_of('\n') + 1);
        outcomes.push_back(what + ": refuses to start in " + std::to_string(ms_since(t0)) +
                           " ms, " + describe_status(*status) + ", \"" + err + "\"");
    };

    SECTION("on a read-only filesystem") {
        small_filesystem disk(dir.path(), "ro", 16 * 1024 * 1024);
        // No early return: the test case would end before Catch saw the next section.
        if (!disk.mounted()) {
            WARN("skipped: mounting a filesystem needs root");
        } else {
            const auto clean = disk / "clean.db";
            const auto crashed = disk / "crashed.db";
            std::string clean_key = make_database(clean, false);
            std::string crashed_key = make_database(crashed, true);
            REQUIRE(disk.remount(true));
            try_serve(clean, clean_key, "read-only " + disk.kind() + ", stopped by SIGTERM",
                      std::nullopt);
            try_serve(crashed, crashed_key, "read-only " + disk.kind() + ", after a crash",
                      std::nullopt);
            // verify only reads: it works on a read-only copy without a log (SQLite cannot make
            // the -shm a WAL database needs there, so verify reads the file as immutable).
            const fs::path log = clean.string() + "-wal";
            CHECK((!fs::exists(log) || fs::file_size(log) == 0)); // a stop empties the log
            auto v = run_loyalty(dir.path(), {"verify", "--db", clean.string()});
            outcomes.push_back("loyalty verify on the read-only database stopped by SIGTERM: " +
                               describe_status(v.status) + " " + v.out + v.err);
            CHECK(exited_with(v.status, 0));
            disk.remount(false);
        }
    }
    SECTION("a database file and folder without write permission") {
        // Root ignores permission bits: the server runs as nobody then.
        std::optional<user_ids> as_user = root ? nobody() : std::nullopt;
        const auto folder = dir / "ro";
        fs::create_directories(folder);
        const auto clean = folder / "clean.db";
        const auto crashed = folder / "crashed.db";
        std::string clean_key = make_database(clean, false);
        std::string crashed_key = make_database(crashed, true);
        for (const auto& entry : fs::directory_iterator(folder)) {
            fs::permissions(entry.path(), fs::perms(0444));
        }
        fs::permissions(folder, fs::perms(0555));
        const std::string who = root ? " (the server as nobody)" : "";
        try_serve(clean, clean_key, "mode 0444 in a 0555 folder, stopped by SIGTERM" + who,
                  as_user);
        try_serve(crashed, crashed_key, "mode 0444 in a 0555 folder, after a crash" + who, as_user);
        // The file read-only, the folder writable (SQLite may create -wal and -shm).
        fs::permissions(folder, fs::perms(0777));
        try_serve(clean, clean_key, "mode 0444 in a writable folder" + who, as_user);
        fs::permissions(folder, fs::perms(0755));
    }
    std::string all;
    for (const auto& o : outcomes) {
        all += "\n  " + o;
    }
    if (!outcomes.empty()) {
        WARN("read-only database:" << all);
    }
}

TEST_CASE("slow clients do not starve the others", "[slow]") {
    test::temp_dir dir;
    const auto database = dir / "loyalty.db";
    const std::string key = create_key(dir.path(), database, "pos");
    const std::string store = "s-slow";
    server_process s(dir.path(), database, unlimited_rate);
    require_ready(s);
    const auto port = s.port();
    {
        client c(port);
        REQUIRE(
            c.round_trip(make_request(bhttp::verb::post, "/v1/members", key, enrollment("m-slow")))
                .res.result_int() == 201);
    }
    // A normal client, on a new connection each time: GET /healthz, then a purchase. Each answer
    // must come within 1 s.
    int rounds = 0;
    auto normal_round = [&](long long& slowest_get, long long& slowest_post) {
        client c(port, 3s);
        auto t0 = clock_type::now();
        auto health = c.round_trip(make_request(bhttp::verb::get, "/healthz"));
        auto t1 = clock_type::now();
        auto posted = c.round_trip(make_request(
            bhttp::verb::post, "/v1/transactions", key,
            purchase_json("slow-" + std::to_string(rounds++), "m-slow", store).dump()));
        auto t2 = clock_type::now();
        CHECK(health.res.result_int() == 200);
        CHECK(posted.res.result_int() == 201);
        CHECK(ms_between(t0, t1) < 1000);
        CHECK(ms_between(t1, t2) < 1000);
        slowest_get = std::max(slowest_get, ms_between(t0, t1));
        slowest_post = std::max(slowest_post, ms_between(t1, t2));
    };
    long long base_get = 0, base_post = 0;
    for (int i = 0; i < 5; ++i) {
        normal_round(base_get, base_post);
    }

    // 200 slowloris connections: a byte of a never-ending header every 500 ms.
    constexpr int slow = 200;
    std::vector<raw_socket> lorises;
    for (int i = 0; i < slow; ++i) {
        lorises.emplace_back(port);
        REQUIRE(lorises.back().open());
    }
    // 5 connections that pipeline 100 requests for the OpenAPI document (70 KB each) and read
    // nothing, with a small receive buffer: the server's writes to them block.
    constexpr int deaf = 5;
    std::vector<raw_socket> readers;
    std::string pipelined;
    for (int i = 0; i < 100; ++i) {
        pipelined += "GET /v1/openapi.json HTTP/1.1\r\nHost: t\r\n\r\n";
    }
    for (int i = 0; i < deaf; ++i) {
        readers.emplace_back(port, 4096);
        REQUIRE(readers.back().open());
        REQUIRE(readers.back().send_all(pipelined));
    }
    const std::string drip = "POST /v1/transactions HTTP/1.1\r\nHost: t\r\nX-Slow: ";
    std::atomic<bool> stop{false};
    std::atomic<int> drips{0};
    const auto first_byte = clock_type::now();
    std::thread dripper([&] {
        for (std::size_t k = 0; !stop; ++k) {
            char byte = k < drip.size() ? drip[k] : 'a';
            for (auto& l : lorises) {
                (void)l.send_all(std::string_view(&byte, 1)); // fails once the server closed it
            }
            ++drips;
            for (int i = 0; i < 50 && !stop; ++i) {
                std::this_thread::sleep_for(10ms);
            }
        }
    });
    struct joiner {
        std::atomic<bool>& stop;
        std::thread& t;
        ~joiner() {
            stop = true;
            if (t.joinable()) {
                t.join();
            }
        }
    } join_dripper{stop, dripper};

    long long slow_get = 0, slow_post = 0;
    const int base_rounds = rounds;
    while (clock_type::now() - first_byte < 5s) {
        normal_round(slow_get, slow_post);
        std::this_thread::sleep_for(100ms);
    }
    const int loaded_rounds = rounds - base_rounds;

    // The server cuts a request that does not arrive whole within its read timeout (10 s from
    // its first byte), and a response the client does not take within the same time.
    const auto timeout = http::server_options{}.read_timeout;
    int lorises_open = slow, readers_open = deaf;
    long long lorises_cut = -1, readers_cut = -1;
    while (clock_type::now() - first_byte < timeout + 5s) {
        lorises_open = static_cast<int>(std::count_if(
            lorises.begin(), lorises.end(), [](raw_socket& l) { return !l.closed_by_peer(); }));
        readers_open = 0;
        for (auto& r : readers) {
            readers_open += r.hung_up() ? 0 : 1;
        }
        if (lorises_open == 0 && lorises_cut < 0) {
            lorises_cut = ms_since(first_byte);
        }
        if (readers_open == 0 && readers_cut < 0) {
            readers_cut = ms_since(first_byte);
        }
        if (lorises_cut >= 0 && readers_cut >= 0) {
            break;
        }
        std::this_thread::sleep_for(100ms);
    }
    CHECK(lorises_open == 0);
    CHECK(readers_open == 0);
    CHECK(healthz(port) == 200);
    CHECK_FALSE(s.proc().ended());
    WARN(slow << " slowloris connections (" << drips << " drips) and " << deaf
              << " connections pipelining 100 GET /v1/openapi.json without reading: a normal "
                 "client's slowest GET /healthz "
              << slow_get << " ms and POST /v1/transactions " << slow_post << " ms over "
              << loaded_rounds << " rounds on new connections (before: " << base_get << " ms and "
              << base_post << " ms); the server closed every slowloris connection " << lorises_cut
              << " ms and every non-reading one " << readers_cut
              << " ms after the first byte (read timeout " << timeout.count() << " s)");
}

TEST_CASE("a connection flood beyond --max-connections is refused and the others are served",
          "[slow]") {
    test::temp_dir dir;
    const auto database = dir / "loyalty.db";
    const std::string key = create_key(dir.path(), database, "pos");
    constexpr int limit = 64;
    auto flags = unlimited_rate;
    flags.insert(flags.end(), {"--max-connections", std::to_string(limit)});
    server_process s(dir.path(), database, flags);
    require_ready(s);
    const auto port = s.port();

    // A client connected before the flood keeps its connection and is served throughout.
    client keeper(port, 3s);
    REQUIRE(
        keeper
            .round_trip(make_request(bhttp::verb::post, "/v1/members", key, enrollment("m-flood")))
            .res.result_int() == 201);
    // Idle connections take every other slot.
    std::vector<raw_socket> idle;
    for (int i = 0; i < limit - 1; ++i) {
        idle.emplace_back(port);
        REQUIRE(idle.back().open());
    }
    std::this_thread::sleep_for(200ms);
    // The flood: every further connection is answered 503 and closed, promptly.
    constexpr int flood = 300;
    std::vector<raw_socket> extra;
    auto t0 = clock_type::now();
    for (int i = 0; i < flood; ++i) {
        extra.emplace_back(port);
        REQUIRE(extra.back().open());
    }
    int refused = 0, retry_after = 0, closed = 0;
    for (auto& e : extra) {
        auto r = read_responses(e, 200ms, 3s);
        if (r.responses.size() == 1 && r.responses[0].status == 503 &&
            contains(r.responses[0].body, "too-many-connections")) {
            ++refused;
            retry_after += r.responses[0].header("retry-after") == "1" ? 1 : 0;
        }
        closed += r.closed ? 1 : 0;
    }
    auto refused_in = ms_since(t0);
    long long keeper_slowest = 0;
    for (int i = 0; i < 10; ++i) {
        auto t = clock_type::now();
        auto x = keeper.round_trip(
            make_request(bhttp::verb::post, "/v1/transactions", key,
                         purchase_json("flood-" + std::to_string(i), "m-flood", "s-1").dump()));
        keeper_slowest = std::max(keeper_slowest, ms_since(t));
        CHECK(x.res.result_int() == 201);
        CHECK_FALSE(x.found_closed);
    }
    CHECK(refused == flood);
    CHECK(retry_after == flood);
    CHECK(closed == flood);
    CHECK(keeper_slowest < 1000);
    CHECK(keeper.connects() == 1);

    // The flood gone, new connections are served again.
    idle.clear();
    extra.clear();
    auto freed = clock_type::now();
    long long served_after = -1;
    while (clock_type::now() - freed < 5s) {
        if (healthz(port) == 200) {
            served_after = ms_since(freed);
            break;
        }
        std::this_thread::sleep_for(20ms);
    }
    CHECK(served_after >= 0);
    CHECK_FALSE(s.proc().ended());
    WARN("--max-connections " << limit << ": " << refused << " of " << flood
                              << " further connections answered 503 too-many-connections ("
                              << retry_after << " with Retry-After: 1, " << closed << " closed) in "
                              << refused_in
                              << " ms; the kept-alive client's slowest answer meanwhile "
                              << keeper_slowest << " ms; new connections served " << served_after
                              << " ms after the idle ones closed");
}

namespace {

struct hostile_case {
    std::string name;
    std::string bytes;
    std::vector<unsigned> expected; // any of these; empty: any 4xx
};

// One hostile request: a 4xx (one response, unless `pipelined`), then /healthz still answers.
void check_hostile(std::uint16_t port, process& server, const hostile_case& h,
                   std::vector<std::string>& seen) {
    INFO(h.name);
    auto r = raw_exchange(port, h.bytes);
    INFO(r.statuses() << (r.responses.empty() ? "" : "\n" + r.responses[0].head) << "\n"
                      << (r.responses.empty() ? r.stray.substr(0, 200) : r.responses[0].body));
    REQUIRE(!r.responses.empty());
    CHECK(r.responses.size() == 1);
    unsigned status = r.responses[0].status;
    if (h.expected.empty()) {
        CHECK(status >= 400);
        CHECK(status < 500);
    } else {
        CHECK(std::find(h.expected.begin(), h.expected.end(), status) != h.expected.end());
    }
    CHECK(r.responses[0].header("content-type") == "application/problem+json");
    CHECK(healthz(port) == 200);
    REQUIRE_FALSE(server.ended());
    seen.push_back(h.name + " → " + r.statuses());
}

std::string purchase_with(const std::string& field_json) {
    // A purchase whose first line has `field_json` spliced in as its last field(s).
    return R"({"transaction_id": "t-h", "member_id": "m-h", "store_id": "s-1", "channel": "app", )"
           R"("occurred_at": ")" +
           time_ago(60s) +
           R"(", "currency": "USD", "lines": [{"line_id": "1", "sku": "LATTE", )"
           R"("category": "coffee", )" +
           field_json + "}]}";
}

} // namespace

TEST_CASE("malformed and hostile requests get a 4xx and the server stays up", "[hostile]") {
    test::temp_dir dir;
    const auto database = dir / "loyalty.db";
    const std::string key = create_key(dir.path(), database, "pos");
    server_process s(dir.path(), database, unlimited_rate);
    require_ready(s);
    const auto port = s.port();
    {
        client c(port);
        REQUIRE(c.round_trip(make_request(bhttp::verb::post, "/v1/members", key, enrollment("m-h")))
                    .res.result_int() == 201);
    }
    const std::string get = "GET /healthz HTTP/1.1\r\nHost: t\r\n";
    const std::string post = "POST /v1/transactions HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer " +
                             key + "\r\nContent-Type: application/json\r\n";
    auto nested = [](int levels, const std::string& open, const std::string& inner,
                     const std::string& close) {
        std::string text;
        for (int i = 0; i < levels; ++i) {
            text += open;
        }
        text += inner;
        for (int i = 0; i < levels; ++i) {
            text += close;
        }
        return text;
    };
    std::string headers_5000;
    for (int i = 0; i < 5000; ++i) {
        headers_5000 += "X-" + std::to_string(i) + ": a\r\n";
    }

    const std::vector<hostile_case> cases = {
        // Sizes.
        {"a 20 KiB header", get + "X-Big: " + std::string(20000, 'a') + "\r\n\r\n", {431}},
        {"1 MiB of one header", get + "X-Big: " + std::string(1 << 20, 'a') + "\r\n\r\n", {431}},
        {"5000 headers", get + headers_5000 + "\r\n", {431}},
        {"a 100 KiB URL",
         "GET /" + std::string(100000, 'a') + " HTTP/1.1\r\nHost: t\r\n\r\n",
         {431, 414}},
        {"a 10 KB member id in the path",
         "GET /v1/members/" + std::string(10000, 'a') +
             " HTTP/1.1\r\nHost: t\r\nConnection: close\r\nAuthorization: Bearer " + key +
             "\r\n\r\n",
         {422}},
        {"a 257-byte member id in a body",
         raw_post("/v1/members", key, enrollment(std::string(257, 'm'))),
         {422}},
        {"a body over the limit",
         raw_post("/v1/transactions", key, std::string((1 << 20) + 1, ' ')),
         {413}},
        {"Content-Length over the limit, no body", post + "Content-Length: 2000000\r\n\r\n", {413}},
        // Chunked encoding.
        {"a chunk size that is not hex",
         post + "Transfer-Encoding: chunked\r\n\r\nZZ\r\nabc\r\n0\r\n\r\n",
         {400}},
        {"a chunk size that overflows",
         post + "Transfer-Encoding: chunked\r\n\r\nfffffffffffffffffffff\r\nabc\r\n0\r\n\r\n",
         {400}},
        {"a chunk longer than its size",
         post + "Transfer-Encoding: chunked\r\n\r\n3\r\nabcdef\r\n0\r\n\r\n",
         {400}},
        {"a 20 KiB chunk extension",
         post + "Transfer-Encoding: chunked\r\n\r\n2;" + std::string(20000, 'e') +
             "\r\n{}\r\n0\r\n\r\n",
         {}},
        {"chunks adding up past the body limit",
         post + "Transfer-Encoding: chunked\r\n\r\n" +
             [] {
                 std::string chunks;
                 for (int i = 0; i < 20; ++i) {
                     chunks += "10000\r\n" + std::string(0x10000, ' ') + "\r\n";
                 }
                 return chunks;
             }() +
             "0\r\n\r\n",
         {413}},
        // Smuggling: a body length two ways, the second request hidden in the first's body.
        {"Content-Length and Transfer-Encoding: chunked",
         post + "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + get + "\r\n",
         {400}},
        {"Transfer-Encoding: chunked and Content-Length",
         post + "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n" + get + "\r\n",
         {400}},
        {"two different Content-Lengths",
         post + "Content-Length: 5\r\nContent-Length: 41\r\n\r\n{}   " + get + "\r\n",
         {400}},
        {"Transfer-Encoding with a space before the colon",
         post + "Transfer-Encoding : chunked\r\n\r\n0\r\n\r\n" + get + "\r\n",
         {400}},
        {"a negative Content-Length", post + "Content-Length: -1\r\n\r\n", {400}},
        {"a Content-Length of 23 digits",
         post + "Content-Length: 99999999999999999999999\r\n\r\n",
         {400}},
        // Bytes where they do not belong.
        {"NUL in a header value", get + "X-A: a" + std::string(1, '\0') + "b\r\n\r\n", {400}},
        {"NUL in the target",
         "GET /heal" + std::string(1, '\0') + "thz HTTP/1.1\r\nHost: t\r\n\r\n",
         {400}},
        {"a header without a colon", get + "NoColon\r\n\r\n", {400}},
        {"raw invalid UTF-8 in the target",
         "GET /v1/members/\xff\xfe HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
         {400}},
        {"an invalid method", "G@T /healthz HTTP/1.1\r\nHost: t\r\n\r\n", {400}},
        {"HTTP/9.9", "GET /healthz HTTP/9.9\r\nHost: t\r\n\r\n", {400}},
        {"a TLS ClientHello",
         std::string("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11) + std::string(100, '\0'),
         {400}},
        {"an absolute-form target",
         "GET http://elsewhere/healthz HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
         {400}},
        // Ids in the path.
        {"invalid UTF-8 in a path id (%FF%FE)",
         "GET /v1/members/%FF%FE HTTP/1.1\r\nHost: t\r\nConnection: close\r\nAuthorization: "
         "Bearer " +
             key + "\r\n\r\n",
         {422}},
        // A write stores its path id in JSON, which a stray byte would fail after the request
        // was taken (it answered 500).
        {"invalid UTF-8 in a write's path id (%FF)",
         raw_post("/v1/members/%FF/events", key, R"({"event_id": "e-1", "type": "review"})"),
         {422}},
        {"NUL in a path id (%00)",
         "GET /v1/members/m%00h HTTP/1.1\r\nHost: t\r\nConnection: close\r\nAuthorization: "
         "Bearer " +
             key + "\r\n\r\n",
         {422}},
        {"a path id that leaves its segment (..%2F)",
         "GET /v1/members/..%2F..%2Fetc HTTP/1.1\r\nHost: t\r\nConnection: close\r\n"
         "Authorization: Bearer " +
             key + "\r\n\r\n",
         {404}},
        // JSON.
        {"invalid UTF-8 in a JSON string",
         raw_post("/v1/members", key, "{\"member_id\": \"\xff\xfe\"}"),
         {400}},
        {"overlong UTF-8 in a JSON string",
         raw_post("/v1/members", key, "{\"member_id\": \"\xc0\xaf\"}"),
         {400}},
        {"a lone surrogate escape",
         raw_post("/v1/members", key, R"({"member_id": "\ud800"})"),
         {400}},
        {"a raw NUL in the JSON",
         raw_post("/v1/members", key, std::string("{\"member_id\": \"a\0b\"}", 21)),
         {400}},
        {"10,000 nested arrays",
         raw_post("/v1/transactions", key, nested(10000, "[", "", "]")),
         {422}},
        {"10,000 nested objects",
         raw_post("/v1/transactions", key, nested(10000, R"({"a":)", "1", "}")),
         {422}},
        {"300,000 nested arrays",
         raw_post("/v1/transactions", key, nested(300000, "[", "", "]")),
         {422}},
        {"33 levels of nesting",
         raw_post("/v1/members", key,
                  R"({"member_id": "m-x", "name": )" + nested(32, "[", "", "]") + "}"),
         {422}},
        {"1e400",
         raw_post("/v1/transactions", key, purchase_with(R"("quantity": 1, "unit_price": 1e400)")),
         {400}},
        {"2^64",
         raw_post("/v1/transactions", key,
                  purchase_with(R"("quantity": 1, "unit_price": 18446744073709551616)")),
         {422}},
        {"2^63",
         raw_post("/v1/transactions", key,
                  purchase_with(R"("quantity": 1, "unit_price": 9223372036854775808)")),
         {422}},
        {"a 1000-digit number",
         raw_post("/v1/transactions", key,
                  purchase_with(R"("quantity": 1, "unit_price": )" + std::string(1000, '9'))),
         {}},
        {"-0 as a quantity",
         raw_post("/v1/transactions", key, purchase_with(R"("quantity": -0, "unit_price": 450)")),
         {422}},
        {"1.0 as a quantity",
         raw_post("/v1/transactions", key, purchase_with(R"("quantity": 1.0, "unit_price": 450)")),
         {422}},
        {"-0.0 as a price",
         raw_post("/v1/transactions", key, purchase_with(R"("quantity": 1, "unit_price": -0.0)")),
         {422}},
        {"1e2 as a price",
         raw_post("/v1/transactions", key, purchase_with(R"("quantity": 1, "unit_price": 1e2)")),
         {422}},
        {"a negative price",
         raw_post("/v1/transactions", key, purchase_with(R"("quantity": 1, "unit_price": -450)")),
         {422}},
        {"a string of 100 KB as a field",
         raw_post("/v1/members", key,
                  R"({"member_id": "m-x", "name": ")" + std::string(100000, 'n') + "\"}"),
         {422}},
        {"a JSON array as the body", raw_post("/v1/members", key, "[]"), {422}},
        {"no Content-Type",
         "POST /v1/members HTTP/1.1\r\nHost: t\r\nConnection: close\r\nAuthorization: Bearer " +
             key + "\r\nContent-Length: 2\r\n\r\n{}",
         {415}},
        // Keys.
        {"a key of 10 KB",
         "GET /v1/members/m-h HTTP/1.1\r\nHost: t\r\nConnection: close\r\nAuthorization: Bearer " +
             std::string(10000, 'k') + "\r\n\r\n",
         {401}},
        {"a key with invalid UTF-8",
         "GET /v1/members/m-h HTTP/1.1\r\nHost: t\r\nConnection: close\r\nAuthorization: Bearer "
         "lk_\xff\xfe\r\n\r\n",
         {401}},
    };
    std::vector<std::string> seen;
    auto t0 = clock_type::now();
    for (const auto& h : cases) {
        check_hostile(port, s.proc(), h, seen);
    }
    // Nothing of it was stored: m-h has no purchase, and no member was added.
    CHECK(count(database, "purchases") == 0);
    CHECK(count(database, "members") == 1);
    std::string all;
    for (const auto& line : seen) {
        all += "\n  " + line;
    }
    WARN(cases.size() << " hostile requests in " << ms_since(t0)
                      << " ms, /healthz 200 after each:" << all);
}

// Defects these tests found, fixed; each case states what it must be.

TEST_CASE("a Transfer-Encoding other than chunked is refused, not smuggled", "[hostile]") {
    // RFC 9112 6.3: a request with Transfer-Encoding whose final coding is not chunked has no
    // reliable length; the server must answer 400 and close. Beast takes only a final "chunked"
    // as chunked and otherwise reads no body (or the Content-Length), so the "body" is parsed as
    // the next request: a proxy that honours the header differently is desynchronised.
    test::temp_dir dir;
    const auto database = dir / "loyalty.db";
    server_process s(dir.path(), database);
    require_ready(s);
    const std::string smuggled = "GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n";
    std::vector<std::string> seen;
    for (std::string te : {"xchunked", "chunked, identity", "identity", "gzip"}) {
        for (bool length : {false, true}) {
            // Without Content-Length the server reads no body, so what follows the headers is
            // the next request; with one, it reads that many bytes (a chunked body's last chunk)
            // and the rest is the next request: a front end that honours the Transfer-Encoding
            // sent it all as one.
            const std::string last_chunk = "0\r\n\r\n";
            std::string body = length ? last_chunk + smuggled : smuggled;
            std::string what = "Transfer-Encoding: " + te +
                               (length ? " with Content-Length" : " without Content-Length");
            INFO(what);
            auto r = raw_exchange(
                s.port(),
                "POST /v1/program/check HTTP/1.1\r\nHost: t\r\n"
                "Transfer-Encoding: " +
                    te + "\r\n" +
                    (length ? "Content-Length: " + std::to_string(last_chunk.size()) + "\r\n"
                            : "") +
                    "\r\n" + body);
            INFO(r.statuses());
            seen.push_back(what + " → " + r.statuses());
            REQUIRE_FALSE(r.responses.empty());
            CHECK(r.responses.size() == 1); // the smuggled GET is not answered
            CHECK((r.responses[0].status == 400 || r.responses[0].status == 501));
            CHECK(r.closed);
        }
    }
    std::string all;
    for (const auto& line : seen) {
        all += "\n  " + line;
    }
    WARN("Transfer-Encoding other than chunked:" << all);
}

namespace {

// The resident memory of a process, in KiB.
long resident_kib(pid_t pid) {
    std::ifstream status("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(status, line)) {
        if (line.rfind("VmRSS:", 0) == 0) {
            return std::stol(line.substr(6));
        }
    }
    return -1;
}

} // namespace

TEST_CASE("a chunk line or trailer that never ends is cut off", "[hostile]") {
    // The header limit covers the request line and headers only, and the body limit only chunk
    // data: a chunk extension, a chunk size of endless leading zeros or a trailer field without
    // an end is buffered whole in the session's flat_buffer, which has no maximum size. One
    // connection without a key grows the server by what it can send within the read timeout
    // (600 MB in 5 s here).
    test::temp_dir dir;
    const std::string head = "POST /v1/members HTTP/1.1\r\nHost: t\r\nContent-Type: "
                             "application/json\r\nTransfer-Encoding: chunked\r\n\r\n";
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"a chunk extension", head + "2;"},
        {"a chunk size of endless zeros", head + "0000"},
        {"a trailer field", head + "2\r\n{}\r\n0\r\nX-Trailer: "},
    };
    constexpr std::size_t megabytes = 64;
    for (const auto& [what, start] : cases) {
        INFO(what);
        // A server each: memory freed by one case would hide the next one's growth.
        server_process s(dir.path(), dir / "loyalty.db");
        require_ready(s);
        long before = resident_kib(s.proc().pid());
        raw_socket c(s.port());
        REQUIRE(c.open());
        REQUIRE(c.send_all(start));
        const std::string filler(1 << 20, what == "a chunk size of endless zeros" ? '0' : 'e');
        std::size_t sent = 0;
        auto t0 = clock_type::now();
        while (sent < megabytes && clock_type::now() - t0 < 5s && c.send_all(filler)) {
            ++sent;
        }
        long grown = resident_kib(s.proc().pid()) - before;
        UNSCOPED_INFO(what << ": " << sent << " MiB taken, the server grew " << grown / 1024
                           << " MiB");
        CHECK(sent < megabytes); // refused (and closed) before the end
        CHECK(grown < 16 * 1024);
        REQUIRE_FALSE(s.proc().ended());
    }
}

TEST_CASE("ids in bodies refuse control characters, as ids in paths do", "[hostile]") {
    // A member or transaction id posted with a control character would be stored where no path
    // can name it (the router refuses control characters in path ids with 422): the member
    // could never be read, the purchase never returned. Refused with 422 as in paths.
    test::temp_dir dir;
    const auto database = dir / "loyalty.db";
    const std::string key = create_key(dir.path(), database, "pos");
    server_process s(dir.path(), database, unlimited_rate);
    require_ready(s);
    client c(s.port());
    REQUIRE(c.round_trip(make_request(bhttp::verb::post, "/v1/members", key, enrollment("m-c")))
                .res.result_int() == 201);
    for (const std::string& id :
         {std::string("a\0b", 3), std::string("a\x01"), std::string("\n")}) {
        INFO("id " << json(id).dump());
        CHECK(c.round_trip(make_request(bhttp::verb::post, "/v1/members", key, enrollment(id)))
                  .res.result_int() == 422);
        CHECK(c.round_trip(make_request(bhttp::verb::post, "/v1/transactions", key,
                                        purchase_json(id, "m-c", "s-1").dump()))
                  .res.result_int() == 422);
    }
}

TEST_CASE("a server started on a program with a closed window says so in its log", "[start]") {
    test::temp_dir dir;
    std::string text = read_text(program_file());
    const std::string tuesday = "    description: Double Tuesdays, base leaves x2\n";
    REQUIRE(text.find(tuesday) != std::string::npos);
    text.replace(text.find(tuesday), tuesday.size(), tuesday + "    active: {until: 2020-01-31}\n");
    const fs::path program = dir / "ended.yaml";
    std::ofstream(program) << text;
    server_process s(dir.path(), dir / "loyalty.db", {}, "ended", std::nullopt, program);
    require_ready(s);
    INFO(s.logs());
    // One warning, as `loyalty check` prints the note, before the line that says it serves.
    const std::string out = s.out();
    const std::string note = "program: " + program.string() +
                             ":59:21: earn[1].active.until: earn rule double_tuesday ended at "
                             "the end of 2020-01-31 (America/New_York): it can earn nothing any "
                             "more, as whatever is dated before then is more than 60 days late "
                             "(late_posting.max_days)";
    auto at = out.find(note);
    REQUIRE(at != std::string::npos);
    CHECK(out.rfind("\"level\":\"warning\"", at) != std::string::npos);
    CHECK(at < out.find("loyalty: serving "));
    CHECK(out.find("earn rule", at + note.size()) == std::string::npos);
    s.proc().signal(SIGTERM);
    CHECK(s.proc().wait(10s).has_value());
}

TEST_CASE("SIGTERM stops the server, idle or with a connection open", "[signal]") {
    // Idle, begin_shutdown() finishes at once; before ddb513c it cancelled the signal wait before
    // on_signal() re-armed it, and the re-armed wait kept the process alive forever.
    test::temp_dir dir;
    std::string seen;
    for (bool connected : {false, true}) {
        const std::string what = connected ? "with a kept-alive connection" : "idle";
        INFO(what);
        server_process s(dir.path(), dir / "loyalty.db", {}, connected ? "connected" : "idle");
        require_ready(s);
        std::optional<client> c;
        if (connected) {
            c.emplace(s.port());
            REQUIRE(c->round_trip(make_request(bhttp::verb::get, "/healthz")).res.result_int() ==
                    200);
        }
        auto t0 = clock_type::now();
        s.proc().signal(SIGTERM);
        auto status = s.proc().wait(10s);
        INFO(s.logs());
        REQUIRE(status.has_value());
        CHECK(exited_with(*status, 0));
        seen += "; " + what + ": " + describe_status(*status) + " after " +
                std::to_string(ms_since(t0)) + " ms";
    }
    WARN("SIGTERM" << seen);
}

// ---------------------------------------------------------------------------------------------
// docs/security.md: the generated tables

namespace {

const std::string security_doc = std::string(LOYALTY_SOURCE_DIR) + "/docs/security.md";

// The text between <!-- begin NAME --> and <!-- end NAME --> in docs/security.md.
std::string doc_block(const std::string& name) {
    std::string text = read_text(security_doc);
    std::string begin = "<!-- begin " + name + " -->\n";
    std::string end = "<!-- end " + name + " -->";
    auto from = text.find(begin);
    auto to = text.find(end);
    INFO(security_doc << " lacks " << begin << "…" << end);
    REQUIRE(from != std::string::npos);
    REQUIRE(to != std::string::npos);
    REQUIRE(from < to);
    return text.substr(from + begin.size(), to - from - begin.size());
}

// Compares a block with what it should be; when it differs, writes that to
// security-<name>.expected.md in the working directory, to paste.
void check_doc_block(const std::string& name, const std::string& table) {
    std::string block = doc_block(name);
    if (block != table) {
        const auto file = fs::current_path() / ("security-" + name + ".expected.md");
        std::ofstream(file, std::ios::binary) << table;
        FAIL_CHECK("docs/security.md's " << name << " table is out of date: it should read as "
                                         << file.string() << ":\n"
                                         << table);
    }
}

} // namespace

TEST_CASE("docs/security.md: the roles table is what the router lets through", "[security]") {
    test::quiet_logs quiet;
    test::temp_dir dir;
    const auto database = dir / "loyalty.db";
    std::map<std::string, std::string> secrets;
    for (auto r : {ledger::role::pos, ledger::role::support, ledger::role::admin}) {
        secrets[ledger::to_string(r)] = ledger::create_api_key(database, r, {}, "doc").secret;
    }
    const std::string bound =
        ledger::create_api_key(database, ledger::role::pos, "s-own", "doc").secret;
    ledger::ledger_options lo;
    lo.database = database;
    lo.synchronous_full = false;
    ledger::ledger book(lo, test::sample_path());
    http::metrics stats;
    http::router_options ro;
    ro.rate_per_second = 1e6;
    ro.burst = 1e6;
    http::router api(book, ro, stats);

    auto ask = [&](const std::string& method, const std::string& target, const std::string& secret,
                   const std::string& body = "") {
        return test::ask(api, method, target, secret, body);
    };
    // Bodies that pass validation, for another store than the bound key's: a 403 naming
    // store_id shows the route checks the binding.
    const std::map<std::string, std::string> store_probes = {
        {"POST /v1/transactions", purchase_json("t-doc", "m-doc", "s-other").dump()},
        {"POST /v1/transactions/{transaction_id}/returns",
         R"({"return_id": "r-doc", "store_id": "s-other"})"},
        {"POST /v1/vouchers/{voucher_id}/use", R"({"store_id": "s-other"})"},
        {"POST /v1/members/{member_id}/redemptions",
         R"({"redemption_id": "p-doc", "points": 100, "transaction_id": "t-doc",)"
         R"( "store_id": "s-other"})"},
    };

    std::string table = "| route | no key | pos | support | admin |\n"
                        "| --- | :-: | :-: | :-: | :-: |\n";
    for (const auto& route : http::router::routes()) {
        const std::string name = route.method + " " + route.pattern;
        INFO(name);
        std::string target = test::target_of(route.pattern);
        auto anonymous = ask(route.method, target, "").result_int();
        CHECK((anonymous == 200 || anonymous == 401));
        std::string row = "| `" + name + "` | " + (anonymous == 401 ? "401" : "✓");
        for (std::string role : {"pos", "support", "admin"}) {
            auto status = ask(route.method, target, secrets.at(role)).result_int();
            CHECK(status != 401);
            std::string cell = status == 403 ? "403" : "✓";
            if (role == "pos" && status != 403 && store_probes.count(name)) {
                auto res = ask(route.method, target, bound, store_probes.at(name));
                if (res.result_int() == 403 && contains(res.body(), "store_id")) {
                    cell += " (own store)";
                }
            }
            row += " | " + cell;
        }
        table += row + " |\n";
    }
    check_doc_block("roles", table);
}

TEST_CASE("docs/security.md: the limits table is the defaults", "[security]") {
    const cli::serve_options cli_defaults;
    const http::server_options server_defaults;
    const ledger::ledger_options ledger_defaults;
    auto number = [](double x) {
        std::ostringstream out;
        out << x;
        return out.str();
    };
    std::string table = "| limit | default | set with | when exceeded |\n"
                        "| --- | --- | --- | --- |\n";
    auto row = [&](const std::string& what, const std::string& value, const std::string& flag,
                   const std::string& then) {
        table += "| " + what + " | " + value + " | " + (flag.empty() ? "—" : flag) + " | " +
                 (then.empty() ? "—" : then) + " |\n";
    };
    row("request body", std::to_string(cli_defaults.body_limit) + " bytes", "`--body-limit`",
        "413 `body-too-large`, connection closed");
    row("request line and headers", std::to_string(server_defaults.header_limit) + " bytes", "",
        "431 `headers-too-large`, connection closed");
    row("a whole request, from its first byte (also: a new connection's first byte, a response "
        "the client does not take)",
        std::to_string(server_defaults.read_timeout.count()) + " s", "",
        "connection closed without an answer");
    row("an idle keep-alive connection",
        std::to_string(server_defaults.idle_timeout.count()) + " s", "", "connection closed");
    row("open connections", std::to_string(cli_defaults.max_connections), "`--max-connections`",
        "503 `too-many-connections`, `Retry-After: 1`, closed");
    REQUIRE(cli_defaults.threads == 0); // the table's words below say what 0 means
    row("I/O threads", "one per CPU the process may run on (its affinity mask), 1 to 64",
        "`--threads`", "");
    row("lines in a purchase or return", std::to_string(cli_defaults.max_lines), "`--max-lines`",
        "422 `too-many-lines`");
    row("requests per second per API key (token bucket)", number(cli_defaults.rate), "`--rate`",
        "429 `rate-limited`, `Retry-After`");
    row("burst per API key; requests without a valid key share one bucket",
        number(cli_defaults.burst), "`--burst`", "429 `rate-limited`");
    row("writes waiting for the ledger's writer", std::to_string(ledger_defaults.max_queue), "",
        "503 `unavailable`, `Retry-After: 1`");
    check_doc_block("limits", table);
}
