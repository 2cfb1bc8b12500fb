// `loyalty keys create|list|revoke`.

#include "loyalty/cli/commands.hpp"
#include "loyalty/engine/local_time.hpp"
#include "loyalty/ledger/api_keys.hpp"

#include <ostream>

namespace loyalty::cli {

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
    try {
        auto made = ledger::create_api_key(database, *r, store, name);
        out << made.secret << "\n";
        err << "created " << made.key.id << " (" << role_name << (store ? ", store " + *store : "")
            << "); the key above is shown only now\n";
        return 0;
    } catch (const std::exception& e) {
        err << database << ": " << e.what() << "\n";
        return 1;
    }
}

int list_keys(const std::string& database, std::ostream& out, std::ostream& err) {
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
