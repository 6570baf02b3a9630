-- Token 2.0 and payments (issue 4).

-- Each token has its own key (sealed under the master key like any value),
-- and a suspension records who made it and why.
ALTER TABLE tokens ADD COLUMN key_sealed BLOB;
ALTER TABLE tokens ADD COLUMN suspended_by TEXT;
ALTER TABLE tokens ADD COLUMN reason TEXT;
ALTER TABLE tokens ADD COLUMN updated_at BIGINT;

-- What a challenge guards (a binding) and a keyed hash of the payment it
-- confirms (amount, currency, merchant), so a code confirms one payment only.
ALTER TABLE challenges ADD COLUMN subject TEXT;
ALTER TABLE challenges ADD COLUMN context_mac TEXT;
CREATE INDEX challenges_by_subject ON challenges (subject, purpose, last_sent_at);

-- Cryptograms handed to the wallet. The value itself is not stored, only a
-- keyed hash to find it by; the fields are what it was computed over.
CREATE TABLE cryptograms (
    id           TEXT PRIMARY KEY,
    token_id     TEXT NOT NULL REFERENCES tokens(id),
    lookup       TEXT NOT NULL,
    atc          BIGINT NOT NULL,
    amount       BIGINT NOT NULL,
    currency     TEXT NOT NULL,
    merchant_id  TEXT NOT NULL,
    expires_at   BIGINT NOT NULL,
    created_at   BIGINT NOT NULL,
    used_at      BIGINT,
    CONSTRAINT cryptograms_token_atc UNIQUE (token_id, atc)
);
CREATE INDEX cryptograms_by_lookup ON cryptograms (token_id, lookup);

-- Payments. `decline_code` is the issuer's precise reason (operators only);
-- `shown_code` is what the payer was told.
CREATE TABLE payments (
    id             TEXT PRIMARY KEY,
    account_id     TEXT NOT NULL REFERENCES accounts(id),
    binding_id     TEXT NOT NULL REFERENCES bindings(id),
    token_id       TEXT NOT NULL REFERENCES tokens(id),
    cryptogram_id  TEXT NOT NULL REFERENCES cryptograms(id),
    created_by     TEXT NOT NULL,
    merchant_id    TEXT NOT NULL,
    currency       TEXT NOT NULL,
    amount         BIGINT NOT NULL,
    captured       BIGINT NOT NULL DEFAULT 0,
    refunded       BIGINT NOT NULL DEFAULT 0,
    status         TEXT NOT NULL,
    decline_code   TEXT,
    shown_code     TEXT,
    issuer_code    TEXT,
    created_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL
);
CREATE INDEX payments_by_binding ON payments (binding_id, created_at);

-- Each call to the issuer a payment needs, written before the call: a
-- crash leaves a pending row the payment job finishes (capture, refund,
-- calls idempotent at the issuer) or reverses (an authorization).
CREATE TABLE payment_ops (
    id          TEXT PRIMARY KEY,
    payment_id  TEXT NOT NULL REFERENCES payments(id),
    kind        TEXT NOT NULL,
    amount      BIGINT NOT NULL,
    status      TEXT NOT NULL,
    tries       BIGINT NOT NULL DEFAULT 0,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);
CREATE INDEX payment_ops_by_payment ON payment_ops (payment_id, created_at);
CREATE INDEX payment_ops_pending ON payment_ops (status, updated_at);

-- Operator actions (detokenization, suspensions on behalf of the bank or
-- risk control), with who, what and why.
CREATE TABLE audit_log (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    id          TEXT NOT NULL UNIQUE,
    actor       TEXT NOT NULL,
    action      TEXT NOT NULL,
    subject     TEXT NOT NULL,
    reason      TEXT,
    created_at  BIGINT NOT NULL
);
