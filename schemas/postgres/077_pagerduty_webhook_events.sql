-- PagerDuty v3 webhook events already applied, by PagerDuty's event id: a replayed or redelivered
-- event is answered 'duplicate' and changes nothing. Rows older than twice the replay window are
-- pruned (an event that old is refused by its occurred_at anyway).
CREATE TABLE pagerduty_webhook_events (
  event_id    text PRIMARY KEY,
  occurred_at timestamptz NOT NULL,
  received_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX pagerduty_webhook_events_received ON pagerduty_webhook_events (received_at);
