-- Unbind requests: requested (code sent) → cooling_off (confirmed; the
-- binding is `unbinding`) → completed by the job after the window, or
-- revoked by the holder during it. Flags are 0/1.
CREATE TABLE unbind_requests (
    id                   TEXT PRIMARY KEY,
    binding_id           TEXT NOT NULL REFERENCES bindings(id),
    account_id           TEXT NOT NULL REFERENCES accounts(id),
    challenge_id         TEXT NOT NULL REFERENCES challenges(id),
    cancel_mandates      BIGINT NOT NULL,
    delete_card          BIGINT NOT NULL,
    needs_password       BIGINT NOT NULL,
    status               TEXT NOT NULL,
    created_at           BIGINT NOT NULL,
    confirmed_at         BIGINT,
    cooling_off_ends_at  BIGINT,
    finished_at          BIGINT
);
CREATE INDEX unbind_requests_by_binding ON unbind_requests (binding_id, created_at);
CREATE INDEX unbind_requests_due ON unbind_requests (status, cooling_off_ends_at);
