-- Only runs created with an idempotency key are looked up by it: the unique index on
-- (customer_id, idempotency_key) keeps those alone, and a run without one writes an index entry
-- fewer (and, in create-run.ts, is a plain insert rather than a speculative one).
ALTER TABLE runs DROP CONSTRAINT runs_customer_id_idempotency_key_key;
CREATE UNIQUE INDEX runs_idempotency ON runs (customer_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
