-- Fair share inside a pool (src/orchestrator/claim.ts). The claim walks the customers with queued
-- jobs in a pool (a skip scan over the leading (pool, customer_id) of jobs_ready), takes each one's
-- next jobs by priority then age, and counts each one's running jobs (jobs_running). Both indexes
-- are partial on a live status, so finished history never enters the claim path.
DROP INDEX jobs_ready;
CREATE INDEX jobs_ready ON jobs (pool, customer_id, priority DESC, run_at, id) WHERE status = 'queued';
CREATE INDEX jobs_running ON jobs (pool, customer_id) WHERE status = 'running';
-- Per-run caps count a run's running jobs.
CREATE INDEX jobs_run_running ON jobs (run_id) WHERE status = 'running';
