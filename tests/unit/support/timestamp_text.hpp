#pragma once
// Timestamps in Catch2 failure messages as RFC 3339, not "{?}".

#include "loyalty/engine/local_time.hpp"

#include <catch2/catch.hpp>
#include <string>

namespace Catch {
template <>
struct StringMaker<loyalty::engine::timestamp> {
    static std::string convert(const loyalty::engine::timestamp& t) {
        return loyalty::engine::format_rfc3339(t);
    }
};
} // namespace Catch
