// The autoscaling signal: per pool, ready depth, oldest ready age, running jobs, live workers and a
// recommended worker count, plus the DLQ size. Read by GET /v1/queues, /metrics and detection rules.
//
// Recommendation: ceil((ready + running) / jobsPerWorker), clamped to [minWorkers, maxWorkers]
// (minWorkers 0 = scale to zero when the pool is idle). Scale-up applies at once; a lower figure
// only after `cooldownSeconds` since the last change, so a burst's tail does not flap the fleet.
// The last recommendation per pool lives in `pool_scaling`, shared by every instance.
import type { Queryable } from '../db/postgres.ts'
import type { OrchestratorConfig } from './config.ts'
import { defaultOrchestratorConfig } from './config.ts'
import type { QueueStat } from './schemas.ts'

const SQL = {
  stats: `
    WITH q AS (
      SELECT pool,
             count(*) FILTER (WHERE status = 'queued' AND run_at <= now())::int AS depth,
             extract(epoch FROM now() - min(run_at) FILTER (WHERE status = 'queued' AND run_at <= now()))::float8 AS age,
             count(*) FILTER (WHERE status = 'running')::int AS running
      FROM jobs WHERE status IN ('queued', 'running') GROUP BY pool
    ), w AS (
      SELECT pool, count(*)::int AS live FROM workers
      WHERE status = 'live' AND last_heartbeat_at > now() - $1::int * interval '1 millisecond' GROUP BY pool
    ), s AS (
      SELECT pool, recommended, extract(epoch FROM now() - changed_at)::float8 AS since FROM pool_scaling
    )
    SELECT pool, coalesce(depth, 0) AS depth, coalesce(age, 0) AS age, coalesce(running, 0) AS running,
           coalesce(live, 0) AS live, recommended, since
    FROM q FULL JOIN w USING (pool) FULL JOIN s USING (pool) ORDER BY pool`,
  saveScaling: `
    INSERT INTO pool_scaling (pool, recommended) VALUES ($1, $2)
    ON CONFLICT (pool) DO UPDATE SET recommended = EXCLUDED.recommended, changed_at = now()
    WHERE pool_scaling.recommended <> EXCLUDED.recommended`,
  dlqSize: `SELECT count(*)::int AS n FROM jobs WHERE status = 'dead' AND ($1::text IS NULL OR customer_id = $1)`,
}

interface StatRow {
  pool: string
  depth: number
  age: number
  running: number
  live: number
  recommended: number | null
  since: number | null
}

export type ScalingOptions = Pick<OrchestratorConfig, 'autoscale' | 'workerLostAfterMs'>

/** The recommendation for one pool, given the previous one and how long ago it changed. */
export function recommendWorkers(
  demand: number,
  previous: number | null,
  secondsSinceChange: number | null,
  a: OrchestratorConfig['autoscale'],
): number {
  let target = Math.ceil(demand / a.jobsPerWorker)
  if (demand > 0) target = Math.max(target, 1)
  target = Math.min(a.maxWorkers, Math.max(a.minWorkers, target))
  if (previous === null || target >= previous) return target
  return (secondsSinceChange ?? Number.POSITIVE_INFINITY) >= a.cooldownSeconds ? target : previous
}

/** Per-pool queue figures and the recommended worker count (records a changed recommendation). */
export async function getQueueStats(db: Queryable, opts?: ScalingOptions): Promise<QueueStat[]> {
  const o = opts ?? defaultOrchestratorConfig()
  const { rows } = await db.query<StatRow>(SQL.stats, [o.workerLostAfterMs])
  const out: QueueStat[] = []
  for (const r of rows) {
    const recommended = recommendWorkers(r.depth + r.running, r.recommended, r.since, o.autoscale)
    if (recommended !== r.recommended) await db.query(SQL.saveScaling, [r.pool, recommended])
    out.push({
      pool: r.pool,
      depth: r.depth,
      oldestReadyAgeSeconds: Math.max(0, r.age),
      running: r.running,
      liveWorkers: r.live,
      recommendedWorkers: recommended,
    })
  }
  return out
}

/** Jobs in the dead-letter queue (of one customer, or all). */
export async function getDlqSize(db: Queryable, customerId?: string): Promise<number> {
  const { rows } = await db.query<{ n: number }>(SQL.dlqSize, [customerId ?? null])
  return rows[0]?.n ?? 0
}
