#pragma once
// A SQLite VFS for the writer's connection that hands the kernel a commit's writes to the
// write-ahead log in two pieces instead of two per page.
//
// SQLite appends a frame to the log in two writes, its 24-byte header and then its page: a
// purchase committed alone (18 pages) made 36 `pwrite`s, and on the benchmark's VM those cost
// 61 µs where one write of the same bytes costs 4.5 to 5.5 (tests/bench/log_writes.cpp; the
// whole server, docs/benchmarks.md "Round of 2026-12-06, midday"). This VFS wraps the default
// one and, for the log only, keeps writes that continue one another in a buffer, then writes
// the buffer at once:
// - at the header of a commit frame (a frame whose header gives the database's size, which
//   only the last frame of a transaction does), and every write after it up to the next
//   transaction's first frame (the commit frame's page: two writes per commit in all). A commit
//   thus returns only once the whole transaction is in the file, and a failure (a full disk) is
//   the commit's failure, as without this VFS. SQLite makes a commit visible to other
//   connections (the wal-index) only after that: readers, the checkpointer and the log syncer
//   never see a buffered frame;
// - before anything that reads or sizes the file, or syncs, truncates or closes it, and before a
//   write elsewhere in the file (SQLite overwrites a frame when a transaction writes a page twice
//   after spilling it);
// - when the buffer holds `log_vfs::buffer_bytes`, for transactions larger than that.
// Every other file (the database, temporary files) goes straight to the default VFS.
//
// Each instance registers a VFS of its own name (SQLite keeps a list of them by name) and
// unregisters it when destroyed; connections opened with it must be closed first.

#include <sqlite3.h>
#include <string>

namespace loyalty::ledger::detail {

class log_vfs {
public:
    // SQLite's unix VFS writes fewer than 128 KiB in one call (it masks the count with 0x1ffff,
    // seekAndWriteFd in sqlite3.c): a larger write came back short, as SQLITE_FULL.
    static constexpr int buffer_bytes = 127 * 1024;

    log_vfs(); // registers the VFS; throws if SQLite refuses
    ~log_vfs();
    log_vfs(const log_vfs&) = delete;
    log_vfs& operator=(const log_vfs&) = delete;

    // For sqlite3_open_v2's zVfs.
    const char* name() const noexcept { return name_.c_str(); }

private:
    std::string name_;
    sqlite3_vfs vfs_{};
};

} // namespace loyalty::ledger::detail
