-- A purchase changes one page at a random place in the file: the member's row. Everything else
-- it writes is appended. (docs/ledger.md, "What a write touches"; docs/benchmarks.md has the
-- measurements.) Before this migration a purchase also changed, at random places, the page of
-- the member's lots, its entry in `ledger_entries_member` and its entry in `members_due`, and
-- read two pages to find the member (the id index, then the row). Each page changed costs a
-- write to the log, a copy at the checkpoint and its share of the fsyncs; on the benchmark's
-- machine about 40 µs, against about 80 µs for everything else SQLite does for a purchase.
--
-- * `members.state` becomes a binary record (src/ledger/member_record.hpp) holding the member's
--   open lots besides the rest of its working state; `lots` keeps the closed ones (nothing left
--   to spend). The record's encoding is C++: the program's step copy_members_into_records fills
--   the new table, member by member in id order so its pages come out full, and moves the open
--   lots out of `lots`. The table keeps its rowid: a member's row is ~230 bytes, and a table
--   clustered by id (WITHOUT ROWID) keeps whole rows in its interior pages, 16 to a page, so its
--   upper levels (38 MB for a million members) did not stay in the page cache and every lookup
--   read three more pages.
-- * The ledger entries of a member are chained (`previous_id`, and `members.last_entry_id` for
--   the newest) instead of indexed by member: a member's history is read by following the
--   chain, and an entry is only ever appended.
-- * The jobs find due members through `due_queue`, appended to in time order, instead of an
--   index on `members.due_at` that a moving due time changed at a random place. A member has one
--   live queue entry (`due_entry`, due at `due_entry_at`); entries it left behind when its due
--   time moved earlier are dropped when the jobs reach them.
-- * An idempotency record no longer keeps a second copy of the answer: it is the operation's
--   outcome (`response` stays for answers that are not, and is null otherwise).

CREATE TABLE members_v6 (
    id               TEXT PRIMARY KEY,
    name             TEXT,
    email            TEXT,
    enrolled_at      TEXT NOT NULL,
    tier             TEXT NOT NULL,
    tier_since       TEXT NOT NULL,
    tier_valid_until TEXT,
    state            BLOB NOT NULL,  -- member_record.hpp, format 1
    revision         INTEGER NOT NULL DEFAULT 0,
    updated_at       TEXT NOT NULL,
    due_at           TEXT,     -- when time next has work for the member (engine::next_due)
    due_entry        INTEGER,  -- the due_queue row that brings the jobs here, at due_entry_at
    due_entry_at     TEXT,
    last_entry_id    INTEGER   -- the member's newest ledger entry
);
-- step: copy_members_into_records
DROP TABLE members;
ALTER TABLE members_v6 RENAME TO members;

CREATE TABLE due_queue (
    id        INTEGER PRIMARY KEY,
    due_at    TEXT NOT NULL,
    member_id TEXT NOT NULL REFERENCES members (id)
);
CREATE INDEX due_queue_order ON due_queue (due_at);
INSERT INTO due_queue (due_at, member_id)
    SELECT due_at, id FROM members WHERE due_at IS NOT NULL ORDER BY due_at, id;
UPDATE members SET due_entry = q.id, due_entry_at = q.due_at
    FROM (SELECT id, due_at, member_id FROM due_queue) AS q WHERE q.member_id = members.id;

CREATE TABLE ledger_entries_v6 (
    id           INTEGER PRIMARY KEY,
    member_id    TEXT NOT NULL REFERENCES members (id),
    operation_id INTEGER NOT NULL REFERENCES operations (id),
    previous_id  INTEGER,  -- the member's entry before this one; null for its first
    at           TEXT NOT NULL,
    kind         TEXT NOT NULL CHECK (kind IN ('earn', 'mature', 'burn', 'expire', 'reverse', 'adjust')),
    points       INTEGER NOT NULL,
    lot_id       INTEGER,  -- the member's lot credited or drawn from (open in the member's
                           -- record, or closed in `lots`); null when none
    pending      INTEGER NOT NULL DEFAULT 0 CHECK (pending IN (0, 1)),
    cause        TEXT NOT NULL,
    explanation  TEXT NOT NULL
);
INSERT INTO ledger_entries_v6 (id, member_id, operation_id, previous_id, at, kind, points, lot_id,
                               pending, cause, explanation)
    SELECT id, member_id, operation_id,
           (SELECT MAX(p.id) FROM ledger_entries p WHERE p.member_id = e.member_id AND p.id < e.id),
           at, kind, points, lot_id, pending, cause, explanation
    FROM ledger_entries e ORDER BY id;
DROP TABLE ledger_entries;
ALTER TABLE ledger_entries_v6 RENAME TO ledger_entries;
CREATE INDEX ledger_entries_operation ON ledger_entries (operation_id);

CREATE TABLE idempotency_keys_v6 (
    key          TEXT PRIMARY KEY,  -- "<scope> <client key or natural key>"
    request_hash TEXT NOT NULL,     -- sha256 of the canonical request
    status       INTEGER NOT NULL,  -- 201, 200
    response     TEXT,              -- null: the answer is the operation's outcome
    operation_id INTEGER REFERENCES operations (id),
    created_at   TEXT NOT NULL,
    CHECK (response IS NOT NULL OR operation_id IS NOT NULL)
) WITHOUT ROWID;
INSERT INTO idempotency_keys_v6 (key, request_hash, status, response, operation_id, created_at)
    SELECT k.key, k.request_hash, k.status,
           CASE WHEN o.outcome IS k.response THEN NULL ELSE k.response END,
           k.operation_id, k.created_at
    FROM idempotency_keys k LEFT JOIN operations o ON o.id = k.operation_id ORDER BY k.key;
DROP TABLE idempotency_keys;
ALTER TABLE idempotency_keys_v6 RENAME TO idempotency_keys;
CREATE INDEX idempotency_keys_age ON idempotency_keys (created_at);
