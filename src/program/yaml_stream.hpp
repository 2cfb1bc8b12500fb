#pragma once
// What a YAML stream holds after its first document, read with yaml-cpp's event parser rather
// than YAML::LoadAll, which never returns on some inputs (yaml_stream.cpp says which).

#include <optional>
#include <string>
#include <yaml-cpp/mark.h>

namespace loyalty::program::detail {

struct stray_content {
    YAML::Mark mark;
    std::string message; // the whole diagnostic, as a program check prints it
};

// The first thing in `text` that is not the first document: a second document with content, or
// text the parser cannot read on from. nullopt when there is nothing after the first document
// but empty documents. Throws YAML::Exception on text that is not YAML, as YAML::Load does.
std::optional<stray_content> after_first_document(const std::string& text);

} // namespace loyalty::program::detail
