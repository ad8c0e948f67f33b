-- Budget events (docs/cost.md, "Budgets"; type 'budget'): the budget concerned (`aiTokens` or
-- `total`), the threshold crossed (50, 80, 100; 0 otherwise), the budget and the spend in cents,
-- and why the policy acted or was lifted. Rows of other types: the defaults.
ALTER TABLE events ADD COLUMN IF NOT EXISTS budget_metric LowCardinality(String) DEFAULT '';
ALTER TABLE events ADD COLUMN IF NOT EXISTS budget_threshold UInt8 DEFAULT 0;
ALTER TABLE events ADD COLUMN IF NOT EXISTS budget_cents Int64 DEFAULT 0;
ALTER TABLE events ADD COLUMN IF NOT EXISTS spent_cents Int64 DEFAULT 0;
ALTER TABLE events ADD COLUMN IF NOT EXISTS budget_cause LowCardinality(String) DEFAULT '';
