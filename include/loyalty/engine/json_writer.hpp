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
#include <string>
#include <string_view>

namespace loyalty::engine {

class json_writer {
public:
    json_writer() = default;
    // Appends to `out`, which keeps what it held.
    explicit json_writer(std::string out) : out_(std::move(out)) {}

    json_writer& begin_object() {
        separate();
        out_ += '{';
        first_ = true;
        return *this;
    }
    json_writer& end_object() {
        out_ += '}';
        first_ = false;
        return *this;
    }
    json_writer& begin_array() {
        separate();
        out_ += '[';
        first_ = true;
        return *this;
    }
    json_writer& end_array() {
        out_ += ']';
        first_ = false;
        return *this;
    }
    json_writer& key(std::string_view k) {
        separate();
        append_string(out_, k, ':');
        after_key_ = true;
        return *this;
    }

    json_writer& value(std::string_view s) {
        separate();
        append_string(out_, s);
        return *this;
    }
    json_writer& value(const char* s) { return value(std::string_view(s)); }
    json_writer& value(const std::string& s) { return value(std::string_view(s)); }
    json_writer& value(std::int64_t n);
    json_writer& value(int n) { return value(static_cast<std::int64_t>(n)); }
    json_writer& value(unsigned n) { return value(static_cast<std::int64_t>(n)); }
    json_writer& value(bool b) {
        separate();
        out_ += b ? "true" : "false";
        return *this;
    }
    json_writer& null() {
        separate();
        out_ += "null";
        return *this;
    }
    // Text that is already JSON (a stored document), inserted as one value.
    json_writer& raw(std::string_view json) {
        separate();
        out_ += json;
        return *this;
    }

    // key(k).value(v) in one call.
    template <class T>
    json_writer& field(std::string_view k, const T& v) {
        key(k);
        return value(v);
    }

    const std::string& text() const& { return out_; }
    std::string text() && { return std::move(out_); }
    void reserve(std::size_t n) { out_.reserve(n); }

    // `s` as a JSON string, quotes included, appended to `out`, then `after` unless it is 0.
    static void append_string(std::string& out, std::string_view s, char after = 0);

private:
    // The comma before every value but the first of its object or array; none after a key.
    void separate() {
        if (after_key_) {
            after_key_ = false;
            return;
        }
        if (!first_) {
            out_ += ',';
        }
        first_ = false;
    }

    std::string out_;
    bool first_ = true;
    bool after_key_ = false;
};

} // namespace loyalty::engine
