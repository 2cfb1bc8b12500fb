#include "loyalty/ledger/api_keys.hpp"

#include "loyalty/program/content_hash.hpp"
#include "migrations.hpp"
#include "sqlite.hpp"
#include "store.hpp"

#include <openssl/rand.h>
#include <stdexcept>

namespace loyalty::ledger {

using detail::connection;

std::string to_string(role r) {
    switch (r) {
    case role::pos:
        return "pos";
    case role::support:
        return "support";
    case role::admin:
        return "admin";
    }
    return "pos";
}

std::optional<role> parse_role(std::string_view text) {
    for (role r : {role::pos, role::support, role::admin}) {
        if (to_string(r) == text) {
            return r;
        }
    }
    return std::nullopt;
}

namespace {

std::string random_hex(std::size_t bytes) {
    std::vector<unsigned char> raw(bytes);
    if (RAND_bytes(raw.data(), static_cast<int>(raw.size())) != 1) {
        throw std::runtime_error("no randomness available for a key");
    }
    static constexpr char digits[] = "0123456789abcdef";
    std::string hex;
    for (unsigned char c : raw) {
        hex += digits[c >> 4];
        hex += digits[c & 0xf];
    }
    return hex;
}

connection open_migrated(const std::filesystem::path& database) {
    if (database.has_parent_path()) {
        std::filesystem::create_directories(database.parent_path());
    }
    connection db(database.string(), connection::mode::read_write);
    db.execute("PRAGMA journal_mode = WAL");
    db.execute("PRAGMA synchronous = FULL");
    db.execute("PRAGMA foreign_keys = ON");
    detail::migrate(db);
    return db;
}

engine::timestamp now() {
    return std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
}

} // namespace

created_key create_api_key(const std::filesystem::path& database, role r,
                           std::optional<std::string> store_id, std::string name) {
    connection db = open_migrated(database);
    created_key made;
    made.key = api_key{"key_" + random_hex(6), r,     std::move(store_id),
                       std::move(name),        now(), std::nullopt};
    made.secret = "lk_" + random_hex(24);
    db.prepare("INSERT INTO api_keys (id, key_hash, role, store_id, name, created_at)"
               " VALUES (?, ?, ?, ?, ?, ?)")
        .bind(1, made.key.id)
        .bind(2, program::sha256_hex(made.secret))
        .bind(3, to_string(r))
        .bind(4, made.key.store_id)
        .bind(5, made.key.name)
        .bind(6, detail::time_text(made.key.created_at))
        .run();
    db.prepare("INSERT INTO audit_log (at, actor, role, action, detail) VALUES (?, 'cli', 'admin',"
               " 'create_key', ?)")
        .bind(1, detail::time_text(made.key.created_at))
        .bind(2, made.key.id + " " + to_string(r))
        .run();
    return made;
}

std::vector<api_key> list_api_keys(const std::filesystem::path& database) {
    connection db = open_migrated(database);
    auto s = db.prepare("SELECT id, role, store_id, name, created_at, revoked_at FROM api_keys "
                        "ORDER BY created_at, id");
    std::vector<api_key> keys;
    while (s.step()) {
        api_key k;
        k.id = s.text(0);
        k.key_role = parse_role(s.text(1)).value_or(role::pos);
        k.store_id = s.optional_text(2);
        k.name = s.text(3);
        k.created_at = detail::parse_time(s.text(4));
        if (auto revoked = s.optional_text(5)) {
            k.revoked_at = detail::parse_time(*revoked);
        }
        keys.push_back(std::move(k));
    }
    return keys;
}

bool revoke_api_key(const std::filesystem::path& database, const std::string& id) {
    connection db = open_migrated(database);
    db.prepare("UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL")
        .bind(1, detail::time_text(now()))
        .bind(2, id)
        .run();
    bool revoked = db.changes() == 1;
    if (revoked) {
        db.prepare("INSERT INTO audit_log (at, actor, role, action, detail) VALUES (?, 'cli',"
                   " 'admin', 'revoke_key', ?)")
            .bind(1, detail::time_text(now()))
            .bind(2, id)
            .run();
    }
    return revoked;
}

} // namespace loyalty::ledger
