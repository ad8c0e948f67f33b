// Prometheus metrics of the orchestrator (names fixed by the cross-module contract): queue gauges
// read from PostgreSQL at scrape time, and counters/histograms kept by this process's workers.
import { Counter, Gauge, Histogram, type Registry } from 'prom-client'
import type { TableSize } from './retention.ts'
import type { QueueStat } from './schemas.ts'

export interface OrchestratorMetrics {
  outcome(
    job: { pool: string; kind: string },
    outcome: 'succeeded' | 'failed' | 'retried' | 'dead_lettered' | 'reclaimed',
    failureClass: string | undefined,
    durationMs: number,
  ): void
}

export function createOrchestratorMetrics(
  registry: Registry,
  queueStats: () => Promise<QueueStat[]>,
  tableSizes: () => Promise<TableSize[]>,
): OrchestratorMetrics {
  let cached: Promise<QueueStat[]> | undefined
  // One query per scrape feeds every gauge.
  const stats = () => {
    cached ??= queueStats().finally(() => setTimeout(() => (cached = undefined), 500).unref())
    return cached
  }
  const gauge = (name: string, help: string, pick: (s: QueueStat) => number) =>
    new Gauge({
      name,
      help,
      labelNames: ['pool'] as const,
      registers: [registry],
      async collect() {
        this.reset()
        for (const s of await stats().catch(() => [])) this.set({ pool: s.pool }, pick(s))
      },
    })
  gauge('steward_queue_depth', 'Jobs ready to run, per pool', (s) => s.depth)
  gauge(
    'steward_queue_oldest_ready_age_seconds',
    'Age of the oldest ready job',
    (s) => s.oldestReadyAgeSeconds,
  )
  gauge('steward_jobs_running', 'Jobs running, per pool', (s) => s.running)
  gauge('steward_workers_live', 'Live workers, per pool', (s) => s.liveWorkers)
  gauge(
    'steward_workers_recommended',
    'Recommended worker count (autoscaling signal)',
    (s) => s.recommendedWorkers,
  )

  // The history that retention bounds (docs/operations.md, "History and retention").
  const sizeGauge = (name: string, help: string, pick: (t: TableSize) => number) =>
    new Gauge({
      name,
      help,
      labelNames: ['table'] as const,
      registers: [registry],
      async collect() {
        this.reset()
        for (const t of await tableSizes().catch(() => [])) this.set({ table: t.table }, pick(t))
      },
    })
  sizeGauge('steward_table_rows', 'Rows of a history table (planner estimate)', (t) => t.rows)
  sizeGauge('steward_table_bytes', 'Bytes of a history table, indexes included', (t) => t.bytes)

  const processed = new Counter({
    name: 'steward_jobs_processed_total',
    help: 'Job attempts finished by this process, by outcome',
    labelNames: ['pool', 'kind', 'outcome'] as const,
    registers: [registry],
  })
  const retried = new Counter({
    name: 'steward_jobs_retried_total',
    help: 'Job attempts that will be retried, by failure class',
    labelNames: ['pool', 'kind', 'class'] as const,
    registers: [registry],
  })
  const failed = new Counter({
    name: 'steward_jobs_failed_total',
    help: 'Failed job attempts, by failure class',
    labelNames: ['pool', 'kind', 'class'] as const,
    registers: [registry],
  })
  const duration = new Histogram({
    name: 'steward_job_duration_seconds',
    help: 'Handler time of job attempts',
    labelNames: ['kind'] as const,
    buckets: [0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 900],
    registers: [registry],
  })
  return {
    outcome(job, outcome, cls, durationMs) {
      processed.inc({ pool: job.pool, kind: job.kind, outcome })
      duration.observe({ kind: job.kind }, durationMs / 1000)
      if (cls && outcome !== 'succeeded') failed.inc({ pool: job.pool, kind: job.kind, class: cls })
      if (outcome === 'retried' && cls) retried.inc({ pool: job.pool, kind: job.kind, class: cls })
    },
  }
}
