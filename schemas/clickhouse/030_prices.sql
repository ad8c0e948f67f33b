-- Unit prices for cost figures in ClickHouse SQL (Grafana cost dashboard). The SLA module owns the
-- price list (its config) and writes every entry here, one row per (kind, name, effective_from):
--   kind 'model': AI model `name`, input_per_million / output_per_million = price per 1M tokens;
--   kind 'pool':  worker pool `name`, per_worker_second = price of one second of handler time.
-- A price applies from effective_from (UTC) until the next entry of the same kind and name.
-- Re-writing an entry with a later updated_at replaces it (ReplacingMergeTree: read FINAL).
CREATE TABLE IF NOT EXISTS prices
(
    kind               LowCardinality(String),
    name               String,
    effective_from     DateTime('UTC'),
    input_per_million  Float64 DEFAULT 0,
    output_per_million Float64 DEFAULT 0,
    per_worker_second  Float64 DEFAULT 0,
    currency           LowCardinality(String) DEFAULT 'USD',
    updated_at         DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree(updated_at)
ORDER BY (kind, name, effective_from);

-- Hourly cost by source, priced at the price in force at the start of each hour (prices change on
-- hour boundaries at the finest, so hourly sums price exactly). A model or pool without a price
-- in force costs 0 and has priced = 0 (the cost dashboard lists such rows).
-- Columns: hour, customer_id, project_id, run_type, pool, source ('ai' | 'infra'), model,
-- input_tokens, output_tokens, worker_seconds, cost, priced.
CREATE VIEW IF NOT EXISTS cost_1h AS
SELECT
    u.hour AS hour,
    u.customer_id AS customer_id,
    u.project_id AS project_id,
    u.run_type AS run_type,
    u.pool AS pool,
    'ai' AS source,
    u.model AS model,
    u.input_tokens AS input_tokens,
    u.output_tokens AS output_tokens,
    0.0 AS worker_seconds,
    (u.input_tokens * p.input_per_million + u.output_tokens * p.output_per_million) / 1e6 AS cost,
    toUInt8(p.name != '') AS priced
FROM
(
    SELECT hour, customer_id, project_id, run_type, pool, model,
           sum(input_tokens) AS input_tokens, sum(output_tokens) AS output_tokens
    FROM usage_1h
    GROUP BY hour, customer_id, project_id, run_type, pool, model
) AS u
ASOF LEFT JOIN
(
    SELECT name, effective_from, input_per_million, output_per_million
    FROM prices FINAL
    WHERE kind = 'model'
) AS p ON u.model = p.name AND u.hour >= p.effective_from
UNION ALL
SELECT
    j.hour AS hour,
    j.customer_id AS customer_id,
    j.project_id AS project_id,
    j.run_type AS run_type,
    j.pool AS pool,
    'infra' AS source,
    '' AS model,
    toUInt64(0) AS input_tokens,
    toUInt64(0) AS output_tokens,
    j.worker_ms / 1000 AS worker_seconds,
    j.worker_ms / 1000 * p.per_worker_second AS cost,
    toUInt8(p.name != '') AS priced
FROM
(
    SELECT hour, customer_id, project_id, run_type, pool, sum(worker_ms) AS worker_ms
    FROM jobs_1h
    GROUP BY hour, customer_id, project_id, run_type, pool
) AS j
ASOF LEFT JOIN
(
    SELECT name, effective_from, per_worker_second
    FROM prices FINAL
    WHERE kind = 'pool'
) AS p ON j.pool = p.name AND j.hour >= p.effective_from;
