-- Each run's final state per month, so the SLA's run figures read one row per run instead of its
-- raw events (docs/sla.md, "How each figure is computed — success rate"; src/sla/runs.ts):
--   run_finals: per run and UTC month (the partition), its last succeeded/failed/cancelled event of
--     that month (ReplacingMergeTree with the event's time as version: the latest event wins);
--   run_resumes: every resume of a run (its last one up to a moment is max(ts)).
-- A copy of an event (a re-sent eventId past the dedup window, a backfill) has the same key and
-- version, so it collapses: both tables give the same answer with duplicate inserts. Until a merge
-- has collapsed them, read run_finals with FINAL (or argMax/max, which copies do not change).
--
-- On a multi-shard cluster the views fill each shard's local tables from the events that landed
-- there, which are sharded by event, not by run: two final events of one run on two shards are two
-- rows (docs/sla.md, "Performance"). A single server, replicas and ClickHouse Cloud are exact.
CREATE TABLE IF NOT EXISTS run_finals
(
    customer_id   LowCardinality(String),
    run_id        String,
    ts            DateTime64(3, 'UTC'),
    action        LowCardinality(String),  -- 'succeeded' | 'failed' | 'cancelled'
    error_class   LowCardinality(String),
    cancelled_by  LowCardinality(String),
    cancel_reason String,
    run_type      LowCardinality(String),
    duration_ms   Float64
)
ENGINE = ReplacingMergeTree(ts)
PARTITION BY toYYYYMM(ts)
ORDER BY (customer_id, run_id)
SETTINGS non_replicated_deduplication_window = 10000;

CREATE TABLE IF NOT EXISTS run_resumes
(
    customer_id LowCardinality(String),
    run_id      String,
    ts          DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(ts)
ORDER BY (customer_id, run_id, ts)
SETTINGS non_replicated_deduplication_window = 10000;

CREATE MATERIALIZED VIEW IF NOT EXISTS run_finals_mv TO run_finals AS
SELECT customer_id, run_id, ts, action, error_class, cancelled_by, cancel_reason, run_type, duration_ms
FROM events
WHERE type = 'run' AND action IN ('succeeded', 'failed', 'cancelled');

CREATE MATERIALIZED VIEW IF NOT EXISTS run_resumes_mv TO run_resumes AS
SELECT customer_id, run_id, ts
FROM events
WHERE type = 'run' AND action = 'resumed';

-- The runs that reached ClickHouse before the views existed. After the views, so an event relayed
-- meanwhile is in both and collapses; re-runnable for the same reason.
INSERT INTO run_finals
SELECT customer_id, run_id, ts, action, error_class, cancelled_by, cancel_reason, run_type, duration_ms
FROM events
WHERE type = 'run' AND action IN ('succeeded', 'failed', 'cancelled')
SETTINGS insert_deduplicate = 0;

INSERT INTO run_resumes
SELECT customer_id, run_id, ts
FROM events
WHERE type = 'run' AND action = 'resumed'
SETTINGS insert_deduplicate = 0;
