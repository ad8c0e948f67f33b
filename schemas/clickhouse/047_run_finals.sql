-- Each run's final state per month, so the SLA's run figures read one row per run instead of its
-- raw events (docs/sla.md, "How each figure is computed — success rate" and "Performance";
-- src/sla/run-outcomes.ts):
--   run_finals: per run and UTC month (the partition), its last succeeded/failed/cancelled event of
--     that month (ReplacingMergeTree with the event's time as version: the latest event wins);
--   run_resumes: every resume of a run (keyed like `events`: only copies of one resume collapse).
-- A copy of an event (the same eventId sent again past the dedup window, a backfill) collapses into
-- its original: read FINAL, both tables give the same answer with duplicate inserts.
--
-- On a multi-shard cluster the views fill each shard's local tables from the events that landed
-- there, which are sharded by event, not by run: two final events of one run in one month may sit
-- on two shards, where FINAL does not collapse them (docs/sla.md, "Performance").
CREATE TABLE IF NOT EXISTS run_finals
(
    customer_id   LowCardinality(String),
    run_id        String,
    ts            DateTime64(3, 'UTC'),
    -- 'action|error_class|cancelled_by|run_type' (e.g. 'failed|agent||build'): the one key the
    -- figures group by; only the run type, last, may hold a '|'
    outcome       LowCardinality(String),
    -- 'customer_id/run_type': the key of the run type's execution-time target in the plan
    target_key    LowCardinality(String),
    cancel_reason String,
    duration_ms   Float64
)
ENGINE = ReplacingMergeTree(ts)
PARTITION BY toYYYYMM(ts)
ORDER BY (customer_id, run_id)
-- A month whose parts are all an hour old (no telemetry for it since) is merged into one part, so
-- reading it FINAL merges nothing: a closed month reads as fast as it can.
SETTINGS non_replicated_deduplication_window = 10000, min_age_to_force_merge_seconds = 3600,
         min_age_to_force_merge_on_partition_only = 1;

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
SELECT customer_id, run_id, ts, concat(action, '|', error_class, '|', cancelled_by, '|', run_type) AS outcome,
       concat(customer_id, '/', run_type) AS target_key, cancel_reason, duration_ms
FROM events
WHERE type = 'run' AND action IN ('succeeded', 'failed', 'cancelled');

CREATE MATERIALIZED VIEW IF NOT EXISTS run_resumes_mv TO run_resumes AS
SELECT customer_id, run_id, ts, event_id
FROM events
WHERE type = 'run' AND action = 'resumed';

-- The runs that reached ClickHouse before the views existed. After the views, so an event relayed
-- meanwhile is in both and collapses; re-runnable for the same reason.
INSERT INTO run_finals
SELECT customer_id, run_id, ts, concat(action, '|', error_class, '|', cancelled_by, '|', run_type) AS outcome,
       concat(customer_id, '/', run_type) AS target_key, cancel_reason, duration_ms
FROM events
WHERE type = 'run' AND action IN ('succeeded', 'failed', 'cancelled')
SETTINGS insert_deduplicate = 0;

INSERT INTO run_resumes
SELECT customer_id, run_id, ts, event_id
FROM events
WHERE type = 'run' AND action = 'resumed'
SETTINGS insert_deduplicate = 0;
