// Puts a database file in the page cache the way SQLite itself would leave it, for scripts/bench.
//
//   page_cache FILE...
//
// The benchmark copies its seeded database before each run, and a sequential copy or `cat`
// leaves the file in the page cache as large folios (the kernel groups pages it reads ahead).
// SQLite then checkpoints 4 KiB pages into them, and on this VM's kernel each such write walked
// and wrote back the whole large folio: checkpoints took 38% of the server's time after `cat`
// and 7% after this (docs/benchmarks.md). A server's own file is read a page at a time, so its
// cache holds small folios. This program drops the file's clean pages and reads it again in
// 1 MiB reads with read-ahead off (POSIX_FADV_RANDOM), which caches every page without grouping
// them. Run `sync FILE` first: dirty pages are not dropped.

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <memory>
#include <unistd.h>

namespace {

struct file_descriptor {
    int fd;
    explicit file_descriptor(const char* path) : fd(::open(path, O_RDONLY | O_CLOEXEC)) {}
    file_descriptor(const file_descriptor&) = delete;
    file_descriptor& operator=(const file_descriptor&) = delete;
    ~file_descriptor() {
        if (fd >= 0) {
            ::close(fd);
        }
    }
};

bool warm(const char* path) {
    file_descriptor file(path);
    if (file.fd < 0) {
        std::fprintf(stderr, "page_cache: %s: %s\n", path, std::strerror(errno));
        return false;
    }
    if (int rc = ::posix_fadvise(file.fd, 0, 0, POSIX_FADV_DONTNEED); rc != 0) {
        std::fprintf(stderr, "page_cache: %s: dropping cached pages: %s\n", path,
                     std::strerror(rc));
        return false;
    }
    if (int rc = ::posix_fadvise(file.fd, 0, 0, POSIX_FADV_RANDOM); rc != 0) {
        std::fprintf(stderr, "page_cache: %s: turning read-ahead off: %s\n", path,
                     std::strerror(rc));
        return false;
    }
    constexpr std::size_t chunk = 1 << 20;
    auto buffer = std::make_unique<std::array<char, chunk>>();
    off_t offset = 0;
    for (;;) {
        ssize_t n = ::pread(file.fd, buffer->data(), chunk, offset);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            std::fprintf(stderr, "page_cache: %s: %s\n", path, std::strerror(errno));
            return false;
        }
        if (n == 0) {
            break;
        }
        offset += n;
    }
    std::printf("%s: %lld MiB cached\n", path, static_cast<long long>(offset >> 20));
    return true;
}

} // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: page_cache FILE...\n");
        return 2;
    }
    bool ok = true;
    for (int i = 1; i < argc; ++i) {
        ok = warm(argv[i]) && ok;
    }
    return ok ? 0 : 1;
}
