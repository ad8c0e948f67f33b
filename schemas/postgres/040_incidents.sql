-- Incidents: one row per incident, its timeline, detection state per (rule, scope), silences,
-- and the delivery outbox (PagerDuty events and customer webhooks).

CREATE TABLE incidents (
  id              text PRIMARY KEY,
  rule            text NOT NULL,
  -- What the rule fired on: '' (the factory), 'customer:<id>', 'pool:<name>', 'probe:<target>'.
  scope           text NOT NULL,
  severity        text NOT NULL CHECK (severity IN ('critical', 'error', 'warning', 'info')),
  status          text NOT NULL CHECK (status IN ('triggered', 'acknowledged', 'resolved')),
  summary         text NOT NULL,
  customer_ids    text[] NOT NULL DEFAULT '{}',
  details         jsonb NOT NULL DEFAULT '{}',
  -- When the condition was first seen firing (detection time = opened_at - condition_since).
  condition_since timestamptz NOT NULL,
  opened_at       timestamptz NOT NULL,
  acknowledged_at timestamptz,
  resolved_at     timestamptz,
  resolved_by     text,
  last_firing_at  timestamptz NOT NULL,
  -- Set while the condition is clear; the incident auto-resolves once clear long enough.
  cleared_since   timestamptz,
  -- Whether a PagerDuty trigger was queued (a silenced incident is paged only if it outlives the silence).
  paged           boolean NOT NULL DEFAULT false,
  silenced        boolean NOT NULL DEFAULT false,
  root_cause      text,
  prevention      text
);
-- Deduplication: at most one open incident per rule and scope.
CREATE UNIQUE INDEX incidents_open_rule_scope ON incidents (rule, scope) WHERE status <> 'resolved';
CREATE INDEX incidents_opened ON incidents (opened_at DESC);
CREATE INDEX incidents_customers ON incidents USING gin (customer_ids);

CREATE TABLE incident_timeline (
  id          bigserial PRIMARY KEY,
  incident_id text NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
  at          timestamptz NOT NULL DEFAULT now(),
  -- transition | evaluation | notification | update | silence | note
  kind        text NOT NULL,
  message     text NOT NULL,
  detail      jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX incident_timeline_incident ON incident_timeline (incident_id, id);

-- Per (rule, scope): consecutive firing evaluations before an incident exists (hysteresis on open).
CREATE TABLE incident_rule_state (
  rule          text NOT NULL,
  scope         text NOT NULL,
  firing_since  timestamptz,
  firing_count  integer NOT NULL DEFAULT 0,
  evaluated_at  timestamptz NOT NULL,
  PRIMARY KEY (rule, scope)
);

-- Maintenance windows / silences: matching incidents are recorded but not paged.
CREATE TABLE incident_silences (
  id          bigserial PRIMARY KEY,
  rule        text,          -- null: every rule
  scope       text,          -- null: every scope
  starts_at   timestamptz NOT NULL,
  ends_at     timestamptz NOT NULL CHECK (ends_at > starts_at),
  reason      text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now()
);

-- The delivery outbox. PagerDuty rows: one per (incident, action), so an action is queued once.
-- Webhook rows: one per customer notification.
CREATE TABLE incident_deliveries (
  id              bigserial PRIMARY KEY,
  channel         text NOT NULL CHECK (channel IN ('pagerduty', 'webhook')),
  -- pagerduty: '<incident id>:<action>[:<n>]'; webhook: 'notification:<id>'.
  idempotency_key text NOT NULL UNIQUE,
  incident_id     text REFERENCES incidents (id) ON DELETE CASCADE,
  notification_id bigint REFERENCES customer_notifications (id) ON DELETE CASCADE,
  -- Deliveries of one ordering key go out in id order (trigger before resolve).
  order_key       text NOT NULL,
  body            jsonb NOT NULL,
  status          text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'rejected', 'skipped')),
  attempts        integer NOT NULL DEFAULT 0,
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  last_status     integer,
  last_error      text,
  created_at      timestamptz NOT NULL DEFAULT now(),
  finished_at     timestamptz
);
CREATE INDEX incident_deliveries_pending ON incident_deliveries (channel, next_attempt_at) WHERE status = 'pending';
CREATE INDEX incident_deliveries_order ON incident_deliveries (order_key, id) WHERE status = 'pending';
CREATE INDEX incident_deliveries_notification ON incident_deliveries (notification_id);
