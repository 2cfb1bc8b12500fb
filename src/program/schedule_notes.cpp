#include "loyalty/program/schedule_notes.hpp"

#include "loyalty/program/source_document.hpp"

#include <date/date.h>
#include <optional>

namespace loyalty::program {

namespace {

// The edge of an `active` window that keeps it closed at some time: its end, passed, or its
// start, ahead.
struct closed_edge {
    bool ended; // the end (`until`) has passed; otherwise the start (`from`) is ahead
    date::local_seconds at;

    const char* key() const { return ended ? "until" : "from"; }
};

class note_writer {
public:
    note_writer(const program& p, std::string file_name, std::chrono::sys_seconds now)
        : program_(p), now_(now), local_now_(p.time_zone->to_local(now)),
          doc_(read_again(p, std::move(file_name))) {}

    void look_at(std::size_t index, const earn_rule& r) {
        auto edge = closed(r.active);
        if (!edge) {
            return;
        }
        std::string path = append_index("earn", index) + ".active." + edge->key();
        if (edge->ended) {
            add(path,
                "earn rule " + r.id + " ended " + edge_text(*edge) + ": " + after_end(edge->at));
        } else {
            add(path, "earn rule " + r.id + " starts " + edge_text(*edge) +
                          ": purchases and events dated before then earn nothing from it");
        }
    }

    void look_at(std::size_t index, const reward& r) {
        auto edge = closed(r.active);
        if (!edge) {
            return;
        }
        std::string path = append_index("rewards", index) + ".active." + edge->key();
        if (edge->ended) {
            add(path, "reward " + r.id + " can no longer be redeemed: its window ended " +
                          edge_text(*edge));
        } else {
            add(path, "reward " + r.id + " cannot be redeemed before its window opens " +
                          edge_text(*edge));
        }
    }

    diagnostics take() && { return std::move(notes_); }

private:
    // Only for the positions: the text loaded once already, there is nothing new to find.
    static source_document read_again(const program& p, std::string file_name) {
        diagnostics ignored;
        return source_document::parse(p.source_text(), std::move(file_name), ignored);
    }

    std::optional<closed_edge> closed(const std::optional<validity>& window) const {
        if (!window) {
            return std::nullopt;
        }
        if (window->until && *window->until <= local_now_) {
            return closed_edge{true, *window->until};
        }
        if (window->from && local_now_ < *window->from) {
            return closed_edge{false, *window->from};
        }
        return std::nullopt;
    }

    // `until: 2026-08-31` is kept as the first instant after that day: said back as the user
    // wrote it. Any other time is said as the local time it is, and the zone with it.
    std::string edge_text(const closed_edge& e) const {
        auto day = date::floor<date::days>(e.at);
        std::string text = e.at != day ? "at " + date::format("%F %R", e.at)
                           : e.ended   ? "at the end of " + date::format("%F", day - date::days{1})
                                       : "on " + date::format("%F", day);
        return text + " (" + program_.time_zone->name() + ")";
    }

    // What a rule whose window has ended still does: only purchases and events dated inside
    // it, which reach the ledger late, earn from it; past the late-posting bound, none can.
    std::string after_end(date::local_seconds until) const {
        const auto& bound = program_.late_posting.max_days;
        if (!bound) {
            return "it earns only on purchases and events dated before then, posted late";
        }
        auto ended = program_.time_zone->to_sys(until, date::choose::earliest);
        std::string days = std::to_string(*bound) + (*bound == 1 ? " day" : " days");
        if (ended + date::days{*bound} <= now_) {
            return "it can earn nothing any more, as whatever is dated before then is more than " +
                   days + " late (late_posting.max_days)";
        }
        return "it earns only on purchases and events dated before then, posted late (at most " +
               days + ")";
    }

    void add(const std::string& path, std::string message) {
        // At an alias, as a load error there is: the rule it concerns, and where the text is.
        source_position at = doc_.value_position(path);
        if (auto alias = doc_.alias_use(path, false)) {
            message += alias_note(at);
            at = *alias;
        }
        notes_.push_back({doc_.file_name(), at, path, std::move(message)});
    }

    const program& program_;
    std::chrono::sys_seconds now_;
    date::local_seconds local_now_;
    source_document doc_;
    diagnostics notes_;
};

} // namespace

diagnostics schedule_notes(const program& p, std::string file_name, std::chrono::sys_seconds now) {
    note_writer w(p, std::move(file_name), now);
    for (std::size_t i = 0; i < p.earn.size(); ++i) {
        w.look_at(i, p.earn[i]);
    }
    for (std::size_t i = 0; i < p.rewards.size(); ++i) {
        w.look_at(i, p.rewards[i]);
    }
    return std::move(w).take();
}

} // namespace loyalty::program
