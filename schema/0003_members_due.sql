-- When time next has work for each member (engine::next_due), so the jobs visit only those.
-- Existing members are due at once; their first visit sets the real time.
ALTER TABLE members ADD COLUMN due_at TEXT;
UPDATE members SET due_at = '0000-01-01T00:00:00Z';
CREATE INDEX members_due ON members (due_at) WHERE due_at IS NOT NULL;
