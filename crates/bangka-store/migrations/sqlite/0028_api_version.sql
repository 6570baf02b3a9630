-- Each API key is pinned to a dated API version (issue 26). Keys made
-- before versions existed keep the answers they were built against.
ALTER TABLE api_keys ADD COLUMN api_version TEXT NOT NULL DEFAULT '2026-11-01';
