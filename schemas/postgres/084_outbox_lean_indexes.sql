-- One index fewer on the outbox, which every state change of a job and every event writes to (an
-- entry per index at the insert, and again when the relay claims the row for a batch).
-- telemetry_outbox_event (event_id alone) served only the pruning of the legacy id window
-- (075_telemetry_provenance.sql): ids accepted before ids were per customer, pruned once older
-- than the deduplication window, so that table empties after the first window of an upgrade. The
-- per-customer index (customer_id, event_id) serves everything else.
DROP INDEX IF EXISTS telemetry_outbox_event;
