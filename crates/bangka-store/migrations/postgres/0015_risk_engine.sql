-- The risk engine (issue 6): attempts remember the card (keyed
-- fingerprint), device and client IP they came from, so velocity rules can
-- count per card, device and IP as well as per account. Locks on a card,
-- device or IP live in risk_locks (an account's lock stays on the account
-- row); every decision is recorded with the rule that fired.
ALTER TABLE attempts ADD COLUMN card_fp TEXT;
ALTER TABLE attempts ADD COLUMN device_id TEXT;
ALTER TABLE attempts ADD COLUMN client_ip TEXT;
CREATE INDEX attempts_by_account_time ON attempts (account_id, created_at);
CREATE INDEX attempts_by_card_time ON attempts (card_fp, created_at);
CREATE INDEX attempts_by_device_time ON attempts (device_id, created_at);
CREATE INDEX attempts_by_ip_time ON attempts (client_ip, created_at);

-- When support last lifted an account's lock: failures before it no longer count.
ALTER TABLE accounts ADD COLUMN risk_cleared_at BIGINT;

CREATE TABLE risk_locks (
    id              TEXT PRIMARY KEY,
    subject_kind    TEXT NOT NULL,
    subject         TEXT NOT NULL,
    account_id      TEXT NOT NULL,
    rule            TEXT NOT NULL,
    locked_until    BIGINT NOT NULL,
    created_at      BIGINT NOT NULL,
    released_at     BIGINT,
    released_by     TEXT
);
CREATE INDEX risk_locks_by_subject ON risk_locks (subject_kind, subject, locked_until);
CREATE INDEX risk_locks_by_account ON risk_locks (account_id, locked_until);

CREATE TABLE risk_decisions (
    id              TEXT PRIMARY KEY,
    rule            TEXT NOT NULL,
    subject_kind    TEXT NOT NULL,
    account_id      TEXT NOT NULL,
    attempt_id      TEXT,
    outcome         TEXT NOT NULL,
    count           BIGINT NOT NULL,
    locked_until    BIGINT,
    created_at      BIGINT NOT NULL
);
CREATE INDEX risk_decisions_by_account ON risk_decisions (account_id, created_at);
