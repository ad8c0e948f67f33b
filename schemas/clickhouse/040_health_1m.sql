-- Health signals per minute by provenance and region: what uptime is computed from (docs/sla.md,
-- "How each figure is computed: uptime"). `provenance` is the event's `source`: Steward's own
-- heartbeats ('steward') and the operator's probes ('operator', admin or probe token) are facts;
-- a customer's own probes ('customer') are its evidence. Probes are judged per region, so the
-- factory is down when every region's probes failed (or a majority, sla.probeQuorum).

-- The provenance column, as 050_events_source.sql adds it (the same idempotent statement: this
-- file may run before that one, and that one then does nothing).
ALTER TABLE events ADD COLUMN IF NOT EXISTS source LowCardinality(String) DEFAULT 'steward';

CREATE TABLE IF NOT EXISTS health_1m
(
    minute      DateTime('UTC'),
    customer_id LowCardinality(String),
    type        LowCardinality(String),  -- 'heartbeat' | 'probe'
    component   LowCardinality(String),  -- heartbeat: 'control_plane' | 'worker'; probe: ''
    provenance  LowCardinality(String),  -- 'steward' | 'operator' | 'customer'
    region      LowCardinality(String),  -- probe: its region ('' when none given); heartbeat: ''
    healthy     UInt64,
    unhealthy   UInt64
)
ENGINE = SummingMergeTree
PARTITION BY toYYYYMM(minute)
ORDER BY (customer_id, type, provenance, component, region, minute)
SETTINGS non_replicated_deduplication_window = 10000;

-- The signals that reached ClickHouse before this table existed. Re-runnable: a run interrupted
-- after the insert starts over from an empty table. No view exists yet while it runs (migrations
-- run before any relay of this version; an older instance still relaying during a rolling upgrade
-- could slip a batch between this insert and the view below: upgrade all instances together).
TRUNCATE TABLE health_1m;

INSERT INTO health_1m
SELECT
    toStartOfMinute(ts) AS minute,
    customer_id,
    type,
    if(type = 'heartbeat', component, '') AS component,
    source AS provenance,
    if(type = 'probe', region, '') AS region,
    countIf(ok = 1) AS healthy,
    countIf(ok = 0) AS unhealthy
FROM events FINAL
WHERE type IN ('heartbeat', 'probe')
GROUP BY minute, customer_id, type, component, provenance, region
SETTINGS insert_deduplicate = 0;

CREATE MATERIALIZED VIEW IF NOT EXISTS health_1m_mv TO health_1m AS
SELECT
    toStartOfMinute(ts) AS minute,
    customer_id,
    type,
    if(type = 'heartbeat', component, '') AS component,
    source AS provenance,
    if(type = 'probe', region, '') AS region,
    countIf(ok = 1) AS healthy,
    countIf(ok = 0) AS unhealthy
FROM events
WHERE type IN ('heartbeat', 'probe')
GROUP BY minute, customer_id, type, component, provenance, region;
