-- The account's payment password, as an argon2id PHC string (never the password).
ALTER TABLE accounts ADD COLUMN payment_password_hash TEXT;
ALTER TABLE accounts ADD COLUMN payment_password_set_at BIGINT;
