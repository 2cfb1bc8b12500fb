#pragma once
// The calling thread's time on a core and time runnable but queued for one, for the benchmarks
// that split a writing thread's wall time into working, waiting for a core and waiting for
// anything else (the disk, or requests).

#include <cstdio>

namespace loyalty::bench {

struct thread_times {
    double on_core = 0; // seconds
    double queued = 0;  // seconds
};

// From /proc/thread-self/schedstat; zero where it is missing.
inline thread_times read_thread_times() {
    thread_times t;
    if (std::FILE* f = std::fopen("/proc/thread-self/schedstat", "r")) {
        unsigned long long on_core = 0;
        unsigned long long queued = 0;
        if (std::fscanf(f, "%llu %llu", &on_core, &queued) == 2) {
            t.on_core = static_cast<double>(on_core) * 1e-9;
            t.queued = static_cast<double>(queued) * 1e-9;
        }
        std::fclose(f);
    }
    return t;
}

} // namespace loyalty::bench
