// Detection rules against the real engines: telemetry written into chDB, queue and outbox rows into
// PostgreSQL; each rule must fire on its signal and stay quiet on a healthy one.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ClickHouseHandle } from '../../src/db/clickhouse.ts'
import { migrate } from '../../src/db/migrate.ts'
import type { Pool } from '../../src/db/postgres.ts'
import { evaluateBurn } from '../../src/incidents/burn.ts'
import type { BurnPair } from '../../src/incidents/config.ts'
import { runRules } from '../../src/incidents/rules.ts'
import { getQueueStats } from '../../src/orchestrator/index.ts'
import { priceListSchema } from '../../src/pricing/index.ts'
import { alertTargets, factoryMinutes } from '../../src/sla/alerting.ts'
import { slaConfigSchema } from '../../src/sla/config.ts'
import type { SlaContext } from '../../src/sla/index.ts'
import { customerDirectory } from '../../src/tenants/index.ts'
import { createTestPool, openTestClickHouse, quietLog } from '../helpers/db.ts'
import { insertEvents, minutes, testIncidentsConfig } from './support.ts'

let pool: Pool
let ch: ClickHouseHandle
let sla: SlaContext
beforeAll(async () => {
  ;({ pool } = await createTestPool())
  ch = await openTestClickHouse()
  await migrate({ pool, clickhouse: ch.client, log: quietLog })
  // Two plans far apart: the burn-rate rules must judge each customer against its own.
  sla = {
    pool,
    ch: ch.client,
    config: slaConfigSchema.parse({
      plans: { strict: { successRateTarget: 99.9 }, lenient: { successRateTarget: 50 } },
    }),
    prices: priceListSchema.parse(undefined),
    tenants: customerDirectory(pool),
  }
})
afterAll(async () => {
  await pool?.end()
  await ch?.close()
})

const all = testIncidentsConfig({
  rules: {
    uptime: { enabled: true },
    telemetryLag: { enabled: true },
    queueWithoutWorkers: { enabled: true, minOldestAgeSeconds: 60 },
    successRate: { enabled: true },
    dlqGrowth: { enabled: false },
    // The SLA engine's late data has its own test (test/sla/late-data.test.ts).
    slaLateData: { enabled: false },
  },
}).rules
const sources = () => ({
  pool,
  clickhouse: ch.client,
  queueStats: () => getQueueStats(pool),
  heldMonths: async () => [],
  alertTargets: (now: Date) => alertTargets(sla, now),
  factoryMinutes: (from: Date, to: Date) => factoryMinutes(sla, from, to),
})
/** What fires at `now`, among `rules` (every test writes its own signal; older ones keep firing). */
const firing = async (now: Date, ...rules: string[]) =>
  (await runRules(sources(), all, now)).flatMap((r) => {
    if (!rules.includes(r.rule)) return []
    expect(r, r.error).toMatchObject({ ok: true })
    return r.findings.map((f) => `${r.rule}/${f.scope}`)
  })

describe('burn rates (SRE workbook pairs)', () => {
  const pairs: BurnPair[] = [
    { longMinutes: 60, shortMinutes: 5, burn: 14.4, severity: 'critical', action: 'page' },
    { longMinutes: 4320, shortMinutes: 360, burn: 1, severity: 'warning', action: 'ticket' },
  ]
  const counts = (c: Record<number, [number, number]>) =>
    new Map(Object.entries(c).map(([w, [bad, total]]) => [Number(w), { bad, total }]))

  it('pages when both windows of a pair burn faster than the pair rate', () => {
    // 99.9% SLO: 2% errors is a 20x burn in both windows; the page pair outranks the ticket pair.
    const v = evaluateBurn(
      counts({ 60: [20, 1000], 5: [2, 100], 4320: [20, 10_000], 360: [20, 2000] }),
      pairs,
      0.999,
      10,
    )
    expect(v?.pair.severity).toBe('critical')
    expect(v?.longBurn).toBeCloseTo(20, 6)
    expect(v?.budgetConsumed).toBeCloseTo((20 * 60) / 43_200, 6)
  })

  it('stays quiet once the short window has recovered, and for a source too quiet to judge', () => {
    expect(
      evaluateBurn(counts({ 60: [20, 1000], 5: [0, 100] }), pairs.slice(0, 1), 0.999, 10),
    ).toBeUndefined()
    expect(evaluateBurn(counts({ 60: [1, 3], 5: [1, 3] }), pairs.slice(0, 1), 0.999, 10)).toBeUndefined()
  })
})

describe('rules on real telemetry', () => {
  it('fires the uptime burn when control-plane heartbeats stop and no instance serves, and stops once the newest minute is up', async () => {
    const now = new Date(Date.UTC(2026, 1, 3, 12, 0))
    const beat = (m: number, healthy = true) => ({
      type: 'heartbeat' as const,
      instanceId: 'cp-1',
      component: 'control_plane' as const,
      healthy,
      ts: minutes(now, m).toISOString(),
    })
    // The witness: an instance served from 11:50 until 13:12, then nothing served.
    await witness(minutes(now, -10), minutes(now, 72))
    // Three healthy minutes only: not enough history to judge an outage from the missing ones.
    await insertEvents(
      ch.client,
      [-4, -3, -2].map((m) => beat(m)),
    )
    expect(await firing(now, 'uptime_burn')).toEqual([])
    // An hour of heartbeats, ten silent minutes the witness saw served (telemetry missing: not
    // down), three unhealthy ones, then silence with no instance serving (down).
    const later = minutes(now, 80)
    await insertEvents(ch.client, [
      ...Array.from({ length: 60 }, (_, i) => beat(i)),
      ...[70, 71, 72].map((m) => beat(m, false)),
    ])
    const results = await runRules(sources(), all, later)
    const burn = results.find((r) => r.rule === 'uptime_burn')!
    expect(burn).toMatchObject({ ok: true, resolvesOnRecovery: true })
    expect(burn.findings[0]?.details).toMatchObject({ downMinutes: 9, slo: 0.999, alert: 'page' })
    // The SLI recovers: the newest judged minute is up again, so the rule is clear at once.
    await insertEvents(ch.client, [beat(78)])
    expect(await firing(later, 'uptime_burn')).toEqual([])
  })

  it('does not read a stalled relay as downtime: silent minutes the witness saw served are not judged', async () => {
    const now = new Date(Date.UTC(2026, 1, 7, 12, 0))
    await witness(minutes(now, -120), minutes(now, 5))
    await insertEvents(
      ch.client,
      Array.from({ length: 60 }, (_, i) => ({
        type: 'heartbeat' as const,
        instanceId: 'cp-1',
        component: 'control_plane' as const,
        healthy: true,
        ts: minutes(now, -120 + i).toISOString(),
      })),
    )
    // The last hour has no heartbeat in ClickHouse, but an instance served throughout it.
    expect(await firing(now, 'uptime_burn')).toEqual([])
  })

  it("judges each customer's run success rate against its own plan", async () => {
    await pool.query(
      `INSERT INTO customers (id, name, created_at) VALUES ('strict', 'strict', '2020-01-01'), ('lenient', 'lenient', '2020-01-01')`,
    )
    const now = new Date(Date.UTC(2026, 1, 8, 12, 0))
    // 2 of 10 runs failed in the last 5 minutes for both: a 200x burn of a 99.9% plan, 0.4x of 50%.
    const runs = (customerId: string) =>
      Array.from({ length: 10 }, (_, i) => ({
        type: 'run' as const,
        customerId,
        runId: `${customerId}-${i}`,
        runType: 't',
        action: i < 2 ? ('failed' as const) : ('succeeded' as const),
        ...(i < 2 ? { errorClass: 'agent' as const } : {}),
        durationMs: 1000,
        ts: new Date(now.getTime() - 10_000 - i * 10_000).toISOString(),
      }))
    await insertEvents(ch.client, [...runs('strict'), ...runs('lenient')])
    const results = await runRules(sources(), all, now)
    const success = results.find((r) => r.rule === 'success_rate_burn')!
    expect(success.findings.map((f) => [f.scope, f.details.slo])).toEqual([['customer:strict', 0.999]])
  })

  it('fires on repeated failed probes whose latest result failed, not on a recovered target', async () => {
    const now = new Date(Date.UTC(2026, 1, 4, 12, 0))
    const probe = (target: string, s: number, ok: boolean) => ({
      type: 'probe' as const,
      customerId: 'probes',
      target,
      ok,
      latencyMs: 30,
      ts: new Date(now.getTime() - s * 1000).toISOString(),
    })
    await insertEvents(ch.client, [
      probe('api', 200, false),
      probe('api', 140, false),
      probe('api', 80, false),
      probe('api', 20, false),
      probe('web', 200, false),
      probe('web', 140, false),
      probe('web', 80, false),
      probe('web', 20, true),
    ])
    expect(await firing(now, 'probe_failures')).toEqual(['probe_failures/probe:api'])
  })

  it('fires on a pool whose attempts fail too often, not on a healthy pool', async () => {
    const now = new Date(Date.UTC(2026, 1, 5, 12, 0))
    const attempts = (pool: string, n: number, failed: number) =>
      Array.from({ length: n }, (_, i) => ({
        type: 'job' as const,
        customerId: 'c1',
        runId: 'r',
        jobId: `${pool}-${i}`,
        stepKey: 's',
        kind: 'simulate',
        pool,
        attempt: 1,
        action: i < failed ? ('retried' as const) : ('succeeded' as const),
        ...(i < failed ? { errorClass: 'transient' as const } : {}),
        ts: new Date(now.getTime() - 1000 - i * 1000).toISOString(),
      }))
    await insertEvents(ch.client, [...attempts('gpu', 30, 15), ...attempts('cpu', 30, 2)])
    expect(await firing(now, 'worker_error_rate')).toEqual(['worker_error_rate/pool:gpu'])
  })

  it('fires on ready jobs in a pool without live workers, and on telemetry stuck in the outbox', async () => {
    await pool.query(`INSERT INTO customers (id, name) VALUES ('c1', 'c1')`)
    await pool.query(`INSERT INTO runs (id, customer_id, project_id, type) VALUES ('run-1', 'c1', 'p', 't')`)
    await pool.query(
      `INSERT INTO jobs (id, run_id, customer_id, project_id, run_type, step_key, kind, pool, max_attempts, backoff_ms, status, run_at)
       VALUES ('job-1', 'run-1', 'c1', 'p', 't', 's', 'noop', 'orphan', 3, 100, 'queued', now() - interval '5 minutes')`,
    )
    await pool.query(
      `INSERT INTO telemetry_outbox (event_id, body, enqueued_at) VALUES ('e-old', '{}', now() - interval '10 minutes')`,
    )
    const now = new Date(Date.UTC(2026, 1, 6, 12, 0))
    expect(await firing(now, 'queue_without_workers', 'telemetry_lag')).toEqual([
      'queue_without_workers/pool:orphan',
      'telemetry_lag/',
    ])
  })

  it('does not judge customer-facing rules while telemetry is behind; the lag is its own incident', async () => {
    const now = new Date(Date.UTC(2026, 1, 8, 12, 0))
    await pool.query(
      `INSERT INTO telemetry_outbox (event_id, body, enqueued_at) VALUES ('e-stalled', '{}', now() - interval '10 minutes')`,
    )
    try {
      const results = await runRules(sources(), all, now)
      for (const rule of ['success_rate_burn', 'uptime_burn', 'probe_failures', 'worker_error_rate'])
        expect(results.find((r) => r.rule === rule)).toMatchObject({
          ok: false,
          error: expect.stringMatching(/behind/),
        })
      expect(results.find((r) => r.rule === 'telemetry_lag')).toMatchObject({
        ok: true,
        findings: [{ scope: '' }],
      })
    } finally {
      await pool.query(`DELETE FROM telemetry_outbox WHERE event_id = 'e-stalled'`)
    }
  })

  it('reports a rule whose source is unavailable as not evaluated, instead of clear', async () => {
    const results = await runRules({ pool, queueStats: () => getQueueStats(pool) }, all, new Date())
    const probe = results.find((r) => r.rule === 'probe_failures')!
    expect(probe).toMatchObject({ ok: false, findings: [] })
    expect(results.find((r) => r.rule === 'telemetry_lag')).toMatchObject({ ok: true })
  })
})

/** A span of the witness: an instance served without a gap from `from` to `to`. */
async function witness(from: Date, to: Date) {
  await pool.query('INSERT INTO sla_witness (instance_id, first_beat, last_beat) VALUES ($1, $2, $3)', [
    'cp-1',
    from,
    to,
  ])
}
