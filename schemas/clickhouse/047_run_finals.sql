-- Run outcomes by run, so the SLA's run figures read a narrow table sorted by run instead of raw
-- events (docs/sla.md, "How each figure is computed — success rate" and "Performance";
-- src/sla/run-outcomes.ts):
--   run_finals: every succeeded/failed/cancelled event of a run (one per run, unless it was
--     resumed or cancelled after failing);
--   run_resumes: every resume of a run.
-- Both are keyed like `events` (the event's time and id after the run), so only copies of one event
-- collapse on merge. The SLA reads them without FINAL and judges a run with several rows (copies
-- not yet merged, or several events) from all of them: duplicate inserts change no figure.
--
-- On a multi-shard cluster each shard's views fill its local tables from the events that landed
-- there (sharded by event), so one run's rows may be on several shards; the queries read the
-- Distributed tables, which see them all.
CREATE TABLE IF NOT EXISTS run_finals
(
    customer_id   LowCardinality(String),
    run_id        String,
    ts            DateTime64(3, 'UTC'),
    event_id      String,
    -- 'action|error_class|cancelled_by|run_type' (e.g. 'failed|agent||build'): the one key the
    -- figures group by; only the run type, last, may hold a '|'
    outcome       LowCardinality(String),
    -- 'customer_id/run_type': the key of the run type's execution-time target in the plan
    target_key    LowCardinality(String),
    -- cityHash64(customer_id, run_id): finds the runs with several rows without reading their ids
    run_hash      UInt64,
    cancel_reason String,
    duration_ms   Float64
)
ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(ts)
ORDER BY (customer_id, run_id, ts, event_id)
SETTINGS non_replicated_deduplication_window = 10000;

CREATE TABLE IF NOT EXISTS run_resumes
(
    customer_id LowCardinality(String),
    run_id      String,
    ts          DateTime64(3, 'UTC'),
    event_id    String
)
ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(ts)
ORDER BY (customer_id, run_id, ts, event_id)
SETTINGS non_replicated_deduplication_window = 10000;

CREATE MATERIALIZED VIEW IF NOT EXISTS run_finals_mv TO run_finals AS
SELECT customer_id, run_id, ts, event_id, concat(action, '|', error_class, '|', cancelled_by, '|', run_type) AS outcome,
       concat(customer_id, '/', run_type) AS target_key, cityHash64(customer_id, run_id) AS run_hash, cancel_reason,
       duration_ms
FROM events
WHERE type = 'run' AND action IN ('succeeded', 'failed', 'cancelled');

CREATE MATERIALIZED VIEW IF NOT EXISTS run_resumes_mv TO run_resumes AS
SELECT customer_id, run_id, ts, event_id
FROM events
WHERE type = 'run' AND action = 'resumed';

-- The runs that reached ClickHouse before the views existed. After the views, so an event relayed
-- meanwhile is in both and collapses; re-runnable for the same reason.
INSERT INTO run_finals
SELECT customer_id, run_id, ts, event_id, concat(action, '|', error_class, '|', cancelled_by, '|', run_type) AS outcome,
       concat(customer_id, '/', run_type) AS target_key, cityHash64(customer_id, run_id) AS run_hash, cancel_reason,
       duration_ms
FROM events
WHERE type = 'run' AND action IN ('succeeded', 'failed', 'cancelled')
SETTINGS insert_deduplicate = 0;

INSERT INTO run_resumes
SELECT customer_id, run_id, ts, event_id
FROM events
WHERE type = 'run' AND action = 'resumed'
SETTINGS insert_deduplicate = 0;
