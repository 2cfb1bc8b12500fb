// `loyalty keys create|list|revoke`.

#include "existing_database.hpp"
#include "loyalty/cli/commands.hpp"
#include "loyalty/engine/local_time.hpp"
#include "loyalty/ledger/api_keys.hpp"

#include <algorithm>
#include <filesystem>
#include <ostream>

namespace loyalty::cli {

namespace {

// The API's rule for text: a store id in a key must be one a purchase can send, and a name must
// not break `keys list`'s one line per key.
bool plain_text(const std::string& text, std::size_t most) {
    return text.size() <= most && std::none_of(text.begin(), text.end(), [](char ch) {
               return static_cast<unsigned char>(ch) < 0x20 || ch == 0x7f;
           });
}

} // namespace

int create_key(const std::string& database, const std::string& role_name,
               const std::optional<std::string>& store, const std::string& name, std::ostream& out,
               std::ostream& err) {
    auto r = ledger::parse_role(role_name);
    if (!r) {
        err << "--role: expected pos, support or admin\n";
        return 2;
    }
    if (store && *r != ledger::role::pos) {
        err << "--store: only pos keys are bound to a store\n";
        return 2;
    }
    if (store && (store->empty() || !plain_text(*store, 256))) {
        err << "--store: 1 to 256 bytes, without control characters, as a purchase's store_id\n";
        return 2;
    }
    if (!plain_text(name, 256)) {
        err << "--name: at most 256 bytes, without control characters\n";
        return 2;
    }
    // Made before a server ever ran on it is fine (a key ready for the first start), but said:
    // a mistyped --db gets a key nobody's server will know.
    const bool fresh = !std::filesystem::exists(database);
    try {
        auto made = ledger::create_api_key(database, *r, store, name);
        out << made.secret << "\n";
        err << "created " << made.key.id << " (" << role_name << (store ? ", store " + *store : "")
            << "); the key above is shown only now\n";
        if (fresh) {
            err << "note: " << database
                << " did not exist and was created; a server started on another file will not "
                   "know this key\n";
        }
        return 0;
    } catch (const std::exception& e) {
        err << database << ": " << e.what() << "\n";
        return 1;
    }
}

int list_keys(const std::string& database, std::ostream& out, std::ostream& err) {
    if (database_missing(database, err)) {
        return 2;
    }
    try {
        for (const auto& k : ledger::list_api_keys(database)) {
            out << k.id << "\t" << ledger::to_string(k.key_role) << "\t" << k.store_id.value_or("-")
                << "\t" << k.name << "\tcreated " << engine::format_rfc3339(k.created_at)
                << (k.revoked_at ? "\trevoked " + engine::format_rfc3339(*k.revoked_at) : "")
                << "\n";
        }
        return 0;
    } catch (const std::exception& e) {
        err << database << ": " << e.what() << "\n";
        return 1;
    }
}

int revoke_key(const std::string& database, const std::string& id, std::ostream& out,
               std::ostream& err) {
    // A key pasted where its id belongs is not written back to the terminal (or a log).
    if (id.rfind("lk_", 0) == 0) {
        err << "that is a key itself, not its id: `loyalty keys list` shows the ids (key_...)\n";
        return 2;
    }
    if (database_missing(database, err)) {
        return 2;
    }
    try {
        if (!ledger::revoke_api_key(database, id)) {
            err << "no active key " << id << "\n";
            return 1;
        }
        out << "revoked " << id << "\n";
        return 0;
    } catch (const std::exception& e) {
        err << database << ": " << e.what() << "\n";
        return 1;
    }
}

} // namespace loyalty::cli
