-- The outbox's (customer_id, event_id) index serves one query: the pruning of the deduplication
-- window (telemetry_event_ids), which keeps an id while its event still waits in the outbox. The
-- events the orchestrator builds in SQL (a run created, jobs claimed, successes recorded:
-- stewardOutboxCtes) carry new random ids that are never recorded in that window, so no query
-- looks them up; they are most of the outbox's rows (five per job). `in_dedup_window` marks the
-- others, and the index keeps only them: one index entry fewer per such event.
ALTER TABLE telemetry_outbox ADD COLUMN in_dedup_window boolean NOT NULL DEFAULT true;
DROP INDEX IF EXISTS telemetry_outbox_customer_event;
CREATE INDEX telemetry_outbox_customer_event ON telemetry_outbox (customer_id, event_id) WHERE in_dedup_window;
