-- A purchase's cost is the pages it writes: each page it changes goes to the WAL and again to
-- the database at the checkpoint, and pages keyed by member land at random places in a large
-- file. Two structures did not earn their pages (docs/benchmarks.md, "pages per purchase"):
--
-- * `operations_member` was written by every operation and read by no query (the activity
--   reads ledger entries by member and joins operations by id).
-- * `lots` kept its rows in the order they were earned, so loading a member's open lots read
--   `lots_open`, then one table page per lot, and each new lot wrote the primary-key index and
--   `lots_open` as well as the table. Clustered by (member_id, lot_id), a member's lots sit
--   together: reading them is one range, a new lot changes one page, and a member's spent lots
--   are skipped within that range rather than through a partial index.
--
-- The migration runner switches foreign keys off around this (SQLite's twelve-step table
-- rebuild) and checks them before it commits.
DROP INDEX operations_member;

CREATE TABLE lots_clustered (
    member_id    TEXT NOT NULL REFERENCES members (id),
    lot_id       INTEGER NOT NULL,
    earned       INTEGER NOT NULL,
    remaining    INTEGER NOT NULL,
    earned_at    TEXT NOT NULL,
    available_at TEXT NOT NULL,
    expires_at   TEXT,
    cause        TEXT NOT NULL,
    qualifying   INTEGER NOT NULL CHECK (qualifying IN (0, 1)),
    matured      INTEGER NOT NULL CHECK (matured IN (0, 1)),
    PRIMARY KEY (member_id, lot_id)
) WITHOUT ROWID;
INSERT INTO lots_clustered (member_id, lot_id, earned, remaining, earned_at, available_at,
                            expires_at, cause, qualifying, matured)
    SELECT member_id, lot_id, earned, remaining, earned_at, available_at, expires_at, cause,
           qualifying, matured
    FROM lots ORDER BY member_id, lot_id;
DROP TABLE lots;
ALTER TABLE lots_clustered RENAME TO lots;
