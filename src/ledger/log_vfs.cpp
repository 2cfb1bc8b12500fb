#include "log_vfs.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <vector>

namespace loyalty::ledger::detail {

namespace {

// The write-ahead log's frame header (sqlite.org/fileformat.html, "WAL File Format"): page
// number, then for a commit frame the database's size in pages after the commit (zero in every
// other frame), then salts and checksums; 24 bytes in all.
constexpr int frame_header_bytes = 24;

bool is_commit_frame_header(const unsigned char* header) {
    return (header[4] | header[5] | header[6] | header[7]) != 0;
}

// What the log's file keeps beside the default VFS's file: the writes not yet handed over.
struct pending_writes {
    std::vector<unsigned char> bytes;
    sqlite3_int64 at = 0; // the file offset of bytes[0]
    // Whether the last frame header written was a commit frame's. From it on, up to the next
    // transaction's first header, every write is handed over at once: the commit header with
    // the frames before it, then the commit frame's page; the headers SQLite writes again at the
    // end of a transaction that overwrote frames it had spilled (walRewriteChecksums), the last
    // of them the commit frame's; and, with synchronous=FULL on a device without power-safe
    // overwrite, the copies of the commit frame that pad the log to a sector. Readers may read
    // any of these once the commit returns, and a crash's recovery needs their checksums.
    bool in_commit = false;
};

// SQLite allocates szOsFile bytes for a file and hands them to xOpen: a log's file is this
// header followed, at `real_offset`, by the default VFS's own file. It is plain data because
// SQLite only knows it as a sqlite3_file; the pending writes it points to are taken over by a
// unique_ptr again when the file closes.
struct log_file {
    sqlite3_file base; // first: SQLite's pointer to the file is a pointer to this
    sqlite3_file* real;
    pending_writes* pending;
};

constexpr std::size_t real_offset = (sizeof(log_file) + alignof(std::max_align_t) - 1) /
                                    alignof(std::max_align_t) * alignof(std::max_align_t);

log_file& as_log(sqlite3_file* file) {
    return *reinterpret_cast<log_file*>(file);
}

sqlite3_vfs* base_of(sqlite3_vfs* vfs) {
    return static_cast<sqlite3_vfs*>(vfs->pAppData);
}

// Hands the pending writes to the default VFS as one write. On failure they are dropped, as a
// failed write's bytes are: SQLite rolls the transaction back, and frames past the last commit
// it knows of are never read.
int hand_over(log_file& f) {
    pending_writes& p = *f.pending;
    if (p.bytes.empty()) {
        return SQLITE_OK;
    }
    int rc =
        f.real->pMethods->xWrite(f.real, p.bytes.data(), static_cast<int>(p.bytes.size()), p.at);
    p.bytes.clear();
    return rc;
}

int log_write(sqlite3_file* file, const void* data, int amount, sqlite3_int64 offset) {
    log_file& f = as_log(file);
    pending_writes& p = *f.pending;
    const auto held = static_cast<sqlite3_int64>(p.bytes.size());
    if (held > 0 && (offset != p.at + held || held + amount > log_vfs::buffer_bytes)) {
        if (int rc = hand_over(f); rc != SQLITE_OK) {
            return rc;
        }
    }
    if (amount > log_vfs::buffer_bytes) {
        return f.real->pMethods->xWrite(f.real, data, amount, offset);
    }
    if (p.bytes.empty()) {
        p.at = offset;
    }
    const auto* bytes = static_cast<const unsigned char*>(data);
    p.bytes.insert(p.bytes.end(), bytes, bytes + amount);
    if (amount == frame_header_bytes) {
        p.in_commit = is_commit_frame_header(bytes);
    } else if (offset == 0) {
        p.in_commit = false; // the log's own header: a new log begins
    }
    return p.in_commit ? hand_over(f) : SQLITE_OK;
}

int log_read(sqlite3_file* file, void* out, int amount, sqlite3_int64 offset) {
    log_file& f = as_log(file);
    if (int rc = hand_over(f); rc != SQLITE_OK) {
        return rc;
    }
    return f.real->pMethods->xRead(f.real, out, amount, offset);
}

int log_close(sqlite3_file* file) {
    log_file& f = as_log(file);
    int written = hand_over(f);
    std::unique_ptr<pending_writes> pending(f.pending);
    f.pending = nullptr;
    int closed = f.real->pMethods->xClose(f.real);
    return written != SQLITE_OK ? written : closed;
}

int log_truncate(sqlite3_file* file, sqlite3_int64 size) {
    log_file& f = as_log(file);
    if (int rc = hand_over(f); rc != SQLITE_OK) {
        return rc;
    }
    return f.real->pMethods->xTruncate(f.real, size);
}

int log_sync(sqlite3_file* file, int flags) {
    log_file& f = as_log(file);
    if (int rc = hand_over(f); rc != SQLITE_OK) {
        return rc;
    }
    return f.real->pMethods->xSync(f.real, flags);
}

int log_file_size(sqlite3_file* file, sqlite3_int64* size) {
    log_file& f = as_log(file);
    if (int rc = hand_over(f); rc != SQLITE_OK) {
        return rc;
    }
    return f.real->pMethods->xFileSize(f.real, size);
}

int log_lock(sqlite3_file* file, int level) {
    sqlite3_file* real = as_log(file).real;
    return real->pMethods->xLock(real, level);
}

int log_unlock(sqlite3_file* file, int level) {
    sqlite3_file* real = as_log(file).real;
    return real->pMethods->xUnlock(real, level);
}

int log_check_reserved_lock(sqlite3_file* file, int* out) {
    sqlite3_file* real = as_log(file).real;
    return real->pMethods->xCheckReservedLock(real, out);
}

int log_file_control(sqlite3_file* file, int op, void* arg) {
    log_file& f = as_log(file);
    if (int rc = hand_over(f); rc != SQLITE_OK) {
        return rc;
    }
    return f.real->pMethods->xFileControl(f.real, op, arg);
}

int log_sector_size(sqlite3_file* file) {
    sqlite3_file* real = as_log(file).real;
    return real->pMethods->xSectorSize(real);
}

int log_device_characteristics(sqlite3_file* file) {
    sqlite3_file* real = as_log(file).real;
    return real->pMethods->xDeviceCharacteristics(real);
}

// Version 1: SQLite maps neither shared memory nor pages of a log file.
constexpr sqlite3_io_methods log_methods = {
    1,
    log_close,
    log_read,
    log_write,
    log_truncate,
    log_sync,
    log_file_size,
    log_lock,
    log_unlock,
    log_check_reserved_lock,
    log_file_control,
    log_sector_size,
    log_device_characteristics,
    nullptr,
    nullptr,
    nullptr,
    nullptr,
    nullptr,
    nullptr,
};

int open_file(sqlite3_vfs* vfs, sqlite3_filename name, sqlite3_file* file, int flags,
              int* out_flags) {
    sqlite3_vfs* base = base_of(vfs);
    if ((flags & SQLITE_OPEN_WAL) == 0) {
        // SQLite calls the default VFS's methods on it directly from now on.
        return base->xOpen(base, name, file, flags, out_flags);
    }
    log_file& f = as_log(file);
    f.base.pMethods = nullptr; // SQLite does not close a file whose open failed
    f.real = reinterpret_cast<sqlite3_file*>(reinterpret_cast<char*>(file) + real_offset);
    f.real->pMethods = nullptr;
    int rc = base->xOpen(base, name, f.real, flags, out_flags);
    if (rc != SQLITE_OK) {
        if (f.real->pMethods != nullptr) {
            f.real->pMethods->xClose(f.real);
        }
        return rc;
    }
    f.pending = std::make_unique<pending_writes>().release(); // log_close takes it back
    f.base.pMethods = &log_methods;
    return SQLITE_OK;
}

// The rest is the default VFS's, called with the default VFS (the unix VFS reads its own
// pAppData).
int delete_file(sqlite3_vfs* vfs, const char* name, int sync_dir) {
    sqlite3_vfs* base = base_of(vfs);
    return base->xDelete(base, name, sync_dir);
}

int access(sqlite3_vfs* vfs, const char* name, int flags, int* out) {
    sqlite3_vfs* base = base_of(vfs);
    return base->xAccess(base, name, flags, out);
}

int full_pathname(sqlite3_vfs* vfs, const char* name, int size, char* out) {
    sqlite3_vfs* base = base_of(vfs);
    return base->xFullPathname(base, name, size, out);
}

void* dl_open(sqlite3_vfs* vfs, const char* name) {
    sqlite3_vfs* base = base_of(vfs);
    return base->xDlOpen(base, name);
}

void dl_error(sqlite3_vfs* vfs, int size, char* out) {
    sqlite3_vfs* base = base_of(vfs);
    base->xDlError(base, size, out);
}

void (*dl_sym(sqlite3_vfs* vfs, void* library, const char* symbol))(void) {
    sqlite3_vfs* base = base_of(vfs);
    return base->xDlSym(base, library, symbol);
}

void dl_close(sqlite3_vfs* vfs, void* library) {
    sqlite3_vfs* base = base_of(vfs);
    base->xDlClose(base, library);
}

int randomness(sqlite3_vfs* vfs, int size, char* out) {
    sqlite3_vfs* base = base_of(vfs);
    return base->xRandomness(base, size, out);
}

int sleep_for(sqlite3_vfs* vfs, int microseconds) {
    sqlite3_vfs* base = base_of(vfs);
    return base->xSleep(base, microseconds);
}

int current_time(sqlite3_vfs* vfs, double* out) {
    sqlite3_vfs* base = base_of(vfs);
    return base->xCurrentTime(base, out);
}

int last_error(sqlite3_vfs* vfs, int size, char* out) {
    sqlite3_vfs* base = base_of(vfs);
    return base->xGetLastError(base, size, out);
}

int current_time_int64(sqlite3_vfs* vfs, sqlite3_int64* out) {
    sqlite3_vfs* base = base_of(vfs);
    return base->xCurrentTimeInt64(base, out);
}

int set_system_call(sqlite3_vfs* vfs, const char* name, sqlite3_syscall_ptr call) {
    sqlite3_vfs* base = base_of(vfs);
    return base->xSetSystemCall(base, name, call);
}

sqlite3_syscall_ptr get_system_call(sqlite3_vfs* vfs, const char* name) {
    sqlite3_vfs* base = base_of(vfs);
    return base->xGetSystemCall(base, name);
}

const char* next_system_call(sqlite3_vfs* vfs, const char* name) {
    sqlite3_vfs* base = base_of(vfs);
    return base->xNextSystemCall(base, name);
}

} // namespace

log_vfs::log_vfs() {
    sqlite3_vfs* base = sqlite3_vfs_find(nullptr);
    if (base == nullptr) {
        throw std::runtime_error("SQLite has no default VFS to write the log through");
    }
    // One name per instance: each ledger's writer has its own, registered as long as it lives.
    name_ = "loyalty-log-" + std::to_string(reinterpret_cast<std::uintptr_t>(this));
    vfs_.iVersion = std::min(base->iVersion, 3);
    vfs_.szOsFile = static_cast<int>(real_offset) + base->szOsFile;
    vfs_.mxPathname = base->mxPathname;
    vfs_.zName = name_.c_str();
    vfs_.pAppData = base;
    vfs_.xOpen = open_file;
    vfs_.xDelete = delete_file;
    vfs_.xAccess = access;
    vfs_.xFullPathname = full_pathname;
    vfs_.xDlOpen = base->xDlOpen != nullptr ? dl_open : nullptr;
    vfs_.xDlError = base->xDlError != nullptr ? dl_error : nullptr;
    vfs_.xDlSym = base->xDlSym != nullptr ? dl_sym : nullptr;
    vfs_.xDlClose = base->xDlClose != nullptr ? dl_close : nullptr;
    vfs_.xRandomness = randomness;
    vfs_.xSleep = sleep_for;
    vfs_.xCurrentTime = current_time;
    vfs_.xGetLastError = base->xGetLastError != nullptr ? last_error : nullptr;
    if (vfs_.iVersion >= 2) {
        vfs_.xCurrentTimeInt64 = base->xCurrentTimeInt64 != nullptr ? current_time_int64 : nullptr;
    }
    if (vfs_.iVersion >= 3) {
        vfs_.xSetSystemCall = base->xSetSystemCall != nullptr ? set_system_call : nullptr;
        vfs_.xGetSystemCall = base->xGetSystemCall != nullptr ? get_system_call : nullptr;
        vfs_.xNextSystemCall = base->xNextSystemCall != nullptr ? next_system_call : nullptr;
    }
    if (int rc = sqlite3_vfs_register(&vfs_, 0); rc != SQLITE_OK) {
        throw std::runtime_error("SQLite refused the log's VFS: " +
                                 std::string(sqlite3_errstr(rc)));
    }
}

log_vfs::~log_vfs() {
    sqlite3_vfs_unregister(&vfs_);
}

} // namespace loyalty::ledger::detail
