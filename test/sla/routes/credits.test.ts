// GET /v1/sla/credits (JSON, CSV, printable HTML; provisional before the close, the records after)
// and GET /v1/sla/billing-adjustments; the report CLI through a running serve; refusals of bad
// input; tenants see only their own credits.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { reportCommand } from '../../../src/sla/cli.ts'
import { CSV_COLUMNS } from '../../../src/sla/report.ts'
import { ADMIN_TOKEN, type TestSteward } from '../../helpers/app.ts'
import { type Json, json, startSlaSteward } from './steward.ts'

let s: TestSteward
let acmeToken: string

beforeAll(async () => {
  ;({ s, acmeToken } = await startSlaSteward({ listen: true }))
})
afterAll(async () => {
  await s?.stop()
})

describe('what works', () => {
  it('reports provisional figures before the close and the closed records after it', async () => {
    const before = await json(await s.api('GET', '/v1/sla/credits?month=2025-09'))
    expect(before.items.map((i: Json) => i.status)).toEqual(['provisional', 'provisional'])
    const closed = await json(await s.api('POST', '/v1/sla/close?month=2025-09'))
    expect(closed).toMatchObject({ month: '2025-09', status: 'closed', computed: 2, issued: 2 })
    expect(before.hold).toBeNull()
    const after = await json(await s.api('GET', '/v1/sla/credits?month=2025-09'))
    expect(after.items.map((i: Json) => [i.customerId, i.status, i.creditPercent, i.creditCents])).toEqual([
      ['acme', 'closed', 10, 10_000],
      ['globex', 'closed', 25, 25_000],
    ])
    expect(after.items[0].figures.uptime.downtimePeriods).toEqual([
      { start: '2025-09-01T01:00:00.000Z', end: '2025-09-01T01:44:00.000Z', minutes: 44 },
    ])
  })

  it('exports CSV with one row per customer under the documented columns', async () => {
    const res = await s.api('GET', '/v1/sla/credits?month=2025-09&format=csv')
    expect(res.headers.get('content-type')).toMatch(/^text\/csv/)
    const lines = (await res.text()).trim().split('\r\n')
    expect(lines[0]!.split(',')).toEqual([...CSV_COLUMNS])
    const rows = lines
      .slice(1)
      .map((l) => Object.fromEntries(l.split(',').map((v, i) => [CSV_COLUMNS[i], v])))
    expect(
      rows.map((r) => [r.customer_id, r.uptime_percent, r.down_minutes, r.credit_percent, r.credit_amount]),
    ).toEqual([
      // Percentages on paper are rounded down to two decimals: 99.8981% is 99.89, never 99.9.
      ['acme', '99.89', '44', '10', '100.00'],
      ['globex', '98.97', '444', '25', '250.00'],
    ])
  })

  it('renders a printable HTML page with each metric, the tier, the amount and a daily SVG chart', async () => {
    const res = await s.api('GET', '/v1/sla/credits?month=2025-09&format=html')
    expect(res.headers.get('content-type')).toMatch(/^text\/html/)
    const html = await res.text()
    expect(html).toContain('<h2>acme — 2025-09')
    expect(html).toContain('99.89% (44 of 43200 min down)')
    expect(html).toContain('10% (below 99.9%)')
    expect(html).toContain('insufficient data (0 counted runs, minimum 1)')
    expect(html).toContain('data-credit-amount="250.00"')
    expect(html.match(/<svg /g)).toHaveLength(2)
    // one bar per day of September in each chart
    expect(html.match(/<rect /g)).toHaveLength(60)
  })

  it('lists the billing adjustments of the next cycle', async () => {
    const body = await json(await s.api('GET', '/v1/sla/billing-adjustments?cycle=2025-10'))
    expect(body.items.map((a: Json) => [a.customerId, a.amount])).toEqual([
      ['acme', '-100.00'],
      ['globex', '-250.00'],
    ])
  })

  it('writes the report from the CLI through the running serve', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'sla-cli-')), 'credits.csv')
    await reportCommand(
      ['sla-credits', '--month', '2025-09', '--customer', 'globex', '--format', 'csv', '--out', out],
      {
        ...s.deps.config,
        stewardUrl: s.url,
        adminToken: ADMIN_TOKEN,
      },
    )
    const lines = readFileSync(out, 'utf8').trim().split('\r\n')
    rmSync(join(out, '..'), { recursive: true, force: true })
    expect(lines).toHaveLength(2)
    expect(lines[1]).toMatch(/^globex,2025-09,closed,0,98\.97,/)
  })
})

describe('what is refused', () => {
  it.each([
    ['GET', '/v1/sla/credits?month=2025-13', 'query.month'],
    ['GET', '/v1/sla/credits', 'query.month'],
    ['GET', '/v1/sla/credits?month=2025-09&format=pdf', 'query.format'],
  ])('%s %s → 400 naming %s', async (method, path, field) => {
    const res = await s.api(method, path)
    expect(res.status).toBe(400)
    expect(res.headers.get('content-type')).toMatch(/problem\+json/)
    expect((await json(res)).errors.map((e: Json) => e.path)).toContain(field)
  })
})

describe('who is refused', () => {
  it('refuses the credits without a token', async () => {
    expect((await s.api('GET', '/v1/sla/credits?month=2025-09', undefined, null)).status).toBe(401)
  })

  it("shows a customer token only its own credits, never another customer's", async () => {
    const mine = await json(await s.api('GET', '/v1/sla/credits?month=2025-09', undefined, acmeToken))
    expect(mine.items.map((i: Json) => i.customerId)).toEqual(['acme'])
    const csv = await (
      await s.api('GET', '/v1/sla/credits?month=2025-09&format=csv', undefined, acmeToken)
    ).text()
    expect(csv).not.toContain('globex')
    expect(
      (await s.api('GET', '/v1/sla/credits?month=2025-09&customerId=globex', undefined, acmeToken)).status,
    ).toBe(403)
    expect(
      (
        await s.api(
          'GET',
          '/v1/sla/billing-adjustments?cycle=2025-10&customerId=globex',
          undefined,
          acmeToken,
        )
      ).status,
    ).toBe(403)
  })
})
