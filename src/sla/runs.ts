// Run and job figures of a month, per customer: success rate, failure rate by class, retry rate,
// dead-lettered jobs, and execution-time compliance per run type (docs/sla.md, "How each figure is
// computed").
//
// Guarantees:
// - a run is counted once, by its final outcome (its last succeeded/failed/cancelled event up to
//   `now`), in the month of that event: a run that failed, was resumed and succeeded is one
//   success; a run resumed and not finished again is not counted yet;
// - `validation` failures (the customer's own input) and the customer's own cancellations are left
//   out of the success rate and listed; an operator's cancellation counts against it;
// - execution time is active time: a resumed run is timed from its last resume, not its creation;
// - each event counts once, whenever it arrives: a copy of an event (re-sent past the ingest dedup
//   window) changes nothing, a late event counts from the next computation on.
//
// Outcomes come from the per-run rollup run_finals (or, to check it, raw events) through the
// statements of run-outcomes.ts; job counts from the jobs_1h rollup (or raw events, to check).
import type { ClickHouseClient } from '../db/clickhouse.ts'
import { chQuery } from '../db/clickhouse.ts'
import type { Month } from './months.ts'
import { percentOf } from './months.ts'
import { OUTCOMES, PLAIN_ROLLUP } from './run-outcomes.ts'
import type { ExecutionTimeFigures, FigureSource, JobFigures, SuccessFigures } from './schemas/figures.ts'

const SQL = {
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
}

interface OutcomeRow {
  c: string
  a: 'succeeded' | 'failed' | 'cancelled'
  e: string
  by: string
  t: string
  n: number
  within: number
  q: number[]
  ops: [string, string, string][]
}

/**
 * The month's outcome rows. On the rollup, a month with no run to judge one by one reads its month
 * rows alone (PLAIN_ROLLUP), unless that stopped holding before the statement ran.
 */
async function outcomeRows(
  ch: ClickHouseClient,
  source: FigureSource,
  params: Record<string, unknown>,
): Promise<OutcomeRow[]> {
  if (source === 'rollup') {
    const [check] = await chQuery<{ exceptional: number }>(ch, PLAIN_ROLLUP.exceptional, params)
    if (!Number(check?.exceptional)) {
      const rows = await chQuery<OutcomeRow & { exceptional: number }>(ch, PLAIN_ROLLUP.plain, params)
      if (!rows.some((r) => Number(r.exceptional))) return rows
    }
  }
  return chQuery<OutcomeRow>(ch, OUTCOMES[source], params)
}

export interface RunFigures {
  success: Omit<SuccessFigures, 'minimumRuns' | 'status'>
  jobs: JobFigures
  executionTime: ExecutionTimeFigures[]
}

const chInstant = (s: string) => `${s.replace(' ', 'T')}Z`

function emptyFigures(): RunFigures {
  return {
    success: {
      succeeded: 0,
      failed: 0,
      operatorCancelled: 0,
      finished: 0,
      excluded: { validation: 0, customerCancelled: 0 },
      successRate: null,
      failedByClass: {},
      failureRateByClass: {},
      operatorCancellations: [],
    },
    jobs: { attempts: 0, retried: 0, deadLettered: 0, retryRate: null },
    executionTime: [],
  }
}

/** Adds one group of runs (same customer, outcome, class, canceller and run type) to the figures. */
function addOutcome(f: RunFigures, r: OutcomeRow, targetMs: number | null) {
  const s = f.success
  const n = Number(r.n)
  if (r.a === 'succeeded') {
    s.succeeded += n
    f.executionTime.push({
      runType: r.t,
      runs: n,
      targetMs,
      withinTarget: targetMs === null ? null : Number(r.within),
      compliancePercent: targetMs === null ? null : percentOf(Number(r.within), n),
      p50Ms: Number(r.q[0]),
      p95Ms: Number(r.q[1]),
      p99Ms: Number(r.q[2]),
    })
  } else if (r.a === 'failed') {
    const cls = r.e || 'unclassified'
    s.failedByClass[cls] = (s.failedByClass[cls] ?? 0) + n
    if (cls === 'validation') s.excluded.validation += n
    else s.failed += n
  } else if (r.by === 'operator') {
    s.operatorCancelled += n
    s.operatorCancellations.push(
      ...r.ops.map(([at, runId, reason]) => ({ runId, runType: r.t, at: chInstant(at), reason })),
    )
  } else {
    // The customer's own, and cancellations recorded before who cancelled was (the old rule).
    s.excluded.customerCancelled += n
  }
}

export async function loadRunFigures(
  ch: ClickHouseClient,
  month: Month,
  now: Date,
  customerIds: string[],
  /** Execution-time target per customer and run type. */
  targets: Map<string, Record<string, number>>,
  source: FigureSource = 'rollup',
): Promise<Map<string, RunFigures>> {
  if (!customerIds.length) return new Map()
  const params = {
    from: month.start.getTime() / 1000,
    to: Math.floor(Math.min(month.end.getTime(), now.getTime()) / 1000),
    customers: customerIds,
  }
  const keys: string[] = []
  const targetValues: number[] = []
  for (const [c, byType] of targets) {
    for (const [t, ms] of Object.entries(byType)) {
      keys.push(`${c}/${t}`)
      targetValues.push(ms)
    }
  }
  const [outcomes, jobs] = await Promise.all([
    outcomeRows(ch, source, { ...params, now: now.getTime(), keys, targets: targetValues }),
    chQuery<{ c: string; a: string; n: number }>(ch, SQL.jobs[source], params),
  ])
  const out = new Map(customerIds.map((id) => [id, emptyFigures()]))
  for (const r of outcomes) {
    const f = out.get(r.c)
    if (f) addOutcome(f, r, targets.get(r.c)?.[r.t] ?? null)
  }
  for (const r of jobs) {
    const j = out.get(r.c)?.jobs
    if (!j) continue
    const n = Number(r.n)
    if (r.a === 'started') j.attempts += n
    else if (r.a === 'retried') j.retried += n
    else if (r.a === 'dead_lettered') j.deadLettered += n
  }
  for (const f of out.values()) {
    const s = f.success
    s.finished = s.succeeded + s.failed + s.operatorCancelled
    s.successRate = s.finished ? percentOf(s.succeeded, s.finished) : null
    const all = s.finished + s.excluded.validation + s.excluded.customerCancelled
    for (const [cls, n] of Object.entries(s.failedByClass)) s.failureRateByClass[cls] = percentOf(n, all)
    s.operatorCancellations.sort((a, b) => a.at.localeCompare(b.at) || a.runId.localeCompare(b.runId))
    s.operatorCancellations.splice(100)
    f.jobs.retryRate = f.jobs.attempts ? percentOf(f.jobs.retried, f.jobs.attempts) : null
    f.executionTime.sort((a, b) => a.runType.localeCompare(b.runType))
  }
  return out
}
