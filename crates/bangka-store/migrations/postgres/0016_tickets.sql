-- Support tickets (issue 6). The number is BK-YYYYMMDD-NNNNNN from a
-- per-day counter; the context (error, attempt, masked card, issuer,
-- diagnosis, device) is attached at creation so the holder has nothing to
-- gather. Events are the ticket's history (comments, escalations, unlocks,
-- resolution); every change is also in the audit log.
CREATE TABLE ticket_counters (
    day   TEXT PRIMARY KEY,
    last  BIGINT NOT NULL
);

CREATE TABLE tickets (
    number             TEXT PRIMARY KEY,
    account_id         TEXT NOT NULL REFERENCES accounts(id),
    category           TEXT NOT NULL,
    status             TEXT NOT NULL,
    attempt_id         TEXT,
    binding_id         TEXT,
    error_code         TEXT,
    note               TEXT,
    context            TEXT NOT NULL,
    sla_due_at         BIGINT NOT NULL,
    escalated_at       BIGINT,
    escalation_reason  TEXT,
    resolved_at        BIGINT,
    closed_at          BIGINT,
    created_at         BIGINT NOT NULL,
    updated_at         BIGINT NOT NULL
);
CREATE INDEX tickets_by_account ON tickets (account_id, created_at);
CREATE INDEX tickets_by_status_due ON tickets (status, sla_due_at);

CREATE TABLE ticket_events (
    id          TEXT PRIMARY KEY,
    number      TEXT NOT NULL REFERENCES tickets(number),
    seq         BIGINT NOT NULL,
    kind        TEXT NOT NULL,
    actor       TEXT NOT NULL,
    body        TEXT,
    created_at  BIGINT NOT NULL
);
CREATE UNIQUE INDEX ticket_events_by_ticket ON ticket_events (number, seq);
