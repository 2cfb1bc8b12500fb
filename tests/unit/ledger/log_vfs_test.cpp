// The log's VFS: a commit reaches the write-ahead log in one write instead of two per page, and
// nothing else changes: other connections see every commit the moment it returns, a failed
// write fails the commit and changes nothing, and what was committed is in the file once the
// connections close.

#include "log_vfs.hpp"
#include "sqlite.hpp"
#include "support/temp_dir.hpp"

#include <atomic>
#include <catch2/catch.hpp>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <sys/types.h>
#include <unistd.h>

using namespace loyalty::ledger::detail;

namespace {

// The unix VFS's pwrite64, replaced for a test (xSetSystemCall exists for this): counts the
// writes to one file, and can make them fail with ENOSPC as a full disk would. Plain functions
// are all SQLite can call, hence the one object they reach through a static pointer, set only
// while a `watched_writes` lives.
struct write_watch {
    std::string path;
    sqlite3_syscall_ptr original = nullptr;
    std::atomic<int> writes{0};
    std::atomic<bool> full{false};
};

write_watch* watched = nullptr;

std::string path_of(int fd) {
    char buffer[PATH_MAX];
    auto link = "/proc/self/fd/" + std::to_string(fd);
    ssize_t n = ::readlink(link.c_str(), buffer, sizeof buffer - 1);
    return n > 0 ? std::string(buffer, static_cast<std::size_t>(n)) : std::string();
}

ssize_t watching_pwrite(int fd, const void* data, size_t amount, off_t offset) {
    using pwrite_fn = ssize_t (*)(int, const void*, size_t, off_t);
    if (path_of(fd) == watched->path) {
        ++watched->writes;
        if (watched->full) {
            errno = ENOSPC;
            return -1;
        }
    }
    return reinterpret_cast<pwrite_fn>(watched->original)(fd, data, amount, offset);
}

class watched_writes {
public:
    explicit watched_writes(const std::filesystem::path& file) {
        unix_ = sqlite3_vfs_find("unix");
        REQUIRE(unix_ != nullptr);
        watch_.path = std::filesystem::weakly_canonical(file).string();
        watch_.original = unix_->xGetSystemCall(unix_, "pwrite64");
        REQUIRE(watch_.original != nullptr);
        watched = &watch_;
        REQUIRE(unix_->xSetSystemCall(unix_, "pwrite64",
                                      reinterpret_cast<sqlite3_syscall_ptr>(watching_pwrite)) ==
                SQLITE_OK);
    }
    ~watched_writes() {
        unix_->xSetSystemCall(unix_, "pwrite64", watch_.original);
        watched = nullptr;
    }
    watched_writes(const watched_writes&) = delete;
    watched_writes& operator=(const watched_writes&) = delete;

    int writes() const { return watch_.writes; }
    void reset() { watch_.writes = 0; }
    void fill_disk(bool full) { watch_.full = full; }

private:
    sqlite3_vfs* unix_ = nullptr;
    write_watch watch_;
};

std::int64_t single_integer(connection& db, std::string_view sql) {
    statement s = db.prepare(sql);
    REQUIRE(s.step());
    return s.integer(0);
}

// A writer as the ledger opens it: WAL, synchronous=NORMAL, no automatic checkpoint (the
// test decides when the log is copied back).
connection open_writer(const std::filesystem::path& file, const char* vfs) {
    connection db(file.string(), connection::mode::read_write, vfs);
    db.execute("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;"
               "PRAGMA wal_autocheckpoint = 0");
    return db;
}

// Writes `rows` rows in one transaction, each on a page of its own (4 KiB pages).
void add_rows(connection& db, int first, int rows) {
    db.execute("BEGIN");
    statement insert = db.prepare("INSERT INTO wide (id, filler) VALUES (?, zeroblob(3000))");
    for (int i = first; i < first + rows; ++i) {
        insert.bind(1, i).run();
        insert.reset();
    }
    db.execute("COMMIT");
}

// A database in a temporary folder whose writer goes through the log's VFS, with a table of
// wide rows, and a reader beside it.
struct logged_database {
    loyalty::test::temp_dir dir;
    std::filesystem::path file = dir.path() / "log.db";
    log_vfs vfs;
    connection writer = open_writer(file, vfs.name());
    connection reader = [this] {
        writer.execute("CREATE TABLE IF NOT EXISTS wide (id INTEGER PRIMARY KEY, filler BLOB)");
        return connection(file.string(), connection::mode::read_only);
    }();
};

} // namespace

TEST_CASE("a commit reaches the log in two writes where SQLite alone makes two per page") {
    loyalty::test::temp_dir dir;
    const auto file = dir.path() / "log.db";
    log_vfs vfs;
    {
        connection setup = open_writer(file, nullptr);
        setup.execute("CREATE TABLE wide (id INTEGER PRIMARY KEY, filler BLOB)");
    }
    watched_writes watch(dir.path() / "log.db-wal");

    SECTION("SQLite's own writes") {
        connection db = open_writer(file, nullptr);
        add_rows(db, 0, 1); // the log's header and first frames: not what is compared
        watch.reset();
        add_rows(db, 1, 10);
        // Ten new leaves and the table's root, each a header and a page.
        CHECK(watch.writes() >= 20);
        CHECK(watch.writes() % 2 == 0);
    }
    SECTION("through the log's VFS") {
        connection db = open_writer(file, vfs.name());
        add_rows(db, 0, 1);
        watch.reset();
        add_rows(db, 1, 10);
        CHECK(watch.writes() == 2); // up to the commit frame's header, then its page
        // More than the buffer holds goes in pieces of it.
        watch.reset();
        add_rows(db, 100, 200);
        const int frames_bytes = 201 * (24 + 4096);
        CHECK(watch.writes() >= frames_bytes / log_vfs::buffer_bytes + 1);
        CHECK(watch.writes() <= frames_bytes / log_vfs::buffer_bytes + 4);
    }
}

TEST_CASE("another connection sees every commit through the log's VFS the moment it returns") {
    logged_database d;
    auto& [dir, file, vfs, writer, reader] = d;
    // A small page cache makes long transactions spill frames into the log before their commit,
    // and write some pages twice: the spilled frame is then overwritten in place.
    writer.execute("PRAGMA cache_size = 8");
    writer.execute("CREATE TABLE total (n INTEGER NOT NULL); INSERT INTO total VALUES (0)");

    std::int64_t rows = 0;
    std::int64_t sum = 0;
    for (int round = 0; round < 60; ++round) {
        const int n = round % 3 == 0 ? 40 : 1 + round % 5; // some rounds spill
        writer.execute("BEGIN");
        statement insert =
            writer.prepare("INSERT INTO wide (id, filler) VALUES (?, randomblob(900))");
        for (int i = 0; i < n; ++i) {
            insert.bind(1, rows + i).run();
            insert.reset();
        }
        if (round % 4 == 1) {
            // Undone work inside the transaction: its frames are written over afterwards.
            writer.execute("SAVEPOINT undone");
            writer.execute("UPDATE wide SET filler = randomblob(900) WHERE id % 3 = 0");
            writer.execute("ROLLBACK TO undone; RELEASE undone");
        }
        writer.execute("UPDATE total SET n = n + " + std::to_string(n));
        writer.execute("COMMIT");
        rows += n;
        sum += n;
        // A new read transaction each time: it sees the commit that just returned, whole.
        CHECK(single_integer(reader, "SELECT count(*) FROM wide") == rows);
        CHECK(single_integer(reader, "SELECT n FROM total") == sum);
        if (round % 20 == 19) {
            // The log is copied back and starts over: its header is written again at offset 0.
            REQUIRE(sqlite3_wal_checkpoint_v2(writer.handle(), nullptr, SQLITE_CHECKPOINT_TRUNCATE,
                                              nullptr, nullptr) == SQLITE_OK);
        }
    }
    {
        statement check = reader.prepare("PRAGMA integrity_check");
        REQUIRE(check.step());
        CHECK(check.text(0) == "ok");
    }
    // Closed without a checkpoint of its own, the log is what holds the last commits.
    { connection gone = std::move(writer); }
    connection again(file.string(), connection::mode::read_only);
    CHECK(single_integer(again, "SELECT count(*) FROM wide") == rows);
    CHECK(single_integer(again, "SELECT n FROM total") == sum);
}

TEST_CASE("a write to the log that fails through its VFS fails the commit and changes nothing") {
    logged_database d;
    auto& [dir, file, vfs, writer, reader] = d;
    add_rows(writer, 0, 5);
    watched_writes watch(dir.path() / "log.db-wal");

    watch.fill_disk(true);
    try {
        add_rows(writer, 5, 5);
        FAIL("the commit succeeded on a full disk");
    } catch (const sqlite_error& e) {
        CHECK((e.code() & 0xff) == SQLITE_FULL);
    }
    CHECK(watch.writes() == 1); // all but the commit frame's page was one write, and it failed
    if (sqlite3_get_autocommit(writer.handle()) == 0) {
        writer.execute("ROLLBACK");
    }
    CHECK(single_integer(reader, "SELECT count(*) FROM wide") == 5);
    CHECK(single_integer(writer, "SELECT count(*) FROM wide") == 5);

    // Space again: the next commit goes through, and the failed one left nothing behind.
    watch.fill_disk(false);
    add_rows(writer, 5, 3);
    CHECK(single_integer(reader, "SELECT count(*) FROM wide") == 8);
    statement check = reader.prepare("PRAGMA integrity_check");
    REQUIRE(check.step());
    CHECK(check.text(0) == "ok");
}
