-- A card frozen as lost or stolen is reported to its bank (issue 15). The
-- report is written down with the freeze, before the bank is told, and
-- stays `pending` until the bank confirms it: the job keeps telling the
-- bank (asking the card's state first) when the bank could not be reached
-- or its answer was lost. `confirmed`: the bank has it; `dropped`: the card
-- was deleted (its number shredded) before the bank could be told.
CREATE TABLE lost_reports (
    binding_id  TEXT PRIMARY KEY REFERENCES bindings(id),
    account_id  TEXT NOT NULL,
    status      TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    checked_at  BIGINT NOT NULL,
    ended_at    BIGINT
);
CREATE INDEX lost_reports_pending ON lost_reports (checked_at) WHERE status = 'pending';
