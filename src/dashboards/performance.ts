// Performance dashboard: queues, throughput and workers (Prometheus, live) and API response times
// and job throughput history (ClickHouse api_1m, jobs_1h).
import type { DashboardSpec } from './builder.ts'
import { filters, JOB_DIMS, POOL_SELECTOR, STANDARD_VARIABLES } from './sql.ts'

const jobs = filters(JOB_DIMS)
const api = filters(['customer'])

export const performanceDashboard: DashboardSpec = {
  uid: 'steward-performance',
  title: 'Steward / Performance',
  description: 'Queue depth and age, job throughput, workers and utilization, API response times by route.',
  from: 'now-6h',
  variables: STANDARD_VARIABLES,
  panels: [
    { row: 'Queues and workers (live, Prometheus)' },
    {
      source: 'prometheus',
      type: 'timeseries',
      title: 'Queue depth',
      description: 'Ready jobs waiting per pool.',
      w: 8,
      queries: [{ expr: `sum by (pool) (steward_queue_depth{${POOL_SELECTOR}})`, legend: '{{pool}}' }],
    },
    {
      source: 'prometheus',
      type: 'timeseries',
      title: 'Oldest ready job age',
      description: 'Age of the oldest ready job per pool: how long work waits for a worker.',
      unit: 's',
      w: 8,
      queries: [
        {
          expr: `max by (pool) (steward_queue_oldest_ready_age_seconds{${POOL_SELECTOR}})`,
          legend: '{{pool}}',
        },
      ],
    },
    {
      source: 'prometheus',
      type: 'timeseries',
      title: 'Jobs processed per second',
      description: 'Job attempts finished per second by outcome.',
      unit: 'ops',
      w: 8,
      queries: [
        {
          expr: `sum by (outcome) (rate(steward_jobs_processed_total{${POOL_SELECTOR}}[$__rate_interval]))`,
          legend: '{{outcome}}',
        },
      ],
    },
    {
      source: 'prometheus',
      type: 'timeseries',
      title: 'Workers: live and recommended',
      description: 'Live workers per pool against the autoscaling recommendation.',
      w: 8,
      queries: [
        { expr: `sum by (pool) (steward_workers_live{${POOL_SELECTOR}})`, legend: '{{pool}} live' },
        {
          expr: `sum by (pool) (steward_workers_recommended{${POOL_SELECTOR}})`,
          legend: '{{pool}} recommended',
        },
      ],
    },
    {
      source: 'prometheus',
      type: 'timeseries',
      title: 'Worker utilization',
      description: 'Running jobs per live worker, per pool (1 = every worker busy with one job).',
      unit: 'percentunit',
      w: 8,
      queries: [
        {
          expr: `sum by (pool) (steward_jobs_running{${POOL_SELECTOR}}) / sum by (pool) (steward_workers_live{${POOL_SELECTOR}})`,
          legend: '{{pool}}',
        },
      ],
    },
    {
      source: 'prometheus',
      type: 'timeseries',
      title: 'Job handler time p95 by kind',
      description: 'p95 handler duration per job kind.',
      unit: 's',
      w: 8,
      queries: [
        {
          expr: 'histogram_quantile(0.95, sum by (le, kind) (rate(steward_job_duration_seconds_bucket[$__rate_interval])))',
          legend: '{{kind}}',
        },
      ],
    },
    { row: 'API (ClickHouse api_1m, Prometheus)' },
    {
      source: 'clickhouse',
      type: 'table',
      title: 'API response times by route',
      description: 'Requests, 5xx share and latency quantiles per route over the range (api_request events).',
      unit: 'ms',
      w: 24,
      format: 'table',
      columns: ['route', 'method', 'requests', 'errors_5xx', 'error_rate', 'p50_ms', 'p95_ms', 'p99_ms'],
      sql: `SELECT route, method, total AS requests, errors_5xx, errors_5xx / total AS error_rate,
    q[1] AS p50_ms, q[2] AS p95_ms, q[3] AS p99_ms
FROM
(
    SELECT route, method, sumIf(requests, status_class = '5xx') AS errors_5xx, sum(requests) AS total,
           quantilesMerge(0.5, 0.95, 0.99)(duration_ms_q) AS q
    FROM api_1m
    WHERE $__timeFilter(minute) AND ${api}
    GROUP BY route, method
)
ORDER BY total DESC, route, method`,
    },
    {
      source: 'clickhouse',
      type: 'timeseries',
      title: 'API p95 by route',
      description: 'p95 response time per route and interval.',
      unit: 'ms',
      format: 'time_series',
      columns: ['time', 'route', 'p95_ms'],
      sql: `SELECT $__timeInterval(minute) AS time, route, quantilesMerge(0.5, 0.95, 0.99)(duration_ms_q)[2] AS p95_ms
FROM api_1m
WHERE $__timeFilter(minute) AND ${api}
GROUP BY time, route
ORDER BY time, route`,
    },
    {
      source: 'prometheus',
      type: 'timeseries',
      title: 'HTTP p95 by route (this instance)',
      description: "p95 of Steward's own HTTP handling time per route template.",
      unit: 's',
      queries: [
        {
          expr: 'histogram_quantile(0.95, sum by (le, route) (rate(steward_http_request_duration_seconds_bucket[$__rate_interval])))',
          legend: '{{route}}',
        },
      ],
    },
    { row: 'Job throughput history (ClickHouse jobs_1h)' },
    {
      source: 'clickhouse',
      type: 'timeseries',
      title: 'Job attempts per second by outcome',
      description: 'Job events per second by action, averaged over each interval (hourly rollup).',
      unit: 'ops',
      format: 'time_series',
      columns: ['time', 'action', 'per_second'],
      sql: `SELECT $__timeInterval(hour) AS time, action, sum(jobs) / greatest($__interval_s, 3600) AS per_second
FROM jobs_1h
WHERE $__timeFilter(hour) AND action != 'started' AND ${jobs}
GROUP BY time, action
ORDER BY time, action`,
    },
    {
      source: 'clickhouse',
      type: 'timeseries',
      title: 'Busy workers by pool',
      description: 'Handler time per second of wall time: the average number of job slots busy in each pool.',
      format: 'time_series',
      columns: ['time', 'pool', 'busy_workers'],
      sql: `SELECT $__timeInterval(hour) AS time, pool, sum(worker_ms) / 1000 / greatest($__interval_s, 3600) AS busy_workers
FROM jobs_1h
WHERE $__timeFilter(hour) AND ${jobs}
GROUP BY time, pool
ORDER BY time, pool`,
    },
  ],
}
