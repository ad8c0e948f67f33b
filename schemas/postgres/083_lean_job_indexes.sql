-- Fewer indexes on jobs. A job changes status three times or more (queued, running, finished), and
-- each change is a new row version with an entry in every index: an index that no query needs
-- costs every claim and every success.
-- jobs_run (run_id) is the prefix of the unique (run_id, step_key): lookups by run use that one.
DROP INDEX IF EXISTS jobs_run;
-- The reclaim sweep reads the running jobs (no more than the workers' slots) through jobs_running.
-- Without an index on lease_expires_at, a lease renewal changes no indexed column: PostgreSQL can
-- write it as a heap-only update, with no index entry at all.
DROP INDEX IF EXISTS jobs_leases;
