-- The orchestrator: runs (a DAG of steps), jobs (one per step; also the queue), the history of
-- each job's attempts, token usage, live workers and the autoscaler's last recommendation.

CREATE TABLE runs (
  id              text PRIMARY KEY,
  customer_id     text NOT NULL REFERENCES customers (id),
  project_id      text NOT NULL,
  type            text NOT NULL,
  priority        integer NOT NULL DEFAULT 0,
  idempotency_key text,
  status          text NOT NULL DEFAULT 'queued'
                  CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
  error_class     text,
  created_at      timestamptz NOT NULL DEFAULT now(),
  started_at      timestamptz,
  finished_at     timestamptz,
  -- A second POST with the same key (per customer) returns the first run.
  UNIQUE (customer_id, idempotency_key)
);
CREATE INDEX runs_customer_created ON runs (customer_id, created_at DESC);
CREATE INDEX runs_created ON runs (created_at DESC);

-- status: blocked (dependencies not yet succeeded) -> queued -> running -> succeeded, or
-- failed (validation: no retry), dead (in the dead-letter queue), cancelled.
CREATE TABLE jobs (
  id              text PRIMARY KEY,
  run_id          text NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  -- Copied from the run so the queue and telemetry need no join.
  customer_id     text NOT NULL,
  project_id      text NOT NULL,
  run_type        text NOT NULL,
  step_key        text NOT NULL,
  kind            text NOT NULL,
  pool            text NOT NULL,
  input           jsonb NOT NULL DEFAULT '{}',
  depends_on      text[] NOT NULL DEFAULT '{}',
  -- { kind, input?, pool } run instead when the step fails with an agent error.
  fallback        jsonb,
  using_fallback  boolean NOT NULL DEFAULT false,
  priority        integer NOT NULL DEFAULT 0,
  max_attempts    integer NOT NULL,
  backoff_ms      integer NOT NULL,
  timeout_ms      integer,
  status          text NOT NULL
                  CHECK (status IN ('blocked', 'queued', 'running', 'succeeded', 'failed', 'dead', 'cancelled')),
  -- attempt: times started (the handler's ctx.attempt; also the lease's generation).
  attempt         integer NOT NULL DEFAULT 0,
  -- failures: transient/agent failures counted against max_attempts since the last (re)queue by an operator.
  failures        integer NOT NULL DEFAULT 0,
  -- reclaims: lease expiries/releases (infrastructure), capped separately.
  reclaims        integer NOT NULL DEFAULT 0,
  run_at          timestamptz NOT NULL DEFAULT now(),
  lease_owner     text,
  lease_expires_at timestamptz,
  started_at      timestamptz,
  finished_at     timestamptz,
  output          jsonb,
  checkpoint      jsonb,
  error_class     text,
  last_error      text,
  worker_ms       bigint NOT NULL DEFAULT 0,
  dead_lettered_at timestamptz,
  created_at      timestamptz NOT NULL DEFAULT now(),
  UNIQUE (run_id, step_key)
);
-- The queue: ready jobs of a pool by priority, then age.
CREATE INDEX jobs_ready ON jobs (pool, priority DESC, run_at, id) WHERE status = 'queued';
CREATE INDEX jobs_leases ON jobs (lease_expires_at) WHERE status = 'running';
CREATE INDEX jobs_dead ON jobs (dead_lettered_at DESC) WHERE status = 'dead';
CREATE INDEX jobs_run ON jobs (run_id);

CREATE TABLE job_attempts (
  id            bigserial PRIMARY KEY,
  job_id        text NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
  attempt       integer NOT NULL,
  kind          text NOT NULL,
  worker_id     text NOT NULL,
  started_at    timestamptz NOT NULL DEFAULT now(),
  finished_at   timestamptz,
  -- running | succeeded | failed | retried | dead_lettered | reclaimed | released | cancelled | lost
  outcome       text NOT NULL DEFAULT 'running',
  error_class   text,
  error         text,
  duration_ms   integer,
  -- For a retried attempt: the backoff chosen before the next one may start.
  retry_delay_ms integer,
  UNIQUE (job_id, attempt)
);

CREATE TABLE job_usage (
  id            bigserial PRIMARY KEY,
  job_id        text NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
  run_id        text NOT NULL,
  attempt       integer NOT NULL,
  model         text NOT NULL,
  input_tokens  bigint NOT NULL,
  output_tokens bigint NOT NULL,
  reported_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX job_usage_run ON job_usage (run_id);

CREATE TABLE workers (
  id            text PRIMARY KEY,
  pool          text NOT NULL,
  concurrency   integer NOT NULL,
  host          text NOT NULL DEFAULT '',
  pid           integer,
  status        text NOT NULL DEFAULT 'live' CHECK (status IN ('live', 'stopping', 'stopped', 'lost')),
  started_at    timestamptz NOT NULL DEFAULT now(),
  last_heartbeat_at timestamptz NOT NULL DEFAULT now(),
  stopped_at    timestamptz
);
CREATE INDEX workers_live ON workers (pool) WHERE status IN ('live', 'stopping');

-- The autoscaler's last recommendation per pool (for its cooldown).
CREATE TABLE pool_scaling (
  pool          text PRIMARY KEY,
  recommended   integer NOT NULL,
  changed_at    timestamptz NOT NULL DEFAULT now()
);
