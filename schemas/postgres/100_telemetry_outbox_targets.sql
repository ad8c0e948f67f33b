-- OpenTelemetry data travels through the same outbox as telemetry events (docs/telemetry.md, "OTLP
-- receiver"): each row names the ClickHouse table it is a row of. 'events' rows hold a telemetry
-- event (as before; rows from before are events); the others hold a row of an OpenTelemetry table
-- (schemas/clickhouse/060_otel.sql), already in that table's shape. The relay sends each target's
-- rows of a batch to its table, with the same claims, tokens, partition cap, bisection and dead
-- table as events. Their ids are deduplicated per customer like event ids (telemetry_event_ids):
-- a span by its trace and span id, a log record or data point by a hash of its content.
ALTER TABLE telemetry_outbox
  ADD COLUMN target text NOT NULL DEFAULT 'events' CHECK (target IN (
    'events', 'otel_traces', 'otel_logs', 'otel_metrics_sum', 'otel_metrics_gauge', 'otel_metrics_histogram'));
ALTER TABLE telemetry_outbox_dead
  ADD COLUMN target text NOT NULL DEFAULT 'events';
