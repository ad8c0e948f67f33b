// A small known workload for the dashboard query tests, with its figures computed here in plain
// TypeScript from the same events (independently of ClickHouse and the rollups).
// Range: 2026-03-01T00:00Z .. 2026-03-03T00:00Z (two days, 2,880 minutes, the start of a month).

import type { TelemetryEventInput } from '../../src/ingest/index.ts'
import type { PriceList } from '../../src/pricing/index.ts'

export const FROM = new Date('2026-03-01T00:00:00Z')
export const TO = new Date('2026-03-03T00:00:00Z')
const MIN = 60_000
const at = (ms: number) => new Date(FROM.getTime() + ms).toISOString()

export interface SeedRun {
  i: number
  runId: string
  customerId: string
  projectId: string
  runType: string
  pool: string
  outcome: 'succeeded' | 'failed' | 'cancelled'
  errorClass?: 'agent' | 'transient'
  durationMs: number
}

export const RUNS: SeedRun[] = Array.from({ length: 48 }, (_, i) => {
  const customerId = i % 3 === 2 ? 'globex' : 'acme'
  const runType = i % 4 < 2 ? 'build' : 'review'
  const outcome = i % 5 === 0 ? 'failed' : i % 7 === 0 ? 'cancelled' : 'succeeded'
  return {
    i,
    runId: `run-${i}`,
    customerId,
    projectId: customerId === 'globex' ? 'etl' : i % 2 ? 'api' : 'web',
    runType,
    pool: runType === 'build' ? 'cpu' : 'gpu',
    outcome,
    ...(outcome === 'failed'
      ? { errorClass: i % 10 === 0 ? ('agent' as const) : ('transient' as const) }
      : {}),
    durationMs: (i + 1) * 1000,
  }
})

/** Model of each run type; the price list (SLA config shape): per 1M tokens, per worker-second. */
export const MODEL_OF: Record<string, string> = { build: 'gpt-a', review: 'claude-b' }
export const PRICES: PriceList = {
  currency: 'USD',
  models: [
    { model: 'gpt-a', effectiveFrom: '2026-01-01', inputPerMillion: 2, outputPerMillion: 8 },
    { model: 'gpt-a', effectiveFrom: '2026-03-02', inputPerMillion: 4, outputPerMillion: 16 },
    { model: 'claude-b', effectiveFrom: '2026-01-01', inputPerMillion: 3, outputPerMillion: 15 },
  ],
  pools: [
    { pool: 'cpu', effectiveFrom: '2026-01-01', perWorkerSecond: 0.001 },
    { pool: 'gpu', effectiveFrom: '2026-01-01', perWorkerSecond: 0.01 },
  ],
  fixed: [],
  allocation: 'equal',
}

function runEvents(r: SeedRun): TelemetryEventInput[] {
  const t0 = r.i * 55 * MIN
  const dims = { customerId: r.customerId, projectId: r.projectId, runId: r.runId, runType: r.runType }
  const job = {
    ...dims,
    type: 'job' as const,
    jobId: `job-${r.i}`,
    stepKey: 'main',
    kind: 'simulate',
    pool: r.pool,
  }
  const out: TelemetryEventInput[] = [
    { ...dims, eventId: `${r.runId}-created`, type: 'run', action: 'created', ts: at(t0) },
    { ...job, eventId: `${r.runId}-j1`, action: 'started', attempt: 1, ts: at(t0 + 100) },
  ]
  let attempt = 1
  if (r.i % 4 === 1) {
    out.push(
      {
        ...job,
        eventId: `${r.runId}-j1r`,
        action: 'retried',
        attempt,
        errorClass: 'transient',
        durationMs: 500,
        ts: at(t0 + 200),
      },
      { ...job, eventId: `${r.runId}-j2`, action: 'started', attempt: ++attempt, ts: at(t0 + 300) },
    )
  }
  const end = at(t0 + r.durationMs)
  if (r.outcome === 'succeeded') {
    out.push({ ...job, eventId: `${r.runId}-js`, action: 'succeeded', attempt, durationMs: 2000, ts: end })
    out.push({
      ...dims,
      eventId: `${r.runId}-usage`,
      type: 'usage',
      jobId: job.jobId,
      pool: r.pool,
      model: MODEL_OF[r.runType]!,
      inputTokens: 1000 * (r.i + 1),
      outputTokens: 200 * (r.i + 1),
      ts: end,
    })
  } else if (r.outcome === 'failed') {
    const action = r.errorClass === 'agent' ? 'dead_lettered' : 'failed'
    out.push({
      ...job,
      eventId: `${r.runId}-jf`,
      action,
      attempt,
      errorClass: r.errorClass,
      durationMs: 1500,
      ts: end,
    })
    if (r.i === 20) {
      // An operator retried this dead-lettered job: it leaves the DLQ.
      out.push({
        ...job,
        eventId: `${r.runId}-jdlq`,
        action: 'started',
        attempt: attempt + 1,
        ts: at(t0 + r.durationMs + MIN),
      })
    }
  } else {
    out.push({ ...job, eventId: `${r.runId}-jc`, action: 'cancelled', attempt, ts: end })
  }
  out.push({
    ...dims,
    eventId: `${r.runId}-${r.outcome}`,
    type: 'run',
    action: r.outcome,
    durationMs: r.durationMs,
    ...(r.errorClass ? { errorClass: r.errorClass } : {}),
    ts: end,
  })
  return out
}

/** Control-plane heartbeats every minute except a 30-minute gap (12:00-12:30) and 10 unhealthy
 * minutes (13:00-13:10) on day one; ok probes cover 5 minutes of the gap. */
export const OUTAGE = { missing: [720, 750], unhealthy: [780, 790], probed: [740, 745] } as const
export const UP_MINUTES = 2880 - 30 - 10 + 5

function signalEvents(): TelemetryEventInput[] {
  const out: TelemetryEventInput[] = []
  for (let m = 0; m < 2880; m++) {
    if (m >= OUTAGE.missing[0] && m < OUTAGE.missing[1]) continue
    const healthy = !(m >= OUTAGE.unhealthy[0] && m < OUTAGE.unhealthy[1])
    out.push({
      eventId: `hb-${m}`,
      type: 'heartbeat',
      instanceId: 'cp-1',
      component: 'control_plane',
      healthy,
      ts: at(m * MIN + 5000),
    })
  }
  for (let m = OUTAGE.probed[0]; m < OUTAGE.probed[1]; m++) {
    out.push({
      eventId: `probe-${m}`,
      type: 'probe',
      target: 'https://steward/healthz',
      ok: true,
      latencyMs: 12,
      ts: at(m * MIN + 1000),
    })
  }
  // Neither a failed probe nor a healthy worker makes a minute up.
  out.push({
    eventId: 'probe-bad',
    type: 'probe',
    target: 'https://steward/healthz',
    ok: false,
    latencyMs: 0,
    ts: at(725 * MIN),
  })
  out.push({
    eventId: 'hb-worker',
    type: 'heartbeat',
    instanceId: 'w-1',
    component: 'worker',
    pool: 'cpu',
    healthy: true,
    ts: at(730 * MIN),
  })
  return out
}

export const API = Array.from({ length: 30 }, (_, k) => ({
  k,
  customerId: k % 2 ? 'globex' : 'acme',
  route: k % 3 === 0 ? '/v1/events' : '/v1/runs',
  status: k % 10 === 9 ? 503 : k % 3 === 0 ? 202 : 201,
  durationMs: 10 + k,
}))

export const RECOVERIES = [
  { kind: 'worker_recovery', rtoS: 120, at: 200 },
  { kind: 'worker_recovery', rtoS: 300, at: 900 },
  { kind: 'control_plane_failover', rtoS: 60, at: 1500 },
] as const

function otherEvents(): TelemetryEventInput[] {
  const out: TelemetryEventInput[] = API.map((a) => ({
    eventId: `api-${a.k}`,
    type: 'api_request' as const,
    customerId: a.customerId,
    route: a.route,
    method: 'POST',
    status: a.status,
    durationMs: a.durationMs,
    ts: at(a.k * 30 * MIN),
  }))
  const incident = (
    id: string,
    action: 'triggered' | 'acknowledged' | 'resolved',
    minute: number,
    severity: 'critical' | 'warning' | 'error',
  ) =>
    ({
      eventId: `${id}-${action}`,
      type: 'incident',
      incidentId: id,
      rule: 'queue_depth',
      severity,
      action,
      ts: at(minute * MIN),
    }) as const
  out.push(
    incident('inc-1', 'triggered', 120, 'critical'),
    incident('inc-1', 'resolved', 150, 'critical'),
    incident('inc-2', 'triggered', 1200, 'warning'),
    incident('inc-3', 'triggered', 1740, 'error'),
    incident('inc-3', 'acknowledged', 1750, 'error'),
  )
  for (const [n, r] of RECOVERIES.entries()) {
    out.push({
      eventId: `rec-${n}`,
      type: 'recovery',
      recoveryKind: r.kind,
      detectedAt: at(r.at * MIN),
      recoveredAt: at(r.at * MIN + r.rtoS * 1000),
      ts: at(r.at * MIN + r.rtoS * 1000),
    })
  }
  // Usage of a model with no price.
  out.push({
    eventId: 'usage-unpriced',
    type: 'usage',
    customerId: 'acme',
    projectId: 'web',
    runType: 'build',
    pool: 'cpu',
    model: 'mystery-model',
    inputTokens: 777,
    outputTokens: 0,
    ts: at(90 * MIN),
  })
  return out
}

export const EVENTS: TelemetryEventInput[] = [...RUNS.flatMap(runEvents), ...signalEvents(), ...otherEvents()]

/** sla_monthly rows as the SLA engine writes them: tier metrics with their credit %, and a 'credit'
 * row with the customer's credit in cents, its corrections, and the net in units. The February rows
 * lie outside the range. */
const sla = (
  month: string,
  customer_id: string,
  metric: string,
  value: number,
  target: number,
  met: number,
  credit_percent = 0,
  credit_cents = 0,
  adjustment_cents = 0,
) => ({
  month,
  customer_id,
  metric,
  value,
  target,
  met,
  credit_percent,
  credit_cents,
  adjustment_cents,
  credit_amount: (credit_cents + adjustment_cents) / 100,
})
export const SLA_ROWS = [
  sla('2026-03-01', 'acme', 'uptime', 99.5, 99.9, 0, 10),
  sla('2026-03-01', 'acme', 'success_rate', 99.2, 99, 1),
  sla('2026-03-01', 'acme', 'cost', 12.5, 0, 1),
  // credited 60.00 at the close, then corrected by -10.00: 50.00 net
  sla('2026-03-01', 'acme', 'credit', 10, 0, 0, 10, 6000, -1000),
  sla('2026-03-01', 'globex', 'rto:worker_recovery', 300, 240, 0),
  sla('2026-03-01', 'globex', 'rpo:telemetry', 30, 60, 1),
  sla('2026-03-01', 'globex', 'credit', 0, 0, 1),
  sla('2026-02-01', 'acme', 'rto:worker_recovery', 100, 600, 1),
  sla('2026-02-01', 'acme', 'credit', 5, 0, 0, 5, 99_900),
].map((r) => ({ ...r, currency: 'USD', plan_version: 1, computed_at: '2026-03-02 00:00:00.000' }))

/** A cost_monthly row (src/sla/cost-copy.ts): cents; margin measured when the plan is in USD. */
const profit = (
  month: string,
  customer_id: string,
  status: 'frozen' | 'provisional',
  c: { fixed: number; infra: number; ai: number; fee: number; credit: number; plan?: string },
  version: number,
) => {
  const cost = c.fixed + c.infra + c.ai
  const revenue = c.fee - c.credit
  const plan = c.plan ?? 'USD'
  const measured = customer_id !== '' && plan === 'USD'
  return {
    month,
    customer_id,
    status,
    fixed_cents: c.fixed,
    infrastructure_cents: c.infra,
    ai_cents: c.ai,
    cost_cents: cost,
    fee_cents: c.fee,
    net_credit_cents: c.credit,
    revenue_cents: revenue,
    margin_cents: measured ? revenue - cost : null,
    // Hundredths of a percent truncated toward zero, as GET /v1/costs computes it.
    margin_percent: measured && revenue > 0 ? Math.trunc(((revenue - cost) * 10_000) / revenue) / 100 : null,
    currency: 'USD',
    plan_currency: customer_id === '' ? '' : plan,
    margin_status: customer_id === '' ? 'unallocated' : measured ? 'measured' : 'unmeasured',
    computed_at: '2026-03-02 00:00:00.000',
    version,
  }
}
const FROZEN = 2 ** 43
/**
 * Profitability copies: January and February frozen, March provisional (written twice: the later
 * write replaces the earlier). newco's plan is in EUR (margin unmeasured); globex's February
 * credit exceeds its cost margin (a loss).
 */
export const COST_ROWS = [
  profit(
    '2026-01-01',
    'acme',
    'frozen',
    { fixed: 10_000, infra: 1, ai: 2, fee: 100_000, credit: 0 },
    FROZEN + 1,
  ),
  profit(
    '2026-02-01',
    'acme',
    'frozen',
    { fixed: 13_334, infra: 720, ai: 100, fee: 100_000, credit: 10_000 },
    FROZEN + 2,
  ),
  profit(
    '2026-02-01',
    'globex',
    'frozen',
    { fixed: 13_333, infra: 90_000, ai: 0, fee: 100_000, credit: 30_000 },
    FROZEN + 2,
  ),
  profit('2026-02-01', '', 'frozen', { fixed: 1, infra: 0, ai: 0, fee: 0, credit: 0 }, FROZEN + 2),
  profit('2026-03-01', 'acme', 'provisional', { fixed: 1, infra: 1, ai: 1, fee: 1, credit: 0 }, 1),
  profit(
    '2026-03-01',
    'acme',
    'provisional',
    { fixed: 20_000, infra: 333, ai: 667, fee: 100_000, credit: 0 },
    2,
  ),
  profit(
    '2026-03-01',
    'newco',
    'provisional',
    { fixed: 10_000, infra: 50, ai: 0, fee: 50_000, credit: 5_000, plan: 'EUR' },
    2,
  ),
  profit('2026-03-01', '', 'provisional', { fixed: 0, infra: 0, ai: 0, fee: 0, credit: 0 }, 2),
]
