// The ClickHouse copy of the profitability (cost_monthly, src/sla/cost-copy.ts) that the Grafana
// cost dashboard reads: after a close it equals GET /v1/costs to the cent for every customer; a
// correction of a credit reaches it at the next refresh; ClickHouse failing at the freeze does not
// stop the freeze and the refresh catches up; provisional months are replaced, never duplicated.
// A Steward on real PostgreSQL and chDB: acme and globex all along, newco (a plan in EUR) from
// 16 August 2025; August and September 2025 with work, downtime and credits.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { slaConfigSchema } from '../../src/sla/config.ts'
import { buildCostReport } from '../../src/sla/costs.ts'
import type { SlaContext } from '../../src/sla/index.ts'
import { customerDirectory } from '../../src/tenants/index.ts'
import type { TestSteward } from '../helpers/app.ts'
import { finishedJob, type GoldenEvent, heartbeats, insertEvents, parseMonth, range } from './golden.ts'
import { type Json, json, startSlaSteward } from './routes/steward.ts'

let s: TestSteward
let ctx: SlaContext

/** A finished job of `seconds` worker-seconds in pool `default`, and `tokens` input tokens of gpt-x. */
function work(customerId: string, ts: string, seconds: number, tokens = 0): GoldenEvent[] {
  const jobId = `j-${customerId}-${ts}`
  return [
    finishedJob(customerId, jobId, ts, seconds * 1000),
    ...(tokens
      ? [
          {
            type: 'usage',
            customerId,
            projectId: 'p1',
            runId: `r-${jobId}`,
            runType: 'build',
            pool: 'default',
            model: 'gpt-x',
            inputTokens: tokens,
            outputTokens: 0,
            ts,
          } as GoldenEvent,
        ]
      : []),
  ]
}

beforeAll(async () => {
  ;({ s } = await startSlaSteward({
    file: {
      sla: slaConfigSchema.parse({
        defaultPlan: { monthlyFee: 1000 },
        plans: { newco: { monthlyFee: 500, currency: 'EUR' } },
      }),
      prices: {
        currency: 'USD',
        pools: [{ pool: 'default', effectiveFrom: '2025-01-01', perWorkerSecond: 0.001 }],
        models: [{ model: 'gpt-x', effectiveFrom: '2025-01-01', inputPerMillion: 2, outputPerMillion: 8 }],
        fixed: [
          { component: 'database', effectiveFrom: '2025-01-01', monthlyAmount: 300, currency: 'USD' },
          { component: 'queue', effectiveFrom: '2025-01-01', monthlyAmount: 100.01, currency: 'USD' },
        ],
      },
    },
  }))
  expect((await s.api('POST', '/v1/customers', { id: 'newco', name: 'newco' })).status).toBe(201)
  await s.deps.pool.query(`UPDATE customers SET created_at = '2025-08-16T00:00:00Z' WHERE id = 'newco'`)
  // August: 10 down minutes; September's downtime comes with the scene (startSlaSteward).
  const aug = parseMonth('2025-08')
  await insertEvents(s.deps.clickhouse!, [
    ...heartbeats(aug, new Set(range(500, 10))),
    ...work('acme', '2025-08-10T10:00:00.000Z', 3_600, 1_000_000),
    ...work('globex', '2025-08-11T10:00:00.000Z', 1_200),
    ...work('newco', '2025-08-20T10:00:00.000Z', 600, 250_000),
    ...work('acme', '2025-09-10T10:00:00.000Z', 7_200, 500_000),
    ...work('newco', '2025-09-12T10:00:00.000Z', 300),
  ])
  const c = s.deps.config
  ctx = {
    pool: s.deps.pool,
    ch: s.deps.clickhouse!,
    config: c.sla,
    prices: c.prices,
    tenants: customerDirectory(s.deps.pool, c.tenants.defaults),
  }
})
afterAll(async () => {
  await s?.stop()
})

/** The copy of a month as Grafana reads it (FINAL: the latest write of each row). */
async function copyOf(month: string): Promise<Json[]> {
  const rs = await s.deps.clickhouse!.query({
    query: `SELECT * EXCEPT (month, computed_at, version) FROM cost_monthly FINAL
            WHERE month = toDate({month:String}) ORDER BY customer_id`,
    query_params: { month: `${month}-01` },
    format: 'JSONEachRow',
  })
  return rs.json()
}

/** What the copy must hold for a report (CostReport): its customers and the unallocated fixed cost. */
function rowsOf(r: Json): Json[] {
  return [
    {
      customer_id: '',
      status: r.status,
      fixed_cents: r.unallocatedCents,
      infrastructure_cents: 0,
      ai_cents: 0,
      cost_cents: r.unallocatedCents,
      fee_cents: 0,
      net_credit_cents: 0,
      revenue_cents: 0,
      margin_cents: null,
      margin_percent: null,
      currency: r.currency,
      plan_currency: '',
      margin_status: 'unallocated',
    },
    ...r.customers.map((c: Json) => ({
      customer_id: c.customerId,
      status: r.status,
      fixed_cents: c.fixedCents,
      infrastructure_cents: c.infrastructureCents,
      ai_cents: c.aiCents,
      cost_cents: c.costCents,
      fee_cents: c.feeCents,
      net_credit_cents: c.netCreditCents,
      revenue_cents: c.revenueCents,
      margin_cents: c.margin.cents,
      margin_percent: c.margin.percent,
      currency: r.currency,
      plan_currency: c.planCurrency,
      margin_status: c.margin.status,
    })),
  ]
}

const report = async (month: string) => json(await s.api('GET', `/v1/costs?month=${month}`))
const refresh = async (at: string) => {
  const outcome = await s.deps.scheduler.runNow('sla.refresh', new Date(at))
  expect(outcome).toMatchObject({ status: 'succeeded' })
  return outcome as Json
}

describe('what works', () => {
  it('holds, right after a close, every customer’s frozen figures exactly as GET /v1/costs reports them', async () => {
    expect(await copyOf('2025-08')).toEqual([])
    expect(await json(await s.api('POST', '/v1/sla/close?month=2025-08'))).toMatchObject({ status: 'closed' })
    const r = await report('2025-08')
    expect(r.status).toBe('frozen')
    const copy = await copyOf('2025-08')
    expect(copy).toEqual(rowsOf(r))
    // Work was priced, margins measured in USD, and newco's EUR plan left unmeasured.
    const byId = Object.fromEntries(copy.map((x) => [x.customer_id, x]))
    expect(byId.acme).toMatchObject({ infrastructure_cents: 360, ai_cents: 200, margin_status: 'measured' })
    expect(byId.acme!.margin_percent).toEqual(expect.any(Number))
    expect(byId.newco).toMatchObject({
      plan_currency: 'EUR',
      margin_status: 'unmeasured',
      margin_cents: null,
    })
    // The month's fixed cost adds up across the rows, to the cent.
    expect(copy.reduce((a, x) => a + x.fixed_cents, 0)).toBe(r.fixed.totalCents)
  })

  it('keeps the freeze when ClickHouse fails during it, and the next refresh catches the copy up', async () => {
    await refresh('2025-09-20T12:00:00Z')
    expect((await copyOf('2025-09')).map((x) => x.status)).toEqual([
      'provisional',
      'provisional',
      'provisional',
      'provisional',
    ])
    await s.deps.clickhouse!.command({ query: 'RENAME TABLE cost_monthly TO cost_monthly_away' })
    try {
      const closed = await s.api('POST', '/v1/sla/close?month=2025-09')
      expect(closed.status).toBe(200)
      expect(await json(closed)).toMatchObject({ status: 'closed' })
    } finally {
      await s.deps.clickhouse!.command({ query: 'RENAME TABLE cost_monthly_away TO cost_monthly' })
    }
    const r = await report('2025-09')
    expect(r.status).toBe('frozen')
    // The close's copy failed: ClickHouse still has the provisional month.
    expect((await copyOf('2025-09')).every((x) => x.status === 'provisional')).toBe(true)
    const { detail } = await refresh('2025-10-01T06:00:00Z')
    expect(detail.costs.frozen).toEqual(expect.arrayContaining(['2025-08', '2025-09']))
    expect(await copyOf('2025-09')).toEqual(rowsOf(r))
    expect(await copyOf('2025-08')).toEqual(rowsOf(await report('2025-08')))
  })

  it('moves revenue and margin in the copy at once after a goodwill credit, and nothing else', async () => {
    const before = Object.fromEntries((await copyOf('2025-09')).map((x) => [x.customer_id, x]))
    const { rows } = await s.deps.pool.query(
      `SELECT id FROM sla_credits WHERE customer_id = 'globex' AND month = '2025-09-01'`,
    )
    const adjusted = await s.api('POST', `/v1/sla/credits/${rows[0].id}/adjustments`, {
      kind: 'goodwill',
      amountCents: 5_000,
      reason: 'outage apology',
    })
    expect(adjusted.status).toBe(201)
    // The correction copies its month itself; a refresh afterwards writes the same figures.
    const r = await report('2025-09')
    expect(await copyOf('2025-09')).toEqual(rowsOf(r))
    await refresh('2025-10-02T00:00:00Z')
    const after = await copyOf('2025-09')
    expect(after).toEqual(rowsOf(r))
    const globex = after.find((x) => x.customer_id === 'globex')!
    expect(globex.revenue_cents).toBe(before.globex.revenue_cents - 5_000)
    expect(globex.margin_cents).toBe(before.globex.margin_cents - 5_000)
    expect(globex.cost_cents).toBe(before.globex.cost_cents)
    for (const x of after.filter((y) => y.customer_id !== 'globex')) expect(x).toEqual(before[x.customer_id])
  })

  it('replaces the provisional month at each refresh, never adding rows', async () => {
    await refresh('2025-10-05T00:00:00Z')
    const first = await copyOf('2025-10')
    expect(first.find((x) => x.customer_id === 'acme')).toMatchObject({
      status: 'provisional',
      infrastructure_cents: 0,
    })
    await insertEvents(s.deps.clickhouse!, work('acme', '2025-10-05T00:02:00.000Z', 1_800))
    const at = new Date('2025-10-05T00:10:00Z')
    await refresh(at.toISOString())
    const second = await copyOf('2025-10')
    expect(second).toEqual(rowsOf(await buildCostReport(ctx, parseMonth('2025-10'), at)))
    expect(second.find((x) => x.customer_id === 'acme')).toMatchObject({ infrastructure_cents: 180 })
    // Once merged, one row per customer and month is all the table holds.
    await s.deps.clickhouse!.command({ query: 'OPTIMIZE TABLE cost_monthly FINAL' })
    const rs = await s.deps.clickhouse!.query({
      query: `SELECT month, count() AS n FROM cost_monthly GROUP BY month ORDER BY month`,
      format: 'JSONEachRow',
    })
    expect(await rs.json()).toEqual([
      { month: '2025-08-01', n: 4 },
      { month: '2025-09-01', n: 4 },
      { month: '2025-10-01', n: 4 },
    ])
  })
})
