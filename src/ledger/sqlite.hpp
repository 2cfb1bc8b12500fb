#pragma once
// A thin RAII layer over the SQLite C API, the only place that includes sqlite3.h: a connection
// owns its handle, a statement owns its prepared statement and resets on reuse, a savepoint
// rolls back in its destructor unless released. Errors are exceptions (sqlite_error): inside the
// ledger they mean a broken disk or a bug, and the writer turns them into a failed request.

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <sqlite3.h>
#include <stdexcept>
#include <string>
#include <string_view>

namespace loyalty::ledger::detail {

class sqlite_error : public std::runtime_error {
public:
    sqlite_error(int code, const std::string& what) : std::runtime_error(what), code_(code) {}
    int code() const noexcept { return code_; }
    // SQLITE_CONSTRAINT and its extended codes: a UNIQUE or CHECK the data broke.
    bool constraint() const noexcept { return (code_ & 0xff) == SQLITE_CONSTRAINT; }
    // The database cannot take writes for now, whatever the request: a full disk, a file made
    // read-only, an I/O error, a lock held too long. Retrying later can succeed.
    bool unavailable() const noexcept {
        switch (code_ & 0xff) {
        case SQLITE_FULL:
        case SQLITE_IOERR:
        case SQLITE_READONLY:
        case SQLITE_CANTOPEN:
        case SQLITE_BUSY:
        case SQLITE_LOCKED:
        case SQLITE_NOMEM:
        case SQLITE_PROTOCOL:
            return true;
        default:
            return false;
        }
    }

private:
    int code_;
};

// Whether `e` is an sqlite_error meaning the database cannot take writes for now.
inline bool database_unavailable(const std::exception& e) noexcept {
    auto* db_error = dynamic_cast<const sqlite_error*>(&e);
    return db_error != nullptr && db_error->unavailable();
}

class statement;

class connection {
public:
    // read_write creates the file when missing; existing_file opens it for writing only if it
    // exists (so SQLite may roll back a journal a crash left), never creating it.
    // immutable: read-only, and SQLite assumes nothing changes the file (no locks, no -shm):
    // the one way to read a WAL database on a read-only file system, when it has no log left.
    enum class mode { read_write, read_only, existing_file, immutable };

    // `vfs`: the name of a registered SQLite VFS to open the file with (log_vfs.hpp), or the
    // default one.
    connection(const std::string& path, mode m, const char* vfs = nullptr);
    connection(connection&&) noexcept = default;
    connection& operator=(connection&&) noexcept = default;

    // Runs one or more statements without results (schema, pragmas), parsed each time.
    void execute(std::string_view sql);
    // Runs one statement without results, prepared the first time and kept: for the
    // transaction control every request runs (BEGIN, COMMIT, SAVEPOINT...), which sqlite3_exec
    // parsed anew each time (9 % of a purchase's CPU in the benchmark).
    void run(std::string_view sql);
    statement prepare(std::string_view sql);
    std::int64_t last_insert_rowid() const;
    int changes() const;
    sqlite3* handle() const noexcept { return db_.get(); }

private:
    struct closer {
        void operator()(sqlite3* db) const noexcept;
    };
    std::unique_ptr<sqlite3, closer> db_;
    // After db_: finalized before the handle closes.
    std::unique_ptr<std::map<std::string, statement, std::less<>>> kept_;
};

class statement {
public:
    statement(sqlite3* db, std::string_view sql);
    statement(statement&&) noexcept = default;
    statement& operator=(statement&&) noexcept = default;

    // Binds are 1-based as in SQLite; each returns *this to chain.
    statement& bind(int index, std::int64_t value);
    statement& bind(int index, int value) { return bind(index, static_cast<std::int64_t>(value)); }
    statement& bind(int index, bool value) { return bind(index, std::int64_t{value ? 1 : 0}); }
    statement& bind(int index, std::string_view value);
    statement& bind(int index, const std::string& value) {
        return bind(index, std::string_view(value));
    }
    statement& bind(int index, const char* value) { return bind(index, std::string_view(value)); }
    statement& bind(int index, const std::optional<std::string>& value);
    statement& bind(int index, std::optional<std::int64_t> value);
    statement& bind_blob(int index, std::string_view bytes);
    statement& bind_null(int index);

    // Steps once: true while a row is available.
    bool step();
    // Steps to completion for statements without rows.
    void run();
    void reset();

    bool is_null(int column) const;
    std::int64_t integer(int column) const;
    std::string text(int column) const;
    // The column's bytes as a blob, valid until the next step or reset.
    std::string_view blob(int column) const;
    std::optional<std::string> optional_text(int column) const;
    std::optional<std::int64_t> optional_integer(int column) const;

private:
    struct finalizer {
        void operator()(sqlite3_stmt* s) const noexcept;
    };
    std::unique_ptr<sqlite3_stmt, finalizer> stmt_;
    sqlite3* db_ = nullptr;
    bool done_ = false;
};

// A savepoint around one request's writes: the request's failure undoes only its own effects,
// not the rest of the batch. Rolled back on destruction unless released.
class savepoint {
public:
    savepoint(connection& db, std::string name);
    savepoint(const savepoint&) = delete;
    savepoint& operator=(const savepoint&) = delete;
    ~savepoint();
    void release();

private:
    connection& db_;
    std::string name_;
    bool open_ = true;
};

} // namespace loyalty::ledger::detail
