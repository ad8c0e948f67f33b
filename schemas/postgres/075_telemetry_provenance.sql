-- Provenance of telemetry and event ids deduplicated per customer (docs/telemetry.md, "Who may
-- say what").
--
-- Every outbox row records who said it: 'steward' (Steward's own appendEvents: facts of the
-- platform), 'operator' (POST /v1/events with the admin token) or 'customer' (POST /v1/events with
-- a customer token: evidence and the customer's own usage, never a platform fact). The relay copies
-- it into ClickHouse `events.source`, so the SLA engine and detection rules can tell evidence from
-- fact. Rows written before this migration were written by Steward or the operator: 'steward'.
ALTER TABLE telemetry_outbox
  ADD COLUMN source text NOT NULL DEFAULT 'steward' CHECK (source IN ('steward', 'operator', 'customer'));
ALTER TABLE telemetry_outbox_dead
  ADD COLUMN customer_id text NOT NULL DEFAULT '',
  ADD COLUMN source text NOT NULL DEFAULT 'steward';

-- Event ids are deduplicated per customer: one customer's id can never pre-empt another
-- customer's event (nor the factory's, customer ''). Steward's own ids carry the reserved prefix
-- 'steward:', which HTTP senders may not use, so no sender can pre-empt one of them either.
--
-- The ids accepted before this migration have no customer: they are kept aside, and an id found
-- there is still a duplicate for every customer until the prune job forgets it after the dedup
-- window (so a producer re-sending across the upgrade is still counted once).
ALTER TABLE telemetry_event_ids RENAME TO telemetry_event_ids_legacy;
ALTER TABLE telemetry_event_ids_legacy RENAME CONSTRAINT telemetry_event_ids_pkey TO telemetry_event_ids_legacy_pkey;
ALTER INDEX telemetry_event_ids_seen RENAME TO telemetry_event_ids_legacy_seen;

CREATE TABLE telemetry_event_ids (
  customer_id text NOT NULL,
  event_id    text NOT NULL,
  seen_at     timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (customer_id, event_id)
);
CREATE INDEX telemetry_event_ids_seen ON telemetry_event_ids (seen_at);
CREATE INDEX telemetry_outbox_customer_event ON telemetry_outbox (customer_id, event_id);
