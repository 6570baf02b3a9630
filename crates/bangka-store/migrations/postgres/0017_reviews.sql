-- Manual review (issue 6): a holder sends materials (references to
-- documents the wallet stored) for a risk lock, a held bind, an unbind
-- stopped by a lock, or a real-name change; a risk reviewer decides once.
-- A real-name change's requested name and ID are sealed like the KYC
-- fields and erased when the review is decided.
CREATE TABLE reviews (
    id              TEXT PRIMARY KEY,
    account_id      TEXT NOT NULL REFERENCES accounts(id),
    kind            TEXT NOT NULL,
    status          TEXT NOT NULL,
    statement       TEXT NOT NULL,
    materials       TEXT NOT NULL,
    attempt_id      TEXT,
    binding_id      TEXT,
    card_fp         TEXT,
    name_enc        BYTEA,
    id_enc          BYTEA,
    decided_by      TEXT,
    decision_reason TEXT,
    decided_at      BIGINT,
    created_at      BIGINT NOT NULL
);
CREATE INDEX reviews_by_account ON reviews (account_id, created_at);
CREATE INDEX reviews_by_status ON reviews (status, created_at);
-- One review of a kind waiting per account.
CREATE UNIQUE INDEX reviews_one_pending ON reviews (account_id, kind) WHERE status = 'submitted';
