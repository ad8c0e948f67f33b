-- The delivery outbox gains an `email` channel: one row per (customer notice, contact address),
-- idempotency key 'email:<notification id>:<lower-case address>', body { to, messageId } fixed
-- when the row is queued (so every attempt sends the same Message-ID).
ALTER TABLE incident_deliveries DROP CONSTRAINT incident_deliveries_channel_check;
ALTER TABLE incident_deliveries ADD CONSTRAINT incident_deliveries_channel_check
  CHECK (channel IN ('pagerduty', 'webhook', 'email'));
