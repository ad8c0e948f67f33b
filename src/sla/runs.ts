// Run and job figures of a month, per customer: success rate (succeeded / finished; runs the
// customer cancelled are excluded), failure rate by class, retry rate, dead-lettered jobs, and
// execution-time compliance per run type.
//
// Counts come from the runs_1h / jobs_1h rollups (exact: sums of counts). Execution-time
// compliance and p50/p95/p99 need each run's duration, so they always read raw `events` FINAL,
// through the (customer_id, type, ts) primary key: one index range per customer.
import type { ClickHouseClient } from '../db/clickhouse.ts'
import { chQuery } from '../db/clickhouse.ts'
import type { Month } from './months.ts'
import { percentOf } from './months.ts'
import type { ExecutionTimeFigures, FigureSource, JobFigures, SuccessFigures } from './schemas/figures.ts'

const SQL = {
  runs: {
    rollup: `
      SELECT customer_id AS c, action AS a, error_class AS e, sum(runs) AS n
      FROM runs_1h
      WHERE customer_id IN {customers:Array(String)}
        AND hour >= toDateTime({from:UInt32}, 'UTC') AND hour < toDateTime({to:UInt32}, 'UTC')
        AND action IN ('succeeded', 'failed', 'cancelled')
      GROUP BY c, a, e`,
    raw: `
      SELECT customer_id AS c, action AS a, error_class AS e, count() AS n
      FROM events FINAL
      WHERE customer_id IN {customers:Array(String)} AND type = 'run'
        AND ts >= toDateTime64({from:UInt32}, 3, 'UTC') AND ts < toDateTime64({to:UInt32}, 3, 'UTC')
        AND action IN ('succeeded', 'failed', 'cancelled')
      GROUP BY c, a, e`,
  },
  jobs: {
    rollup: `
      SELECT customer_id AS c, action AS a, sum(jobs) AS n
      FROM jobs_1h
      WHERE customer_id IN {customers:Array(String)}
        AND hour >= toDateTime({from:UInt32}, 'UTC') AND hour < toDateTime({to:UInt32}, 'UTC')
      GROUP BY c, a`,
    raw: `
      SELECT customer_id AS c, action AS a, count() AS n
      FROM events FINAL
      WHERE customer_id IN {customers:Array(String)} AND type = 'job'
        AND ts >= toDateTime64({from:UInt32}, 3, 'UTC') AND ts < toDateTime64({to:UInt32}, 3, 'UTC')
      GROUP BY c, a`,
  },
  // A run's target is looked up by "customer/runType" (customer ids cannot contain '/').
  durations: `
    SELECT customer_id AS c, run_type AS t, count() AS n,
           countIf(duration_ms <= transform(concat(customer_id, '/', run_type), {keys:Array(String)}, {targets:Array(Float64)}, -1)) AS within,
           quantilesExact(0.5, 0.95, 0.99)(duration_ms) AS q
    FROM events FINAL
    WHERE customer_id IN {customers:Array(String)} AND type = 'run' AND action = 'succeeded'
      AND ts >= toDateTime64({from:UInt32}, 3, 'UTC') AND ts < toDateTime64({to:UInt32}, 3, 'UTC')
    GROUP BY c, t`,
}

const range = (month: Month, until: Date) => ({
  from: month.start.getTime() / 1000,
  to: Math.floor(Math.min(month.end.getTime(), until.getTime()) / 1000),
})

export interface RunFigures {
  success: SuccessFigures
  jobs: JobFigures
  executionTime: ExecutionTimeFigures[]
}

function emptySuccess(): SuccessFigures {
  return {
    succeeded: 0,
    failed: 0,
    cancelled: 0,
    finished: 0,
    successRate: null,
    failedByClass: {},
    failureRateByClass: {},
  }
}

export async function loadRunFigures(
  ch: ClickHouseClient,
  month: Month,
  until: Date,
  customerIds: string[],
  /** Execution-time target per customer and run type. */
  targets: Map<string, Record<string, number>>,
  source: FigureSource = 'rollup',
): Promise<Map<string, RunFigures>> {
  if (!customerIds.length) return new Map()
  const params = { ...range(month, until), customers: customerIds }
  const keys: string[] = []
  const targetValues: number[] = []
  for (const [c, byType] of targets) {
    for (const [t, ms] of Object.entries(byType)) {
      keys.push(`${c}/${t}`)
      targetValues.push(ms)
    }
  }
  const [runs, jobs, durations] = await Promise.all([
    chQuery<{ c: string; a: string; e: string; n: number }>(ch, SQL.runs[source], params),
    chQuery<{ c: string; a: string; n: number }>(ch, SQL.jobs[source], params),
    chQuery<{ c: string; t: string; n: number; within: number; q: number[] }>(ch, SQL.durations, {
      ...params,
      keys,
      targets: targetValues,
    }),
  ])
  const out = new Map<string, RunFigures>()
  for (const id of customerIds) {
    out.set(id, {
      success: emptySuccess(),
      jobs: { attempts: 0, retried: 0, deadLettered: 0, retryRate: null },
      executionTime: [],
    })
  }
  for (const r of runs) {
    const s = out.get(r.c)?.success
    if (!s) continue
    const n = Number(r.n)
    if (r.a === 'succeeded') s.succeeded += n
    else if (r.a === 'cancelled') s.cancelled += n
    else {
      s.failed += n
      const cls = r.e || 'unclassified'
      s.failedByClass[cls] = (s.failedByClass[cls] ?? 0) + n
    }
  }
  for (const r of jobs) {
    const j = out.get(r.c)?.jobs
    if (!j) continue
    const n = Number(r.n)
    if (r.a === 'started') j.attempts += n
    else if (r.a === 'retried') j.retried += n
    else if (r.a === 'dead_lettered') j.deadLettered += n
  }
  for (const [id, f] of out) {
    const s = f.success
    s.finished = s.succeeded + s.failed
    s.successRate = s.finished ? percentOf(s.succeeded, s.finished) : null
    for (const [cls, n] of Object.entries(s.failedByClass))
      s.failureRateByClass[cls] = percentOf(n, s.finished)
    f.jobs.retryRate = f.jobs.attempts ? percentOf(f.jobs.retried, f.jobs.attempts) : null
    const own = targets.get(id) ?? {}
    for (const d of durations.filter((x) => x.c === id)) {
      const targetMs = own[d.t] ?? null
      const n = Number(d.n)
      f.executionTime.push({
        runType: d.t,
        runs: n,
        targetMs,
        withinTarget: targetMs === null ? null : Number(d.within),
        compliancePercent: targetMs === null ? null : percentOf(Number(d.within), n),
        p50Ms: Number(d.q[0]),
        p95Ms: Number(d.q[1]),
        p99Ms: Number(d.q[2]),
      })
    }
    f.executionTime.sort((a, b) => a.runType.localeCompare(b.runType))
  }
  return out
}
