// SLA dashboard: this month's figures per customer against their plan targets (sla_monthly, which
// the SLA engine refreshes every few minutes and rewrites at monthly close), error budget and burn
// rate (rollups, targets from sla_monthly), and credits of closed months.
import type { DashboardSpec, VariableSpec } from './builder.ts'
import {
  CLOSED_MONTH,
  CUSTOMER_SELECTOR,
  FINISHED,
  filters,
  MONTH_START,
  MONTHS_IN_RANGE,
  RANGE_END_MONTH,
  RUN_DIMS,
  STANDARD_VARIABLES,
  UP_SIGNAL,
} from './sql.ts'

const runs = filters(RUN_DIMS)
const customer = filters(['customer'])
const monthToDate = (col: string) => `${col} >= ${MONTH_START} AND ${col} < $__toTime`
/** Each customer's success-rate target (%) for the month of the range end, from its plan. */
const planTargets = `SELECT customer_id, argMax(target, computed_at) AS plan_target
    FROM sla_monthly FINAL
    WHERE month = ${RANGE_END_MONTH} AND metric = 'success_rate'
    GROUP BY customer_id`
/** The plan's target as a ratio, or the dashboard's $success_target before the engine wrote one. */
const objective = `if(t.plan_target > 0, t.plan_target, $success_target) / 100`

const fallbackTargets: readonly VariableSpec[] = [
  {
    kind: 'custom',
    name: 'success_target',
    label: 'Success target % (no plan yet)',
    options: ['90', '95', '98', '99', '99.5', '99.9'],
    current: '95',
  },
  {
    kind: 'custom',
    name: 'uptime_target',
    label: 'Factory uptime target %',
    options: ['99', '99.5', '99.9', '99.95', '99.99'],
    current: '99.9',
  },
]

export const slaDashboard: DashboardSpec = {
  uid: 'steward-sla',
  title: 'Steward / SLA',
  description:
    'Per customer this month: each SLA metric against its target, error budget remaining and burn rate; credits issued at monthly close.',
  from: 'now-30d',
  variables: [...STANDARD_VARIABLES, ...fallbackTargets],
  panels: [
    { row: 'This month (the month of the range end)' },
    {
      source: 'clickhouse',
      type: 'table',
      title: 'SLA metrics this month vs target',
      description:
        "Each customer's SLA metrics against its plan targets, as the SLA engine computed them month to date (uptime and success rate in %, execution_time:<run type> = % of runs on time, rto/rpo in seconds).",
      w: 24,
      format: 'table',
      columns: ['customer_id', 'metric', 'value', 'target', 'met', 'credit_percent', 'computed_at'],
      sql: `SELECT customer_id, metric, value, target, met, credit_percent, computed_at
FROM sla_monthly FINAL
WHERE month = ${RANGE_END_MONTH} AND metric NOT IN ('cost', 'credit') AND ${customer}
ORDER BY met, customer_id, metric`,
    },
    {
      source: 'clickhouse',
      type: 'table',
      title: 'Success-rate error budget this month',
      description:
        'Per customer, month to date from the rollups: success rate against the plan target, share of the error budget left (allowed failures = (1 - target) x finished runs) and burn rate (error ratio / (1 - target)).',
      w: 24,
      format: 'table',
      columns: [
        'customer_id',
        'finished',
        'failed',
        'success_rate',
        'objective',
        'budget_remaining',
        'burn_rate',
      ],
      sql: `SELECT r.customer_id AS customer_id, r.finished AS finished, r.failed AS failed,
    1 - r.failed / r.finished AS success_rate, ${objective} AS objective,
    1 - r.failed / (r.finished * (1 - objective)) AS budget_remaining,
    (r.failed / r.finished) / (1 - objective) AS burn_rate
FROM
(
    SELECT customer_id, sumIf(runs, ${FINISHED}) AS finished, sumIf(runs, action = 'failed') AS failed
    FROM runs_1h
    WHERE ${monthToDate('hour')} AND customer_id != '' AND ${runs}
    GROUP BY customer_id
    HAVING finished > 0
) AS r
LEFT JOIN (${planTargets}) AS t ON r.customer_id = t.customer_id
ORDER BY budget_remaining, customer_id`,
    },
    {
      source: 'clickhouse',
      type: 'table',
      title: 'Factory uptime budget this month',
      description:
        'Factory uptime month to date (a minute is up with a healthy control-plane heartbeat or ok probe) against $uptime_target %: down minutes, minutes the whole month allows, budget left and burn rate. Per-customer uptime with maintenance windows is in the metrics table above.',
      w: 24,
      h: 5,
      format: 'table',
      columns: [
        'uptime',
        'objective',
        'down_minutes',
        'allowed_down_minutes',
        'budget_remaining',
        'burn_rate',
      ],
      sql: `SELECT up_minutes / elapsed AS uptime, $uptime_target / 100 AS objective,
    elapsed - up_minutes AS down_minutes,
    (1 - objective) * month_minutes AS allowed_down_minutes,
    1 - down_minutes / allowed_down_minutes AS budget_remaining,
    (down_minutes / elapsed) / (1 - objective) AS burn_rate
FROM
(
    SELECT
        (SELECT count() FROM (
            SELECT minute FROM signals_1m WHERE ${monthToDate('minute')}
            GROUP BY minute HAVING sumIf(healthy, ${UP_SIGNAL}) > 0
        )) AS up_minutes,
        greatest(1, intDiv(toUInt32($__toTime) - toUInt32(${MONTH_START}), 60)) AS elapsed,
        toDayOfMonth(toLastDayOfMonth(${MONTH_START})) * 1440 AS month_minutes
)`,
    },
    {
      source: 'clickhouse',
      type: 'timeseries',
      title: 'Success-rate burn rate',
      description:
        "Error ratio / (1 - the customer's target) per interval: 1 spends the budget exactly by the end of the month, above 1 faster.",
      format: 'time_series',
      columns: ['time', 'customer_id', 'burn_rate'],
      sql: `SELECT b.time AS time, b.customer_id AS customer_id, b.error_ratio / (1 - ${objective}) AS burn_rate
FROM
(
    SELECT $__timeInterval(hour) AS time, customer_id,
           sumIf(runs, action = 'failed') / nullIf(sumIf(runs, ${FINISHED}), 0) AS error_ratio
    FROM runs_1h
    WHERE $__timeFilter(hour) AND customer_id != '' AND ${runs}
    GROUP BY time, customer_id
) AS b
LEFT JOIN (${planTargets}) AS t ON b.customer_id = t.customer_id
ORDER BY time, customer_id`,
    },
    {
      source: 'prometheus',
      type: 'timeseries',
      title: 'Uptime and success rate month to date (live)',
      description: 'The SLA engine gauges, refreshed every few minutes (customer "" = the factory).',
      unit: 'percent',
      queries: [
        {
          expr: `min by (customer) (steward_sla_uptime_percent{${CUSTOMER_SELECTOR}})`,
          legend: 'uptime {{customer}}',
        },
        {
          expr: `min by (customer) (steward_sla_success_rate_percent{${CUSTOMER_SELECTOR}})`,
          legend: 'success {{customer}}',
        },
      ],
    },
    { row: 'Credits (monthly close)' },
    {
      source: 'clickhouse',
      type: 'stat',
      title: 'Credits issued',
      description:
        'Total SLA credits of the closed months in the range (the per-customer credit after tiers and cap, net of corrections: voids, reissues, goodwill), summed in integer cents.',
      decimals: 2,
      w: 6,
      h: 6,
      format: 'table',
      columns: ['credits'],
      sql: `SELECT sumIf(credit_cents + adjustment_cents, metric = 'credit') / 100 AS credits
FROM sla_monthly FINAL
WHERE ${MONTHS_IN_RANGE} AND ${CLOSED_MONTH} AND ${customer}`,
    },
    {
      source: 'clickhouse',
      type: 'table',
      title: 'Credits by customer and month',
      description:
        'Per customer and month in the range: metrics that missed their target, the credit (% of the monthly fee, and the amount net of corrections), and whether the month is closed or still month to date.',
      w: 18,
      h: 6,
      format: 'table',
      columns: ['month', 'customer_id', 'closed', 'breaches', 'credit_percent', 'credit_amount', 'currency'],
      sql: `SELECT month, customer_id, ${CLOSED_MONTH} AS closed,
    countIf(met = 0 AND metric NOT IN ('cost', 'credit')) AS breaches,
    sumIf(credit_percent, metric = 'credit') AS credit_percent,
    sumIf(credit_cents + adjustment_cents, metric = 'credit') / 100 AS credit_amount,
    any(currency) AS currency
FROM sla_monthly FINAL
WHERE ${MONTHS_IN_RANGE} AND ${customer}
GROUP BY month, customer_id
ORDER BY month DESC, customer_id`,
    },
    {
      source: 'clickhouse',
      type: 'table',
      title: 'Every SLA metric vs target by month',
      description:
        'Each metric of each customer and month in the range against its target and the credit % its tier earned; the amount (net of corrections) is on the credit row.',
      w: 24,
      format: 'table',
      columns: [
        'month',
        'customer_id',
        'metric',
        'value',
        'target',
        'met',
        'credit_percent',
        'credit_amount',
      ],
      sql: `SELECT month, customer_id, metric, value, target, met, credit_percent, credit_amount
FROM sla_monthly FINAL
WHERE ${MONTHS_IN_RANGE} AND ${customer}
ORDER BY month DESC, customer_id, metric`,
    },
  ],
}
