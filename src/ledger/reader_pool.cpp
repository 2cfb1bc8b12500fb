#include "reader_pool.hpp"

namespace loyalty::ledger::detail {

reader_pool::reader_pool(std::string path, std::size_t size, std::size_t cache_kib)
    : path_(std::move(path)), size_(std::max<std::size_t>(1, size)), cache_kib_(cache_kib) {}

reader_pool::lease::~lease() {
    if (reader_ == nullptr) {
        return; // moved from
    }
    {
        std::lock_guard lock(pool_->mutex_);
        pool_->idle_.push_back(std::move(reader_));
    }
    pool_->returned_.notify_one();
}

reader_pool::lease reader_pool::acquire() {
    std::unique_lock lock(mutex_);
    returned_.wait(lock, [&] { return !idle_.empty() || open_ < size_; });
    if (!idle_.empty()) {
        auto r = std::move(idle_.back());
        idle_.pop_back();
        return lease(*this, std::move(r));
    }
    ++open_;
    lock.unlock();
    try {
        return lease(*this, std::make_unique<reader>(path_, cache_kib_));
    } catch (...) {
        std::lock_guard relock(mutex_);
        --open_;
        throw;
    }
}

} // namespace loyalty::ledger::detail
