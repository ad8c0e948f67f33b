-- The outbox relay and ingest-side deduplication (src/ingest/relay.ts, src/ingest/outbox.ts).
--
-- A relay claims a batch by stamping its rows with a batch token (committed before the ClickHouse
-- insert), so a batch that must be re-sent (ClickHouse failed, or the relay died after the insert
-- but before the delete) is re-sent with the same rows and the same insert_deduplication_token.
ALTER TABLE telemetry_outbox ADD COLUMN batch text;

-- One row per claimed batch: its lease. A batch whose relay stopped renewing (claimed_at older
-- than ingest.relay.claimLeaseMs) is taken over whole by another relay; the batch's rows never
-- change after the claim, and go (with this row) in one statement once ClickHouse acknowledged.
CREATE TABLE telemetry_outbox_batches (
  batch      text PRIMARY KEY,
  claimed_by text NOT NULL,
  claimed_at timestamptz NOT NULL DEFAULT now(),
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX telemetry_outbox_batches_claimed ON telemetry_outbox_batches (claimed_at);

-- Unclaimed rows in order (what the next batch takes) and claimed rows by batch.
CREATE INDEX telemetry_outbox_unclaimed ON telemetry_outbox (seq) WHERE batch IS NULL;
CREATE INDEX telemetry_outbox_batch ON telemetry_outbox (batch) WHERE batch IS NOT NULL;

-- Every eventId accepted in the dedup window (config ingest.dedupWindowHours): a re-sent eventId
-- is dropped at append time, before it reaches the outbox, so raw events and rollups count it once.
-- Rows are pruned after the window, never while the event still waits in the outbox.
CREATE TABLE telemetry_event_ids (
  event_id text PRIMARY KEY,
  seen_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX telemetry_event_ids_seen ON telemetry_event_ids (seen_at);
