-- Raw telemetry: one wide row per event (columns a type does not use hold their defaults).
-- Deduplication by event_id: the sorting key ends in event_id and every copy of an event carries
-- the same (customer_id, type, ts), so ReplacingMergeTree collapses copies on merge; queries that
-- must be exact before merges read `FINAL` (or LIMIT 1 BY event_id). Batches from the outbox
-- relay also carry an insert_deduplication_token, so a retried batch is dropped whole.
CREATE TABLE IF NOT EXISTS events
(
    event_id      String,
    type          LowCardinality(String),
    action        LowCardinality(String),
    ts            DateTime64(3, 'UTC'),
    customer_id   LowCardinality(String),
    project_id    String,
    run_type      LowCardinality(String),
    run_id        String,
    job_id        String,
    step_key      String,
    kind          LowCardinality(String),
    pool          LowCardinality(String),
    worker_id     String,
    instance_id   String,
    component     LowCardinality(String),
    attempt       UInt16,
    error_class   LowCardinality(String),
    duration_ms   Float64,
    model         LowCardinality(String),
    input_tokens  UInt64,
    output_tokens UInt64,
    ok            UInt8,
    target        String,
    region        LowCardinality(String),
    route         LowCardinality(String),
    method        LowCardinality(String),
    status_code   UInt16,
    incident_id   String,
    rule          LowCardinality(String),
    severity      LowCardinality(String),
    recovery_kind LowCardinality(String),
    detected_at   DateTime64(3, 'UTC'),
    recovered_at  DateTime64(3, 'UTC'),
    inserted_at   DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree(inserted_at)
PARTITION BY toYYYYMM(ts)
ORDER BY (customer_id, type, ts, event_id)
SETTINGS non_replicated_deduplication_window = 10000;
