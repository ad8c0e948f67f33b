-- Provenance of each event (docs/telemetry.md, "Who may say what"): 'steward' (written by Steward
-- itself), 'operator' (sent with the admin token) or 'customer' (sent with a customer token:
-- evidence or the customer's own usage). Rules and SLA figures that must rest on facts ignore
-- customer rows where a customer could otherwise forge them. Rows from before: 'steward'.
ALTER TABLE events ADD COLUMN IF NOT EXISTS source LowCardinality(String) DEFAULT 'steward';
