-- Maintenance windows that hold up in a dispute (docs/sla.md, "How each figure is computed:
-- maintenance"): every window is declared at a known time by a known actor; a window declared with
-- less notice than sla.maintenanceNoticeHours, or beyond its plan's monthly cap, is an explicit,
-- audited adjustment with a reason; windows are cancelled (kept, marked, with actor), never deleted.
-- Windows of the config file are stored too, on first sight, and judged by the same rule.
ALTER TABLE sla_maintenance_windows
  ADD COLUMN source            text NOT NULL DEFAULT 'api' CHECK (source IN ('api', 'config')),
  ADD COLUMN config_key        text UNIQUE,
  ADD COLUMN declared_at       timestamptz,
  ADD COLUMN declared_by       text NOT NULL DEFAULT 'admin',
  -- planned: with notice and within the cap; adjustment: late or over the cap, with a reason;
  -- refused: a config-file window that needed an adjustment and had none (never applied).
  ADD COLUMN status            text NOT NULL DEFAULT 'planned' CHECK (status IN ('planned', 'adjustment', 'refused')),
  ADD COLUMN adjustment_kinds  text[] NOT NULL DEFAULT '{}',
  ADD COLUMN adjustment_reason text,
  ADD COLUMN cancelled_at      timestamptz,
  ADD COLUMN cancelled_by      text,
  ADD COLUMN cancel_reason     text,
  ADD CONSTRAINT sla_maintenance_adjustment CHECK ((status = 'adjustment') = (adjustment_reason IS NOT NULL)),
  ADD CONSTRAINT sla_maintenance_cancelled CHECK (
    (cancelled_at IS NULL) = (cancelled_by IS NULL) AND (cancelled_at IS NULL) = (cancel_reason IS NULL));

-- Windows declared before this migration keep applying as they were: declared when stored.
UPDATE sla_maintenance_windows SET declared_at = created_at;
ALTER TABLE sla_maintenance_windows ALTER COLUMN declared_at SET NOT NULL, ALTER COLUMN declared_at SET DEFAULT now();

-- Kept for the record: a window is cancelled, never deleted (a customer's deletion still removes its own).
CREATE FUNCTION sla_maintenance_no_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF pg_trigger_depth() > 1 THEN RETURN OLD; END IF; -- ON DELETE CASCADE of the customer
  RAISE EXCEPTION 'maintenance windows are cancelled, not deleted (window %)', OLD.id;
END $$;
CREATE TRIGGER sla_maintenance_no_delete BEFORE DELETE ON sla_maintenance_windows
  FOR EACH ROW EXECUTE FUNCTION sla_maintenance_no_delete();
