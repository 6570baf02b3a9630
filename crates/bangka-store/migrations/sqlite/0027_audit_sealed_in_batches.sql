-- The audit chain is sealed in batches (issue 25): a unit of work inserts
-- its entry with the hash of its own content (leaf_hash) and takes no lock
-- on a shared row; a background sealer gives entries their place in the
-- chain (seq), their predecessor's hash and their chain hash, in order, many
-- at a time. pos is the order entries were written in; seq stays NULL until
-- the entry is sealed. Entries chained before keep their number and hashes;
-- any never chained (from before migration 0005) are sealed at the next start.
CREATE TABLE audit_log_sealed (
    pos          INTEGER PRIMARY KEY AUTOINCREMENT,
    seq          BIGINT UNIQUE,
    id           TEXT NOT NULL UNIQUE,
    actor        TEXT NOT NULL,
    origin       TEXT,
    action       TEXT NOT NULL,
    subject      TEXT NOT NULL,
    before_state TEXT,
    after_state  TEXT,
    reason       TEXT,
    created_at   BIGINT NOT NULL,
    leaf_hash    TEXT,
    prev_hash    TEXT,
    hash         TEXT
);
INSERT INTO audit_log_sealed (pos, seq, id, actor, origin, action, subject, before_state, after_state, reason, created_at, prev_hash, hash)
    SELECT seq, CASE WHEN hash IS NULL THEN NULL ELSE seq END, id, actor, origin, action, subject, before_state, after_state, reason,
           created_at, prev_hash, hash
    FROM audit_log;
DROP TABLE audit_log;
ALTER TABLE audit_log_sealed RENAME TO audit_log;
CREATE INDEX audit_log_by_subject ON audit_log (subject, pos);
CREATE INDEX audit_log_unsealed ON audit_log (pos) WHERE seq IS NULL;
