-- One request, one unit of work: a claim is committed only with its answer,
-- or with its intent before a bank call. `resume` says how a retry finishes
-- such a request after a crash (the flow's own JSON) instead of running it
-- again.
ALTER TABLE idempotency ADD COLUMN resume TEXT;
