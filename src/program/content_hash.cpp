#include "loyalty/program/content_hash.hpp"

#include <array>
#include <memory>
#include <openssl/evp.h>
#include <stdexcept>

namespace loyalty::program {

namespace {

struct md_free {
    void operator()(EVP_MD* md) const { EVP_MD_free(md); }
};

// OpenSSL 3 looks SHA-256 up in its provider table on every EVP_Digest given EVP_sha256(): that
// lookup (a lock and a hash table) was a third of the hash's cost, and every request with an API
// key and every write hashes. Fetched once, the digest is immutable and safe to share between
// threads (OpenSSL's "explicit fetching").
const EVP_MD* sha256_digest() {
    static const std::unique_ptr<EVP_MD, md_free> fetched(EVP_MD_fetch(nullptr, "SHA256", nullptr));
    if (!fetched) {
        throw std::runtime_error("SHA-256 is unavailable in this OpenSSL build");
    }
    return fetched.get();
}

} // namespace

std::string sha256_hex(std::string_view bytes) {
    std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
    unsigned int length = 0;
    if (EVP_Digest(bytes.data(), bytes.size(), digest.data(), &length, sha256_digest(), nullptr) !=
        1) {
        throw std::runtime_error("SHA-256 failed");
    }
    static constexpr char hex[] = "0123456789abcdef";
    std::string out(std::size_t{length} * 2, '0');
    for (unsigned int i = 0; i < length; ++i) {
        out[2 * i] = hex[digest[i] >> 4];
        out[2 * i + 1] = hex[digest[i] & 0xF];
    }
    return out;
}

} // namespace loyalty::program
