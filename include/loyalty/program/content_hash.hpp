#pragma once
// SHA-256 (OpenSSL's libcrypto) as lowercase hex: names a program version by its exact text.

#include <string>
#include <string_view>

namespace loyalty::program {

std::string sha256_hex(std::string_view bytes);

} // namespace loyalty::program
