-- Found at a million cards: the key destruction job looked for shredded
-- vault rows with a full scan after every commit that may have shredded.
-- Only rows still waiting for their key's destruction are indexed.
CREATE INDEX vault_cards_to_destroy ON vault_cards (id) WHERE shredded_at IS NOT NULL AND key_destroyed_at IS NULL;
