-- Credits in integer cents on sla_monthly's 'credit' row (docs/sla.md, "Credits"): credit_cents is
-- the closed record's credit, adjustment_cents the sum of its corrections (void, reissue,
-- goodwill), so the net billed is credit_cents + adjustment_cents; credit_amount is that net in
-- units (credit_cents rows before this migration: 0, read credit_amount).
ALTER TABLE sla_monthly ADD COLUMN IF NOT EXISTS credit_cents Int64 DEFAULT 0;
ALTER TABLE sla_monthly ADD COLUMN IF NOT EXISTS adjustment_cents Int64 DEFAULT 0;
