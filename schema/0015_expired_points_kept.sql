-- A return of a purchase whose points had expired took them again from the member's other points
-- (engine/returns.cpp): the closed lot kept no record of what had expired from it, so the return
-- could not tell expired points from spent ones. `expired` is what expired from the lot and no
-- return has yet set against what it takes back (engine::lot::expired_points). Lots closed before
-- this migration get it from their `expire` entries: one pass over the ledger entries (20 s on
-- the benchmark's file of 1,000,000 members and 1.7 million entries, read from disk).
ALTER TABLE lots ADD COLUMN expired INTEGER NOT NULL DEFAULT 0;
UPDATE lots SET expired = x.points
    FROM (SELECT member_id, lot_id, -SUM(points) AS points FROM ledger_entries
          WHERE kind = 'expire' AND lot_id IS NOT NULL GROUP BY member_id, lot_id) AS x
    WHERE x.member_id = lots.member_id AND x.lot_id = lots.lot_id;
