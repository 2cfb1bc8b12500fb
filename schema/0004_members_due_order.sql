-- Jobs list due members in (due_at, id) order, so a run where nobody is due reads no member
-- rows and a chunk reads only its own (the due_at-only index was never chosen).
DROP INDEX members_due;
CREATE INDEX members_due ON members (due_at, id) WHERE due_at IS NOT NULL;
