-- Signed receipts: each the complete signed JSON document (masked card
-- facts only), written in the same transaction as its operation.
CREATE TABLE receipts (
    id          TEXT PRIMARY KEY,
    account_id  TEXT NOT NULL REFERENCES accounts(id),
    binding_id  TEXT,
    operation   TEXT NOT NULL,
    document    TEXT NOT NULL,
    -- The audit entry written with it: orders receipts as operations happened.
    audit_seq   BIGINT NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE INDEX receipts_by_account ON receipts (account_id, audit_seq);
