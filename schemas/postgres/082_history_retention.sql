-- Bounded history (src/orchestrator/retention.ts): finished runs are deleted oldest first by their
-- finish time, their jobs, attempts and usage with them (ON DELETE CASCADE). None of these indexes
-- is on the claim path: the claim's are all partial on a live status (080_fair_claim.sql).
CREATE INDEX runs_finished ON runs (finished_at) WHERE status IN ('succeeded', 'failed', 'cancelled');
-- The cascade from a deleted job to its usage rows (job_usage had an index on run_id only).
CREATE INDEX job_usage_job ON job_usage (job_id);
-- Workers that stopped or were lost, by their last sign of life.
CREATE INDEX workers_gone ON workers (last_heartbeat_at) WHERE status IN ('stopped', 'lost');
-- The scheduler's run records by tick (src/scheduler/history.ts prunes them by age).
CREATE INDEX scheduled_runs_time ON scheduled_runs (scheduled_for);
