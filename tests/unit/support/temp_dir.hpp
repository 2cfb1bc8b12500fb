#pragma once
// A fresh folder under the system's temporary directory, removed with everything in it when the
// test ends.

#include <atomic>
#include <filesystem>
#include <random>
#include <string>
#include <unistd.h>

namespace loyalty::test {

class temp_dir {
public:
    temp_dir() {
        std::random_device seed;
        path_ = std::filesystem::temp_directory_path() /
                ("loyalty-test-" + std::to_string(::getpid()) + "-" + std::to_string(seed()));
        std::filesystem::create_directories(path_);
    }
    temp_dir(const temp_dir&) = delete;
    temp_dir& operator=(const temp_dir&) = delete;
    ~temp_dir() {
        std::error_code ignored;
        std::filesystem::remove_all(path_, ignored);
    }
    const std::filesystem::path& path() const { return path_; }
    std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

private:
    std::filesystem::path path_;
};

} // namespace loyalty::test
