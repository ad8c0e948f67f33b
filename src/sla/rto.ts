// RTO from what happened, per recovery kind (docs/sla.md, "How each figure is computed: RTO and
// RPO"), never from how long an incident stayed open:
// - worker recovery: a worker lost (its `worker lost` event, dated at its last heartbeat) → each
//   of its reclaimed jobs started again on another worker (the latest of them);
// - control-plane failover: an instance's last witness beat (it never beat again) → the scheduler's
//   ticks resumed on another instance;
// - run resume: resume requested (`run resumed`) → the run's first job started;
// - full recovery: the first down minute → the first up minute with the queue's backlog drained.
// A recovery belongs to the month it ended in; one not ended yet is not counted.
import type { ClickHouseClient } from '../db/clickhouse.ts'
import { chQuery } from '../db/clickhouse.ts'
import type { Queryable } from '../db/postgres.ts'
import { recoveryKinds } from '../ingest/index.ts'
import { ticksResumedAfter } from '../scheduler/index.ts'
import type { SlaConfig } from './config.ts'
import { MINUTE_MS, type Month } from './months.ts'
import type { RtoFigures } from './schemas/figures.ts'
import { STATE } from './uptime.ts'
import { MAX_GAP_MS, witnessSpans } from './witness.ts'

/** How far before the month a failure that ended in it may have begun. */
const LOOKBACK_MS = 86_400_000

const window = `ts >= toDateTime64({from:UInt32}, 3, 'UTC') AND ts < toDateTime64({to:UInt32}, 3, 'UTC')`
// One row per event, as FINAL would give (copies of an event share this key), without FINAL merging
// every row of the key range first: the filters on action leave few rows to deduplicate.
const ONCE = 'LIMIT 1 BY customer_id, type, ts, event_id'
const SQL = {
  lostWorkers: `
    SELECT worker_id AS w, toUnixTimestamp64Milli(ts) AS t FROM events
    WHERE type = 'worker' AND action = 'lost' AND customer_id = '' AND source != 'customer' AND ${window}
    ${ONCE}`,
  reclaimed: `
    SELECT worker_id AS w, job_id AS j, customer_id AS c, toUnixTimestamp64Milli(ts) AS t FROM events
    WHERE type = 'job' AND action = 'reclaimed' AND customer_id IN {customers:Array(String)}
      AND worker_id IN {workers:Array(String)} AND source != 'customer' AND ${window}
    ${ONCE}`,
  jobStarts: `
    SELECT job_id AS j, worker_id AS w, toUnixTimestamp64Milli(ts) AS t FROM events
    WHERE type = 'job' AND action = 'started' AND customer_id IN {customers:Array(String)}
      AND job_id IN {jobs:Array(String)} AND source != 'customer' AND ${window}
    ${ONCE}`,
  resumes: `
    SELECT run_id AS r, customer_id AS c, toUnixTimestamp64Milli(ts) AS t FROM events
    WHERE type = 'run' AND action = 'resumed' AND customer_id IN {customers:Array(String)}
      AND source != 'customer' AND ${window}
    ${ONCE}`,
  runStarts: `
    SELECT run_id AS r, toUnixTimestamp64Milli(ts) AS t FROM events
    WHERE type = 'job' AND action = 'started' AND customer_id IN {customers:Array(String)}
      AND run_id IN {runs:Array(String)} AND source != 'customer' AND ${window}
    ${ONCE}`,
  queue: `
    SELECT extract(epoch FROM minute)::float8 AS m, oldest_ready_seconds AS oldest FROM sla_queue_samples
    WHERE minute >= $1 AND minute < $2`,
  recordQueue: `
    INSERT INTO sla_queue_samples (minute, ready_jobs, oldest_ready_seconds) VALUES ($1, $2, $3)
    ON CONFLICT (minute) DO UPDATE SET ready_jobs = greatest(sla_queue_samples.ready_jobs, EXCLUDED.ready_jobs),
      oldest_ready_seconds = greatest(sla_queue_samples.oldest_ready_seconds, EXCLUDED.oldest_ready_seconds)`,
}

type RecoveryKind = (typeof recoveryKinds)[number]

/** One recovery: what failed (`ref`), when, and when it was whole again. */
export interface Recovery {
  kind: RecoveryKind
  ref: string
  startedAt: number
  recoveredAt: number
}

interface Span {
  from: number
  /** Recoveries ending from here on (the month's start) until `to` are the month's. */
  since: number
  to: number
}

const spanOf = (month: Month, until: Date): Span => ({
  from: month.start.getTime() - LOOKBACK_MS,
  since: month.start.getTime(),
  to: Math.min(month.end.getTime(), until.getTime()),
})
const secondsParams = (s: Span) => ({ from: Math.floor(s.from / 1000), to: Math.ceil(s.to / 1000) })
const inMonth = (s: Span, r: Recovery) => r.recoveredAt >= s.since && r.recoveredAt < s.to

/** Worker recoveries per customer: for each lost worker, when that customer's jobs ran again elsewhere. */
async function workerRecoveries(ch: ClickHouseClient, s: Span, customerIds: string[]): Promise<Recovery[]> {
  const p = secondsParams(s)
  const lost = await chQuery<{ w: string; t: number }>(ch, SQL.lostWorkers, p)
  if (!lost.length || !customerIds.length) return []
  const reclaimed = await chQuery<{ w: string; j: string; c: string; t: number }>(ch, SQL.reclaimed, {
    ...p,
    customers: customerIds,
    workers: [...new Set(lost.map((l) => l.w))],
  })
  if (!reclaimed.length) return []
  const starts = await chQuery<{ j: string; w: string; t: number }>(ch, SQL.jobStarts, {
    ...p,
    customers: customerIds,
    jobs: [...new Set(reclaimed.map((r) => r.j))],
  })
  // Each (loss, customer): the latest first restart of its reclaimed jobs on another worker.
  const out = new Map<string, Recovery>()
  for (const r of reclaimed) {
    const t = Number(r.t)
    const loss = lost
      .filter((l) => l.w === r.w && Number(l.t) <= t)
      .sort((a, b) => Number(b.t) - Number(a.t))[0]
    if (!loss) continue
    const restart = starts
      .filter((x) => x.j === r.j && x.w !== r.w && Number(x.t) >= t)
      .reduce((a, x) => Math.min(a, Number(x.t)), Number.POSITIVE_INFINITY)
    if (!Number.isFinite(restart)) continue // never ran again (dead-lettered, cancelled): the DLQ says so
    const key = `${r.c}\u0000${loss.w}\u0000${loss.t}`
    const prev = out.get(key)
    out.set(key, {
      kind: 'worker_recovery',
      ref: `${r.c}\u0000worker:${loss.w}`,
      startedAt: Number(loss.t),
      recoveredAt: Math.max(prev?.recoveredAt ?? 0, restart),
    })
  }
  return [...out.values()].filter((x) => inMonth(s, x))
}

/** Run resumes per customer: resume requested → the run's first job started. */
async function runResumes(ch: ClickHouseClient, s: Span, customerIds: string[]): Promise<Recovery[]> {
  if (!customerIds.length) return []
  const p = { ...secondsParams(s), customers: customerIds }
  const resumes = await chQuery<{ r: string; c: string; t: number }>(ch, SQL.resumes, p)
  if (!resumes.length) return []
  const starts = await chQuery<{ r: string; t: number }>(ch, SQL.runStarts, {
    ...p,
    runs: [...new Set(resumes.map((r) => r.r))],
  })
  const out: Recovery[] = []
  for (const r of resumes) {
    const first = starts
      .filter((x) => x.r === r.r && Number(x.t) >= Number(r.t))
      .reduce((a, x) => Math.min(a, Number(x.t)), Number.POSITIVE_INFINITY)
    if (Number.isFinite(first))
      out.push({
        kind: 'run_resume',
        ref: `${r.c}\u0000run:${r.r}`,
        startedAt: Number(r.t),
        recoveredAt: first,
      })
  }
  return out.filter((x) => inMonth(s, x))
}

/**
 * Control-plane failovers: an instance that stopped beating for good (its last witness beat) →
 * the scheduler's next run on another instance. Stops inside planned factory maintenance are not
 * failures.
 */
async function failovers(db: Queryable, s: Span, planned: (at: number) => boolean): Promise<Recovery[]> {
  const spans = await witnessSpans(db, new Date(s.from), new Date(8.64e15))
  const out: Recovery[] = []
  for (const span of spans) {
    const last = span.lastBeat.getTime()
    if (last < s.from || last > s.to - MAX_GAP_MS || planned(last)) continue
    if (spans.some((x) => x.instanceId === span.instanceId && x.firstBeat > span.lastBeat)) continue
    const resumed = await ticksResumedAfter(db, span.lastBeat, span.instanceId)
    if (!resumed) continue
    const r: Recovery = {
      kind: 'control_plane_failover',
      ref: `instance:${span.instanceId}`,
      startedAt: last,
      recoveredAt: resumed.getTime(),
    }
    if (inMonth(s, r)) out.push(r)
  }
  return out
}

/**
 * Full recoveries of one subject from its minute states: from each first down minute to the first
 * up minute after it whose queue backlog is drained (`backlogged` marks minutes that are not).
 */
export function fullRecoveries(
  month: Month,
  states: Uint8Array,
  elapsed: number,
  backlogged: Uint8Array,
): Recovery[] {
  const t0 = month.start.getTime()
  const out: Recovery[] = []
  let i = 0
  while (i < elapsed) {
    if (states[i] !== STATE.down) {
      i++
      continue
    }
    let j = i + 1
    while (j < elapsed && !(states[j] === STATE.up && !backlogged[j])) j++
    if (j >= elapsed) break // not recovered yet
    out.push({
      kind: 'full_recovery',
      ref: `downtime:${new Date(t0 + i * MINUTE_MS).toISOString()}`,
      startedAt: t0 + i * MINUTE_MS,
      recoveredAt: t0 + j * MINUTE_MS,
    })
    i = j
  }
  return out
}

/** Minutes of the month whose queue sample says the backlog was not drained (oldest ready job older than the bound). */
export async function backloggedMinutes(
  db: Queryable,
  month: Month,
  drainedSeconds: number,
): Promise<Uint8Array> {
  const { rows } = await db.query<{ m: number; oldest: number }>(SQL.queue, [month.start, month.end])
  const out = new Uint8Array(month.minutes)
  for (const r of rows)
    if (r.oldest > drainedSeconds) out[(r.m * 1000 - month.start.getTime()) / MINUTE_MS] = 1
  return out
}

/** Records this minute's queue: ready jobs and the age of the oldest (the largest seen in the minute). */
export async function recordQueueSample(
  db: Queryable,
  at: Date,
  sample: { readyJobs: number; oldestReadySeconds: number },
): Promise<void> {
  const minute = new Date(Math.floor(at.getTime() / MINUTE_MS) * MINUTE_MS)
  await db.query(SQL.recordQueue, [minute, sample.readyJobs, sample.oldestReadySeconds])
}

/** The month's recoveries measured from facts, per customer (full recoveries are added per subject). */
export async function loadRecoveries(
  ctx: { ch: ClickHouseClient; pool: Queryable },
  month: Month,
  until: Date,
  customerIds: string[],
  planned: (at: number) => boolean,
): Promise<{ factory: Recovery[]; customers: Map<string, Recovery[]> }> {
  const s = spanOf(month, until)
  const [workers, resumes, factory] = await Promise.all([
    workerRecoveries(ctx.ch, s, customerIds),
    runResumes(ctx.ch, s, customerIds),
    failovers(ctx.pool, s, planned),
  ])
  const customers = new Map<string, Recovery[]>(customerIds.map((id) => [id, []]))
  for (const r of [...workers, ...resumes]) {
    const [customer, ref] = r.ref.split('\u0000') as [string, string]
    customers.get(customer)?.push({ ...r, ref })
  }
  return { factory, customers }
}

/** Nearest-rank percentile of sorted values. */
function rank(sorted: number[], q: number): number | null {
  if (!sorted.length) return null
  return sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)]!
}

/** Per recovery kind: count, worst, p50/p95 and the breaches (at most 100) against the targets. */
export function rtoFigures(targets: SlaConfig['rtoTargetsSeconds'], recoveries: Recovery[]): RtoFigures[] {
  return recoveryKinds.map((kind) => {
    const target = targets[kind]
    const mine = recoveries
      .filter((r) => r.kind === kind)
      .sort((a, b) => a.startedAt - b.startedAt)
      .map((r) => ({
        ref: r.ref,
        startedAt: new Date(r.startedAt).toISOString(),
        recoveredAt: new Date(r.recoveredAt).toISOString(),
        seconds: Math.max(0, (r.recoveredAt - r.startedAt) / 1000),
      }))
    const sorted = mine.map((m) => m.seconds).sort((a, b) => a - b)
    const breaches = mine.filter((m) => m.seconds > target)
    return {
      kind,
      targetSeconds: target,
      recoveries: mine.length,
      withinTarget: mine.length - breaches.length,
      worstSeconds: sorted.at(-1) ?? null,
      p50Seconds: rank(sorted, 0.5),
      p95Seconds: rank(sorted, 0.95),
      met: breaches.length === 0,
      breaches: breaches.slice(0, 100),
    }
  })
}
