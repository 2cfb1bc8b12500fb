#pragma once
// Read-only connections for views: each read takes one, runs on the WAL snapshot and never
// waits for the writer. Reads beyond the pool's size wait for a connection to come back.

#include "sqlite.hpp"
#include "store.hpp"

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace loyalty::ledger::detail {

struct reader {
    reader(const std::string& path, std::size_t cache_kib)
        : db(path, connection::mode::read_only), st(db) {
        db.execute("PRAGMA cache_size = -" + std::to_string(cache_kib));
    }
    connection db;
    store st;
};

class reader_pool {
public:
    reader_pool(std::string path, std::size_t size, std::size_t cache_kib);

    class lease {
    public:
        lease(reader_pool& pool, std::unique_ptr<reader> r) : pool_(&pool), reader_(std::move(r)) {}
        lease(lease&&) noexcept = default;
        lease& operator=(lease&&) noexcept = default;
        ~lease();
        reader* operator->() const { return reader_.get(); }
        reader& operator*() const { return *reader_; }

    private:
        reader_pool* pool_;
        std::unique_ptr<reader> reader_;
    };

    lease acquire();

private:
    std::string path_;
    std::mutex mutex_;
    std::condition_variable returned_;
    std::vector<std::unique_ptr<reader>> idle_;
    std::size_t open_ = 0;
    std::size_t size_;
    std::size_t cache_kib_;
};

} // namespace loyalty::ledger::detail
