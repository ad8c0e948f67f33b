-- Profitability per customer and month (docs/cost.md), copied from PostgreSQL for the Grafana cost
-- dashboard. PostgreSQL stays the record (cost_months, cost_customer_months, and the credits'
-- corrections); this copy is written by the SLA close when it freezes a month and by the sla.refresh
-- job (src/sla/cost-copy.ts). Every amount is integer cents: costs (fixed, infrastructure, AI and
-- their sum) in `currency`, fee, net credit and revenue in `plan_currency`.
--   status: 'frozen' (at the month's close) | 'provisional' (computed by the refresh, may change);
--   margin_cents / margin_percent: NULL when the margin is unmeasured (plan in another currency) and
--     margin_percent also when revenue is not above 0; margin_status 'measured' | 'unmeasured';
--   customer_id '': the month's fixed cost no customer carries (unallocated_cents), margin_status
--     'unallocated', so the month's fixed cost adds up across rows.
-- A re-write replaces a row (ReplacingMergeTree; read FINAL): `version` is the write's time in
-- milliseconds for a provisional row (the figures' computation), and 2^43 + the write's time for a
-- frozen one, so frozen figures always replace provisional ones and a later write of either kind
-- replaces an earlier one.
CREATE TABLE IF NOT EXISTS cost_monthly
(
    month                Date,
    customer_id          LowCardinality(String),
    status               LowCardinality(String),
    fixed_cents          Int64,
    infrastructure_cents Int64,
    ai_cents             Int64,
    cost_cents           Int64,
    fee_cents            Int64,
    net_credit_cents     Int64,
    revenue_cents        Int64,
    margin_cents         Nullable(Int64),
    margin_percent       Nullable(Float64),
    currency             LowCardinality(String),
    plan_currency        LowCardinality(String),
    margin_status        LowCardinality(String),
    computed_at          DateTime64(3, 'UTC'),
    version              UInt64
)
ENGINE = ReplacingMergeTree(version)
ORDER BY (month, customer_id);
