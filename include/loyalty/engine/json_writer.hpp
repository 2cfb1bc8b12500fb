#pragma once
// JSON text written straight into a string, for the texts the write path produces on every
// request (outcomes, stored member states, member views): building an nlohmann::json tree only
// to dump it allocates a node per value and a map per object, and was a large share of a
// purchase's cost (docs/benchmarks.md).
//
// The output is byte for byte what nlohmann's dump() gives for the same values in the same
// order: compact, strings escaped as nlohmann escapes them (", \ and control characters;
// \b \f \n \r \t by name, the others as \u00xx; everything else, UTF-8 included, as is). Keys
// come out in the order they are written, so a caller that must match nlohmann's sorted objects
// writes them sorted. There are no floating-point values: amounts and points are integers.
//
// The writer trusts its caller for the structure (a key before each value in an object, ends
// matching begins) and for the text: strings must be UTF-8, as everything the engine holds is
// (request bodies and program files are checked when read); nlohmann's dump() would throw on
// anything else, this passes it through. The tests compare its output with nlohmann's.

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace loyalty::engine {

class json_writer {
public:
    json_writer() = default;
    // Appends to `out`, which keeps what it held.
    explicit json_writer(std::string out) : out_(std::move(out)), used_(out_.size()) {}

    json_writer& begin_object() {
        separate();
        put('{');
        first_ = true;
        return *this;
    }
    json_writer& end_object() {
        put('}');
        first_ = false;
        return *this;
    }
    json_writer& begin_array() {
        separate();
        put('[');
        first_ = true;
        return *this;
    }
    json_writer& end_array() {
        put(']');
        first_ = false;
        return *this;
    }
    json_writer& key(std::string_view k) {
        separate();
        write_string(k, ':');
        after_key_ = true;
        return *this;
    }

    json_writer& value(std::string_view s) {
        separate();
        write_string(s, 0);
        return *this;
    }
    json_writer& value(const char* s) { return value(std::string_view(s)); }
    json_writer& value(const std::string& s) { return value(std::string_view(s)); }
    json_writer& value(std::int64_t n);
    json_writer& value(int n) { return value(static_cast<std::int64_t>(n)); }
    json_writer& value(unsigned n) { return value(static_cast<std::int64_t>(n)); }
    json_writer& value(bool b) {
        separate();
        put(b ? std::string_view("true") : std::string_view("false"));
        return *this;
    }
    json_writer& null() {
        separate();
        put("null");
        return *this;
    }
    // Text that is already JSON (a stored document), inserted as one value.
    json_writer& raw(std::string_view json) {
        separate();
        put(json);
        return *this;
    }

    // key(k).value(v) in one call.
    template <class T>
    json_writer& field(std::string_view k, const T& v) {
        key(k);
        return value(v);
    }

    std::string_view text() const& { return {out_.data(), used_}; }
    std::string text() && {
        out_.resize(used_);
        return std::move(out_);
    }
    // Room for `n` bytes in all, made at once.
    void reserve(std::size_t n) {
        if (out_.size() < n) {
            out_.resize(n);
        }
    }

private:
    // The comma before every value but the first of its object or array; none after a key.
    void separate() {
        if (after_key_) {
            after_key_ = false;
            return;
        }
        if (!first_) {
            put(',');
        }
        first_ = false;
    }

    // The text is written into `out_` at `used_`; the bytes after it are room already made.
    // std::string::append checked and set the size and its terminator for every piece: a
    // purchase writes some 250 strings, and append was 11k of the 46k instructions they cost.
    char* room(std::size_t n) {
        if (out_.size() - used_ < n) {
            grow(n);
        }
        char* at = out_.data() + used_;
        used_ += n;
        return at;
    }
    void grow(std::size_t n);
    void put(char c) { *room(1) = c; }
    void put(std::string_view s) {
        if (!s.empty()) { // an empty view may hold no pointer, which memcpy may not be given
            std::memcpy(room(s.size()), s.data(), s.size());
        }
    }
    // `s` as a JSON string, quotes included, then `after` unless it is 0.
    void write_string(std::string_view s, char after);

    std::string out_;
    std::size_t used_ = 0;
    bool first_ = true;
    bool after_key_ = false;
};

} // namespace loyalty::engine
