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

-- An activation is written down as `activating` before the bank is asked
-- to activate (issue 15); `asked_bank_at` is when `activate` was last sent.
-- The job that settles an activation whose answer was lost calls it failed
-- only once no order sent then can still arrive at the bank.
ALTER TABLE activations ADD COLUMN asked_bank_at BIGINT;
CREATE INDEX activations_activating ON activations (updated_at) WHERE status = 'activating';
