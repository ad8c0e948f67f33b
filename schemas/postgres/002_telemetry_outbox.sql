-- The telemetry outbox: events written in the same transaction as the state change they record
-- (or by POST /v1/events before its 202), held until ClickHouse acknowledged them.
CREATE TABLE telemetry_outbox (
  seq         bigserial PRIMARY KEY,
  event_id    text NOT NULL,
  customer_id text NOT NULL DEFAULT '',
  body        jsonb NOT NULL,
  enqueued_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX telemetry_outbox_event ON telemetry_outbox (event_id);
