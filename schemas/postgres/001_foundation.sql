-- Tenants, API tokens and the record of scheduled job runs.

CREATE TABLE customers (
  id          text PRIMARY KEY CHECK (id ~ '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$'),
  name        text NOT NULL,
  -- Where status updates for this customer are POSTed (incidents module); null: none.
  webhook_url text,
  webhook_secret text,
  created_at  timestamptz NOT NULL DEFAULT now()
);

-- Only the SHA-256 of a token is stored; the token itself is shown once, at creation.
CREATE TABLE api_tokens (
  id          bigserial PRIMARY KEY,
  token_hash  bytea NOT NULL UNIQUE,
  customer_id text NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
  name        text NOT NULL DEFAULT '',
  created_at  timestamptz NOT NULL DEFAULT now(),
  revoked_at  timestamptz
);
CREATE INDEX api_tokens_customer ON api_tokens (customer_id);

-- One row per (job, scheduled time): the unique key is what makes a tick run once across instances.
CREATE TABLE scheduled_runs (
  id            bigserial PRIMARY KEY,
  job           text NOT NULL,
  scheduled_for timestamptz NOT NULL,
  instance      text NOT NULL,
  started_at    timestamptz NOT NULL DEFAULT now(),
  finished_at   timestamptz,
  outcome       text NOT NULL DEFAULT 'running' CHECK (outcome IN ('running', 'succeeded', 'failed')),
  error         text,
  detail        jsonb,
  UNIQUE (job, scheduled_for)
);
CREATE INDEX scheduled_runs_job_time ON scheduled_runs (job, scheduled_for DESC);
