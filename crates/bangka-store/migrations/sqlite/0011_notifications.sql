-- Notifications: the holder's language and optional email; outbox rows per
-- channel (sms, push, email) with retries, backoff and expiry.
ALTER TABLE accounts ADD COLUMN language TEXT NOT NULL DEFAULT 'zh-CN';
ALTER TABLE accounts ADD COLUMN email TEXT;
ALTER TABLE outbox ADD COLUMN account_id TEXT;
ALTER TABLE outbox ADD COLUMN kind TEXT NOT NULL DEFAULT 'notice';
ALTER TABLE outbox ADD COLUMN expires_at BIGINT;
ALTER TABLE outbox ADD COLUMN next_attempt_at BIGINT;
ALTER TABLE outbox ADD COLUMN claimed_until BIGINT;
ALTER TABLE outbox ADD COLUMN last_error TEXT;
ALTER TABLE outbox ADD COLUMN ended_at BIGINT;
ALTER TABLE outbox ADD COLUMN end_reason TEXT;
ALTER TABLE demo_inbox ADD COLUMN channel TEXT NOT NULL DEFAULT 'sms';
CREATE INDEX outbox_due ON outbox (delivered_at, ended_at, next_attempt_at);
