-- Controls over one customer's work that a module above the orchestrator sets (budgets, issue 17;
-- docs/orchestrator.md "Customer controls"): a hold keeps the customer's runs that have not started
-- queued (steps of runs already started go on), and fallback mode runs every not-yet-started step
-- that declares a fallback as its fallback. The orchestrator owns the table and reads it in the
-- claim; `jobs.primary_step` keeps what a switched step was, so the switch can be undone.
CREATE TABLE customer_controls (
  customer_id      text PRIMARY KEY REFERENCES customers (id) ON DELETE CASCADE,
  -- Who holds the runs ('budget', 'admin') and why, in a sentence; all three null: no hold.
  hold_by          text,
  hold_detail      text,
  hold_since       timestamptz,
  fallback_by      text,
  fallback_detail  text,
  fallback_since   timestamptz,
  updated_at       timestamptz NOT NULL DEFAULT now(),
  CHECK ((hold_by IS NULL) = (hold_detail IS NULL) AND (hold_by IS NULL) = (hold_since IS NULL)),
  CHECK ((fallback_by IS NULL) = (fallback_detail IS NULL) AND (fallback_by IS NULL) = (fallback_since IS NULL))
);

-- A step switched to its fallback by fallback mode: its own kind, pool and input (null otherwise).
ALTER TABLE jobs ADD COLUMN primary_step jsonb;
