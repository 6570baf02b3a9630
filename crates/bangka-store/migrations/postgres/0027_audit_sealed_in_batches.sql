-- The audit chain is sealed in batches (issue 25): a unit of work inserts
-- its entry with the hash of its own content (leaf_hash) and takes no lock
-- on a shared row (audit_head was one every audited write of every
-- instance waited on); a background sealer gives entries their place in the
-- chain (seq), their predecessor's hash and their chain hash, in order, many
-- at a time. pos is the order entries were written in; seq stays NULL until
-- the entry is sealed. Entries chained before keep their number and hashes;
-- any never chained (from before migration 0005) are sealed at the next start.
ALTER TABLE audit_log DROP CONSTRAINT audit_log_pkey;
ALTER TABLE audit_log RENAME COLUMN seq TO pos;
ALTER TABLE audit_log ADD PRIMARY KEY (pos);
-- Entries used to be numbered by audit_head, never by the column's sequence.
SELECT setval(pg_get_serial_sequence('audit_log', 'pos'), COALESCE(MAX(pos), 0) + 1, false) FROM audit_log;
ALTER TABLE audit_log ADD COLUMN seq BIGINT UNIQUE;
ALTER TABLE audit_log ADD COLUMN leaf_hash TEXT;
UPDATE audit_log SET seq = pos WHERE hash IS NOT NULL;
DROP INDEX audit_log_by_subject;
CREATE INDEX audit_log_by_subject ON audit_log (subject, pos);
CREATE INDEX audit_log_unsealed ON audit_log (pos) WHERE seq IS NULL;
