-- The SLA engine's own witness of service, the months its close held, and the audit log of every
-- decision a person makes about SLA figures (docs/sla.md, "How each figure is computed").

-- Liveness of each serve instance, written by the instance itself every few seconds into
-- PostgreSQL only: independent of ClickHouse and of the telemetry relay. One row per unbroken
-- span of beats: a beat extends the instance's latest span when that span's last beat is at most
-- 60 s old, else it opens a new span. The earliest first_beat is when the installation first served.
CREATE TABLE sla_witness (
  id          bigserial PRIMARY KEY,
  instance_id text NOT NULL,
  first_beat  timestamptz NOT NULL,
  last_beat   timestamptz NOT NULL,
  CHECK (last_beat >= first_beat)
);
CREATE INDEX sla_witness_instance ON sla_witness (instance_id, last_beat DESC);
CREATE INDEX sla_witness_time ON sla_witness (first_beat, last_beat);

-- Months the close held because ClickHouse's signal coverage disagreed with the witness (telemetry
-- lost, relay stalled): minutes the witness saw an instance serving that ClickHouse holds no
-- signal for. A hold is released only by an admin, with a reason (and an audit row).
CREATE TABLE sla_month_holds (
  month              date PRIMARY KEY CHECK (extract(day FROM month) = 1),
  held_at            timestamptz NOT NULL DEFAULT now(),
  checked_at         timestamptz NOT NULL DEFAULT now(),
  unmeasured_minutes integer NOT NULL CHECK (unmeasured_minutes >= 0),
  periods            jsonb NOT NULL,
  released_at        timestamptz,
  released_by        text,
  release_reason     text,
  CHECK ((released_at IS NULL) = (released_by IS NULL) AND (released_at IS NULL) = (release_reason IS NULL))
);

-- Append-only: a late or over-cap maintenance window, a cancelled window, a released month.
CREATE TABLE sla_audit (
  id      bigserial PRIMARY KEY,
  at      timestamptz NOT NULL DEFAULT now(),
  actor   text NOT NULL,
  action  text NOT NULL,
  subject text NOT NULL,
  reason  text NOT NULL,
  detail  jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX sla_audit_subject ON sla_audit (subject, at);

CREATE FUNCTION sla_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'sla_audit is append-only (% of entry %)', TG_OP, OLD.id;
END $$;
CREATE TRIGGER sla_audit_append_only BEFORE UPDATE OR DELETE ON sla_audit
  FOR EACH ROW EXECUTE FUNCTION sla_audit_append_only();
