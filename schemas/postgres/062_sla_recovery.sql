-- RTO and RPO from what happened (docs/sla.md, "How each figure is computed: RTO and RPO").

-- The queue after an outage: one sample a minute (the largest seen in that minute), taken by the
-- serve instances; full recovery ends at the first up minute whose backlog is drained.
CREATE TABLE sla_queue_samples (
  minute               timestamptz PRIMARY KEY,
  ready_jobs           integer NOT NULL CHECK (ready_jobs >= 0),
  oldest_ready_seconds float8 NOT NULL CHECK (oldest_ready_seconds >= 0)
);

-- An RPO sample that measured nothing (no replica, or a replica reporting no lag) is NULL, never 0.
ALTER TABLE sla_rpo_samples ALTER COLUMN lag_seconds DROP NOT NULL;

-- Control-plane failover ends when the scheduler's ticks resume on another instance: the
-- scheduler's runs looked up by start time (src/scheduler, ticksResumedAfter).
CREATE INDEX scheduled_runs_started ON scheduled_runs (started_at);
