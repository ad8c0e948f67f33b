-- The relay's plan for a claimed batch, kept with its lease so that every attempt at the batch (by
-- this relay after a failure, or by another that takes it over) sends the same inserts with the
-- same deduplication tokens (src/ingest/relay.ts, docs/telemetry.md):
-- - max_partitions: the partition cap per insert in force when the batch was claimed (the batch is
--   cut into inserts of at most this many months; NULL: claimed before this migration, use the
--   current setting);
-- - split_tokens: the inserts ClickHouse refused whole for a row's sake; a later attempt goes
--   straight to their halves and never sends them whole again.
ALTER TABLE telemetry_outbox_batches
  ADD COLUMN max_partitions int,
  ADD COLUMN split_tokens text[] NOT NULL DEFAULT '{}';
