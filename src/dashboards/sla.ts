// SLA dashboard: month-to-date figures against targets, error budget and burn rate (rollups),
// and the SLA engine's closed months and credits (sla_monthly).
import type { DashboardSpec, VariableSpec } from './builder.ts'
import {
  FINISHED,
  filters,
  MONTH_START,
  MONTHS_IN_RANGE,
  RUN_DIMS,
  STANDARD_VARIABLES,
  UP_SIGNAL,
} from './sql.ts'

const runs = filters(RUN_DIMS)
const customer = filters(['customer'])
const monthToDate = (col: string) => `${col} >= ${MONTH_START} AND ${col} < $__toTime`
const successTarget = '($success_target / 100)'
const uptimeTarget = '($uptime_target / 100)'

const targets: readonly VariableSpec[] = [
  {
    kind: 'custom',
    name: 'success_target',
    label: 'Success rate target %',
    options: ['95', '98', '99', '99.5', '99.9'],
    current: '99',
  },
  {
    kind: 'custom',
    name: 'uptime_target',
    label: 'Uptime target %',
    options: ['99', '99.5', '99.9', '99.95', '99.99'],
    current: '99.9',
  },
]

export const slaDashboard: DashboardSpec = {
  uid: 'steward-sla',
  title: 'Steward / SLA',
  description:
    'Month-to-date figures per customer against targets, error budget remaining and burn rate, and credits issued at monthly close.',
  from: 'now-30d',
  variables: [...STANDARD_VARIABLES, ...targets],
  panels: [
    { row: 'This month (month of the range end, live)' },
    {
      source: 'clickhouse',
      type: 'table',
      title: 'Success rate this month vs target',
      description:
        'Per customer, month to date: success rate against $success_target %, share of the error budget (allowed failures = (1 - target) x finished runs) left, and burn rate (error ratio / (1 - target)).',
      w: 24,
      format: 'table',
      columns: [
        'customer_id',
        'finished',
        'failed',
        'success_rate',
        'target',
        'met',
        'budget_remaining',
        'burn_rate',
      ],
      sql: `SELECT customer_id, finished, failed, 1 - failed / finished AS success_rate, ${successTarget} AS target,
    success_rate >= target AS met,
    1 - failed / (finished * (1 - target)) AS budget_remaining,
    (failed / finished) / (1 - target) AS burn_rate
FROM
(
    SELECT customer_id, sumIf(runs, ${FINISHED}) AS finished, sumIf(runs, action = 'failed') AS failed
    FROM runs_1h
    WHERE ${monthToDate('hour')} AND customer_id != '' AND ${runs}
    GROUP BY customer_id
    HAVING finished > 0
)
ORDER BY budget_remaining, customer_id`,
    },
    {
      source: 'clickhouse',
      type: 'table',
      title: 'Uptime this month vs target',
      description:
        'Factory uptime month to date against $uptime_target %: down minutes, minutes the whole month allows, budget left and burn rate.',
      w: 24,
      h: 5,
      format: 'table',
      columns: [
        'uptime',
        'target',
        'met',
        'down_minutes',
        'allowed_down_minutes',
        'budget_remaining',
        'burn_rate',
      ],
      sql: `SELECT up_minutes / elapsed AS uptime, ${uptimeTarget} AS target, uptime >= target AS met,
    elapsed - up_minutes AS down_minutes,
    (1 - target) * month_minutes AS allowed_down_minutes,
    1 - down_minutes / allowed_down_minutes AS budget_remaining,
    (down_minutes / elapsed) / (1 - target) AS burn_rate
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
        'Error ratio / (1 - target) per interval and customer: 1 spends the budget exactly over the month.',
      format: 'time_series',
      columns: ['time', 'customer_id', 'burn_rate'],
      sql: `SELECT $__timeInterval(hour) AS time, customer_id,
    (sumIf(runs, action = 'failed') / nullIf(sumIf(runs, ${FINISHED}), 0)) / (1 - ${successTarget}) AS burn_rate
FROM runs_1h
WHERE $__timeFilter(hour) AND customer_id != '' AND ${runs}
GROUP BY time, customer_id
ORDER BY time, customer_id`,
    },
    {
      source: 'clickhouse',
      type: 'timeseries',
      title: 'Execution time p95 by run type',
      description: 'p95 run duration per run type and interval (execution-time SLAs are set per run type).',
      unit: 'ms',
      format: 'time_series',
      columns: ['time', 'run_type', 'p95_ms'],
      sql: `SELECT $__timeInterval(hour) AS time, run_type, quantilesMerge(0.5, 0.95, 0.99)(duration_ms_q)[2] AS p95_ms
FROM runs_1h
WHERE $__timeFilter(hour) AND action IN ('succeeded', 'failed', 'cancelled') AND ${runs}
GROUP BY time, run_type
ORDER BY time, run_type`,
    },
    { row: 'Monthly close (SLA engine)' },
    {
      source: 'clickhouse',
      type: 'stat',
      title: 'Credits issued',
      description: 'SLA credits of the months in the range, as computed at monthly close.',
      decimals: 2,
      w: 6,
      h: 5,
      format: 'table',
      columns: ['credits'],
      sql: `SELECT sum(credit_amount) AS credits
FROM sla_monthly FINAL
WHERE ${MONTHS_IN_RANGE}
  AND ${customer}`,
    },
    {
      source: 'clickhouse',
      type: 'table',
      title: 'Credits by customer and month',
      description: 'Credit amount per customer and closed month.',
      decimals: 2,
      w: 18,
      h: 5,
      format: 'table',
      columns: ['month', 'customer_id', 'breaches', 'credit_amount', 'currency'],
      sql: `SELECT month, customer_id, countIf(met = 0) AS breaches, sum(credit_amount) AS credit_amount, any(currency) AS currency
FROM sla_monthly FINAL
WHERE ${MONTHS_IN_RANGE}
  AND ${customer}
GROUP BY month, customer_id
ORDER BY month DESC, customer_id`,
    },
    {
      source: 'clickhouse',
      type: 'table',
      title: 'Every SLA metric vs target at close',
      description:
        'Each metric of each customer and closed month against its target, and the credit it earned.',
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
WHERE ${MONTHS_IN_RANGE}
  AND ${customer}
ORDER BY month DESC, customer_id, metric`,
    },
  ],
}
