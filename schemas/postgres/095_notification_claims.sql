-- Customer notifications are claimed by their deliverer (the incidents module's delivery outbox):
-- claimed_at is set in the transaction that queues a notice's delivery, so new notices are found
-- through this partial index instead of comparing every notice with the outbox, and the outbox
-- reads the queue only through the notify module. Notices that already have a delivery count as
-- claimed.
ALTER TABLE customer_notifications ADD COLUMN claimed_at timestamptz;
UPDATE customer_notifications n SET claimed_at = n.created_at
  WHERE EXISTS (SELECT 1 FROM incident_deliveries d WHERE d.notification_id = n.id);
CREATE INDEX customer_notifications_unclaimed ON customer_notifications (id) WHERE claimed_at IS NULL;
