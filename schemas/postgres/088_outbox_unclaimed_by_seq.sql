-- Every event appended to the outbox wrote an entry in telemetry_outbox_unclaimed, the partial
-- index (seq) WHERE batch IS NULL: five per job of the orchestrator. The relay's reads of unclaimed
-- rows (`due`, `claim` in src/ingest/relay-store.ts: WHERE batch IS NULL ORDER BY seq LIMIT n) walk
-- the primary key (seq) instead, stepping over the rows of the batches under way (at most a few
-- batches; shipped rows are deleted). Measured with `npm run bench -- ingest --events 50000
-- --rounds 2`: relay drain 10,675-12,305 rows/s without the index, 11,089-12,127 with it; the
-- orchestrator's jobs write 5 WAL records fewer each.
DROP INDEX IF EXISTS telemetry_outbox_unclaimed;
