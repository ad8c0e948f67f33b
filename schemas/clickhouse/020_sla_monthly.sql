-- Monthly SLA figures and credits, written by the SLA engine's monthly close (the PostgreSQL
-- credit records are the source of truth; this copy feeds the Grafana SLA dashboard).
-- metric: 'uptime' | 'success_rate' | 'execution_time:<run type>' | 'rto:<kind>' | 'rpo' | 'cost' ...
CREATE TABLE IF NOT EXISTS sla_monthly
(
    month          Date,
    customer_id    LowCardinality(String),
    metric         LowCardinality(String),
    value          Float64,
    target         Float64,
    met            UInt8,
    credit_percent Float64,
    credit_amount  Float64,
    currency       LowCardinality(String),
    plan_version   UInt32,
    computed_at    DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree(computed_at)
ORDER BY (customer_id, month, metric);
