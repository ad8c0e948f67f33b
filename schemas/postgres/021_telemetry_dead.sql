-- Outbox rows the relay could not turn into a ClickHouse row (a body that is not a valid event,
-- e.g. written by hand or by an older version). They are set aside here, with the reason, when
-- their batch ships, so one bad row never holds the pipeline; an operator can fix and re-append them.
CREATE TABLE telemetry_outbox_dead (
  seq         bigint PRIMARY KEY,
  event_id    text NOT NULL,
  body        jsonb NOT NULL,
  error       text NOT NULL,
  enqueued_at timestamptz NOT NULL,
  dead_at     timestamptz NOT NULL DEFAULT now()
);
