-- Profitability frozen at the SLA close (docs/cost.md): one row per closed month with the fixed
-- cost, the allocation policy and every input behind the shares, and one row per customer of the
-- month with its shares and the variable cost, fee and credit taken from its credit record. Both
-- are written once, in one transaction, at the month's close (a held month: at its release), and
-- never change afterwards (a trigger refuses UPDATE and DELETE).
CREATE TABLE cost_months (
  month              date PRIMARY KEY CHECK (extract(day FROM month) = 1),
  currency           text NOT NULL,
  policy             text NOT NULL CHECK (policy IN ('equal', 'proportional', 'fixed_percent')),
  -- The rule that set the shares: the policy, or 'equal' when proportional had no variable cost.
  basis              text NOT NULL CHECK (basis IN ('equal', 'proportional', 'fixed_percent')),
  fixed_cents        bigint NOT NULL CHECK (fixed_cents >= 0),
  unallocated_cents  bigint NOT NULL CHECK (unallocated_cents >= 0),
  inputs             jsonb NOT NULL,
  inputs_sha256      text NOT NULL,
  computed_at        timestamptz NOT NULL,
  frozen_at          timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE cost_customer_months (
  month                 date NOT NULL REFERENCES cost_months (month),
  customer_id           text NOT NULL REFERENCES customers (id),
  credit_id             bigint REFERENCES sla_credits (id),
  minutes_in_service    integer NOT NULL CHECK (minutes_in_service >= 0),
  fixed_percent         numeric(7, 4),
  fixed_cents           bigint NOT NULL CHECK (fixed_cents >= 0),
  infrastructure_cents  bigint NOT NULL CHECK (infrastructure_cents >= 0),
  ai_cents              bigint NOT NULL CHECK (ai_cents >= 0),
  fee_cents             bigint NOT NULL CHECK (fee_cents >= 0),
  credit_cents          bigint NOT NULL CHECK (credit_cents >= 0),
  plan_currency         text NOT NULL,
  PRIMARY KEY (month, customer_id)
);
CREATE INDEX cost_customer_months_customer ON cost_customer_months (customer_id, month);

CREATE FUNCTION cost_months_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '% rows are immutable (% of month %)', TG_TABLE_NAME, TG_OP, OLD.month;
END $$;
CREATE TRIGGER cost_months_immutable BEFORE UPDATE OR DELETE ON cost_months
  FOR EACH ROW EXECUTE FUNCTION cost_months_immutable();
CREATE TRIGGER cost_customer_months_immutable BEFORE UPDATE OR DELETE ON cost_customer_months
  FOR EACH ROW EXECUTE FUNCTION cost_months_immutable();
