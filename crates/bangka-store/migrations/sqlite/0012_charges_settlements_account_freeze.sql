-- Mandate charges, merchant-bound keys, funds in transit, account freeze.

-- A merchant key may be bound to one merchant id: only such a key can
-- charge that merchant's autopay agreements, and its payments must name it.
ALTER TABLE api_keys ADD COLUMN merchant_id TEXT;

-- A payment taken on an autopay agreement (its cryptogram was computed by
-- Bangka under the agreement, not confirmed by the holder each time).
ALTER TABLE payments ADD COLUMN mandate_id TEXT REFERENCES mandates(id);
CREATE INDEX payments_by_mandate ON payments (mandate_id, created_at);

-- The whole account frozen by the holder (unknown transactions, seed 001):
-- nothing pays, binds or unbinds until it is unfrozen with strong
-- verification.
ALTER TABLE accounts ADD COLUMN frozen_reason TEXT;
ALTER TABLE accounts ADD COLUMN frozen_at BIGINT;

-- Funds in transit to a card: a refund the bank confirmed, or a withdrawal
-- of wallet balance the wallet reported. Unbinding waits until they settle.
CREATE TABLE settlements (
    id           TEXT PRIMARY KEY,
    account_id   TEXT NOT NULL REFERENCES accounts(id),
    binding_id   TEXT NOT NULL REFERENCES bindings(id),
    kind         TEXT NOT NULL,
    payment_id   TEXT REFERENCES payments(id),
    op_id        TEXT UNIQUE,
    amount       BIGINT NOT NULL,
    currency     TEXT NOT NULL,
    status       TEXT NOT NULL,
    expected_at  BIGINT NOT NULL,
    settled_at   BIGINT,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL
);
CREATE INDEX settlements_by_binding ON settlements (binding_id, status);
CREATE INDEX settlements_due ON settlements (status, expected_at);
