-- Budgets (docs/cost.md, "Budgets"). A threshold of a customer's budget is recorded once per month,
-- metric and budget amount: the row is what makes its event and notice happen exactly once. The
-- actions the policy and admins take are appended to `budget_actions` and never changed. The
-- enforcement row is the policy's state for the customer's current month.
CREATE TABLE budget_crossings (
  customer_id   text NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
  month         date NOT NULL CHECK (extract(day FROM month) = 1),
  metric        text NOT NULL CHECK (metric IN ('aiTokens', 'total')),
  budget_cents  bigint NOT NULL CHECK (budget_cents >= 0),
  threshold     integer NOT NULL CHECK (threshold IN (50, 80, 100)),
  spent_cents   bigint NOT NULL,
  crossed_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (customer_id, month, metric, budget_cents, threshold)
);

CREATE TABLE budget_actions (
  id           bigserial PRIMARY KEY,
  customer_id  text NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
  month        date NOT NULL CHECK (extract(day FROM month) = 1),
  action       text NOT NULL CHECK (action IN ('pause', 'fallback', 'lift', 'release', 'enforce')),
  cause        text NOT NULL,
  actor        text NOT NULL,
  reason       text,
  at           timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX budget_actions_customer_month ON budget_actions (customer_id, month, id);

CREATE FUNCTION budget_actions_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'budget_actions are appended, never changed';
END $$;
CREATE TRIGGER budget_actions_append_only BEFORE UPDATE ON budget_actions
  FOR EACH ROW EXECUTE FUNCTION budget_actions_append_only();

CREATE TABLE budget_enforcement (
  customer_id  text PRIMARY KEY REFERENCES customers (id) ON DELETE CASCADE,
  month        date NOT NULL CHECK (extract(day FROM month) = 1),
  -- The policy's action in force (null: none).
  applied      text CHECK (applied IN ('pause', 'fallback')),
  applied_at   timestamptz,
  -- An admin released the month: the policy does not act again this month unless re-enforced.
  released     boolean NOT NULL DEFAULT false,
  released_at  timestamptz
);
