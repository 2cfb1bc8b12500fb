-- A profile change is keyed by its change_id like an adjustment by its adjustment_id, but until
-- now only the idempotency keys remembered it, and they are forgotten after their retention (30
-- days by default): a correction retried later would be applied again, over any correction made
-- since. Each change id is now kept for good, as adjustments, returns and events are.
CREATE TABLE profile_changes (
    change_id TEXT PRIMARY KEY,
    member_id TEXT NOT NULL REFERENCES members (id),
    made_at   TEXT NOT NULL
) WITHOUT ROWID;

-- The changes made before this migration, from the audit log, where every one was recorded with
-- its request (which holds the change id).
INSERT INTO profile_changes (change_id, member_id, made_at)
    SELECT json_extract(detail, '$.change_id'), member_id, MIN(at)
    FROM audit_log
    WHERE action = 'profile_change' AND member_id IS NOT NULL
    GROUP BY json_extract(detail, '$.change_id');
