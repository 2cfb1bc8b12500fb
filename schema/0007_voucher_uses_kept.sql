-- A used voucher keeps when it was used and on which purchase, so support can tell a member what
-- became of it (GET /v1/members/{member_id}/vouchers and the console's voucher history). Until
-- now a used voucher kept only its mark; the time and the purchase were in its use's operation.
--
-- Vouchers used before this migration get both from that operation (kind `voucher_use`, whose
-- request names the voucher and the purchase, and whose time is the use's). The operations have
-- no index by kind, so the step reads them only when some voucher is marked used.
ALTER TABLE vouchers ADD COLUMN used_at TEXT;
ALTER TABLE vouchers ADD COLUMN used_transaction_id TEXT; -- null when the use named no purchase
-- step: record_voucher_uses
