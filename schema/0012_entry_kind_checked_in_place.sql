-- An entry's kind was checked with `kind IN ('earn', 'mature', 'burn', 'expire', 'reverse',
-- 'adjust')`. SQLite evaluates an IN list of more than two constants through a transient index
-- that it builds again each time the statement runs, so every ledger entry inserted opened,
-- filled and closed a b-tree of its own: 60k of the 740k instructions of a purchase (three to
-- five entries each; docs/benchmarks.md, round of 2026-12-06). The same rule written as
-- comparisons joined by OR is evaluated in place. SQLite cannot change a CHECK constraint, so the
-- table is rebuilt as in migration 6, with the same rows, ids and index.
CREATE TABLE ledger_entries_v12 (
    id           INTEGER PRIMARY KEY,
    member_id    TEXT NOT NULL REFERENCES members (id),
    operation_id INTEGER NOT NULL REFERENCES operations (id),
    previous_id  INTEGER,  -- the member's entry before this one; null for its first
    at           TEXT NOT NULL,
    kind         TEXT NOT NULL CHECK (kind = 'earn' OR kind = 'mature' OR kind = 'burn' OR
                                      kind = 'expire' OR kind = 'reverse' OR kind = 'adjust'),
    points       INTEGER NOT NULL,
    lot_id       INTEGER,  -- the member's lot credited or drawn from (open in the member's
                           -- record, or closed in `lots`); null when none
    pending      INTEGER NOT NULL DEFAULT 0 CHECK (pending IN (0, 1)),
    cause        TEXT NOT NULL,
    explanation  TEXT NOT NULL
);
INSERT INTO ledger_entries_v12 (id, member_id, operation_id, previous_id, at, kind, points,
                                lot_id, pending, cause, explanation)
    SELECT id, member_id, operation_id, previous_id, at, kind, points, lot_id, pending, cause,
           explanation
    FROM ledger_entries ORDER BY id;
DROP TABLE ledger_entries;
ALTER TABLE ledger_entries_v12 RENAME TO ledger_entries;
CREATE INDEX ledger_entries_operation ON ledger_entries (operation_id);
