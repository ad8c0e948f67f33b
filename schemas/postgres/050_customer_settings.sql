-- Per-customer settings (tenants): what scheduling and spending need per customer. Only what
-- the admin set is stored (a JSON merge of overrides); the effective settings are the config's
-- defaults with these on top, so a change of defaults reaches every customer that did not
-- override that setting.
ALTER TABLE customers ADD COLUMN settings jsonb NOT NULL DEFAULT '{}'::jsonb
  CHECK (jsonb_typeof(settings) = 'object');
