#pragma once
// API keys: `loyalty keys create|list|revoke` and the server's lookup. Only the SHA-256 of a key
// is stored; the key itself is shown once, when created.

#include "loyalty/engine/event.hpp"

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace loyalty::ledger {

enum class role { pos, support, admin };

std::string to_string(role r);
std::optional<role> parse_role(std::string_view text);

struct api_key {
    std::string id; // "key_3f9a1c2b": for logs and the audit log, not a secret
    role key_role = role::pos;
    std::optional<std::string> store_id; // a pos key bound to a store posts only for it
    std::string name;
    engine::timestamp created_at;
    std::optional<engine::timestamp> revoked_at;
};

struct created_key {
    api_key key;
    std::string secret; // "lk_..." shown once
};

// Offline management on the database file (the server may be running: SQLite serialises).
created_key create_api_key(const std::filesystem::path& database, role r,
                           std::optional<std::string> store_id, std::string name);
std::vector<api_key> list_api_keys(const std::filesystem::path& database);
// False when there is no such key (or it was already revoked).
bool revoke_api_key(const std::filesystem::path& database, const std::string& id);

} // namespace loyalty::ledger
