// A compressed month of factory telemetry for the demo: deterministic (seeded), realistic enough
// that every figure in the SLA report has a cause you can point at in the data.
//
// - control-plane heartbeats every minute, except a 38-minute outage on day 12 (down: no signal)
//   and a 2-hour maintenance window on day 20 (no signal, excluded from uptime);
// - per customer: runs of several types and sizes with job attempts, transient retries, agent
//   failures, worker-seconds in two pools and token usage on several models;
// - customers are tuned to land on different credit tiers (see DEMO_CUSTOMERS).
import type { TelemetryEventInput } from '../ingest/index.ts'

export interface DemoCustomer {
  id: string
  name: string
  /** Runs in the month (scaled down in quick mode). */
  runs: number
  /** Share of runs that fail for good. */
  failureRate: number
  /** Multiplier on the run type's typical duration (above ~1.6 breaches execution-time targets). */
  slowness: number
  monthlyFee: number
  runTypes: string[]
}

export const DEMO_CUSTOMERS: DemoCustomer[] = [
  {
    id: 'acme',
    name: 'Acme Robotics',
    runs: 420,
    failureRate: 0.02,
    slowness: 1,
    monthlyFee: 12_000,
    runTypes: ['codegen', 'review'],
  },
  {
    id: 'globex',
    name: 'Globex',
    runs: 260,
    failureRate: 0.07,
    slowness: 1.1,
    monthlyFee: 6_000,
    runTypes: ['codegen', 'migration'],
  },
  {
    id: 'initech',
    name: 'Initech',
    runs: 160,
    failureRate: 0.12,
    slowness: 1.9,
    monthlyFee: 2_500,
    runTypes: ['review'],
  },
]

export const RUN_TYPES: Record<
  string,
  { typicalMs: number; targetMs: number; steps: string[]; model: string; pool: string }
> = {
  codegen: {
    typicalMs: 6 * 60_000,
    targetMs: 15 * 60_000,
    steps: ['plan', 'generate', 'test'],
    model: 'claude-sonnet',
    pool: 'default',
  },
  review: {
    typicalMs: 2 * 60_000,
    targetMs: 5 * 60_000,
    steps: ['analyse', 'comment'],
    model: 'gpt-4o-mini',
    pool: 'default',
  },
  migration: {
    typicalMs: 20 * 60_000,
    targetMs: 60 * 60_000,
    steps: ['scan', 'rewrite', 'verify', 'report'],
    model: 'llama-70b',
    pool: 'gpu',
  },
}

export const OUTAGE = { day: 12, startMinute: 10 * 60, minutes: 38 }
export const MAINTENANCE = { day: 20, startMinute: 2 * 60, minutes: 120 }
/** Globex's own endpoint probes fail for an hour: its uptime dips, the factory's does not. */
export const CUSTOMER_PROBE_OUTAGE = { customerId: 'globex', day: 5, startMinute: 14 * 60, minutes: 60 }

/** mulberry32: a tiny seeded PRNG, so the demo month is the same every time. */
export function prng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296
  }
}

export interface MonthSpan {
  start: Date
  end: Date
  days: number
}

export function monthSpan(month: string): MonthSpan {
  const [y, m] = month.split('-').map(Number) as [number, number]
  const start = new Date(Date.UTC(y, m - 1, 1))
  const end = new Date(Date.UTC(y, m, 1))
  return { start, end, days: Math.round((end.getTime() - start.getTime()) / 86_400_000) }
}

const iso = (ms: number) => new Date(ms).toISOString()

export function maintenanceWindow(month: string): { start: string; end: string; reason: string } {
  const { start } = monthSpan(month)
  const s = start.getTime() + (MAINTENANCE.day - 1) * 86_400_000 + MAINTENANCE.startMinute * 60_000
  return { start: iso(s), end: iso(s + MAINTENANCE.minutes * 60_000), reason: 'database upgrade (demo)' }
}

/** Control-plane heartbeats, one per minute, with the outage and maintenance gaps. */
export function* heartbeats(month: string): Generator<TelemetryEventInput> {
  const { start, days } = monthSpan(month)
  for (let day = 1; day <= days; day++) {
    for (let minute = 0; minute < 1440; minute++) {
      const inOutage =
        day === OUTAGE.day && minute >= OUTAGE.startMinute && minute < OUTAGE.startMinute + OUTAGE.minutes
      const inMaintenance =
        day === MAINTENANCE.day &&
        minute >= MAINTENANCE.startMinute &&
        minute < MAINTENANCE.startMinute + MAINTENANCE.minutes
      if (inOutage || inMaintenance) continue
      const ts = start.getTime() + ((day - 1) * 1440 + minute) * 60_000 + 7_000
      yield {
        eventId: `demo-${month}-hb-${day}-${minute}`,
        type: 'heartbeat',
        ts: iso(ts),
        instanceId: 'demo-control-plane-1',
        component: 'control_plane',
        healthy: true,
      }
    }
  }
}

/** Failed probes of one customer's endpoint, one a minute through its outage. */
export function* customerProbeFailures(month: string): Generator<TelemetryEventInput> {
  const { start } = monthSpan(month)
  const o = CUSTOMER_PROBE_OUTAGE
  for (let m = o.startMinute; m < o.startMinute + o.minutes; m++) {
    yield {
      eventId: `demo-${month}-probe-${o.customerId}-${o.day}-${m}`,
      type: 'probe',
      ts: iso(start.getTime() + ((o.day - 1) * 1440 + m) * 60_000 + 30_000),
      customerId: o.customerId,
      target: `https://${o.customerId}.example/health`,
      ok: false,
      latencyMs: 10_000,
    }
  }
}

/** The outage as a recovery event (control-plane failover), for RTO. */
export function outageRecovery(month: string): TelemetryEventInput {
  const { start } = monthSpan(month)
  const detected = start.getTime() + (OUTAGE.day - 1) * 86_400_000 + OUTAGE.startMinute * 60_000 + 60_000
  return {
    eventId: `demo-${month}-recovery-outage`,
    type: 'recovery',
    ts: iso(detected + (OUTAGE.minutes - 1) * 60_000),
    recoveryKind: 'control_plane_failover',
    detectedAt: iso(detected),
    recoveredAt: iso(detected + (OUTAGE.minutes - 1) * 60_000),
  }
}

/** Runs of one customer over the month: run, job and usage events. */
export function* customerRuns(month: string, c: DemoCustomer, scale = 1): Generator<TelemetryEventInput> {
  const rand = prng([...c.id].reduce((h, ch) => h * 31 + ch.charCodeAt(0), 7))
  const { start, end } = monthSpan(month)
  const span = end.getTime() - start.getTime() - 3 * 3_600_000
  const runs = Math.max(10, Math.round(c.runs * scale))
  for (let i = 0; i < runs; i++) {
    const runType = c.runTypes[i % c.runTypes.length]!
    const t = RUN_TYPES[runType]!
    const runId = `demo-${month}-${c.id}-${i}`
    const projectId = `${c.id}-${['web', 'api', 'mobile'][i % 3]}`
    const created = start.getTime() + Math.floor(rand() * span)
    const dims = { customerId: c.id, projectId, runId, runType }
    const fails = rand() < c.failureRate
    yield { ...dims, eventId: `${runId}-created`, type: 'run', action: 'created', ts: iso(created) }
    let at = created + 2_000 + Math.floor(rand() * 8_000)
    yield { ...dims, eventId: `${runId}-started`, type: 'run', action: 'started', ts: iso(at) }
    const stepBudget = (t.typicalMs * c.slowness * (0.6 + rand() * 0.8)) / t.steps.length
    for (const [s, stepKey] of t.steps.entries()) {
      const jobId = `${runId}-${stepKey}`
      const job = { ...dims, jobId, stepKey, kind: 'simulate', pool: t.pool }
      const lastStep = s === t.steps.length - 1
      let attempt = 1
      // A transient failure now and then, retried.
      if (rand() < 0.08) {
        const ms = Math.floor(stepBudget * 0.2)
        yield { ...job, eventId: `${jobId}-1-started`, type: 'job', action: 'started', attempt, ts: iso(at) }
        at += ms
        yield {
          ...job,
          eventId: `${jobId}-1-retried`,
          type: 'job',
          action: 'retried',
          attempt,
          errorClass: 'transient',
          durationMs: ms,
          ts: iso(at),
        }
        at += 1_000 * 2 ** attempt
        attempt++
      }
      const ms = Math.floor(stepBudget)
      yield {
        ...job,
        eventId: `${jobId}-${attempt}-started`,
        type: 'job',
        action: 'started',
        attempt,
        ts: iso(at),
      }
      at += ms
      const tokens = Math.floor(2_000 + rand() * 30_000)
      yield {
        customerId: c.id,
        projectId,
        runId,
        runType,
        jobId,
        pool: t.pool,
        eventId: `${jobId}-${attempt}-usage`,
        type: 'usage',
        model: t.model,
        ts: iso(at),
        inputTokens: tokens,
        outputTokens: Math.floor(tokens * (0.2 + rand() * 0.5)),
      }
      if (fails && lastStep) {
        yield {
          ...job,
          eventId: `${jobId}-${attempt}-dead`,
          type: 'job',
          action: 'dead_lettered',
          attempt,
          errorClass: 'agent',
          durationMs: ms,
          ts: iso(at),
        }
        yield {
          ...dims,
          eventId: `${runId}-failed`,
          type: 'run',
          action: 'failed',
          errorClass: 'agent',
          durationMs: at - created,
          ts: iso(at),
        }
        break
      }
      yield {
        ...job,
        eventId: `${jobId}-${attempt}-succeeded`,
        type: 'job',
        action: 'succeeded',
        attempt,
        durationMs: ms,
        ts: iso(at),
      }
      if (lastStep) {
        yield {
          ...dims,
          eventId: `${runId}-succeeded`,
          type: 'run',
          action: 'succeeded',
          durationMs: at - created,
          ts: iso(at),
        }
      }
    }
  }
}

/** Everything for the month, in the order a producer would send it. */
export function* monthOfTelemetry(month: string, scale = 1): Generator<TelemetryEventInput> {
  yield* heartbeats(month)
  yield outageRecovery(month)
  yield* customerProbeFailures(month)
  for (const c of DEMO_CUSTOMERS) yield* customerRuns(month, c, scale)
}
