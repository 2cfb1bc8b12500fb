#include "loyalty/http/json_log.hpp"

#include <cerrno>
#include <mutex>
#include <nlohmann/json.hpp>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>
#include <string>
#include <unistd.h>

namespace loyalty::http {
namespace {

// Marks a message log_object() vouches for; never the first byte of any other message (our own
// texts, which start with a word).
constexpr char trusted_object = '\x1e';

class message_as_json : public spdlog::custom_flag_formatter {
public:
    void format(const spdlog::details::log_msg& msg, const std::tm&,
                spdlog::memory_buf_t& dest) override {
        std::string_view text(msg.payload.data(), msg.payload.size());
        if (!text.empty() && text.front() == trusted_object) {
            dest.append(text.data() + 1, text.data() + text.size());
            return;
        }
        std::string out;
        if (!text.empty() && text.front() == '{' && nlohmann::json::accept(text)) {
            out = text;
        } else {
            out = nlohmann::json(std::string(text))
                      .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
        }
        dest.append(out.data(), out.data() + out.size());
    }
    std::unique_ptr<custom_flag_formatter> clone() const override {
        return spdlog::details::make_unique<message_as_json>();
    }
};

// Standard output in batches: lines gather in memory and are written together.
class batched_stdout_sink final : public spdlog::sinks::base_sink<std::mutex> {
public:
    batched_stdout_sink() = default;
    batched_stdout_sink(const batched_stdout_sink&) = delete;
    batched_stdout_sink& operator=(const batched_stdout_sink&) = delete;
    ~batched_stdout_sink() override { write_out(); }

protected:
    void sink_it_(const spdlog::details::log_msg& msg) override {
        spdlog::memory_buf_t formatted;
        formatter_->format(msg, formatted);
        buffer_.append(formatted.data(), formatted.size());
        if (buffer_.size() >= 64 * 1024) {
            write_out();
        }
    }
    void flush_() override { write_out(); }

private:
    void write_out() noexcept {
        std::size_t done = 0;
        while (done < buffer_.size()) {
            ssize_t n = ::write(STDOUT_FILENO, buffer_.data() + done, buffer_.size() - done);
            if (n < 0 && errno == EINTR) {
                continue;
            }
            if (n <= 0) {
                break; // nowhere to write (a closed pipe): the lines are dropped, not retried
            }
            done += static_cast<std::size_t>(n);
        }
        buffer_.clear();
    }

    std::string buffer_;
};

} // namespace

void use_json_logs() {
    auto logger =
        std::make_shared<spdlog::logger>("loyalty", std::make_shared<batched_stdout_sink>());
    auto formatter = std::make_unique<spdlog::pattern_formatter>(spdlog::pattern_time_type::utc);
    formatter->add_flag<message_as_json>('*').set_pattern(
        R"({"ts":"%Y-%m-%dT%H:%M:%S.%eZ","level":"%l","msg":%*})");
    logger->set_formatter(std::move(formatter));
    logger->set_level(spdlog::default_logger_raw()->level());
    logger->flush_on(spdlog::level::warn);
    spdlog::set_default_logger(std::move(logger));
    spdlog::flush_every(std::chrono::seconds(1));
}

void log_object(spdlog::level::level_enum level, std::string_view object) {
    auto* logger = spdlog::default_logger_raw();
    if (!logger->should_log(level)) {
        return;
    }
    std::string line;
    line.reserve(object.size() + 1);
    line += trusted_object;
    line += object;
    logger->log(level, spdlog::string_view_t(line.data(), line.size()));
}

} // namespace loyalty::http
