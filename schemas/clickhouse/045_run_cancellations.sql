-- Who cancelled a run, and why (docs/sla.md, "Success rate"): on a run's `cancelled` event,
-- cancelled_by is 'customer' (a customer token) or 'operator' (the admin token), and cancel_reason
-- the optional reason given. A customer's cancellation is left out of its success rate; an
-- operator's counts against it. Rows from before: '' (read as the customer's, the old rule).
ALTER TABLE events ADD COLUMN IF NOT EXISTS cancelled_by LowCardinality(String) DEFAULT '';
ALTER TABLE events ADD COLUMN IF NOT EXISTS cancel_reason String DEFAULT '';
