-- Rollups the SLA jobs and dashboards read instead of raw events, fed by materialized views on
-- insert into `events`. They count each event once because an event reaches `events` once: the
-- outbox drops a re-sent eventId, and a retried relay batch carries the same
-- insert_deduplication_token (with deduplicate_blocks_in_dependent_materialized_views = 1, the
-- views skip it too). Times are UTC. Prices change on day boundaries, so hourly sums price exactly.

-- Health signals per minute: heartbeats (by component) and probes (by target). Uptime reads this.
CREATE TABLE IF NOT EXISTS signals_1m
(
    minute      DateTime('UTC'),
    customer_id LowCardinality(String),
    source      LowCardinality(String),  -- 'heartbeat' | 'probe'
    component   LowCardinality(String),  -- heartbeat: 'control_plane' | 'worker'; probe: ''
    target      String,                  -- probe: its target; heartbeat: ''
    healthy     UInt64,
    unhealthy   UInt64
)
ENGINE = SummingMergeTree
PARTITION BY toYYYYMM(minute)
ORDER BY (customer_id, source, component, target, minute);

CREATE MATERIALIZED VIEW IF NOT EXISTS signals_1m_mv TO signals_1m AS
SELECT
    toStartOfMinute(ts) AS minute,
    customer_id,
    type AS source,
    if(type = 'heartbeat', component, '') AS component,
    if(type = 'probe', target, '') AS target,
    countIf(ok = 1) AS healthy,
    countIf(ok = 0) AS unhealthy
FROM events
WHERE type IN ('heartbeat', 'probe')
GROUP BY minute, customer_id, source, component, target;

-- Run lifecycle per hour: counts by action (created/started/succeeded/failed/cancelled/resumed),
-- wall-time sums and approximate quantiles of finished runs (dashboards; the SLA reads exact figures).
CREATE TABLE IF NOT EXISTS runs_1h
(
    hour            DateTime('UTC'),
    customer_id     LowCardinality(String),
    project_id      String,
    run_type        LowCardinality(String),
    action          LowCardinality(String),
    error_class     LowCardinality(String),
    runs            SimpleAggregateFunction(sum, UInt64),
    duration_ms_sum SimpleAggregateFunction(sum, Float64),
    duration_ms_q   AggregateFunction(quantiles(0.5, 0.95, 0.99), Float64)
)
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(hour)
ORDER BY (customer_id, project_id, run_type, action, error_class, hour);

CREATE MATERIALIZED VIEW IF NOT EXISTS runs_1h_mv TO runs_1h AS
SELECT
    toStartOfHour(ts) AS hour,
    customer_id,
    project_id,
    run_type,
    action,
    error_class,
    count() AS runs,
    sum(duration_ms) AS duration_ms_sum,
    quantilesState(0.5, 0.95, 0.99)(duration_ms) AS duration_ms_q
FROM events
WHERE type = 'run'
GROUP BY hour, customer_id, project_id, run_type, action, error_class;

-- Job attempts per hour: counts by action and failure class, and handler time (worker-seconds
-- x pool price = infrastructure cost).
CREATE TABLE IF NOT EXISTS jobs_1h
(
    hour        DateTime('UTC'),
    customer_id LowCardinality(String),
    project_id  String,
    run_type    LowCardinality(String),
    pool        LowCardinality(String),
    kind        LowCardinality(String),
    action      LowCardinality(String),
    error_class LowCardinality(String),
    jobs        SimpleAggregateFunction(sum, UInt64),
    worker_ms   SimpleAggregateFunction(sum, Float64)
)
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(hour)
ORDER BY (customer_id, project_id, run_type, pool, kind, action, error_class, hour);

CREATE MATERIALIZED VIEW IF NOT EXISTS jobs_1h_mv TO jobs_1h AS
SELECT
    toStartOfHour(ts) AS hour,
    customer_id,
    project_id,
    run_type,
    pool,
    kind,
    action,
    error_class,
    count() AS jobs,
    sum(duration_ms) AS worker_ms
FROM events
WHERE type = 'job'
GROUP BY hour, customer_id, project_id, run_type, pool, kind, action, error_class;

-- AI token usage per hour and model (x model price = AI cost).
CREATE TABLE IF NOT EXISTS usage_1h
(
    hour          DateTime('UTC'),
    customer_id   LowCardinality(String),
    project_id    String,
    run_type      LowCardinality(String),
    pool          LowCardinality(String),
    model         LowCardinality(String),
    events        SimpleAggregateFunction(sum, UInt64),
    input_tokens  SimpleAggregateFunction(sum, UInt64),
    output_tokens SimpleAggregateFunction(sum, UInt64)
)
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(hour)
ORDER BY (customer_id, project_id, run_type, pool, model, hour);

CREATE MATERIALIZED VIEW IF NOT EXISTS usage_1h_mv TO usage_1h AS
SELECT
    toStartOfHour(ts) AS hour,
    customer_id,
    project_id,
    run_type,
    pool,
    model,
    count() AS events,
    sum(input_tokens) AS input_tokens,
    sum(output_tokens) AS output_tokens
FROM events
WHERE type = 'usage'
GROUP BY hour, customer_id, project_id, run_type, pool, model;

-- API requests per minute by route and status class (performance dashboard).
CREATE TABLE IF NOT EXISTS api_1m
(
    minute          DateTime('UTC'),
    customer_id     LowCardinality(String),
    route           LowCardinality(String),
    method          LowCardinality(String),
    status_class    LowCardinality(String),
    requests        SimpleAggregateFunction(sum, UInt64),
    duration_ms_sum SimpleAggregateFunction(sum, Float64),
    duration_ms_q   AggregateFunction(quantiles(0.5, 0.95, 0.99), Float64)
)
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(minute)
ORDER BY (customer_id, route, method, status_class, minute);

CREATE MATERIALIZED VIEW IF NOT EXISTS api_1m_mv TO api_1m AS
SELECT
    toStartOfMinute(ts) AS minute,
    customer_id,
    route,
    method,
    concat(toString(intDiv(status_code, 100)), 'xx') AS status_class,
    count() AS requests,
    sum(duration_ms) AS duration_ms_sum,
    quantilesState(0.5, 0.95, 0.99)(duration_ms) AS duration_ms_q
FROM events
WHERE type = 'api_request'
GROUP BY minute, customer_id, route, method, status_class;
