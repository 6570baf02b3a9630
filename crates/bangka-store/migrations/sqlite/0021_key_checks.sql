-- Several instances share one database (issue 15): each key file's check
-- value (an HMAC of a fixed text under the key) is recorded the first time
-- an instance starts with it, and an instance whose key differs refuses to
-- start instead of sealing cards no other instance can open.
CREATE TABLE key_checks (
    name TEXT PRIMARY KEY,
    check_value TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
