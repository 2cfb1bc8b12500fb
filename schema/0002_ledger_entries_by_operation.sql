-- `loyalty verify` compares each operation's entries with its answer; without this index that
-- check scanned the whole ledger once per operation.
CREATE INDEX ledger_entries_operation ON ledger_entries (operation_id);
