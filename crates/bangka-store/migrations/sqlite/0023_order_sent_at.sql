-- When an acting order was last sent to the bank (issue 24). The bank
-- accepts an order for five minutes after its sent_at, so until that
-- window has passed a query that finds nothing does not mean the order
-- was never made: a delayed order can still arrive and hold money. The
-- payment job fails an unconfirmed authorization only after the window.
-- Ops written before this migration count as sent when last touched.
ALTER TABLE payment_ops ADD COLUMN sent_at BIGINT;
UPDATE payment_ops SET sent_at = updated_at;
