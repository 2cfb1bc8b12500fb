-- A member's audit trail is read by member (GET /v1/members/{member_id}/audit): adjustments,
-- profile changes and cancellations, newest first. Without this index each read scanned the
-- whole log.
CREATE INDEX audit_log_member ON audit_log (member_id, id) WHERE member_id IS NOT NULL;
