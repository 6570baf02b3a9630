-- The account phone can change (issue 16): by SMS codes to the old and the
-- new phone, or, when the old phone is lost, by a review with ID materials,
-- which keeps the requested number until it is decided.
ALTER TABLE reviews ADD COLUMN new_phone TEXT;
-- Support context (issue 16): the phone a bind was tried with, masked
-- (never in clear), and the client the request came from.
ALTER TABLE attempts ADD COLUMN phone_masked TEXT;
ALTER TABLE attempts ADD COLUMN client TEXT;
-- The account phone is verified by an SMS code at sign-up (or the wallet
-- says it verified the number in its own sign-in). Accounts opened before
-- this migration were opened under the old contract, where the wallet
-- always verified the phone: they count as verified by the wallet.
ALTER TABLE accounts ADD COLUMN phone_verified_at BIGINT;
ALTER TABLE accounts ADD COLUMN phone_verified_by TEXT;
UPDATE accounts SET phone_verified_at = created_at, phone_verified_by = 'wallet';
