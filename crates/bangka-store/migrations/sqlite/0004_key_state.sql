-- Which version of each non-master key is in effect. The fingerprint key is
-- rotated offline (`bangka keys rotate-fingerprint`): the re-keyed hashes and
-- this version change in one transaction, and an instance starts with the
-- key this row names.
CREATE TABLE key_state (
    name     TEXT PRIMARY KEY,
    version  BIGINT NOT NULL
);
INSERT INTO key_state (name, version) VALUES ('fingerprint', 1);
