-- Holder sessions (issue 6): short-lived bearer tokens the wallet backend
-- opens for one account. Only the token's SHA-256 is stored. A session
-- names the device it was opened on; devices an account has used are
-- remembered, so a new one can be announced to the holder.
CREATE TABLE holder_sessions (
    id             TEXT PRIMARY KEY,
    account_id     TEXT NOT NULL REFERENCES accounts(id),
    token_hash     TEXT NOT NULL UNIQUE,
    wallet_key_id  TEXT NOT NULL,
    device_id      TEXT NOT NULL,
    client_ip      TEXT,
    created_at     BIGINT NOT NULL,
    expires_at     BIGINT NOT NULL,
    ended_at       BIGINT
);
CREATE INDEX holder_sessions_by_account ON holder_sessions (account_id, device_id);

CREATE TABLE devices (
    account_id     TEXT NOT NULL REFERENCES accounts(id),
    device_id      TEXT NOT NULL,
    name           TEXT,
    last_ip        TEXT,
    first_seen_at  BIGINT NOT NULL,
    last_seen_at   BIGINT NOT NULL,
    PRIMARY KEY (account_id, device_id)
);
