-- Maintenance windows and announcements scheduled by an admin (issue 6):
-- for one issuer, or (issuer NULL) the whole platform. Requests that need
-- an issuer in maintenance fail fast with the window's end as retry_after.
CREATE TABLE maintenance_windows (
    id            TEXT PRIMARY KEY,
    issuer        TEXT,
    starts_at     BIGINT NOT NULL,
    ends_at       BIGINT NOT NULL,
    message_zh    TEXT NOT NULL,
    message_en    TEXT NOT NULL,
    created_by    TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    cancelled_at  BIGINT
);
CREATE INDEX maintenance_by_end ON maintenance_windows (ends_at);
CREATE INDEX attempts_by_kind_time ON attempts (kind, created_at);
-- The payment job looks for holds past their expiry every ten seconds.
CREATE INDEX payments_by_status ON payments (status, created_at);
