-- Customer notifications (incident status updates, SLA credit notices), queued in the caller's
-- transaction and delivered to the customer's webhook by the incidents module's delivery outbox.
CREATE TABLE customer_notifications (
  id          bigserial PRIMARY KEY,
  customer_id text NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
  kind        text NOT NULL,
  -- Queuing the same notification twice (a retried close, a re-evaluated rule) is a no-op.
  dedup_key   text NOT NULL,
  payload     jsonb NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  UNIQUE (customer_id, dedup_key)
);
