#include "yaml_stream.hpp"

#include <cstddef>
#include <sstream>
#include <unordered_map>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/parser.h>

namespace loyalty::program::detail {

namespace {

// What one document held: whether it was nothing but a null, where its first node was, and
// its anchors and aliases.
struct document_shape {
    bool any_node = false;
    bool only_null = true;
    YAML::Mark first;
    std::unordered_map<YAML::anchor_t, int> anchored_pos;
    std::vector<alias_use> aliases;
};

class shape_recorder final : public YAML::EventHandler {
public:
    explicit shape_recorder(document_shape& shape) : shape_(shape) {}

    void OnDocumentStart(const YAML::Mark&) override {}
    void OnDocumentEnd() override {}
    void OnNull(const YAML::Mark& mark, YAML::anchor_t anchor) override {
        node(mark, true, anchor);
    }
    void OnAlias(const YAML::Mark& mark, YAML::anchor_t anchor) override {
        node(mark, false, YAML::NullAnchor);
        auto named = shape_.anchored_pos.find(anchor);
        shape_.aliases.push_back({mark, named == shape_.anchored_pos.end() ? -1 : named->second});
    }
    void OnScalar(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                  const std::string&) override {
        node(mark, false, anchor);
    }
    void OnSequenceStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                         YAML::EmitterStyle::value) override {
        node(mark, false, anchor);
    }
    void OnSequenceEnd() override {}
    void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                    YAML::EmitterStyle::value) override {
        node(mark, false, anchor);
    }
    void OnMapEnd() override {}

private:
    void node(const YAML::Mark& mark, bool is_null, YAML::anchor_t anchor) {
        if (!shape_.any_node) {
            shape_.first = mark;
        }
        if (anchor != YAML::NullAnchor) {
            shape_.anchored_pos[anchor] = mark.pos;
        }
        shape_.any_node = true;
        shape_.only_null = shape_.only_null && is_null;
    }

    document_shape& shape_;
};

} // namespace

stream_shape read_stream(const std::string& text) {
    stream_shape read;
    std::istringstream in(text);
    YAML::Parser parser(in);
    document_shape previous;
    // Every document the parser reads consumes at least one token, except in the case below, so
    // a stream has no more documents than characters; the bound is there so that a parser state
    // no one has seen yet ends in an error rather than a hang.
    for (std::size_t index = 0; index <= text.size() + 1; ++index) {
        document_shape shape;
        shape_recorder recorder(shape);
        if (!parser.HandleNextDocument(recorder)) {
            return read;
        }
        if (index == 0) {
            read.aliases = std::move(shape.aliases);
        }
        // yaml-cpp 0.7 does not consume a `,` outside any [ ] or { } (", b", "[a], b"): it reads
        // an empty document there, then the same one again for ever, so LoadAll never returns
        // and Load reads the text as empty or as the part before the comma.
        bool stuck = index > 0 && shape.any_node && shape.only_null && previous.any_node &&
                     previous.only_null && shape.first.pos == previous.first.pos;
        if (stuck) {
            auto at = static_cast<std::size_t>(shape.first.pos);
            bool comma = shape.first.pos >= 0 && at < text.size() && text[at] == ',';
            read.stray =
                stray_content{shape.first, std::string("not valid YAML or JSON: ") +
                                               (comma ? "a `,` outside any [ ] or { }"
                                                      : "the parser cannot read on from here")};
            return read;
        }
        if (index > 0 && shape.any_node && !shape.only_null) {
            read.stray = stray_content{
                shape.first, "a second YAML document: a program file holds one, and the first "
                             "is the program (remove the `---` and what follows, or merge it "
                             "into the first)"};
            return read;
        }
        previous = std::move(shape);
    }
    read.stray = stray_content{previous.first,
                               "not valid YAML or JSON: the parser cannot read on from here"};
    return read;
}

} // namespace loyalty::program::detail
