-- SLA engine: versioned plans, maintenance windows, immutable monthly credit records, billing
-- adjustments for the next cycle, month closes and RPO samples.

-- Plan versions added through the admin API (version 0 is the config file's plan or the default).
-- The version in force for a month is the highest whose effective_from is not after that month.
CREATE TABLE sla_plans (
  customer_id    text NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
  version        integer NOT NULL CHECK (version >= 1),
  effective_from date NOT NULL CHECK (extract(day FROM effective_from) = 1),
  plan           jsonb NOT NULL,
  created_at     timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (customer_id, version)
);

-- Planned maintenance (besides the config file's windows); customer_id null: everyone.
CREATE TABLE sla_maintenance_windows (
  id          bigserial PRIMARY KEY,
  customer_id text REFERENCES customers (id) ON DELETE CASCADE,
  starts_at   timestamptz NOT NULL,
  ends_at     timestamptz NOT NULL CHECK (ends_at > starts_at),
  reason      text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX sla_maintenance_windows_time ON sla_maintenance_windows (starts_at, ends_at);

-- One record per customer and month, never changed once written: the unique key makes a second
-- (or concurrent) close a no-op, the trigger refuses updates and deletes. `inputs` is the
-- snapshot a disputed credit is explained from (figures, plan and version, tiers hit).
CREATE TABLE sla_credits (
  id             bigserial PRIMARY KEY,
  customer_id    text NOT NULL REFERENCES customers (id),
  month          date NOT NULL CHECK (extract(day FROM month) = 1),
  plan_version   integer NOT NULL,
  credit_percent numeric NOT NULL CHECK (credit_percent >= 0 AND credit_percent <= 100),
  fee_cents      bigint NOT NULL CHECK (fee_cents >= 0),
  credit_cents   bigint NOT NULL CHECK (credit_cents >= 0),
  currency       text NOT NULL,
  tiers          jsonb NOT NULL,
  inputs         jsonb NOT NULL,
  inputs_sha256  text NOT NULL,
  computed_at    timestamptz NOT NULL,
  created_at     timestamptz NOT NULL DEFAULT now(),
  UNIQUE (customer_id, month)
);
CREATE INDEX sla_credits_month ON sla_credits (month);

CREATE FUNCTION sla_credits_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'sla_credits records are immutable (% of credit %)', TG_OP, OLD.id;
END $$;
CREATE TRIGGER sla_credits_immutable BEFORE UPDATE OR DELETE ON sla_credits
  FOR EACH ROW EXECUTE FUNCTION sla_credits_immutable();

-- A credit as a billing adjustment against the next billing cycle (negative amount).
CREATE TABLE sla_billing_adjustments (
  id            bigserial PRIMARY KEY,
  credit_id     bigint NOT NULL UNIQUE REFERENCES sla_credits (id),
  customer_id   text NOT NULL REFERENCES customers (id),
  billing_cycle date NOT NULL,
  amount_cents  bigint NOT NULL CHECK (amount_cents < 0),
  currency      text NOT NULL,
  description   text NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX sla_billing_adjustments_cycle ON sla_billing_adjustments (billing_cycle);

-- Months whose close finished for every customer that existed in them.
CREATE TABLE sla_month_closes (
  month                 date PRIMARY KEY,
  closed_at             timestamptz NOT NULL DEFAULT now(),
  customers             integer NOT NULL,
  clickhouse_written_at timestamptz
);

CREATE TABLE sla_rpo_samples (
  source      text NOT NULL,
  sampled_at  timestamptz NOT NULL,
  lag_seconds float8 NOT NULL,
  PRIMARY KEY (source, sampled_at)
);
CREATE INDEX sla_rpo_samples_time ON sla_rpo_samples (sampled_at);
