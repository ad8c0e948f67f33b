-- Token kinds beyond input and output (docs/sla.md, "Cost"; docs/telemetry.md, "OTLP receiver"):
-- cache reads and cache writes (a subset of input tokens) and reasoning (a subset of output
-- tokens), as the OpenTelemetry GenAI conventions count them; with the operation and provider of
-- the call. Rows from before read 0 and ''.
--
-- (On a ClickHouse cluster, columns added to a table are added to its Distributed table too, since
-- this version; re-declaring `source` of 050_events_source.sql gives the Distributed `events` of a
-- cluster migrated before that column. Elsewhere it is already there and nothing happens.)
ALTER TABLE events ADD COLUMN IF NOT EXISTS source LowCardinality(String) DEFAULT 'steward';

ALTER TABLE events
    ADD COLUMN IF NOT EXISTS cache_read_tokens UInt64 DEFAULT 0,
    ADD COLUMN IF NOT EXISTS cache_write_tokens UInt64 DEFAULT 0,
    ADD COLUMN IF NOT EXISTS reasoning_tokens UInt64 DEFAULT 0,
    ADD COLUMN IF NOT EXISTS operation LowCardinality(String) DEFAULT '',
    ADD COLUMN IF NOT EXISTS provider LowCardinality(String) DEFAULT '';

ALTER TABLE usage_1h
    ADD COLUMN IF NOT EXISTS cache_read_tokens SimpleAggregateFunction(sum, UInt64) DEFAULT 0,
    ADD COLUMN IF NOT EXISTS cache_write_tokens SimpleAggregateFunction(sum, UInt64) DEFAULT 0,
    ADD COLUMN IF NOT EXISTS reasoning_tokens SimpleAggregateFunction(sum, UInt64) DEFAULT 0;

-- The view fills the new columns from now on (one atomic change of its query; re-running it is
-- harmless). Hours rolled up before keep 0 there, as their events had none.
ALTER TABLE usage_1h_mv MODIFY QUERY
SELECT
    toStartOfHour(ts) AS hour,
    customer_id,
    project_id,
    run_type,
    pool,
    model,
    count() AS events,
    sum(input_tokens) AS input_tokens,
    sum(output_tokens) AS output_tokens,
    sum(cache_read_tokens) AS cache_read_tokens,
    sum(cache_write_tokens) AS cache_write_tokens,
    sum(reasoning_tokens) AS reasoning_tokens
FROM events
WHERE type = 'usage'
GROUP BY hour, customer_id, project_id, run_type, pool, model;

-- A model's cache and reasoning prices. Unset in the config, a cache price is the input price and
-- the reasoning price the output price (priced as before); the sync writes them resolved, and rows
-- written before this migration read them so too.
ALTER TABLE prices
    ADD COLUMN IF NOT EXISTS cache_read_per_million Float64 DEFAULT input_per_million,
    ADD COLUMN IF NOT EXISTS cache_write_per_million Float64 DEFAULT input_per_million,
    ADD COLUMN IF NOT EXISTS reasoning_per_million Float64 DEFAULT output_per_million;

-- Hourly cost as in 030_prices.sql, with each token kind at its own price: input tokens less the
-- cache subsets at the input price, each cache subset at its price, output tokens less reasoning
-- at the output price, reasoning at its price. Nothing is charged twice. Columns as before, plus
-- cache_read_tokens, cache_write_tokens and reasoning_tokens.
CREATE OR REPLACE VIEW cost_1h AS
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
    (greatest(toInt64(u.input_tokens) - toInt64(u.cache_read_tokens) - toInt64(u.cache_write_tokens), 0) * p.input_per_million
        + u.cache_read_tokens * p.cache_read_per_million
        + u.cache_write_tokens * p.cache_write_per_million
        + greatest(toInt64(u.output_tokens) - toInt64(u.reasoning_tokens), 0) * p.output_per_million
        + u.reasoning_tokens * p.reasoning_per_million) / 1e6 AS cost,
    toUInt8(p.name != '') AS priced,
    u.cache_read_tokens AS cache_read_tokens,
    u.cache_write_tokens AS cache_write_tokens,
    u.reasoning_tokens AS reasoning_tokens
FROM
(
    SELECT hour, customer_id, project_id, run_type, pool, model,
           sum(input_tokens) AS input_tokens, sum(output_tokens) AS output_tokens,
           sum(cache_read_tokens) AS cache_read_tokens, sum(cache_write_tokens) AS cache_write_tokens,
           sum(reasoning_tokens) AS reasoning_tokens
    FROM usage_1h
    GROUP BY hour, customer_id, project_id, run_type, pool, model
) AS u
ASOF LEFT JOIN
(
    SELECT name, effective_from, input_per_million, output_per_million,
           cache_read_per_million, cache_write_per_million, reasoning_per_million
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
    toUInt8(p.name != '') AS priced,
    toUInt64(0) AS cache_read_tokens,
    toUInt64(0) AS cache_write_tokens,
    toUInt64(0) AS reasoning_tokens
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
