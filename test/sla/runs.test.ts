// Run figures and cost from golden events: success rate, failure classes, retries, execution
// time, and cost with a price change in the middle of the month.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { computeMonth } from '../../src/sla/index.ts'
import {
  addCustomers,
  type GoldenEvent,
  heartbeats,
  insertEvents,
  openSlaEnv,
  parseMonth,
  type SlaTestEnv,
} from './golden.ts'

let env: SlaTestEnv
const feb = parseMonth('2026-02')
let n = 0
const run = (
  customerId: string,
  action: 'succeeded' | 'failed' | 'cancelled',
  extra: Partial<GoldenEvent> = {},
): GoldenEvent =>
  ({
    type: 'run',
    customerId,
    projectId: 'p1',
    runId: `r${++n}`,
    runType: 'build',
    action,
    ts: `2026-02-10T10:${String(n % 60).padStart(2, '0')}:00Z`,
    durationMs: 1000,
    ...(action === 'failed' ? { errorClass: 'transient' } : {}),
    ...extra,
  }) as GoldenEvent
const times = (k: number, f: () => GoldenEvent) => Array.from({ length: k }, f)

beforeAll(async () => {
  env = await openSlaEnv({
    defaultPlan: { monthlyFee: 1000 },
    plans: {
      hooli: { monthlyFee: 500, executionTime: { build: { targetMs: 1000, withinPercent: 90 } } },
      umbrella: { monthlyFee: 500, executionTime: { build: { targetMs: 1000, withinPercent: 90 } } },
    },
    prices: {
      models: [
        { model: 'gpt-x', effectiveFrom: '2026-01-01', inputPerMillion: 2, outputPerMillion: 8 },
        { model: 'gpt-x', effectiveFrom: '2026-02-15', inputPerMillion: 1, outputPerMillion: 4 },
      ],
      pools: [
        { pool: 'default', effectiveFrom: '2026-01-01', perWorkerSecond: 0.001 },
        { pool: 'default', effectiveFrom: '2026-02-15', perWorkerSecond: 0.002 },
      ],
    },
  })
  await addCustomers(env.pool, ['acme', 'globex', 'initech', 'hooli', 'umbrella'])
  const job = (
    customerId: string,
    action: 'started' | 'retried' | 'succeeded' | 'dead_lettered',
    ts: string,
    durationMs = 0,
    projectId = 'p1',
  ) =>
    ({
      type: 'job',
      customerId,
      projectId,
      runId: 'rc',
      runType: 'build',
      jobId: `j${++n}`,
      stepKey: 's',
      kind: 'simulate',
      pool: 'default',
      attempt: 1,
      action,
      ts,
      durationMs,
      ...(action === 'retried' || action === 'dead_lettered' ? { errorClass: 'transient' } : {}),
    }) as GoldenEvent
  const usage = (ts: string, model = 'gpt-x', projectId = 'p1'): GoldenEvent => ({
    type: 'usage',
    customerId: 'acme',
    projectId,
    runId: 'rc',
    runType: 'build',
    pool: 'default',
    model,
    inputTokens: 1_000_000,
    outputTokens: 1_000_000,
    ts,
  })
  await insertEvents(env.ch, [
    ...heartbeats(feb),
    // acme: 19 succeeded, 1 failed, 5 cancelled (excluded) → exactly 95%
    ...times(19, () => run('acme', 'succeeded')),
    run('acme', 'failed', { errorClass: 'agent' }),
    ...times(5, () => run('acme', 'cancelled')),
    // a run of January and one of March do not count
    run('acme', 'failed', { ts: '2026-01-31T23:59:59.999Z' }),
    run('acme', 'failed', { ts: '2026-03-01T00:00:00.000Z' }),
    // globex: 18/20 → 90% → 10%; initech: 17/20 → 85% → 25%
    ...times(18, () => run('globex', 'succeeded')),
    ...times(2, () => run('globex', 'failed')),
    ...times(17, () => run('initech', 'succeeded')),
    ...times(2, () => run('initech', 'failed')),
    run('initech', 'failed', { errorClass: 'infrastructure' }),
    // execution time: hooli 9 of 10 within 1 s (met), umbrella 8 of 10 (breach)
    ...times(9, () => run('hooli', 'succeeded', { durationMs: 1000 })),
    run('hooli', 'succeeded', { durationMs: 5000 }),
    ...times(8, () => run('umbrella', 'succeeded', { durationMs: 400 })),
    ...times(2, () => run('umbrella', 'succeeded', { durationMs: 1001 })),
    // acme jobs: 4 attempts started, 1 retried, 1 dead-lettered; worker time either side of the price change
    job('acme', 'started', '2026-02-14T23:00:00Z'),
    job('acme', 'started', '2026-02-14T23:00:01Z'),
    job('acme', 'started', '2026-02-15T01:00:00Z'),
    job('acme', 'started', '2026-02-15T01:00:01Z'),
    job('acme', 'retried', '2026-02-14T23:59:59.999Z', 1_000_000),
    job('acme', 'succeeded', '2026-02-15T00:00:00Z', 1_000_000, 'p2'),
    job('acme', 'dead_lettered', '2026-02-15T02:00:00Z', 0),
    usage('2026-02-14T23:30:00Z'),
    usage('2026-02-15T00:30:00Z', 'gpt-x', 'p2'),
    usage('2026-02-20T00:30:00Z', 'mystery-model'),
  ])
})
afterAll(async () => {
  await env?.close()
})

describe('success rate', () => {
  it("excludes the customer's cancelled runs and credits by tier at the exact boundaries", async () => {
    const f = await computeMonth(env, feb, ['acme', 'globex', 'initech'])
    const by = Object.fromEntries(f.customers.map((c) => [c.customerId, c]))
    expect(by.acme!.success).toMatchObject({
      succeeded: 19,
      failed: 1,
      excluded: { validation: 0, customerCancelled: 5 },
      finished: 20,
      successRate: 95,
      status: 'met',
      met: true,
    })
    expect(by.acme!.evaluation.creditPercent).toBe(0)
    expect(by.globex!.success.successRate).toBe(90)
    expect(by.globex!.evaluation.tiers).toEqual([
      { metric: 'success_rate', detail: '18/20 runs succeeded', below: 95, creditPercent: 10 },
    ])
    expect(by.initech!.success).toMatchObject({
      successRate: 85,
      failedByClass: { transient: 2, infrastructure: 1 },
      failureRateByClass: { transient: 10, infrastructure: 5 },
    })
    expect(by.initech!.evaluation).toMatchObject({ creditPercent: 25, creditCents: 25_000 })
  })

  it('counts retries and dead-lettered jobs', async () => {
    const [acme] = (await computeMonth(env, feb, ['acme'])).customers
    expect(acme!.jobs).toEqual({ attempts: 4, retried: 1, deadLettered: 1, retryRate: 25 })
  })
})

describe('execution time', () => {
  it('measures the share within target and exact percentiles per run type, and credits a breach', async () => {
    const f = await computeMonth(env, feb, ['hooli', 'umbrella'])
    const [hooli, umbrella] = f.customers
    expect(hooli!.executionTime).toEqual([
      expect.objectContaining({
        runType: 'build',
        runs: 10,
        withinTarget: 9,
        compliancePercent: 90,
        met: true,
        p50Ms: 1000,
        p99Ms: 5000,
      }),
    ])
    expect(hooli!.evaluation.creditPercent).toBe(0)
    expect(umbrella!.executionTime[0]).toMatchObject({
      withinTarget: 8,
      compliancePercent: 80,
      met: false,
      p50Ms: 400,
    })
    expect(umbrella!.evaluation).toMatchObject({ creditPercent: 10, creditCents: 5_000 })
  })
})

describe('cost', () => {
  it('prices each day at the price in effect that day, also across a mid-month change', async () => {
    const [acme] = (await computeMonth(env, feb, ['acme'])).customers
    // tokens: 1M+1M at 2/8 on the 14th = 10; at 1/4 on the 15th = 5; unpriced model = 0.
    // worker time: 1000 s at 0.001 on the 14th = 1; 1000 s at 0.002 on the 15th = 2.
    expect(acme!.cost).toMatchObject({
      currency: 'USD',
      total: 18,
      ai: 15,
      infrastructure: 3,
      workerSeconds: 2000,
      inputTokens: 3_000_000,
      byProject: { p1: 11, p2: 7 },
      byRunType: { build: 18 },
      byPool: { default: { workerSeconds: 2000, cost: 3 } },
      unpriced: { models: ['mystery-model'], pools: [] },
    })
    expect(acme!.cost.byModel['gpt-x']).toEqual({ inputTokens: 2_000_000, outputTokens: 2_000_000, cost: 15 })
    expect(acme!.cost.daily).toEqual([
      { day: '2026-02-14', cost: 11 },
      { day: '2026-02-15', cost: 7 },
      { day: '2026-02-20', cost: 0 },
    ])
  })

  it('gives the same run, job and cost figures from rollups as from raw events', async () => {
    const ids = ['acme', 'globex', 'initech', 'hooli', 'umbrella']
    const [a, b] = await Promise.all([
      computeMonth(env, feb, ids, { source: 'rollup' }),
      computeMonth(env, feb, ids, { source: 'raw' }),
    ])
    for (let i = 0; i < ids.length; i++) {
      const { computedAt: _a, source: _s, ...x } = a.customers[i]!
      const { computedAt: _b, source: _t, ...y } = b.customers[i]!
      expect(y).toEqual(x)
    }
  })
})
