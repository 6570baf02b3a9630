-- Card data keys moved to the card key store (a database of its own, see
-- card_keys.rs); the vault row keeps the ciphertext. `key_destroyed_at`
-- records that a shredded row's key was destroyed there.
ALTER TABLE vault_cards ADD COLUMN key_destroyed_at BIGINT;
