#pragma once
// What a YAML stream holds after its first document, read with yaml-cpp's event parser rather
// than YAML::LoadAll, which never returns on some inputs (yaml_stream.cpp says which).

#include <optional>
#include <string>
#include <vector>
#include <yaml-cpp/mark.h>

namespace loyalty::program::detail {

struct stray_content {
    YAML::Mark mark;
    std::string message; // the whole diagnostic, as a program check prints it
};

// One `*name` of the first document: where it was written, and where the node its anchor names
// starts (the byte offset of that node's mark, which yaml-cpp gives every node the alias
// brings in too).
struct alias_use {
    YAML::Mark at;
    int anchored_pos = 0;
};

struct stream_shape {
    // The first thing in the text that is not the first document: a second document with
    // content, or text the parser cannot read on from. nullopt when there is nothing after the
    // first document but empty documents.
    std::optional<stray_content> stray;
    // The first document's aliases, in the order they were written.
    std::vector<alias_use> aliases;
};

// Reads `text` as a stream of YAML documents. Throws YAML::Exception on text that is not YAML,
// as YAML::Load does.
stream_shape read_stream(const std::string& text);

} // namespace loyalty::program::detail
