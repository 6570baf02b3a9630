-- API keys with a lifecycle, and test and live walled off (issue 24).
-- Every key belongs to a mode; the keys made before this migration were
-- made by `bangka keys create` or, on a demo server, by POST /v1/demo/keys,
-- and nothing tells the two apart: they are live keys (`bangka keys list`
-- shows them; revoke the ones a demo handed out). A key has a name, an
-- optional expiry, and the time it was last used (written at most once a
-- minute per instance). A rotated key names its successor.
ALTER TABLE api_keys ADD COLUMN mode TEXT NOT NULL DEFAULT 'live';
ALTER TABLE api_keys ADD COLUMN name TEXT;
ALTER TABLE api_keys ADD COLUMN expires_at BIGINT;
ALTER TABLE api_keys ADD COLUMN last_used_at BIGINT;
ALTER TABLE api_keys ADD COLUMN replaced_by TEXT;
-- The demo inbox shows test accounts' messages only from now on; what it
-- holds from before (any account's) goes.
DELETE FROM demo_inbox;
