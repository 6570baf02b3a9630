-- Why and when a binding was frozen (cleared when it is unfrozen).
ALTER TABLE bindings ADD COLUMN frozen_reason TEXT;
ALTER TABLE bindings ADD COLUMN frozen_at BIGINT;
