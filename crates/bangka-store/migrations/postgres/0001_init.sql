-- Bangka schema v1 (PostgreSQL). Times are Unix milliseconds (UTC).
CREATE TABLE accounts (
    id            TEXT PRIMARY KEY,
    phone         TEXT NOT NULL,
    kyc_status    TEXT NOT NULL,
    kyc_name_mac  TEXT,
    kyc_id_mac    TEXT,
    kyc_name_enc  BYTEA,
    kyc_id_enc    BYTEA,
    status        TEXT NOT NULL,
    locked_until  BIGINT,
    version       BIGINT NOT NULL DEFAULT 0,
    created_at    BIGINT NOT NULL,
    CONSTRAINT accounts_phone_key UNIQUE (phone)
);

CREATE TABLE api_keys (
    id          TEXT PRIMARY KEY,
    role        TEXT NOT NULL,
    key_hash    TEXT NOT NULL UNIQUE,
    created_at  BIGINT NOT NULL,
    revoked_at  BIGINT
);

CREATE TABLE vault_cards (
    id           TEXT PRIMARY KEY,
    fingerprint  TEXT NOT NULL,
    key_version  BIGINT NOT NULL,
    wrapped_dek  BYTEA,
    dek_nonce    BYTEA,
    pan_ct       BYTEA,
    pan_nonce    BYTEA,
    created_at   BIGINT NOT NULL,
    shredded_at  BIGINT
);

CREATE TABLE challenges (
    id            TEXT PRIMARY KEY,
    purpose       TEXT NOT NULL,
    phone         TEXT NOT NULL,
    code_mac      BYTEA NOT NULL,
    expires_at    BIGINT NOT NULL,
    attempts      BIGINT NOT NULL DEFAULT 0,
    sends         BIGINT NOT NULL DEFAULT 1,
    last_sent_at  BIGINT NOT NULL,
    passed_at     BIGINT
);

CREATE TABLE bindings (
    id            TEXT PRIMARY KEY,
    account_id    TEXT NOT NULL REFERENCES accounts(id),
    fingerprint   TEXT NOT NULL,
    vault_id      TEXT REFERENCES vault_cards(id),
    bin           TEXT NOT NULL,
    last4         TEXT NOT NULL,
    brand         TEXT NOT NULL,
    card_type     TEXT NOT NULL,
    issuer        TEXT NOT NULL,
    expiry        TEXT,
    phone         TEXT NOT NULL,
    elements_mac  TEXT NOT NULL,
    status        TEXT NOT NULL,
    challenge_id  TEXT REFERENCES challenges(id),
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL,
    activated_at  BIGINT
);
CREATE UNIQUE INDEX bindings_one_live_card ON bindings (account_id, fingerprint) WHERE status IN ('active','frozen','unbinding');
CREATE UNIQUE INDEX bindings_one_pending_card ON bindings (account_id, fingerprint) WHERE status = 'pending_verification';
CREATE INDEX bindings_by_account ON bindings (account_id, created_at);

CREATE TABLE tokens (
    id          TEXT PRIMARY KEY,
    binding_id  TEXT NOT NULL REFERENCES bindings(id),
    number      TEXT NOT NULL,
    status      TEXT NOT NULL,
    domain      TEXT NOT NULL,
    atc         BIGINT NOT NULL DEFAULT 0,
    created_at  BIGINT NOT NULL,
    CONSTRAINT tokens_number_key UNIQUE (number)
);
CREATE INDEX tokens_by_binding ON tokens (binding_id);

CREATE TABLE activations (
    id            TEXT PRIMARY KEY,
    account_id    TEXT NOT NULL REFERENCES accounts(id),
    vault_id      TEXT REFERENCES vault_cards(id),
    issuer        TEXT NOT NULL,
    bin           TEXT NOT NULL,
    last4         TEXT NOT NULL,
    status        TEXT NOT NULL,
    challenge_id  TEXT NOT NULL REFERENCES challenges(id),
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL
);

CREATE TABLE attempts (
    id          TEXT PRIMARY KEY,
    account_id  TEXT NOT NULL,
    kind        TEXT NOT NULL,
    binding_id  TEXT,
    issuer      TEXT,
    bin         TEXT,
    last4       TEXT,
    code        TEXT,
    created_at  BIGINT NOT NULL
);
CREATE INDEX attempts_by_account ON attempts (account_id, created_at);

CREATE TABLE outbox (
    id            TEXT PRIMARY KEY,
    channel       TEXT NOT NULL,
    recipient     TEXT NOT NULL,
    body          TEXT,
    created_at    BIGINT NOT NULL,
    delivered_at  BIGINT,
    tries         BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX outbox_undelivered ON outbox (delivered_at, created_at);

CREATE TABLE demo_inbox (
    seq          BIGSERIAL PRIMARY KEY,
    id           TEXT NOT NULL UNIQUE,
    phone        TEXT NOT NULL,
    body         TEXT NOT NULL,
    received_at  BIGINT NOT NULL
);
CREATE INDEX demo_inbox_by_phone ON demo_inbox (phone, seq);

CREATE TABLE idempotency (
    scope         TEXT NOT NULL,
    idem_key      TEXT NOT NULL,
    request_hash  TEXT NOT NULL,
    status_code   BIGINT,
    response      TEXT,
    created_at    BIGINT NOT NULL,
    PRIMARY KEY (scope, idem_key)
);
