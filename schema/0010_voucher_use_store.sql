-- A used voucher keeps the store whose till used it, beside the time and the purchase (migration
-- 7): a purchase id alone does not name a purchase (purchases are keyed by store and
-- transaction), and support is asked "where was my free drink used?". The store is the use's
-- `store_id`, or the store its point-of-sale key is bound to; uses before this migration named
-- none, so their vouchers keep null.
ALTER TABLE vouchers ADD COLUMN used_store_id TEXT;
