#include "loyalty/program/schedule_notes.hpp"

#include "loyalty/program/source_document.hpp"

#include <date/date.h>

namespace loyalty::program {

namespace {

// `until: 2026-08-31` is kept as the first instant after that day: said back as the user wrote
// it. Any other time is said as the local time it is.
std::string window_edge_text(date::local_seconds t, bool is_end) {
    auto day = date::floor<date::days>(t);
    if (t == day) {
        return is_end ? "at the end of " + date::format("%F", day - date::days{1})
                      : "on " + date::format("%F", day);
    }
    return "at " + date::format("%F %R", t);
}

class note_writer {
public:
    note_writer(const program& p, std::string file_name, std::chrono::sys_seconds now)
        : program_(p), now_(now), local_now_(p.time_zone->to_local(now)),
          doc_(read_again(p, std::move(file_name))) {}

    void look_at(std::size_t index, const earn_rule& r) {
        if (!r.active) {
            return;
        }
        std::string path = append_index("earn", index) + ".active";
        if (r.active->until && *r.active->until <= local_now_) {
            add(path + ".until",
                "earn rule " + r.id + " ended " + window_edge_text(*r.active->until, true) + " (" +
                    program_.time_zone->name() + "): " + after_end(*r.active->until));
        } else if (r.active->from && local_now_ < *r.active->from) {
            add(path + ".from",
                "earn rule " + r.id + " starts " + window_edge_text(*r.active->from, false) + " (" +
                    program_.time_zone->name() +
                    "): purchases and events dated before then earn nothing from it");
        }
    }

    void look_at(std::size_t index, const reward& r) {
        if (!r.active) {
            return;
        }
        std::string path = append_index("rewards", index) + ".active";
        if (r.active->until && *r.active->until <= local_now_) {
            add(path + ".until", "reward " + r.id +
                                     " can no longer be redeemed: its window ended " +
                                     window_edge_text(*r.active->until, true) + " (" +
                                     program_.time_zone->name() + ")");
        } else if (r.active->from && local_now_ < *r.active->from) {
            add(path + ".from", "reward " + r.id + " cannot be redeemed before its window opens " +
                                    window_edge_text(*r.active->from, false) + " (" +
                                    program_.time_zone->name() + ")");
        }
    }

    diagnostics take() && { return std::move(notes_); }

private:
    // Only for the positions: the text loaded once already, there is nothing new to find.
    static source_document read_again(const program& p, std::string file_name) {
        diagnostics ignored;
        return source_document::parse(p.source_text(), std::move(file_name), ignored);
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
        source_position at = doc_.alias_use(path, false).value_or(doc_.value_position(path));
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
