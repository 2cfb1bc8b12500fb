#include "sqlite.hpp"

#include <cctype>
#include <limits>

namespace loyalty::ledger::detail {
namespace {

[[noreturn]] void fail(sqlite3* db, int code, std::string_view doing) {
    std::string message(doing);
    message += ": ";
    message += db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(code);
    throw sqlite_error(db != nullptr ? sqlite3_extended_errcode(db) : code, message);
}

} // namespace

void connection::closer::operator()(sqlite3* db) const noexcept {
    // Every statement is owned by a `statement` that finalizes itself first; v2 defers the close
    // if one is still alive instead of failing.
    sqlite3_close_v2(db);
}

namespace {

// "file:" and the path with what a URI reserves escaped, then "?immutable=1".
std::string immutable_uri(const std::string& path) {
    static constexpr char hex[] = "0123456789ABCDEF";
    std::string uri = "file:";
    for (unsigned char c : path) {
        if (std::isalnum(c) != 0 || c == '/' || c == '-' || c == '_' || c == '.' || c == '~') {
            uri += static_cast<char>(c);
        } else {
            uri += '%';
            uri += hex[c >> 4];
            uri += hex[c & 0xf];
        }
    }
    return uri + "?immutable=1";
}

} // namespace

connection::connection(const std::string& path, mode m, const char* vfs) {
    sqlite3* raw = nullptr;
    int flags = m == mode::read_only       ? SQLITE_OPEN_READONLY
                : m == mode::existing_file ? SQLITE_OPEN_READWRITE
                : m == mode::immutable     ? SQLITE_OPEN_READONLY | SQLITE_OPEN_URI
                                           : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
    // Each connection is used by one thread at a time; SQLite's own mutex would only cost.
    flags |= SQLITE_OPEN_NOMUTEX;
    int rc = sqlite3_open_v2(m == mode::immutable ? immutable_uri(path).c_str() : path.c_str(),
                             &raw, flags, vfs);
    db_.reset(raw);
    if (rc != SQLITE_OK) {
        fail(raw, rc, "opening " + path);
    }
    sqlite3_extended_result_codes(raw, 1);
    // Readers wait for a checkpoint or the writer briefly instead of failing with SQLITE_BUSY.
    sqlite3_busy_timeout(raw, 5000);
    // SQLite reads the file at the first statement: a file that is not a database failed in
    // whichever that was, its SQL in the message. Said here, once, naming the file. (Any other
    // failure of this read shows again where it matters.)
    if (sqlite3_exec(raw, "SELECT 1 FROM sqlite_master LIMIT 1", nullptr, nullptr, nullptr) ==
        SQLITE_NOTADB) {
        throw std::runtime_error("reading " + path +
                                 ": not a SQLite database (nor one of this program's)");
    }
}

void connection::execute(std::string_view sql) {
    std::string text(sql);
    char* error = nullptr;
    int rc = sqlite3_exec(db_.get(), text.c_str(), nullptr, nullptr, &error);
    if (rc != SQLITE_OK) {
        std::string message = error != nullptr ? error : sqlite3_errstr(rc);
        sqlite3_free(error);
        throw sqlite_error(sqlite3_extended_errcode(db_.get()), message);
    }
}

void connection::run(std::string_view sql) {
    if (!kept_) {
        kept_ = std::make_unique<std::map<std::string, statement, std::less<>>>();
    }
    auto it = kept_->find(sql);
    if (it == kept_->end()) {
        it = kept_->emplace(std::string(sql), statement(db_.get(), sql)).first;
    }
    it->second.run();
}

statement connection::prepare(std::string_view sql) {
    return statement(db_.get(), sql);
}

std::int64_t connection::last_insert_rowid() const {
    return sqlite3_last_insert_rowid(db_.get());
}

int connection::changes() const {
    return sqlite3_changes(db_.get());
}

void statement::finalizer::operator()(sqlite3_stmt* s) const noexcept {
    sqlite3_finalize(s);
}

statement::statement(sqlite3* db, std::string_view sql) : db_(db) {
    sqlite3_stmt* raw = nullptr;
    if (sql.size() > static_cast<std::size_t>(std::numeric_limits<int>::max())) {
        throw sqlite_error(SQLITE_TOOBIG, "statement too long");
    }
    int rc = sqlite3_prepare_v2(db, sql.data(), static_cast<int>(sql.size()), &raw, nullptr);
    stmt_.reset(raw);
    if (rc != SQLITE_OK) {
        fail(db, rc, "preparing " + std::string(sql.substr(0, 80)));
    }
}

statement& statement::bind(int index, std::int64_t value) {
    if (int rc = sqlite3_bind_int64(stmt_.get(), index, value); rc != SQLITE_OK) {
        fail(db_, rc, "binding");
    }
    return *this;
}

statement& statement::bind(int index, std::string_view value) {
    int rc = sqlite3_bind_text64(stmt_.get(), index, value.data(), value.size(), SQLITE_TRANSIENT,
                                 SQLITE_UTF8);
    if (rc != SQLITE_OK) {
        fail(db_, rc, "binding");
    }
    return *this;
}

statement& statement::bind(int index, const std::optional<std::string>& value) {
    return value ? bind(index, std::string_view(*value)) : bind_null(index);
}

statement& statement::bind(int index, std::optional<std::int64_t> value) {
    return value ? bind(index, *value) : bind_null(index);
}

statement& statement::bind_blob(int index, std::string_view bytes) {
    int rc = sqlite3_bind_blob64(stmt_.get(), index, bytes.data(), bytes.size(), SQLITE_TRANSIENT);
    if (rc != SQLITE_OK) {
        fail(db_, rc, "binding");
    }
    return *this;
}

statement& statement::bind_null(int index) {
    if (int rc = sqlite3_bind_null(stmt_.get(), index); rc != SQLITE_OK) {
        fail(db_, rc, "binding");
    }
    return *this;
}

bool statement::step() {
    if (done_) {
        reset();
    }
    int rc = sqlite3_step(stmt_.get());
    if (rc == SQLITE_ROW) {
        return true;
    }
    done_ = true;
    if (rc == SQLITE_DONE) {
        return false;
    }
    // Clear the statement now, or a later COMMIT would see it still active.
    sqlite3_reset(stmt_.get());
    fail(db_, rc, std::string("running ") + sqlite3_sql(stmt_.get()));
}

void statement::run() {
    while (step()) {
    }
    reset();
}

void statement::reset() {
    sqlite3_reset(stmt_.get());
    sqlite3_clear_bindings(stmt_.get());
    done_ = false;
}

bool statement::is_null(int column) const {
    return sqlite3_column_type(stmt_.get(), column) == SQLITE_NULL;
}

std::int64_t statement::integer(int column) const {
    return sqlite3_column_int64(stmt_.get(), column);
}

std::string statement::text(int column) const {
    const unsigned char* p = sqlite3_column_text(stmt_.get(), column);
    int size = sqlite3_column_bytes(stmt_.get(), column);
    return p == nullptr ? std::string() : std::string(reinterpret_cast<const char*>(p), size);
}

std::string_view statement::blob(int column) const {
    const void* p = sqlite3_column_blob(stmt_.get(), column);
    int size = sqlite3_column_bytes(stmt_.get(), column);
    return p == nullptr ? std::string_view() : std::string_view(static_cast<const char*>(p), size);
}

std::optional<std::string> statement::optional_text(int column) const {
    if (is_null(column)) {
        return std::nullopt;
    }
    return text(column);
}

std::optional<std::int64_t> statement::optional_integer(int column) const {
    if (is_null(column)) {
        return std::nullopt;
    }
    return integer(column);
}

savepoint::savepoint(connection& db, std::string name) : db_(db), name_(std::move(name)) {
    db_.run("SAVEPOINT " + name_);
}

savepoint::~savepoint() {
    if (!open_) {
        return;
    }
    try {
        db_.run("ROLLBACK TO " + name_);
        db_.run("RELEASE " + name_);
    } catch (const sqlite_error&) {
        // A destructor must not throw; the enclosing transaction fails and rolls back anyway.
    }
}

void savepoint::release() {
    db_.run("RELEASE " + name_);
    open_ = false;
}

} // namespace loyalty::ledger::detail
