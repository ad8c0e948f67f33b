// GET /v1/costs: every customer's cost and profitability of a month, provisional before the close
// and frozen after it, as JSON, CSV or HTML; the costs report CLI through a running serve; bad
// input refused naming the field; only the admin sees it.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { reportCommand } from '../../../src/sla/cli.ts'
import { COST_CSV_COLUMNS } from '../../../src/sla/cost-render.ts'
import { ADMIN_TOKEN, type TestSteward } from '../../helpers/app.ts'
import { type Json, json, startSlaSteward } from './steward.ts'

let s: TestSteward
let acmeToken: string

beforeAll(async () => {
  ;({ s, acmeToken } = await startSlaSteward({
    listen: true,
    file: {
      prices: {
        currency: 'USD',
        fixed: [
          { component: 'database', effectiveFrom: '2025-01-01', monthlyAmount: 100.01, currency: 'USD' },
        ],
      },
    },
  }))
})
afterAll(async () => {
  await s?.stop()
})

describe('what works', () => {
  it('reports provisional figures before the close and frozen ones after it', async () => {
    const before = await json(await s.api('GET', '/v1/costs?month=2025-09'))
    expect(before).toMatchObject({ month: '2025-09', status: 'provisional', frozenAt: null, policy: 'equal' })
    expect((await s.api('POST', '/v1/sla/close?month=2025-09')).status).toBe(200)
    const after = await json(await s.api('GET', '/v1/costs?month=2025-09'))
    expect(after).toMatchObject({ status: 'frozen', fixed: { totalCents: 10_001 }, unallocatedCents: 0 })
    // 100.01 shared equally by two customers in service all month: the odd cent to acme (ties: id order).
    expect(after.customers.map((c: Json) => [c.customerId, c.fixedCents])).toEqual([
      ['acme', 5_001],
      ['globex', 5_000],
    ])
    // acme: 10% credit of 1,000.00 → revenue 900.00, cost 50.01 → margin 849.99 (94.44%).
    expect(after.customers[0]).toMatchObject({
      revenueCents: 90_000,
      costCents: 5_001,
      margin: { status: 'measured', cents: 84_999, percent: 94.44 },
    })
  })

  it('exports CSV under the documented columns and a printable page', async () => {
    const csv = await (await s.api('GET', '/v1/costs?month=2025-09&format=csv')).text()
    const lines = csv.trim().split('\r\n')
    expect(lines[0]!.split(',')).toEqual([...COST_CSV_COLUMNS])
    expect(lines[1]).toBe(
      'acme,2025-09,frozen,equal,43200,,50.01,0.00,0.00,50.01,USD,1000.00,100.00,0.00,100.00,900.00,USD,849.99,94.44,measured',
    )
    const html = await (await s.api('GET', '/v1/costs?month=2025-09&format=html')).text()
    expect(html).toContain('Frozen at the SLA close')
    expect(html).toContain('<td>849.99 USD</td>')
  })

  it('writes the costs report from the CLI through the running serve', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'costs-cli-')), 'costs.json')
    await reportCommand(['costs', '--month', '2025-09', '--out', out], {
      ...s.deps.config,
      stewardUrl: s.url,
      adminToken: ADMIN_TOKEN,
    })
    const body = JSON.parse(readFileSync(out, 'utf8'))
    rmSync(join(out, '..'), { recursive: true, force: true })
    expect(body).toMatchObject({ month: '2025-09', status: 'frozen' })
  })
})

describe('what is refused', () => {
  it.each([
    ['/v1/costs?month=2025-13', 'query.month'],
    ['/v1/costs', 'query.month'],
    ['/v1/costs?month=2025-09&format=pdf', 'query.format'],
  ])('GET %s → 400 naming %s', async (path, field) => {
    const res = await s.api('GET', path)
    expect(res.status).toBe(400)
    expect(res.headers.get('content-type')).toMatch(/problem\+json/)
    expect((await json(res)).errors.map((e: Json) => e.path)).toContain(field)
  })
})

describe('who is refused', () => {
  it('refuses the costs without a token', async () => {
    expect((await s.api('GET', '/v1/costs?month=2025-09', undefined, null)).status).toBe(401)
  })

  it('refuses a customer token: costs show every customer and the operator', async () => {
    const res = await s.api('GET', '/v1/costs?month=2025-09', undefined, acmeToken)
    expect(res.status).toBe(403)
    expect(await res.text()).not.toContain('globex')
  })
})
