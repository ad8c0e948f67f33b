// Costs and profitability of a month (docs/cost.md): November 2025 for three customers, every
// figure and cent hand-computed in golden-costs/2025-11.json, frozen at the close under each
// allocation policy; a fixed price changing mid-month; a customer created mid-month; figures that
// late data cannot change once frozen, and corrections that do move revenue.
import { readFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Pool } from '../../src/db/postgres.ts'
import { priceListSchema } from '../../src/pricing/index.ts'
import { buildCostReport } from '../../src/sla/costs.ts'
import type { SlaContext } from '../../src/sla/index.ts'
import { closeMonth } from '../../src/sla/index.ts'
import { adjustCredit } from '../../src/sla/ledger.ts'
import { customerDirectory } from '../../src/tenants/index.ts'
import { createTestPool } from '../helpers/db.ts'
import {
  type GoldenEvent,
  heartbeats,
  insertEvents,
  finishedJob as job,
  openSlaEnv,
  parseMonth,
  type SlaTestEnv,
  witnessSpan,
} from './golden.ts'

const golden = JSON.parse(readFileSync(new URL('./golden-costs/2025-11.json', import.meta.url), 'utf8'))
const nov = parseMonth('2025-11')
const after = new Date('2025-12-01T00:15:00Z')
const policies = ['equal', 'proportional', 'fixed_percent'] as const
type Policy = (typeof policies)[number]
type Customer = {
  createdAt: string
  fixedCostPercent: number | null
  workerSeconds: number
  inputTokens: number
  outputTokens: number
  plan?: { monthlyFee: number; currency: string }
}
const customers = Object.entries(golden.customers) as [string, Customer][]

let env: SlaTestEnv
const pools: Pool[] = []

/** The month's work: each customer's worker-seconds in one job and its tokens in one usage event, on 20 November. */
function usage(): GoldenEvent[] {
  return customers.flatMap(([id, c], i) => [
    job(id, `j-${id}`, `2025-11-20T10:0${i}:00.000Z`, c.workerSeconds * 1000),
    ...(c.inputTokens || c.outputTokens
      ? [
          {
            type: 'usage',
            customerId: id,
            projectId: 'p1',
            runId: `r-j-${id}`,
            runType: 'build',
            pool: 'default',
            model: 'gpt-x',
            inputTokens: c.inputTokens,
            outputTokens: c.outputTokens,
            ts: `2025-11-20T10:0${i}:30.000Z`,
          } as GoldenEvent,
        ]
      : []),
  ])
}

/** A fresh PostgreSQL database with the three customers, their settings and the month's witness, on the shared ClickHouse. */
async function scene(policy: Policy): Promise<SlaContext> {
  const { pool } = await createTestPool()
  pools.push(pool)
  for (const [id, c] of customers) {
    await pool.query('INSERT INTO customers (id, name, created_at, settings) VALUES ($1, $1, $2, $3)', [
      id,
      c.createdAt,
      JSON.stringify(c.fixedCostPercent === null ? {} : { fixedCostPercent: c.fixedCostPercent }),
    ])
  }
  await witnessSpan(pool, '2025-11-01T00:00:00Z', '2025-12-01T00:00:00Z')
  return {
    ...env,
    pool,
    tenants: customerDirectory(pool),
    prices: priceListSchema.parse({ ...golden.prices, allocation: policy }),
  }
}

beforeAll(async () => {
  const plans = Object.fromEntries(customers.flatMap(([id, c]) => (c.plan ? [[id, c.plan]] : [])))
  env = await openSlaEnv({ defaultPlan: { monthlyFee: 1000 }, plans, firstMonth: '2025-11' })
  await insertEvents(env.ch, [...heartbeats(nov), ...usage()])
})
afterAll(async () => {
  for (const p of pools) await p.end()
  await env?.close()
})

const byId = <T extends { customerId: string }>(items: T[]) =>
  Object.fromEntries(items.map((i) => [i.customerId, i]))

describe('a hand-computed month, frozen at the close under each policy', () => {
  for (const policy of policies) {
    it(`allocates the fixed cost ${policy}, to the cent, with every figure as computed by hand`, async () => {
      const ctx = await scene(policy)
      const provisional = await buildCostReport(ctx, nov, after)
      expect(provisional).toMatchObject({ status: 'provisional', period: 'complete', frozenAt: null })
      expect((await closeMonth(ctx, nov, after)).status).toBe('closed')
      const r = await buildCostReport(ctx, nov, after)
      const want = golden.expected.policies[policy]
      expect(r).toMatchObject({ month: '2025-11', status: 'frozen', policy, basis: policy, currency: 'USD' })
      expect(r.inputsSha256).toMatch(/^[0-9a-f]{64}$/)
      expect(r.fixed.totalCents).toBe(golden.expected.fixed.totalCents)
      expect(Object.fromEntries(r.fixed.components.map((c) => [c.component, c.cents]))).toEqual(
        golden.expected.fixed.components,
      )
      expect(r.unallocatedCents).toBe(want.unallocatedCents)
      const items = byId(r.customers)
      for (const [id] of customers) {
        expect(items[id]).toMatchObject({
          ...golden.expected.customers[id],
          fixedCents: want.fixedCents[id],
          costCents: want.costCents[id],
          creditCents: 0,
          netCreditCents: 0,
        })
        const m = want.margin[id]
        expect(items[id]!.margin).toEqual(
          m
            ? { status: 'measured', reason: null, cents: m[0], percent: m[1] }
            : expect.objectContaining({ status: 'unmeasured', cents: null, percent: null }),
        )
      }
      // The shares add up to the fixed cost, to the cent.
      expect(r.totals.fixedCents + r.unallocatedCents).toBe(r.fixed.totalCents)
      // The provisional figures of the ended month were the same.
      expect(byId(provisional.customers)).toEqual(
        Object.fromEntries(
          Object.entries(items).map(([id, c]) => [
            id,
            { ...c, creditId: null, trend: [{ ...c.trend[0], status: 'provisional' }] },
          ]),
        ),
      )
    })
  }
})

describe('prices, partial months and currencies', () => {
  it('prices a fixed component by the days of each price when it changes in the middle of the month', async () => {
    const r = await buildCostReport(await scene('equal'), nov, after)
    const queue = r.fixed.components.find((c) => c.component === 'queue')!
    expect(queue).toEqual({
      component: 'queue',
      cents: 11_000,
      prices: [
        { effectiveFrom: '2025-01-01', monthlyAmount: 90, days: 20 },
        { effectiveFrom: '2025-11-21', monthlyAmount: 150, days: 10 },
      ],
    })
    // A component that starts mid-month costs only its days.
    expect(r.fixed.components.find((c) => c.component === 'control-plane replicas')).toMatchObject({
      cents: 13_333,
      prices: [{ effectiveFrom: '2025-11-11', monthlyAmount: 200, days: 20 }],
    })
  })

  it('weights a customer created mid-month by its minutes in service', async () => {
    const r = byId((await buildCostReport(await scene('equal'), nov, after)).customers)
    expect(r.newco!.minutesInService).toBe(21_600)
    // Half the minutes of acme: half its share, give or take the one cent the remainder assigns.
    expect(r.newco!.fixedCents).toBe(13_533)
    expect(r.acme!.fixedCents).toBe(27_067)
  })

  it('shows a plan in another currency with margin unmeasured, never converted', async () => {
    const r = byId((await buildCostReport(await scene('equal'), nov, after)).customers)
    expect(r.newco!.margin).toEqual({
      status: 'unmeasured',
      reason: 'the plan is in EUR, costs are in USD, and no exchange rate is configured',
      cents: null,
      percent: null,
    })
  })
})

describe('frozen figures', () => {
  let ctx: SlaContext
  beforeAll(async () => {
    ctx = await scene('equal')
    await closeMonth(ctx, nov, after)
  })

  it('keeps the frozen figures when late telemetry arrives after the close', async () => {
    const before = await buildCostReport(ctx, nov, after)
    await insertEvents(env.ch, [job('acme', 'late', '2025-11-29T10:00:00.000Z', 5_000_000)])
    // The month as computed now has the late work ...
    const now = await buildCostReport(await scene('equal'), nov, after)
    expect(byId(now.customers).acme!.infrastructureCents).toBe(360 + 500)
    // ... the frozen month does not.
    expect(await buildCostReport(ctx, nov, after)).toEqual(before)
    await expect(ctx.pool.query('UPDATE cost_customer_months SET fixed_cents = 0')).rejects.toThrow(
      /immutable/,
    )
    await expect(ctx.pool.query('DELETE FROM cost_months')).rejects.toThrow(/immutable/)
  })

  it('moves revenue and margin with a correction of the credit, and nothing else', async () => {
    const { rows } = await ctx.pool.query(`SELECT id FROM sla_credits WHERE customer_id = 'globex'`)
    await adjustCredit(
      ctx.pool,
      Number(rows[0].id),
      { kind: 'goodwill', amountCents: 5_000, reason: 'outage apology' },
      'admin',
    )
    const g = byId((await buildCostReport(ctx, nov, after)).customers).globex!
    expect(g).toMatchObject({
      creditCents: 0,
      adjustmentCents: 5_000,
      netCreditCents: 5_000,
      revenueCents: 95_000,
      costCents: 27_286,
      margin: { status: 'measured', cents: 67_714, percent: 71.27 },
    })
  })
})
