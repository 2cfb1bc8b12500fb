-- The ledger: members, program versions, every write with its request and outcome, the
-- append-only movements of points, lots, vouchers, redemptions, idempotency and the audit log.
-- Times are RFC 3339 UTC text ("2026-11-24T15:00:00Z"), which sorts as time does. Points and
-- money are integers. docs/ledger.md explains the tables and the invariants `loyalty verify`
-- checks.

CREATE TABLE program_versions (
    id           INTEGER PRIMARY KEY,
    content_hash TEXT NOT NULL UNIQUE,  -- sha256 of the file as uploaded
    name         TEXT NOT NULL,         -- the program's name
    format       TEXT NOT NULL CHECK (format IN ('yaml', 'json')),
    source       TEXT NOT NULL,         -- the full text, so any outcome can be explained later
    created_at   TEXT NOT NULL,
    activated_at TEXT,                  -- null until activated
    activated_by TEXT                   -- API key id or "cli"
);

CREATE TABLE members (
    id               TEXT PRIMARY KEY,
    name             TEXT,
    email            TEXT,
    enrolled_at      TEXT NOT NULL,
    tier             TEXT NOT NULL,
    tier_since       TEXT NOT NULL,
    tier_valid_until TEXT,
    -- The engine's member state without lots, purchases and redemptions (state_json.hpp), which
    -- live in their own tables; `revision` counts the writes applied to the member.
    state            TEXT NOT NULL,
    revision         INTEGER NOT NULL DEFAULT 0,
    updated_at       TEXT NOT NULL
);

-- Every accepted write: the request as posted, the outcome as answered, the version of the
-- program that produced it and who asked.
CREATE TABLE operations (
    id                 INTEGER PRIMARY KEY,
    kind               TEXT NOT NULL,  -- enrollment, purchase, return, event, redemption, ...
    member_id          TEXT REFERENCES members (id),
    program_version_id INTEGER REFERENCES program_versions (id),
    request            TEXT NOT NULL,
    outcome            TEXT NOT NULL,
    actor              TEXT NOT NULL,  -- API key id, "cli" or "jobs"
    request_id         TEXT,
    created_at         TEXT NOT NULL
);
CREATE INDEX operations_member ON operations (member_id, id);

-- Append-only: the available + pending balance of a member is the sum of its entries.
CREATE TABLE ledger_entries (
    id           INTEGER PRIMARY KEY,
    member_id    TEXT NOT NULL REFERENCES members (id),
    operation_id INTEGER NOT NULL REFERENCES operations (id),
    at           TEXT NOT NULL,
    kind         TEXT NOT NULL CHECK (kind IN ('earn', 'mature', 'burn', 'expire', 'reverse', 'adjust')),
    points       INTEGER NOT NULL,
    lot_id       INTEGER,  -- the member's lot credited or drawn from; null when none
    pending      INTEGER NOT NULL DEFAULT 0 CHECK (pending IN (0, 1)),
    cause        TEXT NOT NULL,
    explanation  TEXT NOT NULL,
    FOREIGN KEY (member_id, lot_id) REFERENCES lots (member_id, lot_id)
);
CREATE INDEX ledger_entries_member ON ledger_entries (member_id, id);

CREATE TABLE lots (
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
);
-- The lots a member can still spend or that are still due to mature or expire.
CREATE INDEX lots_open ON lots (member_id) WHERE remaining <> 0;

-- A purchase is unique per store; `record` holds the per-line allocation that returns reverse.
CREATE TABLE purchases (
    store_id       TEXT NOT NULL,
    transaction_id TEXT NOT NULL,
    member_id      TEXT NOT NULL REFERENCES members (id),
    operation_id   INTEGER NOT NULL REFERENCES operations (id),
    occurred_at    TEXT NOT NULL,
    record         TEXT NOT NULL,
    PRIMARY KEY (store_id, transaction_id)
);
CREATE INDEX purchases_transaction ON purchases (transaction_id);

CREATE TABLE returns (
    return_id      TEXT PRIMARY KEY,
    store_id       TEXT NOT NULL,
    transaction_id TEXT NOT NULL,
    member_id      TEXT NOT NULL REFERENCES members (id),
    operation_id   INTEGER NOT NULL REFERENCES operations (id),
    FOREIGN KEY (store_id, transaction_id) REFERENCES purchases (store_id, transaction_id)
);

CREATE TABLE events (
    event_id     TEXT PRIMARY KEY,
    member_id    TEXT NOT NULL REFERENCES members (id),
    type         TEXT NOT NULL,
    operation_id INTEGER NOT NULL REFERENCES operations (id)
);

CREATE TABLE redemptions (
    redemption_id TEXT PRIMARY KEY,
    member_id     TEXT NOT NULL REFERENCES members (id),
    reward_id     TEXT,     -- null for points as payment
    points        INTEGER NOT NULL,
    cancelled     INTEGER NOT NULL DEFAULT 0 CHECK (cancelled IN (0, 1)),
    operation_id  INTEGER NOT NULL REFERENCES operations (id),
    record        TEXT NOT NULL
);

CREATE TABLE vouchers (
    id          TEXT PRIMARY KEY,
    member_id   TEXT NOT NULL REFERENCES members (id),
    reward_id   TEXT NOT NULL,
    issued_at   TEXT NOT NULL,
    valid_until TEXT NOT NULL,
    cause       TEXT NOT NULL,
    redeemed    INTEGER NOT NULL DEFAULT 0 CHECK (redeemed IN (0, 1)),
    cancelled   INTEGER NOT NULL DEFAULT 0 CHECK (cancelled IN (0, 1)),
    -- A voucher is used at most once and a cancelled one never.
    CHECK (NOT (redeemed = 1 AND cancelled = 1))
);
CREATE INDEX vouchers_member ON vouchers (member_id);

CREATE TABLE adjustments (
    adjustment_id TEXT PRIMARY KEY,
    member_id     TEXT NOT NULL REFERENCES members (id),
    points        INTEGER NOT NULL,
    reason        TEXT NOT NULL,
    note          TEXT NOT NULL,
    actor         TEXT NOT NULL,
    operation_id  INTEGER NOT NULL REFERENCES operations (id)
);

CREATE TABLE tier_history (
    id           INTEGER PRIMARY KEY,
    member_id    TEXT NOT NULL REFERENCES members (id),
    at           TEXT NOT NULL,
    tier_before  TEXT,
    tier_after   TEXT NOT NULL,
    metric       INTEGER NOT NULL,
    operation_id INTEGER NOT NULL REFERENCES operations (id)
);
CREATE INDEX tier_history_member ON tier_history (member_id, id);

-- Program-wide budgets of rules, shared by every member.
CREATE TABLE rule_budgets (
    rule_id     TEXT PRIMARY KEY,
    points_used INTEGER NOT NULL
);

-- A retried write answers what it answered the first time, byte for byte.
CREATE TABLE idempotency_keys (
    key          TEXT PRIMARY KEY,  -- "<scope> <client key or natural key>"
    request_hash TEXT NOT NULL,     -- sha256 of the canonical request
    status       INTEGER NOT NULL,  -- 201, 200
    response     TEXT NOT NULL,
    operation_id INTEGER REFERENCES operations (id),
    created_at   TEXT NOT NULL
);
CREATE INDEX idempotency_keys_age ON idempotency_keys (created_at);

CREATE TABLE api_keys (
    id         TEXT PRIMARY KEY,        -- shown in logs and the audit log; not a secret
    key_hash   TEXT NOT NULL UNIQUE,    -- sha256 of the secret; the secret is never stored
    role       TEXT NOT NULL CHECK (role IN ('pos', 'support', 'admin')),
    store_id   TEXT,
    name       TEXT NOT NULL,
    created_at TEXT NOT NULL,
    revoked_at TEXT
);

CREATE TABLE audit_log (
    id        INTEGER PRIMARY KEY,
    at        TEXT NOT NULL,
    actor     TEXT NOT NULL,
    role      TEXT NOT NULL,
    action    TEXT NOT NULL,
    member_id TEXT,
    reason    TEXT,
    detail    TEXT NOT NULL
);
