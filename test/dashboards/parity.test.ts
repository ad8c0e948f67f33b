// The dashboards agree with the rest of Steward running for real: on the same workload, the
// success-rate, cost and uptime panels equal the SLA engine's month figures (computeMonth), and
// every Prometheus metric a panel names is registered on Steward's /metrics.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DASHBOARDS, isRow, METRIC_CONTRACT } from '../../src/dashboards/index.ts'
import type { ClickHouseClient } from '../../src/db/clickhouse.ts'
import { computeMonth, type MonthFigures, parseMonth } from '../../src/sla/index.ts'
import { customerDirectory } from '../../src/tenants/index.ts'
import { startTestSteward, type TestSteward } from '../helpers/app.ts'
import { runPanelSql, seedWorkload } from './harness.ts'
import { PRICES, TO } from './workload.ts'

let s: TestSteward
let ch: ClickHouseClient
let month: MonthFigures
beforeAll(async () => {
  s = await startTestSteward({
    file: { prices: PRICES },
  })
  ch = s.deps.clickhouse!
  await seedWorkload(ch)
  month = await computeMonth(
    {
      pool: s.deps.pool,
      ch,
      config: s.deps.config.sla,
      prices: s.deps.config.prices,
      tenants: customerDirectory(s.deps.pool),
    },
    parseMonth('2026-03'),
    ['acme', 'globex'],
    { now: TO },
  )
})
afterAll(async () => {
  await s?.stop()
})

const sqlOf = (file: string, title: string) => {
  const p = DASHBOARDS[file]!.panels.find((x) => !isRow(x) && x.title === title)
  if (!p || isRow(p) || p.source !== 'clickhouse') throw new Error(title)
  return p.sql
}

describe('dashboards and the SLA engine', () => {
  it.each(['acme', 'globex'])("show %s's success rate as the SLA engine computes it", async (customer) => {
    const [row] = (
      await runPanelSql(ch, sqlOf('runs.json', 'Success rate'), { variables: { customer: [customer] } })
    ).rows as { success_rate: number }[]
    const sla = month.customers.find((c) => c.customerId === customer)!.success.successRate!
    expect(row!.success_rate * 100).toBeCloseTo(sla, 9)
  })

  it("price each customer's usage and worker time as the SLA engine does", async () => {
    const { rows } = await runPanelSql(ch, sqlOf('cost.json', 'Cost per customer'))
    for (const c of month.customers) {
      const row = rows.find((r) => r.customer_id === c.customerId) as Record<string, number>
      expect(row.ai_cost).toBeCloseTo(c.cost.ai, 6)
      expect(row.infra_cost).toBeCloseTo(c.cost.infrastructure, 6)
      expect(row.total_cost).toBeCloseTo(c.cost.total, 6)
    }
    const unpriced = await runPanelSql(ch, sqlOf('cost.json', 'Usage without a price'))
    expect(unpriced.rows.map((r) => r.name)).toEqual(month.customers.flatMap((c) => c.cost.unpriced.models))
  })

  it('show the factory uptime the SLA engine computes', async () => {
    const [row] = (await runPanelSql(ch, sqlOf('reliability.json', 'Uptime'))).rows as {
      up_minutes: number
    }[]
    expect(row!.up_minutes).toBe(month.overall.uptime.upMinutes)
    expect(month.overall.uptime.downMinutes).toBe(2880 - row!.up_minutes)
  })
})

describe('Prometheus panels', () => {
  it("name only metrics that Steward's modules register on /metrics", async () => {
    const text = await (await s.api('GET', '/metrics', undefined, null)).text()
    const registered = new Set([...text.matchAll(/^# TYPE (\w+) /gm)].map((m) => m[1]))
    const named = new Set<string>()
    for (const spec of Object.values(DASHBOARDS))
      for (const p of spec.panels)
        if (!isRow(p) && p.source === 'prometheus')
          for (const q of p.queries) for (const m of q.expr.matchAll(/\bsteward_\w+/g)) named.add(m[0])
    const base = (m: string) => m.replace(/_(bucket|sum|count)$/, '')
    expect([...named].filter((m) => !registered.has(m) && !registered.has(base(m)))).toEqual([])
    expect(METRIC_CONTRACT.filter((m) => !registered.has(m))).toEqual([])
  })
})
