-- Webhook signing secrets that rotate without a restart (issue 24). The
-- secret in webhook-signing.key signs until the first rotation; from then
-- on the secrets live here, sealed under the master key, and every
-- instance reloads them every two seconds. While a secret is retiring (its
-- overlap), deliveries carry a signature under each live secret.
CREATE TABLE webhook_secrets (
    version     BIGINT PRIMARY KEY,
    sealed      BYTEA NOT NULL,
    created_at  BIGINT NOT NULL,
    retires_at  BIGINT
);
