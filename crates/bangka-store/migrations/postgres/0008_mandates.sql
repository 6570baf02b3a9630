-- Autopay agreements. `failure_code` says why a setup failed (status
-- `failed`: such an agreement was never active).
CREATE TABLE mandates (
    id            TEXT PRIMARY KEY,
    account_id    TEXT NOT NULL REFERENCES accounts(id),
    binding_id    TEXT NOT NULL REFERENCES bindings(id),
    merchant_id   TEXT NOT NULL,
    kind          TEXT NOT NULL,
    max_amount    BIGINT NOT NULL,
    currency      TEXT NOT NULL,
    status        TEXT NOT NULL,
    failure_code  TEXT,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL,
    activated_at  BIGINT,
    revoked_at    BIGINT
);
CREATE INDEX mandates_by_account ON mandates (account_id, created_at);
-- One standing agreement per card and merchant.
CREATE UNIQUE INDEX mandates_one_standing ON mandates (binding_id, merchant_id) WHERE status IN ('pending','active','suspended');
