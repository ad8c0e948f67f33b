// Reliability dashboard: uptime (signals_1m), worker errors and DLQ (jobs_1h, raw job events),
// incidents, RTO/RPO against targets (raw recovery events, sla_monthly), telemetry pipeline lag.
import type { DashboardSpec } from './builder.ts'
import { ATTEMPT_ERRORS, filters, JOB_DIMS, MONTHS_IN_RANGE, STANDARD_VARIABLES, UP_SIGNAL } from './sql.ts'

const jobs = filters(JOB_DIMS)
const customer = filters(['customer'])
const errorRate = `sumIf(jobs, ${ATTEMPT_ERRORS}) / nullIf(sumIf(jobs, ${ATTEMPT_ERRORS} OR action = 'succeeded'), 0)`

export const reliabilityDashboard: DashboardSpec = {
  uid: 'steward-reliability',
  title: 'Steward / Reliability',
  description:
    'Uptime, worker errors, dead-letter queue, incidents, RTO/RPO against targets and telemetry lag.',
  from: 'now-7d',
  variables: STANDARD_VARIABLES,
  panels: [
    { row: 'Availability' },
    {
      source: 'clickhouse',
      type: 'stat',
      title: 'Uptime',
      description:
        'Minutes with a healthy control-plane heartbeat or an ok probe / minutes in the range. A minute without any signal counts as down.',
      unit: 'percentunit',
      decimals: 3,
      w: 6,
      h: 5,
      threshold: { value: 0.999, higherIsBetter: true },
      format: 'table',
      columns: ['uptime', 'up_minutes', 'minutes'],
      sql: `SELECT countIf(up) / minutes AS uptime, countIf(up) AS up_minutes,
    greatest(1, intDiv(toUInt32($__toTime) - toUInt32($__fromTime), 60)) AS minutes
FROM
(
    SELECT minute, sumIf(healthy, ${UP_SIGNAL}) > 0 AS up
    FROM signals_1m
    WHERE minute >= $__fromTime AND minute < $__toTime
    GROUP BY minute
)`,
    },
    {
      source: 'clickhouse',
      type: 'stat',
      title: 'Worker error rate',
      description:
        'Job attempts ending in failed, retried, dead_lettered or reclaimed / all attempts that ended.',
      unit: 'percentunit',
      decimals: 2,
      w: 6,
      h: 5,
      threshold: { value: 0.05, higherIsBetter: false },
      format: 'table',
      columns: ['error_rate'],
      sql: `SELECT ${errorRate} AS error_rate FROM jobs_1h WHERE $__timeFilter(hour) AND ${jobs}`,
    },
    {
      source: 'clickhouse',
      type: 'stat',
      title: 'DLQ size',
      description:
        'Jobs whose latest event up to the end of the range is dead_lettered (raw job events, FINAL: no rollup keeps per-job state).',
      w: 6,
      h: 5,
      threshold: { value: 1, higherIsBetter: false },
      format: 'table',
      columns: ['dlq_size'],
      sql: `SELECT count() AS dlq_size
FROM
(
    SELECT job_id, argMax(action, ts) AS last_action
    FROM events FINAL
    WHERE type = 'job' AND ts <= $__toTime AND ${jobs}
      AND job_id IN (SELECT job_id FROM events WHERE type = 'job' AND action = 'dead_lettered' AND ts <= $__toTime)
    GROUP BY job_id
)
WHERE last_action = 'dead_lettered'`,
    },
    {
      source: 'clickhouse',
      type: 'stat',
      title: 'Open incidents',
      description: 'Incidents whose latest event up to the end of the range is not resolved.',
      w: 6,
      h: 5,
      threshold: { value: 1, higherIsBetter: false },
      format: 'table',
      columns: ['open_incidents'],
      sql: `SELECT count() AS open_incidents
FROM
(
    SELECT incident_id, argMax(action, ts) AS state
    FROM events FINAL
    WHERE type = 'incident' AND ts <= $__toTime AND ${customer}
    GROUP BY incident_id
)
WHERE state != 'resolved'`,
    },
    {
      source: 'clickhouse',
      type: 'timeseries',
      bars: true,
      title: 'Down minutes',
      description: 'Minutes per interval without a healthy control-plane heartbeat or ok probe.',
      format: 'time_series',
      columns: ['time', 'down_minutes'],
      sql: `SELECT $__timeInterval(m.minute) AS time, countIf(s.up = 0) AS down_minutes
FROM
(
    SELECT toDateTime(toStartOfMinute($__fromTime) + toIntervalMinute(number), 'UTC') AS minute
    FROM numbers(toUInt64(intDiv(toUInt32($__toTime) - toUInt32(toStartOfMinute($__fromTime)), 60)))
) AS m
LEFT JOIN
(
    SELECT minute, toUInt8(1) AS up
    FROM signals_1m
    WHERE minute >= $__fromTime AND minute < $__toTime
    GROUP BY minute
    HAVING sumIf(healthy, ${UP_SIGNAL}) > 0
) AS s ON m.minute = s.minute
GROUP BY time
ORDER BY time`,
    },
    {
      source: 'clickhouse',
      type: 'timeseries',
      bars: true,
      title: 'Job attempt errors by class',
      description: 'Attempts ending in error per interval and failure class.',
      format: 'time_series',
      columns: ['time', 'error_class', 'errors'],
      sql: `SELECT $__timeInterval(hour) AS time, if(error_class = '', 'unclassified', error_class) AS error_class, sum(jobs) AS errors
FROM jobs_1h
WHERE $__timeFilter(hour) AND ${ATTEMPT_ERRORS} AND ${jobs}
GROUP BY time, error_class
ORDER BY time, error_class`,
    },
    { row: 'Incidents and recovery' },
    {
      source: 'clickhouse',
      type: 'table',
      title: 'Incidents',
      description: 'Incidents with events in the range: rule, severity, current state and when it opened.',
      format: 'table',
      columns: ['incident_id', 'rule', 'severity', 'state', 'opened_at', 'last_change'],
      sql: `SELECT incident_id, any(rule) AS rule, any(severity) AS severity, argMax(action, ts) AS state,
    min(ts) AS opened_at, max(ts) AS last_change
FROM events FINAL
WHERE type = 'incident' AND $__timeFilter(ts) AND ${customer}
GROUP BY incident_id
ORDER BY opened_at DESC, incident_id`,
    },
    {
      source: 'prometheus',
      type: 'timeseries',
      title: 'Open incidents by severity (live)',
      description: 'Open incidents as the incidents module counts them.',
      queries: [{ expr: 'sum by (severity) (steward_incidents_open)', legend: '{{severity}}' }],
    },
    {
      source: 'clickhouse',
      type: 'table',
      title: 'RTO by recovery kind vs target',
      description:
        'Recoveries in the range (recovered_at - detected_at) against the latest RTO target of the SLA close (sla_monthly metric rto:<kind>, seconds).',
      unit: 's',
      format: 'table',
      columns: ['recovery_kind', 'recoveries', 'avg_rto_s', 'max_rto_s', 'target_s', 'within_target'],
      sql: `SELECT r.recovery_kind AS recovery_kind, r.recoveries AS recoveries, r.avg_rto_s AS avg_rto_s,
    r.max_rto_s AS max_rto_s, t.target_s AS target_s, r.max_rto_s <= t.target_s AS within_target
FROM
(
    SELECT recovery_kind, count() AS recoveries,
           avg(dateDiff('millisecond', detected_at, recovered_at)) / 1000 AS avg_rto_s,
           max(dateDiff('millisecond', detected_at, recovered_at)) / 1000 AS max_rto_s
    FROM events FINAL
    WHERE type = 'recovery' AND $__timeFilter(ts) AND ${customer}
    GROUP BY recovery_kind
) AS r
LEFT JOIN
(
    SELECT substring(metric, 5) AS recovery_kind, argMax(target, month) AS target_s
    FROM sla_monthly FINAL
    WHERE startsWith(metric, 'rto:') AND ${customer}
    GROUP BY recovery_kind
) AS t ON r.recovery_kind = t.recovery_kind
ORDER BY recovery_kind
SETTINGS join_use_nulls = 1`,
    },
    {
      source: 'clickhouse',
      type: 'table',
      title: 'RTO and RPO vs targets by month',
      description:
        'Worst RTO per recovery kind and worst RPO per source (seconds) against their targets, per customer and month in the range (sla_monthly).',
      format: 'table',
      columns: ['month', 'customer_id', 'metric', 'value', 'target', 'met'],
      sql: `SELECT month, customer_id, metric, value, target, met
FROM sla_monthly FINAL
WHERE (startsWith(metric, 'rto:') OR startsWith(metric, 'rpo:'))
  AND ${MONTHS_IN_RANGE}
  AND ${customer}
ORDER BY month DESC, customer_id, metric`,
    },
    {
      source: 'prometheus',
      type: 'timeseries',
      title: 'RPO now by source',
      description:
        'Recovery point lag per source as the SLA engine samples it (PostgreSQL replicas, telemetry pipeline); compare with sla.rpoTargetSeconds.',
      unit: 's',
      queries: [{ expr: 'max by (source) (steward_sla_rpo_seconds)', legend: '{{source}}' }],
    },
    { row: 'Telemetry pipeline' },
    {
      source: 'clickhouse',
      type: 'timeseries',
      title: 'Telemetry lag (event time to ClickHouse)',
      description:
        'p50 / p95 of inserted_at - ts of events per interval: how late figures in these dashboards are.',
      unit: 's',
      format: 'time_series',
      columns: ['time', 'p50_s', 'p95_s'],
      sql: `SELECT $__timeInterval(ts) AS time,
    quantile(0.5)(dateDiff('millisecond', ts, inserted_at)) / 1000 AS p50_s,
    quantile(0.95)(dateDiff('millisecond', ts, inserted_at)) / 1000 AS p95_s
FROM events
WHERE $__timeFilter(ts)
GROUP BY time
ORDER BY time`,
    },
    {
      source: 'prometheus',
      type: 'timeseries',
      title: 'Outbox backlog and oldest age',
      description: 'Events accepted but not yet in ClickHouse (the telemetry RPO) and the age of the oldest.',
      queries: [
        { expr: 'sum(steward_outbox_backlog)', legend: 'backlog (events)' },
        { expr: 'max(steward_outbox_oldest_age_seconds)', legend: 'oldest age (s)' },
      ],
    },
    {
      source: 'prometheus',
      type: 'timeseries',
      title: 'Relay and ingest throughput',
      description: 'Events shipped by the relay, relay failures, and ingested events by outcome, per second.',
      unit: 'ops',
      queries: [
        { expr: 'sum(rate(steward_relay_shipped_total[$__rate_interval]))', legend: 'shipped' },
        { expr: 'sum(rate(steward_relay_failures_total[$__rate_interval]))', legend: 'relay failures' },
        {
          expr: 'sum by (outcome) (rate(steward_ingest_events_total[$__rate_interval]))',
          legend: 'ingest {{outcome}}',
        },
      ],
    },
    {
      source: 'prometheus',
      type: 'timeseries',
      title: 'Paging and customer notifications',
      description: 'PagerDuty and webhook deliveries per second by outcome.',
      unit: 'ops',
      queries: [
        {
          expr: 'sum by (outcome) (rate(steward_pagerduty_deliveries_total[$__rate_interval]))',
          legend: 'pagerduty {{outcome}}',
        },
        {
          expr: 'sum by (outcome) (rate(steward_webhook_deliveries_total[$__rate_interval]))',
          legend: 'webhook {{outcome}}',
        },
      ],
    },
  ],
}
