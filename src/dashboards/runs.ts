// Runs dashboard: outcomes, failure classes, durations, volume and retries (runs_1h, jobs_1h).
import type { DashboardSpec } from './builder.ts'
import { ENDED, FINISHED, filters, JOB_DIMS, RUN_DIMS, STANDARD_VARIABLES } from './sql.ts'

const runs = filters(RUN_DIMS)
const jobs = filters(JOB_DIMS)
const successRate = `sumIf(runs, action = 'succeeded') / nullIf(sumIf(runs, ${FINISHED}), 0)`
const errorClass = `if(error_class = '', 'unclassified', error_class)`

export const runsDashboard: DashboardSpec = {
  uid: 'steward-runs',
  title: 'Steward / Runs',
  description: 'Run outcomes, failure classes, durations, daily volume and job retries.',
  from: 'now-7d',
  variables: STANDARD_VARIABLES,
  panels: [
    { row: 'Outcomes' },
    {
      source: 'clickhouse',
      type: 'stat',
      title: 'Success rate',
      description:
        'Succeeded / (succeeded + failed) runs finished in the range (cancelled runs excluded). Hourly granularity.',
      unit: 'percentunit',
      decimals: 2,
      w: 6,
      h: 5,
      threshold: { value: 0.99, higherIsBetter: true },
      format: 'table',
      columns: ['success_rate'],
      sql: `SELECT ${successRate} AS success_rate
FROM runs_1h
WHERE $__timeFilter(hour) AND ${runs}`,
    },
    {
      source: 'clickhouse',
      type: 'stat',
      title: 'Runs finished',
      description: 'Runs that succeeded, failed or were cancelled in the range.',
      w: 6,
      h: 5,
      format: 'table',
      columns: ['finished', 'succeeded', 'failed', 'cancelled'],
      sql: `SELECT
    sumIf(runs, ${ENDED}) AS finished,
    sumIf(runs, action = 'succeeded') AS succeeded,
    sumIf(runs, action = 'failed') AS failed,
    sumIf(runs, action = 'cancelled') AS cancelled
FROM runs_1h
WHERE $__timeFilter(hour) AND ${runs}`,
    },
    {
      source: 'clickhouse',
      type: 'stat',
      title: 'Job retry rate',
      description: 'Job attempts retried / job attempts started (all pools selected by $pool).',
      unit: 'percentunit',
      decimals: 2,
      w: 6,
      h: 5,
      format: 'table',
      columns: ['retry_rate'],
      sql: `SELECT sumIf(jobs, action = 'retried') / nullIf(sumIf(jobs, action = 'started'), 0) AS retry_rate
FROM jobs_1h
WHERE $__timeFilter(hour) AND ${jobs}`,
    },
    {
      source: 'clickhouse',
      type: 'stat',
      title: 'Run duration p95',
      description: 'p95 of wall time from creation to finish of runs finished in the range.',
      unit: 'ms',
      w: 6,
      h: 5,
      format: 'table',
      columns: ['p95_ms'],
      sql: `SELECT quantilesMerge(0.5, 0.95, 0.99)(duration_ms_q)[2] AS p95_ms
FROM runs_1h
WHERE $__timeFilter(hour) AND ${ENDED} AND ${runs}`,
    },
    {
      source: 'clickhouse',
      type: 'timeseries',
      title: 'Success rate over time',
      description: 'Succeeded / (succeeded + failed) per interval.',
      unit: 'percentunit',
      format: 'time_series',
      columns: ['time', 'success_rate'],
      sql: `SELECT $__timeInterval(hour) AS time, ${successRate} AS success_rate
FROM runs_1h
WHERE $__timeFilter(hour) AND ${runs}
GROUP BY time
ORDER BY time`,
    },
    {
      source: 'clickhouse',
      type: 'timeseries',
      title: 'Failure rate by class',
      description: 'Failed runs of each failure class / finished runs, per interval.',
      unit: 'percentunit',
      format: 'time_series',
      columns: ['time', 'error_class', 'failure_rate'],
      sql: `SELECT f.time AS time, f.error_class AS error_class, f.failed / t.finished AS failure_rate
FROM
(
    SELECT $__timeInterval(hour) AS time, ${errorClass} AS error_class, sum(runs) AS failed
    FROM runs_1h
    WHERE $__timeFilter(hour) AND action = 'failed' AND ${runs}
    GROUP BY time, error_class
) AS f
INNER JOIN
(
    SELECT $__timeInterval(hour) AS time, sumIf(runs, ${FINISHED}) AS finished
    FROM runs_1h
    WHERE $__timeFilter(hour) AND ${runs}
    GROUP BY time
) AS t ON f.time = t.time
ORDER BY time, error_class`,
    },
    {
      source: 'clickhouse',
      type: 'table',
      title: 'Failures by class',
      description: 'Failed runs per failure class over the range, and their share of finished runs.',
      format: 'table',
      columns: ['error_class', 'failed', 'failure_rate'],
      sql: `SELECT error_class, failed, failed / (
    SELECT nullIf(sumIf(runs, ${FINISHED}), 0) FROM runs_1h WHERE $__timeFilter(hour) AND ${runs}
) AS failure_rate
FROM
(
    SELECT ${errorClass} AS error_class, sum(runs) AS failed
    FROM runs_1h
    WHERE $__timeFilter(hour) AND action = 'failed' AND ${runs}
    GROUP BY error_class
)
ORDER BY failed DESC, error_class`,
    },
    {
      source: 'clickhouse',
      type: 'timeseries',
      bars: true,
      title: 'Run volume per day',
      description: 'Runs created, succeeded, failed and cancelled per UTC day.',
      format: 'time_series',
      columns: ['time', 'created', 'succeeded', 'failed', 'cancelled'],
      sql: `SELECT
    toStartOfDay(hour) AS time,
    sumIf(runs, action = 'created') AS created,
    sumIf(runs, action = 'succeeded') AS succeeded,
    sumIf(runs, action = 'failed') AS failed,
    sumIf(runs, action = 'cancelled') AS cancelled
FROM runs_1h
WHERE $__timeFilter(hour) AND ${runs}
GROUP BY time
ORDER BY time`,
    },
    { row: 'Durations and retries' },
    {
      source: 'clickhouse',
      type: 'timeseries',
      title: 'Run duration p50 / p95 / p99',
      description: 'Wall time from creation to finish (what the customer waits), approximate quantiles.',
      unit: 'ms',
      format: 'time_series',
      columns: ['time', 'p50_ms', 'p95_ms', 'p99_ms'],
      sql: `SELECT time, q[1] AS p50_ms, q[2] AS p95_ms, q[3] AS p99_ms
FROM
(
    SELECT $__timeInterval(hour) AS time, quantilesMerge(0.5, 0.95, 0.99)(duration_ms_q) AS q
    FROM runs_1h
    WHERE $__timeFilter(hour) AND ${ENDED} AND ${runs}
    GROUP BY time
)
ORDER BY time`,
    },
    {
      source: 'clickhouse',
      type: 'table',
      title: 'Duration by run type',
      description: 'Finished runs and their duration quantiles per run type.',
      unit: 'ms',
      format: 'table',
      columns: ['run_type', 'finished', 'avg_ms', 'p50_ms', 'p95_ms', 'p99_ms'],
      sql: `SELECT run_type, finished, avg_ms, q[1] AS p50_ms, q[2] AS p95_ms, q[3] AS p99_ms
FROM
(
    SELECT run_type, sum(runs) AS finished, sum(duration_ms_sum) / sum(runs) AS avg_ms,
           quantilesMerge(0.5, 0.95, 0.99)(duration_ms_q) AS q
    FROM runs_1h
    WHERE $__timeFilter(hour) AND ${ENDED} AND ${runs}
    GROUP BY run_type
)
ORDER BY run_type`,
    },
    {
      source: 'clickhouse',
      type: 'timeseries',
      title: 'Job retry rate over time',
      description: 'Job attempts retried / attempts started per interval, by pool.',
      unit: 'percentunit',
      format: 'time_series',
      columns: ['time', 'pool', 'retry_rate'],
      sql: `SELECT $__timeInterval(hour) AS time, pool,
    sumIf(jobs, action = 'retried') / nullIf(sumIf(jobs, action = 'started'), 0) AS retry_rate
FROM jobs_1h
WHERE $__timeFilter(hour) AND ${jobs}
GROUP BY time, pool
ORDER BY time, pool`,
    },
    {
      source: 'clickhouse',
      type: 'table',
      title: 'Runs by customer and run type',
      description: 'Finished runs, failures and success rate per customer and run type.',
      format: 'table',
      columns: ['customer_id', 'run_type', 'finished', 'failed', 'success_rate'],
      sql: `SELECT customer_id, run_type, sumIf(runs, ${FINISHED}) AS finished,
    sumIf(runs, action = 'failed') AS failed, ${successRate} AS success_rate
FROM runs_1h
WHERE $__timeFilter(hour) AND ${runs}
GROUP BY customer_id, run_type
HAVING finished > 0
ORDER BY customer_id, run_type`,
    },
  ],
}
