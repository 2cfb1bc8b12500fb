#include "loyalty/cli/commands.hpp"
#include "loyalty/engine/evaluate.hpp"
#include "loyalty/engine/event_json.hpp"
#include "loyalty/engine/local_time.hpp"
#include "loyalty/program/load.hpp"
#include "now_option.hpp"

#include <fstream>
#include <ostream>
#include <sstream>

namespace loyalty::cli {

namespace {

std::optional<nlohmann::json> read_json_file(const std::string& file, std::ostream& err) {
    std::ifstream in(file);
    if (!in) {
        err << "loyalty simulate: cannot read " << file << '\n';
        return std::nullopt;
    }
    std::ostringstream text;
    text << in.rdbuf();
    auto parsed = nlohmann::json::parse(text.str(), nullptr, false);
    if (parsed.is_discarded()) {
        err << "loyalty simulate: " << file << " is not valid JSON\n";
        return std::nullopt;
    }
    return parsed;
}

} // namespace

int simulate_purchase(const std::string& program_file, const std::string& transaction_file,
                      const std::optional<std::string>& member_file,
                      const std::optional<std::string>& now_text, std::ostream& out,
                      std::ostream& err) {
    auto loaded = program::load_program_file(program_file);
    if (!loaded) {
        for (const auto& problem : loaded.error()) {
            err << program::to_string(problem) << '\n';
        }
        return 1;
    }
    const program::program& p = **loaded;
    auto transaction_json = read_json_file(transaction_file, err);
    if (!transaction_json) {
        return 2;
    }
    auto purchase = engine::purchase_from_json(*transaction_json);
    if (!purchase) {
        err << "loyalty simulate: " << transaction_file << ": " << purchase.error().field << ": "
            << purchase.error().message << '\n';
        return 2;
    }
    engine::member_state member;
    if (member_file) {
        auto member_json = read_json_file(*member_file, err);
        if (!member_json) {
            return 2;
        }
        auto parsed = engine::member_from_json(*member_json);
        if (!parsed) {
            err << "loyalty simulate: " << *member_file << ": " << parsed.error().field << ": "
                << parsed.error().message << '\n';
            return 2;
        }
        member = std::move(*parsed);
        // Another member's file beside this purchase is a mix-up of files, not a what-if.
        if (member.id != purchase->member_id) {
            err << "loyalty simulate: " << *member_file << ": id: member \"" << member.id
                << "\", but the purchase is member \"" << purchase->member_id << "\"'s\n";
            return 2;
        }
        if (member.tier.tier.empty()) {
            member.tier.tier = p.tiers.levels.front().id;
        } else if (p.tiers.find(member.tier.tier) == nullptr) {
            err << "loyalty simulate: " << *member_file << ": tier.id: unknown tier \""
                << member.tier.tier << "\"\n";
            return 2;
        }
    } else {
        // A member who has just enrolled in the lowest tier, with no history.
        member = engine::new_member(
            p, {purchase->member_id, purchase->occurred_at, std::nullopt, std::nullopt});
    }
    auto given = now_option(now_text, purchase->occurred_at, "simulate", err);
    if (!given) {
        return 2;
    }
    const engine::timestamp now = *given;
    // Posted before it happened, the purchase would be evaluated against a clock that has not
    // reached it: its points pending from a time before they were earned. The server refuses
    // such a posting, and its quote uses the later of the two; a --now this early is a slip.
    if (now < purchase->occurred_at) {
        err << "loyalty simulate: --now: " << engine::format_rfc3339(now)
            << " is before the purchase's occurred_at ("
            << engine::format_rfc3339(purchase->occurred_at)
            << "); a purchase is posted when or after it happens\n";
        return 2;
    }
    auto refuse = [&](const engine::rejection& why) {
        nlohmann::json refused = {{"rejected", engine::to_string(why.code)},
                                  {"field", why.field},
                                  {"message", why.message}};
        out << refused.dump(2) << '\n';
        return 1;
    };
    // Posted at --now, the purchase meets the program's bound on lateness as the server's would
    // (without --now it is posted as it happens, never late).
    if (auto late = engine::too_late_to_post(p, purchase->occurred_at, now)) {
        return refuse({engine::rejection_code::invalid_event, "occurred_at", std::move(*late)});
    }
    auto result = engine::evaluate(p, member, *purchase, now);
    if (!result) {
        return refuse(result.error());
    }
    out << engine::to_json(*result, p).dump(2) << '\n';
    return 0;
}

} // namespace loyalty::cli
