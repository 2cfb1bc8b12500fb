// What the shape of a commit's writes to the log costs, for src/ledger/log_vfs.hpp: the frames
// of a purchase committed alone (18 pages), written as SQLite writes them (a 24-byte header,
// then the page, for each frame) against one write of the same bytes, as log_vfs hands them
// over. Both overwrite the same 50 commits' worth of a file in the page cache, as a log that
// has started over does; no flush is measured.
//
//   log_writes [FOLDER]      # the file goes in FOLDER (the current one), and is removed
//
// Prints the time per commit of each, and their ratio, measured in the same run.

#include <chrono>
#include <cstdio>
#include <fcntl.h>
#include <string>
#include <sys/types.h>
#include <unistd.h>
#include <vector>

namespace {

constexpr int pages_per_commit = 18;
constexpr int page_bytes = 4096;
constexpr int header_bytes = 24;
constexpr int frame_bytes = header_bytes + page_bytes;
constexpr int commits_in_file = 50;
constexpr int commits = 5000;

using clock_type = std::chrono::steady_clock;

double micros_per_commit(clock_type::duration d) {
    return std::chrono::duration<double, std::micro>(d).count() / commits;
}

bool write_all(int fd, const char* data, std::size_t n, off_t at) {
    while (n > 0) {
        ssize_t done = ::pwrite(fd, data, n, at);
        if (done <= 0) {
            return false;
        }
        data += done;
        n -= static_cast<std::size_t>(done);
        at += done;
    }
    return true;
}

} // namespace

int main(int argc, char** argv) {
    const std::string file = std::string(argc > 1 ? argv[1] : ".") + "/log_writes.tmp";
    int fd = ::open(file.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        std::perror(file.c_str());
        return 1;
    }
    ::unlink(file.c_str()); // gone when the descriptor closes
    const std::vector<char> header(header_bytes, 'h');
    const std::vector<char> page(page_bytes, 'p');
    const std::vector<char> commit(static_cast<std::size_t>(pages_per_commit) * frame_bytes, 'c');
    auto offset_of = [](int c) {
        return static_cast<off_t>(32) +
               static_cast<off_t>(c % commits_in_file) * pages_per_commit * frame_bytes;
    };
    bool ok = true;
    // The file's blocks exist before anything is timed.
    for (int c = 0; c < commits_in_file && ok; ++c) {
        ok = write_all(fd, commit.data(), commit.size(), offset_of(c));
    }
    for (int round = 0; round < 3 && ok; ++round) {
        auto t0 = clock_type::now();
        for (int c = 0; c < commits && ok; ++c) {
            off_t at = offset_of(c);
            for (int p = 0; p < pages_per_commit && ok; ++p) {
                ok = write_all(fd, header.data(), header.size(), at) &&
                     write_all(fd, page.data(), page.size(), at + header_bytes);
                at += frame_bytes;
            }
        }
        auto t1 = clock_type::now();
        for (int c = 0; c < commits && ok; ++c) {
            ok = write_all(fd, commit.data(), commit.size(), offset_of(c));
        }
        auto t2 = clock_type::now();
        double apart = micros_per_commit(t1 - t0);
        double gathered = micros_per_commit(t2 - t1);
        std::printf("round %d: %d writes per commit %.1f us, one write %.1f us: %.1f x\n",
                    round + 1, 2 * pages_per_commit, apart, gathered, apart / gathered);
    }
    ::close(fd);
    if (!ok) {
        std::perror("pwrite");
        return 1;
    }
    return 0;
}
