// The cost dashboard's profitability panels (src/dashboards/profitability.ts) on the seeded
// cost_monthly rows (workload.ts COST_ROWS, written as the SLA engine writes them): each month the
// range touches counts once, the latest write of a row wins, the margin % is truncated toward zero
// as GET /v1/costs truncates it, a plan in another currency stays unmeasured, and the fixed cost no
// customer carries counts only while every customer is selected.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type ClickHousePanel, DASHBOARDS, isRow } from '../../src/dashboards/index.ts'
import type { ClickHouseClient } from '../../src/db/clickhouse.ts'
import type { ExpandContext } from './expand.ts'
import { openSeededClickHouse, runPanelSql } from './harness.ts'
import { COST_ROWS } from './workload.ts'

let ch: { client: ClickHouseClient; close(): Promise<void> }
beforeAll(async () => {
  ch = await openSeededClickHouse()
})
afterAll(async () => {
  await ch?.close()
})

function panel(title: string): ClickHousePanel {
  const p = DASHBOARDS['cost.json']!.panels.find((x) => !isRow(x) && x.title === title)
  if (!p || isRow(p) || p.source !== 'clickhouse') throw new Error(`no ClickHouse panel ${title}`)
  return p
}
// biome-ignore lint/suspicious/noExplicitAny: result rows are dynamic; each test asserts the fields it reads
type Row = any
const rows = async (title: string, ctx: Partial<ExpandContext> = {}): Promise<Row[]> =>
  (await runPanelSql(ch.client, panel(title).sql, ctx)).rows

/** February and March 2026 (the range ends in March, starts in February). */
const febMar = { from: new Date('2026-02-10T00:00:00Z'), to: new Date('2026-03-03T00:00:00Z') }

/** The rows a reader sees: the latest version of each (month, customer), in the range's months. */
const latest = (months: string[]) => {
  const best = new Map<string, (typeof COST_ROWS)[number]>()
  for (const r of COST_ROWS) {
    const key = `${r.month}/${r.customer_id}`
    if (months.includes(r.month) && (best.get(key)?.version ?? -1) < r.version) best.set(key, r)
  }
  return [...best.values()]
}
const cents = (xs: { [k: string]: unknown }[], k: string) => xs.reduce((a, x) => a + (x[k] as number), 0)

describe('Cost dashboard: profitability', () => {
  it('sums each customer over the months the range touches, with the margin % truncated toward zero', async () => {
    const seen = latest(['2026-02-01', '2026-03-01'])
    const got = await rows('Profitability per customer', febMar)
    expect(got.map((r) => r.customer_id)).toEqual(['acme', 'globex', 'newco'])
    for (const row of got) {
      const mine = seen.filter((r) => r.customer_id === row.customer_id)
      expect(row.months).toBe(mine.length)
      expect(row.revenue).toBeCloseTo(cents(mine, 'revenue_cents') / 100, 9)
      expect(row.cost).toBeCloseTo(cents(mine, 'cost_cents') / 100, 9)
    }
    // acme: revenue 900.00 + 1,000.00, cost 141.54 + 210.00: margin 1,548.46 = 81.497...% → 81.49.
    expect(got[0]).toMatchObject({ status: 'provisional', margin: 1548.46, margin_percent: 81.49 })
    // globex: 700.00 - 1,033.33 = -333.33, -47.618...% → -47.61 (toward zero, as the API).
    expect(got[1]).toMatchObject({ months: 1, status: 'frozen', margin: -333.33, margin_percent: -47.61 })
    // newco's plan is in EUR: no margin, never converted.
    expect(got[2]).toMatchObject({
      plan_currency: 'EUR',
      currency: 'USD',
      margin: null,
      margin_percent: null,
    })
    // The range's end month only: March.
    expect((await rows('Profitability per customer')).map((r) => [r.customer_id, r.months])).toEqual([
      ['acme', 1],
      ['newco', 1],
    ])
  })

  it('charts revenue, cost and margin for the measured customer-months only', async () => {
    const measured = latest(['2026-02-01', '2026-03-01']).filter((r) => r.margin_status === 'measured')
    const got = await rows('Revenue, cost and margin per customer', febMar)
    expect(got.map((r) => r.customer_id)).toEqual(['acme', 'globex'])
    for (const row of got) {
      const mine = measured.filter((r) => r.customer_id === row.customer_id)
      expect(row.revenue).toBeCloseTo(cents(mine, 'revenue_cents') / 100, 9)
      expect(row.cost).toBeCloseTo(cents(mine, 'cost_cents') / 100, 9)
      expect(row.margin).toBeCloseTo(cents(mine, 'margin_cents') / 100, 9)
    }
  })

  it('stacks fixed, infrastructure and AI cost per month, the unallocated fixed cost with every customer', async () => {
    const all = await rows('Fixed and variable cost per month', febMar)
    const expected = (months: string[], keep: (id: string) => boolean) =>
      months.map((m) => {
        const mine = latest([m]).filter((r) => keep(r.customer_id))
        return {
          calendar_month: m.slice(0, 7),
          fixed: cents(mine, 'fixed_cents') / 100,
          infrastructure: cents(mine, 'infrastructure_cents') / 100,
          ai: cents(mine, 'ai_cents') / 100,
        }
      })
    const months = ['2026-02-01', '2026-03-01']
    expect(all).toEqual(expected(months, () => true))
    // February: 133.34 + 133.33 + the unallocated cent = 266.68, the month's whole fixed cost.
    expect(all[0].fixed).toBe(266.68)
    const picked = await rows('Fixed and variable cost per month', {
      ...febMar,
      variables: { customer: ['acme', 'globex'] },
    })
    expect(picked).toEqual(expected(months, (id) => id === 'acme' || id === 'globex'))
  })

  it('lists each customer-month with the latest write of its figures', async () => {
    const got = await rows('Profitability by customer and month', febMar)
    expect(got.map((r) => [r.month, r.customer_id, r.status])).toEqual([
      ['2026-03-01', 'acme', 'provisional'],
      ['2026-03-01', 'newco', 'provisional'],
      ['2026-02-01', 'acme', 'frozen'],
      ['2026-02-01', 'globex', 'frozen'],
    ])
    // March's acme was written twice: the second write is the one shown.
    expect(got[0]).toMatchObject({ fixed: 200, infrastructure: 3.33, ai: 6.67, cost: 210, revenue: 1000 })
    expect(got[2]).toMatchObject({
      fee: 1000,
      net_credit: 100,
      revenue: 900,
      cost: 141.54,
      margin: 758.46,
      margin_percent: 84.27,
      margin_status: 'measured',
    })
    expect(got[1]).toMatchObject({ plan_currency: 'EUR', margin: null, margin_status: 'unmeasured' })
  })
})
