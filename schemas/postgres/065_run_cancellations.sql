-- Who cancelled a run, and why: set by POST /v1/runs/{id}/cancel, cleared when the run is resumed.
-- cancelled_by: 'operator' (the admin token) or 'customer' (a token of the run's customer);
-- cancelled_actor: the principal ('admin', or 'customer:<id>/token:<token id>').
ALTER TABLE runs
  ADD COLUMN cancelled_by text CHECK (cancelled_by IN ('operator', 'customer')),
  ADD COLUMN cancelled_actor text,
  ADD COLUMN cancel_reason text;
