#include "yaml_stream.hpp"

#include <cstddef>
#include <sstream>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/parser.h>

namespace loyalty::program::detail {

namespace {

// What one document held: whether it was nothing but a null, and where its first node was.
struct document_shape {
    bool any_node = false;
    bool only_null = true;
    YAML::Mark first;
};

class shape_recorder final : public YAML::EventHandler {
public:
    explicit shape_recorder(document_shape& shape) : shape_(shape) {}

    void OnDocumentStart(const YAML::Mark&) override {}
    void OnDocumentEnd() override {}
    void OnNull(const YAML::Mark& mark, YAML::anchor_t) override { node(mark, true); }
    void OnAlias(const YAML::Mark& mark, YAML::anchor_t) override { node(mark, false); }
    void OnScalar(const YAML::Mark& mark, const std::string&, YAML::anchor_t,
                  const std::string&) override {
        node(mark, false);
    }
    void OnSequenceStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t,
                         YAML::EmitterStyle::value) override {
        node(mark, false);
    }
    void OnSequenceEnd() override {}
    void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t,
                    YAML::EmitterStyle::value) override {
        node(mark, false);
    }
    void OnMapEnd() override {}

private:
    void node(const YAML::Mark& mark, bool is_null) {
        if (!shape_.any_node) {
            shape_.first = mark;
        }
        shape_.any_node = true;
        shape_.only_null = shape_.only_null && is_null;
    }

    document_shape& shape_;
};

} // namespace

std::optional<stray_content> after_first_document(const std::string& text) {
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
            return std::nullopt;
        }
        // yaml-cpp 0.7 does not consume a `,` outside any [ ] or { } (", b", "[a], b"): it reads
        // an empty document there, then the same one again for ever, so LoadAll never returns
        // and Load reads the text as empty or as the part before the comma.
        bool stuck = index > 0 && shape.any_node && shape.only_null && previous.any_node &&
                     previous.only_null && shape.first.pos == previous.first.pos;
        if (stuck) {
            auto at = static_cast<std::size_t>(shape.first.pos);
            bool comma = shape.first.pos >= 0 && at < text.size() && text[at] == ',';
            return stray_content{shape.first, std::string("not valid YAML or JSON: ") +
                                                  (comma ? "a `,` outside any [ ] or { }"
                                                         : "the parser cannot read on from here")};
        }
        if (index > 0 && shape.any_node && !shape.only_null) {
            return stray_content{shape.first,
                                 "a second YAML document: a program file holds one, and the first "
                                 "is the program (remove the `---` and what follows, or merge it "
                                 "into the first)"};
        }
        previous = shape;
    }
    return stray_content{previous.first,
                         "not valid YAML or JSON: the parser cannot read on from here"};
}

} // namespace loyalty::program::detail
