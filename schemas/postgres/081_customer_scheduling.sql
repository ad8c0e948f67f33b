-- The scheduling part of each customer's effective settings (src/tenants): fair-share weight and
-- concurrency caps, kept by tenants beside the settings (written in the same transaction as a
-- customer's creation or settings change; rewritten for every customer when serve starts, since
-- the config's defaults may have changed). The row '*' holds the defaults, for a customer that has
-- no row of its own. The orchestrator's claim reads this table in SQL: the documented exception
-- to "a table is read only by the module that owns it" (docs/architecture.md).
CREATE TABLE customer_scheduling (
  customer_id text PRIMARY KEY,
  weight      float8 NOT NULL DEFAULT 1 CHECK (weight > 0),
  -- { "<pool>": <most running jobs of this customer in that pool> }
  per_pool    jsonb NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(per_pool) = 'object'),
  -- Most running jobs of one run of this customer (NULL: no cap).
  per_run     integer CHECK (per_run > 0)
);
INSERT INTO customer_scheduling (customer_id) VALUES ('*');
